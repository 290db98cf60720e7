"""Checks for the exercises of lecture 08 (convolution in two dimensions).

Oracles are PyTorch calls (``F.conv2d``, ``F.unfold``, the shape ``F.conv1d`` returns);
the answers are in the lecture, one click away.
"""

import torch
import torch.nn.functional as F

from cnncourse.checks import check_array, check_close
from cnncourse.exercises import call, exercise


def _cases():
    g = torch.Generator().manual_seed(8)
    return [
        (torch.arange(25.0).reshape(5, 5), torch.tensor([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]])),
        (torch.randn(6, 8, generator=g), torch.randn(3, 3, generator=g)),      # wider than tall
        (torch.randn(7, 5, generator=g), torch.randn(2, 4, generator=g)),      # a 2x4 kernel
        (torch.randn(4, 4, generator=g), torch.randn(4, 4, generator=g)),      # a single position
        (torch.randn(3, 6, generator=g), torch.randn(1, 1, generator=g)),      # 1x1: a scaling
    ]


def _name(fn, image, kernel):
    return f"{fn.__name__}(image {tuple(image.shape)}, kernel {tuple(kernel.shape)})"


@exercise("conv2d_single")
def check_conv2d_single(conv2d_single):
    """``conv2d_single(image, kernel)``: the valid cross-correlation of a 2D tensor, like ``F.conv2d``."""
    for image, kernel in _cases():
        got = call(conv2d_single, image.clone(), kernel.clone())
        want = F.conv2d(image[None, None], kernel[None, None])[0, 0]
        check_array(got, want, name=_name(conv2d_single, image, kernel), rtol=1e-4, atol=1e-5,
                    check_dtype=False)


@exercise("im2col_single")
def check_im2col_single(im2col_single):
    """``im2col_single(image, k)``: one column of K*K values per output position, like ``F.unfold``."""
    for image, kernel in _cases():
        k = kernel.shape[0]
        if kernel.shape[1] != k:
            continue  # square windows only here
        got = call(im2col_single, image.clone(), k)
        want = F.unfold(image[None, None], k)[0]
        check_array(got, want, name=f"{im2col_single.__name__}(image {tuple(image.shape)}, {k})",
                    check_dtype=False)


LEFTOVER_CASES = [  # (size, kernel_size, stride, padding)
    (6, 3, 2, 0), (7, 3, 2, 0), (224, 11, 4, 0), (227, 11, 4, 0), (13, 3, 4, 0), (32, 7, 3, 0),
    (10, 3, 4, 1), (28, 5, 1, 2), (9, 9, 5, 0)]


@exercise("leftover")
def check_leftover(leftover):
    """``leftover(size, kernel_size, stride, padding)``: positions at the end of the padded input
    that no window reaches (PyTorch drops them without a word)."""
    for size, k, s, p in LEFTOVER_CASES:
        outputs = F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, k), stride=s, padding=p).shape[-1]
        reached = (outputs - 1) * s + k
        got = call(leftover, size, k, s, p)
        check_close(got, size + 2 * p - reached, name=f"{leftover.__name__}({size}, {k}, {s}, {p})")

