"""GoogLeNet (Szegedy et al., 2015) and its Inception module.

Two layouts:
- ``googlenet()``: the common one shipped by libraries (torchvision): every convolution is
  conv (no bias) + batch norm + ReLU, and the branch the paper calls "5x5" uses a 3x3 kernel.
  6,624,904 parameters without the auxiliary classifiers.
- ``googlenet(paper=True)``: the paper's Table 1: convolutions with bias, no batch norm, true
  5x5 branches and local response normalisation in the stem: 6,998,552 parameters without the
  auxiliary classifiers.
Both counts leave the two auxiliary classifiers out (they are only used during training);
``aux=True`` adds them (each: 5x5 average pool stride 3, 1x1 conv to 128, FC 1024, FC classes).
"""

from functools import partial

import torch
from torch import nn

# name: (in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), from the paper's Table 1.
INCEPTION = {
    "3a": (192, 64, 96, 128, 16, 32, 32),
    "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64),
    "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64),
    "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


def conv_block(cin, cout, kernel_size, stride=1, batch_norm=True):
    """Conv + ReLU, with batch norm in between (and no conv bias) when ``batch_norm``."""
    padding = kernel_size // 2
    if batch_norm:
        return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding, bias=False),
                             nn.BatchNorm2d(cout, eps=0.001), nn.ReLU(inplace=True))
    return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding),
                         nn.ReLU(inplace=True))


class Inception(nn.Module):
    """Four parallel branches concatenated along channels: 1x1; 1x1 -> 3x3; 1x1 -> 5x5;
    3x3 max pool -> 1x1. The 1x1 "reduce" convolutions keep the wide branches cheap."""

    def __init__(self, cin, c1, c3r, c3, c5r, c5, pool_proj, five=5, batch_norm=True):
        super().__init__()
        block = partial(conv_block, batch_norm=batch_norm)
        self.branch1 = block(cin, c1, 1)
        self.branch3 = nn.Sequential(block(cin, c3r, 1), block(c3r, c3, 3))
        self.branch5 = nn.Sequential(block(cin, c5r, 1), block(c5r, c5, five))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, padding=1, ceil_mode=True),
                                         block(cin, pool_proj, 1))
        self.out_channels = c1 + c3 + c5 + pool_proj

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x),
                          self.branch_pool(x)], dim=1)


class AuxClassifier(nn.Module):
    """The paper's auxiliary head on 4a and 4d (training only)."""

    def __init__(self, cin, num_classes, batch_norm=True):
        super().__init__()
        self.pool = nn.AvgPool2d(5, stride=3)  # 14x14 -> 4x4
        self.conv = conv_block(cin, 128, 1, batch_norm=batch_norm)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(128 * 4 * 4, 1024), nn.ReLU(inplace=True),
                                nn.Dropout(0.7), nn.Linear(1024, num_classes))

    def forward(self, x):
        return self.fc(self.conv(self.pool(x)))


class GoogLeNet(nn.Module):
    """Stem, nine Inception modules, global average pooling and one FC layer.

    In training mode with ``aux=True`` the forward returns (logits, aux1, aux2).
    """

    def __init__(self, num_classes=1000, paper=False, aux=False):
        super().__init__()
        bn, five = not paper, 5 if paper else 3
        block = partial(conv_block, batch_norm=bn)
        pool = partial(nn.MaxPool2d, 3, 2, ceil_mode=True)
        lrn = partial(nn.LocalResponseNorm, 5, alpha=1e-4, beta=0.75) if paper else nn.Identity
        self.stem = nn.Sequential(block(3, 64, 7, stride=2), pool(), lrn(),
                                  block(64, 64, 1), block(64, 192, 3), lrn(), pool())
        make = {name: Inception(*cfg, five=five, batch_norm=bn) for name, cfg in INCEPTION.items()}
        self.stage3 = nn.Sequential(make["3a"], make["3b"], pool())
        self.inception4a = make["4a"]
        self.stage4 = nn.Sequential(make["4b"], make["4c"], make["4d"])
        last_pool = pool() if paper else nn.MaxPool2d(2, 2, ceil_mode=True)
        self.inception4e = nn.Sequential(make["4e"], last_pool)
        self.stage5 = nn.Sequential(make["5a"], make["5b"])
        self.aux1 = AuxClassifier(512, num_classes, bn) if aux else None
        self.aux2 = AuxClassifier(528, num_classes, bn) if aux else None
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Dropout(0.4 if paper else 0.2), nn.Linear(1024, num_classes))

    def forward(self, x):
        x = self.inception4a(self.stage3(self.stem(x)))
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.stage4(x)
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        logits = self.head(self.stage5(self.inception4e(x)))
        return (logits, aux1, aux2) if aux1 is not None else logits


def googlenet(num_classes=1000, paper=False, aux=False):
    """GoogLeNet; see the module docstring for the two layouts and their parameter counts."""
    return GoogLeNet(num_classes, paper=paper, aux=aux)
