"""cnncourse.conv1d and cnncourse.activations against torch.nn.functional on random shapes and settings."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnncourse.activations import ACTIVATIONS
from cnncourse.conv1d import conv1d, conv1d_multi, conv_matrix, correlate2d
from cnncourse.shapes import ShapeError


def _configs(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        w, k, s, d, p = (int(v) for v in (rng.integers(3, 25), rng.integers(1, 6), rng.integers(1, 4),
                                          rng.integers(1, 4), rng.integers(0, 4)))
        if d * (k - 1) + 1 <= w + 2 * p:
            out.append((w, k, s, d, p))
    return out


@pytest.mark.parametrize("w,k,s,d,p", _configs(40, 0))
def test_conv1d_and_matrix_match_torch(w, k, s, d, p):
    rng = np.random.default_rng(w * 1000 + k * 100 + s * 10 + d + p)
    x, kernel, bias = rng.normal(size=w), rng.normal(size=k), rng.normal()
    ref = F.conv1d(torch.tensor(x).view(1, 1, -1), torch.tensor(kernel).view(1, 1, -1),
                   torch.tensor([bias], dtype=torch.float64), stride=s, dilation=d, padding=p).view(-1).numpy()
    got = conv1d(x, kernel, bias, stride=s, dilation=d, padding=p)
    assert got.dtype == np.float64 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    matrix = conv_matrix(kernel, w, stride=s, dilation=d, padding=p)
    assert matrix.shape == (len(ref), w)
    np.testing.assert_allclose(matrix @ x + bias, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("w,k,s,d,p", _configs(25, 1))
def test_conv1d_multi_matches_torch(w, k, s, d, p):
    rng = np.random.default_rng(w + 7 * k)
    c_in, c_out = (int(v) for v in rng.integers(1, 5, size=2))
    x, weights, bias = rng.normal(size=(c_in, w)), rng.normal(size=(c_out, c_in, k)), rng.normal(size=c_out)
    ref = F.conv1d(torch.tensor(x)[None], torch.tensor(weights), torch.tensor(bias),
                   stride=s, dilation=d, padding=p)[0].numpy()
    got = conv1d_multi(x, weights, bias, stride=s, dilation=d, padding=p)
    assert got.shape == ref.shape == (c_out, len(conv1d(x[0], weights[0, 0], stride=s, dilation=d, padding=p)))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv1d_multi(x, weights, None, s, d, p), ref - bias[:, None], atol=1e-12)


@pytest.mark.parametrize("h,w,k,s,p", [(5, 5, 3, 1, 0), (6, 6, 3, 2, 0), (7, 9, 2, 3, 1), (8, 6, 4, 1, 2)])
def test_correlate2d_matches_torch(h, w, k, s, p):
    rng = np.random.default_rng(h * w)
    image, kernel = rng.normal(size=(h, w)), rng.normal(size=(k, k))
    ref = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None], stride=s, padding=p)
    np.testing.assert_allclose(correlate2d(image, kernel, 0.5, stride=s, padding=p), ref[0, 0].numpy() + 0.5,
                               atol=1e-12)


def test_conv_matrix_is_banded_and_weight_tied():
    matrix = conv_matrix([1.0, 2.0, 3.0], 6, padding=1)
    assert matrix.shape == (6, 6)
    np.testing.assert_array_equal(matrix[0, :3], [2, 3, 0])  # first tap falls on padding
    np.testing.assert_array_equal(matrix[2, 1:4], [1, 2, 3])
    np.testing.assert_array_equal(np.count_nonzero(matrix, axis=1), [2, 3, 3, 3, 3, 2])
    dilated = conv_matrix([1.0, 2.0], 5, stride=2, dilation=3)
    np.testing.assert_array_equal(dilated, [[1, 0, 0, 2, 0]])


def test_numpy_integers_accepted_and_bad_shapes_rejected():
    assert conv1d(np.ones(5), np.ones(2), stride=np.int64(2)).shape == (2,)
    with pytest.raises(ShapeError):
        conv1d(np.ones(3), np.ones(5))
    with pytest.raises(ValueError):
        conv1d(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError):
        conv1d_multi(np.ones((2, 5)), np.ones((1, 3, 2)), None)


@pytest.mark.parametrize("name,torch_fn", [("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu)])
def test_activations_and_derivatives_match_autograd(name, torch_fn):
    z = np.linspace(-5, 5, 101) + 0.013  # avoid ReLU's kink at exactly 0
    fn, derivative = ACTIVATIONS[name]
    zt = torch.tensor(z, requires_grad=True)
    torch_fn(zt).sum().backward()
    np.testing.assert_allclose(fn(z), torch_fn(torch.tensor(z)).numpy(), atol=1e-12)
    np.testing.assert_allclose(derivative(z), zt.grad.numpy(), atol=1e-12)
