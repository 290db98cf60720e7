"""Checks for the exercises of lecture 10 (the popular CNNs, built and measured).

Oracles: PyTorch layers built on the meta device and counted, the package's VGG and
Inception modules; the answers are in the lecture, one click away.
"""

import torch
from torch import nn

from cnncourse.checks import CheckError, check_array, check_close
from cnncourse.counting import count_params, on_meta
from cnncourse.exercises import call, exercise
from cnncourse.models.googlenet import INCEPTION, Inception
from cnncourse.models.vgg import CONFIGS, VGG

CONV_CASES = [  # (in_channels, out_channels, kernel_size, groups): AlexNet's five, then a few more
    (3, 96, 11, 1), (96, 256, 5, 2), (256, 384, 3, 1), (384, 384, 3, 2), (384, 256, 3, 2),
    (192, 64, 1, 1), (8, 8, 3, 8), (6, 12, 5, 3)]


@exercise("conv_params")
def check_conv_params(conv_params):
    """``conv_params(in_channels, out_channels, kernel_size, groups=1)``: weights plus biases of
    ``nn.Conv2d`` with square kernels and ``groups`` independent channel groups."""
    for cin, cout, k, groups in CONV_CASES:
        want = count_params(on_meta(nn.Conv2d, in_channels=cin, out_channels=cout, kernel_size=k, groups=groups))
        name = f"{conv_params.__name__}({cin}, {cout}, {k}, groups={groups})"
        got = call(conv_params, cin, cout, k, groups=groups)
        if groups > 1 and got == cout * (cin * k * k + 1):
            raise CheckError(f"{name}: expected {want}, got {got}, the count without groups: with groups={groups} "
                             f"each filter reads only in_channels / groups = {cin // groups} channels")
        check_close(got, want, name=name)


def _features(config, in_channels):
    reference = VGG(config).features
    if in_channels != 3:  # the package's VGG reads RGB; rebuild its first layer for other inputs
        first = next(i for i, layer in enumerate(reference) if isinstance(layer, nn.Conv2d))
        reference[first] = nn.Conv2d(in_channels, reference[first].out_channels, 3, padding=1)
    return reference


def _convs(net):
    return [m for m in net.modules() if isinstance(m, nn.Conv2d)]


@exercise("vgg_features")
def check_vgg_features(vgg_features):
    """``vgg_features(config, in_channels=3)``: an ``nn.Sequential`` with a 3x3 convolution
    (padding 1) and a ReLU for every number in ``config`` and a 2x2 max pool for every "M"."""
    cases = [([8, "M", 16, 16, "M"], 1, 16), ([4, 4, "M"], 3, 8), (CONFIGS[11], 3, 64)]
    for config, in_channels, size in cases:
        shown = config if len(config) < 6 else f"CONFIGS[11] ({len(config)} items)"
        name = f"{vgg_features.__name__}({shown}, in_channels={in_channels})"
        torch.manual_seed(10)
        got_net = call(vgg_features, list(config), in_channels=in_channels)
        if not isinstance(got_net, nn.Module):
            raise CheckError(f"{name}: expected an nn.Module (e.g. nn.Sequential), got {type(got_net).__name__}")
        want_net = _features(config, in_channels)
        got_convs, want_convs = _convs(got_net), _convs(want_net)
        if len(got_convs) != len(want_convs):
            raise CheckError(f"{name}: expected {len(want_convs)} convolutions (one per number), got {len(got_convs)}")
        for i, (got, want) in enumerate(zip(got_convs, want_convs)):
            if (got.kernel_size, got.padding, got.stride) != (want.kernel_size, want.padding, want.stride):
                raise CheckError(f"{name}: convolution {i} has kernel {got.kernel_size}, padding {got.padding}, "
                                 f"stride {got.stride}; VGG uses kernel (3, 3), padding (1, 1), stride (1, 1)")
            if got.weight.shape != want.weight.shape:
                raise CheckError(f"{name}: convolution {i} has weights of shape {tuple(got.weight.shape)}, "
                                 f"expected {tuple(want.weight.shape)} (in and out channels)")
            with torch.no_grad():  # same weights in both nets, so the outputs must agree
                want.weight.copy_(got.weight)
                if want.bias is not None and got.bias is not None:
                    want.bias.copy_(got.bias)
        x = torch.randn(2, in_channels, size, size)
        with torch.no_grad():
            got_out, want_out = call(got_net, x), want_net(x)
        check_array(got_out, want_out, name=f"{name} applied to a batch of shape {tuple(x.shape)}",
                    rtol=1e-4, atol=1e-5)


@exercise("inception_params")
def check_inception_params(inception_params):
    """``inception_params(cin, c1, c3r, c3, c5r, c5, pool_proj)``: parameters of an Inception
    module as in the GoogLeNet paper (convolutions with biases, no batch norm, true 5x5)."""
    for name, row in list(INCEPTION.items())[:4] + [("tiny", (4, 1, 2, 3, 1, 2, 1))]:
        want = count_params(on_meta(Inception, cin=row[0], c1=row[1], c3r=row[2], c3=row[3], c5r=row[4],
                                    c5=row[5], pool_proj=row[6], batch_norm=False))
        check_close(call(inception_params, *row), want,
                    name=f"{inception_params.__name__}{row} (module {name})")
