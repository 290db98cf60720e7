"""The backward pass of a 1D convolution layer in NumPy, written to be read (lecture 06).

Forward (as ``cnncourse.conv1d.conv1d_multi`` and ``torch.nn.functional.conv1d``, dilation 1)::

    z[o, i] = b[o] + sum_c sum_k w[o, c, k] * x_pad[c, i*S + k]

Given the upstream gradient ``g = dL/dz`` (same shape as z), the chain rule gives

* ``dL/db[o]      = sum_i g[o, i]``;
* ``dL/dw[o, c, k] = sum_i g[o, i] * x_pad[c, i*S + k]``: a correlation of the input with the
  (zero-stuffed) upstream gradient;
* ``dL/dx_pad[c, p] = sum_o sum_k g[o, i] * w[o, c, k]`` over the (i, k) with i*S + k = p: the
  zero-stuffed upstream gradient, zero padded by K-1, correlated with the FLIPPED kernel, i.e.
  a transposed convolution (``torch.nn.functional.conv_transpose1d``). Cropping the padding
  gives dL/dx.

Plus the tools of a gradient check: central finite differences and the relative error.
"""

import numpy as np

from .conv1d import conv1d_multi


def dilate(grad_out, stride):
    """Insert ``stride - 1`` zeros between neighbouring values along the last axis ("zero-stuffing").

    A stride-S output i read the padded input from position i*S; after stuffing, value i sits at
    position i*S, so the backward pass can slide over it with stride 1.
    """
    grad_out = np.asarray(grad_out, dtype=np.float64)
    length = grad_out.shape[-1]
    out = np.zeros(grad_out.shape[:-1] + ((length - 1) * stride + 1,))
    out[..., ::stride] = grad_out
    return out


def flip_kernel(weights):
    """The kernel reversed along its tap axis and with input/output channels swapped: (C_i, C_o, K)."""
    return np.asarray(weights, dtype=np.float64)[:, :, ::-1].transpose(1, 0, 2)


def conv1d_backward(x, weights, grad_out, stride=1, padding=0):
    """Gradients of a multi-channel 1D convolution layer: ``(dL/dx, dL/dw, dL/db)``.

    x: (C_i, W); weights: (C_o, C_i, K) (PyTorch's layout); grad_out: (C_o, W_out), the gradient
    of the loss with respect to the layer's output. Returns arrays shaped like x, weights and
    the bias (C_o,).
    """
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    kernel_size = weights.shape[-1]
    stuffed = dilate(grad_out, stride)                       # (C_o, (W_out - 1)S + 1)
    x_pad = np.pad(x, ((0, 0), (padding, padding)))

    grad_b = grad_out.sum(axis=1)
    grad_w = np.stack([stuffed @ x_pad[:, k:k + stuffed.shape[1]].T for k in range(kernel_size)], axis=-1)
    # full correlation with the flipped kernel: (C_i, (W_out - 1)S + K) values, the padded positions
    # the kernel reached; a stride that does not divide the length leaves the last ones unread (0)
    reached = conv1d_multi(stuffed, flip_kernel(weights), padding=kernel_size - 1)
    grad_x_pad = np.zeros_like(x_pad)
    grad_x_pad[:, :reached.shape[1]] = reached
    return grad_x_pad[:, padding:padding + x.shape[1]], grad_w, grad_b


def numerical_gradient(f, x, eps=1e-5):
    """Central finite differences of the scalar function ``f`` at the float64 array ``x``.

    Each entry costs two evaluations of f: ``(f(x + eps e_j) - f(x - eps e_j)) / (2 eps)``.
    The error is of order eps² (truncation) plus rounding/eps; in float64 it is smallest near eps = 1e-5.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        keep = x[j]
        x[j] = keep + eps
        plus = f(x)
        x[j] = keep - eps
        minus = f(x)
        x[j] = keep
        grad[j] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """Largest entrywise ``|a - b| / max(|a|, |b|)``: the gradient-check measure CS231n uses.

    Entries where both are (near) zero count as agreeing: the denominator is at least 1e-12.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-12)))
