"""The 1D convolution explorer's update function, for given slider values (no browser needed)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnncourse.widgets import conv1d as explorer  # noqa: E402


def test_default_sliders_give_same_length_output():
    data = explorer.explorer_data(kernel_size=3, stride=1, dilation=1, padding=1)
    assert data["error"] is None
    assert data["out_length"] == len(data["x"]) == 12
    np.testing.assert_allclose(data["matrix"] @ data["x"], data["output"])


def test_stride_dilation_padding_taps_and_matrix():
    x = np.arange(10.0)
    data = explorer.explorer_data(kernel_size=3, stride=2, dilation=2, padding=1, x=x, kernel=[1.0, 2.0, 3.0])
    assert data["out_length"] == 4  # floor((10 + 2 - 5) / 2) + 1
    np.testing.assert_array_equal(data["offsets"], [0, 2, 4])
    np.testing.assert_array_equal(data["taps"][1], [2, 4, 6])  # positions in the padded input
    np.testing.assert_array_equal(data["padded"][:2], [0.0, 0.0])
    np.testing.assert_array_equal(data["matrix"][0], [0, 2, 0, 3, 0, 0, 0, 0, 0, 0])  # first tap on padding
    np.testing.assert_allclose(data["output"], [2 * 1 + 3 * 3, 1 * 1 + 2 * 3 + 3 * 5, 1 * 3 + 2 * 5 + 3 * 7, 1 * 5 + 2 * 7 + 3 * 9])
    assert data["span"] == 5


def test_kernel_that_does_not_fit_reports_error():
    data = explorer.explorer_data(kernel_size=7, stride=1, dilation=3, padding=0)
    assert data["error"] and "19" in data["error"]
    assert data["out_length"] == 0 and data["output"].shape == (0,) and data["matrix"].shape == (0, 12)


def test_demo_kernel_taps_distinct_and_nonzero():
    for k in range(1, 8):
        kernel = explorer.demo_kernel(k)
        assert len(kernel) == k and np.all(kernel != 0) and len(set(np.round(kernel, 9))) == k


@pytest.mark.parametrize("settings", [(3, 2, 2, 1), (7, 1, 3, 0), (1, 1, 1, 0)])
def test_draw_runs_for_valid_and_invalid_settings(settings):
    import matplotlib.pyplot as plt

    fig = explorer.draw(explorer.explorer_data(*settings), position=99)
    assert len(fig.axes) == 4
    plt.close(fig)


def test_explore_builds_sliders():
    sliders = explorer.explore()
    assert set(sliders) == {"kernel_size", "stride", "dilation", "padding", "position"}
    sliders["stride"].value = 2  # triggers a redraw without error
