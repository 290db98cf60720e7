"""nbgrader as the book of record: the course folder, the release, and recording verdicts.

``CourseFolder`` is nbgrader's course directory used by cnn-grader (a copy of the sources, the
generated release, submissions, autograded notebooks, feedback and the gradebook, SQLite by
default or any ``db_url``), configured by the course's one ``grader/nbgrader_config.py``.
``Book`` does what ``nbgrader autograde`` does for one student, with one gradebook session for the
whole run and one transaction per student: nbgrader's sanitizing preprocessors, then ``replay`` in
place of its ``Execute`` (answer cells get the sandbox's outputs, test cells the judge's verdicts),
its output preprocessors, and the scores by nbgrader's own ``determine_grade``.
"""

import copy
import filecmp
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat.v4.rwbase import strip_transient
from nbgrader import utils
from nbgrader.api import (BaseCell, Comment, Grade, Gradebook, MissingEntry, Student, SubmittedAssignment,
                          SubmittedNotebook, new_uuid)
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import (ClearOutput, DeduplicateIds, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec)
from sqlalchemy import delete, select
from traitlets.config import Config

from cnngrader.release import api_for, course_config


def is_test_cell(cell):
    """An autograded test cell: judged outside the sandbox, never run there."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def runs_in_sandbox(cell):
    """Code cells that run with the student's code: all but test cells and the score card."""
    return (cell.cell_type == "code" and not is_test_cell(cell)
            and cell.metadata.get("nbgrader", {}).get("grade_id") != "scorecard")


class CourseFolder:
    def __init__(self, course_dir="grader/work", solutions="solutions", db_url=None):
        self.root = Path(course_dir).resolve()
        self.solutions = Path(solutions).resolve()
        self.db_url = db_url or f"sqlite:///{self.root / 'gradebook.db'}"
        self.root.mkdir(parents=True, exist_ok=True)
        self._base = course_config(self.root, self.root)
        for step in ("source", "release"):
            self._base.CourseDirectory[f"{step}_directory"] = step
        self._base.CourseDirectory.db_url = self.db_url
        self.course_id = self._base.CourseDirectory.course_id

    def config(self, **sections):
        """The course's nbgrader configuration, with every folder under ``root``."""
        c = copy.deepcopy(self._base)
        extra = Config()
        for name, values in sections.items():
            for key, value in values.items():
                setattr(extra[name], key, value)
        c.merge(extra)
        return c

    def api(self, **sections):
        return api_for(self.config(**sections))

    def path(self, step, student, assignment):
        return self.root / step / student / assignment

    def gradebook(self):
        return Gradebook(self.db_url, self.course_id)

    def notebook(self, assignment):
        """The name (without .ipynb) of the one notebook of ``assignment``'s sources, as nbgrader names it."""
        src = self.solutions / assignment
        if not src.is_dir():
            raise SystemExit(f"no source folder {src} for assignment {assignment!r}")
        notebooks = sorted(src.glob("*.ipynb"))
        if len(notebooks) != 1:
            raise SystemExit(f"{assignment}: cnn-grader grades one notebook per assignment, "
                             f"found {len(notebooks)} in {src}")
        return notebooks[0].stem

    def prepare(self, assignment):
        """Copy the sources in and (re)generate the release when they changed; the release notebook."""
        name = self.notebook(assignment)
        src, dst = self.solutions / assignment, self.root / "source" / assignment
        release = self.root / "release" / assignment / f"{name}.ipynb"
        if not dst.exists() or not release.exists() or _differs(src, dst):
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            result = self.api().generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                log = result.get("log", "") + result.get("error", "")
                why = next((line.strip() for line in reversed(log.splitlines()) if "Error:" in line), log[-300:])
                raise SystemExit(f"{assignment}: nbgrader could not regenerate the release from {src}: "
                                 f"{why.rstrip('.')}. "
                                 f"If students were graded already, grade in a new --course-dir or undo the "
                                 f"change to the source.")
        return nbformat.read(release, as_version=4)

    def source(self, assignment):
        """The answer key: the source notebook of ``assignment`` (after ``prepare``)."""
        return nbformat.read(self.root / "source" / assignment / f"{self.notebook(assignment)}.ipynb", as_version=4)


