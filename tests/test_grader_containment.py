"""Containment that holds as root and as an ordinary user: two grading runs at once on one machine,
one of them grading a fork bomb, an endless loop, a memory fan-out (3 x 1.5 GB under 2048 MB) and
lingering CPU hogs, then a correct classmate on the same worker; both runs come out right and
leave no process.

CI runs this module twice: in the test suite (as root) and again as an unprivileged user it
creates (``.ci/run``), where the sandbox has no uid switch and relies on user namespaces.
"""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cnngrader import demo, sandbox
from conftest import FULL, PARTIAL, tagged_processes

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux"), pytest.mark.slow,
              pytest.mark.xdist_group("grader")]
BIN = Path(sys.executable).parent


def _run(root, tmp, name, kinds):
    demo.build_class("ps1", tmp / name / "course", root / "solutions", tmp / name / "subs", kinds=kinds)
    shutil.copytree(tmp / name / "subs" / "correct", tmp / name / "subs" / "zz_after")  # graded last
    return subprocess.Popen(
        [str(BIN / "cnn-grader"), "autograde", "ps1", "--submissions", str(tmp / name / "subs"), "--out",
         str(tmp / name / "out"), "--course-dir", str(tmp / name / "course"), "--solutions", str(root / "solutions"),
         "--workers", "1", "--timeout", "8", "--seed", "5"],
        cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "CNNGRADER_TEST_TAG": f"containment-{tmp}"})


@pytest.fixture(scope="module")
def two_runs(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("containment")
    mech = sandbox.probe()
    hostile = {"hostile_loop", "hostile_fanout", "hostile_hog"} | (
        {"hostile_forkbomb"} if mech.setuid or mech.user_namespace else set())
    first = _run(root, tmp, "first", {"correct", "blank"} | hostile)
    second = _run(root, tmp, "second", {"correct", "partial", "colab"})
    results = {}
    for name, proc in (("first", first), ("second", second)):
        out, err = proc.communicate(timeout=900)
        rows = {r["student"]: r for r in csv.DictReader(open(tmp / name / "out" / "grades.csv"))} \
            if (tmp / name / "out" / "grades.csv").exists() else {}
        results[name] = (proc.returncode, err, rows)
    return tmp, hostile, results


def test_both_runs_finish_without_a_traceback(two_runs):
    _, _, results = two_runs
    for name, (code, err, rows) in results.items():
        assert code == 0 and "Traceback" not in err, (name, err[-3000:])
        assert rows, name


def test_both_runs_grade_right_beside_a_hostile_class(two_runs):
    _, hostile, results = two_runs
    first, second = results["first"][2], results["second"][2]
    assert (first["correct"]["status"], float(first["correct"]["score"])) == ("graded", FULL)
    assert float(first["blank"]["score"]) == 0
    assert first["hostile_loop"]["status"] == "timeout" and "CPU time" in first["hostile_loop"]["reason"]
    if "hostile_forkbomb" in hostile:
        assert first["hostile_forkbomb"]["status"] in ("timeout", "crashed", "graded")
    # contained; its answers are not credited, since it starts processes beside the graded functions
    assert (first["hostile_fanout"]["status"], float(first["hostile_fanout"]["score"])) == ("graded", 0)
    assert "went over the 2048 MB memory limit" in first["hostile_fanout"]["reason"]
    assert first["hostile_hog"]["status"] == "timeout" and "CPU time" in first["hostile_hog"]["reason"]
    assert (first["zz_after"]["status"], float(first["zz_after"]["score"])) == ("graded", FULL)
    assert {s: (r["status"], float(r["score"])) for s, r in second.items()} == {
        "correct": ("graded", FULL), "partial": ("graded", PARTIAL), "colab": ("repaired", FULL),
        "zz_after": ("graded", FULL)}


def test_no_process_of_either_run_survives(two_runs):
    assert tagged_processes(f"containment-{two_runs[0]}") == []


def test_the_run_says_what_it_could_not_enforce(two_runs):
    tmp = two_runs[0]
    note = (tmp / "first" / "out" / "sandbox.txt").read_text()
    mech = sandbox.probe()
    assert ("process cap per submission" in note) == bool(mech.setuid or mech.user_namespace)
    assert ("a control group per submission" in note) == bool(mech.cgroup)
    assert "memory of all the submission's processes together" in note or mech.cgroup
    for line in mech.missing:
        assert f"NOT ENFORCED: {line}" in note
