"""Synthetic pictures with exact labels, generated offline from a seed.

Grey images of squares, discs and triangles on a noisy background. Every scene comes with
its per-pixel class mask (semantic segmentation) and one box and label per object
(detection). Objects never overlap, so every pixel and every box has one true answer.
"""

from dataclasses import dataclass

import numpy as np

CLASSES = ("square", "disc", "triangle")


@dataclass
class Scenes:
    """``images`` (N, 1, S, S) float32 in [0, 1]; ``masks`` (N, S, S) int64, 0 = background and
    ``k + 1`` = ``CLASSES[k]``; ``boxes[i]`` (n_i, 4) float32 pixel corners (x0, y0, x1, y1);
    ``labels[i]`` (n_i,) int64 indices into ``CLASSES``."""

    images: np.ndarray
    masks: np.ndarray
    boxes: list
    labels: list

    def __len__(self):
        return len(self.images)


def shape_mask(kind, width, height):
    """Boolean (height, width) mask of one shape filling its whole box."""
    rows, cols = np.mgrid[0:height, 0:width] + 0.5          # pixel centres
    if kind == "square":
        return np.ones((height, width), bool)
    if kind == "disc":
        return (cols / width - 0.5) ** 2 + (rows / height - 0.5) ** 2 <= 0.25
    if kind == "triangle":     # apex at the top, base at the bottom, every row at least 1 pixel wide
        return np.abs(cols - width / 2) < (rows + 0.5) / height * width / 2 + 0.5
    raise ValueError(f"unknown shape {kind!r}; choose from {CLASSES}")


def scenes(n, size=32, objects=(1, 3), object_size=(8, 14), noise=0.1, seed=0):
    """``n`` seeded scenes of ``size`` x ``size`` pixels with ``objects`` = (min, max) shapes each.

    Shapes are squares (side in ``object_size``), discs and triangles of random brightness on a
    dark background with Gaussian pixel noise of standard deviation ``noise``. Boxes never
    overlap, so a detector's grid cell of side <= ``object_size[0]`` holds at most one centre.
    """
    rng = np.random.default_rng(seed)
    images = np.empty((n, 1, size, size), np.float32)
    masks = np.zeros((n, size, size), np.int64)
    all_boxes, all_labels = [], []
    for i in range(n):
        boxes, labels = _place(rng, size, rng.integers(objects[0], objects[1] + 1), object_size)
        picture = np.full((size, size), rng.uniform(0.0, 0.2), np.float32)
        for (x0, y0, x1, y1), label in zip(boxes, labels):
            inside = shape_mask(CLASSES[label], x1 - x0, y1 - y0)
            picture[y0:y1, x0:x1][inside] = rng.uniform(0.5, 1.0)
            masks[i, y0:y1, x0:x1][inside] = label + 1
        images[i, 0] = picture
        all_boxes.append(np.asarray(boxes, np.float32).reshape(-1, 4))
        all_labels.append(np.asarray(labels, np.int64))
    images = np.clip(images + rng.normal(0, noise, images.shape).astype(np.float32), 0, 1)
    return Scenes(images, masks, all_boxes, all_labels)


def _place(rng, size, count, object_size, tries=100):
    """Up to ``count`` non-overlapping integer boxes (a 1-pixel gap) inside the image."""
    boxes, labels = [], []
    for _ in range(tries):
        if len(boxes) == count:
            break
        w, h, fx, fy = rng.random(4)
        w, h = (int(object_size[0] + f * (object_size[1] + 1 - object_size[0])) for f in (w, h))
        x0, y0 = int(fx * (size - w + 1)), int(fy * (size - h + 1))
        box = (x0, y0, x0 + w, y0 + h)
        if all(box[0] > b[2] or box[2] < b[0] or box[1] > b[3] or box[3] < b[1] for b in boxes):
            boxes.append(box)
            labels.append(int(rng.integers(len(CLASSES))))
    return boxes, labels
