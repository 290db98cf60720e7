"""Checks for the exercises of lecture 04 (receptive fields).

Oracles are measurements on PyTorch networks: the span of inputs with a nonzero gradient for
one output unit, and the inputs whose gradient stays zero for every output. The answers are
in the lecture, one click away.
"""

import numpy as np
import torch
import torch.nn.functional as F

from cnncourse.checks import CheckError, check_close
from cnncourse.exercises import call, exercise

STACKS = [  # lists of (kernel size, stride, dilation)
    [(3, 1, 1)], [(3, 1, 1)] * 3, [(3, 2, 1)] * 3, [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
    [(5, 2, 1), (3, 1, 1), (3, 1, 1)], [(3, 1, 1), (2, 2, 1), (3, 1, 1)], [(3, 1, 2), (3, 1, 2)],
    [(11, 4, 1), (3, 2, 1), (5, 1, 1), (3, 2, 1)]]


def _measured_field(stack, length=400):
    """Span of the inputs whose gradient reaches the first output of an all-ones conv stack."""
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, d in stack:
        h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    h[0, 0, 0].backward()
    used = np.flatnonzero(x.grad[0, 0].numpy())
    return int(used[-1] - used[0] + 1)


@exercise("receptive_field")
def check_receptive_field(receptive_field):
    """``receptive_field(layers)``: the receptive field, in inputs, of one unit after a stack of
    1D layers given as (kernel size, stride, dilation) tuples."""
    for stack in STACKS:
        check_close(call(receptive_field, [tuple(layer) for layer in stack]), _measured_field(stack),
                    name=f"receptive_field({stack}) (measured with gradients)")


def _unseen_by_gradient(stack, length):
    """Inputs whose gradient stays zero when every output of the last layer is summed."""
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, d in stack:
        h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    h.sum().backward()
    return np.flatnonzero(x.grad[0, 0].numpy() == 0).tolist()


UNSEEN_CASES = [([(3, 2, 1)] * 3, 40), ([(3, 1, 1)] * 3, 20), ([(3, 2, 1)] * 2, 20), ([(2, 3, 1)], 10),
                ([(3, 1, 2), (3, 1, 2)], 20), ([(4, 4, 1), (3, 2, 1)], 30), ([(3, 1, 3)], 9)]


@exercise("unseen_inputs")
def check_unseen_inputs(unseen_inputs):
    """``unseen_inputs(layers, length)``: the sorted input positions that no unit of the last layer
    depends on, for a stack of unpadded layers given as (kernel size, stride, dilation)."""
    for stack, length in UNSEEN_CASES:
        want = _unseen_by_gradient(stack, length)
        name = f"unseen_inputs({stack}, length={length})"
        got = call(unseen_inputs, [tuple(layer) for layer in stack], length)
        if not isinstance(got, (list, tuple, np.ndarray)):
            raise CheckError(f"{name}: expected a list of positions, got {type(got).__name__}")
        got = sorted(int(i) for i in got)
        if got != want:
            raise CheckError(f"{name}: expected positions {want} (measured with gradients), got {got}")
