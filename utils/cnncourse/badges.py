"""The standard opening of every notebook: the Colab badge and the setup cell.

Both are generated from ``cnncourse.repo``; when the repository moves, run
``python -m cnncourse.badges --slug OWNER/NAME [NOTEBOOK ...]`` from the repository root
to rewrite every badge and install line (and update ``REPO_SLUG`` in ``repo.py``).
"""

import argparse
import json
import re
import sys
from pathlib import Path

from cnncourse import repo

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
NOTEBOOK_FOLDERS = ("lectures", "solutions", "assignments")
_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
_PIP = re.compile(r'%pip install -q "cnn-course @ git\+https://github\.com/[^"]*"')


def badge(path, slug=repo.REPO_SLUG):
    """Markdown for the "Open in Colab" badge of the notebook at ``path`` (repo-relative)."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({repo.colab_url(path, slug)})"


def setup_source(slug=repo.REPO_SLUG, seed=0):
    """The code of the standard setup cell (second cell of every notebook)."""
    return (
        "# Setup: on Colab, install the course package (Colab's own torch is kept as it is);\n"
        "# then seed every generator, set the plot style and pick the device (cuda > mps > cpu).\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    %pip install -q \"{repo.pip_spec(slug)}\"\n"
        "import cnncourse\n"
        f"device = cnncourse.setup(seed={seed})"
    )


def is_setup_cell(source):
    """True when ``source`` is a standard setup cell (for any slug and seed)."""
    return "import cnncourse" in source and "cnncourse.setup(" in source and bool(_PIP.search(source))


def rewrite_notebook(path, relpath, slug):
    """Point the badge and install line of one notebook at ``slug``; True if it changed."""
    text = Path(path).read_text(encoding="utf-8")
    nb = json.loads(text)
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        new = _BADGE.sub(lambda _: badge(relpath, slug), source)
        new = _PIP.sub(lambda _: f'%pip install -q "{repo.pip_spec(slug)}"', new)
        cell["source"] = new
    out = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if out != text:
        Path(path).write_text(out, encoding="utf-8")
        return True
    return False


def notebooks(root):
    """Every notebook of the course under ``root``, as repo-relative POSIX paths."""
    root = Path(root)
    return sorted(p.relative_to(root).as_posix() for folder in NOTEBOOK_FOLDERS
                  for p in (root / folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cnncourse.badges", description=__doc__.split("\n\n")[0])
    parser.add_argument("--slug", required=True, help="new GitHub repository, OWNER/NAME")
    parser.add_argument("--root", default=".", help="repository root (default: .)")
    parser.add_argument("paths", nargs="*", help="notebooks (default: all of the course)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.slug):
        parser.error(f"--slug must look like OWNER/NAME, got {args.slug!r}")
    root = Path(args.root)
    rels = args.paths or notebooks(root)
    changed = [rel for rel in rels if rewrite_notebook(root / rel, rel, args.slug)]
    repo_file = root / "utils" / "cnncourse" / "repo.py"
    if repo_file.exists():
        text = repo_file.read_text()
        repo_file.write_text(re.sub(r'REPO_SLUG = "[^"]*"', f'REPO_SLUG = "{args.slug}"', text))
    print(f"rewrote {len(changed)} of {len(rels)} notebooks for {args.slug}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
