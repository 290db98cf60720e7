"""Measure the course: run every benchmarks/bench_*.py, print a table, write results.json.

Each bench module defines ``run(quick=False) -> list[dict]`` whose rows carry at least
``name``, ``value`` and ``unit`` (and optionally ``note``). Usage:

    python benchmarks/run.py              # everything
    python benchmarks/run.py import       # only modules whose name contains "import"
    python benchmarks/run.py --quick      # shorter versions, for a smoke run
"""

import argparse
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(patterns=()):
    """The bench modules, optionally filtered by substrings of their names."""
    paths = sorted(HERE.glob("bench_*.py"))
    return [p for p in paths if not patterns or any(s in p.stem for s in patterns)]


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table(rows):
    """Rows as aligned text: benchmark, value, unit, note."""
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'benchmark':<{width}}  {'value':>12}  unit      note"]
    for r in rows:
        value = r["value"]
        shown = f"{value:12.3f}" if isinstance(value, float) else f"{value!s:>12}"
        lines.append(f"{r['name']:<{width}}  {shown}  {r['unit']:<8}  {r.get('note', '')}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="substrings of bench module names to run")
    parser.add_argument("--quick", action="store_true", help="shorter runs (smoke test)")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args(argv)
    results = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                           "processor": platform.processor()},
               "started": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": []}
    for path in discover(args.only):
        start = time.perf_counter()
        rows = load(path).run(quick=args.quick)
        print(f"[{path.stem}: {time.perf_counter() - start:.1f} s]", file=sys.stderr)
        results["rows"].extend(rows)
    print(table(results["rows"]) if results["rows"] else "no benchmarks matched")
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
