"""Checks for the exercises of lecture 09 (from feature maps to a digit classifier: LeNet-5).

Oracles: the ``nn.Linear`` layer itself, closed-form parameter counts, ``np.add.at`` counts;
the answers are in the lecture.
"""

import numpy as np
import torch
from torch import nn

from cnncourse.checks import CheckError, check_array, check_close
from cnncourse.exercises import call, exercise
from cnncourse.models.lenet import C3_TABLE


@exercise("linear_to_conv")
def check_linear_to_conv(linear_to_conv):
    """``linear_to_conv(linear, channels, height, width)``: an ``nn.Conv2d`` that computes ``linear``
    on a (channels, height, width) map, read flattened in PyTorch's order."""
    torch.manual_seed(9)
    for channels, height, width, out in [(2, 3, 3, 4), (8, 7, 7, 16), (3, 2, 4, 5)]:
        linear = nn.Linear(channels * height * width, out)
        name = f"{linear_to_conv.__name__}(Linear({linear.in_features}, {out}), {channels}, {height}, {width})"
        conv = call(linear_to_conv, linear, channels, height, width)
        if not isinstance(conv, nn.Conv2d):
            raise CheckError(f"{name}: expected an nn.Conv2d, got {type(conv).__name__}")
        x = torch.randn(3, channels, height, width)
        with torch.no_grad():
            got, want = conv(x), linear(x.flatten(1))[:, :, None, None]
        check_array(got, want, name=f"{name} applied to a batch", rtol=1e-4, atol=1e-5)


@exercise("sparse_conv_params")
def check_sparse_conv_params(sparse_conv_params):
    """``sparse_conv_params(table, kernel_size)``: parameters of a convolution whose output map j
    reads only the input maps ``table[j]`` (one K x K kernel per map read, one bias per output map)."""
    full = [tuple(range(6))] * 16
    for table, k in [(C3_TABLE, 5), (full, 5), ([(0,), (1, 2)], 3), ([(0, 1, 2)], 1)]:
        want = sum(len(inputs) * k * k + 1 for inputs in table)
        check_close(call(sparse_conv_params, table, k), want,
                    name=f"{sparse_conv_params.__name__}(<table of {len(table)} maps>, {k})")


@exercise("confusion_matrix")
def check_confusion_matrix(confusion_matrix):
    """``confusion_matrix(true, predicted, classes)``: counts, row = true class, column = predicted."""
    rng = np.random.default_rng(9)
    cases = [(np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 2, 1]), 3),
             (rng.integers(0, 10, 200), rng.integers(0, 10, 200), 10),
             (np.array([1, 1]), np.array([0, 1]), 4)]  # classes that never occur still get a row
    for true, predicted, classes in cases:
        want = np.zeros((classes, classes), dtype=np.int64)
        np.add.at(want, (true, predicted), 1)
        got = call(confusion_matrix, true.copy(), predicted.copy(), classes)
        check_array(got, want, name=f"{confusion_matrix.__name__}(<{len(true)} labels>, {classes} classes)",
                    check_dtype=False)
