"""Hand-designed 2D filters (edges, blur, sharpen) and a way to apply them to pictures.

Filters are applied as ``F.conv2d`` does (cross-correlation, no kernel flip), with the image
border replicated so the output keeps the input size.
"""

import numpy as np
import torch
import torch.nn.functional as F


def gaussian(size=5, sigma=1.0):
    """A normalised ``size x size`` Gaussian blur kernel (size odd)."""
    if size % 2 == 0:
        raise ValueError(f"a centred kernel needs an odd size, got {size}")
    t = np.arange(size) - size // 2
    bump = np.exp(-t ** 2 / (2 * sigma ** 2))
    kernel = np.outer(bump, bump)
    return (kernel / kernel.sum()).astype(np.float32)


KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32),
    "box blur": np.full((3, 3), 1 / 9, np.float32),
    "gaussian blur": gaussian(5, 1.0),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float32),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32),
}


def to_gray(image):
    """An (H, W, 3) uint8 picture as (H, W) float32 luminance in [0, 1] (ITU-R 601 weights)."""
    rgb = np.asarray(image, dtype=np.float32) / 255.0
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def apply(image, kernel):
    """Filter ``image`` with ``kernel``; returns float32 of the same shape.

    ``image``: (H, W) or (H, W, C); uint8 images are scaled to [0, 1] first. Each colour
    channel is filtered on its own.
    """
    image = np.asarray(image)
    x = torch.as_tensor(image / 255.0 if image.dtype == np.uint8 else image, dtype=torch.float32)
    planes = x[None, None] if x.ndim == 2 else x.permute(2, 0, 1)[:, None]  # (C, 1, H, W)
    k = torch.as_tensor(np.asarray(kernel, np.float32))
    kh, kw = k.shape
    padded = F.pad(planes, (kw // 2, kw - 1 - kw // 2, kh // 2, kh - 1 - kh // 2), mode="replicate")
    out = F.conv2d(padded, k[None, None])[:, 0]
    return (out[0] if x.ndim == 2 else out.permute(1, 2, 0)).numpy()


def edge_magnitude(gray):
    """Gradient magnitude sqrt(Gx^2 + Gy^2) of a grayscale image from the two Sobel filters."""
    return np.hypot(apply(gray, KERNELS["sobel x"]), apply(gray, KERNELS["sobel y"]))
