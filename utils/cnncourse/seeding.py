"""Reproducibility: one call seeds Python, NumPy and PyTorch."""

import random

import numpy as np


def seed_everything(seed=0):
    """Seed ``random``, NumPy's global generator and torch (CPU and every GPU)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed
