"""Transfer learning: a small CNN whose feature extractor and classifier head are separate,
so the features learned on one task can be frozen or fine-tuned under a new head."""

import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    """``features``: two 3x3 conv + ReLU + 2x2 max-pool stages (1 -> width -> 2 width channels);
    ``head``: a linear classifier on the flattened (2 width, size/4, size/4) maps."""

    def __init__(self, in_channels=1, num_classes=10, width=16, size=28):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.head = nn.Linear(2 * width * (size // 4) ** 2, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


def new_head(model, num_classes):
    """Replace ``model.head`` by a freshly initialised linear layer; returns the model."""
    model.head = nn.Linear(model.head.in_features, num_classes).to(model.head.weight.device)
    return model


def freeze(module, frozen=True):
    """Stop (or restart) gradient updates of every parameter in ``module``; returns it."""
    for p in module.parameters():
        p.requires_grad_(not frozen)
    return module


def count_trainable(model):
    """Number of parameters the optimizer will update."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def reframe(images, size=28, inner=20):
    """Resize (N, C, h, w) images to ``inner`` x ``inner`` (bilinear) and pad with zeros to
    ``size`` x ``size``: how MNIST frames its digits (20x20 box in a 28x28 field)."""
    images = F.interpolate(images, size=(inner, inner), mode="bilinear", align_corners=False)
    pad = (size - inner) // 2
    return F.pad(images, (pad, size - inner - pad, pad, size - inner - pad))
