"""Autograde a class: audit and repair, sandboxed parallel execution, one gradebook writer.

1. **Prepare** (main thread): find each student's notebook, parse it (``invalid`` if it is not a
   notebook), repair it against the release, store it as nbgrader's submission and sanitize it with
   nbgrader's own preprocessors (which restore the hidden tests from the gradebook).
2. **Execute** (``--workers`` threads, each driving a warm sandboxed fork server, or tasks on a Dask
   cluster): the code cells run with the limits of ``cnngrader.sandbox``.
3. **Record** (main thread, the only gradebook writer, as results arrive): nbgrader's real
   ``autograde`` runs with its ``Execute`` step replaced by ``Replay``, which fills in the outputs
   obtained in step 2. nbgrader computes and stores the scores as it always does.

Every student gets a row in ``grades.csv``; invalid or missing submissions are removed from the
gradebook so that no stale score survives a re-grade.
"""

import csv
import filecmp
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds,
                                    NbGraderPreprocessor, OverwriteCells, OverwriteKernelspec)
from traitlets.config import Config

from cnngrader import repair as repairs
from cnngrader import sandbox, submissions

STATUSES = ("graded", "repaired", "invalid", "timeout", "crashed", "missing")
COLUMNS = ["student", "assignment", "score", "max_score", "status", "flags", "reason"]
SYSTEM = {"/", "/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/opt", "/var", "/dev", "/proc",
          "/sys", "/run", "/boot", "/srv", "/mnt", "/media"}


@dataclass
class Row:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"
    flags: list = field(default_factory=list)
    reason: str = ""

    def as_csv(self):
        return [self.student, self.assignment, f"{self.score:g}", f"{self.max_score:g}", self.status,
                "; ".join(self.flags), self.reason]


# ------------------------------------------------------------------------------------ the course
class Course:
    """nbgrader's course folder used by cnn-grader: a copy of the sources, the generated release,
    submissions, autograded notebooks, feedback and the gradebook (``db_url``, SQLite by default)."""

    def __init__(self, course_dir="grader/work", solutions="solutions", db_url=None):
        self.root = Path(course_dir).resolve()
        self.solutions = Path(solutions).resolve()
        self.db_url = db_url or f"sqlite:///{self.root / 'gradebook.db'}"
        self.root.mkdir(parents=True, exist_ok=True)
        bin_dir = os.path.dirname(sys.executable)  # nbgrader runs alembic as a subprocess
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")

    def config(self, **sections):
        c = Config()
        c.CourseDirectory.root = str(self.root)
        c.CourseDirectory.course_id = "cnn-course"
        c.CourseDirectory.db_url = self.db_url
        c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
        c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
        for name, values in sections.items():
            for key, value in values.items():
                setattr(c[name], key, value)
        return c

    def api(self, **sections):
        config = self.config(**sections)
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def path(self, step, student, assignment):
        return self.root / step / student / assignment

    def gradebook(self):
        return Gradebook(self.db_url, "cnn-course")

    def prepare(self, assignment):
        """Copy the sources in and (re)generate the release when they changed; the release notebooks."""
        src, dst = self.solutions / assignment, self.root / "source" / assignment
        if not src.is_dir():
            raise SystemExit(f"no source folder {src} for assignment {assignment!r}")
        release = self.root / "release" / assignment
        changed = not dst.exists() or not release.exists() or _differs(src, dst)
        if changed:
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints",
                                                                     "__pycache__"))
            result = self.api().generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.get('log', '')}"
                                   f"\n{result.get('error', '')}")
        notebooks = sorted(release.glob("*.ipynb"))
        if len(notebooks) != 1:
            raise SystemExit(f"{assignment}: cnn-grader grades one notebook per assignment, "
                             f"found {len(notebooks)} in {release}")
        return nbformat.read(notebooks[0], as_version=4)


