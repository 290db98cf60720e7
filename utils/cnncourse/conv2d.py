"""Two-dimensional convolution from scratch, as ``F.conv2d`` computes it (cross-correlation).

Shapes follow PyTorch: input ``(N, C_i, H, W)``, weight ``(C_o, C_i, K, K)``, bias ``(C_o,)``,
output ``(N, C_o, H_o, W_o)`` with ``H_o = floor((H + 2P - D(K-1) - 1)/S) + 1``.
Three versions of the same computation:

- ``conv2d_loops``: one dot product per output position (clear, slow);
- ``conv2d_im2col``: copy every receptive field into a column, then one matrix product;
- ``conv_matrix``: the whole single-channel convolution as one matrix; its transpose is the
  transposed convolution (``F.conv_transpose2d``).
"""

import torch
import torch.nn.functional as F

from cnncourse.shapes import conv_output_size


def _output_size(x, kernel_size, stride, padding, dilation):
    return tuple(conv_output_size(size, kernel_size, stride, padding, dilation) for size in x.shape[-2:])


def conv2d_loops(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2D convolution with explicit loops over output channels and output positions."""
    c_out, _, k, _ = weight.shape
    h_out, w_out = _output_size(x, k, stride, padding, dilation)
    xp = F.pad(x, (padding,) * 4)
    span = dilation * (k - 1) + 1
    out = x.new_zeros(x.shape[0], c_out, h_out, w_out)
    for o in range(c_out):
        for r in range(h_out):
            for c in range(w_out):
                top, left = r * stride, c * stride
                patch = xp[:, :, top:top + span:dilation, left:left + span:dilation]  # (N, C_i, K, K)
                out[:, o, r, c] = (patch * weight[o]).sum(dim=(1, 2, 3))
        if bias is not None:
            out[:, o] += bias[o]
    return out


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Every receptive field of ``x`` as a column: ``(N, C_i*K*K, H_o*W_o)``, like ``F.unfold``.

    Loops only over the K*K kernel offsets: each offset contributes one strided slice.
    """
    n, c_in = x.shape[:2]
    k = kernel_size
    h_out, w_out = _output_size(x, k, stride, padding, dilation)
    xp = F.pad(x, (padding,) * 4)
    cols = x.new_empty(n, c_in, k, k, h_out, w_out)
    for i in range(k):
        for j in range(k):
            top, left = i * dilation, j * dilation
            cols[:, :, i, j] = xp[:, :, top:top + stride * (h_out - 1) + 1:stride,
                                  left:left + stride * (w_out - 1) + 1:stride]
    return cols.reshape(n, c_in * k * k, h_out * w_out)


def conv2d_im2col(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2D convolution as one matrix product: ``weight (C_o, C_i*K*K) @ im2col(x)``."""
    c_out, _, k, _ = weight.shape
    h_out, w_out = _output_size(x, k, stride, padding, dilation)
    out = weight.reshape(c_out, -1) @ im2col(x, k, stride, padding, dilation)
    if bias is not None:
        out = out + bias[:, None]
    return out.reshape(x.shape[0], c_out, h_out, w_out)


def conv_matrix(kernel, input_size, stride=1, padding=0):
    """The single-channel convolution of an ``input_size x input_size`` image by ``kernel``
    (K x K) as a matrix ``(H_o*W_o, H*W)`` acting on the flattened image.

    ``M @ x.flatten()`` is the convolution; ``M.T @ y.flatten()`` is the transposed convolution.
    """
    identity = torch.eye(input_size * input_size, dtype=kernel.dtype).reshape(-1, 1, input_size, input_size)
    responses = F.conv2d(identity, kernel[None, None], stride=stride, padding=padding)
    return responses.reshape(input_size * input_size, -1).T
