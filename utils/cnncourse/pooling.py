"""Pooling, downsampling and upsampling in numpy, written to be read.

Every function works on the last axis (1D) or the last two axes (2D) and treats all leading
axes (examples, channels) independently: pooling acts on each depth slice on its own. Window
positions follow PyTorch: window i covers inputs ``i*S .. i*S + F - 1`` (no padding), so the
output length is ``cnncourse.shapes.conv_output_size(W, F, stride=S)``.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .conv1d import conv_matrix
from .equivariance import shift

REDUCERS = {"max": np.max, "mean": np.mean, "sum": np.sum}


def windows1d(x, size, stride=None):
    """The pooling windows of the last axis: shape (..., W_out, size), a read-only view."""
    x = np.asarray(x)
    if size > x.shape[-1]:
        raise ValueError(f"window size {size} is larger than the input length {x.shape[-1]}")
    return sliding_window_view(x, size, axis=-1)[..., ::stride or size, :]


def pool1d(x, size, stride=None, mode="max"):
    """Max, mean or sum pooling along the last axis; ``stride`` defaults to ``size``."""
    if mode not in REDUCERS:
        raise ValueError(f"mode must be one of {sorted(REDUCERS)}, got {mode!r}")
    return REDUCERS[mode](windows1d(x, size, stride), axis=-1)


def pool2d(x, size, stride=None, mode="max"):
    """Max, mean or sum pooling over the last two axes (H, W) of every depth slice separately."""
    if mode not in REDUCERS:
        raise ValueError(f"mode must be one of {sorted(REDUCERS)}, got {mode!r}")
    stride = stride or size
    views = sliding_window_view(np.asarray(x), (size, size), axis=(-2, -1))[..., ::stride, ::stride, :, :]
    return REDUCERS[mode](views, axis=(-2, -1))


def max_pool1d_with_indices(x, size, stride=None):
    """Max pooling that also returns where each maximum came from (input positions, like
    ``torch.nn.functional.max_pool1d(..., return_indices=True)``; ties go to the first)."""
    stride = stride or size
    win = windows1d(x, size, stride)
    offsets = np.argmax(win, axis=-1)
    indices = np.arange(win.shape[-2]) * stride + offsets
    return np.take_along_axis(win, offsets[..., None], axis=-1)[..., 0], indices


def max_pool1d_backward(grad_out, indices, length):
    """Gradient of max pooling: each output's gradient goes to its argmax and nowhere else;
    inputs that are the maximum of several overlapping windows collect the sum."""
    grad_out = np.asarray(grad_out, dtype=np.float64)
    grad_in = np.zeros(grad_out.shape[:-1] + (length,))
    flat_in = grad_in.reshape(-1, length)
    flat_g = grad_out.reshape(len(flat_in), -1)
    rows = np.arange(len(flat_in))[:, None]
    np.add.at(flat_in, (rows, np.asarray(indices).reshape(flat_g.shape)), flat_g)
    return grad_in


def subsample(x, stride=2):
    """Keep every ``stride``-th position (a stride-S convolution is a convolution followed by this)."""
    return np.asarray(x)[..., ::stride]


def upsample_duplicate(x, factor=2):
    """Upsample by repeating every value ``factor`` times (nearest-neighbour interpolation)."""
    return np.repeat(np.asarray(x), factor, axis=-1)


def max_unpool1d(x, indices, length):
    """Put every value back where max pooling found it (``indices``), zeros everywhere else."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape[:-1] + (length,))
    np.put_along_axis(out, np.asarray(indices), x, axis=-1)
    return out


def upsample_linear(x, factor=2, align_corners=False):
    """Linear interpolation to ``factor`` times the length, as ``F.interpolate(mode="linear")``.

    Output position i samples the input at ``(i + 0.5) / factor - 0.5`` (clamped to the ends);
    with ``align_corners=True`` the first and last samples of input and output coincide instead.
    """
    x = np.asarray(x, dtype=np.float64)
    length = x.shape[-1]
    size = int(np.floor(length * factor))
    i = np.arange(size)
    if align_corners:
        src = i * (length - 1) / (size - 1) if size > 1 else np.zeros(size)
    else:
        src = np.clip((i + 0.5) / factor - 0.5, 0, None)
    left = np.minimum(np.floor(src).astype(int), length - 1)
    right = np.minimum(left + 1, length - 1)
    weight = src - left
    return x[..., left] * (1 - weight) + x[..., right] * weight


def transposed_length(length, kernel_size, stride=1, dilation=1, padding=0, output_padding=0):
    """Output length of a transposed convolution: (W-1)S - 2P + D(K-1) + 1 + output_padding."""
    return (length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 1 + output_padding


def conv_transpose1d(x, kernel, stride=1, dilation=1, padding=0, output_padding=0):
    """Transposed convolution: multiply by the *transpose* of the strided convolution's matrix.

    The convolution maps a signal of length ``transposed_length(len(x), ...)`` to ``len(x)``
    outputs; its transpose goes the other way, so it upsamples by the stride
    (like ``torch.nn.functional.conv_transpose1d`` with one channel).
    """
    x = np.asarray(x, dtype=np.float64)
    size = transposed_length(len(x), len(kernel), stride, dilation, padding, output_padding)
    matrix = conv_matrix(kernel, size, stride=stride, dilation=dilation, padding=padding)
    if matrix.shape[0] != len(x):
        raise ValueError(f"output_padding={output_padding} must be smaller than the stride {stride}")
    return matrix.T @ x


def translation_change(transform, signals, shifts):
    """How much ``transform``'s output moves when the input shifts: for each shift k, the mean
    over signals of ||f(shift(x, k)) - f(x)|| / ||f(x)|| (0 means fully invariant).

    ``signals``: (N, W) array; ``transform`` maps it to (N, ...); shifts are circular.
    """
    signals = np.asarray(signals, dtype=np.float64)
    base = transform(signals).reshape(len(signals), -1)
    norm = np.linalg.norm(base, axis=1)
    norm[norm == 0] = 1.0
    changes = []
    for k in shifts:
        moved = transform(shift(signals, k)).reshape(len(signals), -1)
        changes.append(float(np.mean(np.linalg.norm(moved - base, axis=1) / norm)))
    return np.array(changes)
