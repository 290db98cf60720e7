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


def pytest_terminal_summary(terminalreporter):
    """Report (not assert) the seconds each notebook took to execute."""
    rows = []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for key, value in getattr(report, "user_properties", []):
            if key == "notebook_seconds" and report.when == "call":
                rows.append((report.nodeid.split("[", 1)[-1].rstrip("]"), value, report.outcome))
    if rows:
        terminalreporter.section("notebook execution time (budget: 120 s each on 2 CPU cores)")
        for name, seconds, outcome in sorted(rows):
            flag = "  over budget" if seconds > 120 else ""
            terminalreporter.write_line(f"{name:<55} {seconds:7.1f} s  {outcome}{flag}")
