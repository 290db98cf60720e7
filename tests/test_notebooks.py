"""Every course notebook: executes top to bottom alone in an empty folder, carries no
outputs in git, opens with the Colab badge and the standard setup cell."""

import json
import shutil

import pytest

from cnncourse import badges
from cnngrader import website
from cnngrader.execute import run_notebook
from conftest import ROOT
from prose import report, unpinned

ALL = badges.notebooks(ROOT)
LECTURES = [p for p in ALL if p.startswith("lectures/")]
# Answer keys of the graded sets run like lectures. Their student versions (assignments/) are not
# executed here: tests/test_problem_sets.py autogrades the untouched release with nbgrader instead.
SOLUTIONS = [p for p in ALL if p.startswith("solutions/")]
# Each lecture is executed once per `make test`: the executed copy is kept where `make course`
# reuses it (while the lecture and the package are unchanged) and where tests/test_site.py finds
# lecture 01 (same xdist group, so it runs after it on the same worker).
EXECUTED = ROOT / "_site" / "executed"
SITE_GROUP = "lectures/01_why_convolutions.ipynb"


def _params(paths):
    return [pytest.param(p, marks=pytest.mark.xdist_group("site")) if p == SITE_GROUP else p for p in paths]


def _cells(rel):
    return json.loads((ROOT / rel).read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.notebook
@pytest.mark.parametrize("rel", _params(LECTURES + SOLUTIONS))
def test_lecture_runs_alone_in_empty_folder(rel, tmp_path, record_property):
    copy = tmp_path / (ROOT / rel).name
    shutil.copy(ROOT / rel, copy)
    # A lecture has 120 s in all (180 s per cell leaves room for a loaded machine); a kernel that
    # does not acknowledge a request within 60 s is stalled: the test fails at once with its timed log.
    run = run_notebook(copy, cwd=tmp_path, timeout=180, stall_after=60)
    record_property("notebook_seconds", round(run.seconds, 1))
    record_property("kernel_timeline", run.timeline)
    errors = [o for c in run.notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    if rel in LECTURES:  # prose pinned to outputs (tests/prose.py)
        drift = unpinned(run.notebook)
        assert not drift, report(rel, drift)
        key = website.lecture_key(ROOT / rel, website.package_digest(ROOT))
        website.store(run.notebook, ROOT / rel, EXECUTED, key, run.seconds)


@pytest.mark.parametrize("rel", ALL)
def test_no_outputs_committed(rel):
    dirty = [i for i, c in enumerate(_cells(rel))
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{rel}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("rel", ALL)
def test_opens_with_badge_and_setup_cell(rel):
    cells = _cells(rel)
    first = next(c for c in cells if c["cell_type"] == "markdown")
    assert badges.badge(rel) in _source(first), f"{rel}: first Markdown cell lacks its Colab badge"
    setup = next((c for c in cells if c["cell_type"] == "code"), None)
    assert setup is not None and badges.is_setup_cell(_source(setup)), (
        f"{rel}: the first code cell must be the standard setup cell:\n{badges.setup_source()}")
    assert f'%pip install -q "{badges.repo.pip_spec()}"' in _source(setup)


def test_there_are_lectures():
    assert LECTURES, "no lecture notebooks found in lectures/"
