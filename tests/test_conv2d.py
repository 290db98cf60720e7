"""conv2d from scratch (loops, im2col, conv matrix) against PyTorch, and the hand-made filters."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnncourse import conv2d, filters

CASES = [  # (C_i, C_o, H, W, K, stride, padding, dilation)
    (1, 1, 7, 7, 3, 1, 0, 1),
    (3, 4, 9, 8, 3, 2, 1, 1),
    (2, 5, 11, 10, 5, 3, 2, 1),
    (3, 2, 12, 12, 3, 1, 2, 2),
    (4, 3, 10, 13, 1, 1, 0, 1),
]


@pytest.mark.parametrize("c_in, c_out, h, w, k, stride, padding, dilation", CASES)
def test_loops_and_im2col_match_conv2d(c_in, c_out, h, w, k, stride, padding, dilation):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, c_in, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(c_out, c_in, k, k, generator=g, dtype=torch.float64)
    bias = torch.randn(c_out, generator=g, dtype=torch.float64)
    args = dict(stride=stride, padding=padding, dilation=dilation)
    expected = F.conv2d(x, weight, bias, **args)
    torch.testing.assert_close(conv2d.conv2d_loops(x, weight, bias, **args), expected)
    torch.testing.assert_close(conv2d.conv2d_im2col(x, weight, bias, **args), expected)
    torch.testing.assert_close(conv2d.im2col(x, k, **args), F.unfold(x, k, **args))


def test_no_bias():
    x, weight = torch.randn(1, 2, 6, 6), torch.randn(3, 2, 3, 3)
    torch.testing.assert_close(conv2d.conv2d_im2col(x, weight), F.conv2d(x, weight), atol=1e-5, rtol=1e-5)


def test_conv_matrix_and_its_transpose():
    kernel = torch.randn(3, 3, dtype=torch.float64)
    x = torch.randn(1, 1, 7, 7, dtype=torch.float64)
    m = conv2d.conv_matrix(kernel, 7, stride=2, padding=1)
    assert m.shape == (16, 49)
    y = F.conv2d(x, kernel[None, None], stride=2, padding=1)
    torch.testing.assert_close(m @ x.flatten(), y.flatten())
    back = F.conv_transpose2d(y, kernel[None, None], stride=2, padding=1)
    torch.testing.assert_close(m.T @ y.flatten(), back.flatten())


def test_kernels_are_what_they_claim():
    ramp = np.tile(np.arange(10.0), (10, 1))  # brightness grows to the right
    gx = filters.apply(ramp, filters.KERNELS["sobel x"])
    gy = filters.apply(ramp, filters.KERNELS["sobel y"])
    assert np.allclose(gx[1:-1, 1:-1], 8.0) and np.allclose(gy, 0.0)
    for name in ("box blur", "gaussian blur", "sharpen", "identity"):
        assert filters.KERNELS[name].sum() == pytest.approx(1.0), name
    flat = np.full((6, 6), 0.3)
    assert np.allclose(filters.apply(flat, filters.KERNELS["gaussian blur"]), 0.3)
    assert np.allclose(filters.apply(flat, filters.KERNELS["laplacian"]), 0.0)


def test_gaussian_kernel():
    k = filters.gaussian(5, sigma=1.0)
    assert k.shape == (5, 5) and k.sum() == pytest.approx(1.0) and k[2, 2] == k.max()
    with pytest.raises(ValueError, match="odd"):
        filters.gaussian(4)


def test_apply_keeps_size_and_handles_colour():
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    gray = filters.to_gray(image)
    assert gray.shape == (20, 30) and gray.dtype == np.float32 and 0 <= gray.min() <= gray.max() <= 1
    assert filters.apply(image, filters.KERNELS["identity"]).shape == (20, 30, 3)
    np.testing.assert_allclose(filters.apply(image, filters.KERNELS["identity"]), image / 255.0, atol=1e-6)
    assert filters.edge_magnitude(gray).shape == (20, 30)


def test_sample_images_ship_offline():
    from cnncourse.data import sample_images

    images = sample_images()
    assert images["china"].shape == (427, 640, 3) and images["china"].dtype == np.uint8
