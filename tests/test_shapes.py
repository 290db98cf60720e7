import numpy as np
import pytest
import torch
from torch import nn

from cnncourse.shapes import (Layer, ShapeError, conv_output_size, conv_params, effective_kernel,
                              linear_params, receptive_field, receptive_fields)


@pytest.mark.parametrize("size,k,s,p,d", [(10, 3, 1, 0, 1), (10, 3, 2, 1, 1), (40, 3, 2, 0, 1),
                                          (227, 11, 4, 0, 1), (17, 5, 3, 2, 2), (8, 2, 2, 0, 3)])
def test_output_size_matches_torch(size, k, s, p, d):
    layer = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
    assert conv_output_size(size, k, s, p, d) == layer(torch.zeros(1, 1, size)).shape[-1]


def test_worked_cases():
    assert conv_output_size(227, 11, 4) == 55
    assert conv_output_size(64, 6, 2, 1) == 31
    assert effective_kernel(3, 2) == 5


def test_inexact_configuration_is_explained():
    assert conv_output_size(224, 11, 4) == 54  # floor, like PyTorch
    with pytest.raises(ShapeError, match="54.25 is not an integer"):
        conv_output_size(224, 11, 4, exact=True)


@pytest.mark.parametrize("kwargs,message", [
    (dict(size=3, kernel_size=5), "spans 5 positions"),
    (dict(size=10, kernel_size=3, stride=0), "stride must be >= 1"),
    (dict(size=10, kernel_size=2.5), "kernel_size must be an integer"),
    (dict(size=10, kernel_size=3, padding=-1), "padding must be >= 0"),
    (dict(size=10, kernel_size=True), "kernel_size must be an integer"),
])
def test_impossible_configurations(kwargs, message):
    with pytest.raises(ShapeError, match=message):
        conv_output_size(**kwargs)


def test_numpy_integers_are_accepted():
    assert linear_params(np.int64(3), 2) == 8


def test_parameter_counts_match_torch():
    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert conv_params(3, 96, 11, dims=2) == count(nn.Conv2d(3, 96, 11)) == 34_944
    assert conv_params(15, 15, 3) == count(nn.Conv1d(15, 15, 3)) == 690
    assert conv_params(4, 8, 3, bias=False) == count(nn.Conv1d(4, 8, 3, bias=False))
    assert linear_params(60, 10) == count(nn.Linear(60, 10)) == 610


def test_receptive_fields():
    assert receptive_fields([Layer(3)] * 3) == [3, 5, 7]
    assert receptive_field([Layer(7)]) == 7
    assert receptive_fields([(3, 2), (3, 2), (3, 2)]) == [3, 7, 15]
    assert receptive_field([Layer(3, 1, 1), Layer(3, 1, 2), Layer(3, 1, 4)]) == 15
    assert receptive_field([]) == 1
    with pytest.raises(ShapeError, match="layer 1: stride"):
        receptive_fields([Layer(3), Layer(3, stride=0)])
