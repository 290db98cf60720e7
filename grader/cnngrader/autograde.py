"""Autograde a class: audit and repair, sandboxed parallel execution, a trusted judge, nbgrader's book.

1. **Prepare** (main thread): find each student's notebook, parse it (``invalid`` if it is not a
   notebook), repair it against the release, store it as nbgrader's submission and sanitize it with
   nbgrader's own preprocessors.
2. **Key** (once per run): the judge draws the run's cases from the seed; the answer key's cells
   run in a sandbox and its functions answer every case.
3. **Execute** (``--workers`` warm sandboxed fork servers, or a Dask cluster): each student's
   answer cells run, then the judge's probes call the student's functions and return plain data.
   Test cells never run beside student code.
4. **Judge and record** (main thread, as results arrive): the judge compares each student's data
   with the key's; an item whose code reaches borrowed code (``borrowing``, read from the
   submission in step 1) scores 0; nbgrader's ``autograde`` stores the verdicts (``gradebook.Replay``).
5. **Copies** (``similarity``): a submission near-identical to the answer key is flagged on its row
   (no penalty); near-identical pairs of students go to ``similarity.csv``.

Every student gets a row in ``grades.csv``; invalid or missing submissions are removed from the
gradebook so that no stale score survives a re-grade.
"""

import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnngrader import borrowing
from cnngrader import repair as repairs
from cnngrader import report, sandbox, similarity, submissions
from cnngrader.gradebook import (CourseFolder, Outcome, forget, is_test_cell, pipeline, record, runs_in_sandbox,
                                 sanitize)
from cnngrader.judge import Judge, KeyFailure
from cnngrader.pool import Pool
from cnngrader.report import Row

SYSTEM = {"/", "/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/opt", "/var", "/dev", "/proc",
          "/sys", "/run", "/boot", "/srv", "/mnt", "/media"}


@dataclass
class Options:
    workers: int = 0                # 0: the number of cores
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    dask_scheduler: str = None      # address of an existing Dask scheduler, or a Client
    progress: bool = None           # None: a bar when stderr is a terminal
    seed: int = None                # the run's seed for the judge's inputs (None: a fresh one)


def _hidden_paths(course, directory, out):
    paths = {course.root, course.solutions, Path(directory).resolve(), Path(out).resolve(),
             Path.cwd().resolve(), Path.home(), Path("/root"), Path("/home"), Path("/var/tmp"),
             Path("/dev/shm"), Path("/run/lock"), Path("/var/lock")}
    paths.update(Path(p) for p in os.environ.get("CNNGRADER_HIDE", "").split(os.pathsep) if p)
    checkout = Path(__file__).resolve().parents[2]  # the course repository (grader/work lives there)
    if (checkout / "pyproject.toml").exists():
        paths.add(checkout)
    return sorted(str(p) for p in paths if str(p) not in SYSTEM)


