"""Checks for the exercises of lecture 02 (one-dimensional convolution).

Oracles: ``torch.nn.functional.conv1d`` (its output and the length it returns); the answers
are in the lecture, one click away.
"""

import numpy as np
import torch
import torch.nn.functional as F

from cnncourse.checks import check_array, check_close, check_type
from cnncourse.exercises import call, exercise

LENGTH_CASES = [  # (W, K, S, D, P)
    (20, 3, 1, 1, 0), (20, 3, 1, 1, 1), (20, 5, 2, 1, 2), (20, 3, 1, 2, 2), (20, 3, 2, 3, 0),
    (20, 4, 3, 1, 1), (12, 3, 2, 2, 1), (7, 7, 1, 1, 0), (10, 3, 4, 1, 0), (9, 2, 2, 4, 3)]


def _torch_conv(x, omega, stride, dilation, padding):
    x, omega = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(omega, dtype=torch.float64)
    return F.conv1d(x.view(1, 1, -1), omega.view(1, 1, -1), stride=stride, dilation=dilation,
                    padding=padding).view(-1).numpy()


@exercise("output_length")
def check_output_length(output_length):
    """``output_length(W, K, S, D, P)``: how many outputs a 1D convolution gives."""
    for w, k, s, d, p in LENGTH_CASES:
        want = _torch_conv(np.zeros(w), np.zeros(k), s, d, p).shape[0]
        check_close(call(output_length, w, k, s, d, p), want,
                    name=f"output_length(W={w}, K={k}, S={s}, D={d}, P={p})")


@exercise("conv1d_loop")
def check_conv1d_loop(conv1d_loop):
    """``conv1d_loop(x, omega, stride, dilation, padding)``: the 1D convolution (cross-correlation,
    zero padding) as a numpy array, like ``F.conv1d``."""
    rng = np.random.default_rng(2)
    for w, k, s, d, p in [(10, 3, 1, 1, 1)] + LENGTH_CASES[:7]:
        x, omega = rng.normal(size=w), rng.normal(size=k)
        got = call(conv1d_loop, x.copy(), omega.copy(), s, d, p)
        name = f"conv1d_loop(x of length {w}, kernel of {k}, stride={s}, dilation={d}, padding={p})"
        check_type(got, np.ndarray, name=name)
        check_array(got, _torch_conv(x, omega, s, d, p), name=name, check_dtype=False)
