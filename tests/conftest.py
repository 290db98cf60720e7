"""Shared test setup: repository paths, one thread per worker, a per-notebook time report."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel workers on 2 cores: one OpenMP thread each (two 2-thread torch processes
    # on 2 cores were measured 2x slower than running them one after the other).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def root():
    return ROOT


def tagged_processes(tag):
    """(pid, command) of every process whose environment carries ``CNNGRADER_TEST_TAG=tag`` (a grading
    run started with that tag passes it to every process it starts)."""
    marker = f"CNNGRADER_TEST_TAG={tag}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in environ:
            found.append((pid, cmd))
    return found


def _kernel_start(timeline):
    """(seconds until the kernel was ready, seconds until it acknowledged the first request)."""
    def first(suffix):
        return next((t for t, event in timeline if event.endswith(suffix)), float("nan"))

    ready = next((t for t, event in timeline if event.startswith("kernel ready")), float("nan"))
    return ready, first("(request received)") - first("execute_request sent")


def pytest_terminal_summary(terminalreporter):
    """Report (not assert) the seconds each notebook took and how fast its kernel started."""
    rows, events = [], []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        props = dict(getattr(report, "user_properties", []))
        if "notebook_seconds" in props and report.when == "call":
            ready, first = _kernel_start(props.get("kernel_timeline", []))
            name = report.nodeid.split("[", 1)[-1].rstrip("]")
            rows.append((name, props["notebook_seconds"], ready, first, report.outcome))
            events += [f"{name}: {t:.2f} s {event}" for t, event in props.get("kernel_timeline", [])
                       if "LATE" in event or "STALL" in event]
    if rows:
        terminalreporter.section("notebook execution time (budget: 120 s each on 2 CPU cores)")
        terminalreporter.write_line(f"{'notebook':<55} {'total':>9}  {'kernel ready':>12}  "
                                    f"{'1st request acknowledged':>24}")
        for name, seconds, ready, first, outcome in sorted(rows):
            flag = "  over budget" if seconds > 120 else ""
            terminalreporter.write_line(f"{name:<55} {seconds:7.1f} s  {ready:10.2f} s  {first:22.3f} s"
                                        f"  {outcome}{flag}")
        for line in events:  # lost wake-ups and stalls (see cnngrader.execute)
            terminalreporter.write_line(line)


def set_points(assignment):
    """``(full, partial)`` for a problem set: the points of its autograded test cells, and the points
    the demo class's "partial" student earns (the first half of the answers, ``cnngrader.demo``)."""
    import nbformat

    nb = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    answers = [m["grade_id"] for m in meta if m.get("solution")]
    kept = set(answers[: max(1, len(answers) // 2)])
    full = partial = 0.0
    last_answer = None
    for cell, m in zip(nb.cells, meta):
        if m.get("solution"):
            last_answer = m["grade_id"]
        elif m.get("grade") and cell.cell_type == "code":
            full += m["points"]
            partial += m["points"] if last_answer in kept else 0
    return full, partial


FULL, PARTIAL = set_points("ps1")
