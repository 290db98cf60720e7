"""Checks for the exercises of lecture 06 (the backward pass of a convolution, and batch normalization).

Oracles: ``torch.autograd`` through ``F.conv1d``, and ``nn.BatchNorm1d`` / ``nn.Conv1d`` in eval
mode; the answers are in the lecture.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.checks import CheckError, check_array
from cnncourse.exercises import call, exercise


def _numpy(got, name):
    """The learner's result as a float64 NumPy array (torch tensors are accepted too)."""
    if isinstance(got, torch.Tensor):
        got = got.detach().cpu().numpy()
    if not isinstance(got, np.ndarray):
        raise CheckError(f"{name}: expected a NumPy array, got {type(got).__name__}")
    return got.astype(np.float64)


def _same(a, b):
    return a.shape == b.shape and np.allclose(a, b, atol=1e-9)


def _autograd_input(grad_out, kernel):
    x = torch.zeros(len(grad_out) + len(kernel) - 1, dtype=torch.float64, requires_grad=True)
    F.conv1d(x.view(1, 1, -1), torch.tensor(kernel).view(1, 1, -1)).view(-1).backward(torch.tensor(grad_out))
    return x.grad.numpy()


def _gradient_cases():
    rng = np.random.default_rng(6)
    return [
        (np.array([1.0, 0.0, 0.0, 0.0]), np.array([1.0, 2.0, 3.0])),    # one upstream gradient: the kernel shows
        (rng.normal(size=8), rng.normal(size=3)),
        (rng.normal(size=6), rng.normal(size=5)),
        (rng.normal(size=5), np.array([2.5])),
        (np.ones(3), np.array([0.5, -1.0, 2.0, 1.0])),
    ]


@exercise("grad_input")
def check_grad_input(grad_input):
    """``grad_input(grad_out, kernel)``: dL/dx of a valid, stride-1 convolution z = conv1d(x, kernel)."""
    for grad_out, kernel in _gradient_cases():
        name = f"{grad_input.__name__}(grad_out={np.round(grad_out, 2).tolist()}, kernel={np.round(kernel, 2).tolist()})"
        got = _numpy(call(grad_input, grad_out.copy(), kernel.copy()), name)
        want = _autograd_input(grad_out, kernel)
        if got.shape != want.shape:
            raise CheckError(f"{name}: wrong shape: expected {want.shape}, got {got.shape}: dL/dx has one "
                             f"value per input, and a valid convolution has len(grad_out) + K - 1 inputs")
        if not _same(got, want) and _same(got, _autograd_input(grad_out, kernel[::-1].copy())):
            raise CheckError(f"{name}: you slid the kernel over the padded upstream gradient without "
                             "flipping it; the gradient uses the kernel reversed, kernel[::-1]")
        check_array(got, want, name=name, check_dtype=False)


def _bn_cases():
    rng = np.random.default_rng(11)
    return [(rng.normal(3.0, 2.0, size=shape), rng.normal(size=shape[1]), rng.normal(size=shape[1]),
             rng.normal(size=shape[1]), rng.uniform(0.2, 3.0, size=shape[1]))
            for shape in [(6, 3), (4, 2, 5), (2, 3, 4, 4)]]


def _torch_bn(x, gamma, beta, mean, var, training=False, eps=1e-5):
    layer = (nn.BatchNorm1d if x.ndim <= 3 else nn.BatchNorm2d)(x.shape[1], eps=eps).double()
    with torch.no_grad():
        for tensor, value in zip((layer.weight, layer.bias, layer.running_mean, layer.running_var),
                                 (gamma, beta, mean, var)):
            tensor.copy_(torch.tensor(value))
        return layer.train(training)(torch.tensor(x)).numpy()


@exercise("batchnorm_eval")
def check_batchnorm_eval(batchnorm_eval):
    """``batchnorm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5)``: nn.BatchNorm in eval mode."""
    for x, gamma, beta, mean, var in _bn_cases():
        name = f"{batchnorm_eval.__name__}(x of shape {x.shape}, ...)"
        got = _numpy(call(batchnorm_eval, x.copy(), gamma.copy(), beta.copy(), mean.copy(), var.copy()), name)
        want = _torch_bn(x, gamma, beta, mean, var)
        if not _same(got, want) and _same(got, _torch_bn(x, gamma, beta, mean, var, training=True)):
            raise CheckError(f"{name}: you normalized with the batch's own mean and variance (training mode); "
                             "in eval mode use running_mean and running_var")
        if not _same(got, want) and _same(got, _torch_bn(x, gamma, beta, mean, var ** 2 - 1e-5)):
            raise CheckError(f"{name}: running_var is a variance: divide by sqrt(running_var + eps), "
                             "not by running_var")
        check_array(got, want, name=name, check_dtype=False)


@exercise("fold_batchnorm")
def check_fold_batchnorm(fold_batchnorm):
    """``fold_batchnorm(weight, bias, gamma, beta, running_mean, running_var, eps=1e-5)`` returns the
    weight and bias of one convolution equal to the convolution followed by eval-mode batch norm."""
    rng = np.random.default_rng(5)
    for c_in, c_out, k in [(1, 2, 3), (3, 4, 5)]:
        weight, bias = rng.normal(size=(c_out, c_in, k)), rng.normal(size=c_out)
        gamma, beta = rng.normal(size=c_out), rng.normal(size=c_out)
        mean, var = rng.normal(size=c_out), rng.uniform(0.2, 3.0, size=c_out)
        x = torch.tensor(rng.normal(size=(2, c_in, 12)))
        name = f"{fold_batchnorm.__name__}(weight of shape {weight.shape}, ...)"
        got = call(fold_batchnorm, weight.copy(), bias.copy(), gamma.copy(), beta.copy(), mean.copy(), var.copy())
        if not (isinstance(got, tuple) and len(got) == 2):
            raise CheckError(f"{name}: expected a pair (weight, bias), got {type(got).__name__}")
        w2, b2 = _numpy(got[0], name + " weight"), _numpy(got[1], name + " bias")
        if w2.shape != weight.shape or b2.shape != bias.shape:
            raise CheckError(f"{name}: the folded weight and bias keep their shapes {weight.shape} and "
                             f"{bias.shape}; got {w2.shape} and {b2.shape}")
        conv = F.conv1d(x, torch.tensor(weight), torch.tensor(bias))
        want = _torch_bn(conv.numpy(), gamma, beta, mean, var)
        folded = F.conv1d(x, torch.tensor(w2), torch.tensor(b2)).numpy()
        check_array(folded, want, name=f"{name}: conv with your weight and bias, against conv then "
                    "batch norm, output", check_dtype=False)
