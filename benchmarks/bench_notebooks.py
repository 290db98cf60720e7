"""Seconds to execute each lecture notebook headless (as `make course` and the tests do)."""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(quick=False):
    from cnngrader.website import lecture_paths
    from cnngrader.execute import run_notebook

    rows = []
    for path in lecture_paths(ROOT)[: 1 if quick else None]:
        with tempfile.TemporaryDirectory() as tmp:
            seconds = run_notebook(path, cwd=tmp).seconds
        rows.append({"name": f"notebook {path.stem}", "value": round(seconds, 1), "unit": "s",
                     "note": "executed once in a fresh kernel"})
    return rows


if __name__ == "__main__":
    sys.exit(print(run()))
