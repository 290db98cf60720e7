"""The picture of lecture 06: dL/dx of a 1D convolution as the FLIPPED kernel sliding over the
upstream gradient (zero-stuffed for stride > 1, zero-padded by K-1 at both ends).

``flipped_kernel(grad_out, kernel, positions, stride)`` draws one panel per input position p in
``positions``, three rows of cells each: the stuffed and padded upstream gradient (added zeros in
grey), the flipped kernel under the window it covers, and dL/dx with cell p outlined and its
value, the sum of the products. Valid convolution (no forward padding), single channel.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .backward import dilate

KERNEL = "tab:orange"
GRADIENT = "tab:blue"
ADDED = "0.6"


def _label(value):
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _signed(value):
    return f"({_label(value)})" if value < 0 else _label(value)


def _row(ax, values, y, start=0, color=None, added=None, outline=None):
    for j, v in enumerate(values):
        face = color if color else "white"
        ax.add_patch(Rectangle((start + j, y), 1, 1, facecolor=face, alpha=0.35 if color else 1,
                               edgecolor="0.5", linewidth=0.8))
        grey = added is not None and added[j]
        ax.text(start + j + 0.5, y + 0.5, _label(v), ha="center", va="center", fontsize=9,
                color=ADDED if grey else "black")
    if outline is not None:
        ax.add_patch(Rectangle((start + outline, y), 1, 1, fill=False, edgecolor=GRADIENT, linewidth=2.5))


def flipped_kernel(grad_out, kernel, positions, stride=1):
    """The figure described in the module docstring; returns it."""
    grad_out, kernel = np.asarray(grad_out, dtype=float), np.asarray(kernel, dtype=float)
    k = len(kernel)
    stuffed = dilate(grad_out, stride)
    padded = np.pad(stuffed, k - 1)
    original = np.zeros(len(padded), bool)
    original[k - 1:k - 1 + len(stuffed):stride] = True
    flipped = kernel[::-1]
    grad_x = np.correlate(padded, flipped, mode="valid")          # length (W_out - 1) S + K
    fig, axes = plt.subplots(len(positions), 1, squeeze=False, figsize=(0.5 * len(padded) + 2.6, 1.9 * len(positions)))
    for p, ax in zip(positions, axes[:, 0]):
        _row(ax, padded, 0, added=~original)
        ax.add_patch(Rectangle((p, 0), k, 1, fill=False, edgecolor=KERNEL, linewidth=2.5))
        _row(ax, flipped, 1.3, start=p, color=KERNEL)
        _row(ax, grad_x, 2.6, start=k - 1, outline=p)
        terms = " + ".join(f"{_signed(a)}·{_signed(b)}" for a, b in zip(padded[p:p + k], flipped))
        ax.text(len(padded) + 0.3, 3.1, f"dL/dx[{p}] = {terms} = {_label(grad_x[p])}", va="center", fontsize=9,
                color=GRADIENT)
        for y, name in [(0.5, "upstream dL/dz\n(stuffed, padded)"), (1.8, "flipped kernel"), (3.1, "dL/dx")]:
            ax.text(-0.4, y, name, ha="right", va="center", fontsize=9)
        ax.set_xlim(-0.2, len(padded) + 0.2)
        ax.set_ylim(3.8, -0.2)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle(f"dL/dx: the flipped kernel {_label_list(flipped)} slides over the upstream gradient "
                 f"(stride {stride}; grey: zeros added)", fontsize=11)
    fig.tight_layout()
    return fig


def _label_list(values):
    return "[" + ", ".join(_label(v) for v in values) + "]"