def _differs(a, b):
    cmp = filecmp.dircmp(a, b, ignore=[".ipynb_checkpoints", "__pycache__"])
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return True
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return bool(mismatch or errors) or any(_differs(a / d, b / d) for d in cmp.common_dirs)


# ------------------------------------------------------------------------- replay in nbgrader
class Replay(NbGraderPreprocessor):
    """Stands in for nbgrader's ``Execute``: fills in outputs computed in the sandbox."""

    results = {}  # student -> (code sources, reply from the warm worker)

    def preprocess(self, nb, resources):
        sources, reply = self.results[resources["nbgrader"]["student"]]
        code = [c for c in nb.cells if c.cell_type == "code"]
        if [c.source for c in code] != sources:
            raise RuntimeError("the notebook nbgrader sanitized differs from the one executed")
        stopped = reply["reason"] or "an earlier cell stopped the notebook"
        for index, cell in enumerate(code):
            if index < len(reply["cells"]):
                cell.outputs = [nbformat.from_dict(o) for o in reply["cells"][index]["outputs"]]
                cell.execution_count = reply["cells"][index]["execution_count"]
            else:
                cell.outputs = [nbformat.v4.new_output("error", ename="NotRun", evalue=stopped,
                                                       traceback=[f"NotRun: {stopped}"])]
        return nb, resources


# ------------------------------------------------------------------------------ the grader
@dataclass
class Options:
    workers: int = 0                # 0: the number of cores
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    dask_scheduler: str = None      # address of an existing Dask scheduler, or a Client
    progress: bool = None           # None: a bar when stderr is a terminal


def _hidden_paths(course, directory, out):
    paths = {course.root, course.solutions, Path(directory).resolve(), Path(out).resolve(),
             Path.cwd().resolve(), Path.home(), Path("/root"), Path("/home"), Path("/var/tmp"),
             Path("/dev/shm")}
    paths.update(Path(p) for p in os.environ.get("CNNGRADER_HIDE", "").split(os.pathsep) if p)
    checkout = Path(__file__).resolve().parents[2]  # the course repository (grader/work lives there)
    if (checkout / "pyproject.toml").exists():
        paths.add(checkout)
    return sorted(str(p) for p in paths if str(p) not in SYSTEM)


def _sanitize(course, assignment, student, notebook_name, nb):
    resources = {"nbgrader": {"db_url": course.db_url, "assignment": assignment, "student": student,
                              "notebook": notebook_name, "course_id": "cnn-course"},
                 "unique_key": notebook_name}
    config = course.config()
    for pp in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata):
        nb, resources = pp(config=config).preprocess(nb, resources)
    return nb


def _forget(course, assignment, student):
    """Remove every trace of an earlier grade for this student (no stale score survives)."""
    with course.gradebook() as gb:
        try:
            gb.remove_submission(assignment, student)
        except MissingEntry:
            pass
    for step in ("submitted", "autograded", "feedback"):
        shutil.rmtree(course.path(step, student, assignment), ignore_errors=True)


def _failures(nb):
    """'test_x: AssertionError: message' for every graded cell that raised."""
    out = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error":
                    text = f"{o.get('ename')}: {o.get('evalue')}".strip()
                    out.append(f"{meta.get('grade_id')} ({text[:120]})")
                    break
    return out


