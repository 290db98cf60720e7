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
