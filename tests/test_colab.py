"""The course as a Colab learner meets it: the setup cell's install, a wheel that leaves Colab's
torch alone, code that Colab's newer Python accepts, and GPU code that never hard-codes a device."""

import ast
import json
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from cnncourse import badges, repo
from conftest import ROOT

NOTEBOOKS = badges.notebooks(ROOT)
REMOVED_IN_PY312 = {"distutils", "imp", "asynchat", "asyncore", "smtpd"}


def _code_cells(rel):
    cells = json.loads((ROOT / rel).read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _run_setup_cell(monkeypatch, colab):
    """Execute the standard setup cell as IPython would, recording the magics it calls."""
    calls = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: calls.append((name, line)))
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    code = TransformerManager().transform_cell(badges.setup_source())
    namespace = {"get_ipython": lambda: shell}
    exec(compile(code, "<setup cell>", "exec"), namespace)
    return calls, namespace


def test_setup_cell_installs_the_package_only_on_colab(monkeypatch, capsys):
    calls, namespace = _run_setup_cell(monkeypatch, colab=True)
    assert calls == [("pip", f'install -q "cnn-course @ git+https://github.com/{repo.REPO_SLUG}@main"')]
    assert "torch" not in calls[0][1] and namespace["device"].type in {"cpu", "cuda", "mps"}
    assert "| Colab" in capsys.readouterr().out
    calls, _ = _run_setup_cell(monkeypatch, colab=False)
    assert calls == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True)
    (found,) = out.glob("cnn_course-*.whl")
    return found


def _fake_torch_wheel(folder, version="2.8.0+cu126"):
    """A stand-in for the CUDA torch Colab preinstalls: a distribution named torch, version 2.8."""
    import zipfile

    path = folder / f"torch-{version.replace('+', '_')}-py3-none-any.whl"
    info = f"torch-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("torch/__init__.py", f"__version__ = '{version}'\nCOLAB_TORCH = True\n")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return path


def test_wheel_installs_beside_colab_torch_without_touching_it(wheel, tmp_path):
    """A clean environment whose torch is Colab's (2.8, CUDA): installing the course adds only the
    course; the resolver accepts that torch and the other preinstalled packages as they are."""
    env = tmp_path / "colab-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run(pip + ["install", "-q", "--no-index", "--no-deps", str(_fake_torch_wheel(tmp_path))], check=True)
    # Colab preinstalls numpy, matplotlib, scikit-learn, ...: borrow ours, minus our torch.
    ours = Path(next(p for p in sys.path if p.endswith("site-packages")))
    (site / "zz_preinstalled.pth").write_text(str(ours) + "\n")
    report = tmp_path / "report.json"
    result = subprocess.run(pip + ["install", "--no-index", "--find-links", str(wheel.parent),
                                   "--dry-run", "--report", str(report), "-q", str(wheel)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    planned = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert planned == ["cnn-course"], f"installing the course would also install {planned}"
    subprocess.run(pip + ["install", "-q", "--no-index", "--no-deps", str(wheel)], check=True)
    probe = "import torch, cnncourse.repo, importlib.metadata as m; print(torch.__version__, m.version('cnn-course'))"
    out = subprocess.check_output([str(python), "-c", probe], text=True, cwd=tmp_path).split()
    assert out == ["2.8.0+cu126", "0.1.0"]


def _python_sources():
    for folder in ("utils", "grader", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    for rel in NOTEBOOKS:
        code = "\n".join(TransformerManager().transform_cell(c) for c in _code_cells(rel))
        yield rel, code


def test_nothing_removed_in_python_312_is_imported():
    offenders = []
    for name, code in _python_sources():
        for node in ast.walk(ast.parse(code)):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{name}: {m}" for m in modules if m.split(".")[0] in REMOVED_IN_PY312 | {"pkg_resources"}]
    assert not offenders


def _python312():
    """A working Python 3.12 interpreter (Colab's version), or None."""
    candidates = [shutil.which("python3.12"), *map(str, Path.home().glob(".pyenv/versions/3.12*/bin/python"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 12)":
            return candidate
    return None


@pytest.mark.skipif(_python312() is None, reason="no Python 3.12 interpreter on this machine to compile with")
def test_every_source_compiles_under_python_312(tmp_path):
    py312 = _python312()
    folder = tmp_path / "src"
    folder.mkdir()
    for i, (name, code) in enumerate(_python_sources()):
        (folder / f"{i:03d}_{re.sub(r'[^A-Za-z0-9]+', '_', name)}.py").write_text(code)
    result = subprocess.run([py312, "-W", "error::SyntaxWarning", "-m", "compileall", "-q", str(folder)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_gpu_code_uses_the_one_device_choice(rel):
    """One device per notebook (from the setup cell): no hard-coded cuda, no DataLoader workers
    (Colab's worker limits are a known trap)."""
    code = "\n".join(_code_cells(rel))
    assert code.count("cnncourse.setup(") == 1
    assert not re.search(r"\.cuda\(|torch\.device\(\s*['\"]cuda", code), "use the `device` from the setup cell"
    assert not re.search(r"num_workers\s*=\s*[1-9]", code), "DataLoader workers break on Colab: use 0"


@pytest.mark.xdist_group("grader")  # the grader tests check that no grading process survives them
def test_a_problem_set_downloaded_from_colab_grades_to_full_marks(root, tmp_path):
    """ps1 solved, run and downloaded from Colab (File > Download .ipynb, saved as "Copy of ps1"):
    Colab drops nbgrader's cell metadata, adds its own and changes the kernelspec; the grader
    repairs it against the release and gives every point."""
    import csv

    import nbformat

    from cnngrader import demo

    course, _ = demo.build_class("ps1", tmp_path / "course", root / "solutions", tmp_path / "class",
                                 kinds={"correct"})
    (solved,) = (tmp_path / "class").rglob("*.ipynb")
    downloaded = demo.colab_roundtrip(nbformat.read(solved, as_version=4))
    for count, cell in enumerate(c for c in downloaded.cells if c.cell_type == "code"):
        cell.execution_count = count + 1  # it was run on Colab: outputs come along
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran on Colab\n")]
    (tmp_path / "subs" / "jdoe").mkdir(parents=True)
    nbformat.write(downloaded, tmp_path / "subs" / "jdoe" / "Copy of ps1.ipynb")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cnn-grader"), "autograde", "ps1", "--submissions",
         str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--course-dir", str(course.root),
         "--solutions", str(root / "solutions"), "--workers", "1"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = csv.DictReader(open(tmp_path / "out" / "grades.csv"))
    assert row["student"] == "jdoe" and row["status"] == "repaired", row
    assert float(row["score"]) == float(row["max_score"]) > 0, row
