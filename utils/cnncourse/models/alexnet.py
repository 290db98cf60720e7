"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012), in the paper's layout and the common one.

``alexnet_paper()`` follows the paper's Figure 2: 227x227 input, 96-256-384-384-256 filters,
local response normalisation, and the two-GPU split kept as grouped convolutions (conv2, conv4
and conv5 only see the half of the channels on their own GPU): 60,965,224 parameters.
``alexnet()`` is the single-GPU variant most libraries ship (64-192-384-256-256 filters, no
normalisation, 224x224 input): 61,100,840 parameters.
"""

import torch
from torch import nn


class AlexNet(nn.Module):
    """``features`` (convolutions), ``avgpool`` (to 6x6) and ``classifier`` (three FC layers)."""

    def __init__(self, features, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def alexnet(num_classes=1000):
    """The common single-GPU AlexNet for 224x224 inputs: 61,100,840 parameters."""
    features = nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
    )
    return AlexNet(features, num_classes)


def alexnet_paper(num_classes=1000):
    """The paper's two-GPU AlexNet for 227x227 inputs: 60,965,224 parameters.

    ``groups=2`` reproduces the split: a layer with groups=2 connects each GPU's half of
    the output only to the same GPU's half of the input (conv2, conv4, conv5); conv3 and
    the FC layers talk across GPUs.
    """
    def norm():
        return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)

    features = nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), norm(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), norm(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
    )
    return AlexNet(features, num_classes)
