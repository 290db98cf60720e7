"""cnngrader without executing anything: reading, repairing, naming and collecting submissions."""

import copy
import json
import warnings
import zipfile

import nbformat
import pytest

from cnngrader import autograde, demo, gradebook, repair, sandbox, similarity, submissions
from cnngrader.interruption import Stop
from cnngrader.judge import Judge

FIXTURE = "tests/fixtures/solutions/mini/mini.ipynb"


@pytest.fixture(scope="module")
def release(root):
    """The fixture's student version, made the way nbgrader makes it (solutions and hidden tests cut)."""
    nb = nbformat.read(root / FIXTURE, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata["nbgrader"]
        if meta["solution"]:
            cell.source = cell.source.split("### BEGIN SOLUTION")[0] + "# YOUR CODE HERE\nraise NotImplementedError()"
        cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
    return nb


@pytest.fixture(scope="module")
def correct(root, release):
    return demo.solved(release, demo.answer_key(nbformat.read(root / FIXTURE, as_version=4)))


def ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_intact_submission_is_not_repaired(release, correct):
    fixed = repair.repair(correct, release)
    assert not fixed.repaired and fixed.flags == []
    assert ids(fixed.notebook) == ids(release)


def test_colab_roundtrip_metadata_restored(release, correct):
    fixed = repair.repair(demo.colab_roundtrip(correct), release)
    assert fixed.repaired
    assert ids(fixed.notebook) == ids(release)
    assert fixed.notebook.cells[2].source == correct.cells[2].source  # the answer survives
    assert fixed.notebook.metadata["kernelspec"] == release.metadata["kernelspec"]


def test_deleted_test_cell_restored_and_flagged(release, correct):
    nb = copy.deepcopy(correct)
    del nb.cells[3]
    fixed = repair.repair(demo.colab_roundtrip(nb), release)
    assert ids(fixed.notebook) == ids(release)
    assert any("deleted test cell 'test_double'" in f for f in fixed.flags)


def test_edited_locked_cell_and_altered_metadata(release, correct):
    nb = copy.deepcopy(correct)
    nb.cells[3].source = "pass"
    nb.cells[5].metadata["nbgrader"]["points"] = 100
    fixed = repair.repair(nb, release)
    assert fixed.notebook.cells[3].source == release.cells[3].source
    assert fixed.notebook.cells[5].metadata["nbgrader"]["points"] == 3
    assert any("edited test cell 'test_double'" in f for f in fixed.flags)
    assert any("altered nbgrader metadata" in f for f in fixed.flags)


def test_duplicates_and_extra_cells_are_kept_as_ordinary_cells(release, correct):
    nb = copy.deepcopy(correct)
    nb.cells.insert(3, copy.deepcopy(nb.cells[2]))
    nb.cells.insert(1, nbformat.v4.new_code_cell("scratch = 1"))
    fixed = repair.repair(nb, release)
    graded = [i for i in ids(fixed.notebook) if i]
    assert graded == ids(release)  # each grade id exactly once
    assert len(fixed.notebook.cells) == len(release.cells) + 2
    assert any("duplicated cell 'double'" in f for f in fixed.flags)


def test_suspicious_code_is_flagged(release, correct):
    nb = copy.deepcopy(correct)
    nb.cells[2].source += "\nimport torch\ntorch.allclose = lambda *a, **k: True\nopen('../source/x')"
    flags = repair.repair(nb, release).flags
    assert any("torch.allclose =" in f for f in flags)
    assert any("outside its folder" in f for f in flags)


def test_borrowing_the_lectures_reference_code_is_flagged(release, correct):
    nb = copy.deepcopy(correct)
    nb.cells[2].source += "\nfrom cnncourse.conv1d import conv1d as mine"
    assert any("reference code" in f and "cnncourse.conv1d" in f for f in repair.repair(nb, release).flags)
    assert not [f for f in repair.repair(copy.deepcopy(correct), release).flags if "reference" in f]
    for form, named in [("from cnncourse import shapes as s", "cnncourse.shapes"),
                        ("import cnncourse.pooling as p", "cnncourse.pooling"),
                        ("import importlib\nm = importlib.import_module('cnncourse.receptive')", "cnncourse.receptive"),
                        ("y = cnncourse.conv2d.correlate2d", "cnncourse.conv2d")]:
        nb = copy.deepcopy(correct)
        nb.cells[2].source += "\n" + form
        assert any("reference code" in f and named in f for f in repair.repair(nb, release).flags), form


@pytest.mark.parametrize("content, reason", [
    (b'{"cells": [', "not valid JSON"),
    (b"\xff\xfe\x00binary", "not UTF-8"),
    (b'{"hello": 1}', "not a notebook"),
    (b'[1, 2]', "not a notebook"),
    (b'{"cells": [{"cell_type": "code", "metadata": []}]}', "cell 1: its metadata is not shaped"),
    (b'{"cells": [{"cell_type": "raw"}, {"cell_type": "code", "metadata": {"nbgrader": "x"}}]}', "cell 2: its metadata"),
    (b'{"cells": [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": [1]}}}]}', "cell 1: its metadata"),
    (b'{"cells": [{"cell_type": "code", "source": 5}]}', "cell 1: its source is not text"),
    (b'{"cells": [{"cell_type": "code", "source": ["x = ", 1]}]}', "cell 1: its source is not text"),
    (b'{"cells": [], "metadata": ' + b'{"a": ' * 100_000 + b'1' + b'}' * 100_000 + b'}', "JSON nested too deeply"),
    (b'{"cells": [], "metadata": ' + b'{"a": ' * 600 + b'1' + b'}' * 600 + b'}', "metadata nested too deeply"),
    # code the grader would read takes some 200 times its size in memory: 1.1 MB of it is refused, not parsed
    (b'{"cells": [' + b','.join([b'{"cell_type": "code", "source": "x = [' + b'1, ' * 60_000 + b']"}'] * 6) + b']}',
     r"1\.0 MB of code, over the 1 MB the grader reads"),
])
def test_invalid_files_get_a_reason(tmp_path, content, reason):
    path = tmp_path / "ps1.ipynb"
    path.write_bytes(content)
    with pytest.raises(repair.InvalidNotebook, match=reason):
        repair.load(path)


def test_text_that_is_not_unicode_is_mended_and_flagged(tmp_path, correct):
    """A lone surrogate (as a broken emoji in Colab leaves) cannot be encoded by anything downstream."""
    nb = copy.deepcopy(correct)
    nb.cells[2].source += "\n# a broken emoji: @@"
    nb.metadata["note"] = {"@@key": ["@@", "##"]}
    text = nbformat.writes(nb).replace("@@", "\\ud83d").replace("##", "\\ud83d\\ude00")  # a pair: one emoji
    (tmp_path / "ps1.ipynb").write_text(text)
    loaded, flags = repair.load(tmp_path / "ps1.ipynb")
    assert flags == ["repaired: 3 character(s) that are not valid Unicode (lone surrogates) replaced by U+FFFD"]
    assert loaded.cells[2].source.endswith("# a broken emoji: \ufffd")
    assert loaded.metadata["note"] == {"\ufffdkey": ["\ufffd", "\U0001F600"]}  # a whole emoji is kept
    nbformat.write(correct, tmp_path / "plain.ipynb")
    assert repair.load(tmp_path / "plain.ipynb")[1] == []


@pytest.mark.parametrize("name", ["Copy of ps1", "ps1 (1)", "Copy of ps1 (2)", "ps1-checkpoint",
                                  "ps1 - Copy"])
def test_canonical_names(name):
    assert submissions.canonical(name) == "ps1"


def test_find_accepts_files_and_folders(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "Copy of ps1.ipynb").write_text("{}")
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol" / "notes.txt").write_text("")
    found = {s.student: s for s in submissions.find(tmp_path, "ps1")}
    assert found["alice"].path.name == "alice.ipynb"
    assert found["bob"].path.name == "Copy of ps1.ipynb" and "renamed" in found["bob"].flags[0]
    assert found["carol"].path is None and "notes.txt" in found["carol"].reason


def test_collect_lms_download(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ps1_jdoe_attempt_2026-10-01-10-00-00.ipynb", "{}")
        z.writestr("ps1_jdoe_attempt_2026-10-02-10-00-00.ipynb", '{"latest": 1}')
        z.writestr("asmith_LATE_1234_5678_Copy of ps1.ipynb", "{}")
        z.writestr("Jane Roe_42_assignsubmission_file_/ps1 (1).ipynb", "{}")
        z.writestr("Copy of ps1.ipynb", "{}")
        z.writestr("../evil.ipynb", "{}")
    rows = submissions.collect("ps1", archive, tmp_path / "subs")
    students = sorted(p.name for p in (tmp_path / "subs").iterdir() if p.is_dir())
    assert students == ["Jane_Roe", "asmith", "jdoe"]
    assert (tmp_path / "subs" / "jdoe" / "ps1_jdoe_attempt_2026-10-02-10-00-00.ipynb").exists()
    unknown = [r for r in rows if r[2] == "unknown"]
    assert [r[0] for r in unknown] == ["Copy of ps1.ipynb"]  # reported, not dropped silently
    assert not (tmp_path / "evil.ipynb").exists()
    assert (tmp_path / "subs" / "collect_report.csv").exists()


def test_a_notebook_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_NOTEBOOK", 1000)
    path = tmp_path / "ps1.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1\n" * 500)]), path)
    with pytest.raises(repair.InvalidNotebook, match="a notebook may have: the student clears its outputs"):
        repair.load(path)


