"""Networks for MNIST-1D (signals of length 40, 10 classes), all taking input of shape (N, 1, 40).

- ``book_cnn``: the convolutional net of Prince, *Understanding Deep Learning*, §10.2.7 (2,050 parameters).
- ``book_fc``: a fully connected net with the same depth and hidden sizes 285/135/60 (59,065 parameters).
- ``logistic``, ``gru`` and ``repo_cnn``: the baselines of the MNIST-1D paper (Greydanus 2020);
  ``repo_cnn`` is its repository's 5,210-parameter convolutional net.
- ``fast_cnn``: this course's net, built to train to >= 94 % test accuracy in seconds on a laptop CPU.

``dropout > 0`` puts ``nn.Dropout`` after every hidden activation (active only in ``model.train()``).
"""

import torch
from torch import nn

LENGTH, CLASSES = 40, 10


def _hidden(*layers, dropout=0.0):
    """Layers followed by ReLU (and Dropout when ``dropout > 0``)."""
    out = []
    for layer in layers:
        out += [layer, nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    return out


def book_cnn(channels=15, dropout=0.0):
    """Three valid convolutions (kernel 3, stride 2) and a linear layer: 40 -> 19 -> 9 -> 4 positions."""
    return nn.Sequential(
        *_hidden(nn.Conv1d(1, channels, 3, stride=2), nn.Conv1d(channels, channels, 3, stride=2),
                 nn.Conv1d(channels, channels, 3, stride=2), dropout=dropout),
        nn.Flatten(), nn.Linear(channels * 4, CLASSES))


def book_fc(hidden=(285, 135, 60), dropout=0.0):
    """Fully connected net with the CNN's hidden sizes (15x19, 15x9, 15x4 units) but no weight sharing."""
    sizes = (LENGTH, *hidden)
    return nn.Sequential(nn.Flatten(),
                         *_hidden(*(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])), dropout=dropout),
                         nn.Linear(sizes[-1], CLASSES))


def logistic():
    """Multinomial logistic regression: one linear layer on the 40 raw values."""
    return nn.Sequential(nn.Flatten(), nn.Linear(LENGTH, CLASSES))


def repo_cnn(channels=25):
    """The MNIST-1D repository's CNN: kernels 5/3/3, stride 2, padding 1: 40 -> 19 -> 10 -> 5 (5,210 params)."""
    return nn.Sequential(
        *_hidden(nn.Conv1d(1, channels, 5, stride=2, padding=1),
                 nn.Conv1d(channels, channels, 3, stride=2, padding=1),
                 nn.Conv1d(channels, channels, 3, stride=2, padding=1)),
        nn.Flatten(), nn.Linear(channels * 5, CLASSES))


class GRU(nn.Module):
    """Bidirectional GRU read along the 40 positions; all its outputs feed one linear layer."""

    def __init__(self, hidden=6, bidirectional=True):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True, bidirectional=bidirectional)
        self.linear = nn.Linear(LENGTH * hidden * (2 if bidirectional else 1), CLASSES)

    def forward(self, x):
        out, _ = self.gru(x.reshape(len(x), LENGTH, 1))
        return self.linear(out.flatten(1))


def gru(hidden=6, bidirectional=True):
    """The paper's GRU baseline."""
    return GRU(hidden, bidirectional)


def fast_cnn(channels=32, dropout=0.0):
    """The course's quick net (9,834 parameters): a stride-1 convolution (kernel 5), two stride-2
    convolutions, one more convolution, then the maximum over positions (global max pooling),
    so a feature counts wherever it appears along the signal."""
    c = channels
    return nn.Sequential(
        *_hidden(nn.Conv1d(1, c, 5, padding=2), nn.Conv1d(c, c, 3, stride=2, padding=1),
                 nn.Conv1d(c, c, 3, stride=2, padding=1), nn.Conv1d(c, c, 3, padding=1), dropout=dropout),
        nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(c, CLASSES))
