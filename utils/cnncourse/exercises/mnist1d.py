"""Checks for the exercises of lecture 07 (MNIST-1D: a convolutional net against a fully connected net).

Oracles: PyTorch's own layers and ``F.cross_entropy``; the answers are in the lecture.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.checks import CheckError, check_close
from cnncourse.exercises import call, exercise

WIDTHS = [[40, 285, 135, 60, 10], [40, 10], [3, 5, 2], [784, 256, 128, 10]]


@exercise("mlp_params")
def check_mlp_params(mlp_params):
    """``mlp_params(widths)``: trainable parameters of fully connected layers widths[0] -> widths[1] -> ..."""
    for widths in WIDTHS:
        layers = [nn.Linear(a, b) for a, b in zip(widths, widths[1:])]
        want = sum(p.numel() for layer in layers for p in layer.parameters())
        check_close(call(mlp_params, list(widths)), want, name=f"{mlp_params.__name__}({widths})")


def _logit_cases():
    g = torch.Generator().manual_seed(7)
    return [
        (torch.randn(5, 10, generator=g, dtype=torch.float64), torch.tensor([0, 3, 9, 3, 1])),
        (torch.zeros(4, 10, dtype=torch.float64), torch.tensor([0, 1, 2, 3])),         # uniform: ln 10
        (torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]], dtype=torch.float64),  # huge logits
         torch.tensor([0, 2])),
    ]


@exercise("cross_entropy")
def check_cross_entropy(cross_entropy):
    """``cross_entropy(logits, labels)``: mean of -log softmax(logits)[label], like ``F.cross_entropy``."""
    for logits, labels in _logit_cases():
        name = f"{cross_entropy.__name__}(logits {tuple(logits.shape)}, labels {labels.tolist()})"
        got = call(cross_entropy, logits.clone(), labels.clone())
        if isinstance(got, torch.Tensor):
            if got.numel() != 1:
                raise CheckError(f"{name}: expected one number (the mean over the batch), "
                                 f"got a tensor of shape {tuple(got.shape)}")
            got = got.item()
        want = F.cross_entropy(logits, labels).item()
        if isinstance(got, float) and not math.isfinite(got):
            raise CheckError(f"{name}: got {got}, expected {want:.6g}: exp() of a large logit "
                             "overflows; subtract each row's maximum first (log-sum-exp)")
        check_close(got, want, name=name, rtol=1e-6, atol=1e-9)
