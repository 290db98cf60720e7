"""Autograde a class: audit and repair, sandboxed parallel execution, a trusted judge, nbgrader's book.

1. **Prepare** (main thread, while the workers start): regenerate the release if its sources
   changed; find each student's notebook, parse it
   (``invalid`` if it is not a notebook), repair it against the release and sanitize it with
   nbgrader's own preprocessors.
2. **Key** (once per run): the judge draws the run's cases from the seed; the answer key's cells
   run in a sandbox and its functions answer every case.
3. **Execute** (``--workers`` warm sandboxed fork servers, or a Dask cluster): each student's
   answer cells run, then the judge's probes call the student's functions and return plain data.
   Test cells never run beside student code.
4. **Judge and record** (main thread, as results arrive): the judge compares each student's data
   with the key's; an item whose code reaches borrowed code (``borrowing``, read from the
   submission in step 1) scores 0; ``gradebook.Book`` stores the verdicts in nbgrader's gradebook, one
   transaction per student that replaces the student's earlier grade, and writes the submitted and
   autograded notebooks.
5. **Copies** (``similarity``): a submission near-identical to the answer key is flagged on its row
   (no penalty); near-identical pairs of students go to ``similarity.csv``.

Every student gets a row in ``grades.csv``; invalid or missing submissions are removed from the
gradebook so that no stale score survives a re-grade. A stopped run (Ctrl-C, ``kill``) loses nothing:
a student's earlier grade is replaced only by a new one, each in one transaction.
"""

import itertools
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cnngrader import borrowing
from cnngrader import repair as repairs
from cnngrader import interruption, report, sandbox, similarity, submissions, writable
from cnngrader.gradebook import Book, CourseFolder, Outcome, is_test_cell, notebook_text, runs_in_sandbox
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
    """Grade every submission in ``directory``; write ``out/grades.csv``; return the rows. Stopped by a
    signal (Ctrl-C, ``kill``, a closed terminal), it kills its workers, keeps every grade recorded so far,
    writes the report with the students it did not reach marked ``interrupted`` (their earlier grade, if
    any, stays in the gradebook) and raises ``Interrupted`` with that report."""
    options = options or Options()
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    writable.check(course_dir, "--course-dir")  # before any worker starts, not at the gradebook's first write
    writable.check(out, "--out")
    course = CourseFolder(course_dir, solutions, db_url)
    notebook_name = course.notebook(assignment)
    found = submissions.find(directory, notebook_name)
    size = min(options.workers or os.cpu_count() or 1, max(sum(s.path is not None for s in found), 1))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"cnn-grader: grading {assignment} with run seed {seed}", file=sys.stderr)
    rows, prepared, stop = {}, {}, interruption.Stop()
    with stop.installed(), ThreadPoolExecutor(1) as starter:
        starting = starter.submit(Pool, size, options.limits, options.dask_scheduler)  # warms up meanwhile
        try:
            with stop.held():  # a release half generated is no release
                try:
                    release = course.prepare(assignment)
                except SystemExit:
                    if stop.signum:  # Ctrl-C reaches the whole process group: nbgrader's helpers stopped too
                        raise interruption.Interrupted(stop.name, signum=stop.signum) from None
                    raise
            key, stubs = course.source(assignment), similarity.stubs(release)
            judge = Judge(assignment, seed, [c.metadata["nbgrader"]["grade_id"] for c in release.cells
                                             if is_test_cell(c)])
            plan = sandbox.Plan(hide=_hidden_paths(course, directory, out))
            with Book(course, assignment, notebook_name) as book:
                tasks = _prepare(book, found, release, stubs, judge, plan, options.limits, rows, prepared, stop)
                early = []  # prepared while the workers start
                while not starting.done() and (task := next(tasks, None)) is not None:
                    early.append(task)
                _grade(starting.result(), book, judge, itertools.chain(early, tasks), prepared, rows, seed, key,
                       plan, options, stop, total=sum(s.path is not None for s in found))
        except KeyFailure as err:
            raise SystemExit(f"cnn-grader: {assignment}: {err}. Fix the answer key in {solutions}; nobody was graded.")
        except interruption.Interrupted as err:
            if not rows:  # stopped before any student was read: nothing to report
                raise interruption.Interrupted(f"stopped by {err}: nobody was graded", signum=err.signum) from None
        finally:
            stop.ending()  # from here on a signal is only noted: the clean-up and the report are not cut short
            pool = starting.result()
            pool.close()
        result = _report(course, assignment, notebook_name, key, stubs, rows, prepared, stop.name, out)
        report.write_sandbox_note(pool.mechanisms, options.limits, plan, seed, out)
        stopped = sum(r.status == "interrupted" for r in result)
        if stopped:
            raise interruption.Interrupted(
                f"stopped by {stop.name}: {len(result) - stopped} of {len(result)} students graded and recorded; "
                f"the other {stopped} are marked interrupted in {out / 'grades.csv'} and keep their earlier grade "
                f"in the gradebook, if they had one. Run the same command again to grade the whole class",
                result, signum=stop.signum)
    print(f"cnn-grader: {len(result)} submissions of {assignment} in {time.perf_counter() - started:.1f} s "
          f"(run seed {seed}) -> {out / 'grades.csv'}", file=sys.stderr)
    return result


