"""Lecture 11's exercise checks: the lecture's answers pass, wrong answers fail with a precise message."""

import numpy as np
import pytest
import torch

from cnncourse.checks import CheckError
from cnncourse.exercises import inside as checks
from lecture_answers import answer

LECTURE = "lectures/11_inside_a_cnn.ipynb"


def _gradient(model, image, target):
    x = torch.tensor(image)[None].requires_grad_(True)
    model(x)[0, target].backward()
    return x.grad[0].numpy()


def test_grad_times_input_right_and_wrong():
    assert checks.check_grad_times_input(answer(LECTURE, "grad_times_input")) is True

    with pytest.raises(CheckError, match="returned the gradient itself"):
        checks.check_grad_times_input(_gradient)

    def absolute(model, image, target):
        return np.abs(_gradient(model, image, target) * image)

    with pytest.raises(CheckError, match="keep the sign"):
        checks.check_grad_times_input(absolute)

    def squeezed(model, image, target):
        return (_gradient(model, image, target) * image)[0]

    with pytest.raises(CheckError, match=r"wrong shape: expected \(1, 5, 5\), got \(5, 5\)"):
        checks.check_grad_times_input(squeezed)

    def in_place(model, image, target):
        image *= _gradient(model, image, target)
        return image

    with pytest.raises(CheckError, match="changed the input image in place"):
        checks.check_grad_times_input(in_place)


def test_occlusion_map_right_and_wrong():
    right = answer(LECTURE, "occlusion_map")
    assert checks.check_occlusion_map(right) is True

    def reversed_sign(model, image, target, patch):
        return -right(model, image, target, patch)

    with pytest.raises(CheckError, match="wrong sign"):
        checks.check_occlusion_map(reversed_sign)

    def probabilities(model, image, target, patch):  # drop of the softmax probability, not of the score
        c, h, w = image.shape
        out = np.zeros((h // patch, w // patch))
        with torch.no_grad():
            p = model(torch.tensor(image)[None]).softmax(1)[0, target]
            for i in range(h // patch):
                for j in range(w // patch):
                    x = image.copy()
                    x[:, i * patch:(i + 1) * patch, j * patch:(j + 1) * patch] = 0
                    out[i, j] = p - model(torch.tensor(x)[None]).softmax(1)[0, target]
        return out

    with pytest.raises(CheckError, match=r"occlusion_map|probabilities.*wrong values"):
        checks.check_occlusion_map(probabilities)

    with pytest.raises(CheckError, match=r"wrong shape: expected \(3, 3\)"):
        checks.check_occlusion_map(lambda model, image, target, patch: np.zeros(image.shape[1:]))


def test_not_attempted_does_not_raise(capsys):
    def occlusion_map(model, image, target, patch):
        raise NotImplementedError  # your code here

    assert checks.check_occlusion_map(occlusion_map) is False
    assert "not attempted yet" in capsys.readouterr().out