def _differs(a, b):
    cmp = filecmp.dircmp(a, b, ignore=[".ipynb_checkpoints", "__pycache__"])
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return True
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return bool(mismatch or errors) or any(_differs(a / d, b / d) for d in cmp.common_dirs)


@dataclass
class Outcome:
    """What one student's graded notebook shows."""

    cells: list          # sources of the cells that ran in the sandbox
    reply: dict          # the sandbox's reply
    verdicts: dict       # grade id -> (points, message) from the judge
    titles: dict         # grade id -> the item's title
    seed: int


def notebook_text(nb):
    """A notebook as compact JSON, every non-ASCII character escaped (plain ASCII, so a student's stray
    surrogate cannot stop the write; json's C encoder does it in a third of nbformat's indented writer's
    time). Without nbformat's schema check on every write: the grader's notebooks are built by
    ``repair`` from the release, cell ids included, and filled with the sandbox's outputs."""
    return json.dumps(strip_transient(nb), sort_keys=True)


def _write(text, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="ascii")


@dataclass
class Recorded:
    """What nbgrader stored for one student."""

    score: float
    max_score: float
    cells: dict          # grade id -> (score, max score) of the auto-graded cells


def _stdout(text):
    """A stream output (built as plain fields: the grader's own outputs need no schema check per output)."""
    return nbformat.NotebookNode(output_type="stream", name="stdout", text=text)


def _error(ename, evalue, traceback):
    return nbformat.NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=traceback)


def verdict_outputs(title, points, message, seed):
    if points > 0:
        return [_stdout((
            f"✓ {title}: {message}. Judged outside your notebook on inputs drawn for this grading run "
            f"(seed {seed}).\n"))]
    return [_error("WrongAnswer", message, [f"✗ {title}: {message}",
                                            f"(judged outside your notebook on inputs drawn for this grading run, "
                                            f"seed {seed})"])]


def replay(nb, outcome):
    """Stands in for nbgrader's ``Execute``: sandbox outputs for answer cells, verdicts for test cells."""
    ran = [c for c in nb.cells if runs_in_sandbox(c)]
    if [c.source for c in ran] != outcome.cells:
        raise RuntimeError("the notebook nbgrader sanitized differs from the one executed")
    reply = outcome.reply
    stopped = reply.get("reason") or "an earlier cell stopped the notebook"
    for index, cell in enumerate(ran):
        if index < len(reply["cells"]):
            cell.outputs = [nbformat.from_dict(o) for o in reply["cells"][index]["outputs"]]
            cell.execution_count = reply["cells"][index]["execution_count"]
        else:
            cell.outputs = [_error("NotRun", stopped, [f"NotRun: {stopped}"])]
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if is_test_cell(cell):
            points, message = outcome.verdicts[gid]
            cell.outputs = verdict_outputs(outcome.titles[gid], points, message, outcome.seed)
        elif gid == "scorecard":
            cell.outputs = [_stdout("(the score card runs in your own notebook; at grading each test cell shows "
                                    "the judge's verdict)\n")]


