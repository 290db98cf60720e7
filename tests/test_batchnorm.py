"""cnncourse.batchnorm against torch.nn.BatchNorm1d / BatchNorm2d, in training and eval mode."""

import numpy as np
import pytest
import torch
from torch import nn

from cnncourse.batchnorm import batch_statistics, batchnorm_forward, deep_cnn1d, normalize


def _layer(shape, momentum):
    layer = (nn.BatchNorm1d if len(shape) <= 3 else nn.BatchNorm2d)(shape[1], momentum=momentum).double()
    rng = np.random.default_rng(1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rng.normal(size=shape[1])))
        layer.bias.copy_(torch.tensor(rng.normal(size=shape[1])))
        layer.running_mean.copy_(torch.tensor(rng.normal(size=shape[1])))
        layer.running_var.copy_(torch.tensor(rng.uniform(0.5, 2, size=shape[1])))
    return layer


def _state(layer):
    return [t.detach().numpy().copy() for t in (layer.weight, layer.bias, layer.running_mean, layer.running_var)]


@pytest.mark.parametrize("shape", [(8, 3), (5, 4, 7), (4, 2, 5, 6)])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_three_training_steps_then_eval_match_torch(shape, momentum):
    layer = _layer(shape, momentum)
    gamma, beta, mean, var = _state(layer)
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=shape)
        y, mean, var = batchnorm_forward(x, gamma, beta, mean, var, training=True, momentum=momentum)
        want = layer.train()(torch.tensor(x))
        np.testing.assert_allclose(y, want.detach().numpy(), atol=1e-10)
        np.testing.assert_allclose(mean, layer.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(var, layer.running_var.numpy(), atol=1e-12)
    x = rng.normal(size=shape)
    y, mean2, var2 = batchnorm_forward(x, gamma, beta, mean, var, training=False)
    np.testing.assert_allclose(y, layer.eval()(torch.tensor(x)).detach().numpy(), atol=1e-10)
    assert np.array_equal(mean2, mean) and np.array_equal(var2, var)


def test_training_output_is_normalized_per_channel():
    x = np.random.default_rng(0).normal(5.0, 4.0, size=(16, 3, 10))
    y, _, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    mean, var, n = batch_statistics(y)
    assert n == 160
    np.testing.assert_allclose(mean, 0, atol=1e-12)
    np.testing.assert_allclose(var, 1, atol=1e-4)


def test_inputs_untouched_and_one_value_refused():
    mean, var = np.zeros(2), np.ones(2)
    batchnorm_forward(np.ones((4, 2)), np.ones(2), np.zeros(2), mean, var)
    assert np.array_equal(mean, np.zeros(2)) and np.array_equal(var, np.ones(2))
    with pytest.raises(ValueError, match="more than one value"):
        batchnorm_forward(np.ones((1, 2)), np.ones(2), np.zeros(2), mean, var)


def test_normalize_broadcasts_over_2d_maps():
    x = np.ones((2, 3, 4, 4))
    y = normalize(x, [1, 1, 1], [0, 0, 0], [1, 2, 3], [0, 1, 2], eps=1.0)
    assert np.allclose(y[:, 2], 2.0)


def test_deep_cnn1d_shapes_and_layers():
    plain, normed = deep_cnn1d(depth=4, width=8), deep_cnn1d(depth=4, width=8, batch_norm=True)
    x = torch.randn(5, 1, 40)
    assert plain(x).shape == normed(x).shape == (5, 10)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in normed) == 4
    assert not any(isinstance(m, nn.BatchNorm1d) for m in plain)
    assert all(m.bias is None for m in normed if isinstance(m, nn.Conv1d))
