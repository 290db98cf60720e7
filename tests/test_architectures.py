"""The popular CNNs of lecture 08: parameter counts (built on the meta device, so instantly),
output shapes, and the structural details each count depends on."""

import pytest
import torch
from torch import nn

from cnncourse.counting import count_params, on_meta
from cnncourse.models import (alexnet, alexnet_paper, alphago_policy, googlenet, resnet,
                              resnet18, resnet34, resnet50, resnet152, small_net, vgg, vgg11,
                              vgg16, vgg19)
from cnncourse.models.alphago import policy_params
from cnncourse.models.googlenet import Inception
from cnncourse.models.resnet import BasicBlock, Bottleneck


@pytest.mark.parametrize("constructor, kwargs, expected", [
    (alexnet_paper, {}, 60_965_224),
    (alexnet, {}, 61_100_840),
    (vgg11, {}, 132_863_336),
    (vgg16, {}, 138_357_544),
    (vgg19, {}, 143_667_240),
    (googlenet, {}, 6_624_904),
    (googlenet, {"paper": True}, 6_998_552),
    (googlenet, {"aux": True}, 13_004_888),
    (resnet18, {}, 11_689_512),
    (resnet34, {}, 21_797_672),
    (resnet50, {}, 25_557_032),
    (resnet152, {}, 60_192_808),
    (alphago_policy, {}, 3_882_793),
], ids=lambda v: getattr(v, "__name__", None) or (str(v) if isinstance(v, dict) and v else None))
def test_parameter_counts(constructor, kwargs, expected):
    assert count_params(on_meta(constructor, **kwargs)) == expected


@pytest.mark.parametrize("constructor, size, out", [
    (alexnet, 224, (1, 1000)), (alexnet_paper, 227, (1, 1000)), (vgg16, 224, (1, 1000)),
    (googlenet, 224, (1, 1000)), (resnet50, 224, (1, 1000)),
])
def test_imagenet_nets_map_an_image_to_1000_scores(constructor, size, out):
    model = on_meta(constructor).eval()
    assert tuple(model(torch.zeros(1, 3, size, size, device="meta")).shape) == out


def test_alexnet_paper_layers_follow_the_figure():
    model = on_meta(alexnet_paper)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [96, 256, 384, 384, 256]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]  # the two-GPU split
    conv1 = model.features[0](torch.zeros(1, 3, 227, 227, device="meta"))
    assert tuple(conv1.shape) == (1, 96, 55, 55)
    assert model.features[0].weight.numel() == 34_848


def test_vgg_splits_into_features_and_classifier():
    model = on_meta(vgg16)
    assert tuple(model.features(torch.zeros(1, 3, 224, 224, device="meta")).shape) == (1, 512, 7, 7)
    first = model.classifier[0]
    assert isinstance(first, nn.Linear) and (first.in_features, first.out_features) == (25088, 4096)
    assert count_params(first) == 102_764_544
    assert sum(isinstance(m, nn.Conv2d) for m in model.features) == 13
    assert sum(isinstance(m, nn.Conv2d) for m in on_meta(vgg19).features) == 16
    assert count_params(on_meta(vgg, depth=11)) == count_params(on_meta(vgg11))
    with pytest.raises(ValueError, match="depth"):
        vgg(17)


def test_inception_module_concatenates_its_four_branches():
    block = Inception(192, 64, 96, 128, 16, 32, 32, five=3)
    out = block(torch.randn(2, 192, 28, 28))
    assert out.shape == (2, 256, 28, 28) and block.out_channels == 256
    assert block.branch5[1][0].kernel_size == (3, 3)  # the common layout's "5x5" branch
    paper = Inception(192, 64, 96, 128, 16, 32, 32, five=5, batch_norm=False)
    assert paper.branch5[1][0].kernel_size == (5, 5)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in paper.modules())


def test_googlenet_aux_heads_only_in_training():
    model = on_meta(googlenet, num_classes=10, aux=True)
    x = torch.zeros(2, 3, 224, 224, device="meta")
    logits, aux1, aux2 = model.train()(x)
    assert logits.shape == aux1.shape == aux2.shape == (2, 10)
    assert model.eval()(x).shape == (2, 10)


def test_resnet_blocks():
    basic, bottleneck = BasicBlock(64, 64), Bottleneck(256, 64)
    x = torch.randn(1, 64, 8, 8)
    assert basic(x).shape == x.shape and isinstance(basic.shortcut, nn.Identity)
    assert bottleneck(torch.randn(1, 256, 8, 8)).shape == (1, 256, 8, 8)
    down = Bottleneck(256, 128, stride=2)
    assert down(torch.randn(1, 256, 8, 8)).shape == (1, 512, 4, 4)
    assert down.body[2][0].stride == (2, 2)  # v1.5: the stride sits on the 3x3 convolution
    with pytest.raises(ValueError, match="depth"):
        resnet(20)


def test_resnet_without_skips_has_the_same_layers_but_no_shortcuts():
    plain = on_meta(resnet, depth=34, residual=False)
    assert all(m.shortcut is None for m in plain.modules() if isinstance(m, BasicBlock))
    shortcut_params = sum(count_params(m.shortcut) for m in on_meta(resnet34).modules()
                          if isinstance(m, BasicBlock) and m.shortcut is not None)
    assert count_params(plain) + shortcut_params == 21_797_672


def test_small_twins_differ_only_in_the_skip_connections():
    torch.manual_seed(0)
    plain, residual = small_net(20, residual=False), small_net(20)
    assert count_params(plain) == count_params(residual)
    residual.load_state_dict(plain.state_dict())
    x = torch.randn(3, 1, 8, 8)
    assert plain(x).shape == residual(x).shape == (3, 10)
    assert not torch.allclose(plain.eval()(x), residual.eval()(x))
    conv_layers = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in plain.modules())
    assert conv_layers == 20
    with pytest.raises(ValueError, match="even"):
        small_net(7)


@pytest.mark.parametrize("k", [128, 192, 256, 384])
def test_alphago_policy_net(k):
    model = on_meta(alphago_policy, k=k)
    assert count_params(model) == policy_params(k)
    logits = model(torch.zeros(2, 48, 19, 19, device="meta"))
    assert logits.shape == (2, 361)
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.modules())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size[0] for c in convs] == [5] + [3] * 11 + [1]
