"""cnncourse.pooling against torch.nn.functional."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnncourse import pooling
from cnncourse.conv1d import conv_matrix
from cnncourse.shapes import conv_output_size

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3, 17))  # (N, C, W): pooling acts on each depth slice
T = torch.tensor(X)
CONFIGS = [(2, 2), (3, 2), (2, 1), (4, 4), (5, 3)]  # (F, S): non-overlapping and overlapping


@pytest.mark.parametrize("size,stride", CONFIGS)
@pytest.mark.parametrize("mode", ["max", "mean", "sum"])
def test_pool1d_matches_torch(size, stride, mode):
    ours = pooling.pool1d(X, size, stride, mode=mode)
    if mode == "max":
        expected = F.max_pool1d(T, size, stride)
    else:
        expected = F.avg_pool1d(T, size, stride) * (size if mode == "sum" else 1)
    assert ours.shape == expected.shape == (2, 3, conv_output_size(17, size, stride=stride))
    np.testing.assert_allclose(ours, expected.numpy(), atol=1e-12)


def test_stride_defaults_to_size():
    np.testing.assert_array_equal(pooling.pool1d(X, 3), pooling.pool1d(X, 3, 3))


def test_bad_mode_and_size_raise():
    with pytest.raises(ValueError, match="mode"):
        pooling.pool1d(X, 2, mode="median")
    with pytest.raises(ValueError, match="larger"):
        pooling.pool1d(X, 18)


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 2), (3, 1)])
@pytest.mark.parametrize("mode", ["max", "mean", "sum"])
def test_pool2d_per_depth_slice_matches_torch(size, stride, mode):
    image = RNG.normal(size=(2, 4, 9, 11))
    t = torch.tensor(image)
    if mode == "max":
        expected = F.max_pool2d(t, size, stride)
    else:
        expected = F.avg_pool2d(t, size, stride) * (size * size if mode == "sum" else 1)
    np.testing.assert_allclose(pooling.pool2d(image, size, stride, mode), expected.numpy(), atol=1e-12)
    # depth slices are pooled independently
    np.testing.assert_allclose(pooling.pool2d(image[0, 1], size, stride, mode), expected[0, 1].numpy(), atol=1e-12)


@pytest.mark.parametrize("size,stride", CONFIGS)
def test_max_indices_and_backward_match_autograd(size, stride):
    values, indices = pooling.max_pool1d_with_indices(X, size, stride)
    t = T.clone().requires_grad_(True)
    out, t_idx = F.max_pool1d(t, size, stride, return_indices=True)
    np.testing.assert_array_equal(indices, t_idx.numpy())
    np.testing.assert_allclose(values, out.detach().numpy())
    grad_out = RNG.normal(size=out.shape)
    out.backward(torch.tensor(grad_out))
    ours = pooling.max_pool1d_backward(grad_out, indices, X.shape[-1])
    np.testing.assert_allclose(ours, t.grad.numpy(), atol=1e-12)


def test_overlapping_windows_accumulate_gradient():
    x = np.array([0.0, 1.0, 5.0, 1.0, 0.0])  # 5 is the max of both F=3, S=2 windows
    _, idx = pooling.max_pool1d_with_indices(x, 3, 2)
    np.testing.assert_array_equal(pooling.max_pool1d_backward(np.ones(2), idx, 5), [0, 0, 2, 0, 0])


def test_subsample_is_the_strided_conv():
    from cnncourse.conv1d import conv1d
    x, k = RNG.normal(size=20), RNG.normal(size=3)
    np.testing.assert_allclose(pooling.subsample(conv1d(x, k), 2), conv1d(x, k, stride=2))


@pytest.mark.parametrize("factor", [2, 3])
def test_duplicate_is_nearest_interpolation(factor):
    expected = F.interpolate(T, scale_factor=factor, mode="nearest").numpy()
    np.testing.assert_allclose(pooling.upsample_duplicate(X, factor), expected)


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 3)])
def test_max_unpool_matches_torch(size, stride):
    values, indices = pooling.max_pool1d_with_indices(X, size, stride)
    expected = F.max_unpool1d(torch.tensor(values), torch.tensor(indices), size, stride, output_size=[17])
    np.testing.assert_allclose(pooling.max_unpool1d(values, indices, 17), expected.numpy())


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("align", [False, True])
def test_linear_interpolation_matches_torch(factor, align):
    expected = F.interpolate(T, scale_factor=factor, mode="linear", align_corners=align).numpy()
    np.testing.assert_allclose(pooling.upsample_linear(X, factor, align_corners=align), expected, atol=1e-12)


@pytest.mark.parametrize("k,s,d,p,op", [(3, 2, 1, 0, 0), (3, 2, 1, 1, 1), (4, 2, 1, 1, 0), (3, 1, 2, 0, 0),
                                        (5, 3, 1, 2, 2)])
def test_transposed_conv_matches_torch_and_is_the_transpose(k, s, d, p, op):
    x, kernel = RNG.normal(size=9), RNG.normal(size=k)
    ours = pooling.conv_transpose1d(x, kernel, stride=s, dilation=d, padding=p, output_padding=op)
    layer = torch.nn.ConvTranspose1d(1, 1, k, stride=s, dilation=d, padding=p, output_padding=op,
                                     bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(kernel).reshape(1, 1, k))
        expected = layer(torch.tensor(x).reshape(1, 1, -1)).reshape(-1).numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-12)
    size = pooling.transposed_length(9, k, s, d, p, op)
    np.testing.assert_allclose(ours, conv_matrix(kernel, size, s, d, p).T @ x, atol=1e-12)
    functional = F.conv_transpose1d(torch.tensor(x).reshape(1, 1, -1), torch.tensor(kernel).reshape(1, 1, k),
                                    stride=s, padding=p, output_padding=op, dilation=d)
    np.testing.assert_allclose(ours, functional.reshape(-1).numpy(), atol=1e-12)


def test_bad_output_padding_raises():
    with pytest.raises(ValueError, match="output_padding"):
        pooling.conv_transpose1d(np.ones(4), np.ones(3), stride=2, output_padding=2)


def test_translation_change():
    x = RNG.normal(size=(5, 16))
    identity = pooling.translation_change(lambda v: v, x, [0, 1])
    assert identity[0] == 0 and identity[1] > 0.5
    global_max = pooling.translation_change(lambda v: v.max(axis=-1), x, [0, 1, 5])
    np.testing.assert_allclose(global_max, 0, atol=1e-12)  # circular shifts never change the global max
