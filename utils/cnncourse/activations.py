"""Element-wise activation functions used after a convolution, each with its derivative (numpy)."""

import numpy as np


def sigmoid(z):
    """1 / (1 + exp(-z)); derivative sigmoid(z) * (1 - sigmoid(z))."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def relu(z):
    """max(0, z); derivative 1 for z > 0, else 0 (PyTorch's choice at z = 0)."""
    return np.maximum(0.0, np.asarray(z, dtype=np.float64))


ACTIVATIONS = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (relu, lambda z: (np.asarray(z) > 0).astype(np.float64)),
}
"""name -> (function, derivative), both numpy, element-wise."""
