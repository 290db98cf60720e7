"""Lecture 03 and 05 explorers and the channel-volume diagram, driven without a browser."""

import matplotlib
import numpy as np
import pytest
import torch

from cnncourse import diagrams_channels
from cnncourse.widgets import channels, pooling

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.mark.parametrize("c_in, c_out, k", [(3, 4, 3), (1, 1, 1), (16, 16, 7), (3, 96, 5)])
def test_layer_view_counts_match_pytorch(c_in, c_out, k):
    view = channels.layer_view(c_in, c_out, k, size=8)
    layer = torch.nn.Conv2d(c_in, c_out, k)
    assert view["params"] == sum(p.numel() for p in layer.parameters())
    assert view["weights"] == layer.weight.numel() and view["biases"] == layer.bias.numel()
    out = layer(torch.zeros(1, c_in, 8, 8))
    assert (view["out_height"], view["out_width"]) == tuple(out.shape[2:])
    assert view["fc_params"] == sum(p.numel() for p in torch.nn.Linear(8 * 8 * c_in, out[0].numel()).parameters())


def test_summary_names_the_counts():
    assert channels.summary(channels.layer_view(3, 4, 3)) == (
        "108 weights + 4 biases = 112 parameters; a fully connected layer between the same volumes: 27,792")


@pytest.mark.parametrize("c_in, c_out, k", [(3, 4, 3), (16, 16, 7), (1, 9, 1)])
def test_diagram_draws_every_filter_up_to_the_limit(c_in, c_out, k):
    fig, ax = plt.subplots()
    numbers = diagrams_channels.draw_layer(ax, c_in, c_out, k, 8, 8)
    texts = [t.get_text() for t in ax.texts]
    shown = min(c_out, diagrams_channels.MAX_FILTERS)
    assert [t for t in texts if t.startswith("filter ")] == [f"filter {i + 1}" for i in range(shown)]
    assert f"input\n8×8×{c_in}" in texts
    assert f"output\n{numbers['out_height']}×{numbers['out_width']}×{c_out}\n(one slice per filter)" in texts
    assert (f"+ {c_out - shown} more" in texts) == (c_out > shown)
    assert f"{numbers['params']:,} parameters" in ax.get_title()
    plt.close(fig)


def test_channels_explore_builds_and_redraws():
    controls = channels.explore()
    assert set(controls) == {"c_in", "c_out", "kernel_size"}
    controls["c_in"].value = 5   # runs the update function through the widget
    controls["kernel_size"].value = 1
    plt.close("all")


def test_invariance_view_counts_changed_outputs():
    view = pooling.invariance_view(window=4, shift=1)
    assert view["stride"] == 4 and view["n_outputs"] == 10
    want = torch.nn.functional.max_pool1d(torch.tensor(view["signal"])[None], 4)[0].numpy()
    np.testing.assert_allclose(view["pooled"], want)
    np.testing.assert_allclose(view["shifted"], np.roll(view["signal"], 1))
    assert view["n_changed"] == int(view["changed"].sum()) == 5
    assert view["n_changed_unpooled"] == 18


def test_no_shift_changes_nothing_and_global_window_ignores_circular_shifts():
    assert pooling.invariance_view(window=4, shift=0)["n_changed"] == 0
    whole = pooling.invariance_view(window=40, shift=7)
    assert whole["n_outputs"] == 1 and whole["n_changed"] == 0


def test_larger_windows_change_less_for_a_one_step_shift():
    changes = [pooling.invariance_view(window=k, shift=1)["relative_change"] for k in (1, 2, 4, 8)]
    assert changes == sorted(changes, reverse=True) and changes[-1] < 0.5 * changes[0]


def test_pooling_draw_and_explore():
    axes = pooling.draw(pooling.invariance_view(window=3, stride=2, shift=2))
    assert "pooled outputs change" in axes[1].get_title()
    controls = pooling.explore()
    assert set(controls) == {"window", "stride", "shift"}
    controls["window"].value = 8
    controls["shift"].value = 3
    plt.close("all")
