"""Translation invariance and equivariance, measured numerically.

f is *invariant* to a shift T when f(T x) = f(x), and *equivariant* when f(T x) = T f(x).
Signals are shifted circularly so that no value falls off the edge and the comparison
is exact for circularly padded convolutions.
"""

import numpy as np
import torch
from torch import nn


def shift(x, k):
    """Shift the last axis of ``x`` (NumPy array or tensor) right by ``k`` positions, circularly."""
    return torch.roll(x, k, dims=-1) if torch.is_tensor(x) else np.roll(x, k, axis=-1)


def _as_numpy(y):
    return y.detach().cpu().numpy() if torch.is_tensor(y) else np.asarray(y)


def invariance_error(f, x, k):
    """max |f(T_k x) - f(x)|: zero when ``f`` is invariant to a shift by ``k``."""
    return float(np.abs(_as_numpy(f(shift(x, k))) - _as_numpy(f(x))).max())


def equivariance_error(f, x, k):
    """max |f(T_k x) - T_k f(x)|: zero when ``f`` is equivariant to a shift by ``k``."""
    return float(np.abs(_as_numpy(f(shift(x, k))) - _as_numpy(shift(f(x), k))).max())


def demo_layers(length=32, channels=4, kernel_size=5, seed=0):
    """Three seeded layers on signals of ``length``: a circular conv, conv + global average
    pooling, and a fully connected layer with as many outputs as inputs."""
    torch.manual_seed(seed)
    conv = nn.Conv1d(1, channels, kernel_size, padding=kernel_size // 2, padding_mode="circular")
    pooled = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten())
    fc = nn.Linear(length, length)
    return {"conv": conv, "conv + global pool": pooled, "fully connected": fc}


def bump(length=32, center=10, width=2.0):
    """A smooth test signal: a Gaussian bump plus a smaller dip, shape (1, 1, length)."""
    t = np.arange(length)
    x = np.exp(-0.5 * ((t - center) / width) ** 2) - 0.5 * np.exp(-0.5 * ((t - center - 6) / width) ** 2)
    return torch.tensor(x, dtype=torch.float32).reshape(1, 1, length)


def table(layers, x, shifts):
    """Rows (layer name, shift, invariance error, equivariance error) for each layer and shift.

    Equivariance is only defined when the output is a signal of the input's length.
    """
    rows = []
    with torch.no_grad():
        for name, layer in layers.items():
            f = (lambda v, layer=layer: layer(v.flatten(1))) if isinstance(layer, nn.Linear) else layer
            signal_out = f(x).shape[-1] == x.shape[-1]
            for k in shifts:
                eq = equivariance_error(f, x, k) if signal_out else float("nan")
                rows.append((name, k, invariance_error(f, x, k), eq))
    return rows
