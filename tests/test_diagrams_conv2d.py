"""The 2D sliding-window picture: right numbers in the right cells, same picture every time."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from cnncourse import diagrams_conv2d  # noqa: E402

IMAGE = np.arange(36).reshape(6, 6) % 7
KERNEL = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _shaded(ax):
    """(x, y, width, height) of the coloured rectangle: the window or the output cell."""
    return [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in ax.patches
            if isinstance(r, Rectangle) and r.get_alpha() is not None]


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_correlate_matches_conv2d(stride):
    want = F.conv2d(torch.tensor(IMAGE, dtype=torch.float64)[None, None],
                    torch.tensor(KERNEL, dtype=torch.float64)[None, None], stride=stride)[0, 0].numpy()
    np.testing.assert_allclose(diagrams_conv2d.correlate(IMAGE, KERNEL, stride), want)


def test_window_kernel_and_output_cell_are_drawn_and_labelled():
    fig = diagrams_conv2d.sliding_window(IMAGE, KERNEL, positions=[(0, 0), (1, 2)])
    axes = np.array(fig.axes).reshape(2, 3)
    out = diagrams_conv2d.correlate(IMAGE, KERNEL)
    for (row, col), (ax_in, ax_k, ax_out) in zip([(0, 0), (1, 2)], axes):
        assert _shaded(ax_in) == [(col, row, 3, 3)]          # the window, x = column, y = row
        assert _shaded(ax_out) == [(col, row, 1, 1)]         # the cell it produces
        assert _texts(ax_in) == [str(v) for v in IMAGE.ravel()]
        assert _texts(ax_out) == [f"{v:.0f}" for v in out.ravel()]
        assert f"[{row}, {col}] = {out[row, col]:.0f}" in ax_out.get_title()
        assert "kernel 3×3" in ax_k.get_title()
    assert {"×", "sum →"} <= {t.get_text() for t in fig.texts}
    plt.close(fig)


def test_stride_greys_what_no_window_reaches():
    fig = diagrams_conv2d.sliding_window(IMAGE, KERNEL, positions=[(1, 1)], stride=2)
    ax_in = fig.axes[0]
    grey = {(int(r.get_y()), int(r.get_x())) for r in ax_in.patches
            if r.get_facecolor()[:3] == matplotlib.colors.to_rgb(diagrams_conv2d.UNREAD)}
    assert grey == {(r, c) for r in range(6) for c in range(6) if r == 5 or c == 5}  # last row, last column
    assert _shaded(ax_in) == [(2, 2, 3, 3)]
    assert "grey" in fig._suptitle.get_text()
    plt.close(fig)


def test_same_input_same_picture(tmp_path):
    paths = []
    for i in range(2):
        fig = diagrams_conv2d.sliding_window(IMAGE, KERNEL, positions=[(2, 1)])
        paths.append(tmp_path / f"{i}.png")
        fig.savefig(paths[-1], metadata={"Software": None})
        plt.close(fig)
    assert paths[0].read_bytes() == paths[1].read_bytes()


@pytest.mark.parametrize("kernel, positions, message", [
    (np.ones((2, 3)), [(0, 0)], "square kernels only"),
    (KERNEL, [(4, 0)], r"\(4, 0\) outside the 4x4 output"),
])
def test_bad_arguments_are_explained(kernel, positions, message):
    with pytest.raises(ValueError, match=message):
        diagrams_conv2d.sliding_window(IMAGE, kernel, positions)
