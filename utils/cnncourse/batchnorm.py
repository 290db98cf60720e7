"""Batch normalization (Ioffe & Szegedy 2015) in NumPy, and a deep 1D CNN to measure it on (lecture 06).

Per channel c (axis 1 of an (N, C) or (N, C, L) or (N, C, H, W) batch), over every other axis:

    training: mu, var = mean and *biased* variance of the batch
              y = gamma * (x - mu) / sqrt(var + eps) + beta
              running_mean <- (1 - momentum) * running_mean + momentum * mu
              running_var  <- (1 - momentum) * running_var  + momentum * var * n / (n - 1)
    eval:     the same y with running_mean and running_var in place of mu and var

exactly as ``torch.nn.BatchNorm1d`` / ``BatchNorm2d`` do (they store the *unbiased* variance,
n values per channel, in the running estimate).
"""

import numpy as np
from torch import nn


def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v, ndim):
    """A (C,) vector shaped to broadcast against an ndim-dimensional batch (N, C, ...)."""
    return np.asarray(v, dtype=np.float64).reshape((1, -1) + (1,) * (ndim - 2))


def batch_statistics(x):
    """Per-channel mean and biased variance of a batch (N, C, ...), and the count n per channel."""
    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=_axes(x)), x.var(axis=_axes(x)), x.size // x.shape[1]


def normalize(x, mean, var, gamma, beta, eps=1e-5):
    """``gamma * (x - mean) / sqrt(var + eps) + beta``, every (C,) vector applied along axis 1."""
    x = np.asarray(x, dtype=np.float64)
    shaped = [_per_channel(v, x.ndim) for v in (mean, var, gamma, beta)]
    mean, var, gamma, beta = shaped
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    """One batch-norm step: returns ``(y, running_mean, running_var)`` (new arrays; inputs untouched).

    In training mode y uses the batch's statistics and the running estimates move towards them
    by ``momentum``; in eval mode y uses the running estimates, which stay as they are.
    """
    running_mean = np.array(running_mean, dtype=np.float64)
    running_var = np.array(running_var, dtype=np.float64)
    if not training:
        return normalize(x, running_mean, running_var, gamma, beta, eps), running_mean, running_var
    mean, var, n = batch_statistics(x)
    if n < 2:
        raise ValueError("training-mode batch norm needs more than one value per channel")
    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return normalize(x, mean, var, gamma, beta, eps), running_mean, running_var


def deep_cnn1d(depth=8, width=32, batch_norm=False, length=40, classes=10):
    """``depth`` convolutions (kernel 3, padding 1), each followed by [BatchNorm1d and] ReLU, then a
    linear layer over all positions. Input (N, 1, length). Without batch norm the convolutions keep
    their bias; with it the bias is dropped (the norm's beta takes its place)."""
    layers, channels = [], 1
    for _ in range(depth):
        layers.append(nn.Conv1d(channels, width, 3, padding=1, bias=not batch_norm))
        layers += [nn.BatchNorm1d(width), nn.ReLU()] if batch_norm else [nn.ReLU()]
        channels = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * length, classes))
