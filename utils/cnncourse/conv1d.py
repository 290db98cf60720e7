"""One-dimensional convolution in numpy, written to be read.

Like every deep-learning library (and ``torch.nn.functional.conv1d``), "convolution" here is
cross-correlation: the kernel is not flipped. Output position i reads the inputs
``i*S + j*D - P`` for taps j = 0..K-1 (S stride, D dilation, P zero padding on each side), so
the output length is ``floor((W + 2P - D(K-1) - 1) / S) + 1`` (``cnncourse.shapes.conv_output_size``).
All functions return float64 arrays unless the inputs are of a wider type.
"""

from operator import index

import numpy as np

from .shapes import conv_output_size


def _taps(length, kernel_size, stride, dilation, padding):
    """Index table (W_out, K): which padded-input position each output reads with each tap."""
    length, kernel_size, stride, dilation, padding = map(index, (length, kernel_size, stride, dilation, padding))
    out = conv_output_size(length, kernel_size, stride=stride, padding=padding, dilation=dilation)
    return np.arange(out)[:, None] * stride + np.arange(kernel_size)[None, :] * dilation


def conv1d(x, kernel, bias=0.0, stride=1, dilation=1, padding=0):
    """Single-channel 1D convolution (cross-correlation, as in PyTorch).

    x: (W,) signal; kernel: (K,) weights; bias: scalar.
    Returns (W_out,) with ``out[i] = bias + sum_j kernel[j] * x_pad[i*stride + j*dilation]``,
    where x_pad is x with ``padding`` zeros on each side.
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 1 or kernel.ndim != 1:
        raise ValueError(f"conv1d expects 1-D x and kernel, got shapes {x.shape} and {kernel.shape}")
    padded = np.pad(x, padding)
    return padded[_taps(len(x), len(kernel), stride, dilation, padding)] @ kernel + bias


def conv_matrix(kernel, length, stride=1, dilation=1, padding=0):
    """The (W_out, length) matrix of a 1D convolution: ``conv1d(x, k) == conv_matrix(k, len(x)) @ x``.

    Each row holds the same K weights (weight tying), shifted by ``stride`` columns from the row
    above and spread ``dilation`` columns apart; taps that fall on zero padding are simply left out.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 1:
        raise ValueError(f"conv_matrix expects a 1-D kernel, got shape {kernel.shape}")
    taps = _taps(length, len(kernel), stride, dilation, padding) - padding
    matrix = np.zeros((taps.shape[0], length))
    rows = np.broadcast_to(np.arange(taps.shape[0])[:, None], taps.shape)
    inside = (taps >= 0) & (taps < length)
    weights = np.broadcast_to(kernel, taps.shape)
    np.add.at(matrix, (rows[inside], taps[inside]), weights[inside])
    return matrix


def conv1d_multi(x, weights, bias=None, stride=1, dilation=1, padding=0):
    """Multi-channel 1D convolution layer (like ``torch.nn.functional.conv1d`` on one example).

    x: (C_i, W); weights: (C_o, C_i, K) in PyTorch's layout; bias: (C_o,) or None.
    Returns (C_o, W_out) with ``out[o] = bias[o] + sum_c conv1d(x[c], weights[o, c])``.
    The book writes the weights as Omega in R^{C_i x C_o x K}; it is the same tensor with the first
    two axes swapped: ``weights = Omega.transpose(1, 0, 2)``.
    """
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if x.ndim != 2 or weights.ndim != 3 or weights.shape[1] != x.shape[0]:
        raise ValueError(f"expected x (C_i, W) and weights (C_o, C_i, K) with matching C_i, "
                         f"got {x.shape} and {weights.shape}")
    c_out, _, k = weights.shape
    patches = np.pad(x, ((0, 0), (padding, padding)))[:, _taps(x.shape[1], k, stride, dilation, padding)]
    out = np.einsum("cwk,ock->ow", patches, weights)  # patches: (C_i, W_out, K)
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float64).reshape(c_out, 1)
    return out


def correlate2d(image, kernel, bias=0.0, stride=1, padding=0):
    """Single-channel 2D cross-correlation, small and direct, for hand-sized worked examples.

    image: (H, W); kernel: (F, F') ; returns (H_out, W_out) with
    ``out[r, c] = bias + sum(kernel * padded[r*S : r*S+F, c*S : c*S+F'])``.
    """
    image = np.pad(np.asarray(image, dtype=np.float64), index(padding))
    stride = index(stride)
    kernel = np.asarray(kernel, dtype=np.float64)
    rows = conv_output_size(image.shape[0], kernel.shape[0], stride=stride)
    cols = conv_output_size(image.shape[1], kernel.shape[1], stride=stride)
    out = np.empty((rows, cols))
    for r in range(rows):
        for c in range(cols):
            window = image[r * stride:r * stride + kernel.shape[0], c * stride:c * stride + kernel.shape[1]]
            out[r, c] = np.sum(window * kernel) + bias
    return out
