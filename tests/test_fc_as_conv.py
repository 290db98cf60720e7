"""FC layers as convolutions: same outputs on the training size, a score map on larger inputs."""

import pytest
import torch
from torch import nn

from cnncourse import fc_as_conv
from cnncourse.models.vgg import VGG


def _small_valid_net(classes=5):
    """A VGG-style net without padding (feature stride 4): 22x22 input -> 8x4x4 features."""
    torch.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 8, 3), nn.ReLU(), nn.MaxPool2d(2))
    head = nn.Sequential(nn.Flatten(), nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(32, classes))
    return features.eval(), head.eval()


@torch.no_grad()
def test_same_output_on_training_size_and_sliding_equivalence():
    features, head = _small_valid_net()
    full = fc_as_conv.fully_convolutional(features, head, (8, 4, 4)).eval()
    x = torch.randn(3, 3, 22, 22)
    torch.testing.assert_close(full(x)[:, :, 0, 0], head(features(x)))
    big = torch.randn(2, 3, 30, 30)
    scores = full(big)
    assert scores.shape == (2, 5, 3, 3)
    for i in range(3):
        for j in range(3):
            crop = big[:, :, 4 * i:4 * i + 22, 4 * j:4 * j + 22]
            torch.testing.assert_close(scores[:, :, i, j], head(features(crop)))


@torch.no_grad()
def test_vgg_layout_224_and_384():
    torch.manual_seed(0)
    net = VGG([4, "M", 8, "M", 8, "M", 8, "M", 8, "M"], num_classes=7).eval()
    full = fc_as_conv.fully_convolutional(net.features, net.classifier, (8, 7, 7)).eval()
    x = torch.randn(1, 3, 224, 224)
    torch.testing.assert_close(full(x).flatten(1), net(x), rtol=1e-4, atol=1e-6)
    big = torch.randn(1, 3, 384, 384)
    scores = full(big)
    assert scores.shape == (1, 7, 6, 6)
    fmap = net.features(big)  # (1, 8, 12, 12): the head applied to each 7x7 window
    for i, j in [(0, 0), (2, 5), (5, 5)]:
        window = fmap[:, :, i:i + 7, j:j + 7].flatten(1)
        torch.testing.assert_close(scores[:, :, i, j], net.classifier(window), rtol=1e-4, atol=1e-6)


def test_linear_to_conv_copies_weights_and_checks_sizes():
    linear = nn.Linear(2 * 3 * 3, 4)
    conv = fc_as_conv.linear_to_conv(linear, 2, 3)
    assert conv.weight.shape == (4, 2, 3, 3)
    x = torch.randn(5, 2, 3, 3)
    torch.testing.assert_close(conv(x).flatten(1), linear(x.flatten(1)))
    with pytest.raises(ValueError, match="cannot read"):
        fc_as_conv.linear_to_conv(linear, 3, 3)
    with pytest.raises(ValueError, match="square"):
        fc_as_conv.convolutionize(nn.Sequential(linear), (2, 3, 4))