def test_collect_reports_files_over_the_size_limit_and_extracts_none(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_NOTEBOOK", 1000)
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("ps1_jdoe_attempt_2026-10-01-10-00-00.ipynb", "{}")
        z.writestr("ps1_bomb_attempt_2026-10-01-10-00-00.ipynb", " " * 50_000)  # compresses to a few bytes
    rows = submissions.collect("ps1", archive, tmp_path / "subs")
    assert sorted(p.name for p in (tmp_path / "subs").iterdir() if p.is_dir()) == ["jdoe"]
    [skipped] = [r for r in rows if r[2] == "skipped"]
    assert "bomb" in skipped[0] and "a notebook may have" in skipped[3]
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "ps1_big_attempt_1.ipynb").write_text(" " * 5000)
    rows = submissions.collect("ps1", folder, tmp_path / "subs2")
    assert [r[2] for r in rows] == ["skipped"] and "a notebook may have" in rows[0][3]


@pytest.mark.parametrize("minor", [4, 5])
def test_hostile_ids_outputs_and_keys_do_not_reach_the_graded_notebook(tmp_path, release, correct, minor):
    """Cell ids that collide, break the schema or are huge, forged outputs and extra fields: the repaired
    notebook is schema-valid as the grader writes it (without nbformat's per-write check, which used to
    mend ids) and keeps none of them."""
    data = json.loads(nbformat.writes(correct))
    data["nbformat_minor"], data["forged"] = 5, {"score": 100}
    for index, cell in enumerate(data["cells"]):
        cell["id"] = ["same", "bad id/with spaces", "x" * 500][index % 3]
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "all tests passed 100/100"}]
            cell["execution_count"] = 99
    (tmp_path / "ps1.ipynb").write_text(json.dumps(data))
    target = copy.deepcopy(release)
    target.nbformat_minor = minor
    fixed = repair.repair(repair.load(tmp_path / "ps1.ipynb")[0], target)
    written = json.loads(gradebook.notebook_text(fixed.notebook))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nbformat.validate(written)
    assert "forged" not in written and written["nbformat_minor"] == minor
    ids = [c.get("id") for c in written["cells"]]
    assert len(set(ids)) == len(ids) and all(ids) if minor >= 5 else not any(ids)
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in written["cells"])


