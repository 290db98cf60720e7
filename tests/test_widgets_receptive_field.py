"""The receptive-field explorer's update function, without a browser."""

import matplotlib
import numpy as np
import pytest

from cnncourse.shapes import Layer
from cnncourse.widgets import receptive_field as widget

matplotlib.use("Agg")


def test_three_k3_layers():
    view = widget.stack_view(num_layers=3, kernel_size=3, length=16)
    assert view["error"] is None
    assert view["lengths"] == [16, 14, 12, 10]
    assert view["fields"] == [3, 5, 7]
    assert [int(m.sum()) for m in view["masks"]] == [7, 5, 3, 1]
    assert np.flatnonzero(view["masks"][0]).tolist() == list(range(5, 12))  # middle unit 5 reads 5..11
    # every unit is drawn at the centre of its own field
    np.testing.assert_allclose(view["positions"][3], 3 + np.arange(10))


def test_stride_two_is_the_mnist1d_net():
    view = widget.stack_view(num_layers=3, kernel_size=3, stride=2, length=40)
    assert view["lengths"] == [40, 19, 9, 4]
    assert view["fields"] == [3, 7, 15]
    np.testing.assert_allclose(view["positions"][3], 7 + 8 * np.arange(4))


def test_dilation_growth():
    doubling = widget.stack_view(num_layers=3, kernel_size=3, dilation=1, dilation_growth="doubling", length=40)
    assert [l.dilation for l in doubling["layers"]] == [1, 2, 4]
    assert doubling["fields"] == [3, 7, 15] and doubling["masks"][0].sum() == 15  # no holes
    constant = widget.stack_view(num_layers=2, kernel_size=3, dilation=2, length=40)
    assert constant["fields"] == [5, 9] and constant["masks"][0].sum() == 5  # holes


def test_stack_too_deep_for_the_input_reports_an_error():
    view = widget.stack_view(num_layers=5, kernel_size=7, stride=3, length=40)
    assert view["error"] and "does not fit" in view["error"]
    assert view["masks"] == [] and view["positions"] == []


def test_build_layers_rejects_unknown_growth():
    assert widget.build_layers(2, 5, 1, 3) == [Layer(5, 1, 3), Layer(5, 1, 3)]
    with pytest.raises(ValueError, match="dilation_growth"):
        widget.build_layers(2, 3, 1, 1, "tripling")


@pytest.mark.parametrize("values", [dict(num_layers=3), dict(num_layers=5, kernel_size=7, stride=3)])
def test_plot_stack_draws_without_error(values):
    import matplotlib.pyplot as plt

    ax = widget.plot_stack(widget.stack_view(length=40, **values))
    assert ax.figure is not None
    plt.close("all")


def test_explore_builds_controls():
    controls = widget.explore()
    assert set(controls) == {"num_layers", "kernel_size", "stride", "dilation", "dilation_growth"}
    controls["stride"].value = 2  # triggers a redraw through the update function
