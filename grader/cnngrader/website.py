"""``make course``: the course website, a Jupyter Book 1.x (Sphinx) site in ``_site/html``.

Every lecture is executed once, headless, by ``cnngrader.execute`` (two at a time, one OpenMP
thread each) into ``_site/executed/``; an executed notebook is reused as long as its source and the
``cnncourse`` package are unchanged. Jupyter Book never executes anything (``execute_notebooks:
"off"``) and fetches nothing: the build is plain Sphinx over files written here.

The book source (``_site/book/``) mirrors the repository's layout (``lectures/``,
``assignments/``) so that the theme's Colab launch button of every page opens the same file in
the repository on Colab.
"""

import csv
import hashlib
import html
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cnncourse import repo
from cnngrader.execute import NotebookFailed, run_notebook

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
# The site is read offline: the badge image is drawn here instead of fetched from Colab.
BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img"
 aria-label="Open in Colab"><rect width="117" height="20" rx="3" fill="#444"/>
<rect x="20" width="97" height="20" rx="3" fill="#f9ab00"/><circle cx="10" cy="10" r="5"
 fill="none" stroke="#f9ab00" stroke-width="2.5"/><text x="68" y="14" fill="#222"
 font-family="Verdana,sans-serif" font-size="11" text-anchor="middle">Open in Colab</text></svg>
"""


@dataclass
class Lecture:
    path: Path          # the notebook in the repository
    title: str
    seconds: float      # measured execution time (nan when it failed)
    status: str         # "ok", "reused" or "FAILED: ..."


def lecture_paths(root="."):
    """The lecture notebooks in teaching order (whatever ``lectures/NN_*.ipynb`` exist)."""
    return sorted(Path(root, "lectures").glob("[0-9][0-9]_*.ipynb"))


def problem_set_paths(root="."):
    """The student versions of the problem sets: ``assignments/<set>/<set>.ipynb``."""
    return sorted(Path(root, "assignments").glob("*/*.ipynb"))


def title_of(nb, fallback):
    """The first Markdown heading of a notebook, without the leading #'s."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def package_digest(root="."):
    """A hash of the ``cnncourse`` sources: executed lectures are stale when it changes."""
    digest = hashlib.sha256()
    for path in sorted(Path(root, "utils", "cnncourse").rglob("*.py")):
        digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def lecture_key(path, package):
    """What an executed lecture depends on: its source and the package (``package_digest``)."""
    return hashlib.sha256(Path(path).read_bytes() + package.encode()).hexdigest()


def cached(path, executed_dir, key):
    """The executed copy of lecture ``path`` in ``executed_dir`` if it was made from ``key``."""
    executed = Path(executed_dir) / Path(path).name
    if executed.exists():
        nb = nbformat.read(executed, as_version=4)
        if nb.metadata.get("cnncourse_site", {}).get("key") == key:
            return nb
    return None


def store(nb, path, executed_dir, key, seconds):
    """Keep an executed lecture for the site (written atomically: parallel runs may share it)."""
    nb.metadata["cnncourse_site"] = {"key": key, "seconds": round(seconds, 1),
                                     "executed": time.strftime("%Y-%m-%d")}
    executed = Path(executed_dir) / Path(path).name
    executed.parent.mkdir(parents=True, exist_ok=True)
    tmp = executed.with_name(f".{executed.name}.{os.getpid()}.{threading.get_ident()}")
    nbformat.write(nb, tmp)
    os.replace(tmp, executed)


def execute_lecture(path, out, package="", timeout=300, executed_dir=None, allowed=True):
    """Execute one lecture into ``executed_dir`` (default ``out/executed``), or reuse an up-to-date
    copy; with ``allowed=False`` a lecture without one is left unexecuted. A ``Lecture``."""
    path, key = Path(path), lecture_key(path, package)
    executed_dir = Path(executed_dir or Path(out) / "executed")
    nb = cached(path, executed_dir, key)
    if nb is not None:
        return Lecture(path, title_of(nb, path.stem), nb.metadata["cnncourse_site"]["seconds"], "reused")
    if not allowed:
        return Lecture(path, title_of(nbformat.read(path, as_version=4), path.stem), float("nan"),
                       "not executed")
    work = Path(out) / "work" / path.stem
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        run = run_notebook(path, cwd=work, timeout=timeout)
    except NotebookFailed as err:
        nb = nbformat.read(path, as_version=4)
        return Lecture(path, title_of(nb, path.stem), float("nan"), f"FAILED: {err}")
    store(run.notebook, path, executed_dir, key, run.seconds)
    return Lecture(path, title_of(run.notebook, path.stem), round(run.seconds, 1), "ok")


