"""A grading run stopped midway (Ctrl-C, ``kill``, a closed terminal) loses nothing and leaves nothing.

A TA re-grades a class and stops the run while a student's notebook is running: the grades recorded so
far stay, every student not reached keeps the earlier grade in the gradebook (a re-grade used to remove
the whole class's grades before grading anyone, so an export after a stop gave everyone 0), the run ends
within seconds with a line that says what happened instead of a traceback, and no process of the run
survives. CI runs this module as root and again as an ordinary user.
"""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from cnngrader import demo
from cnngrader.interruption import Interrupted, Stop
from cnngrader.pool import Pool
from cnngrader.sandbox import Limits, Plan
from conftest import FULL, PARTIAL, tagged_processes

BIN = Path(sys.executable).parent
linux = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")


def _grade(root, tmp, tag):
    return subprocess.Popen(
        [str(BIN / "cnn-grader"), "autograde", "ps1", "--submissions", str(tmp / "subs"), "--out", str(tmp / "out"),
         "--course-dir", str(tmp / "course"), "--solutions", str(root / "solutions"), "--workers", "1", "--seed", "5"],
        cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "CNNGRADER_TEST_TAG": tag})


@pytest.fixture(scope="module")
def stopped(root, tmp_path_factory):
    """The class graded once; then a sleeper joins it and the re-grade is stopped (SIGTERM to the grader
    alone, as ``kill`` sends it) while the sleeper's notebook runs."""
    tmp = tmp_path_factory.mktemp("interrupt")
    tag = f"interrupt-{tmp}"
    demo.build_class("ps1", tmp / "course", root / "solutions", tmp / "subs", kinds={"correct", "partial"})
    shutil.copytree(tmp / "subs" / "correct", tmp / "subs" / "zz_after")
    first = _grade(root, tmp, tag)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]

    sleeper = nbformat.read(tmp / "subs" / "correct" / "ps1.ipynb", as_version=4)
    answer = next(c for c in sleeper.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source += "\nimport time\ntime.sleep(600)\n"
    (tmp / "subs" / "m_sleeper").mkdir()
    nbformat.write(sleeper, tmp / "subs" / "m_sleeper" / "ps1.ipynb")
    graded_first = tmp / "course" / "autograded" / "correct" / "ps1" / "ps1.ipynb"
    before = graded_first.stat().st_mtime

    second = _grade(root, tmp, tag)
    deadline = time.monotonic() + 300
    while graded_first.stat().st_mtime == before and second.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)   # one worker, in order: 'correct' recorded, the sleeper next
    time.sleep(2)
    os.kill(second.pid, signal.SIGTERM)
    stopped_at = time.monotonic()
    out, err = second.communicate(timeout=120)
    took = time.monotonic() - stopped_at
    rows = {r["student"]: r for r in csv.DictReader(open(tmp / "out" / "grades.csv"))}
    return tmp, tag, second.returncode, out, err, took, rows


@linux
@pytest.mark.slow
@pytest.mark.xdist_group("grader")
def test_a_stopped_run_ends_at_once_and_says_so(stopped):
    _, _, code, out, err, took, _ = stopped
    assert code == 128 + signal.SIGTERM, err[-3000:]
    assert took < 30, took   # the sleeper's 600 s are not waited for
    assert "Traceback" not in err, err[-3000:]
    assert ("stopped by SIGTERM: 1 of 4 students graded and recorded; the other 3 are marked interrupted" in err
            and "Run the same command again" in err), err[-3000:]
    assert "interrupted" in out   # the table is printed as for a whole run


@linux
@pytest.mark.slow
@pytest.mark.xdist_group("grader")
def test_a_stopped_run_keeps_every_earlier_grade(stopped):
    tmp, _, _, _, _, _, rows = stopped
    assert {s: (r["status"], float(r["score"])) for s, r in rows.items()} == {
        "correct": ("graded", FULL), "m_sleeper": ("interrupted", 0), "partial": ("interrupted", 0),
        "zz_after": ("interrupted", 0)}
    assert "any earlier grade stays in the gradebook" in rows["partial"]["reason"]
    with Gradebook(f"sqlite:///{tmp / 'course' / 'gradebook.db'}", "cnn-course") as gb:
        scores = {s: gb.find_submission("ps1", s).score for s in ("correct", "partial", "zz_after")}
        with pytest.raises(MissingEntry):
            gb.find_submission("ps1", "m_sleeper")   # never recorded: no half-stored grade
    assert scores == {"correct": FULL, "partial": PARTIAL, "zz_after": FULL}
    assert (tmp / "course" / "autograded" / "zz_after" / "ps1" / "ps1.ipynb").exists()   # the earlier one
    assert sorted(p.name for p in (tmp / "out" / "graded").iterdir()) == ["correct.ipynb"]


@linux
@pytest.mark.slow
@pytest.mark.xdist_group("grader")
def test_no_process_of_a_stopped_run_survives(stopped):
    assert tagged_processes(stopped[1]) == []


@linux
@pytest.mark.slow
@pytest.mark.xdist_group("grader")
def test_a_worker_restarted_while_the_run_stops_does_not_outlive_it(monkeypatch):
    pool, started = Pool(1, Limits()), []
    real = pool._start

    def start_while_stopping(slot):
        started.append(real(slot))
        pool.close()   # the main thread stops the run meanwhile
        return started[-1]

    try:
        pool.workers[0].close()   # the worker died (a student broke it): the next notebook restarts it
        monkeypatch.setattr(pool, "_start", start_while_stopping)
        reply = pool._run_local(0, {"cells": ["1"], "probes": [], "plan": Plan(hide=[]), "limits": Limits()})
    finally:
        pool.close()
    assert reply["status"] == "crashed" and len(started) == 1 and not started[0].alive()


def test_a_signal_waits_for_a_held_block_then_stops():
    stop, done = Stop(), []
    with pytest.raises(Interrupted, match="SIGTERM"), stop.installed():
        with stop.held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            done.append("the block ran to its end")
        done.append("not reached")
    assert done == ["the block ran to its end"] and stop.signum == signal.SIGTERM


def test_a_signal_outside_a_held_block_stops_at_once():
    stop = Stop()
    started = time.monotonic()
    with pytest.raises(Interrupted) as caught, stop.installed():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert time.monotonic() - started < 2 and caught.value.signum == signal.SIGTERM


def test_once_the_run_is_ending_a_signal_is_only_noted():
    stop = Stop()
    with stop.installed():
        stop.ending()
        os.kill(os.getpid(), signal.SIGTERM)   # Ctrl-C pressed again while the run cleans up
        time.sleep(0.05)
    assert stop.signum == signal.SIGTERM


def test_ignored_signals_stay_ignored_and_handlers_come_back():
    earlier = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Stop().installed():
            os.kill(os.getpid(), signal.SIGHUP)   # as under nohup: nothing happens
            time.sleep(0.05)
            assert signal.getsignal(signal.SIGTERM) != before[signal.SIGTERM]
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert {s: signal.getsignal(s) for s in before} == before
    finally:
        signal.signal(signal.SIGHUP, earlier)
