"""MNIST-1D: offline data, the lecture's networks (exact parameter counts and shapes), the
experiment helpers, and a short training in which the CNN clearly beats the fully connected net."""

import socket
import urllib.request

import numpy as np
import pytest
import torch

from cnncourse import data
from cnncourse import mnist1d_experiments as ex
from cnncourse.models import mnist1d as nets


@pytest.fixture(scope="module")
def mnist():
    return data.mnist1d()


def _params(layer):
    return sum(p.numel() for p in layer.parameters())


def test_book_cnn_has_2050_parameters_in_the_books_layers():
    model = nets.book_cnn()
    assert ex.count_params(model) == 2050
    convs_and_linear = [m for m in model if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]
    assert [_params(m) for m in convs_and_linear] == [60, 690, 690, 610]
    shapes, h = [], torch.zeros(100, 1, 40)
    for layer in model:
        h = layer(h)
        if isinstance(layer, torch.nn.Conv1d):
            shapes.append(tuple(h.shape[1:]))
    assert shapes == [(15, 19), (15, 9), (15, 4)]
    assert h.shape == (100, 10)


def test_fully_connected_net_has_59065_parameters_not_150185():
    model = nets.book_fc()
    assert ex.count_params(model) == 59_065
    assert [m.out_features for m in model if isinstance(m, torch.nn.Linear)] == [285, 135, 60, 10]


@pytest.mark.parametrize("build, count", [(nets.repo_cnn, 5210), (nets.logistic, 410), (nets.fast_cnn, 9834)])
def test_baseline_parameter_counts(build, count):
    assert ex.count_params(build()) == count


@pytest.mark.parametrize("name", sorted(ex.RECIPES))
def test_every_recipe_maps_a_batch_to_ten_logits(name):
    assert ex.RECIPES[name].build()(torch.zeros(7, 1, 40)).shape == (7, 10)


def test_dropout_is_inserted_and_only_active_in_train_mode():
    model = nets.book_fc(dropout=0.5)
    assert sum(isinstance(m, torch.nn.Dropout) for m in model) == 3
    assert ex.count_params(model) == 59_065
    x = torch.randn(4, 1, 40)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    torch.manual_seed(0)
    assert not torch.equal(model(x), model(x))


def test_generation_is_offline(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setenv("CNNCOURSE_CACHE", str(tmp_path))
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    fresh = data.mnist1d(cache=False)
    assert not list(tmp_path.iterdir())
    assert fresh["x"].shape == (4000, 40) and fresh["x"].dtype == np.float32
    assert fresh["x_test"].shape == (1000, 40) and fresh["y"].dtype == np.int64
    assert sorted(np.unique(fresh["y"])) == list(range(10))
    cached = data.mnist1d()
    assert len(list(tmp_path.glob("*.npz"))) == 1
    again = data.mnist1d()
    for key in ("x", "y", "x_test", "y_test"):
        assert np.array_equal(fresh[key], cached[key]) and np.array_equal(cached[key], again[key])


def test_shuffled_positions_use_one_permutation_for_train_and_test(mnist):
    shuffled = ex.shuffle_positions(mnist, seed=3)
    perm = shuffled["perm"]
    assert sorted(perm) == list(range(40)) and not np.array_equal(perm, np.arange(40))
    assert np.array_equal(shuffled["x"], mnist["x"][:, perm])
    assert np.array_equal(shuffled["x_test"], mnist["x_test"][:, perm])
    assert np.array_equal(shuffled["y"], mnist["y"])


def test_translate_is_a_circular_shift():
    x = np.arange(40.0)[None]
    assert np.array_equal(ex.translate(x, 3)[0, :4], [37, 38, 39, 0])
    assert np.array_equal(ex.translate(ex.translate(x, 5), -5), x)


def test_results_table_puts_measured_next_to_paper():
    table = ex.results_table([{"model": "CNN", "params": 2050, "recipe": "cnn", "acc": 0.9,
                               "shuffled": 0.5, "seconds": 1.0}])
    assert "| CNN | 2,050 | 90 % | 94 % | 50 % | 56 % | 1.0 |" in table


def test_training_history_and_cnn_beats_fully_connected(mnist):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    _, cnn = ex.train("cnn", mnist, steps=600, eval_every=200, progress=False)
    _, fc = ex.train("fc", mnist, steps=600, eval_every=200, progress=False)
    assert cnn.steps == [200, 400, 600] and len(cnn.test_acc) == len(cnn.train_loss) == 3
    assert cnn.test_acc[-1] > 0.65, cnn.summary()
    assert cnn.test_acc[-1] > fc.test_acc[-1] + 0.08, (cnn.summary(), fc.summary())
    # the fully connected net fits its training set far better than it generalises
    assert fc.train_acc[-1] - fc.test_acc[-1] > 0.05, fc.summary()
