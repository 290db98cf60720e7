"""Lecture 08's exercise checks: the lecture's answers pass, wrong answers fail with a precise message."""

import pytest
import torch

from cnncourse.checks import CheckError
from cnncourse.exercises import conv2d as checks
from lecture_answers import answer

LECTURE = "lectures/08_conv2d.ipynb"


def test_conv2d_single_right_and_wrong():
    assert checks.check_conv2d_single(answer(LECTURE, "conv2d_single")) is True

    def conv2d_single(image, kernel):  # flips the kernel: true convolution, not what F.conv2d does
        return torch.nn.functional.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]

    with pytest.raises(CheckError, match=r"conv2d_single\(image \(5, 5\), kernel \(3, 3\)\): wrong values"):
        checks.check_conv2d_single(conv2d_single)

    def square_only(image, kernel):  # uses kernel.shape[0] for both axes
        k = kernel.shape[0]
        return torch.nn.functional.conv2d(image[None, None], kernel[None, None, :, :k])[0, 0]

    with pytest.raises(CheckError, match=r"kernel \(2, 4\)\): wrong shape: expected \(6, 2\), got \(6, 4\)"):
        checks.check_conv2d_single(square_only)


def test_im2col_single_right_and_wrong():
    assert checks.check_im2col_single(answer(LECTURE, "im2col_single")) is True

    def im2col_single(image, k):  # patches flattened column by column
        return torch.nn.functional.unfold(image.T[None, None], k)[0]

    with pytest.raises(CheckError, match=r"im2col_single\(image \(5, 5\), 3\): wrong values"):
        checks.check_im2col_single(im2col_single)


def test_leftover_right_and_wrong():
    assert checks.check_leftover(answer(LECTURE, "leftover")) is True

    def leftover(size, kernel_size, stride, padding):  # forgets the padding
        return (size - kernel_size) % stride

    with pytest.raises(CheckError, match=r"leftover\(10, 3, 4, 1\): wrong value: expected 1, got 3"):
        checks.check_leftover(leftover)


def test_not_attempted_does_not_raise(capsys):
    def leftover(size, kernel_size, stride, padding):
        raise NotImplementedError  # your code here

    assert checks.check_leftover(leftover) is False
    assert "not attempted yet" in capsys.readouterr().out
