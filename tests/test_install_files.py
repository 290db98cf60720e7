"""One place for the pins: environment.yml and the Makefile install what pyproject.toml declares."""

import re
import tomllib

from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MAKEFILE = (ROOT / "Makefile").read_text()
ENVIRONMENT = (ROOT / "environment.yml").read_text()


def _extras(text):
    return set(re.search(r'-e "\.\[([a-z,]+)\]"', text).group(1).split(","))


def test_environment_installs_the_makefiles_extras_and_torch():
    assert _extras(ENVIRONMENT) == _extras(MAKEFILE)
    assert _extras(MAKEFILE) <= set(PYPROJECT["project"]["optional-dependencies"])
    torch = re.search(r"torch==([\d.]+)", MAKEFILE).group(1)
    assert f"torch=={torch}" in ENVIRONMENT


def test_environment_python_satisfies_requires_python():
    python = re.search(r"python=(\d+)\.(\d+)", ENVIRONMENT).groups()
    floor = re.search(r">=(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"]).groups()
    assert tuple(map(int, python)) >= tuple(map(int, floor))


def test_environment_declares_no_versions_of_its_own():
    conda = [line.strip("- ").strip() for line in ENVIRONMENT.splitlines()
             if line.startswith("  - ") and "pip" not in line]
    assert conda == ["conda-forge", "python=3.11"], conda  # the channel, then Python: nothing else


def test_ci_fails_loudly_and_installs_only_what_is_used():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and "die " in ci
    assert "bubblewrap" not in ci  # nothing in the course runs bwrap


def test_xdist_groups_hold(tmp_path):
    """Tests marked with one xdist_group run on one worker under the project's pytest options
    (pytest 9 with pytest-xdist 3.8 dropped the marks without a word)."""
    import subprocess
    import sys

    (tmp_path / "test_grouped.py").write_text(
        "import os, time, pytest\npytestmark = pytest.mark.xdist_group('g')\n"
        "@pytest.mark.parametrize('i', range(4))\ndef test_a(i):\n    time.sleep(0.2)\n"
        "    print('WORKER', os.environ['PYTEST_XDIST_WORKER'])\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
                           "--rootdir", str(tmp_path), "-n", "2", "-p", "no:cacheprovider", "-rA",
                           str(tmp_path / "test_grouped.py")], capture_output=True, text=True, cwd=tmp_path)
    workers = {line.split()[-1] for line in done.stdout.splitlines() if line.startswith("WORKER")}
    assert done.returncode == 0 and len(workers) == 1, done.stdout[-2000:]
