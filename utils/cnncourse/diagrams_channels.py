"""The multi-channel convolution as volumes (lecture 03): input, filters, output.

The input is an H×W×C_i block, each of the C_o filters a K×K×C_i block as deep as the input,
and the output an H_out×W_out×C_o block with one slice per filter. Blocks are drawn in an
oblique projection with matplotlib patches: width to the right, height up, channels into the
page. Slices are drawn one per channel up to ``MAX_SLICES``; deeper blocks are drawn at that
depth and their labels give the true count.
"""

import numpy as np
from matplotlib.patches import FancyArrowPatch, Polygon

from cnncourse.shapes import conv_output_size

MAX_SLICES = 12        # channels drawn as separate slices; deeper blocks keep this depth
MAX_FILTERS = 6        # filters drawn one by one; more are summarised by a "..." label
DEPTH = (0.45, 0.3)    # screen offset of one channel slice (oblique projection)
COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def layer_numbers(c_in, c_out, kernel_size, height, width, stride=1, padding=0):
    """The counts the picture shows: output size, weights per filter, parameters of the layer."""
    out_h = conv_output_size(height, kernel_size, stride=stride, padding=padding)
    out_w = conv_output_size(width, kernel_size, stride=stride, padding=padding)
    per_filter = kernel_size * kernel_size * c_in
    return {"out_height": out_h, "out_width": out_w, "weights_per_filter": per_filter,
            "params": c_out * (per_filter + 1)}


def block(ax, x, y, width, height, depth, colour, alpha=0.85, slices=None, edge="black", zorder=1):
    """Draw a box of ``width`` × ``height`` with ``depth`` slices behind it, front face at (x, y).

    ``slices`` (a list of colours, one per slice from front to back) colours the slices' top and
    side edges; otherwise the box is one colour. Returns the patches added.
    """
    dx, dy = DEPTH
    patches = []
    colours = slices or [colour] * depth
    for i in reversed(range(depth)):          # back to front, so nearer slices cover farther ones
        ox, oy = x + i * dx, y + i * dy
        top = [(ox, oy + height), (ox + width, oy + height), (ox + width + dx, oy + height + dy),
               (ox + dx, oy + height + dy)]
        side = [(ox + width, oy), (ox + width + dx, oy + dy), (ox + width + dx, oy + height + dy),
                (ox + width, oy + height)]
        front = [(ox, oy), (ox + width, oy), (ox + width, oy + height), (ox, oy + height)]
        for points, shade in ((top, 1.0), (side, 0.75), (front, 0.9)):
            if points is front and i > 0:
                continue                      # only the first slice shows its front face
            patch = Polygon(points, closed=True, facecolor=_shade(colours[i], shade), edgecolor=edge,
                            linewidth=0.6, alpha=alpha, zorder=zorder)
            ax.add_patch(patch)
            patches.append(patch)
    return patches


def _shade(colour, factor):
    from matplotlib.colors import to_rgb

    return tuple(min(1.0, c * factor + (1 - factor) * 0.15) for c in to_rgb(colour))


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="0.3", lw=1.2))


def draw_layer(ax, c_in=3, c_out=4, kernel_size=3, height=8, width=8, stride=1, padding=0):
    """Draw input volume → C_o filters → output volume on ``ax``, labelled; returns ``layer_numbers``."""
    numbers = layer_numbers(c_in, c_out, kernel_size, height, width, stride, padding)
    depth_in, depth_out = min(c_in, MAX_SLICES), min(c_out, MAX_SLICES)
    dx, dy = DEPTH
    shown = min(c_out, MAX_FILTERS)
    filter_colours = [COLOURS[i % len(COLOURS)] for i in range(c_out)]

    step = kernel_size + depth_in * dy + 1.0
    column = shown * step - 1.0                                   # height of the filter column
    gap = max(6.0, 0.45 * column)                                 # room for the labels below
    bottom = min(0.0, height / 2 - column / 2)
    label_y = bottom - 1.0

    # input volume and the K×K×C_i window that one output column reads
    block(ax, 0, 0, width, height, depth_in, "#bbbbbb", alpha=0.6)
    block(ax, 0, height - kernel_size, kernel_size, kernel_size, depth_in, "#ffdd55", alpha=0.95, zorder=2)
    ax.text(width / 2 + depth_in * dx / 2, label_y, f"input\n{height}×{width}×{c_in}", ha="center", va="top")

    # the filters, stacked in a column centred on the input
    fx = width + depth_in * dx + gap
    top = height / 2 + column / 2
    for f in range(shown):
        fy = top - f * step - kernel_size
        block(ax, fx, fy, kernel_size, kernel_size, depth_in, filter_colours[f], alpha=0.9)
        ax.text(fx - 0.4, fy + kernel_size / 2, f"filter {f + 1}", ha="right", va="center", fontsize=8)
    if c_out > shown:
        ax.text(fx + kernel_size + depth_in * dx + 0.3, top - column, f"+ {c_out - shown} more",
                ha="left", va="bottom", fontsize=8)
    ax.text(fx + kernel_size / 2 + depth_in * dx / 2, label_y,
            f"{c_out} filter{'s' * (c_out > 1)}, each\n{kernel_size}×{kernel_size}×{c_in} = "
            f"{numbers['weights_per_filter']:,} weight{'s' * (numbers['weights_per_filter'] > 1)}\n+ 1 bias", ha="center", va="top")

    # the output volume: one slice per filter, the column the window produced highlighted
    ox = fx + kernel_size + depth_in * dx + gap
    out_h, out_w = numbers["out_height"], numbers["out_width"]
    oy = height / 2 - out_h / 2
    block(ax, ox, oy, out_w, out_h, depth_out, "#bbbbbb", alpha=0.7, slices=filter_colours[:depth_out])
    block(ax, ox, oy + out_h - 1, 1, 1, depth_out, "#ffdd55", alpha=0.95, slices=filter_colours[:depth_out],
          zorder=2)
    ax.text(ox + out_w / 2 + depth_out * dx / 2, label_y, f"output\n{out_h}×{out_w}×{c_out}\n"
            "(one slice per filter)", ha="center", va="top")

    _arrow(ax, (kernel_size + depth_in * dx, height - kernel_size / 2), (fx - 0.5 * gap, height / 2))
    _arrow(ax, (fx + kernel_size + depth_in * dx + 0.3, height / 2), (ox - 0.2, oy + out_h - 0.5))
    ax.set_title(f"{c_in} → {c_out} channels, {kernel_size}×{kernel_size} kernels: "
                 f"{c_out} × ({numbers['weights_per_filter']} + 1) = {numbers['params']:,} parameters")
    ax.set_xlim(-1.5, ox + out_w + depth_out * dx + 1)
    ax.set_ylim(label_y - 3.5, max(top + depth_in * dy, height + depth_in * dy) + 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    return numbers
