"""``Book.record`` stores a student in one transaction, yet leaves exactly the rows nbgrader's own
``add_submission`` and ``SaveAutoGrades`` leave: the same scores, reviews and comments per cell; the
same transaction replaces the student's earlier grade."""

import copy
import shutil

import nbformat
import pytest
from nbgrader.api import Comment, Grade, MissingEntry, SubmittedAssignment
from sqlalchemy.exc import IntegrityError
from nbgrader.preprocessors import SaveAutoGrades

from cnngrader import demo, report
from cnngrader.gradebook import Book, CourseFolder, Outcome, runs_in_sandbox


def _graded_markdown(grade_id, text, points=1, task=False):
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["nbgrader"] = {"grade": not task, "solution": not task, "task": task, "locked": task,
                                 "grade_id": grade_id, "schema_version": 3, "points": points}
    return cell


@pytest.fixture(scope="module")
def solutions(root, tmp_path_factory):
    """The mini set plus what ps2 has and mini lacks: a manually graded answer (two of them), a task."""
    folder = tmp_path_factory.mktemp("solutions")
    shutil.copytree(root / "tests/fixtures/solutions/mini", folder / "mini")
    nb = nbformat.read(folder / "mini/mini.ipynb", as_version=4)
    nb.cells += [_graded_markdown("explain", "### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
                 _graded_markdown("explain_more", "### BEGIN SOLUTION\nMore.\n### END SOLUTION"),
                 _graded_markdown("task_plot", "Plot the squares.", points=2, task=True)]
    nbformat.write(nb, folder / "mini/mini.ipynb")
    return folder


def _outcome(nb, wrong):
    """What the sandbox and the judge would return: every cell ran, ``wrong`` test cells failed."""
    ran = [c.source for c in nb.cells if runs_in_sandbox(c)]
    reply = {"status": "ok", "cells": [{"outputs": [], "execution_count": i + 1} for i in range(len(ran))]}
    verdicts = {c.metadata["nbgrader"]["grade_id"]: (0 if c.metadata["nbgrader"]["grade_id"] in wrong else 1, "m")
                for c in nb.cells if c.cell_type == "code" and c.metadata["nbgrader"].get("grade")}
    return Outcome(ran, reply, verdicts, {gid: gid for gid in verdicts}, seed=1)


def _rows(gb, student):
    book = gb.find_submission_notebook("mini", "mini", student)
    return ({g.name: (g.auto_score, g.manual_score, g.needs_manual_grade, g.max_score) for g in book.grades},
            {c.name: (c.auto_comment, c.manual_comment) for c in book.comments},
            (book.score, book.max_score, book.needs_manual_grade))


def test_record_leaves_the_rows_nbgrader_leaves(solutions, tmp_path):
    ours, theirs = CourseFolder(tmp_path / "ours", solutions), CourseFolder(tmp_path / "theirs", solutions)
    release = ours.prepare("mini")
    theirs.prepare("mini")
    key = demo.answer_key(ours.source("mini"))
    students = {"all_right": demo.solved(release, key),
                "half": demo.solved(release, key, keep={"double", "explain"})}
    with Book(ours, "mini", "mini") as book, theirs.gradebook() as gb:
        for student, nb in students.items():
            book.forget(student)
            sane = book.sanitize(student, nb)
            recorded = book.record(student, sane, _outcome(sane, wrong={"test_square"} if student == "half" else ()))
            graded = nbformat.read(ours.path("autograded", student, "mini") / "mini.ipynb", as_version=4)

            gb.update_or_create_student(student)
            gb.add_submission("mini", student)
            SaveAutoGrades()(graded, {"nbgrader": {"db_url": theirs.db_url, "assignment": "mini",
                                                   "notebook": "mini", "student": student}})
            assert _rows(book.gb, student) == _rows(gb, student)
            theirs_total = gb.find_submission("mini", student)
            assert (recorded.score, recorded.max_score) == (theirs_total.score, theirs_total.max_score) != (0, 0)
        grades, comments, _ = _rows(book.gb, "half")
    assert grades["test_square"][0] == 0 and grades["test_double"][0] == 2
    assert grades["explain"][2] and not grades["explain_more"][2]     # answered: review; untouched: 0, no review
    assert comments["explain_more"][0] == "No response." and comments["explain"][0] is None
    assert "task_plot" in grades and "task_plot" in comments


def test_a_new_record_replaces_the_earlier_one_in_its_transaction(solutions, tmp_path):
    """A re-grade removes nobody's grade before grading them: the new record replaces the old (and only the
    student's own rows go)."""
    course = CourseFolder(tmp_path / "course", solutions)
    release = course.prepare("mini")
    nb = demo.solved(release, demo.answer_key(course.source("mini")))
    with Book(course, "mini", "mini") as book:
        for student in ("s1", "s2"):
            sane = book.sanitize(student, copy.deepcopy(nb))
            assert book.record(student, sane, _outcome(sane, wrong=())).score > 0
        first = _rows(book.gb, "s1")
        sane = book.sanitize("s1", copy.deepcopy(nb))
        again = book.record("s1", sane, _outcome(sane, wrong={"test_square"}))
        assert again.score < first[2][0]
        assert _rows(book.gb, "s1") != first and _rows(book.gb, "s1")[2][0] == again.score
        assert _rows(book.gb, "s2") == first   # a classmate's rows untouched
        db = book.gb.db
        assert db.query(SubmittedAssignment).filter_by(student_id="s1").count() == 1
        assert db.query(Grade).count() == 2 * len(first[0]) and db.query(Comment).count() == 2 * len(first[1])


def test_a_refused_record_leaves_no_trace(solutions, tmp_path, monkeypatch):
    course = CourseFolder(tmp_path / "course", solutions)
    release = course.prepare("mini")
    nb = demo.solved(release, demo.answer_key(course.source("mini")))
    with Book(course, "mini", "mini") as book:
        sane = book.sanitize("s1", copy.deepcopy(nb))
        book.record("s1", sane, _outcome(sane, wrong=()))
        insert = book._insert

        def refused(model, rows):  # the database refuses the last insert of the transaction
            if model is Comment:
                raise IntegrityError("INSERT", {}, Exception("refused"))
            insert(model, rows)

        monkeypatch.setattr(book, "_insert", refused)
        sane = book.sanitize("s1", copy.deepcopy(nb))
        reason = book.record("s1", sane, _outcome(sane, wrong=()))
        assert reason.startswith("nbgrader failed to record the grade: IntegrityError")
        with pytest.raises(MissingEntry):
            book.gb.find_submission("mini", "s1")
    assert not course.path("autograded", "s1", "mini").exists()


def test_the_reason_names_items_lost_for_one_reason_together():
    recorded = {"a": (0.0, 2.0), "b": (3.0, 3.0), "c": (0.0, 3.0), "d": (1.0, 2.0)}
    verdicts = {"a": (0.0, "borrowing check: threads"), "b": (3.0, None), "c": (0.0, "borrowing check: threads"),
                "d": (1.0, "d(2) returned 3, expected 4")}
    assert report.reason(recorded, verdicts, 12.0) == ("lost a 0/2, c 0/3: borrowing check: threads; d 1/2: d(2) "
                                                       "returned 3, expected 4 (2 points to grade by hand)")
    assert report.reason({"b": (3.0, 3.0)}, verdicts, 3.0) == "every judged test passed"
