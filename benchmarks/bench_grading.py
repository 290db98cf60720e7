"""Grading rate: cnn-grader (warm sandboxed workers, trusted judge) next to plain sequential nbgrader.

The same class of submissions (correct and half-done answers alternating; ps1: 40, ps2: 10, or 8
and 4 with --quick) is graded several ways in one run: plain ``nbgrader autograde`` (one process, a
Jupyter kernel per notebook, the visible checks as tests), cnn-grader with 1 and 2 workers, and for
ps1 cnn-grader with 1 worker and the namespace/mount/uid isolation switched off (rlimits only) to
measure the sandbox's overhead. Every cnn-grader figure includes starting the warm workers and
running the answer key once. The 100-student projection is startup + 100 x the per-submission
time at 2 workers.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def _class(tmp, count, assignment):
    from cnngrader import demo
    from cnngrader.gradebook import CourseFolder

    course = CourseFolder(tmp / "prep", ROOT / "solutions")
    release = course.prepare(assignment)
    source = course.source(assignment)
    key = demo.answer_key(source)
    half = set(list(key)[: len(key) // 2])
    subs = tmp / "subs"
    for i in range(count):
        nb = demo.solved(release, key, keep=None if i % 2 == 0 else half)
        (subs / f"s{i:03d}").mkdir(parents=True)
        nbformat.write(nb, subs / f"s{i:03d}" / f"{assignment}.ipynb")
    return subs


def _plain_nbgrader(tmp, subs, assignment):
    """Sequential ``nbgrader autograde`` over the class (its default: one kernel per notebook)."""
    course = tmp / "plain"
    (course / "source").mkdir(parents=True)
    import shutil
    shutil.copytree(ROOT / "solutions" / assignment, course / "source" / assignment)
    for student in subs.iterdir():
        target = course / "submitted" / student.name / assignment
        target.mkdir(parents=True)
        shutil.copy(student / f"{assignment}.ipynb", target)
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    flags = [f"--CourseDirectory.root={course}", "--CourseDirectory.course_id=cnn-course",
             f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(nbgrader + ["generate_assignment", assignment, "--force"] + flags, check=True,
                   capture_output=True, env=env, cwd=course)
    start = time.perf_counter()
    subprocess.run(nbgrader + ["autograde", assignment, "--force"] + flags, check=True,
                   capture_output=True, env=env, cwd=course)
    return time.perf_counter() - start


def _cnngrader(tmp, subs, workers, tag, assignment, sandbox=True):
    from cnngrader.autograde import Options, autograde
    from cnngrader.sandbox import Limits

    old = os.environ.get("CNNGRADER_SANDBOX")
    if not sandbox:
        os.environ["CNNGRADER_SANDBOX"] = "off"
    try:
        start = time.perf_counter()
        rows = autograde(assignment, subs, tmp / f"out_{tag}", course_dir=tmp / f"course_{tag}",
                         solutions=ROOT / "solutions",
                         options=Options(workers=workers, limits=Limits(timeout=120), progress=False))
        seconds = time.perf_counter() - start
    finally:
        os.environ.pop("CNNGRADER_SANDBOX", None) if old is None else os.environ.update(
            CNNGRADER_SANDBOX=old)
    bad = [r for r in rows if r.status not in ("graded", "repaired")]
    if bad:
        raise RuntimeError(f"benchmark submissions failed to grade: {bad[:3]}")
    return seconds


def _startup(workers):
    from cnngrader.worker import WarmWorker
    from concurrent.futures import ThreadPoolExecutor

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        started = list(pool.map(lambda slot: WarmWorker(1, 60000 + slot), range(workers)))
    seconds = time.perf_counter() - start
    for w in started:
        w.close()
    return seconds


def _say(what, seconds, count):
    print(f"[bench_grading] {what}: {seconds:.1f} s ({seconds / count:.2f} s per submission)",
          file=sys.stderr, flush=True)
    return seconds


def _measure(assignment, count, overhead):
    note = f"{count} {assignment} submissions, {os.cpu_count()} cores"
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        subs = _class(tmp, count, assignment)
        plain = _say(f"{assignment}: plain nbgrader", _plain_nbgrader(tmp, subs, assignment), count)
        one = _say(f"{assignment}: cnn-grader, 1 worker", _cnngrader(tmp, subs, 1, "w1", assignment), count)
        two = _say(f"{assignment}: cnn-grader, 2 workers", _cnngrader(tmp, subs, 2, "w2", assignment), count)
        bare = (_say(f"{assignment}: cnn-grader, 1 worker, no isolation",
                     _cnngrader(tmp, subs, 1, "bare", assignment, False), count) if overhead else None)
        startup = _say("starting 2 warm workers", _startup(2), 1)
    per_two = max(two - startup, 0.0) / count
    rows = [
        {"name": f"grading/{assignment}/nbgrader_sequential", "value": plain / count, "unit": "s/sub", "note": note},
        {"name": f"grading/{assignment}/cnngrader_1_worker", "value": one / count, "unit": "s/sub",
         "note": "includes starting the worker and the answer key"},
        {"name": f"grading/{assignment}/cnngrader_2_workers", "value": two / count, "unit": "s/sub",
         "note": "includes starting the workers and the answer key"},
        {"name": f"grading/{assignment}/speedup_2_vs_1_workers", "value": one / two, "unit": "x", "note": "target >= 1.7"},
        {"name": f"grading/{assignment}/speedup_vs_nbgrader", "value": plain / two, "unit": "x",
         "note": "2 workers vs plain sequential nbgrader"},
        {"name": f"grading/{assignment}/projected_100_students", "value": startup + 100 * per_two, "unit": "s",
         "note": "2 workers"},
        {"name": "grading/warm_worker_startup", "value": startup, "unit": "s",
         "note": "2 zygotes importing torch, numpy, matplotlib, IPython"},
    ]
    if bare:
        rows.append({"name": f"grading/{assignment}/sandbox_overhead", "value": 100 * (one - bare) / bare,
                     "unit": "%", "note": "1 worker, namespaces+mounts+uid vs rlimits only"})
    return rows


def run(quick=False):
    return _measure("ps1", 8 if quick else 40, True) + _measure("ps2", 4 if quick else 10, False)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
