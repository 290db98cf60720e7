"""Pictures of the ideas behind the popular CNNs and the U-Net, drawn with matplotlib patches.

Every function draws from its arguments alone (no randomness: same arguments, same picture)
and returns the figure:

* ``layer_stack(stages)``: a network as a row of blocks, one per stage; a block's height grows
  with the map's side, its width with the number of channels; ``split`` marks layers whose
  channels are cut in two independent halves (AlexNet's two GPUs).
* ``stacked_kernels(k, layers)``: ``layers`` stacked k x k convolutions reach the same input
  window as one large kernel (VGG's argument), with the weight counts of both.
* ``inception_module(...)``: GoogLeNet's four parallel branches and their concatenation, the
  1x1 "reduce" convolutions in their own colour.
* ``residual_block()``: two weight layers whose output is added to the block's input.
* ``encoder_decoder(...)``: an encoder-decoder for segmentation, with the U-Net's skip
  connections when ``skips=True``.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle

CONV = "#9ecae1"
REDUCE = "#fdd0a2"
POOL = "#c7e9c0"
FC = "#dadaeb"
MERGE = "#fcbba1"
LINE = "0.25"


def _box(ax, x, y, w, h, text, color, fontsize=8, **kwargs):
    """A filled rectangle with its lower-left corner at (x, y) and ``text`` in the middle."""
    ax.add_patch(Rectangle((x, y), w, h, facecolor=color, edgecolor=LINE, linewidth=1, **kwargs))
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, text=None, color=LINE, connection="arc3", fontsize=7, lift=0.0):
    """An arrow from ``start`` to ``end``; ``text`` at its middle, raised by ``lift``."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color=color,
                                 linewidth=1.2, connectionstyle=connection))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + lift, text, fontsize=fontsize,
                ha="center", va="center", color=color if lift else "black",
                backgroundcolor="none" if lift else "white")


def _canvas(ax, figsize, xlim, ylim, title):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return ax.figure, ax


def _size(shape):
    return "×".join(str(n) for n in shape)


def layer_stack(stages, split=(), title=None, ax=None):
    """Blocks for ``stages``, a list of ``(name, shape)``: shape (C, H, W) for a map, (n,) for a
    fully connected layer. Names in ``split`` are drawn as two halves (grouped convolution)."""
    if not stages:
        raise ValueError("no stages to draw")
    kinds = [n.rstrip("0123456789") for n, _ in stages]
    colours = {"conv": CONV, "pool": POOL, "fc": FC}
    widths = [0.35 + 0.25 * np.log2(s[0]) / 3 if len(s) == 3 else 0.3 for _, s in stages]
    heights = [0.8 + 4.2 * np.sqrt(s[1] / max(t[1] for _, t in stages if len(t) == 3)) if len(s) == 3
               else 0.8 + 3.5 * np.log10(s[0]) / 4 for _, s in stages]
    gap = 0.55
    fig, ax = _canvas(ax, (min(1.3 * len(stages), 16), 3.6), (-0.3, sum(widths) + gap * len(stages)),
                      (-2.2, 6.0), title or "")
    x = 0.0
    for (name, shape), kind, w, h in zip(stages, kinds, widths, heights):
        y = (5.0 - h) / 2
        colour = colours.get(kind, "white")
        if name in split:
            _box(ax, x, y, w, h / 2, "", colour)
            _box(ax, x, y + h / 2, w, h / 2, "", colour)
        else:
            _box(ax, x, y, w, h, "", colour)
        size = f"{shape[0]} ch\n{_size(shape[1:])}" if len(shape) == 3 else f"{shape[0]}"
        ax.text(x + w / 2, y - 0.15, f"{name}\n{size}", ha="center", va="top", fontsize=7)
        x_next = x + w + gap
        if (name, shape) != stages[-1]:
            _arrow(ax, (x + w + 0.03, 2.5), (x_next - 0.03, 2.5))
        x = x_next
    legend = "blue: convolution, green: max pooling, purple: fully connected; height ~ map side"
    if split:
        legend += "\nsplit blocks: two halves, each sees only its own half of the channels (one per GPU)"
    ax.text(0, 5.3, legend, fontsize=7, va="bottom")
    return fig


def _grid(ax, x, y, n, cell, color, read=None):
    """An n x n grid of cells with its lower-left at (x, y); ``read`` = (row, col, size) shaded."""
    for r in range(n):
        for c in range(n):
            ax.add_patch(Rectangle((x + c * cell, y + (n - 1 - r) * cell), cell, cell, facecolor="white",
                                   edgecolor="0.6", linewidth=0.8))
    if read is not None:
        r, c, size = read
        ax.add_patch(Rectangle((x + c * cell, y + (n - r - size) * cell), size * cell, size * cell,
                               facecolor=color, alpha=0.45, edgecolor=color, linewidth=2))


