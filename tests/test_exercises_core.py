"""The shared exercise core: ✓ when right, a note (no exception) when not attempted, CheckError when wrong."""

import pytest

from cnncourse.checks import CheckError, check_close
from cnncourse.exercises import call, exercise


@exercise("output_length")
def check_output_length(output_length):
    for n, k in [(10, 3), (7, 7)]:
        check_close(call(output_length, n, k), n - k + 1, name=f"output_length({n}, {k})")


def test_right_answer_prints_tick(capsys):
    assert check_output_length(lambda n, k: n - k + 1) is True
    assert capsys.readouterr().out == "✓ output_length: correct\n"


def test_not_attempted_prints_note_and_does_not_raise(capsys):
    def output_length(n, k):
        raise NotImplementedError  # your code here

    assert check_output_length(output_length) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_wrong_answer_names_the_case():
    with pytest.raises(CheckError, match=r"output_length\(10, 3\): wrong value: expected 8, got 7"):
        check_output_length(lambda n, k: n - k)


def test_a_crash_names_the_call_that_crashed():
    def output_length(n, k):
        return [][n]

    with pytest.raises(CheckError, match=r"output_length\(10, 3\) raised IndexError"):
        check_output_length(output_length)


def test_wrapper_keeps_name_and_doc():
    assert check_output_length.__name__ == "check_output_length"
