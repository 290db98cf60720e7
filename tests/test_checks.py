import numpy as np
import pytest
import torch

from cnncourse.checks import CheckError, check_array, check_close, check_type


def test_correct_answers_pass():
    check_array(np.arange(3.0), np.arange(3.0))
    check_array(torch.ones(2, 2), torch.ones(2, 2))
    check_close(0.1 + 0.2, 0.3)
    check_close(7, 7)
    check_type([1], list)


@pytest.mark.parametrize("answer,expected,message", [
    ([1.0, 2.0], np.array([1.0, 2.0]), "wrong type: expected numpy.ndarray, got list"),
    (np.zeros((2, 3)), np.zeros((3, 2)), r"wrong shape: expected \(3, 2\), got \(2, 3\)"),
    (np.zeros(3, dtype=np.float32), np.zeros(3), "wrong dtype: expected float64, got float32"),
    (np.array([1.0, 2.0, 5.0]), np.array([1.0, 2.0, 3.0]), "first at index 2: expected 3, got 5"),
    (torch.zeros(2), np.zeros(2), "expected numpy.ndarray, got torch.Tensor"),
])
def test_precise_messages(answer, expected, message):
    with pytest.raises(CheckError, match=message):
        check_array(answer, expected, name="answer")


def test_multi_dimensional_index_is_reported():
    expected = np.zeros((2, 3))
    answer = expected.copy()
    answer[1, 2] = 1
    with pytest.raises(CheckError, match=r"1 of 6 positions; first at index \(1, 2\)"):
        check_array(answer, expected)


def test_custom_eq_cannot_pass():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    liar = np.array([9.0, 9.0]).view(Liar)
    with pytest.raises(CheckError):
        check_array(liar, np.array([1.0, 2.0]))


def test_scalar_checks():
    with pytest.raises(CheckError, match="expected an integer"):
        check_close(7.0, 7)
    with pytest.raises(CheckError, match="expected a number, got str"):
        check_close("7", 7)
    with pytest.raises(CheckError, match="wrong value: expected 7, got 8"):
        check_close(8, 7)
    with pytest.raises(CheckError, match="wrong type: expected dict"):
        check_type([], dict)
