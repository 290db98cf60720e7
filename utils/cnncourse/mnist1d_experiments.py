"""The MNIST-1D experiments of lecture 07: training recipes, published numbers, shuffled
positions and translated signals.

Every model takes signals shaped (N, 1, 40); ``inputs(data)`` gives them in that shape.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from cnncourse.models import mnist1d as nets
from cnncourse.train import as_tensors, fit

# Test accuracy published with the dataset (Greydanus 2020, "Scaling down deep learning",
# and the mnist1d README): (regular positions, positions shuffled by one fixed permutation).
PAPER = {"logistic": (0.32, 0.32), "mlp": (0.68, 0.68), "cnn": (0.94, 0.56), "gru": (0.91, 0.57)}
PAPER_HUMAN = 0.96
# Prince, Understanding Deep Learning, §10.2.7 figure (100,000 SGD steps): test error read off the plot.
BOOK_TEST_ERROR = {"cnn": (0.14, 0.17), "fc": (0.40, 0.40)}


@dataclass
class Recipe:
    """How one model is built and trained: ``build()`` makes the net, ``fit`` holds ``fit()`` keywords."""

    build: callable
    fit: dict = field(default_factory=dict)
    paper: str = None  # key into PAPER


BOOK_SGD = dict(steps=100_000, batch_size=100, lr=0.01, optimizer="plain-sgd")
RECIPES = {
    "logistic": Recipe(nets.logistic, dict(steps=1500, batch_size=100, lr=1e-2), "logistic"),
    "fc": Recipe(nets.book_fc, dict(steps=1500, batch_size=100, lr=2e-3, schedule="onecycle"), "mlp"),
    "cnn": Recipe(nets.book_cnn, dict(steps=1500, batch_size=100, lr=2e-2, schedule="onecycle"), "cnn"),
    "gru": Recipe(nets.gru, dict(steps=1000, batch_size=100, lr=1e-2, schedule="onecycle"), "gru"),
    "repo_cnn": Recipe(nets.repo_cnn, dict(steps=6000, batch_size=100, lr=1e-2), "cnn"),
    "fast_cnn": Recipe(nets.fast_cnn, dict(steps=1500, batch_size=100, lr=1e-2, schedule="onecycle"), "cnn"),
}
# The book's long recipe (FULL mode): plain SGD, learning rate 0.01, batch 100, 100,000 steps.
BOOK_RECIPES = {"fc": Recipe(nets.book_fc, BOOK_SGD, "mlp"), "cnn": Recipe(nets.book_cnn, BOOK_SGD, "cnn")}


def inputs(data):
    """``(x, y)`` and ``(x_test, y_test)`` from a ``cnncourse.data.mnist1d()`` dict, x shaped (N, 1, 40)."""
    return (data["x"][:, None], data["y"]), (data["x_test"][:, None], data["y_test"])


def count_params(model):
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train(name, data, seed=0, device="cpu", full=False, **overrides):
    """Build and train the recipe ``name`` on ``data``; return ``(model, History)``.

    ``full=True`` uses the book's 100,000-step SGD recipe where one exists; ``overrides``
    change ``fit()`` keywords (e.g. ``steps=300``) or pass ``dropout`` to the constructor.
    """
    recipe = (BOOK_RECIPES if full and name in BOOK_RECIPES else RECIPES)[name]
    dropout = overrides.pop("dropout", None)
    torch.manual_seed(seed)
    model = recipe.build() if dropout is None else recipe.build(dropout=dropout)
    kwargs = {**recipe.fit, "desc": name, **overrides}
    if kwargs.get("optimizer") == "plain-sgd":  # the book's SGD has no momentum
        kwargs["optimizer"] = torch.optim.SGD(model.parameters(), lr=kwargs["lr"])
    train_set, test_set = inputs(data)
    hist = fit(model.to(device), train_set, test_set, seed=seed, device=device, **kwargs)
    return model, hist


def shuffle_positions(data, seed=0):
    """A copy of ``data`` whose 40 positions are reordered by one fixed random permutation.

    The same permutation is applied to every training and test signal, so no information is
    lost: a model that ignores neighbourhoods (logistic, fully connected) can learn it equally well.
    """
    perm = np.random.default_rng(seed).permutation(data["x"].shape[-1])
    return {**data, "x": data["x"][:, perm], "x_test": data["x_test"][:, perm], "perm": perm}


def translate(x, shift):
    """Signals circularly shifted by ``shift`` positions along the last axis (as MNIST-1D's generator does)."""
    return np.roll(x, shift, axis=-1)


@torch.no_grad()
def accuracy_vs_shift(model, x, y, shifts):
    """Test accuracy of ``model`` on signals ``x`` (N, 40) translated by each of ``shifts``."""
    model.eval()
    device = next(model.parameters()).device
    accs = []
    for shift in shifts:
        X, Y = as_tensors(translate(x, shift)[:, None], y, device)
        accs.append((model(X).argmax(1) == Y).float().mean().item())
    return np.array(accs)


def results_table(rows):
    """A Markdown table: measured accuracy next to the paper's, regular and shuffled positions.

    ``rows``: dicts with ``model``, ``params``, ``recipe`` (a RECIPES key), ``acc`` and optionally
    ``shuffled`` (measured accuracies in [0, 1]) and ``seconds``.
    """
    def pct(v):
        return "–" if v is None else f"{100 * v:.0f} %"

    lines = ["| model | parameters | measured | paper | shuffled: measured | shuffled: paper | seconds |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        paper = PAPER.get(RECIPES[row["recipe"]].paper, (None, None))
        seconds = row.get("seconds")
        lines.append(f"| {row['model']} | {row['params']:,} | {pct(row['acc'])} | {pct(paper[0])} | "
                     f"{pct(row.get('shuffled'))} | {pct(paper[1])} | "
                     f"{'–' if seconds is None else f'{seconds:.1f}'} |")
    return "\n".join(lines)
