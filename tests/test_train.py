import numpy as np
import torch
from torch import nn

from cnncourse.train import evaluate, fit, make_optimizer


def _blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)) + 3 * y[:, None]
    return x.astype(np.float32), y


def test_fit_learns_and_returns_history():
    x, y = _blobs()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    hist = fit(model, (x, y), (x[:100], y[:100]), steps=200, lr=0.05, eval_every=50, progress=False)
    assert hist.steps == [50, 100, 150, 200]
    assert len(hist.train_loss) == len(hist.test_acc) == 4
    assert hist.test_acc[-1] > 0.9 and hist.train_loss[-1] < hist.train_loss[0]
    assert hist.seconds > 0 and "test acc" in hist.summary()
    assert model.training


def test_fit_is_seeded():
    x, y = _blobs()
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = nn.Linear(2, 2)
        runs.append(fit(model, (x, y), steps=30, seed=5, progress=False).train_loss)
    assert runs[0] == runs[1]


def test_evaluate_restores_mode_and_counts():
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(2, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        model[1].bias.zero_()
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    loss, acc = evaluate(model, x, torch.tensor([0, 1, 1]))
    assert abs(acc - 2 / 3) < 1e-9 and loss > 0 and model.training


def test_unknown_optimizer_is_explained():
    try:
        make_optimizer(nn.Linear(1, 1), "adagrad")
    except ValueError as err:
        assert "adagrad" in str(err)
    else:
        raise AssertionError("expected ValueError")
