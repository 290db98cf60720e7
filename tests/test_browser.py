"""JupyterLab in a real browser: run lecture 01, move its slider, see the figure change; and
the nbgrader extension is loaded. Headless Debian Chromium driven by Playwright."""

import os
import shutil

import pytest

from cnngrader import lab as lab_server
from conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LECTURE = "01_why_convolutions.ipynb"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic"]


KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return kernel && kernel.status === 'idle';
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab`'s JupyterLab (cnngrader.lab) on loopback, serving a folder with the lecture; the
    OS picks its port."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "lectures" / LECTURE, root / LECTURE)
    token = "cnn-course-test"
    try:
        with lab_server.running(root, token=token, env={"OMP_NUM_THREADS": "1"}) as base:
            yield {"base": base, "token": token, "root": root}
    except RuntimeError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()


def _figure_src(page):
    return page.locator(".widget-vbox .jp-OutputArea-output img").first.get_attribute("src")


def test_lecture_widget_responds_to_the_slider(lab, page, tmp_path):
    page.goto(f"{lab['base']}/lab/tree/{LECTURE}?token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    slider = page.locator(".widget-vbox .widget-slider").first
    slider.wait_for(state="attached", timeout=180_000)
    page.wait_for_selector(".widget-vbox .jp-OutputArea-output img", state="attached", timeout=60_000)
    assert page.locator(".widget-vbox .widget-slider").count() == 1, "the explorer is displayed once"
    slider.scroll_into_view_if_needed()
    before = _figure_src(page)
    handle = page.locator(".widget-vbox .noUi-handle").first
    handle.click()
    for _ in range(3):
        handle.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const img = document.querySelector('.widget-vbox .jp-OutputArea-output img');"
        " return img && img.src !== before; }", arg=before, timeout=60_000)
    readout = page.locator(".widget-vbox .widget-readout").first.inner_text()
    page.screenshot(path=str(tmp_path / "jupyterlab-lecture01.png"), full_page=False)
    content = page.content()
    assert "Error displaying widget" not in content
    assert _figure_src(page) != before and readout.strip() != "4"
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    assert not [e for e in errors if "Traceback" in e]


def test_nbgrader_extension_is_loaded(lab, page):
    page.goto(f"{lab['base']}/lab/tree/{LECTURE}?token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    menu = page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")
    validate = page.locator(".jp-Toolbar button, .jp-Toolbar .jp-ToolbarButtonComponent", has_text="Validate")
    menu.or_(validate).first.wait_for(timeout=30_000)
    assert menu.count() + validate.count() >= 1
