"""Fully connected layers as convolutions.

A ``Linear`` layer that reads a flattened ``C x H x W`` feature map is a ``Conv2d`` with an
``H x W`` kernel and no padding: on an ``H x W`` map it has one output position and computes
the same numbers. The following ``Linear`` layers become ``1 x 1`` convolutions. On a larger
input the converted head slides over the feature map and returns a map of class scores, in
one pass, equal to running the original net on every crop (stride = the feature stride).
"""

from torch import nn


def linear_to_conv(linear, in_channels, kernel_size):
    """A ``Conv2d`` computing ``linear`` on a ``(in_channels, k, k)`` map (weights copied)."""
    if linear.in_features != in_channels * kernel_size * kernel_size:
        raise ValueError(
            f"Linear({linear.in_features}, ...) cannot read a {in_channels}x{kernel_size}x{kernel_size} "
            f"map ({in_channels * kernel_size ** 2} values)")
    conv = nn.Conv2d(in_channels, linear.out_features, kernel_size, bias=linear.bias is not None)
    conv.weight.data.copy_(linear.weight.data.reshape(conv.weight.shape))
    if linear.bias is not None:
        conv.bias.data.copy_(linear.bias.data)
    return conv.to(linear.weight.device)


def convolutionize(head, feature_shape):
    """Convert a classifier ``head`` that follows a ``(C, H, W)`` feature map into convolutions.

    ``head`` is a ``Sequential`` of ``Linear`` layers and element-wise layers (activations,
    dropout), optionally starting with ``Flatten``. The first ``Linear`` becomes an ``H x W``
    convolution (``H == W``), the others ``1 x 1`` convolutions; element-wise layers are kept.
    """
    channels, height, width = feature_shape
    if height != width:
        raise ValueError(f"square feature maps only, got {height}x{width}")
    layers, kernel = [], height
    for layer in head:
        if isinstance(layer, nn.Flatten):
            continue
        if isinstance(layer, nn.Linear):
            layers.append(linear_to_conv(layer, channels, kernel))
            channels, kernel = layer.out_features, 1
        else:
            layers.append(layer)
    return nn.Sequential(*layers)


def fully_convolutional(features, head, feature_shape):
    """``features`` followed by the convolutionized ``head``: outputs ``(N, classes, h, w)``."""
    return nn.Sequential(features, convolutionize(head, feature_shape))
