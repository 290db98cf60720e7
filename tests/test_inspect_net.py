"""cnncourse.inspect_net: filters, activation maps and saliency of a small 2D CNN, against direct computation."""

import matplotlib
import numpy as np
import torch
from torch import nn

from cnncourse.inspect_net import activation_maps, digit_cnn, first_layer_filters, saliency, show_maps

matplotlib.use("Agg")


def test_digit_cnn_shapes_and_parameters():
    model = digit_cnn()
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == 11274
    assert digit_cnn(channels=(4,), side=8)(torch.zeros(1, 1, 8, 8)).shape == (1, 10)


def test_first_layer_filters_is_a_copy_of_conv1_weights():
    model = digit_cnn()
    filters = first_layer_filters(model)
    assert filters.shape == (8, 1, 5, 5)
    np.testing.assert_array_equal(filters, model[0].weight.detach().numpy())
    filters[:] = 0
    assert model[0].weight.abs().sum() > 0


def test_activation_maps_are_the_layer_outputs_and_keep_the_mode():
    torch.manual_seed(0)
    model = digit_cnn().train()
    image = np.random.default_rng(0).uniform(size=(1, 28, 28)).astype(np.float32)
    maps = activation_maps(model, image)
    assert model.training
    assert [name for name, _ in maps][:3] == ["0 Conv2d", "1 ReLU", "2 MaxPool2d"]
    assert [m.shape for _, m in maps] == [(8, 28, 28), (8, 28, 28), (8, 14, 14), (16, 14, 14), (16, 14, 14),
                                          (16, 7, 7), (784,), (10,)]
    with torch.no_grad():
        np.testing.assert_allclose(maps[-1][1], model.eval()(torch.tensor(image)[None])[0].numpy(), atol=1e-6)
        np.testing.assert_allclose(maps[0][1], model[0](torch.tensor(image)[None])[0].numpy(), atol=1e-6)


def test_saliency_of_a_linear_model_is_its_weight_row():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    image = np.random.default_rng(1).normal(size=(2, 4, 4)).astype(np.float32)
    sal, target = saliency(model, image, target=2)
    want = model[1].weight[2].detach().abs().reshape(2, 4, 4).amax(0).numpy()
    assert target == 2 and sal.shape == (4, 4)
    np.testing.assert_allclose(sal, want, atol=1e-7)
    _, predicted = saliency(model, image)
    assert predicted == int(model(torch.tensor(image)[None]).argmax())
    assert all(p.grad is None for p in model.parameters())


def test_show_maps_draws_each_map_and_hides_spare_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3)
    show_maps(axes, [np.eye(3), -np.eye(3)], titles=["a", "b"])
    assert [len(ax.images) for ax in axes] == [1, 1, 0]
    assert axes[1].get_title() == "b"
    plt.close(fig)
