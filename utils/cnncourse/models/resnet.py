"""ResNet (He et al., 2016): basic and bottleneck residual blocks, ResNet-18/34/50/101/152.

The layout is the common one (torchvision, "ResNet v1.5"): batch norm after every
convolution, 1x1 projection shortcuts only where the shape changes, and in bottleneck
blocks the stride sits on the 3x3 convolution (the paper put it on the first 1x1; the
parameter count is the same, the MACs differ: 4.09 G instead of 3.86 G for ResNet-50).

``small_net(depth, residual)`` builds the small plain/residual twins of the degradation
experiment: identical layers, the only difference is the skip connection.
"""

from torch import nn


def conv_bn(cin, cout, kernel_size, stride=1):
    """Convolution without bias (batch norm supplies the shift) followed by batch norm."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, kernel_size // 2, bias=False),
                         nn.BatchNorm2d(cout))


class ResidualBlock(nn.Module):
    """output = ReLU(body(x) + shortcut(x)); ``residual=False`` drops the shortcut and gives
    the "plain" block with exactly the same layers."""

    expansion = 1

    def __init__(self, cin, width, stride=1, residual=True):
        super().__init__()
        cout = width * self.expansion
        self.body = self.make_body(cin, width, cout, stride)
        self.shortcut = _shortcut(cin, cout, stride) if residual else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.body(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class BasicBlock(ResidualBlock):
    """Two 3x3 convolutions (ResNet-18/34)."""

    @staticmethod
    def make_body(cin, width, cout, stride):
        return nn.Sequential(conv_bn(cin, width, 3, stride), nn.ReLU(inplace=True),
                             conv_bn(width, cout, 3))


class Bottleneck(ResidualBlock):
    """1x1 (reduce) -> 3x3 -> 1x1 (expand by 4): cheaper than two 3x3 at high channel counts
    (ResNet-50/101/152)."""

    expansion = 4

    @staticmethod
    def make_body(cin, width, cout, stride):
        return nn.Sequential(conv_bn(cin, width, 1), nn.ReLU(inplace=True),
                             conv_bn(width, width, 3, stride), nn.ReLU(inplace=True),
                             conv_bn(width, cout, 1))


def _shortcut(cin, cout, stride):
    """Identity when the shape is kept, else a strided 1x1 projection (option B of the paper)."""
    return nn.Identity() if stride == 1 and cin == cout else conv_bn(cin, cout, 1, stride)


class ResNet(nn.Module):
    """Stem (7x7/2 conv, 3x3/2 max pool), four stages of blocks, global average pool, one FC."""

    def __init__(self, block, blocks, num_classes=1000, residual=True):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 64, 7, 2), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, padding=1))
        stages, cin = [], 64
        for i, (width, count) in enumerate(zip((64, 128, 256, 512), blocks)):
            layers = []
            for j in range(count):
                layers.append(block(cin, width, 2 if (i > 0 and j == 0) else 1, residual))
                cin = width * block.expansion
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(cin, num_classes))

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


DEPTHS = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)),
          50: (Bottleneck, (3, 4, 6, 3)), 101: (Bottleneck, (3, 4, 23, 3)),
          152: (Bottleneck, (3, 8, 36, 3))}


def resnet(depth=50, num_classes=1000, residual=True):
    """ResNet-18, 34, 50, 101 or 152; ``residual=False`` removes every skip connection."""
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {sorted(DEPTHS)}, got {depth}")
    block, blocks = DEPTHS[depth]
    return ResNet(block, blocks, num_classes, residual)


def resnet18(num_classes=1000):
    """ResNet-18: 11,689,512 parameters with 1000 classes."""
    return resnet(18, num_classes)


def resnet34(num_classes=1000):
    """ResNet-34: 21,797,672 parameters with 1000 classes."""
    return resnet(34, num_classes)


def resnet50(num_classes=1000):
    """ResNet-50: 25,557,032 parameters with 1000 classes."""
    return resnet(50, num_classes)


def resnet152(num_classes=1000):
    """ResNet-152: 60,192,808 parameters with 1000 classes."""
    return resnet(152, num_classes)


class SmallNet(nn.Module):
    """A small CNN for 1-channel images: a 3x3 conv stem, ``blocks`` basic blocks at
    ``width`` channels (each two conv layers), global average pool, linear classifier.

    ``residual=False`` is the plain twin: the same layers, no skip connections.
    Depth in weight layers = 2 * blocks + 2.
    """

    def __init__(self, blocks=8, width=16, num_classes=10, residual=True):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(1, width, 3), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*[BasicBlock(width, width, residual=residual)
                                      for _ in range(blocks)])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(width, num_classes))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def small_net(depth=20, width=16, num_classes=10, residual=True):
    """The plain or residual twin with ``depth`` weight layers (depth = 2 * blocks + 2)."""
    if depth < 4 or depth % 2:
        raise ValueError(f"depth must be an even number >= 4, got {depth}")
    return SmallNet((depth - 2) // 2, width, num_classes, residual)
