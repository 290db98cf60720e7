"""Looking inside a trained 2D CNN (lecture 11): its first-layer filters, the activation maps of
one input, and a gradient saliency map (Simonyan, Vedaldi & Zisserman 2014).

All functions take a model in ``nn.Sequential`` form and images shaped (1, H, W) or (N, 1, H, W);
they leave the model's mode (train/eval) and its gradients as they found them.
"""

import numpy as np
import torch
from torch import nn


def digit_cnn(channels=(8, 16), kernel_size=5, side=28, classes=10):
    """Two convolution blocks (conv with 'same' padding, ReLU, 2x2 max pooling) and a linear layer.

    For 28x28 digits with the default (8, 16) channels: 28 -> 14 -> 7 positions, 11,274 parameters.
    """
    layers, c_in = [], 1
    for c_out in channels:
        layers += [nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2), nn.ReLU(), nn.MaxPool2d(2)]
        c_in, side = c_out, side // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * side * side, classes))


def first_layer_filters(model):
    """The weights of the model's first ``nn.Conv2d`` as a NumPy array (C_out, C_in, K, K)."""
    conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    return conv.weight.detach().cpu().numpy().copy()


@torch.no_grad()
def activation_maps(model, image):
    """Run one image (1, H, W) through a ``nn.Sequential`` in eval mode; return every layer's output.

    A list of ``(name, array)`` pairs, ``name`` like ``"0 Conv2d"`` and ``array`` the output
    without its batch axis, e.g. (8, 28, 28) after the first convolution.
    """
    was_training = model.training
    model.eval()
    h = torch.as_tensor(image, dtype=torch.float32)[None].to(_device(model))
    maps = []
    for index, layer in enumerate(model):
        h = layer(h)
        maps.append((f"{index} {type(layer).__name__}", h[0].cpu().numpy()))
    model.train(was_training)
    return maps


def saliency(model, image, target=None):
    """Gradient saliency map of Simonyan et al. (2014): ``|d score_target / d image|``, largest over channels.

    ``score`` is the class logit (before softmax); ``target`` defaults to the predicted class.
    Returns ``(map (H, W), target)``.
    """
    was_training = model.training
    model.eval()
    x = torch.as_tensor(image, dtype=torch.float32)[None].to(_device(model)).requires_grad_(True)
    scores = model(x)[0]
    target = int(scores.argmax()) if target is None else int(target)
    grad, = torch.autograd.grad(scores[target], x)
    model.train(was_training)
    return grad[0].abs().amax(dim=0).cpu().numpy(), target


def show_maps(axes, maps, titles=None, cmap="RdBu_r", symmetric=True):
    """Draw 2D arrays on ``axes`` (flat), each with its own colour range, symmetric around 0 when asked."""
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= len(maps):
            continue
        m = np.asarray(maps[i], dtype=float)
        limit = np.abs(m).max() or 1.0
        ax.imshow(m, cmap=cmap, vmin=-limit if symmetric else m.min(), vmax=limit if symmetric else m.max(),
                  interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)


def _device(model):
    return next(model.parameters()).device
