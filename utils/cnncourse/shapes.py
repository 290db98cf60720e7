"""Convolution arithmetic: output sizes, parameter counts and receptive fields.

Conventions: W input length (or height/width), F kernel size, S stride, P zero padding
on each side, D dilation. A dilated kernel spans ``D*(F-1)+1`` inputs.
"""

import operator
from dataclasses import dataclass


class ShapeError(ValueError):
    """An impossible convolution configuration, explained."""


def _positive_int(name, value, minimum=1):
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)  # int, NumPy or torch integer; not float, not bool
    except TypeError:
        raise ShapeError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None
    if value < minimum:
        raise ShapeError(f"{name} must be >= {minimum}, got {value}")
    return value


def effective_kernel(kernel_size, dilation=1):
    """Number of input positions a dilated kernel spans: D*(F-1)+1."""
    _positive_int("kernel_size", kernel_size)
    _positive_int("dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1, exact=False):
    """Output length of a convolution (or pooling) layer: floor((W - D(F-1) - 1 + 2P)/S) + 1.

    With ``exact=True`` a configuration where the kernel does not tile the padded input
    (the remainder is dropped silently by PyTorch) raises ``ShapeError`` instead.
    """
    _positive_int("size", size)
    _positive_int("stride", stride)
    _positive_int("padding", padding, minimum=0)
    span = effective_kernel(kernel_size, dilation)
    padded = size + 2 * padding
    if span > padded:
        raise ShapeError(
            f"kernel spans {span} positions (kernel_size={kernel_size}, dilation={dilation}) "
            f"but the padded input has only {padded} (size={size}, padding={padding})")
    steps, remainder = divmod(padded - span, stride)
    if exact and remainder:
        raise ShapeError(
            f"(W - F + 2P)/S + 1 = ({size} - {span} + 2*{padding})/{stride} + 1 = "
            f"{(padded - span) / stride + 1:g} is not an integer: the last {remainder} input "
            f"position(s) are never covered; change the padding or the stride")
    return steps + 1


def conv_params(in_channels, out_channels, kernel_size, bias=True, dims=1):
    """Weights and biases of a convolution: C_o * (C_i * F^dims + 1)."""
    _positive_int("in_channels", in_channels)
    _positive_int("out_channels", out_channels)
    _positive_int("kernel_size", kernel_size)
    return out_channels * (in_channels * kernel_size ** dims + int(bias))


def linear_params(in_features, out_features, bias=True):
    """Weights and biases of a fully connected layer: out * (in + 1)."""
    _positive_int("in_features", in_features)
    _positive_int("out_features", out_features)
    return out_features * (in_features + int(bias))


@dataclass(frozen=True)
class Layer:
    """One layer of a stack, for receptive-field arithmetic."""

    kernel_size: int = 1
    stride: int = 1
    dilation: int = 1


def receptive_fields(layers):
    """Receptive field (in input positions) of one unit after each layer of ``layers``.

    Uses r_l = r_{l-1} + D_l (F_l - 1) * j_{l-1}, where the jump j_l = j_{l-1} * S_l is the
    distance, in input positions, between neighbouring units of layer l.
    """
    fields, field, jump = [], 1, 1
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            layer = Layer(*layer) if isinstance(layer, (tuple, list)) else Layer(**layer)
        try:
            span = effective_kernel(layer.kernel_size, layer.dilation)
            _positive_int("stride", layer.stride)
        except ShapeError as err:
            raise ShapeError(f"layer {i}: {err}") from None
        field += (span - 1) * jump
        jump *= layer.stride
        fields.append(field)
    return fields


def receptive_field(layers):
    """Receptive field of one unit of the last layer of ``layers`` (1 for an empty stack)."""
    fields = receptive_fields(layers)
    return fields[-1] if fields else 1
