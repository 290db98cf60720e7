import json
import os
import subprocess
import sys
import types

import nbformat
import pytest
import torch

import cnncourse
from cnncourse import badges, device, repo


def test_pick_prefers_an_available_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    assert device.pick().type == "cpu"
    monkeypatch.setattr(device, "_mps_available", lambda: True)
    assert device.pick().type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.pick().type == "cuda"


def test_unavailable_preference_is_explained(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="'cuda' is not available here; usable: cpu"):
        device.pick("cuda")


def test_colab_detection_and_report(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert not device.in_colab()
    assert device.report("cpu").startswith("device: cpu") and "| local" in device.report("cpu")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert device.in_colab() and device.report("cpu").endswith("| Colab")
    assert "GPU" in device.gpu_note(torch.device("cpu"))


def test_setup_seeds_and_reports(capsys):
    dev = cnncourse.setup(seed=3)
    a = torch.rand(3)
    cnncourse.setup(seed=3, quiet=True)
    assert torch.equal(a, torch.rand(3)) and isinstance(dev, torch.device)
    assert "seed 3" in capsys.readouterr().out


def test_full_mode(monkeypatch):
    monkeypatch.setenv("CNN_COURSE_FULL", "1")
    assert cnncourse.full_mode()
    monkeypatch.setenv("CNN_COURSE_FULL", "0")
    assert not cnncourse.full_mode()


def test_badge_and_install_line_follow_the_slug():
    assert badges.badge("lectures/01_x.ipynb", "me/course").endswith(
        "(https://colab.research.google.com/github/me/course/blob/main/lectures/01_x.ipynb)")
    setup = badges.setup_source("me/course")
    assert '%pip install -q "cnn-course @ git+https://github.com/me/course@main"' in setup
    assert badges.is_setup_cell(setup) and "torch" not in repo.pip_spec()


def test_rewrite_moves_every_badge(tmp_path, capsys):
    (tmp_path / "lectures").mkdir()
    (tmp_path / "utils" / "cnncourse").mkdir(parents=True)
    (tmp_path / "utils" / "cnncourse" / "repo.py").write_text(f'REPO_SLUG = "{repo.REPO_SLUG}"\n')
    rel = "lectures/01_x.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T\n" + badges.badge(rel)),
                                         nbformat.v4.new_code_cell(badges.setup_source())])
    nbformat.write(nb, tmp_path / rel)
    assert badges.main(["--slug", "new-owner/new-name", "--root", str(tmp_path)]) == 0
    cells = json.loads((tmp_path / rel).read_text())["cells"]
    assert badges.badge(rel, "new-owner/new-name") in cells[0]["source"]
    assert cells[1]["source"] == badges.setup_source("new-owner/new-name")
    assert 'REPO_SLUG = "new-owner/new-name"' in (tmp_path / "utils/cnncourse/repo.py").read_text()
    assert "rewrote 1 of 1" in capsys.readouterr().out
    assert badges.main(["--slug", "new-owner/new-name", "--root", str(tmp_path)]) == 0
    assert "rewrote 0 of 1" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        badges.main(["--slug", "not a slug", "--root", str(tmp_path)])


def test_cpu_report_names_the_vector_kernels_in_use():
    # forced in a fresh interpreter: torch reads ATEN_CPU_CAPABILITY once, when it loads
    code = "from cnncourse import device; print(device.report('cpu'))"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    line = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "CPU threads, DEFAULT kernels" in line, line