def execute_lectures(paths, out, root=".", workers=2, timeout=300, executed_dir=None, only=None):
    """Execute (or reuse) the lectures, ``workers`` at a time; a list of ``Lecture``.

    ``only`` (names of notebooks) limits which lectures may be executed; the others are shown as
    they are unless an up-to-date executed copy exists.
    """
    package = package_digest(root)
    if workers > 1:
        os.environ["OMP_NUM_THREADS"] = "1"  # two torch kernels on two cores: no oversubscription

    def one(path):
        allowed = only is None or Path(path).name in only
        return execute_lecture(path, out, package, timeout, executed_dir, allowed)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, paths))


def _offline_badge(nb, depth):
    """Point the Colab badge image at the site's own copy (the page stays readable offline)."""
    local = "../" * depth + "colab-badge.svg"
    for cell in nb.cells:
        if cell.cell_type == "markdown" and COLAB_BADGE in cell.source:
            cell.source = cell.source.replace(COLAB_BADGE, local)
    return nb


def _executed(lecture):
    return lecture.status in ("ok", "reused")


def _run_time_note(lecture):
    if lecture.status == "not executed":
        return "**This build of the site did not execute this lecture**; the page shows it without outputs."
    if lecture.status.startswith("FAILED"):
        first = lecture.status.splitlines()[0]
        return (f"**This lecture failed to execute when the site was built** ({first}); "
                "the page shows it without outputs.")
    return (f"*Executed headless in {lecture.seconds:.1f} s on this site's build machine "
            f"({os.cpu_count()} CPU cores, one thread per notebook); every output below comes "
            "from that run.*")


def _write_lecture(lecture, executed_dir, book):
    executed = Path(executed_dir) / lecture.path.name
    nb = nbformat.read(executed if _executed(lecture) else lecture.path, as_version=4)
    first = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first + 1, nbformat.v4.new_markdown_cell(_run_time_note(lecture)))
    target = book / "lectures" / lecture.path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_offline_badge(nb, 1), target)


def _write_problem_set(path, book):
    nb = nbformat.read(path, as_version=4)
    target = book / "assignments" / path.parent.name / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_offline_badge(nb, 2), target)


def _colab_link(rel):
    return f"[![Open in Colab](colab-badge.svg)]({repo.colab_url(rel)})"


def intro_page(lectures, problem_sets):
    """The home page: the three ways in and the course map with measured run times."""
    rows = []
    for lec in lectures:
        rel = f"lectures/{lec.path.name}"
        seconds = f"{lec.seconds:.0f} s" if _executed(lec) else lec.status.split(":")[0].lower()
        rows.append(f"| [{lec.title}]({rel}) | {seconds} | {_colab_link(rel)} |")
    sets = [f"| [{p.parent.name}](assignments/{p.parent.name}/{p.name}) | "
            f"{_colab_link(f'assignments/{p.parent.name}/{p.name}')} |" for p in problem_sets]
    return "\n".join([
        "# Convolutional neural networks, runnable", "",
        "An open course on convolutional neural networks: lecture notebooks that compute every "
        "number they quote, problem sets graded with nbgrader, and the instructor's grader.", "",
        "## Three ways in", "",
        "- **Read it here.** Every lecture below was executed when this site was built; its "
        "figures and numbers are the ones its cells printed. Use the sidebar, the *previous* / "
        "*next* links at the bottom of each page, or the search box.",
        "- **Run it in JupyterLab.** `git clone` the repository, then `make lab`: JupyterLab "
        "opens on the lectures and the problem sets, with nbgrader's *Validate* button.",
        f"- **Open it on Colab.** The {_colab_link('lectures/' + lectures[0].path.name) if lectures else 'Colab'}"
        " badge on every page (or the rocket icon at its top) opens that notebook on Google "
        "Colab, which installs the course package by itself.", "",
        "## Lectures", "",
        "| lecture | run time | Colab |", "|---|---|---|", *rows, "",
        "## Problem sets", "",
        "| set | Colab |", "|---|---|", *sets, "",
        "How the sets are graded, and what a student gets back: [the demo class](demo/grades.md).",
        ""])


def problem_sets_page(problem_sets):
    items = [f"- [{p.parent.name}](assignments/{p.parent.name}/{p.name})" for p in problem_sets]
    return "\n".join([
        "# Problem sets", "",
        "The student versions, as released by nbgrader from the answer key. Work in them in "
        "JupyterLab (`make lab`; the *Validate* button runs the visible tests) or on Colab (the "
        "last cell prints a score card). Hand in the `.ipynb` file as it is, even if Colab "
        "renamed it.", "", *items, ""])