class KnownMetadata(MetadataValidator):
    """nbgrader's own metadata check (what its ``CheckCellMetadata`` runs), remembering the cells it
    found valid: the release's cells recur in every submission, and its JSON-schema check per cell was
    about a tenth of the grader's own work per student. Notebook-wide checks (duplicate grade ids) still
    run each time."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.valid = set()

    def validate_cell(self, cell):
        key = (cell.cell_type, json.dumps(cell.metadata.get("nbgrader"), sort_keys=True))
        if key not in self.valid:
            super().validate_cell(cell)
            self.valid.add(key)


class StoredRelease:
    """The release notebook as nbgrader stored it in the gradebook, read once per run. nbgrader's
    ``OverwriteCells`` and ``OverwriteKernelspec`` open a new gradebook for every notebook and query it
    for every cell (a third of the grader's own work per student); here they look up this copy."""

    def __init__(self, gb, assignment, notebook):
        self.notebook = stored = gb.find_notebook(notebook, assignment)  # kept loaded: no expiry on commit
        self.kernelspec = json.loads(stored.kernelspec) if stored.kernelspec else None
        self.source_cells = {c.name: c for c in stored.source_cells}
        self.grade_cells = {c.name: c for c in stored.grade_cells}

    def find_source_cell(self, name, notebook, assignment):
        return self._find(self.source_cells, name)

    def find_graded_cell(self, name, notebook, assignment):
        return self._find(self.grade_cells, name)

    @staticmethod
    def _find(cells, name):
        if name not in cells:
            raise MissingEntry()
        return cells[name]


class StoredOverwriteCells(OverwriteCells):
    """nbgrader's ``OverwriteCells``, cell by cell by its own rules, asking the run's ``StoredRelease``
    (missing cells were put back by ``repair`` already)."""

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.gradebook = resources["stored_release"]
        return super(OverwriteCells, self).preprocess(nb, resources)  # per cell, without a new gradebook


class StoredOverwriteKernelspec(OverwriteKernelspec):
    """nbgrader's ``OverwriteKernelspec``: the release's kernelspec replaces the submission's."""

    def preprocess(self, nb, resources):
        if resources["stored_release"].kernelspec:
            nb.metadata["kernelspec"] = copy.deepcopy(resources["stored_release"].kernelspec)
        return nb, resources


class Book:
    """nbgrader's gradebook, open for a whole grading run. Per student: ``forget`` an earlier grade,
    ``sanitize`` the submission with nbgrader's own preprocessors, ``record`` its verdicts in one
    transaction, scored by nbgrader's own rules, and write the autograded notebook."""

    def __init__(self, course, assignment, notebook_name):
        self.course, self.assignment, self.notebook = course, assignment, notebook_name
        self.gb = course.gradebook()
        self.gb.db().expire_on_commit = False  # the release's rows stay loaded from student to student
        self.release = StoredRelease(self.gb, assignment, notebook_name)
        config = course.config()
        self.sanitizers = [pp(config=config) for pp in (ClearOutput, DeduplicateIds, StoredOverwriteKernelspec,
                                                          StoredOverwriteCells)]
        self.metadata = KnownMetadata()
        self.finishers = [pp(config=config) for pp in (IgnorePattern, ClearMetadataPreprocessor, LimitOutput)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.gb.close()

    def _resources(self, student):
        return {"nbgrader": {"db_url": self.course.db_url, "assignment": self.assignment, "student": student,
                             "notebook": self.notebook, "course_id": self.course.course_id},
                "unique_key": self.notebook, "stored_release": self.release}

    def forget(self, student):
        """Remove every trace of an earlier grade for this student (no stale score survives)."""
        try:
            self.gb.remove_submission(self.assignment, student)
        except MissingEntry:
            pass
        for step in ("submitted", "autograded", "feedback"):
            shutil.rmtree(self.course.path(step, student, self.assignment), ignore_errors=True)

    def sanitize(self, student, nb):
        """nbgrader's own clean-up of a submission: locked cells restored, outputs and ids reset."""
        resources = self._resources(student)
        for pp in self.sanitizers:
            nb, resources = pp(nb, resources)
        self.metadata.validate_nb(nb)
        return nb

    def _store(self, student, nb):
        """The student's submission as nbgrader's ``add_submission`` lays it out (a grade for each graded
        cell, a comment for each answer), filled in as its ``SaveAutoGrades`` fills it, in one transaction
        of plain inserts (no ORM bookkeeping per row). Returns the id of the submitted notebook."""
        grades, comments = {}, {}
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if utils.is_grade(cell):  # a cell the autograder cannot score asks for review
                score = utils.determine_grade(cell)[0]
                grades[gid] = {"auto_score": score, "needs_manual_grade": score is None}
            if utils.is_solution(cell) or utils.is_task(cell):
                unchanged = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
                comments[gid] = {"auto_comment": "No response." if unchanged and not utils.is_task(cell) else None}
        release, submission, book = self.release.notebook, new_uuid(), new_uuid()
        self._drop_earlier(student)
        if self.gb.db.get(Student, student) is None:
            self._insert(Student, [{"id": student}])
        self._insert(SubmittedAssignment, [{"id": submission, "assignment_id": release.assignment_id,
                                            "student_id": student}])
        self._insert(SubmittedNotebook, [{"id": book, "assignment_id": submission, "notebook_id": release.id,
                                          "flagged": False}])
        self._insert(Grade, [{"id": new_uuid(), "cell_id": c.id, "notebook_id": book, "auto_score": None,
                              "needs_manual_grade": True, **grades.get(c.name, {})}
                             for c in release.grade_cells + release.task_cells])
        self._insert(Comment, [{"id": new_uuid(), "cell_id": c.id, "notebook_id": book, "auto_comment": None,
                                **comments.get(c.name, {})} for c in release.solution_cells + release.task_cells])
        self.gb.db.commit()
        return book

    def _drop_earlier(self, student):
        """Delete the student's earlier submission of this assignment in the transaction that stores the new
        one (nbgrader's ``remove_submission`` commits on its own: a stopped run would lose the grade)."""
        earlier = self.gb.db.execute(select(SubmittedAssignment.id).where(
            SubmittedAssignment.assignment_id == self.release.notebook.assignment_id,
            SubmittedAssignment.student_id == student)).scalars().all()
        if not earlier:
            return
        books = self.gb.db.execute(select(SubmittedNotebook.id).where(
            SubmittedNotebook.assignment_id.in_(earlier))).scalars().all()
        for column, ids in ((Grade.notebook_id, books), (Comment.notebook_id, books), (SubmittedNotebook.id, books),
                            (SubmittedAssignment.id, earlier)):
            self.gb.db.execute(delete(column.class_).where(column.in_(ids)))

    def _insert(self, model, rows):
        if rows:
            self.gb.db.execute(model.__table__.insert(), rows)

    def record(self, student, nb, outcome, submitted=None):
        """Store one student's grades (a ``Recorded``), or the reason nbgrader refused them: the earlier
        grade is replaced in the same transaction. ``nb``, the sanitized submission, is filled in place and
        written as the autograded notebook; ``submitted`` (its text before sanitizing), when given, as the
        submitted one. An earlier feedback is removed."""
        resources = self._resources(student)
        try:
            replay(nb, outcome)
            for pp in self.finishers:
                nb, resources = pp(nb, resources)
            book = self._store(student, nb)
            # every grade of the submission in one query: its score and maximum by nbgrader's own column
            # expressions, summed as nbgrader sums them for the submission
            stored = self.gb.db.query(BaseCell.name, Grade.score, Grade.max_score, Grade.auto_score).join(
                Grade.cell).filter(Grade.notebook_id == book).all()
            cells = {name: (float(score), float(top)) for name, score, top, auto in stored if auto is not None}
            recorded = Recorded(sum(float(score) for _, score, _, _ in stored),
                                sum(float(top) for _, _, top, _ in stored), cells)
            shutil.rmtree(self.course.path("feedback", student, self.assignment), ignore_errors=True)  # the earlier
            for step, text in (("submitted", submitted), ("autograded", notebook_text(nb))):
                if text is not None:
                    _write(text, self.course.path(step, student, self.assignment) / f"{self.notebook}.ipynb")
        except Exception as err:  # nbgrader refused: no half-stored grade stays
            self.gb.db.rollback()
            self.forget(student)
            return f"nbgrader failed to record the grade: {type(err).__name__}: {str(err)[:300]}"
        return recorded
