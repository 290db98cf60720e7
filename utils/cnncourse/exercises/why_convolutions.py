"""Checks for the exercises of lecture 01 (why convolutions).

Oracles: the closed-form count of a fully connected layer's parameters, and ``np.roll`` for
circular shifts; the answers are in the lecture, one click away.
"""

import numpy as np

from cnncourse.checks import check_close
from cnncourse.exercises import call, exercise

FC_CASES = [(64, 3, 1000), (224, 3, 150528), (32, 1, 1024), (5, 2, 7), (1, 1, 1)]  # (side, channels, hidden)


@exercise("fc_params")
def check_fc_params(fc_params):
    """``fc_params(side, channels, hidden)``: weights plus biases of a fully connected layer from a
    side×side image with ``channels`` colour channels to ``hidden`` units."""
    for side, channels, hidden in FC_CASES:
        inputs = side * side * channels
        check_close(call(fc_params, side, channels, hidden), inputs * hidden + hidden,
                    name=f"fc_params({side}, {channels}, {hidden}) (every one of the {inputs:,} inputs "
                         f"meets every unit, plus one bias per unit)")


def _layers(length=16, seed=1):
    rng = np.random.default_rng(seed)
    kernel, matrix = rng.normal(size=3), rng.normal(size=(length, length))
    ramp = np.linspace(0.0, 1.0, length)
    return {
        "a circular convolution": lambda x: sum(w * np.roll(x, 1 - j) for j, w in enumerate(kernel)),
        "a fully connected layer": lambda x: matrix @ x,
        "a position-dependent scaling": lambda x: ramp * x,
        "a square, position by position": lambda x: x ** 2,
    }


@exercise("equivariance_error")
def check_equivariance_error(equivariance_error):
    """``equivariance_error(f, x, k)``: the largest ``|f(shift(x, k)) - shift(f(x), k)|`` for a
    circular shift right by ``k`` positions (``np.roll(x, k)``)."""
    x = np.random.default_rng(0).normal(size=16)
    for name, f in _layers(len(x)).items():
        for k in (1, 3, 8):
            want = np.abs(f(np.roll(x, k)) - np.roll(f(x), k)).max()
            got = call(equivariance_error, f, x.copy(), k)
            check_close(got, want, atol=1e-9, rtol=1e-6,
                        name=f"equivariance_error({name}, x, k={k}) (shift right by k, circularly)")