def find_grades(demo):
    """The demo class's ``grades.csv`` (``DIR/grades.csv`` or one level below), or None."""
    demo = Path(demo)
    found = [demo / "grades.csv"] + sorted(demo.glob("*/grades.csv"))
    return next((p for p in found if p.exists()), None)


def read_grades(csv_path):
    with open(csv_path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _cell(text, limit=None):
    """``text`` for a Markdown table cell; past ``limit`` characters it ends with an ellipsis."""
    text = " ".join(str(text).split())
    if limit and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return html.escape(text).replace("|", "\\|")


def grades_page(rows, feedback_student=None, note="", csv_name=None):
    """The demo class's grade table as Markdown (reasons and flags shortened; the CSV has them)."""
    lines = ["# The demo class: grades", "",
             "A generated class of submissions to ps1, made from the answer key: correct, "
             "partial, broken (renamed files, lost metadata, invalid JSON) and hostile ones "
             "(infinite loops, fork bombs, snooping for the answers). `cnn-grader autograde` "
             "graded them for this page; no submission gets a silent zero: each gets a status "
             "and a reason.", ""]
    if note:
        lines += [note, ""]
    if rows:
        lines += ["| student | score | status | reason | flags |", "|---|---|---|---|---|"]
        for r in rows:
            score = f"{_cell(r.get('score', ''))} / {_cell(r.get('max_score', ''))}"
            lines.append(f"| {_cell(r.get('student', ''))} | {score} | {_cell(r.get('status', ''))} | "
                         f"{_cell(r.get('reason', ''), 160)} | {_cell(r.get('flags', ''), 90)} |")
        lines.append("")
    if csv_name:
        lines += [f'The full reasons and flags: <a href="../{csv_name}">grades.csv</a>.', ""]
    if feedback_student:
        lines += [f"What a student gets back: [the feedback of {feedback_student}](feedback.md).", ""]
    return "\n".join(lines)


def feedback_page(student, html_name):
    return "\n".join([
        f"# Feedback: {student}", "",
        "The page `cnn-grader feedback` writes for one student of the demo class: their notebook "
        "as graded, points per test, the visible tests' output; hidden tests ran but their code "
        "is not shown.", "",
        f'<p><a href="../{html_name}">Open the feedback page on its own</a></p>', "",
        f'<iframe src="../{html_name}" title="feedback of {html.escape(student)}" '
        'style="width:100%;height:80vh;border:1px solid #ccc"></iframe>', ""])


def pick_feedback_student(rows, available):
    """The most instructive student to show: partly right, graded, with a feedback page."""
    def rank(r):
        try:
            score, top = float(r["score"]), float(r["max_score"])
        except (KeyError, ValueError):
            return 3
        return 0 if r.get("status") == "graded" and 0 < score < top else 1 if score > 0 else 2
    candidates = sorted((r for r in rows if r.get("student") in available), key=rank)
    return candidates[0]["student"] if candidates else None


def toc(lectures, problem_sets, demo_pages):
    lines = ["format: jb-book", "root: intro", "parts:", "  - caption: Lectures", "    chapters:"]
    lines += [f"      - file: lectures/{lec.path.stem}" for lec in lectures]
    lines += ["  - caption: Problem sets", "    chapters:", "      - file: problem_sets",
              "        sections:"]
    lines += [f"          - file: assignments/{p.parent.name}/{p.stem}" for p in problem_sets]
    if demo_pages:
        lines += ["  - caption: Grading", "    chapters:"]
        lines += [f"      - file: demo/{page}" for page in demo_pages]
    return "\n".join(lines) + "\n"


def config():
    slug = repo.REPO_SLUG
    return f"""title: "CNN course"
author: the cnn-course authors
copyright: ""
only_build_toc_files: true
execute:
  execute_notebooks: "off"
repository:
  url: https://github.com/{slug}
  branch: {repo.BRANCH}
  path_to_book: ""
launch_buttons:
  colab_url: https://colab.research.google.com
  notebook_interface: jupyterlab
html:
  use_repository_button: true
  use_issues_button: false
  use_edit_page_button: false
  home_page_in_navbar: true
parse:
  myst_enable_extensions: [dollarmath, amsmath, colon_fence, html_image]
sphinx:
  config:
    html_extra_path: [extra]
    html_show_sourcelink: false
    nb_merge_streams: true
    suppress_warnings: [misc.highlighting_failure, myst.header, mystnb.unknown_mime_type]
    intersphinx_mapping: {{}}
"""


def demo_class(out, assignment="ps1"):
    """Run ``cnn-grader demo`` and ``cnn-grader feedback`` into ``out/demo``; a note on failure.

    The demo is a separate process: a grader that fails leaves the site buildable from whatever
    ``grades.csv`` exists, and the note says what went wrong.
    """
    demo = Path(out) / "demo"
    cli = [sys.executable, "-m", "cnngrader.cli"]
    steps = [cli + ["demo", "--assignment", assignment, "--out", str(demo)],
             cli + ["feedback", assignment, "--course-dir", str(demo / "course"),
                    "--out", str(demo / "feedback")]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        print(done.stdout[-4000:], end="")
        if done.returncode:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
            return f"`{' '.join(step[3:5])}` failed when the site was built: {tail[0]}"
    return ""


def write_book(lectures, problem_sets, out, demo_note="", executed_dir=None):
    """The Jupyter Book source in ``out/book``: config, table of contents and every page."""
    out = Path(out)
    executed_dir = executed_dir or out / "executed"
    book = out / "book"
    shutil.rmtree(book, ignore_errors=True)
    (book / "extra").mkdir(parents=True)
    (book / "colab-badge.svg").write_text(BADGE_SVG, encoding="utf-8")
    for lecture in lectures:
        _write_lecture(lecture, executed_dir, book)
    for path in problem_sets:
        _write_problem_set(path, book)
    (book / "intro.md").write_text(intro_page(lectures, problem_sets), encoding="utf-8")
    (book / "problem_sets.md").write_text(problem_sets_page(problem_sets), encoding="utf-8")
    demo_pages = []
    grades = find_grades(out / "demo")
    if grades or demo_note:
        rows = read_grades(grades) if grades else []
        feedback_dir = out / "demo" / "feedback"
        available = {p.stem: p for p in feedback_dir.glob("*.html")} if feedback_dir.is_dir() else {}
        student = pick_feedback_student(rows, available)
        (book / "demo").mkdir()
        if grades:
            shutil.copy(grades, book / "extra" / "demo_grades.csv")
        page = grades_page(rows, student, demo_note, "demo_grades.csv" if grades else None)
        (book / "demo" / "grades.md").write_text(page, encoding="utf-8")
        demo_pages.append("grades")
        if student:
            shutil.copy(available[student], book / "extra" / f"feedback_{student}.html")
            (book / "demo" / "feedback.md").write_text(
                feedback_page(student, f"feedback_{student}.html"), encoding="utf-8")
            demo_pages.append("feedback")
    (book / "_toc.yml").write_text(toc(lectures, problem_sets, demo_pages), encoding="utf-8")
    (book / "_config.yml").write_text(config(), encoding="utf-8")
    return book


def sphinx_build(book, html_dir):
    """``jupyter-book config sphinx`` then Sphinx itself: the HTML goes straight to ``html_dir``."""
    bin_dir = Path(sys.executable).parent
    jb = [str(bin_dir / "jupyter-book")] if (bin_dir / "jupyter-book").exists() else ["jupyter-book"]
    subprocess.run(jb + ["config", "sphinx", str(book)], check=True, capture_output=True)
    shutil.rmtree(html_dir, ignore_errors=True)
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d",
                           str(Path(book) / ".doctrees"), str(book), str(html_dir)],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"Sphinx failed:\n{done.stderr[-4000:]}")
    return done.stderr


