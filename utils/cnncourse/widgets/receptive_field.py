"""Lecture 04 explorer: build a small stack of convolutions and watch one output's receptive field."""

import numpy as np

from cnncourse.receptive import cone, output_lengths
from cnncourse.shapes import Layer, ShapeError, receptive_fields


def build_layers(num_layers, kernel_size, stride, dilation, dilation_growth="constant"):
    """The stack the sliders describe: ``num_layers`` equal layers, except that with
    ``dilation_growth="doubling"`` layer l gets dilation ``dilation * 2**l``."""
    if dilation_growth not in ("constant", "doubling"):
        raise ValueError(f"dilation_growth must be 'constant' or 'doubling', got {dilation_growth!r}")
    scale = 2 if dilation_growth == "doubling" else 1
    return [Layer(kernel_size, stride, dilation * scale ** l) for l in range(num_layers)]


def stack_view(num_layers=3, kernel_size=3, stride=1, dilation=1, dilation_growth="constant", length=32):
    """The figure's data for the given slider values (valid convolutions, no padding).

    Returns a dict: ``layers``, ``lengths`` (input first, then after each layer), ``fields``
    (receptive field after each layer), ``masks`` (for the input and each layer, which units feed
    the middle unit of the last layer), ``positions`` (each unit drawn at the centre of its own
    receptive field, in input coordinates) and ``error`` (a message when the stack does not fit
    the input, in which case the other entries are empty).
    """
    layers = build_layers(num_layers, kernel_size, stride, dilation, dilation_growth)
    try:
        lengths = [length] + output_lengths(layers, length)
    except ShapeError as err:
        return {"layers": layers, "lengths": [], "fields": [], "masks": [], "positions": [],
                "error": f"This stack does not fit an input of length {length}: {err}"}
    fields = receptive_fields(layers)
    jumps = np.cumprod([1] + [layer.stride for layer in layers])
    positions = [(field - 1) / 2 + jump * np.arange(n) for field, jump, n in zip([1] + fields, jumps, lengths)]
    return {"layers": layers, "lengths": lengths, "fields": fields, "masks": cone(layers, length),
            "positions": positions, "error": None}


def plot_stack(view, ax=None):
    """Draw ``stack_view``'s data: every layer a row of units, input at the bottom, the units
    feeding the top unit filled."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.8 + 0.7 * (len(view["layers"]) + 1)))
    if view["error"]:
        ax.text(0.5, 0.5, view["error"], ha="center", va="center", wrap=True, transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    for row, (mask, x) in enumerate(zip(view["masks"], view["positions"])):
        ax.scatter(x[~mask], [row] * int((~mask).sum()), s=22, facecolors="white", edgecolors="grey")
        ax.scatter(x[mask], [row] * int(mask.sum()), s=30, color=f"C{row % 10}")
        label = "input" if row == 0 else f"layer {row}: length {len(x)}, field {view['fields'][row - 1]}"
        ax.text(x[-1] + 1, row, label, va="center", fontsize=9)
    ax.set(yticks=[], xlabel="input position", ylim=(-0.6, len(view["masks"]) - 0.4),
           title=f"receptive field of the middle output unit: {view['fields'][-1]} inputs, "
                 f"{int(view['masks'][0].sum())} of them used")
    ax.grid(False)
    return ax


def explore(length=40):
    """Sliders for the number of layers, kernel size, stride, dilation and its growth."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    controls = {
        "num_layers": widgets.IntSlider(value=3, min=1, max=5, description="layers"),
        "kernel_size": widgets.IntSlider(value=3, min=1, max=7, description="kernel size"),
        "stride": widgets.IntSlider(value=1, min=1, max=3, description="stride"),
        "dilation": widgets.IntSlider(value=1, min=1, max=4, description="dilation"),
        "dilation_growth": widgets.Dropdown(options=["constant", "doubling"], description="dilation"),
    }

    def update(**values):
        plot_stack(stack_view(length=length, **values))
        plt.show()

    output = widgets.interactive_output(update, controls)
    display(widgets.VBox([widgets.HBox(list(controls.values())[:3]), widgets.HBox(list(controls.values())[3:]),
                          output]))
    return controls
