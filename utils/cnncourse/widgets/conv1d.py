"""Explorer for 1D convolution: kernel size, stride, dilation and padding sliders.

``explorer_data`` is the pure update function (slider values in, the figure's data out);
``draw`` turns that data into a figure; ``explore`` wires both to ipywidgets sliders.
"""

import numpy as np

from cnncourse.conv1d import conv1d, conv_matrix
from cnncourse.shapes import ShapeError, conv_output_size, effective_kernel

DEFAULT_LENGTH = 12


def demo_signal(length=DEFAULT_LENGTH):
    """A fixed test signal with a bump and a step, so every output position has something to see."""
    t = np.arange(length)
    return np.round(np.exp(-0.5 * ((t - length / 3) / 1.5) ** 2) + 0.5 * (t >= 2 * length / 3), 3)


def demo_kernel(kernel_size):
    """K distinct, non-zero weights with alternating signs, so each tap is visible in a matrix picture."""
    return np.linspace(1.0, 0.4, kernel_size) * (-1.0) ** np.arange(kernel_size)


def explorer_data(kernel_size=3, stride=1, dilation=1, padding=1, x=None, kernel=None):
    """Everything the explorer draws for one setting of the sliders.

    Returns a dict with: ``x`` (W,) input; ``padded`` (W + 2P,) input with its zeros;
    ``kernel`` (K,); ``offsets`` (K,) tap offsets j*D; ``taps`` (W_out, K) positions in
    ``padded`` read by each output; ``output`` (W_out,); ``matrix`` (W_out, W) equivalent weight matrix; ``span`` D(K-1)+1;
    ``out_length`` W_out; and ``error`` (None, or a message when the kernel does not fit,
    in which case the arrays that depend on the output are empty).
    """
    x = demo_signal() if x is None else np.asarray(x, dtype=np.float64)
    kernel = demo_kernel(kernel_size) if kernel is None else np.asarray(kernel, dtype=np.float64)
    offsets = np.arange(len(kernel)) * dilation
    data = {"x": x, "padded": np.pad(x, padding), "kernel": kernel, "offsets": offsets,
            "span": effective_kernel(len(kernel), dilation), "error": None}
    try:
        out_length = conv_output_size(len(x), len(kernel), stride=stride, padding=padding, dilation=dilation)
    except ShapeError as err:
        out_length, data["error"] = 0, str(err)
    data["out_length"] = out_length
    if out_length:
        data["taps"] = np.arange(out_length)[:, None] * stride + offsets
        data["output"] = conv1d(x, kernel, stride=stride, dilation=dilation, padding=padding)
        data["matrix"] = conv_matrix(kernel, len(x), stride=stride, dilation=dilation, padding=padding)
    else:
        data["taps"] = np.zeros((0, len(kernel)), dtype=int)
        data["output"] = np.zeros(0)
        data["matrix"] = np.zeros((0, len(x)))
    return data


def draw(data, position=0, fig=None):
    """Draw input (with padding), the kernel taps of output ``position``, the output and the matrix."""
    import matplotlib.pyplot as plt

    from cnncourse import plots

    fig = fig or plt.figure(figsize=(11, 5.5))
    fig.clear()
    grid = fig.add_gridspec(3, 2, width_ratios=(1.4, 1), hspace=0.9, wspace=0.25)
    ax_in, ax_k, ax_out = (fig.add_subplot(grid[i, 0]) for i in range(3))
    ax_m = fig.add_subplot(grid[:, 1])
    padding = (len(data["padded"]) - len(data["x"])) // 2
    positions = np.arange(len(data["padded"])) - padding
    ax_in.bar(positions, data["padded"], color=["0.8" if p < 0 or p >= len(data["x"]) else "C0"
                                                for p in positions])
    ax_in.set(title=f"input (W={len(data['x'])}, grey = zero padding)", xlabel="input position")
    ax_in.set_xlim(positions[0] - 0.6, positions[-1] + 0.6)
    ax_k.stem(data["offsets"], data["kernel"], basefmt=" ")
    ax_k.set(title=f"kernel (K={len(data['kernel'])} taps spread over {data['span']} inputs)",
             xlabel="offset j*D from the first tap", xlim=(-0.6, max(data["span"], 3) - 0.4))
    if data["error"]:
        ax_out.text(0.5, 0.5, data["error"], ha="center", va="center", wrap=True, transform=ax_out.transAxes)
        ax_out.set_title("no output")
        ax_m.set_title("no matrix")
        return fig
    position = min(position, data["out_length"] - 1)
    ax_in.plot(data["taps"][position] - padding, data["padded"][data["taps"][position]], "rv",
               label=f"taps read by output {position}")
    ax_in.legend(loc="upper right", fontsize=8)
    plots.signal(ax_out, data["output"], title=f"output (W_out={data['out_length']})")
    ax_out.plot(position, data["output"][position], "rv")
    ax_out.set_xlabel("output position")
    ax_out.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    plots.matrix(ax_m, data["matrix"], title=f"equivalent weight matrix (row {position} outlined)")
    ax_m.add_patch(plt.Rectangle((-0.5, position - 0.5), len(data["x"]), 1, fill=False, edgecolor="k", lw=1.5))
    return fig


def explore(x=None, max_kernel=7):
    """Sliders for kernel size, stride, dilation and padding driving ``draw(explorer_data(...))``."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    sliders = {
        "kernel_size": widgets.IntSlider(3, 1, max_kernel, description="kernel size"),
        "stride": widgets.IntSlider(1, 1, 4, description="stride"),
        "dilation": widgets.IntSlider(1, 1, 4, description="dilation"),
        "padding": widgets.IntSlider(1, 0, 4, description="padding"),
        "position": widgets.IntSlider(0, 0, 15, description="output pos."),
    }

    def update(kernel_size, stride, dilation, padding, position):
        data = explorer_data(kernel_size, stride, dilation, padding, x=x)
        draw(data, position)
        plt.show()

    out = widgets.interactive_output(update, sliders)
    display(widgets.VBox([widgets.HBox(list(sliders.values())[:3]),
                          widgets.HBox(list(sliders.values())[3:]), out]))
    return sliders
