"""``make course``: execute every lecture headless into build/ (notebook + HTML) with a course map."""

import html
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from cnngrader.execute import NotebookFailed, run_notebook


def lecture_paths(root="."):
    """The lecture notebooks in teaching order."""
    return sorted(Path(root, "lectures").glob("[0-9][0-9]_*.ipynb"))


def title_of(nb, fallback):
    """The first Markdown heading of a notebook, without the leading #'s."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def _execute(path, out, timeout):
    work = out / "work" / path.stem
    work.mkdir(parents=True, exist_ok=True)
    try:
        run = run_notebook(path, cwd=work, timeout=timeout)
        nb, seconds, status = run.notebook, run.seconds, "ok"
    except NotebookFailed as err:
        nb, seconds, status = nbformat.read(path, as_version=4), float("nan"), f"FAILED: {err}"
    nbformat.write(nb, out / "lectures" / path.name)
    body, _ = HTMLExporter().from_notebook_node(nb)
    (out / f"{path.stem}.html").write_text(body, encoding="utf-8")
    return {"name": path.name, "title": title_of(nb, path.stem), "html": f"{path.stem}.html",
            "seconds": seconds, "status": status}


def write_index(rows, out):
    """``build/index.html``: the course map linking every executed lecture."""
    items = "\n".join(
        f'<tr><td><a href="{html.escape(r["html"])}">{html.escape(r["title"])}</a></td>'
        f'<td>{r["seconds"]:.1f} s</td><td>{html.escape(r["status"].splitlines()[0])}</td></tr>'
        for r in rows)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>cnn-course</title>"
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}"
        "td{padding:.3em 1em}</style></head><body>"
        "<h1>cnn-course: convolutional neural networks, runnable</h1>"
        "<p>Every lecture below was executed headless; click one to read it with its outputs.</p>"
        f"<table><tr><th>lecture</th><th>run time</th><th>status</th></tr>{items}</table>"
        "</body></html>\n")
    (out / "index.html").write_text(page, encoding="utf-8")


def summary_table(rows):
    """A plain-text table: notebook, seconds, status."""
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", "-" * (width + 20)]
    lines += [f"{r['name']:<{width}}  {r['seconds']:>8.1f}  {r['status'].splitlines()[0]}" for r in rows]
    return "\n".join(lines)


def build(notebooks=None, out="build", timeout=600, workers=2):
    """Execute ``notebooks`` (default: all lectures) into ``out``; return 0 if all ran."""
    out = Path(out)
    (out / "lectures").mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in notebooks] if notebooks else lecture_paths()
    if workers > 1:
        os.environ["OMP_NUM_THREADS"] = "1"  # two torch kernels on two cores: no oversubscription
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        rows = list(pool.map(lambda p: _execute(p, out, timeout), paths))
    write_index(rows, out)
    print(summary_table(rows))
    print(f"{len(rows)} notebooks in {time.perf_counter() - start:.1f} s -> {out / 'index.html'}")
    failed = [r for r in rows if r["status"] != "ok"]
    for r in failed:
        print(f"\n{r['status']}")
    return 1 if failed else 0
