"""``Book.sanitize`` looks the release up once per run, yet cleans a tampered submission exactly as
nbgrader's own preprocessors do with a gradebook query per cell."""

import copy
import shutil

import nbformat
import pytest
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

from cnngrader.gradebook import Book, CourseFolder


@pytest.fixture(scope="module")
def course(root, tmp_path_factory):
    course = CourseFolder(tmp_path_factory.mktemp("course"), root / "tests/fixtures/solutions")
    return course, course.prepare("mini")


def _stranger():
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "not_released",
                                 "schema_version": 3}
    return cell


def _tampered(release):
    nb = copy.deepcopy(release)
    locked = [c for c in nb.cells if c.metadata["nbgrader"].get("locked")]
    graded = [c for c in nb.cells if c.metadata["nbgrader"].get("grade")]
    locked[0].source = "print('the test is mine now')"
    graded[-1].metadata["nbgrader"]["points"] = 100
    graded[-1].metadata["nbgrader"]["locked"] = False
    locked[-1].cell_type = "markdown" if locked[-1].cell_type == "code" else "code"
    nb.metadata["kernelspec"] = {"name": "evil", "display_name": "Evil", "language": "python"}
    nb.nbformat_minor = 5  # as JupyterLab saves it: every cell has an id
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="old output")]
    return nb


def _nbgrader_own(course, nb):
    resources = {"nbgrader": {"db_url": course.db_url, "assignment": "mini", "student": "s1", "notebook": "mini",
                              "course_id": course.course_id}, "unique_key": "mini"}
    config = course.config()
    for pp in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells):
        nb, resources = pp(config=config)(nb, resources)
    return nb


def test_sanitize_matches_nbgrader_with_its_database(course):
    course, release = course
    with Book(course, "mini", "mini") as book:
        for _ in range(2):  # the second student is looked up in the same stored copy
            ours = book.sanitize("s1", _tampered(release))
            assert ours == _nbgrader_own(course, _tampered(release))
    assert ours.metadata["kernelspec"] == release.metadata["kernelspec"]
    assert "the test is mine now" not in "".join(c.source for c in ours.cells)


def test_a_cell_unknown_to_the_gradebook_is_rejected_as_nbgrader_rejects_it(course):
    course, release = course
    nb = _tampered(release)
    nb.cells.append(_stranger())
    theirs = _nbgrader_own(course, copy.deepcopy(nb))
    assert "grade_id" not in theirs.cells[-1].metadata["nbgrader"]  # nbgrader drops the id, then its check fails
    with Book(course, "mini", "mini") as book, pytest.raises(ValidationError, match="does not have a grade_id"):
        book.sanitize("s1", nb)


def test_an_assignment_is_one_notebook_in_its_own_folder(root, tmp_path):
    course = CourseFolder(tmp_path / "course", tmp_path / "solutions")
    with pytest.raises(SystemExit, match="no source folder"):
        course.notebook("mini")
    shutil.copytree(root / "tests/fixtures/solutions/mini", tmp_path / "solutions/mini")
    assert course.notebook("mini") == "mini"
    shutil.copy(tmp_path / "solutions/mini/mini.ipynb", tmp_path / "solutions/mini/extra.ipynb")
    with pytest.raises(SystemExit, match="one notebook per assignment, found 2"):
        course.notebook("mini")