class _Pool:
    """Run execution tasks on warm local workers or on a Dask cluster."""

    def __init__(self, options, count):
        self.options, self.client, self.workers = options, None, []
        self.size = min(options.workers or os.cpu_count() or 1, max(count, 1))
        # One torch/OpenMP thread per notebook: GNU OpenMP is not fork-safe once the zygote has
        # used it (a 2-thread runner was seen deadlocked on a futex); parallelism comes from workers.
        self.threads = 1
        options.limits.threads = self.threads
        if options.dask_scheduler:
            from distributed import Client
            sched = options.dask_scheduler
            self.client = sched if isinstance(sched, Client) else Client(sched)
            self.mechanisms = None
        else:
            with ThreadPoolExecutor(self.size) as starter:  # start the zygotes concurrently
                from cnngrader.warm import WarmWorker
                self.workers = list(starter.map(lambda slot: WarmWorker(self.threads, 60000 + slot),
                                                range(self.size)))
            self.mechanisms = self.workers[0].mechanisms
            self.free = list(self.workers)

    def submit_all(self, tasks):
        """Yield (student, reply) as executions finish."""
        if self.client is not None:
            from distributed import as_completed as dask_completed
            futures = {self.client.submit(execute_remote, t, pure=False): t["student"] for t in tasks}
            for future in dask_completed(futures):
                yield futures[future], future.result()
            return
        import queue
        free = queue.Queue()
        for w in self.workers:
            free.put(w)

        def run(task):
            worker = free.get()
            try:
                return worker.run(task["cells"], task["plan"], task["limits"])
            finally:
                free.put(worker)

        with ThreadPoolExecutor(self.size) as pool:
            futures = {pool.submit(run, t): t["student"] for t in tasks}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except RuntimeError as err:
                    yield futures[future], {"status": "crashed", "reason": str(err), "cells": []}

    def close(self):
        for w in self.workers:
            w.close()


_REMOTE = {}
_REMOTE_LOCK = threading.Lock()


def execute_remote(task):
    """A Dask task: run one notebook on this Dask worker's warm sandboxed fork server."""
    from cnngrader.warm import WarmWorker
    with _REMOTE_LOCK:
        worker = _REMOTE.get("worker")
        if worker is None or worker.proc.poll() is not None:
            worker = _REMOTE["worker"] = WarmWorker(task["limits"].threads, 60000 + os.getpid() % 1000)
    try:
        return worker.run(task["cells"], task["plan"], task["limits"])
    except RuntimeError as err:
        return {"status": "crashed", "reason": str(err), "cells": []}


def stop_remote_worker():
    """Stop this process's Dask-side fork server (``client.run(stop_remote_worker)``)."""
    with _REMOTE_LOCK:
        worker = _REMOTE.pop("worker", None)
    if worker is not None:
        worker.close()


def autograde(assignment, directory, out, course_dir="grader/work", solutions="solutions",
              db_url=None, options=None):
    """Grade every submission in ``directory``; write ``out/grades.csv``; return the rows."""
    options = options or Options()
    course = Course(course_dir, solutions, db_url)
    release = course.prepare(assignment)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with course.gradebook() as gb:
        notebook_name = gb.find_assignment(assignment).notebooks[0].name
    rows, tasks, prepared = {}, [], {}
    plan = sandbox.Plan(hide=_hidden_paths(course, directory, out))
    for sub in submissions.find(directory, notebook_name):
        row = rows[sub.student] = Row(sub.student, assignment, flags=list(sub.flags))
        _forget(course, assignment, sub.student)
        if sub.path is None:
            row.status, row.reason = "missing", sub.reason
            continue
        try:
            fixed = repairs.repair(repairs.load(sub.path), release)
        except repairs.InvalidNotebook as err:
            row.status, row.reason = "invalid", f"{sub.path.name}: {err}"
            continue
        row.flags += fixed.flags
        row.status = "repaired" if fixed.repaired or sub.flags else "graded"
        target = course.path("submitted", sub.student, assignment)
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(fixed.notebook, target / f"{notebook_name}.ipynb")
        try:
            sane = _sanitize(course, assignment, sub.student, notebook_name, fixed.notebook)
        except Exception as err:  # nbgrader rejects what it cannot grade: say why
            row.status, row.reason = "invalid", f"nbgrader could not read the notebook: {err}"
            _forget(course, assignment, sub.student)
            continue
        cells = [c.source for c in sane.cells if c.cell_type == "code"]
        prepared[sub.student] = cells
        tasks.append({"student": sub.student, "cells": cells, "plan": plan, "limits": options.limits})
    pool = _Pool(options, len(tasks)) if tasks else None
    if pool is not None and pool.mechanisms is not None and pool.mechanisms.missing:
        for line in pool.mechanisms.missing:
            print(f"cnn-grader: WARNING sandbox fallback: {line}", file=sys.stderr)
    api = course.api(Autograde={"autograde_preprocessors": _replay_pipeline()})
    bar = _progress(len(tasks), options.progress)
    try:
        for student, reply in (pool.submit_all(tasks) if pool else []):
            _record(course, api, assignment, notebook_name, rows[student], prepared[student], reply)
            bar.update(1)
    finally:
        bar.close()
        if pool is not None:
            pool.close()
    result = [rows[s] for s in sorted(rows)]
    write_grades(result, out / "grades.csv")
    _copy_graded(course, assignment, notebook_name, result, out)
    _write_sandbox_note(pool, options, plan, out)
    print(f"cnn-grader: {len(result)} submissions of {assignment} in "
          f"{time.perf_counter() - started:.1f} s -> {out / 'grades.csv'}", file=sys.stderr)
    return result


