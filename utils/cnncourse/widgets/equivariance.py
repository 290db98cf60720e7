"""Lecture 01 explorer: shift the input and watch a conv layer's output shift with it."""

import torch

from cnncourse.equivariance import bump, demo_layers, shift


def shift_view(k, layers=None, x=None):
    """The figure's data for a shift of ``k``: the input, the shifted input, the conv output of the
    shifted input, the shifted conv output, and the FC layer's outputs for both inputs."""
    layers = layers or demo_layers()
    x = bump() if x is None else x
    conv, fc = layers["conv"], layers["fully connected"]
    with torch.no_grad():
        moved = shift(x, k)
        return {
            "input": x[0, 0].numpy(), "shifted input": moved[0, 0].numpy(),
            "conv(shifted)": conv(moved)[0, 0].numpy(), "shift(conv)": shift(conv(x), k)[0, 0].numpy(),
            "fc(shifted)": fc(moved.flatten(1))[0].numpy(), "shift(fc)": shift(fc(x.flatten(1)), k)[0].numpy(),
        }


def plot_shift(k, layers=None, x=None):
    """Three panels for a shift of ``k``: the input, conv channel 0 and the FC output, each with
    "transform then shift" against "shift then transform"."""
    import matplotlib.pyplot as plt

    data = shift_view(k, layers, x)
    fig, axes = plt.subplots(1, 3, figsize=(11, 2.8), sharex=True)
    axes[0].plot(data["input"], label="x")
    axes[0].plot(data["shifted input"], label=f"x shifted by {k}")
    axes[1].plot(data["conv(shifted)"], label="conv(shifted x)")
    axes[1].plot(data["shift(conv)"], "--", label="shifted conv(x)")
    axes[2].plot(data["fc(shifted)"], label="fc(shifted x)")
    axes[2].plot(data["shift(fc)"], "--", label="shifted fc(x)")
    for ax, title in zip(axes, ("input", "convolution (channel 0)", "fully connected")):
        ax.set(title=title, xlabel="position")
        ax.legend(fontsize=8)
    plt.show()


def explore(max_shift=16):
    """A slider for the shift k, redrawing ``plot_shift``."""
    import ipywidgets as widgets
    from IPython.display import display

    layers, x = demo_layers(), bump()
    slider = widgets.IntSlider(value=4, min=0, max=max_shift, description="shift k")
    output = widgets.interactive_output(lambda k: plot_shift(k, layers, x), {"k": slider})
    display(widgets.VBox([slider, output]))
