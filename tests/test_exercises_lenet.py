"""Lecture 09's exercise checks: the lecture's answers pass, wrong answers fail with a precise message."""

import numpy as np
import pytest
import torch
from torch import nn

from cnncourse.checks import CheckError
from cnncourse.exercises import lenet as checks
from lecture_answers import answer

LECTURE = "lectures/09_lenet.ipynb"


def test_linear_to_conv_right_and_wrong():
    assert checks.check_linear_to_conv(answer(LECTURE, "linear_to_conv")) is True

    def linear_to_conv(linear, channels, height, width):  # channels-last order: not how flatten reads
        conv = nn.Conv2d(channels, linear.out_features, (height, width))
        with torch.no_grad():
            w = linear.weight.reshape(linear.out_features, height, width, channels)
            conv.weight.copy_(w.permute(0, 3, 1, 2))
            conv.bias.copy_(linear.bias)
        return conv

    with pytest.raises(CheckError, match=r"linear_to_conv\(Linear\(18, 4\), 2, 3, 3\) applied to a batch: wrong values"):
        checks.check_linear_to_conv(linear_to_conv)

    def returns_linear(linear, channels, height, width):
        return linear

    with pytest.raises(CheckError, match="expected an nn.Conv2d, got Linear"):
        checks.check_linear_to_conv(returns_linear)


def test_sparse_conv_params_right_and_wrong():
    assert checks.check_sparse_conv_params(answer(LECTURE, "sparse_conv_params")) is True

    def sparse_conv_params(table, kernel_size):  # one bias per connection instead of per map
        return sum(len(inputs) * (kernel_size ** 2 + 1) for inputs in table)

    with pytest.raises(CheckError, match=r"<table of 16 maps>, 5\): wrong value: expected 1516, got 1560"):
        checks.check_sparse_conv_params(sparse_conv_params)


def test_confusion_matrix_right_and_wrong():
    assert checks.check_confusion_matrix(answer(LECTURE, "confusion_matrix")) is True

    def confusion_matrix(true, predicted, classes):  # rows and columns swapped
        counts = np.zeros((classes, classes), dtype=int)
        np.add.at(counts, (predicted, true), 1)
        return counts

    with pytest.raises(CheckError, match=r"<5 labels>, 3 classes\): wrong values .* index \(1, 2\): expected 1, got 0"):
        checks.check_confusion_matrix(confusion_matrix)

    def only_seen_classes(true, predicted, classes):  # sized by the labels that occur
        n = max(true.max(), predicted.max()) + 1
        counts = np.zeros((n, n), dtype=int)
        np.add.at(counts, (true, predicted), 1)
        return counts

    with pytest.raises(CheckError, match=r"<2 labels>, 4 classes\): wrong shape: expected \(4, 4\), got \(2, 2\)"):
        checks.check_confusion_matrix(only_seen_classes)
