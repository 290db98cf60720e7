"""Synthetic scenes: shapes, seeding, masks that agree with boxes and labels."""

import numpy as np
import pytest

from cnncourse import synthetic


def test_shapes_and_dtypes():
    s = synthetic.scenes(20, size=32, seed=0)
    assert len(s) == 20
    assert s.images.shape == (20, 1, 32, 32) and s.images.dtype == np.float32
    assert s.masks.shape == (20, 32, 32) and s.masks.dtype == np.int64
    assert 0.0 <= s.images.min() and s.images.max() <= 1.0
    assert len(s.boxes) == len(s.labels) == 20
    for b, labels in zip(s.boxes, s.labels):
        assert b.shape == (len(labels), 4) and b.dtype == np.float32 and 1 <= len(labels) <= 3


def test_same_seed_same_scenes_other_seed_other_scenes():
    a, b, c = (synthetic.scenes(5, seed=s) for s in (7, 7, 8))
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.images, c.images)


def test_masks_agree_with_boxes_and_labels():
    s = synthetic.scenes(50, size=32, object_size=(8, 12), seed=1)
    for mask, b, labels in zip(s.masks, s.boxes, s.labels):
        assert set(np.unique(mask)) == {0} | {int(k) + 1 for k in labels}
        for (x0, y0, x1, y1), label in zip(b.astype(int), labels):
            assert 8 <= x1 - x0 <= 12 and 8 <= y1 - y0 <= 12
            inside = mask[y0:y1, x0:x1]
            assert (inside == label + 1).any()
            # the shape touches all four sides of its box (a square fills it)
            assert all((edge == label + 1).any() for edge in (inside[0], inside[-1], inside[:, 0], inside[:, -1]))
            if synthetic.CLASSES[label] == "square":
                assert (inside == label + 1).all()
        outside = np.ones_like(mask, bool)
        for x0, y0, x1, y1 in b.astype(int):
            outside[y0:y1, x0:x1] = False
        assert (mask[outside] == 0).all()


def test_boxes_never_overlap():
    s = synthetic.scenes(100, size=32, seed=2)
    for b in s.boxes:
        for i in range(len(b)):
            for j in range(i + 1, len(b)):
                assert b[i, 2] < b[j, 0] or b[j, 2] < b[i, 0] or b[i, 3] < b[j, 1] or b[j, 3] < b[i, 1]


def test_shape_masks_by_hand():
    assert synthetic.shape_mask("square", 3, 2).all()
    disc = synthetic.shape_mask("disc", 4, 4)
    assert disc.astype(int).tolist() == [[0, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1], [0, 1, 1, 0]]
    triangle = synthetic.shape_mask("triangle", 5, 5).astype(int)
    assert triangle[0].tolist() == [0, 0, 1, 0, 0] and triangle[-1].tolist() == [1, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="unknown shape"):
        synthetic.shape_mask("star", 4, 4)


def test_foreground_is_brighter_than_background():
    s = synthetic.scenes(30, seed=3, noise=0.0)
    for image, mask in zip(s.images[:, 0], s.masks):
        assert image[mask > 0].min() > image[mask == 0].max()
