"""Lecture 05 explorer: how much of a max-pooled output changes when the input shifts.

``invariance_view`` computes, for a window K, stride S and shift, the pooled outputs of a
feature map and of its circular shift and counts the outputs that differ (unit-tested);
``draw`` plots them; ``explore`` wires three sliders to ``draw``.
"""

import numpy as np

from cnncourse.pooling import pool1d


def feature_map(length=40):
    """A sparse, ReLU-like feature map: three triangular bumps of different heights on zeros."""
    positions = np.arange(length)
    bumps = [(6, 1.0), (17, 0.6), (29, 0.8)]  # (centre, height)
    return sum(h * np.maximum(0.0, 1 - np.abs(positions - c) / 2.5) for c, h in bumps)


def invariance_view(window=4, stride=None, shift=1, signal=None, tolerance=1e-6):
    """Max pooling with window K = ``window`` and stride ``stride`` (default K) before and after a
    circular shift of the input by ``shift`` positions.

    Returns the signal, its shift, both pooled outputs, which outputs changed (by more than
    ``tolerance``), their count, the relative change and, for comparison, the same count for
    the feature map itself (no pooling).
    """
    stride = stride or window
    signal = feature_map() if signal is None else np.asarray(signal, dtype=float)
    moved = np.roll(signal, shift)
    before, after = pool1d(signal, window, stride), pool1d(moved, window, stride)
    changed = np.abs(after - before) > tolerance
    return {
        "window": window, "stride": stride, "shift": shift, "signal": signal, "shifted": moved,
        "pooled": before, "pooled_shifted": after, "changed": changed, "n_changed": int(changed.sum()),
        "n_outputs": len(before), "relative_change": float(np.linalg.norm(after - before) / np.linalg.norm(before)),
        "n_changed_unpooled": int((np.abs(moved - signal) > tolerance).sum()),
    }


def draw(view, axes=None):
    """Two panels: the feature map and its shift with the pooling windows, then the pooled outputs."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(9, 4.6), sharex=True)
    k, s = view["window"], view["stride"]
    positions = np.arange(len(view["signal"]))
    top, bottom = axes
    for i in range(view["n_outputs"]):
        top.axvspan(i * s - 0.5, i * s + k - 0.5, color=f"C{i % 2}", alpha=0.08)
    top.plot(positions, view["signal"], "o-", ms=3, color="C7", label="feature map")
    top.plot(positions, view["shifted"], "o--", ms=3, color="C3", label=f"shifted by {view['shift']}")
    top.set(ylabel="value", title=f"max pooling K={k}, S={s}: shaded bands are the windows")
    top.legend(fontsize=8, loc="upper right")
    centres = np.arange(view["n_outputs"]) * s + (k - 1) / 2
    bottom.bar(centres, view["pooled"], width=0.8 * min(k, s), color="C7", alpha=0.5, label="pooled")
    bottom.plot(centres, view["pooled_shifted"], "v", color="C3", ms=8, label="pooled after the shift")
    bottom.plot(centres[view["changed"]], view["pooled_shifted"][view["changed"]], "o", mfc="none",
                mec="k", ms=14, label="changed")
    bottom.set(xlabel="position", ylabel="pooled value",
               title=f"{view['n_changed']} of {view['n_outputs']} pooled outputs change "
                     f"(relative change {view['relative_change']:.2f}); without pooling "
                     f"{view['n_changed_unpooled']} of {len(positions)} positions change")
    bottom.legend(fontsize=8, loc="upper right")
    return axes


def explore():
    """Sliders for the window K, the stride S and the shift. Returns the controls."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    controls = {
        "window": widgets.IntSlider(value=4, min=1, max=10, description="window K"),
        "stride": widgets.IntSlider(value=4, min=1, max=10, description="stride S"),
        "shift": widgets.IntSlider(value=1, min=0, max=10, description="shift"),
    }

    def update(**values):
        draw(invariance_view(**values))
        plt.tight_layout()
        plt.show()

    output = widgets.interactive_output(update, controls)
    display(widgets.VBox([widgets.HBox(list(controls.values())), output]))
    return controls
