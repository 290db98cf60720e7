"""Grading rate: cnn-grader (warm sandboxed workers) next to plain sequential nbgrader autograde.

The same class of ps1 submissions (40 by default, 8 with --quick; correct and half-done answers
alternating) is graded four ways in one run: plain ``nbgrader autograde`` (one process, a Jupyter
kernel per notebook), cnn-grader with 1 and 2 workers, and cnn-grader with 1 worker and the
namespace/mount/uid isolation switched off (rlimits only) to measure the sandbox's overhead.
Every cnn-grader figure includes starting the warm workers. The 100-student projection is
startup + 100 x the per-submission time at 2 workers.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1"


def _class(tmp, count):
    from cnngrader import demo
    from cnngrader.autograde import Course

    course = Course(tmp / "prep", ROOT / "solutions")
    release = course.prepare(ASSIGNMENT)
    source = nbformat.read(course.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    key = demo.answer_key(source)
    half = set(list(key)[: len(key) // 2])
    subs = tmp / "subs"
    for i in range(count):
        nb = demo.solved(release, key, keep=None if i % 2 == 0 else half)
        (subs / f"s{i:03d}").mkdir(parents=True)
        nbformat.write(nb, subs / f"s{i:03d}" / f"{ASSIGNMENT}.ipynb")
    return subs


def _plain_nbgrader(tmp, subs):
    """Sequential ``nbgrader autograde`` over the class (its default: one kernel per notebook)."""
    course = tmp / "plain"
    (course / "source").mkdir(parents=True)
    import shutil
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    for student in subs.iterdir():
        target = course / "submitted" / student.name / ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copy(student / f"{ASSIGNMENT}.ipynb", target)
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    flags = [f"--CourseDirectory.root={course}", "--CourseDirectory.course_id=cnn-course",
             f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(nbgrader + ["generate_assignment", ASSIGNMENT, "--force"] + flags, check=True,
                   capture_output=True, env=env, cwd=course)
    start = time.perf_counter()
    subprocess.run(nbgrader + ["autograde", ASSIGNMENT, "--force"] + flags, check=True,
                   capture_output=True, env=env, cwd=course)
    return time.perf_counter() - start


def _cnngrader(tmp, subs, workers, tag, sandbox=True):
    from cnngrader.autograde import Options, autograde
    from cnngrader.sandbox import Limits

    old = os.environ.get("CNNGRADER_SANDBOX")
    if not sandbox:
        os.environ["CNNGRADER_SANDBOX"] = "off"
    try:
        start = time.perf_counter()
        rows = autograde(ASSIGNMENT, subs, tmp / f"out_{tag}", course_dir=tmp / f"course_{tag}",
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
    from cnngrader.warm import WarmWorker
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


def run(quick=False):
    count = 8 if quick else 40
    note = f"{count} ps1 submissions, {os.cpu_count()} cores (shared machine: timings inflated)"
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        subs = _class(tmp, count)
        plain = _say("plain nbgrader", _plain_nbgrader(tmp, subs), count)
        one = _say("cnn-grader, 1 worker", _cnngrader(tmp, subs, 1, "w1"), count)
        two = _say("cnn-grader, 2 workers", _cnngrader(tmp, subs, 2, "w2"), count)
        bare = _say("cnn-grader, 1 worker, no isolation", _cnngrader(tmp, subs, 1, "bare", False), count)
        startup = _say("starting 2 warm workers", _startup(2), 1)
    per_two = max(two - startup, 0.0) / count
    return [
        {"name": "grading/nbgrader_sequential", "value": plain / count, "unit": "s/sub",
         "note": note},
        {"name": "grading/cnngrader_1_worker", "value": one / count, "unit": "s/sub",
         "note": "includes starting the warm worker"},
        {"name": "grading/cnngrader_2_workers", "value": two / count, "unit": "s/sub",
         "note": "includes starting the warm workers"},
        {"name": "grading/speedup_2_vs_1_workers", "value": one / two, "unit": "x",
         "note": "target >= 1.7"},
        {"name": "grading/speedup_vs_nbgrader", "value": plain / two, "unit": "x",
         "note": "2 workers vs plain sequential nbgrader"},
        {"name": "grading/warm_worker_startup", "value": startup, "unit": "s",
         "note": "2 zygotes importing torch, numpy, matplotlib, IPython"},
        {"name": "grading/projected_100_students", "value": startup + 100 * per_two, "unit": "s",
         "note": "2 workers; target <= 120 s"},
        {"name": "grading/sandbox_overhead", "value": 100 * (one - bare) / bare, "unit": "%",
         "note": "1 worker, namespaces+mounts+uid vs rlimits only; target <= 15 %"},
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
