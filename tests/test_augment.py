"""Augmentations against exact hand cases, and the seeded random batch augmentation."""

import numpy as np
import pytest
import torch

from cnncourse import augment, train


def test_conversions():
    picture = np.zeros((4, 6, 3), np.uint8)
    picture[0, 0] = [255, 0, 51]
    x = augment.to_tensor(picture)
    assert x.shape == (3, 4, 6) and x.dtype == torch.float32
    assert torch.allclose(x[:, 0, 0], torch.tensor([1.0, 0.0, 0.2]))
    assert augment.to_image(x).shape == (4, 6, 3)


def test_flip():
    x = torch.arange(6.0).view(1, 2, 3)
    assert augment.flip(x).tolist() == [[[2, 1, 0], [5, 4, 3]]]
    assert augment.flip(x, horizontal=False).tolist() == [[[3, 4, 5], [0, 1, 2]]]
    assert augment.flip(x[None]).shape == (1, 1, 2, 3)


def test_crop_resizes_the_window_back():
    x = torch.arange(16.0).view(1, 4, 4)
    assert torch.equal(augment.crop(x, 1, 2, 2, 2, size=(2, 2)), x[:, 1:3, 2:4])
    assert augment.crop(x, 0, 0, 2, 2).shape == (1, 4, 4)


@pytest.mark.parametrize("degrees, row, col", [(90, 0, 0), (-90, 4, 4), (180, 4, 0), (0, 0, 4)])
def test_rotate_moves_the_top_right_pixel(degrees, row, col):
    x = torch.zeros(1, 5, 5)
    x[0, 0, 4] = 1.0
    out = augment.rotate(x, degrees)
    assert out[0, row, col] == pytest.approx(1.0, abs=1e-5) and out.sum() == pytest.approx(1.0, abs=1e-4)


def test_rotate_keeps_distances_in_a_wide_image():
    x = torch.zeros(1, 5, 9)
    x[0, 2, 6] = 1.0                             # 2 pixels right of the centre (2, 4)
    out = augment.rotate(x, 90)
    assert out[0, 0, 4] == pytest.approx(1.0, abs=1e-5)   # now 2 pixels above it


def test_colour():
    x = torch.rand(3, 8, 8) * 0.5
    assert torch.allclose(augment.colour(x), x)
    assert torch.allclose(augment.colour(x, brightness=2.0), (2 * x).clamp(0, 1))
    flat = augment.colour(x, contrast=0.0)
    assert torch.allclose(flat, x.mean().expand_as(x), atol=1e-6)
    grey = augment.colour(x, saturation=0.0)
    assert torch.allclose(grey[0], grey[1]) and torch.allclose(grey[1], grey[2])


def test_blur_keeps_constants_and_mass_and_smooths():
    assert augment.gaussian_kernel(1.0).sum() == pytest.approx(1.0)
    assert len(augment.gaussian_kernel(1.0)) == 7
    constant = torch.full((3, 9, 9), 0.3)
    assert torch.allclose(augment.blur(constant, 1.5), constant)
    dot = torch.zeros(1, 15, 15)
    dot[0, 7, 7] = 1.0
    out = augment.blur(dot, 1.0)
    assert out.sum() == pytest.approx(1.0, abs=1e-5) and out.max() < 0.2
    assert torch.equal(augment.blur(dot, 0), dot)


def test_random_augment_is_seeded_shape_preserving_and_identity_by_default():
    x = torch.rand(8, 1, 12, 12)
    assert torch.equal(augment.RandomAugment()(x), x)
    options = dict(flip=0.5, degrees=15, shift=0.1, scale=(0.9, 1.1), brightness=0.2, contrast=0.2, blur=0.5)
    a, b = augment.RandomAugment(seed=1, **options), augment.RandomAugment(seed=1, **options)
    out = a(x)
    assert out.shape == x.shape and torch.equal(out, b(x))
    assert not torch.equal(a(x), out)          # the next batch gets new draws
    mirrored = augment.RandomAugment(flip=1.0)(x)
    assert torch.equal(mirrored, x.flip(-1))


def test_fit_applies_augment_to_training_batches_only():
    seen = []

    def spy(batch):
        seen.append(batch.shape)
        return batch

    X, y = torch.rand(40, 1, 4, 4), torch.randint(0, 2, (40,))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    hist = train.fit(model, (X, y), (X, y), steps=5, batch_size=8, augment=spy, progress=False)
    assert seen == [(8, 1, 4, 4)] * 5 and len(hist.steps) == 5 and hist.metric == "acc"
