"""Cold ``import cnncourse`` time, in fresh interpreters (median of several)."""

import statistics
import subprocess
import sys
import time


def _cold_import(module):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - start


def run(quick=False):
    repeats = 3 if quick else 7
    baseline = statistics.median(_cold_import("sys") for _ in range(repeats))
    rows = []
    for module in ("cnncourse", "cnncourse.train"):
        seconds = statistics.median(_cold_import(module) for _ in range(repeats))
        rows.append({"name": f"cold import {module}", "value": round(seconds - baseline, 3),
                     "unit": "s", "note": f"median of {repeats}, interpreter start subtracted"})
    return rows
