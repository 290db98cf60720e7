"""cnncourse.scorecard: visible checks register, run at once, and are summed into a card."""

import pytest

from cnncourse import scorecard


@pytest.fixture(autouse=True)
def fresh():
    scorecard.clear()
    yield
    scorecard.clear()


def test_check_runs_at_registration_and_report_sums(capsys):
    state = {"answer": 1}

    @scorecard.check("first", points=2)
    def _():
        assert state["answer"] == 1, "answer should be 1"

    assert "✓ first" in capsys.readouterr().out

    @scorecard.check("second", points=3)
    def _():
        pass

    assert scorecard.report() == (5.0, 5.0)
    state["answer"] = 2                    # the learner breaks the first answer later
    earned, total = scorecard.report()
    out = capsys.readouterr().out
    assert (earned, total) == (3.0, 5.0)
    assert "✗ first" in out and "answer should be 1" in out and "visible checks: 3/5 points" in out


def test_failing_check_raises_in_its_cell_and_counts_zero():
    def broken():
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        scorecard.check("todo", points=4)(broken)
    [result] = scorecard.run_all()
    assert not result.passed and "not attempted" in result.message


def test_reregistering_replaces_and_empty_report(capsys):
    assert scorecard.report() == (0.0, 0.0)
    assert "No checks registered" in capsys.readouterr().out
    scorecard.check("x", 1)(lambda: None)
    scorecard.check("x", 1)(lambda: None)
    assert len(scorecard.run_all()) == 1
