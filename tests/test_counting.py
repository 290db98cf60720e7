"""cnncourse.counting: parameters, MACs (checked against torch's FlopCounterMode, which counts
2 FLOPs per MAC), activation memory and timing helpers."""

import pytest
import torch
from torch import nn

from cnncourse.counting import (count_params, flop_counter_macs, forward_ms, layer_macs, on_meta,
                                profile, train_throughput)
from cnncourse.models import (alexnet, alexnet_paper, alphago_policy, googlenet, lenet5,
                              lenet5_paper, resnet18, resnet50, vgg16)

IMAGENET = (1, 3, 224, 224)


@pytest.mark.parametrize("constructor, kwargs, size, gmacs", [
    (alexnet, {}, IMAGENET, 0.714),
    (vgg16, {}, IMAGENET, 15.47),
    (googlenet, {}, IMAGENET, 1.50),
    (resnet18, {}, IMAGENET, 1.81),
    (resnet50, {}, IMAGENET, 4.09),
    (alexnet_paper, {}, (1, 3, 227, 227), None),
    (googlenet, {"paper": True}, IMAGENET, None),
    (alphago_policy, {}, (1, 48, 19, 19), None),
    (lenet5, {}, (1, 1, 28, 28), None),
    (lenet5_paper, {}, (1, 1, 32, 32), None),
], ids=lambda v: getattr(v, "__name__", None))
def test_macs_match_torch_flop_counter(constructor, kwargs, size, gmacs):
    model = on_meta(constructor, **kwargs)
    counted = profile(model, size)
    assert counted.macs == flop_counter_macs(model, size)
    assert counted.params == count_params(model)
    if gmacs is not None:
        assert round(counted.macs / 1e9, 3 if gmacs < 1 else 2) == gmacs


def test_layer_macs_by_hand():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    out = conv(torch.zeros(2, 3, 5, 5))
    assert layer_macs(conv, None, out) == 2 * 8 * 5 * 5 * (3 * 3 * 3)
    grouped = nn.Conv2d(4, 6, 3, groups=2)
    out = grouped(torch.zeros(1, 4, 5, 5))
    assert layer_macs(grouped, None, out) == 6 * 3 * 3 * (2 * 3 * 3)
    linear = nn.Linear(10, 7)
    assert layer_macs(linear, None, linear(torch.zeros(4, 10))) == 4 * 7 * 10
    assert layer_macs(nn.ReLU(), None, torch.zeros(3)) == 0


def test_profile_counts_new_tensors_and_skips_views_and_in_place_ops():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(inplace=True), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(), nn.Linear(16, 3))
    p = profile(model, (2, 1, 4, 4))
    assert [layer.activations for layer in p.layers] == [2 * 4 * 16, 0, 2 * 4 * 16, 2 * 16,
                                                         0, 0, 2 * 3]
    assert p.activation_bytes == 4 * (2 * 16 + 2 * 4 * 16 * 2 + 2 * 16 + 2 * 3)
    assert p.weight_bytes == 4 * count_params(model)
    assert p.layers[0].output_shape == (2, 4, 4, 4) and p.layers[0].name == "0"
    assert p.by_kind() == {"Conv2d": 40, "Linear": 51}
    assert p.by_kind("macs") == {"Conv2d": 2 * 4 * 16 * 9, "Linear": 2 * 3 * 16}


def test_profile_keeps_mode_and_counts_unused_parameters():
    class WithSpare(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = nn.Linear(3, 2), nn.Linear(5, 5)

        def forward(self, x):
            return self.used(x)

    model = WithSpare().train()
    p = profile(model, (1, 3))
    assert model.training
    assert p.params == count_params(model) == 8 + 30
    assert p.layers[-1].name == "(not called)" and p.layers[-1].params == 30


def test_vgg16_parameters_live_in_the_first_fc_layer():
    p = profile(on_meta(vgg16))
    first_fc = next(layer for layer in p.layers if layer.kind == "Linear")
    assert first_fc.params == 25088 * 4096 + 4096
    assert first_fc.params / p.params > 0.74
    assert p.by_kind("macs")["Conv2d"] / p.macs > 0.99


def test_count_params_trainable_only():
    model = nn.Linear(4, 2)
    model.bias.requires_grad_(False)
    assert count_params(model) == 10 and count_params(model, trainable_only=True) == 8


def test_timing_helpers_on_a_tiny_net():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 5))
    ms = forward_ms(model, (1, 3, 16, 16), repeats=2)
    assert ms > 0 and not model.training  # a time: reported by benchmarks, never bounded in tests
    rate = train_throughput(model, batch_size=4, image_size=16, repeats=2, num_classes=5)
    assert rate > 0 and all(p.grad is None for p in model.parameters())
