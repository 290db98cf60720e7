"""Checks for the exercises of lecture 05 (pooling).

Oracles: ``F.max_pool1d`` and its gradient from ``torch.autograd``; the answers are in the
lecture, one click away.
"""

import numpy as np
import torch
import torch.nn.functional as F

from cnncourse.checks import check_array, check_type
from cnncourse.exercises import call, exercise

POOL_CASES = [(12, 2, 2), (12, 3, 2), (12, 4, 4), (10, 3, 3), (9, 2, 1), (7, 7, 7)]  # (W, K, S)


def _cases(seed=5):
    rng = np.random.default_rng(seed)
    cases = [(np.array([3.0, 3.0, 0.0, 1.0]), 2, 2)]  # a tie: the first maximum wins
    return cases + [(np.round(rng.normal(size=w), 2), k, s) for w, k, s in POOL_CASES]


@exercise("max_pool")
def check_max_pool(max_pool):
    """``max_pool(x, k, s)``: 1D max pooling with window ``k`` and stride ``s``, like ``F.max_pool1d``."""
    for x, k, s in _cases():
        want = F.max_pool1d(torch.tensor(x).view(1, 1, -1), k, s).view(-1).numpy()
        got = call(max_pool, x.copy(), k, s)
        name = f"max_pool(x of length {len(x)}, k={k}, s={s})"
        check_type(got, np.ndarray, name=name)
        check_array(got, want, name=name, check_dtype=False)


@exercise("max_pool_backward")
def check_max_pool_backward(max_pool_backward):
    """``max_pool_backward(x, grad_out, k, s)``: the gradient of the loss with respect to ``x``,
    given its gradient ``grad_out`` with respect to the pooled outputs."""
    for x, k, s in _cases():
        t = torch.tensor(x, requires_grad=True)
        out = F.max_pool1d(t.view(1, 1, -1), k, s).view(-1)
        grad_out = np.arange(1.0, len(out) + 1)
        out.backward(torch.tensor(grad_out))
        got = call(max_pool_backward, x.copy(), grad_out.copy(), k, s)
        name = f"max_pool_backward(x={np.round(x, 2).tolist()}, grad_out={grad_out.tolist()}, k={k}, s={s})"
        check_type(got, np.ndarray, name=name)
        check_array(got, t.grad.numpy(), name=name, check_dtype=False)
