"""Pictures of 2D convolution drawn with matplotlib patches (no randomness: same input, same picture).

``sliding_window(image, kernel, positions, stride)`` draws, for each output position, three
panels in a row: the input grid with the K x K window the kernel covers, the kernel, and the
output grid with the one cell that window produces; input cells no window reaches (when the
stride does not tile the input) are grey; "×" and "sum →" stand between the panels. The
output values are computed here (cross-correlation, no padding, as ``F.conv2d`` does).
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

WINDOW = "tab:orange"
OUTPUT = "tab:blue"
UNREAD = "0.8"


def correlate(image, kernel, stride=1):
    """The valid 2D cross-correlation of ``image`` (H, W) with ``kernel`` (K, K) at ``stride``."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    k = kernel.shape[0]
    patches = np.lib.stride_tricks.sliding_window_view(image, (k, k))[::stride, ::stride]
    return np.einsum("rcij,ij->rc", patches, kernel)


def _label(value):
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def grid(ax, values, title, shade=None, color=None, read=None, span=None):
    """Draw ``values`` (2D) as a grid of labelled cells; ``shade`` = (row, col, height, width)
    is outlined and filled in ``color``; cells outside the top-left ``read`` = (rows, cols)
    block are grey; ``span`` (cells) sets the width of the drawing area. Row 0 is at the top, as
    in an image."""
    values = np.asarray(values)
    rows, cols = values.shape
    read_rows, read_cols = read or values.shape
    for (r, c), v in np.ndenumerate(values):
        face = "white" if r < read_rows and c < read_cols else UNREAD
        ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="0.6", linewidth=0.8))
        ax.text(c + 0.5, r + 0.5, _label(v), ha="center", va="center", fontsize=9)
    if shade is not None:
        r, c, h, w = shade
        ax.add_patch(Rectangle((c, r), w, h, facecolor=color, alpha=0.3, edgecolor=color, linewidth=2.5))
    span = max(span or 0, cols, rows)
    ax.set_xlim(-0.1, span + 0.1)
    ax.set_ylim(span + 0.1, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def sliding_window(image, kernel, positions, stride=1):
    """A figure with one row per output ``(row, col)`` in ``positions``: input and window,
    kernel, output and the cell the window produces. Returns the figure."""
    image, kernel = np.asarray(image), np.asarray(kernel)
    k = kernel.shape[0]
    if kernel.shape != (k, k):
        raise ValueError(f"square kernels only, got shape {kernel.shape}")
    out = correlate(image, kernel, stride)
    for row, col in positions:
        if not (0 <= row < out.shape[0] and 0 <= col < out.shape[1]):
            raise ValueError(f"output position ({row}, {col}) outside the {out.shape[0]}x{out.shape[1]} output")
    read = tuple((n - 1) * stride + k for n in out.shape)  # rows and columns any window reaches
    widths = [image.shape[1], k, max(out.shape[1], 4)]  # room for the titles
    fig, axes = plt.subplots(len(positions), 3, squeeze=False, gridspec_kw={"width_ratios": widths},
                             figsize=(max(8.0, 1.6 + 0.45 * sum(widths)), 0.5 + 0.45 * image.shape[0] * len(positions)))
    h, w = image.shape
    for (row, col), (ax_in, ax_k, ax_out) in zip(positions, axes):
        top, left = row * stride, col * stride
        grid(ax_in, image, f"input {h}×{w}\nwindow: rows {top}–{top + k - 1}, columns {left}–{left + k - 1}",
             shade=(top, left, k, k), color=WINDOW, read=read)
        grid(ax_k, kernel, f"kernel {k}×{k}\n", shade=(0, 0, k, k), color=WINDOW)
        grid(ax_out, out, f"output {out.shape[0]}×{out.shape[1]}\n[{row}, {col}] = {_label(out[row, col])}",
             shade=(row, col, 1, 1), color=OUTPUT, span=widths[2])
    unread = " (grey: input no window reaches)" if read != image.shape else ""
    fig.suptitle(f"Stride {stride}: output cell = sum of window × kernel{unread}", fontsize=11)
    fig.tight_layout(w_pad=4)
    for ax_in, ax_k, ax_out in axes:  # the operation between the panels, placed after the layout
        _between(fig, ax_in, ax_k, "×")
        _between(fig, ax_k, ax_out, "sum →")
    return fig


def _between(fig, left, right, text):
    a, b = left.get_position(), right.get_position()
    fig.text((a.x1 + b.x0) / 2, (b.y0 + b.y1) / 2, text, ha="center", va="center", fontsize=12,
             color=OUTPUT, fontweight="bold")
