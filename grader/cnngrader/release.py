"""Generate the student release: ``solutions/<set>/`` -> ``assignments/<set>/`` with nbgrader.

nbgrader's GenerateAssignment does the surgery (solution regions replaced by stubs, hidden
tests removed, cells locked, checksums computed, gradebook entries written). Afterwards each
released notebook is normalised so that a regeneration is byte-identical: no outputs, no
execution counts, stable cell ids, the badge pointing at the released file, canonical JSON.
"""

import os
import sys
from pathlib import Path

import nbformat
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from cnncourse import badges

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "grader"


class ReleaseError(RuntimeError):
    """nbgrader could not generate an assignment; the message carries its log."""


def course_config(root=ROOT, work=None):
    """The course's nbgrader config (grader/nbgrader_config.py), optionally re-rooted.

    ``root`` is the course directory (it holds ``solutions/`` and ``assignments/``);
    ``work`` moves nbgrader's working folders and gradebook there (default: as configured).
    """
    config = PyFileConfigLoader("nbgrader_config.py", path=str(CONFIG_DIR)).load_config()
    overrides = Config()
    overrides.CourseDirectory.root = str(Path(root).resolve())
    if work is not None:
        work = Path(work).resolve()
        for step in ("submitted", "autograded", "feedback", "solution"):
            overrides.CourseDirectory[f"{step}_directory"] = str(work / step)
        overrides.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"
    config.merge(overrides)
    return config


def assignment_names(root=ROOT):
    """Every problem set with a source notebook: the folders of ``solutions/``."""
    return sorted(p.name for p in Path(root, "solutions").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def api_for(config):
    """An ``NbGraderAPI`` for ``config``, with this environment's bin on PATH (nbgrader runs alembic)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    db_url = config.CourseDirectory.db_url
    if db_url.startswith("sqlite:///"):
        Path(db_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def normalise(path, rel, source_rel):
    """Rewrite the released notebook at ``path`` in canonical, reproducible form.

    ``rel`` and ``source_rel`` are its repo-relative path and that of its source: the Colab
    badge of the source is replaced by the badge of the release.
    """
    nb = nbformat.read(path, as_version=4)
    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    seen = set()
    for index, cell in enumerate(nb.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        cell_id = cell.get("id") or grade_id or f"cell-{index:02d}"
        if cell_id in seen:
            cell_id = f"{cell_id}-{index:02d}"
        seen.add(cell_id)
        cell["id"] = cell_id
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.source = cell.source.replace(badges.badge(source_rel), badges.badge(rel))
    nbformat.write(nb, path, version=4)


def generate(assignments=None, root=ROOT, work=None):
    """Generate the release of ``assignments`` (default: all) under ``root``; return the notebooks.

    Raises ``ReleaseError`` with nbgrader's log when a source does not generate.
    """
    root = Path(root).resolve()
    names = list(assignments or assignment_names(root))
    api = api_for(course_config(root, work))
    written = []
    for name in names:
        if not (root / "solutions" / name).is_dir():
            raise ReleaseError(f"no source folder solutions/{name}")
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            tail = "\n".join(result.get("error", "").strip().splitlines()[-3:])
            raise ReleaseError(f"nbgrader could not generate {name}: {tail}\n{result.get('log', '')}")
        for path in sorted((root / "assignments" / name).glob("*.ipynb")):
            rel = path.relative_to(root).as_posix()
            normalise(path, rel, f"solutions/{name}/{path.name}")
            written.append(path)
    return written