def _replay_pipeline():
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)
    return [Replay, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
            AssignLatePenalties, CheckCellMetadata]


def _record(course, api, assignment, notebook_name, row, cells, reply):
    """The single gradebook writer: nbgrader's autograde with the sandbox's outputs replayed."""
    Replay.results[row.student] = (cells, reply)
    try:
        result = api.autograde(assignment, row.student, force=True, create=True)
    finally:
        Replay.results.pop(row.student, None)
    if not result["success"]:
        _forget(course, assignment, row.student)
        row.status = "crashed"
        row.reason = "nbgrader failed to record the grade: " + (
            result.get("error") or result.get("log", "")).strip().splitlines()[-1][:300]
        return
    with course.gradebook() as gb:
        submission = gb.find_submission(assignment, row.student)
        row.score, row.max_score = float(submission.score), float(submission.max_score)
    if reply["status"] != "ok":
        row.status, row.reason = reply["status"], reply["reason"]
        log = reply.get("log", "").strip()
        if log and reply["status"] == "crashed":
            row.reason += f"; last output: {log.splitlines()[-1][:200]}"
    else:
        graded = course.path("autograded", row.student, assignment) / f"{notebook_name}.ipynb"
        failed = _failures(nbformat.read(graded, as_version=4))
        row.reason = ("failed " + ", ".join(failed)) if failed else "all tests passed"


def _progress(total, enabled):
    from tqdm.auto import tqdm
    enabled = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, disable=not enabled, desc="autograde", unit="student")


def write_grades(rows, path):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(r.as_csv() for r in rows)


def _copy_graded(course, assignment, notebook_name, rows, out):
    graded = out / "graded"
    shutil.rmtree(graded, ignore_errors=True)
    graded.mkdir()
    for row in rows:
        src = course.path("autograded", row.student, assignment) / f"{notebook_name}.ipynb"
        if src.exists():
            shutil.copy(src, graded / f"{row.student}.ipynb")


def _write_sandbox_note(pool, options, plan, out):
    lines = ["What cnn-grader enforced on student code in this run:"]
    mech = pool.mechanisms if pool is not None and pool.mechanisms is not None else None
    if mech is None:
        lines.append("(no local execution: nothing to grade, or tasks ran on a Dask cluster, "
                     "whose workers apply the same sandbox)")
    else:
        lines += [f"- {item}" for item in mech.describe()]
        lines += [f"- NOT ENFORCED: {item}" for item in mech.missing]
    lim = options.limits
    lines.append(f"limits: {lim.timeout:g} s wall clock, {lim.memory_mb} MB memory, {lim.processes} "
                 f"processes, {lim.file_mb} MB per file, {lim.disk_mb} MB private /tmp, "
                 f"{lim.open_files} open files, {lim.threads} thread(s)")
    lines.append("hidden from student code: " + ", ".join(plan.hide))
    (out / "sandbox.txt").write_text("\n".join(lines) + "\n")