def _report(course, assignment, notebook_name, key, stubs, rows, prepared, stopped, out):
    """Step 5 and the run's files: copies flagged, ``grades.csv``, the graded notebooks. Students a stopped
    run did not record are marked ``interrupted``. Returns the rows, sorted."""
    for student, row in rows.items():
        if row.status == "pending" or student in prepared and prepared[student].notebook is not None:
            row.status, row.score, row.max_score = "interrupted", 0.0, 0.0
            row.reason = (f"not graded: the run was stopped ({stopped}) before this student; any earlier grade "
                          "stays in the gradebook. Run the command again")
    answers = {student: p.answers for student, p in prepared.items()}
    for student, flag in similarity.key_flags(similarity.answers(key, stubs), answers).items():
        rows[student].flags.append(flag)   # copies are noticed, not penalised
    similarity.write(out / "similarity.csv", similarity.pairs(answers))
    result = [rows[s] for s in sorted(rows)]
    report.write_grades(result, out / "grades.csv")
    report.copy_graded(course, assignment, notebook_name, [r for r in result if r.status != "interrupted"], out)
    return result


@dataclass
class Prepared:
    """One student's submission, ready to run: sanitized, read for borrowing and for copies."""

    notebook: object     # the sanitized notebook (None once recorded and written)
    submitted: str       # the repaired submission, as nbgrader's submitted copy (written when recorded)
    task: dict           # what the sandbox runs
    borrowed: dict       # grade id -> why it reaches borrowed code (or None)
    answers: dict        # the answer cells, for the similarity check


def _prepare(book, found, release, stubs, judge, plan, limits, rows, prepared, stop):
    """Step 1, lazily: a row in ``rows`` for every student (``pending`` until decided); for each gradable one
    a ``Prepared`` in ``prepared``, and its task yielded (so that it runs while the next one is prepared).
    A student is decided whole: a signal waits for it."""
    run = {"probes": judge.probes(), "plan": plan, "limits": limits}
    for sub in found:
        rows[sub.student] = Row(sub.student, book.assignment, status="pending", flags=list(sub.flags))
    for sub in found:
        row = rows[sub.student]
        with stop.held():
            if sub.path is None:
                row.status, row.reason = "missing", sub.reason
                book.forget(sub.student)  # no stale score survives a re-grade
                continue
            try:
                prepared[sub.student] = _prepare_one(book, sub, release, stubs, judge, run, row)
            except Exception as err:  # never the whole class for one odd file: this student, and why
                if isinstance(err, repairs.InvalidNotebook):
                    row.status, row.reason = "invalid", f"{sub.path.name}: {err}"
                else:
                    row.status = "crashed"
                    row.reason = (f"the grader could not prepare {sub.path.name} ({type(err).__name__}: "
                                  f"{str(err)[:200]}); open it in Jupyter, save it again and re-grade, or grade it "
                                  "by hand")
                book.forget(sub.student)  # nothing of it stays
                continue
        yield prepared[sub.student].task


def _prepare_one(book, sub, release, stubs, judge, run, row):
    """One student's ``Prepared``; ``InvalidNotebook`` when the file or nbgrader refuses it."""
    submitted, mended = repairs.load(sub.path)
    fixed = repairs.repair(submitted, release)
    row.flags += mended + fixed.flags
    row.status = "repaired" if fixed.repaired or mended or sub.flags else "graded"
    submitted = notebook_text(fixed.notebook)
    try:
        sane = book.sanitize(sub.student, fixed.notebook)
    except Exception as err:  # nbgrader rejects what it cannot grade: say why
        raise repairs.InvalidNotebook(f"nbgrader could not read the notebook: {err}") from None
    cells = [c for c in sane.cells if runs_in_sandbox(c)]
    task = {"student": sub.student, "cells": [c.source for c in cells], **run}
    borrowed, flags = borrowing.check(judge, cells)
    row.flags += flags
    return Prepared(sane, submitted, task, borrowed, similarity.answers(fixed.notebook, stubs))


def _grade(pool, book, judge, tasks, prepared, rows, seed, key, plan, options, stop, total):
    """Steps 2-4: the answer key, then every submission run, judged and recorded as it finishes (each
    student whole: a signal waits for the record to be done)."""
    for line in (pool.mechanisms.missing if pool.mechanisms is not None else []):
        print(f"cnn-grader: WARNING sandbox fallback: {line}", file=sys.stderr)
    titles = {item.grade_id: item.title for item in judge.items}
    judge.learn_key(pool.run({"student": "answer key", "cells": [c.source for c in key.cells if runs_in_sandbox(c)],
                              "probes": judge.probes(), "plan": plan, "limits": options.limits}))
    bar = _progress(total, options.progress)
    try:
        for student, reply in pool.submit_all(tasks):
            mine = prepared[student]
            verdicts = borrowing.apply(judge.verdicts(reply), mine.borrowed)
            with stop.held():
                result = book.record(student, mine.notebook, Outcome(mine.task["cells"], reply, verdicts, titles, seed),
                                     mine.submitted)
                mine.notebook = mine.submitted = None  # written out: a class's outputs are not held until the end
                _fill(rows[student], reply, verdicts, result)
            bar.update(1)
        bar.total = bar.n  # invalid notebooks were counted in the total, never run
    finally:
        bar.close()


def _fill(row, reply, verdicts, result):
    """Score, status and reason of one student from what nbgrader recorded."""
    if isinstance(result, str):
        row.status, row.reason = "crashed", result
        return
    row.score, row.max_score, recorded = result.score, result.max_score, result.cells
    if reply["status"] != "ok":
        row.status, row.reason = reply["status"], reply["reason"]
        log = reply.get("log", "").strip()
        if log and reply["status"] == "crashed":
            row.reason += f"; last output: {log.splitlines()[-1][:200]}"
    else:
        row.reason = report.reason(recorded, verdicts, row.max_score)
    row.reason = "; ".join(reply.get("notes", []) + [row.reason])  # first: e.g. processes killed for memory


def _progress(total, enabled):
    from tqdm.auto import tqdm
    enabled = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, disable=not enabled, desc="autograde", unit="student")
