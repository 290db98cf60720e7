"""Receptive fields: the formula in cnncourse.shapes against gradients through real torch stacks."""

import numpy as np
import pytest
from torch import nn

from cnncourse import receptive
from cnncourse.shapes import Layer, conv_output_size, receptive_field, receptive_fields

STACKS = {
    "three k3": [(3, 1, 1)] * 3,
    "k5 then k3": [(5, 1, 1), (3, 1, 1)],
    "stride 2 (MNIST-1D net)": [(3, 2, 1)] * 3,
    "mixed strides": [(4, 2, 1), (3, 1, 1), (2, 3, 1), (3, 1, 1)],
    "dilation 1,2,4,8": [(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)],
    "dilation 2 twice (holes)": [(3, 1, 2), (3, 1, 2)],
    "dilation and stride": [(3, 2, 2), (5, 1, 3)],
    "AlexNet-like": [(11, 4, 1), (3, 2, 1), (5, 1, 1), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 1)],
}


@pytest.mark.parametrize("name", STACKS)
def test_formula_matches_gradient_measurement(name):
    layers = STACKS[name]
    length = 300 if len(layers) > 5 else 80
    model = receptive.conv_stack(layers)
    measured = receptive.measured_cone(model, (1, length))
    # after each layer, the cone's extent in the input equals the formula for that depth
    for depth, field in enumerate(receptive_fields(layers), start=1):
        sub = receptive.conv_stack(layers[:depth])
        assert receptive.span(receptive.measure_receptive_field(sub, (1, length))) == field
    assert receptive.span(measured[0]) == receptive_field(layers)
    # and the arithmetic cone agrees unit by unit, in every layer
    expected = receptive.cone(layers, length)
    assert [m.shape for m in measured] == [e.shape for e in expected]
    for got, want in zip(measured, expected):
        np.testing.assert_array_equal(got, want)


def test_dilation_without_growth_leaves_holes():
    mask = receptive.measure_receptive_field(receptive.conv_stack(STACKS["dilation 2 twice (holes)"]), (1, 40))
    assert receptive.span(mask) == 9 and mask.sum() == 5
    full = receptive.measure_receptive_field(receptive.conv_stack(STACKS["dilation 1,2,4,8"]), (1, 80))
    assert full.sum() == receptive.span(full) == 31


def test_two_dimensional_stack():
    three = receptive.measure_receptive_field(receptive.conv_stack([(3, 1, 1)] * 3, dims=2), (1, 15, 15))
    one = receptive.measure_receptive_field(receptive.conv_stack([(7, 1, 1)], dims=2), (1, 15, 15))
    assert receptive.span(three) == receptive.span(one) == (7, 7)
    np.testing.assert_array_equal(three, one)


def test_position_and_padding():
    layers = [(3, 1, 1)] * 3
    model = receptive.conv_stack(layers, padding="same")
    measured = receptive.measured_cone(model, (1, 10), position=0)
    expected = receptive.cone(layers, 10, position=0, padding=1)
    for got, want in zip(measured, expected):
        np.testing.assert_array_equal(got, want)
    assert np.flatnonzero(measured[0]).tolist() == [0, 1, 2, 3]  # the field is cut by the edge


def test_relu_stack_measured_over_several_inputs():
    # ReLU kills gradients at some inputs; the union over trials recovers the whole field
    model = receptive.conv_stack([(3, 1, 1)] * 4, activation=nn.ReLU, channels=8)
    assert receptive.span(receptive.measure_receptive_field(model, (1, 40), trials=5)) == 9


def test_output_lengths_and_layers():
    assert receptive.output_lengths([(3, 2, 1)] * 3, 40) == [19, 9, 4]  # MNIST-1D conv net
    assert receptive.output_lengths([(3, 1, 2)], 10, padding=2) == [conv_output_size(10, 3, 1, 2, 2)]
    assert receptive.as_layers([(3, 2), {"kernel_size": 5}, Layer(7)]) == [Layer(3, 2), Layer(5), Layer(7)]
    model = receptive.conv_stack([(3, 1, 2)], padding="same")
    assert model[0].padding == (2,)


def test_span():
    assert receptive.span(np.array([0, 1, 0, 1, 0], bool)) == 3
    assert receptive.span(np.zeros(4, bool)) == 0
