"""Where submissions come from: LMS downloads (``collect``) and the folder ``autograde`` reads.

``autograde`` accepts ``DIR/<student>.ipynb`` and ``DIR/<student>/<any name>.ipynb``. Inside a
student's folder the notebook is chosen by name: the assignment's own name first, then a renamed
copy ("Copy of ps1.ipynb", "ps1 (1).ipynb", "ps1-checkpoint.ipynb"), then the only notebook there.
"""

import csv
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


MAX_NOTEBOOK = 100 * 2**20  # bytes; a notebook with its outputs is rarely over 20 MB


def too_large(size):
    """Why a file of ``size`` bytes is not read (None when it may be)."""
    if size <= MAX_NOTEBOOK:
        return None
    return (f"the file is {size / 2**20:,.0f} MB, over the {MAX_NOTEBOOK / 2**20:.0f} MB a notebook may have: "
            "the student clears its outputs (Edit > Clear Outputs of All Cells), saves and submits again")


@dataclass
class Submission:
    student: str
    path: Path = None      # the notebook to grade; None when nothing usable was submitted
    flags: list = field(default_factory=list)
    reason: str = ""       # why there is nothing to grade


def student_id(name):
    """A safe nbgrader student id from a file or folder name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.@-]+", "_", name.strip()).strip("._")
    return cleaned or "unnamed"


def canonical(stem):
    """The notebook name behind the names editors and browsers give copies."""
    stem = re.sub(r"^(copy of\s+)+", "", stem.strip(), flags=re.I)
    stem = re.sub(r"(-checkpoint)$", "", stem, flags=re.I)
    stem = re.sub(r"(\s*\(\d+\))+$", "", stem)
    stem = re.sub(r"(\s*-\s*copy(\s*\d+)?)+$", "", stem, flags=re.I)
    return stem.strip()


def choose(notebooks, name):
    """Pick the notebook to grade among a student's files; returns (path, flags)."""
    exact = [p for p in notebooks if p.stem == name]
    if exact:
        return exact[0], []
    renamed = sorted((p for p in notebooks if canonical(p.stem) == name),
                     key=lambda p: p.stat().st_mtime)
    if renamed:
        return renamed[-1], [f"renamed file '{renamed[-1].name}' graded as {name}.ipynb"]
    latest = sorted(notebooks, key=lambda p: p.stat().st_mtime)[-1]
    if len(notebooks) == 1:
        return latest, [f"renamed file '{latest.name}' graded as {name}.ipynb"]
    return latest, [f"{len(notebooks)} notebooks, none named {name}.ipynb: graded the latest, "
                    f"'{latest.name}'"]


def _notebooks(folder):
    return sorted(p for p in folder.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("."))


def find(directory, name):
    """The submissions in ``directory`` for the notebook ``name`` (without .ipynb)."""
    found = {}
    for entry in sorted(Path(directory).iterdir()):
        if entry.name.startswith("."):
            continue
        student = student_id(entry.stem if entry.is_file() else entry.name)
        if entry.is_file() and entry.suffix == ".ipynb":
            found[student] = Submission(student, entry)
        elif entry.is_dir():
            notebooks = _notebooks(entry)
            if not notebooks:
                files = ", ".join(sorted(p.name for p in entry.rglob("*") if p.is_file())[:5])
                found[student] = Submission(student, None, [], "no .ipynb file in the student's "
                                            f"folder{' (found: ' + files + ')' if files else ''}")
            else:
                path, flags = choose(notebooks, name)
                found[student] = Submission(student, path, flags)
    return [found[s] for s in sorted(found)]


# ------------------------------------------------------------------------ collect (LMS download)
def _patterns(assignment):
    a = re.escape(assignment)
    return [
        # Blackboard-like: ps1_jdoe_attempt_2026-10-01-12-00-00.ipynb (optionally a tail)
        re.compile(rf"^{a}_(?P<student>.+?)_attempt_(?P<when>[\d_-]+)"),
        # Canvas: jdoe_LATE_12345_67890_Copy of ps1.ipynb
        re.compile(r"^(?P<student>[A-Za-z][\w.-]*?)(_LATE)?_(?P<uid>\d+)_(?P<when>\d+)_.+$"),
        # student_ps1.ipynb / ps1_student.ipynb
        re.compile(rf"^(?P<student>[\w.@-]+?)[_ -]+{a}$", re.I),
        re.compile(rf"^{a}[_ -]+(?P<student>[\w.@-]+)$", re.I),
    ]


def _student_of(relative, assignment):
    """(student, attempt key) from a path inside the download, or (None, why)."""
    if len(relative.parts) > 1:  # a folder per student (Moodle: "Jane Doe_123_assignsubmission_file_")
        folder = re.sub(r"_\d+_assignsubmission_.*$", "", relative.parts[0])
        return student_id(folder), ""
    for pattern in _patterns(assignment):
        m = pattern.match(relative.stem)
        if m:
            return student_id(m.group("student")), m.groupdict().get("when") or ""
    return None, "the file name names no student"


def _unzip(source, folder):
    """Extract an archive into ``folder`` (nothing outside it); members over the size limit are only
    reported (a compressed upload of whitespace does not fill the disk). Returns the report rows."""
    rows = []
    with zipfile.ZipFile(source) as archive:
        for member in archive.infolist():
            target = (folder / member.filename).resolve()
            if folder.resolve() not in target.parents or member.is_dir():
                continue
            if why := too_large(member.file_size):  # zipfile stops at the declared size
                rows.append([member.filename, "", "skipped", why])
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as data, open(target, "wb") as out:
                shutil.copyfileobj(data, out)
    return rows


def collect(assignment, source, dest):
    """Sort an LMS download (zip or folder) into ``dest/<student>/``; returns the report rows."""
    source, dest = Path(source), Path(dest)
    with tempfile.TemporaryDirectory() as tmp:
        if source.is_file() and zipfile.is_zipfile(source):
            root, rows = Path(tmp), _unzip(source, Path(tmp))
        elif source.is_dir():
            root, rows = source, []
        else:
            raise SystemExit(f"collect: {source} is neither a folder nor a zip file")
        chosen = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root)
            if path.suffix != ".ipynb" or ".ipynb_checkpoints" in relative.parts:
                rows.append([str(relative), "", "skipped", "not a notebook"])
                continue
            if why := too_large(path.stat().st_size):
                rows.append([str(relative), "", "skipped", why])
                continue
            student, when = _student_of(relative, assignment)
            if student is None:
                rows.append([str(relative), "", "unknown", when])
                continue
            key = (when, path.stat().st_mtime)
            if student in chosen and chosen[student][0] >= key:
                rows.append([str(relative), student, "skipped", "an older attempt"])
                continue
            if student in chosen:
                rows.append([str(chosen[student][1].relative_to(root)), student, "skipped",
                             "an older attempt"])
            chosen[student] = (key, path)
        for student, (_, path) in sorted(chosen.items()):
            folder = dest / student
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            shutil.copy2(path, folder / path.name)
            rows.append([str(path.relative_to(root)), student, "collected", ""])
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / "collect_report.csv", "w", newline="") as f:
        csv.writer(f).writerows([["file", "student", "action", "reason"]] + rows)
    return rows
