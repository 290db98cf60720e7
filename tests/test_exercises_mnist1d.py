"""Lecture 07's exercise checks: the lecture's answers pass, wrong answers fail with a precise message."""

import pytest
import torch

from cnncourse.checks import CheckError
from cnncourse.exercises import mnist1d as checks
from lecture_answers import answer

LECTURE = "lectures/07_mnist1d.ipynb"


def test_mlp_params_right_and_wrong():
    assert checks.check_mlp_params(answer(LECTURE, "mlp_params")) is True

    def mlp_params(widths):  # forgets the biases
        return sum(a * b for a, b in zip(widths, widths[1:]))

    with pytest.raises(CheckError, match=r"mlp_params\(\[40, 285, 135, 60, 10\]\): wrong value: expected 59065, got 58575"):
        checks.check_mlp_params(mlp_params)


def test_cross_entropy_right_and_wrong():
    assert checks.check_cross_entropy(answer(LECTURE, "cross_entropy")) is True

    def naive(logits, labels):  # right formula, but exp(1000) overflows
        probs = logits.exp() / logits.exp().sum(1, keepdim=True)
        return -probs[torch.arange(len(labels)), labels].log().mean()

    with pytest.raises(CheckError, match=r"labels \[0, 2\]\): got nan.*subtract each row's maximum"):
        checks.check_cross_entropy(naive)

    def per_example(logits, labels):  # forgot the mean
        return -logits.log_softmax(1)[torch.arange(len(labels)), labels]

    with pytest.raises(CheckError, match="expected one number .* shape \\(5,\\)"):
        checks.check_cross_entropy(per_example)


def test_not_attempted_does_not_raise(capsys):
    def mlp_params(widths):
        raise NotImplementedError  # your code here

    assert checks.check_mlp_params(mlp_params) is False
    assert "not attempted yet" in capsys.readouterr().out