def autograde(assignment, directory, out, course_dir="grader/work", solutions="solutions",
              db_url=None, options=None):
    """Grade every submission in ``directory``; write ``out/grades.csv``; return the rows."""
    options = options or Options()
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    course = CourseFolder(course_dir, solutions, db_url)
    release = course.prepare(assignment)
    key = course.source(assignment)
    judge = Judge(assignment, seed, [c.metadata["nbgrader"]["grade_id"] for c in release.cells if is_test_cell(c)])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"cnn-grader: grading {assignment} with run seed {seed}", file=sys.stderr)
    with course.gradebook() as gb:
        notebook_name = gb.find_assignment(assignment).notebooks[0].name
    plan = sandbox.Plan(hide=_hidden_paths(course, directory, out))
    probes = judge.probes()
    rows, tasks, ran, borrowed, answers = {}, [], {}, {}, {}
    for sub in submissions.find(directory, notebook_name):
        row = rows[sub.student] = Row(sub.student, assignment, flags=list(sub.flags))
        forget(course, assignment, sub.student)
        if sub.path is None:
            row.status, row.reason = "missing", sub.reason
            continue
        try:
            fixed = repairs.repair(repairs.load(sub.path), release)
        except repairs.InvalidNotebook as err:
            row.status, row.reason = "invalid", f"{sub.path.name}: {err}"
            continue
        row.flags += fixed.flags
        answers[sub.student] = similarity.answers(fixed.notebook, release)
        row.status = "repaired" if fixed.repaired or sub.flags else "graded"
        target = course.path("submitted", sub.student, assignment)
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(fixed.notebook, target / f"{notebook_name}.ipynb")
        try:
            sane = sanitize(course, assignment, sub.student, notebook_name, fixed.notebook)
        except Exception as err:  # nbgrader rejects what it cannot grade: say why
            row.status, row.reason = "invalid", f"nbgrader could not read the notebook: {err}"
            forget(course, assignment, sub.student)
            continue
        ran[sub.student] = [c.source for c in sane.cells if runs_in_sandbox(c)]
        borrowed[sub.student] = borrowing.check(judge, [c for c in sane.cells if runs_in_sandbox(c)])
        tasks.append({"student": sub.student, "cells": ran[sub.student], "probes": probes, "plan": plan,
                      "limits": options.limits})
    pool = Pool(min(options.workers or os.cpu_count() or 1, max(len(tasks), 1)), options.limits,
                options.dask_scheduler)
    for line in (pool.mechanisms.missing if pool.mechanisms is not None else []):
        print(f"cnn-grader: WARNING sandbox fallback: {line}", file=sys.stderr)
    api = course.api(Autograde={"autograde_preprocessors": pipeline()})
    titles = {item.grade_id: item.title for item in judge.items}
    bar = _progress(len(tasks), options.progress)
    try:
        judge.learn_key(pool.run({"student": "answer key", "cells": [c.source for c in key.cells if runs_in_sandbox(c)],
                                  "probes": probes, "plan": plan, "limits": options.limits}))
        for student, reply in (pool.submit_all(tasks) if tasks else []):
            row = rows[student]
            verdicts = borrowing.apply(judge.verdicts(reply), borrowed[student])
            result = record(course, api, assignment, student, Outcome(ran[student], reply, verdicts, titles, seed))
            _fill(row, reply, verdicts, result)
            bar.update(1)
    except KeyFailure as err:
        raise SystemExit(f"cnn-grader: {assignment}: {err}. Fix the answer key in {solutions}; nobody was graded.")
    finally:
        bar.close()
        pool.close()
    for student, flag in similarity.key_flags(similarity.answers(key, release), answers).items():
        rows[student].flags.append(flag)   # copies are noticed, not penalised
    similarity.write(out / "similarity.csv", similarity.pairs(answers))
    result = [rows[s] for s in sorted(rows)]
    report.write_grades(result, out / "grades.csv")
    report.copy_graded(course, assignment, notebook_name, result, out)
    report.write_sandbox_note(pool.mechanisms, options.limits, plan, seed, out)
    print(f"cnn-grader: {len(result)} submissions of {assignment} in {time.perf_counter() - started:.1f} s "
          f"(run seed {seed}) -> {out / 'grades.csv'}", file=sys.stderr)
    return result


def _fill(row, reply, verdicts, result):
    """Score, status and reason of one student from what nbgrader recorded."""
    if isinstance(result, str):
        row.status, row.reason = "crashed", result
        return
    row.score, row.max_score, recorded = result
    if reply["status"] != "ok":
        row.status, row.reason = reply["status"], reply["reason"]
        log = reply.get("log", "").strip()
        if log and reply["status"] == "crashed":
            row.reason += f"; last output: {log.splitlines()[-1][:200]}"
    else:
        row.reason = report.reason(recorded, verdicts, row.max_score)
    row.reason = "; ".join([row.reason] + reply.get("notes", []))  # e.g. processes killed for memory


def _progress(total, enabled):
    from tqdm.auto import tqdm
    enabled = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, disable=not enabled, desc="autograde", unit="student")
