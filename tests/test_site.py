"""`make course`: the Jupyter Book site, built offline from the repository's lectures and problem
sets, read in headless Chromium from file:// with every network request refused.

The site here executes only lecture 01 (or reuses the copy tests/test_notebooks.py executed,
same xdist group); the other lectures appear without outputs. The demo class's grades.csv and
feedback page are small stand-ins with the columns `cnn-grader autograde` writes.
"""

import contextlib
import os
import shutil

import pytest

from cnngrader import website
from conftest import ROOT

pytestmark = pytest.mark.xdist_group("site")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FIRST = "01_why_convolutions.ipynb"
GRADES = """student,assignment,score,max_score,status,flags,reason
ada,ps1,25,25,graded,,
brook,ps1,14,25,graded,,4 tests failed
colab_copy,ps1,25,25,repaired,,renamed 'Copy of ps1.ipynb'
hostile_loop,ps1,0,25,timeout,,exceeded 30 s of CPU time
"""


@contextlib.contextmanager
def _no_network():
    """Any HTTP(S) fetch during the build goes to a closed port (and fails the build's log check)."""
    saved = {k: os.environ.get(k) for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    os.environ.update({k: "http://127.0.0.1:9" for k in saved})
    try:
        yield
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


_BUILT = {}  # one build per test process, even when xdist tears the module's fixtures down between tests


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if "site" not in _BUILT:
        _BUILT["site"] = _build(tmp_path_factory.mktemp("site"))
    return _BUILT["site"]


def _build(out):
    (out / "demo" / "graded").mkdir(parents=True)
    (out / "demo" / "graded" / "grades.csv").write_text(GRADES)
    (out / "demo" / "feedback").mkdir()
    (out / "demo" / "feedback" / "brook.html").write_text("<html><body><h1>ps1 (Score: 14.0 / 25.0)</h1></body></html>")
    with _no_network():
        lectures = website.execute_lectures(website.lecture_paths(ROOT), out, root=ROOT, workers=1,
                                            executed_dir=ROOT / "_site" / "executed", only={FIRST})
        book = website.write_book(lectures, website.problem_set_paths(ROOT), out,
                                  executed_dir=ROOT / "_site" / "executed")
        log = website.sphinx_build(book, out / "html")
    return {"html": out / "html", "lectures": lectures, "log": log}


def test_every_lecture_and_problem_set_has_a_page(site):
    html = site["html"]
    for lec in site["lectures"]:
        page = (html / "lectures" / f"{lec.path.stem}.html").read_text()
        assert f"colab.research.google.com/github/cnn-course/cnn-course/blob/main/lectures/{lec.path.name}" in page
    for ps in website.problem_set_paths(ROOT):
        page = (html / "assignments" / ps.parent.name / f"{ps.stem}.html").read_text()
        assert f"blob/main/assignments/{ps.parent.name}/{ps.name}" in page
    assert (html / "search.html").exists() and (html / "searchindex.js").exists()
    assert "failed to reach" not in site["log"] and "intersphinx" not in site["log"]


def test_lecture_pages_show_their_measured_run_time(site):
    first = site["lectures"][0]
    assert first.status in ("ok", "reused") and first.seconds > 0
    page = (site["html"] / "lectures" / f"{first.path.stem}.html").read_text()
    assert f"Executed headless in {first.seconds:.1f}" in page
    intro = (site["html"] / "intro.html").read_text()
    assert f"{first.seconds:.0f} s" in intro


def test_feedback_student_is_the_partly_right_one():
    rows = [{"student": "a", "score": "25", "max_score": "25", "status": "graded"},
            {"student": "b", "score": "10", "max_score": "25", "status": "graded"},
            {"student": "c", "score": "0", "max_score": "25", "status": "timeout"}]
    assert website.pick_feedback_student(rows, {"a", "b", "c"}) == "b"
    assert website.pick_feedback_student(rows, {"a", "c"}) == "a"
    assert website.pick_feedback_student(rows, set()) is None


# --- in a browser, offline -------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(site):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        refused = []
        # Offline: anything but the site's own files is refused (and remembered).
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                      else (refused.append(route.request.url), route.abort()))
        page = context.new_page()
        page.refused = refused
        yield page
        browser.close()


def _open(page, site, rel, query=""):
    page.goto((site["html"] / rel).as_uri() + query)
    page.wait_for_load_state("load")


def test_next_walks_from_lecture_01_to_the_last_lecture(site, page):
    stems = [lec.path.stem for lec in site["lectures"]]
    _open(page, site, f"lectures/{stems[0]}.html")
    visited = [stems[0]]
    while len(visited) < len(stems):
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        visited.append(page.url.rsplit("/", 1)[-1].removesuffix(".html"))
    assert visited == stems
    assert "Problem sets" in page.locator("a.right-next").first.inner_text()


def test_search_finds_a_lecture_by_a_word(site, page):
    _open(page, site, "search.html", "?q=receptive")
    page.wait_for_selector("#search-results ul.search li a", timeout=30_000)
    hits = page.locator("#search-results ul.search li a").evaluate_all("els => els.map(e => e.href)")
    assert any("04_receptive_fields" in h for h in hits), hits


def test_figures_render_offline(site, page):
    _open(page, site, f"lectures/{site['lectures'][0].path.stem}.html")
    figures = page.locator(".cell_output img")
    assert figures.count() >= 1
    for i in range(figures.count()):
        figures.nth(i).scroll_into_view_if_needed()
        assert figures.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    badge = page.locator("img[alt='Open In Colab']").first
    assert badge.evaluate("img => img.complete && img.naturalWidth > 0"), "the badge is drawn offline"


def test_problem_set_page_and_grade_table(site, page):
    _open(page, site, "intro.html")
    page.locator("article a", has_text="ps1").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("assignments/ps1/ps1.html")
    colab = page.locator("a[href*='colab.research.google.com/github/cnn-course/cnn-course/blob/main/"
                         "assignments/ps1/ps1.ipynb']")
    assert colab.count() >= 1
    _open(page, site, "demo/grades.html")
    rows = page.locator("table tbody tr")
    assert rows.count() == 4 and "14 / 25" in rows.nth(1).inner_text()
    page.locator("a", has_text="the feedback of brook").click()
    page.wait_for_load_state("load")
    frame = page.frame_locator("iframe")
    assert "Score: 14.0 / 25.0" in frame.locator("h1").inner_text()
