"""cnn-grader end to end with the real nbgrader: PS1's demo class of broken and hostile submissions.

One autograde run grades the whole class (2 workers); the tests then check statuses, scores,
reasons, flags and that nothing leaked: files, network, processes, the gradebook.
"""

import ast
import csv
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

from cnngrader import demo
from cnngrader.autograde import Options, autograde
from cnngrader.sandbox import Limits
from conftest import FULL, PARTIAL, tagged_processes

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux"), pytest.mark.slow,
              pytest.mark.xdist_group("grader")]  # one worker: the class is graded once, alone
BIN = Path(sys.executable).parent


def cli(*args, cwd, tag=""):
    """Run cnn-grader; ``tag`` marks the environment of every process this run starts."""
    return subprocess.run([str(BIN / "cnn-grader"), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "CNNGRADER_TEST_TAG": tag})


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    solutions = root / "solutions"
    subs = tmp / "subs"
    course, made = demo.build_class("ps1", tmp / "course", solutions, subs)
    correct = nbformat.read(subs / "correct" / "ps1.ipynb", as_version=4)
    secrets = [course.root / "gradebook.db", course.root / "source" / "ps1" / "ps1.ipynb",
               subs / "partial" / "ps1.ipynb", course.root / "submitted" / "correct" / "ps1"
               / "ps1.ipynb", solutions / "ps1" / "ps1.ipynb", root / "pyproject.toml"]
    probes = {
        "hostile_paths": "for p in %r:\n    try:\n        open(p).read(10)\n        print('LEAK', p)\n"
                         "    except OSError as e:\n        print('blocked', type(e).__name__)" % [
                             str(p) for p in secrets],
        "hostile_background": "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
                              "    time.sleep(600)\n    os._exit(0)\nprint('parent goes on')",
        "hostile_writes": "import os\nfor p in ['/tmp/cnngrader-escape', os.path.expanduser('~/x'),"
                          " '../x', '/var/tmp/cnngrader-escape']:\n    try:\n"
                          "        open(p, 'w').write('x')\n        print('WROTE', os.path.abspath(p))\n"
                          "    except OSError as e:\n        print('blocked', p)",
    }
    for student, code in probes.items():
        nb = nbformat.v4.new_notebook(cells=list(correct.cells), metadata=correct.metadata)
        nb.cells.insert(3, nbformat.v4.new_code_cell(code))
        (subs / student).mkdir()
        nbformat.write(nb, subs / student / "ps1.ipynb")
    (subs / "flat_student.ipynb").write_text(nbformat.writes(correct))
    digest = hashlib.sha256((course.root / "source" / "ps1" / "ps1.ipynb").read_bytes()).hexdigest()
    run = cli("autograde", "ps1", "--submissions", subs, "--out", tmp / "out", "--course-dir",
              course.root, "--solutions", solutions, "--workers", 2, "--timeout", 15, cwd=tmp, tag=str(tmp))
    rows = {r["student"]: r for r in csv.DictReader(open(tmp / "out" / "grades.csv"))}
    return dict(tmp=tmp, course=course, subs=subs, run=run, rows=rows, made=made, digest=digest,
                solutions=solutions)


