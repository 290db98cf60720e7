"""`make lab`: JupyterLab starts on the course and serves the lecture list, the problem sets and
the nbgrader extension (REST API only; tests/test_browser.py drives it in Chromium)."""

import json
import re
import urllib.request

import pytest

from cnngrader import lab
from cnngrader.website import lecture_paths, problem_set_paths
from conftest import ROOT

TOKEN = "cnn-course-test"


@pytest.fixture(scope="module")
def server():
    with lab.running(ROOT, token=TOKEN) as base:
        yield base


def _get(server, path):
    with urllib.request.urlopen(f"{server}{path}?token={TOKEN}", timeout=60) as response:
        return response.read().decode()


def test_make_lab_runs_the_course_command():
    makefile = (ROOT / "Makefile").read_text()
    assert "cnn-grader lab" in makefile
    args = lab.command(ROOT, port=0, open_browser=False)
    assert "--LabApp.default_url=/lab/tree/lectures" in args and "--no-browser" in args
    assert lab.environment(ROOT)["JUPYTER_CONFIG_PATH"].split(":")[0] == str(ROOT / "grader")


def test_lab_lists_the_lectures(server):
    listed = {item["name"] for item in json.loads(_get(server, "/api/contents/lectures"))["content"]}
    expected = {p.name for p in lecture_paths(ROOT)}
    assert expected and expected <= listed


def test_lab_serves_the_student_problem_sets(server):
    for path in problem_set_paths(ROOT):
        rel = path.relative_to(ROOT).as_posix()
        model = json.loads(_get(server, f"/api/contents/{rel}"))
        assert model["type"] == "notebook" and model["content"]["cells"]


def test_lab_opens_on_the_lectures_with_the_nbgrader_extension(server):
    with urllib.request.urlopen(f"{server}/?token={TOKEN}", timeout=60) as response:
        assert response.url.split("?")[0].endswith("/lab/tree/lectures")
        page = response.read().decode()
    config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert "@jupyter/nbgrader" in {e["name"] for e in config["federated_extensions"]}