def test_a_file_the_grader_cannot_prepare_stops_only_its_student(root, tmp_path, monkeypatch):
    """Whatever a file makes the grader's own reading raise is that student's row, never the class's run."""
    course = gradebook.CourseFolder(tmp_path / "course", root / "solutions")
    release = course.prepare("ps1")
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("alice", "odd", "zoe"):
        nb = copy.deepcopy(release)
        nb.metadata["student"] = name
        nbformat.write(nb, subs / f"{name}.ipynb")
    real = repair.repair
    monkeypatch.setattr(autograde.repairs, "repair", lambda nb, rel: real(nb, rel) if nb.metadata["student"] != "odd"
                        else [][0])  # an error nobody foresaw, in the student's file only
    judge = Judge("ps1", 1, [c.metadata["nbgrader"]["grade_id"] for c in release.cells if gradebook.is_test_cell(c)])
    rows, prepared = {}, {}
    with gradebook.Book(course, "ps1", "ps1") as book:
        tasks = list(autograde._prepare(book, submissions.find(subs, "ps1"), release, similarity.stubs(release), judge,
                                        sandbox.Plan(hide=[]), sandbox.Limits(), rows, prepared, Stop()))
    assert [t["student"] for t in tasks] == sorted(prepared) == ["alice", "zoe"]
    odd = rows["odd"]
    assert odd.status == "crashed" and "odd.ipynb (IndexError" in odd.reason and "by hand" in odd.reason, odd
    assert len(json.loads(prepared["zoe"].submitted)["cells"]) == len(release.cells)  # written when recorded
