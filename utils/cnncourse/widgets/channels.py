"""Lecture 03 explorer: input channels, filters and kernel size against the layer's parameters.

``layer_view`` computes the numbers for given slider values (unit-tested); ``draw`` shows them as
volumes (``cnncourse.diagrams_channels``); ``explore`` wires three sliders to ``draw``.
"""

from cnncourse.diagrams_channels import draw_layer, layer_numbers
from cnncourse.shapes import linear_params


def layer_view(c_in=3, c_out=4, kernel_size=3, size=8):
    """Weights, biases and parameters of a 2D layer with ``c_out`` filters of size K×K over
    ``c_in`` channels, on a ``size``×``size`` input (no padding, stride 1), and what a fully
    connected layer between the same input and output volumes would need."""
    numbers = layer_numbers(c_in, c_out, kernel_size, size, size)
    outputs = numbers["out_height"] * numbers["out_width"] * c_out
    return {**numbers, "c_in": c_in, "c_out": c_out, "kernel_size": kernel_size, "size": size,
            "weights": c_out * numbers["weights_per_filter"], "biases": c_out,
            "fc_params": linear_params(size * size * c_in, outputs)}


def summary(view):
    """One line of text for the view: weights and biases, against a fully connected layer."""
    return (f"{view['weights']:,} weights + {view['biases']} biases = {view['params']:,} parameters; "
            f"a fully connected layer between the same volumes: {view['fc_params']:,}")


def draw(view, ax=None):
    """Draw the layer's volumes for ``view``, the summary in the title; returns the axis."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.6))
    draw_layer(ax, view["c_in"], view["c_out"], view["kernel_size"], view["size"], view["size"])
    ax.set_title(f"{ax.get_title()}\n{summary(view)}", fontsize=10)
    return ax


def explore(size=8):
    """Sliders for C_i, C_o and K; the picture and the count follow. Returns the controls."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    controls = {
        "c_in": widgets.IntSlider(value=3, min=1, max=16, description="C_i"),
        "c_out": widgets.IntSlider(value=4, min=1, max=16, description="C_o"),
        "kernel_size": widgets.IntSlider(value=3, min=1, max=7, description="K"),
    }

    def update(**values):
        draw(layer_view(size=size, **values))
        plt.show()

    output = widgets.interactive_output(update, controls)
    display(widgets.VBox([widgets.HBox(list(controls.values())), output]))
    return controls
