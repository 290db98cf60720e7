"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to
document recognition", Proc. IEEE 86(11)), in two versions.

- ``lenet5()``: the modern trainable reading (ReLU, max pooling, full C3, a linear output
  layer trained with cross-entropy): 61,706 parameters.
- ``lenet5_paper()``: the network as the paper describes it: scaled tanh, trainable
  subsampling layers (one coefficient and one bias per map), the sparse C3 connection table
  (Table I), and a Euclidean RBF output layer whose 840 parameters are fixed. Its trainable
  parameters are the paper's 60,000, layer by layer (``PAPER_TRAINABLE_PARAMS``).
"""

from collections import OrderedDict

import torch
from torch import nn

# Table I of the paper: which of the 6 S2 maps each of the 16 C3 maps reads.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

# Trainable parameters per layer as stated in section II-B of the paper (total 60,000).
PAPER_TRAINABLE_PARAMS = {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164}


def lenet5(input_size=28, num_classes=10):
    """Modern LeNet-5 for ``(N, 1, input_size, input_size)`` digits, 28 or 32 pixels wide.

    A 28x28 input is zero-padded by 2 in the first convolution, which gives the 32x32 field
    of the paper. Layers are named (``c1``, ``s2``, ``c3``, ``s4``, ``f5``, ``f6``, ``out``) so
    that ``model.c1.weight`` gives the learned first-layer filters.
    """
    if input_size not in (28, 32):
        raise ValueError(f"lenet5 takes 28x28 or 32x32 inputs, got input_size={input_size}")
    return nn.Sequential(OrderedDict([
        ("c1", nn.Conv2d(1, 6, 5, padding=(32 - input_size) // 2)), ("relu1", nn.ReLU()),
        ("s2", nn.MaxPool2d(2)),
        ("c3", nn.Conv2d(6, 16, 5)), ("relu3", nn.ReLU()),
        ("s4", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("f5", nn.Linear(16 * 5 * 5, 120)), ("relu5", nn.ReLU()),
        ("f6", nn.Linear(120, 84)), ("relu6", nn.ReLU()),
        ("out", nn.Linear(84, num_classes)),
    ]))


class ScaledTanh(nn.Module):
    """The paper's squashing function f(a) = A tanh(S a) with A = 1.7159, S = 2/3."""

    def forward(self, x):
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """S2/S4: sum each 2x2 block, multiply by a trainable coefficient, add a trainable bias
    (one of each per map, so ``2 * channels`` parameters)."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), 0.25))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        block_sum = 4 * nn.functional.avg_pool2d(x, 2)
        return block_sum * self.weight[:, None, None] + self.bias[:, None, None]


class SparseConv(nn.Module):
    """C3: output map j is a 5x5 convolution over only the input maps ``table[j]``.

    One small convolution per output map, so the parameter count is exactly the paper's.
    """

    def __init__(self, table, kernel_size=5):
        super().__init__()
        self.table = [list(inputs) for inputs in table]
        self.maps = nn.ModuleList(nn.Conv2d(len(inputs), 1, kernel_size) for inputs in self.table)

    def forward(self, x):
        return torch.cat([conv(x[:, inputs]) for conv, inputs in zip(self.maps, self.table)], dim=1)


class EuclideanRBF(nn.Module):
    """Output layer: y_i = sum_j (x_j - w_ij)^2, with fixed +-1 prototypes (a buffer).

    The paper drew its prototypes as 7x12 bitmaps of the characters; here they are a seeded
    random +-1 code. ``forward`` returns ``-y`` so that the largest score is the prediction and
    the output can be fed to ``cross_entropy``.
    """

    def __init__(self, in_features=84, num_classes=10, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        code = torch.randint(0, 2, (num_classes, in_features), generator=generator) * 2.0 - 1.0
        self.register_buffer("prototypes", code)

    def forward(self, x):
        return -((x[:, None, :] - self.prototypes) ** 2).sum(-1)


def lenet5_paper(num_classes=10):
    """LeNet-5 as in LeCun et al. (1998) for ``(N, 1, 32, 32)`` inputs (pad MNIST by 2).

    Layers are named as in the paper: ``C1, S2, C3, S4, C5, F6, OUTPUT``; the trainable
    parameters per layer equal ``PAPER_TRAINABLE_PARAMS``.
    """
    return nn.Sequential(OrderedDict([
        ("C1", nn.Conv2d(1, 6, 5)), ("act1", ScaledTanh()),
        ("S2", Subsampling(6)), ("act2", ScaledTanh()),
        ("C3", SparseConv(C3_TABLE)), ("act3", ScaledTanh()),
        ("S4", Subsampling(16)), ("act4", ScaledTanh()),
        ("C5", nn.Conv2d(16, 120, 5)), ("act5", ScaledTanh()),
        ("flatten", nn.Flatten()),
        ("F6", nn.Linear(120, 84)), ("act6", ScaledTanh()),
        ("OUTPUT", EuclideanRBF(84, num_classes)),
    ]))


def trainable_params_by_layer(model):
    """Trainable parameters of each named child of ``model`` that has any: {name: count}."""
    counts = {name: sum(p.numel() for p in child.parameters() if p.requires_grad)
              for name, child in model.named_children()}
    return {name: count for name, count in counts.items() if count}
