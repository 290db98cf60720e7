"""AlphaGo's policy network (Silver et al., Nature 2016, Methods "Neural network architecture").

Input: a 19x19 board described by 48 feature planes. Layer 1: k filters 5x5 (input padded to
23x23); layers 2-12: k filters 3x3 (padded to 21x21); layer 13: one 1x1 filter with a separate
bias for each of the 361 points; softmax over the points. Every layer keeps the 19x19 size and
there is no pooling: the output is one score per board point. The match version used k = 192.
"""

import torch
from torch import nn


class PositionBias(nn.Module):
    """Adds a learned bias per board position (the paper's "different bias for each position")."""

    def __init__(self, size=19):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, 1, size, size))

    def forward(self, x):
        return x + self.bias


class PolicyNet(nn.Module):
    """Board planes (N, 48, 19, 19) -> move logits (N, 361); softmax gives move probabilities."""

    def __init__(self, k=192, planes=48, layers=13, size=19):
        super().__init__()
        body = [nn.Conv2d(planes, k, 5, padding=2), nn.ReLU(inplace=True)]
        for _ in range(layers - 2):
            body += [nn.Conv2d(k, k, 3, padding=1), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*body)
        self.head = nn.Sequential(nn.Conv2d(k, 1, 1, bias=False), PositionBias(size),
                                  nn.Flatten())

    def forward(self, x):
        return self.head(self.body(x))


def alphago_policy(k=192):
    """The policy network with ``k`` filters per hidden layer (192 in the match version)."""
    return PolicyNet(k)


def policy_params(k=192, planes=48, layers=13, size=19):
    """Closed-form parameter count of the policy network, to check the built model against."""
    first = 5 * 5 * planes * k + k
    middle = (layers - 2) * (3 * 3 * k * k + k)
    return first + middle + k + size * size