def stacked_kernels(k=3, layers=2, ax=None):
    """Top row: ``layers`` stacked k x k convolutions (stride 1); bottom row: the one kernel of
    the same reach. Labels give both weight counts per pair of C-channel layers."""
    if k < 2 or layers < 2:
        raise ValueError("need a kernel of at least 2 and at least 2 layers")
    field = layers * (k - 1) + 1
    cell = 0.5
    fig, ax = _canvas(ax, (9, 5.4), (-0.5, (field + 1) * cell * (layers + 1) + 1.5), (-1.0, 2 * field * cell + 3.2),
                      f"{layers} stacked {k}×{k} convolutions see the same {field}×{field} window as one {field}×{field}")
    top, bottom = field * cell + 2.0, 0.6
    x = 0.0
    for level in range(layers + 1):
        n = field - level * (k - 1)
        y = top + (field - n) * cell / 2
        read = (0, 0, n) if level < layers else None
        _grid(ax, x, y, n, cell, "tab:orange" if level < layers else "tab:blue",
              read=read if n > 1 else (0, 0, 1))
        ax.text(x + n * cell / 2, top - 0.2, "input" if level == 0 else f"after layer {level}",
                ha="center", va="top", fontsize=8)
        if level < layers:
            nxt = x + n * cell + 1.2
            _arrow(ax, (x + n * cell + 0.1, top + field * cell / 2), (nxt - 0.1, top + field * cell / 2),
                   text=f"{k}×{k}")
            x = nxt
    ax.text(x + cell * 1.5, top + field * cell / 2,
            f"{layers} layers: {layers}·{k * k}·C² = {layers * k * k}·C² weights\n{layers} non-linearities",
            fontsize=8, va="center")
    _grid(ax, 0.0, bottom, field, cell, "tab:orange", read=(0, 0, field))
    ax.text(field * cell / 2, bottom - 0.2, "input", ha="center", va="top", fontsize=8)
    out_x = field * cell + 1.2
    _arrow(ax, (field * cell + 0.1, bottom + field * cell / 2), (out_x - 0.1, bottom + field * cell / 2),
           text=f"{field}×{field}")
    _grid(ax, out_x, bottom + (field - 1) * cell / 2, 1, cell, "tab:blue", read=(0, 0, 1))
    ax.text(out_x + cell * 2.5, bottom + field * cell / 2,
            f"1 layer: {field * field}·C² weights\n1 non-linearity", fontsize=8, va="center")
    return fig


def inception_module(cin=192, c1=64, c3r=96, c3=128, c5r=16, c5=32, pool_proj=32, size=28, ax=None):
    """GoogLeNet's Inception module with the channel counts of one row of the paper's Table 1
    (default: module 3a). The 1x1 reductions are orange, the pooling green."""
    out = c1 + c3 + c5 + pool_proj
    fig, ax = _canvas(ax, (9, 5.4), (-0.3, 12.3), (-0.4, 8.6),
                      f"Inception module: {cin}×{size}×{size} in, {out}×{size}×{size} out")
    _box(ax, 2.0, 0.0, 8.0, 0.9, f"previous layer: {cin} channels, {size}×{size}", "white")
    _box(ax, 2.0, 7.0, 8.0, 0.9, f"concatenate along channels: {c1} + {c3} + {c5} + {pool_proj} = {out}", MERGE)
    branches = [[("", None), (f"1×1 conv\n{c1}", REDUCE)],
                [(f"1×1 conv\n{c3r}", REDUCE), (f"3×3 conv\n{c3}", CONV)],
                [(f"1×1 conv\n{c5r}", REDUCE), (f"5×5 conv\n{c5}", CONV)],
                [("3×3 max pool\nstride 1", POOL), (f"1×1 conv\n{pool_proj}", REDUCE)]]
    for i, branch in enumerate(branches):
        x = 0.3 + 3.0 * i
        previous = (x + 1.2, 0.9)
        for level, (text, colour) in enumerate(branch):
            if colour is None:
                continue
            y = 2.0 + 2.4 * level
            _box(ax, x, y, 2.4, 1.3, text, colour, fontsize=8)
            _arrow(ax, previous, (x + 1.2, y))
            previous = (x + 1.2, y + 1.3)
        _arrow(ax, previous, (x + 1.2, 7.0))
    ax.text(6.0, -0.35, "orange: 1×1 convolutions that shrink the channels before the expensive 3×3 and 5×5",
            ha="center", va="top", fontsize=7)
    return fig


