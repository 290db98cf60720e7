"""The remembered metadata check rejects exactly what nbgrader's own check rejects, every time."""

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator, ValidationError

from cnngrader.gradebook import KnownMetadata


def _cell(grade_id, points=2):
    cell = nbformat.v4.new_code_cell("assert True")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id,
                                 "points": points, "schema_version": 3}
    return cell


def _nb(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def test_valid_cells_are_remembered_and_still_pass():
    check = KnownMetadata()
    for _ in range(2):
        check.validate_nb(_nb(_cell("a"), _cell("b")))
    assert len(check.valid) == 2


@pytest.mark.parametrize("bad", [_cell("a", points="two"), _cell("")])
def test_invalid_metadata_is_rejected_every_time_as_nbgrader_does(bad):
    check = KnownMetadata()
    check.validate_nb(_nb(_cell("a")))
    for _ in range(2):
        with pytest.raises(Exception) as ours:
            check.validate_nb(_nb(_cell("a"), bad))
        with pytest.raises(Exception) as theirs:
            MetadataValidator().validate_nb(_nb(_cell("a"), bad))
        assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def test_a_duplicate_grade_id_is_caught_although_each_cell_is_known():
    check = KnownMetadata()
    check.validate_nb(_nb(_cell("a")))
    with pytest.raises(ValidationError, match="Duplicate grade id: a"):
        check.validate_nb(_nb(_cell("a"), _cell("a")))
