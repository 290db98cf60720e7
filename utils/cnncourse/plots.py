"""One consistent look for every figure in the course, and a few plots lectures share."""

import matplotlib.pyplot as plt
import numpy as np

STYLE = {
    "figure.figsize": (7.0, 3.2),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_style():
    """Apply the course style to matplotlib (idempotent)."""
    plt.rcParams.update(STYLE)


def signal(ax, values, label=None, title=None, **kwargs):
    """A 1D signal drawn as stems over its integer positions; returns the axis."""
    values = np.asarray(values)
    markerline, stemlines, _ = ax.stem(np.arange(len(values)), values, basefmt=" ", label=label)
    plt.setp(stemlines, **{"linewidth": 1.2, **kwargs})
    ax.set_xlabel("position")
    if title:
        ax.set_title(title)
    return ax


def matrix(ax, values, title=None, xlabel="input position", ylabel="output position", cmap="RdBu_r"):
    """A weight matrix as an image, zero in white, symmetric colour range; returns the image."""
    values = np.asarray(values, dtype=float)
    limit = np.abs(values).max() or 1.0
    image = ax.imshow(values, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(False)
    if title:
        ax.set_title(title)
    return image


def history(ax_loss, ax_acc, hist, label=""):
    """Training curves from a ``cnncourse.train.History``: loss and accuracy per evaluation."""
    steps = hist.steps
    ax_loss.plot(steps, hist.train_loss, label=f"{label} train".strip())
    ax_acc.plot(steps, hist.train_acc, label=f"{label} train".strip())
    if hist.test_acc:
        ax_loss.plot(steps, hist.test_loss, "--", label=f"{label} test".strip())
        ax_acc.plot(steps, hist.test_acc, "--", label=f"{label} test".strip())
    ax_loss.set(xlabel="step", ylabel="loss")
    ax_acc.set(xlabel="step", ylabel="accuracy", ylim=(0, 1))
    ax_acc.legend()
