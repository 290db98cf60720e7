"""Checks for the exercises of lecture 03 (channels and convolutional layers).

Oracles: the parameter counts of ``nn.Conv1d`` / ``nn.Conv2d`` and the output of ``F.conv1d``;
the answers are in the lecture, one click away.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.checks import check_array, check_close, check_type
from cnncourse.exercises import call, exercise

PARAM_CASES = [(1, 1, 3, 1), (1, 2, 3, 1), (4, 6, 5, 1), (15, 15, 3, 1),  # (C_i, C_o, K, dims)
               (3, 1, 3, 2), (3, 96, 11, 2), (96, 32, 1, 2), (16, 32, 6, 2)]


@exercise("conv_params")
def check_conv_params(conv_params):
    """``conv_params(c_in, c_out, k, dims)``: weights plus biases of a convolutional layer with
    ``c_out`` filters of size k (1D) or k×k (2D) over ``c_in`` input channels."""
    for c_in, c_out, k, dims in PARAM_CASES:
        layer = (nn.Conv1d if dims == 1 else nn.Conv2d)(c_in, c_out, k)
        want = sum(p.numel() for p in layer.parameters())
        check_close(call(conv_params, c_in, c_out, k, dims), want,
                    name=f"conv_params(c_in={c_in}, c_out={c_out}, k={k}, dims={dims}) "
                         f"(compare with nn.Conv{dims}d({c_in}, {c_out}, {k}))")


@exercise("conv_layer")
def check_conv_layer(conv_layer):
    """``conv_layer(x, weight, bias)``: a valid multi-channel 1D convolution; ``x`` is (C_i, W),
    ``weight`` (C_o, C_i, K) as in PyTorch, ``bias`` (C_o,); returns (C_o, W - K + 1)."""
    rng = np.random.default_rng(3)
    for c_in, c_out, k, w in [(1, 2, 3, 10), (2, 1, 3, 12), (4, 6, 5, 20), (3, 3, 1, 6)]:
        x, weight, bias = rng.normal(size=(c_in, w)), rng.normal(size=(c_out, c_in, k)), rng.normal(size=c_out)
        want = F.conv1d(torch.tensor(x)[None], torch.tensor(weight), torch.tensor(bias))[0].numpy()
        got = call(conv_layer, x.copy(), weight.copy(), bias.copy())
        name = f"conv_layer(x {x.shape}, weight {weight.shape}, bias {bias.shape})"
        check_type(got, np.ndarray, name=name)
        check_array(got, want, name=name, check_dtype=False)
