"""Checks for the exercises of lecture 11 (looking inside a trained CNN).

Oracles: closed forms for linear models (the gradient of a class score is that class's weight
row) and centred finite differences in float64 for a small ReLU network; the answers are in
the lecture.
"""

import copy

import numpy as np
import torch
from torch import nn

from cnncourse.checks import CheckError, check_array
from cnncourse.exercises import call, exercise


def _numpy(got, name, shape):
    if isinstance(got, torch.Tensor):
        got = got.detach().cpu().numpy()
    if not isinstance(got, np.ndarray):
        raise CheckError(f"{name}: expected a NumPy array (or a tensor), got {type(got).__name__}")
    if got.shape != shape:
        raise CheckError(f"{name}: wrong shape: expected {shape}, got {got.shape}")
    return got.astype(np.float64)


def _linear(shape, classes, seed, bias=True):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(shape)), classes, bias=bias))


def _relu_net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4))


def _image(shape, seed):
    return np.random.default_rng(seed).uniform(0, 1, size=shape).astype(np.float32)


def _finite_difference_grad(model, image, target, eps=1e-6):
    model = copy.deepcopy(model).double().eval()
    x = torch.tensor(image, dtype=torch.float64)[None]
    grad = np.zeros(image.shape)
    with torch.no_grad():
        for j in np.ndindex(image.shape):
            up, down = x.clone(), x.clone()
            up[(0,) + j] += eps
            down[(0,) + j] -= eps
            grad[j] = (model(up)[0, target] - model(down)[0, target]).item() / (2 * eps)
    return grad


def _run(fn, name, model, image, *args):
    """Call the learner's function (model in eval mode); fail if it changed the image in place."""
    model.eval()
    before = image.copy()
    got = call(fn, model, image, *args)
    if not np.array_equal(image, before):
        raise CheckError(f"{name}: your function changed the input image in place; work on a copy")
    return got


@exercise("grad_times_input")
def check_grad_times_input(grad_times_input):
    """``grad_times_input(model, image, target)``: image * d score[target] / d image, shaped like image (C, H, W)."""
    cases = [(_linear((1, 5, 5), 3, 0), _image((1, 5, 5), 1), 2, "linear"),
             (_linear((2, 4, 3), 4, 1), _image((2, 4, 3), 2), 0, "linear"),
             (_relu_net(2), _image((1, 6, 6), 3), 1, "relu")]
    for model, image, target, kind in cases:
        name = f"{grad_times_input.__name__}(model, image of shape {image.shape}, target={target})"
        got = _numpy(_run(grad_times_input, name, model, image, target), name, image.shape)
        if kind == "linear":
            gradient = model[1].weight[target].detach().numpy().reshape(image.shape).astype(np.float64)
        else:
            gradient = _finite_difference_grad(model, image, target)
        want = gradient * image
        if np.allclose(got, gradient, atol=1e-5) and not np.allclose(want, gradient, atol=1e-5):
            raise CheckError(f"{name}: you returned the gradient itself; multiply it by the image")
        if np.allclose(got, np.abs(want), atol=1e-5) and not np.allclose(want, np.abs(want), atol=1e-5):
            raise CheckError(f"{name}: keep the sign: gradient × input is negative where a pixel lowers the score")
        check_array(got, want, name=name, rtol=1e-3, atol=1e-5, check_dtype=False)


@exercise("occlusion_map")
def check_occlusion_map(occlusion_map):
    """``occlusion_map(model, image, target, patch)``: entry (i, j) is score[target] of the image minus
    the same score with the patch x patch block at (i*patch, j*patch) set to 0 (all channels)."""
    cases = [(_linear((1, 6, 6), 3, 3), _image((1, 6, 6), 4), 1, 2),
             (_linear((2, 8, 4), 5, 4), _image((2, 8, 4), 5), 4, 4),
             (_linear((1, 6, 6), 2, 5, bias=False), _image((1, 6, 6), 6), 0, 3)]
    for model, image, target, patch in cases:
        name = f"{occlusion_map.__name__}(model, image of shape {image.shape}, target={target}, patch={patch})"
        c, h, w = image.shape
        got = _numpy(_run(occlusion_map, name, model, image, target, patch), name, (h // patch, w // patch))
        # linear model: blanking a block removes exactly that block's share of the score
        share = model[1].weight[target].detach().numpy().reshape(image.shape) * image
        want = share.sum(axis=0).reshape(h // patch, patch, w // patch, patch).sum(axis=(1, 3)).astype(np.float64)
        if np.allclose(got, -want, atol=1e-5) and not np.allclose(want, 0, atol=1e-5):
            raise CheckError(f"{name}: wrong sign: subtract the occluded score from the original score, "
                             "so that blocks the class relies on come out positive")
        check_array(got, want, name=name, rtol=1e-4, atol=1e-5, check_dtype=False)
