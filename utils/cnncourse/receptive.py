"""Receptive fields measured on real networks, and the arithmetic to compare them with.

The formula lives in ``cnncourse.shapes.receptive_fields``. Here a field is *measured*: push
gradients from one output unit back to the input; the input positions with a nonzero gradient
are the ones that can change that output. ``cone`` gives the same answer by index arithmetic,
for every layer of a stack (which units of each layer feed the chosen output).
"""

import numpy as np
import torch
from torch import nn

from .shapes import Layer, conv_output_size


def as_layers(layers):
    """Normalise ``Layer`` objects, ``(kernel_size, stride, dilation)`` tuples or dicts to Layers."""
    return [l if isinstance(l, Layer) else Layer(*l) if isinstance(l, (tuple, list)) else Layer(**l)
            for l in layers]


def conv_stack(layers, channels=4, dims=1, padding=0, activation=nn.Tanh, seed=0):
    """A seeded ``nn.Sequential`` of convolutions (1 input channel, ``channels`` hidden ones), one per
    layer spec, each followed by ``activation`` (whose derivative should never vanish, like tanh).

    ``padding``: an int for every layer, or ``"same"`` to pad each stride-1 layer by D(F-1)/2.
    """
    torch.manual_seed(seed)
    conv = {1: nn.Conv1d, 2: nn.Conv2d}[dims]
    modules, c_in = [], 1
    for layer in as_layers(layers):
        pad = layer.dilation * (layer.kernel_size - 1) // 2 if padding == "same" else padding
        modules += [conv(c_in, channels, layer.kernel_size, stride=layer.stride, dilation=layer.dilation,
                         padding=pad), activation()]
        c_in = channels
    return nn.Sequential(*modules).double()


def output_lengths(layers, length, padding=0):
    """Length of the signal after each layer (``padding`` on every layer)."""
    lengths = []
    for layer in as_layers(layers):
        length = conv_output_size(length, layer.kernel_size, layer.stride, padding, layer.dilation)
        lengths.append(length)
    return lengths


def _activations(model, x):
    """Outputs of every convolution of a Sequential (kept in the graph, gradients retained)."""
    outputs = []
    for module in model:
        x = module(x)
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            x.retain_grad()
            outputs.append(x)
    return outputs


def _centre(shape):
    return tuple(s // 2 for s in shape)


def measured_cone(model, input_shape, position=None, trials=3, seed=0):
    """Measure, with gradients, which units of the input and of every convolution's output can
    change one output unit of ``model``.

    input_shape: (C, *spatial) of one example; position: index of the output unit (spatial only,
    default the middle). Gradients of the unit (summed over channels) are taken at ``trials``
    random inputs and a position counts when any of them is nonzero. Returns a list of boolean
    arrays: the input's spatial mask first, then one per convolution.
    """
    gen = torch.Generator().manual_seed(seed)
    masks = None
    for _ in range(trials):
        x = torch.randn((1, *input_shape), generator=gen, dtype=torch.float64, requires_grad=True)
        outputs = _activations(model, x)
        spatial = outputs[-1].shape[2:]
        where = _centre(spatial) if position is None else tuple(np.atleast_1d(position))
        model.zero_grad()
        outputs[-1][(0, slice(None), *where)].sum().backward()
        grads = [x.grad] + [o.grad for o in outputs]
        found = [(g[0] != 0).any(dim=0).numpy() for g in grads]
        masks = found if masks is None else [m | f for m, f in zip(masks, found)]
    return masks


def measure_receptive_field(model, input_shape, position=None, trials=3, seed=0):
    """Boolean mask over the input positions that can change output unit ``position`` of ``model``."""
    return measured_cone(model, input_shape, position, trials, seed)[0]


def span(mask):
    """Extent of a mask along each axis (last - first + 1), the size a receptive-field formula gives."""
    mask = np.asarray(mask, dtype=bool)
    spans = []
    for axis in range(mask.ndim):
        hit = np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
        spans.append(int(hit[-1] - hit[0] + 1) if hit.size else 0)
    return spans[0] if mask.ndim == 1 else tuple(spans)


def cone(layers, length, position=None, padding=0):
    """Which units of each layer feed one unit of the last layer, by index arithmetic (1D).

    Unit i of a layer reads units ``i*S + m*D - P`` (m = 0..F-1) of the layer below. Returns
    boolean masks for the input and then every layer; ``position`` defaults to the middle unit.
    """
    layers = as_layers(layers)
    lengths = [length] + output_lengths(layers, length, padding)
    top = np.zeros(lengths[-1], dtype=bool)
    top[lengths[-1] // 2 if position is None else position] = True
    masks = [top]
    for layer, below in zip(reversed(layers), reversed(lengths[:-1])):
        units = np.flatnonzero(masks[0])
        reads = units[:, None] * layer.stride + np.arange(layer.kernel_size) * layer.dilation - padding
        mask = np.zeros(below, dtype=bool)
        mask[reads[(reads >= 0) & (reads < below)]] = True
        masks.insert(0, mask)
    return masks