def summary_table(lectures):
    """A plain-text table: notebook, seconds, status."""
    width = max(len(lec.path.name) for lec in lectures)
    lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", "-" * (width + 20)]
    lines += [f"{lec.path.name:<{width}}  {lec.seconds:>8.1f}  {lec.status.splitlines()[0]}"
              for lec in lectures]
    return "\n".join(lines)


def build(root=".", out="_site", notebooks=None, workers=2, timeout=300, demo=True,
          executed_dir=None, only=None):
    """Build the whole site into ``out/html``; 0 when every lecture ran and the demo graded.

    ``executed_dir`` (default ``out/executed``) keeps the executed lectures between builds;
    ``only`` limits which lectures may be executed (see ``execute_lectures``).
    """
    start, out = time.perf_counter(), Path(out)
    paths = [Path(p) for p in notebooks] if notebooks else lecture_paths(root)
    lectures = execute_lectures(paths, out, root=root, workers=workers, timeout=timeout,
                                executed_dir=executed_dir, only=only)
    print(summary_table(lectures))
    note = demo_class(out) if demo else ""
    book = write_book(lectures, problem_set_paths(root), out, note, executed_dir)
    warnings = sphinx_build(book, out / "html")
    failed = [lec for lec in lectures if lec.status.startswith("FAILED")]
    for lec in failed:
        print(f"\n{lec.status}")
    if note:
        print(f"\n{note}")
    if warnings.strip():
        print(f"\nSphinx warnings:\n{warnings[-3000:]}")
    print(f"site built in {time.perf_counter() - start:.0f} s: {(out / 'html' / 'index.html').resolve()}")
    return 1 if failed or note else 0
