"""VGG (Simonyan & Zisserman, 2015): stacks of 3x3 convolutions and a big fully connected head.

``vgg(depth)`` builds configurations A (11), D (16) and E (19) of the paper's Table 1.
The net has a ``features`` part (convolutions and max pools, 224x224x3 -> 7x7x512) and a
``classifier`` part (Linear(25088, 4096) -> Linear(4096, 4096) -> Linear(4096, classes)),
so that lectures can take the two apart. No adaptive pooling: the input must be 224x224.
"""

import torch
from torch import nn

# Output channels of each 3x3 convolution; "M" is a 2x2 max pool with stride 2.
CONFIGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
         512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """A VGG net: ``features`` (conv stack) then ``classifier`` (three FC layers)."""

    def __init__(self, config, num_classes=1000, dropout=0.5):
        super().__init__()
        layers, channels = [], 3
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
                channels = item
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(channels * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def vgg(depth=16, num_classes=1000):
    """VGG with 11, 13, 16 or 19 weight layers (the paper's configurations A, B, D, E)."""
    if depth not in CONFIGS:
        raise ValueError(f"depth must be one of {sorted(CONFIGS)}, got {depth}")
    return VGG(CONFIGS[depth], num_classes)


def vgg11(num_classes=1000):
    """VGG-11 (configuration A): 132,863,336 parameters with 1000 classes."""
    return vgg(11, num_classes)


def vgg16(num_classes=1000):
    """VGG-16 (configuration D): 138,357,544 parameters with 1000 classes."""
    return vgg(16, num_classes)


def vgg19(num_classes=1000):
    """VGG-19 (configuration E): 143,667,240 parameters with 1000 classes."""
    return vgg(19, num_classes)