def residual_block(ax=None):
    """A basic residual block: x -> 3x3 conv, BN, ReLU -> 3x3 conv, BN -> (+ x) -> ReLU."""
    fig, ax = _canvas(ax, (5.5, 6.2), (-2.9, 6.6), (-0.6, 10.4), "Residual block: output = ReLU(F(x) + x)")
    ax.text(1.5, 0.0, "x", ha="center", va="center", fontsize=11)
    layers = [(1.0, "3×3 conv\n+ batch norm", CONV), (2.7, "ReLU", POOL), (4.4, "3×3 conv\n+ batch norm", CONV)]
    previous = (1.5, 0.3)
    for y, text, colour in layers:
        _box(ax, 0.0, y, 3.0, 1.0, text, colour)
        _arrow(ax, previous, (1.5, y))
        previous = (1.5, y + 1.0)
    ax.add_patch(plt.Circle((1.5, 6.9), 0.35, facecolor=MERGE, edgecolor=LINE))
    ax.text(1.5, 6.9, "+", ha="center", va="center", fontsize=12)
    _arrow(ax, previous, (1.5, 6.55))
    _box(ax, 0.0, 7.8, 3.0, 0.9, "ReLU", POOL)
    _arrow(ax, (1.5, 7.25), (1.5, 7.8))
    _arrow(ax, (1.5, 8.7), (1.5, 9.6))
    ax.text(1.5, 9.9, "ReLU(F(x) + x)", ha="center", va="center", fontsize=9)
    _arrow(ax, (1.8, 0.2), (1.85, 6.9), connection="arc3,rad=0.55", color="tab:red")
    ax.text(4.6, 3.6, "shortcut:\nidentity x\n(no weights)", ha="center", va="center", fontsize=8,
            color="tab:red")
    ax.plot([-0.3, -0.5, -0.5, -0.3], [1.0, 1.0, 5.4, 5.4], color=LINE, lw=1)
    ax.text(-0.7, 3.2, "F(x):\nthe\ncorrection", ha="right", va="center", fontsize=8)
    return fig


def encoder_decoder(in_channels=1, width=8, depth=2, num_classes=4, size=32, skips=True, ax=None):
    """An encoder-decoder for segmentation with the arguments of
    ``cnncourse.models.segmentation.EncoderDecoder``: each level's conv block as a box labelled
    channels x height x width; max pooling down, 2x2 transposed convolutions up, and with
    ``skips`` the U-Net's copy-and-concatenate arrows across."""
    if size % 2 ** depth:
        raise ValueError(f"size {size} is not divisible by 2**depth = {2 ** depth}")
    widths = [width * 2 ** level for level in range(depth + 1)]
    step_x, step_y, box_w, box_h = 3.3, 2.2, 2.0, 1.0
    span = 2 * depth * step_x + box_w
    fig, ax = _canvas(ax, (2.2 * (2 * depth + 2), 1.8 * (depth + 2)), (-1.9, span + 2.0),
                      (-step_y * depth - 1.4, 2.2),
                      "U-Net: encoder, decoder and skip connections" if skips else
                      "Encoder-decoder (no skips)")

    def level_box(level, x, channels, colour):
        side = size // 2 ** level
        _box(ax, x, -step_y * level, box_w, box_h, f"{channels}×{side}×{side}", colour)

    ax.text(-0.2, box_h / 2, f"image\n{in_channels}×{size}×{size}", ha="right", va="center", fontsize=7)
    for level in range(depth):
        x = level * step_x
        level_box(level, x, widths[level], CONV)
        _arrow(ax, (x + box_w / 2, -step_y * level), (x + step_x + box_w / 2, -step_y * (level + 1) + box_h),
               text="max pool 2×2")
        right = span - box_w - level * step_x
        level_box(level, right, widths[level], CONV)
        _arrow(ax, (right - step_x + box_w / 2, -step_y * (level + 1) + box_h), (right + box_w / 2, -step_y * level),
               text="up-conv 2×2")
        if skips:
            _arrow(ax, (x + box_w, -step_y * level + box_h / 2), (right, -step_y * level + box_h / 2),
                   text=f"copy {widths[level]} ch, concatenate", color="tab:red", lift=0.3)
    level_box(depth, depth * step_x, widths[depth], MERGE)
    ax.text(depth * step_x + box_w / 2, -step_y * depth - 0.2, "bottleneck", ha="center", va="top", fontsize=7)
    ax.text(span + 0.2, box_h / 2, f"1×1 conv →\n{num_classes}×{size}×{size}\nclass scores",
            ha="left", va="center", fontsize=7)
    ax.text(-1.8, -step_y * depth - 1.1, "box: conv block (two 3×3 conv + BN + ReLU), channels×height×width",
            fontsize=7)
    return fig