def outputs(graded, student):
    nb = nbformat.read(graded["tmp"] / "out" / "graded" / f"{student}.ipynb", as_version=4)
    return "\n".join(str(o.get("text", "")) + str(o.get("ename", "")) + str(o.get("evalue", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_pipeline_exits_zero_with_one_row_per_student(graded):
    assert graded["run"].returncode == 0, graded["run"].stderr[-3000:]
    assert set(graded["rows"]) == set(graded["made"]) | {"hostile_paths", "hostile_background",
                                                        "hostile_writes", "flat_student"}
    for row in graded["rows"].values():
        assert row["status"] in ("graded", "repaired", "invalid", "timeout", "crashed", "missing")
        assert row["status"] == "graded" and not row["flags"] or row["reason"] or row["flags"]


def test_every_notebook_written_is_valid_as_it_lies(graded):
    """The grader writes its notebooks without nbformat's check on each write: each must pass that check
    as read from disk (unique cell ids, the schema), with nothing for nbformat to repair or warn about."""
    root, out = graded["course"].root, graded["tmp"] / "out"
    gradable = [s for s, row in graded["rows"].items() if row["status"] not in ("invalid", "missing")]
    written = [root / step / s / "ps1" / "ps1.ipynb" for s in gradable for step in ("submitted", "autograded")]
    written += sorted(out.glob("graded/*.ipynb"))
    assert len(written) == 3 * len(gradable) > 60
    for path in written:
        data = json.loads(path.read_text())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            nbformat.validate(data)
        ids = [c["id"] for c in data["cells"]]
        assert len(set(ids)) == len(ids), path


@pytest.mark.parametrize("student, status, score", [
    ("correct", "graded", FULL), ("flat_student", "graded", FULL), ("partial", "graded", PARTIAL),
    ("blank", "graded", 0), ("colab", "repaired", FULL), ("renamed", "repaired", FULL),
    ("deleted_test", "repaired", FULL), ("duplicated", "repaired", FULL), ("edited_test", "graded", FULL),
    ("broken", "invalid", 0), ("empty_folder", "missing", 0),
    ("hostile_loop", "timeout", 0), ("hostile_exit", "crashed", 0), ("hostile_kill", "crashed", 0),
    ("hostile_forkbomb", None, None), ("hostile_bigfile", "graded", FULL), ("hostile_memory", "graded", FULL),
    ("hostile_fanout", "graded", 0), ("hostile_hog", "timeout", 0), ("hostile_network", "graded", FULL), ("hostile_snoop", "graded", FULL), ("hostile_paths", "graded", FULL),
    ("hostile_background", "graded", 0), ("hostile_writes", "graded", FULL), ("hostile_patch", "graded", FULL),
])
def test_status_and_score(graded, student, status, score):
    row = graded["rows"][student]
    if status:
        assert row["status"] == status, row
    else:  # a contained fork bomb runs out its wall clock, or ends once its forks are refused
        assert row["status"] in ("timeout", "crashed", "graded"), row
        assert "controls processes" in row["flags"], row
    if score is not None:
        assert float(row["score"]) == score, row


def test_reasons_are_human(graded):
    rows = graded["rows"]
    assert "not valid JSON" in rows["broken"]["reason"]
    assert "no .ipynb" in rows["empty_folder"]["reason"]
    assert "used its 15 s of CPU time" in rows["hostile_loop"]["reason"]
    assert "used its 15 s of CPU time" in rows["hostile_hog"]["reason"]
    assert "went over the 2048 MB memory limit" in rows["hostile_fanout"]["reason"]
    for student in ("hostile_fanout", "hostile_background"):  # contained, and its answers not credited
        assert "os.fork, which runs code beside the graded functions" in rows[student]["reason"], rows[student]
    assert "died" in rows["hostile_kill"]["reason"] and "SIGKILL" in rows["hostile_kill"]["reason"]
    assert "lost test_receptive_field 0/3: receptive_field(" in rows["partial"]["reason"]
    assert "not attempted" in rows["partial"]["reason"] and "test_conv1d " not in rows["partial"]["reason"]
    assert rows["correct"]["reason"] == "every judged test passed"
    assert "deleted test cell 'test_conv_output_size' restored" in rows["deleted_test"]["flags"]
    assert "edited test cell 'test_conv_output_size'" in rows["edited_test"]["flags"]
    assert "Copy of ps1.ipynb" in rows["renamed"]["flags"]
    assert "torch.equal =" in rows["hostile_patch"]["flags"]
    assert "suspicious" in rows["hostile_exit"]["flags"]


def test_nothing_leaked_files_and_network(graded):
    snoop = outputs(graded, "hostile_snoop")
    found = ast.literal_eval(snoop.split("FOUND", 1)[1].strip().splitlines()[0])  # what the student printed
    ours = (str(graded["tmp"]), str(graded["solutions"]), str(Path(__file__).resolve().parents[1]))
    assert not [path for path in found if path.startswith(ours) and not path.endswith(".py")], found
    paths = outputs(graded, "hostile_paths")
    assert "LEAK" not in paths and paths.count("blocked") == 6
    assert "blocked /var/tmp" in outputs(graded, "hostile_writes")  # /tmp is private, discarded
    assert not Path("/tmp/cnngrader-escape").exists() and not Path("/var/tmp/cnngrader-escape").exists()
    net = outputs(graded, "hostile_network")
    assert "NETWORK OPEN" not in net and "unreachable" in net.lower()
    assert "File too large" in outputs(graded, "hostile_bigfile")
    assert "-9" in outputs(graded, "hostile_fanout").split("children ended with", 1)[1]  # one was killed
    assert "MemoryError" in outputs(graded, "hostile_memory") or "Cannot allocate" in outputs(
        graded, "hostile_memory")


def test_no_process_survives(graded):
    """No process started by this grading run is left (other runs may be going on beside it)."""
    assert tagged_processes(graded["tmp"]) == []


def test_gradebook_and_sources_intact(graded):
    course = graded["course"]
    db = sqlite3.connect(course.root / "gradebook.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    digest = hashlib.sha256((course.root / "source" / "ps1" / "ps1.ipynb").read_bytes()).hexdigest()
    assert digest == graded["digest"]
    with course.gradebook() as gb:
        assert gb.find_submission("ps1", "correct").score == FULL
        assert gb.find_submission("ps1", "hostile_paths").score == FULL
        with pytest.raises(Exception):
            gb.find_submission("ps1", "broken")  # an invalid file leaves no score behind


def test_sandbox_note_lists_what_was_enforced(graded):
    note = (graded["tmp"] / "out" / "sandbox.txt").read_text()
    assert "CPU-time budget" in note and "limits: 15 s of CPU time" in note and f"run seed: {seed_of(graded)}" in note
    assert f"run seed {seed_of(graded)}" in graded["run"].stderr


def seed_of(graded):
    note = (graded["tmp"] / "out" / "sandbox.txt").read_text()
    return int(note.split("run seed: ", 1)[1].split()[0])


def test_feedback_shows_the_judges_verdicts_and_export(graded):
    tmp, course = graded["tmp"], graded["course"]
    run = cli("feedback", "ps1", "--out", tmp / "feedback", "--course-dir", course.root,
              "--solutions", graded["solutions"], cwd=tmp)
    assert run.returncode == 0, run.stderr[-3000:]
    pages = {p.stem: p.read_text() for p in (tmp / "feedback").glob("*.html")}
    assert {"correct", "partial", "colab"} <= set(pages)
    assert "Judged outside your notebook" in pages["correct"] and f"seed {seed_of(graded)}" in pages["correct"]
    assert "✗ 6 receptive_field: receptive_field(" in pages["partial"] and "not attempted" in pages["partial"]
    run = cli("export", "--out", tmp / "export.csv", "--course-dir", course.root, "--solutions",
              graded["solutions"], cwd=tmp)
    assert run.returncode == 0, run.stderr[-3000:]
    exported = {r["student_id"]: r for r in csv.DictReader(open(tmp / "export.csv"))}
    assert float(exported["correct"]["raw_score"]) == FULL


def test_regrade_is_idempotent_and_drops_stale_scores(graded):
    tmp, subs = graded["tmp"], graded["tmp"] / "subs2"
    subs.mkdir()
    for student in ("correct", "partial", "colab", "broken"):
        os.symlink(graded["subs"] / student, subs / student)
    rows = autograde("ps1", subs, tmp / "out2", course_dir=graded["course"].root, solutions=graded["solutions"],
                     options=Options(workers=1, seed=seed_of(graded), limits=Limits(timeout=15)))
    again = {r.student: r.as_csv() for r in rows}
    for student in ("correct", "partial", "colab", "broken"):
        assert again[student] == list(graded["rows"][student].values())
    # the same student now sends a broken file: the old 2/5 must disappear from the gradebook
    os.unlink(subs / "partial")
    (subs / "partial").mkdir()
    (subs / "partial" / "ps1.ipynb").write_text('{"cells": [')
    rows = autograde("ps1", subs, tmp / "out3", course_dir=graded["course"].root,
                     solutions=graded["solutions"], options=Options(workers=1, limits=Limits(timeout=15)))
    assert {r.student: r.status for r in rows}["partial"] == "invalid"
    with graded["course"].gradebook() as gb:
        with pytest.raises(Exception):
            gb.find_submission("ps1", "partial")


def test_a_source_nbgrader_rejects_stops_the_run_cleanly(graded, monkeypatch):
    """The workers start while the release is generated: when nbgrader refuses the source, the run
    ends with why and what to do, and no worker is left behind."""
    tmp = graded["tmp"]
    shutil.copytree(graded["solutions"] / "ps1", tmp / "edited" / "ps1")
    source = tmp / "edited" / "ps1" / "ps1.ipynb"
    nb = nbformat.read(source, as_version=4)
    graded_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]
    graded_cells[1].metadata["nbgrader"]["grade_id"] = graded_cells[0].metadata["nbgrader"]["grade_id"]
    nbformat.write(nb, source)
    tag = f"{tmp}-edited"
    monkeypatch.setenv("CNNGRADER_TEST_TAG", tag)  # the workers of this run carry it
    with pytest.raises(SystemExit, match="nbgrader could not regenerate the release.*undo the change"):
        autograde("ps1", graded["subs"], tmp / "out_edited", course_dir=tmp / "course_edited",
                  solutions=tmp / "edited", options=Options(workers=2))
    assert not (tmp / "out_edited" / "grades.csv").exists()
    assert tagged_processes(tag) == []
