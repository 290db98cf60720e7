"""Every course notebook: executes top to bottom alone in an empty folder, carries no
outputs in git, opens with the Colab badge and the standard setup cell."""

import json
import re
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
# Lectures whose prose quotes what training prints: those numbers depend on the vector kernels torch
# picks for the CPU and on the thread count, so the prose quotes ranges, and these lectures run again
# with the kernels forced to each level (the machine's own level at one thread is the run above).
TRAINED = ["lectures/06_backprop_batchnorm.ipynb", "lectures/07_mnist1d.ipynb", "lectures/09_lenet.ipynb",
           "lectures/10_popular_cnns.ipynb", "lectures/11_inside_a_cnn.ipynb",
           "lectures/12_beyond_classification.ipynb"]
LEVELS = [("default", 1), ("default", 2), ("avx2", 1), ("avx2", 2), (None, 2)]  # None: the machine's own
# They run one after the other on one worker (two 2-thread kernels at once on 2 cores oversubscribe
# it), with OpenMP's idle threads sleeping instead of spinning: the results are the same, but a
# thread that spins while the other worker holds a core slowed a 10 s cell past 180 s in CI.


def _params(paths):
    return [pytest.param(p, marks=pytest.mark.xdist_group("site")) if p == SITE_GROUP else p for p in paths]


def _cells(rel):
    return json.loads((ROOT / rel).read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.notebook
@pytest.mark.parametrize("rel", _params(LECTURES + SOLUTIONS))
def test_lecture_runs_alone_in_empty_folder(rel, tmp_path, record_property):
    run = _run_checked(rel, tmp_path)
    record_property("notebook_seconds", round(run.seconds, 1))
    record_property("kernel_timeline", run.timeline)
    if rel in LECTURES:
        key = website.lecture_key(ROOT / rel, website.package_digest(ROOT))
        website.store(run.notebook, ROOT / rel, EXECUTED, key, run.seconds)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.xdist_group("cpu-levels")
@pytest.mark.parametrize("level, threads", LEVELS, ids=[f"{level or 'own'}-{n}" for level, n in LEVELS])
@pytest.mark.parametrize("rel", TRAINED)
def test_trained_lecture_prose_holds_at_every_cpu_level(rel, level, threads, tmp_path, monkeypatch):
    if level:
        monkeypatch.setenv("ATEN_CPU_CAPABILITY", level)
    else:
        monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, str(threads))
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    run = _run(rel, tmp_path, timeout=600)
    setup = next(c for c in run.notebook.cells if c.cell_type == "code")
    line = "".join(o.get("text", "") for o in setup.outputs)
    kernels = re.search(r"(\d+) CPU threads, (\w+) kernels", line)
    assert kernels and kernels[1] == str(threads), f"the setup cell printed {line!r}"
    if level and kernels[2] != level.upper():
        pytest.skip(f"this CPU cannot run torch's {level} kernels (torch chose {kernels[2]})")
    _check(rel, run)


def _run_checked(rel, tmp_path):
    return _check(rel, _run(rel, tmp_path))


def _run(rel, tmp_path, timeout=180):
    """Run a course notebook alone in an empty folder."""
    copy = tmp_path / (ROOT / rel).name
    shutil.copy(ROOT / rel, copy)
    # A lecture has 120 s in all (180 s per cell leaves room for a loaded machine; forced slow kernels
    # get more); a kernel that does not acknowledge a request within 60 s is stalled: the test fails
    # at once with its timed log.
    return run_notebook(copy, cwd=tmp_path, timeout=timeout, stall_after=60)


def _check(rel, run):
    """No cell failed, and a lecture's prose quotes only what its cells printed."""
    errors = [o for c in run.notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    if rel in LECTURES:  # prose pinned to outputs (tests/prose.py)
        drift = unpinned(run.notebook)
        assert not drift, report(rel, drift)
    return run


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
