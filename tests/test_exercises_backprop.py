"""Lecture 06's exercise checks: the lecture's answers pass, wrong answers fail with a precise message."""

import numpy as np
import pytest

from cnncourse.checks import CheckError
from cnncourse.exercises import backprop as checks
from lecture_answers import answer

LECTURE = "lectures/06_backprop_batchnorm.ipynb"


def test_grad_input_right_and_wrong():
    assert checks.check_grad_input(answer(LECTURE, "grad_input")) is True

    def unflipped(grad_out, kernel):
        return np.correlate(np.pad(grad_out, len(kernel) - 1), kernel, mode="valid")

    with pytest.raises(CheckError, match="without flipping it"):
        checks.check_grad_input(unflipped)

    def too_short(grad_out, kernel):  # forgot the zero padding: a valid correlation
        return np.correlate(grad_out, kernel[::-1], mode="valid")

    with pytest.raises(CheckError, match=r"wrong shape: expected \(6,\), got \(2,\).*len\(grad_out\) \+ K - 1"):
        checks.check_grad_input(too_short)

    with pytest.raises(CheckError, match="expected a NumPy array, got list"):
        checks.check_grad_input(lambda g, k: list(np.convolve(g, k)))


def test_batchnorm_eval_right_and_wrong():
    assert checks.check_batchnorm_eval(answer(LECTURE, "batchnorm_eval")) is True

    def batch_stats(x, gamma, beta, running_mean, running_var, eps=1e-5):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        return gamma.reshape(shape) * (x - mean) / np.sqrt(var + eps) + beta.reshape(shape)

    with pytest.raises(CheckError, match="batch's own mean and variance"):
        checks.check_batchnorm_eval(batch_stats)

    def by_variance(x, gamma, beta, running_mean, running_var, eps=1e-5):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return (gamma.reshape(shape) * (x - running_mean.reshape(shape)) / running_var.reshape(shape)
                + beta.reshape(shape))

    with pytest.raises(CheckError, match=r"sqrt\(running_var \+ eps\)"):
        checks.check_batchnorm_eval(by_variance)

    def last_axis(x, gamma, beta, running_mean, running_var, eps=1e-5):  # channels on the wrong axis
        return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta

    with pytest.raises(CheckError, match=r"batchnorm_eval|last_axis"):
        checks.check_batchnorm_eval(last_axis)


def test_fold_batchnorm_right_and_wrong():
    assert checks.check_fold_batchnorm(answer(LECTURE, "fold_batchnorm")) is True

    def forgets_bias(weight, bias, gamma, beta, running_mean, running_var, eps=1e-5):
        scale = gamma / np.sqrt(running_var + eps)
        return weight * scale[:, None, None], beta - running_mean * scale

    with pytest.raises(CheckError, match="against conv then batch norm, output: wrong values"):
        checks.check_fold_batchnorm(forgets_bias)

    with pytest.raises(CheckError, match=r"expected a pair \(weight, bias\)"):
        checks.check_fold_batchnorm(lambda *args, eps=1e-5: args[0])


def test_not_attempted_does_not_raise(capsys):
    def grad_input(grad_out, kernel):
        raise NotImplementedError  # your code here

    assert checks.check_grad_input(grad_input) is False
    assert "not attempted yet" in capsys.readouterr().out
