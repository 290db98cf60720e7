"""Audit a submitted notebook against the release and repair what editors and students break.

Colab, VS Code and hand edits drop or alter cell metadata, add cell ids, change the kernelspec,
duplicate or delete cells. nbgrader identifies cells by ``metadata.nbgrader.grade_id``; without it
the hidden tests are never restored and the submission scores a silent zero. Here every release
cell is found again in the submission: by grade id, then by identical source, then by position
between already matched cells (with a similarity check for locked cells). Matched cells get the
release's nbgrader metadata back; deleted cells are re-inserted from the release; everything is
recorded as flags an instructor can read.
"""

import copy
import difflib
import json
import re
from dataclasses import dataclass, field

import nbformat

from cnngrader import borrowing, protocol, submissions
from cnngrader.cellcode import TOO_DEEP

GRADED_KEYS = ("grade", "solution", "locked", "points", "task", "grade_id")
MAX_CODE = 2**20   # characters of code a notebook may have (the answer keys have under 30 kB)


class InvalidNotebook(ValueError):
    """The file is not a Jupyter notebook (the message says why, for a human)."""


@dataclass
class Repair:
    notebook: nbformat.NotebookNode
    repaired: bool = False
    flags: list = field(default_factory=list)


def load(path):
    """Read a submitted file as a notebook: ``(notebook, flags)``, or raise ``InvalidNotebook`` with the
    reason. Text that is not valid Unicode (a lone surrogate, as a broken emoji in Colab leaves) is
    replaced by U+FFFD and flagged: nothing downstream can encode it."""
    with open(path, "rb") as f:
        raw = f.read(submissions.MAX_NOTEBOOK + 1)  # a huge file is never read whole
    if len(raw) > submissions.MAX_NOTEBOOK:
        raise InvalidNotebook(submissions.too_large(path.stat().st_size))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidNotebook("the file is not UTF-8 text (binary or corrupted upload)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidNotebook(f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
                              "the file was probably truncated or edited by hand") from None
    except RecursionError:
        raise InvalidNotebook("JSON nested too deeply to be a notebook; the file was edited by hand") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InvalidNotebook("valid JSON but not a notebook (no list of cells)")
    if data.setdefault("nbformat", 4) != 4:
        raise InvalidNotebook(f"notebook format {data['nbformat']} is not supported (expected 4)")
    data.setdefault("nbformat_minor", 4)
    data.setdefault("metadata", {})
    code = 0
    for index, cell in enumerate(data["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise InvalidNotebook("a cell is not a code, markdown or raw cell")
        _check_shape(index, cell.setdefault("metadata", {}), cell.setdefault("source", ""))
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
        if cell["cell_type"] == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
            code += len(cell["source"])
    if code > MAX_CODE:   # the grader reads all code: its syntax trees take some 200 times the text's memory
        raise InvalidNotebook(f"{code / 2**20:.1f} MB of code, over the {MAX_CODE / 2**20:.0f} MB the grader reads (a "
                              "problem set's answers are a few kB): data pasted into code cells? Load it from a file "
                              "or cut it, and submit again")
    mended = protocol.mend_surrogates(data) if protocol.SURROGATE_ESCAPE.search(raw) else 0
    flags = [f"repaired: {mended} character(s) that are not valid Unicode (lone surrogates) replaced by "
             "U+FFFD"] if mended else []
    try:
        return nbformat.from_dict(data), flags
    except RecursionError:
        raise InvalidNotebook("metadata nested too deeply to be a notebook's; the file was edited by hand") from None


def _check_shape(index, metadata, source):
    """What the grader reads of a cell has the types a notebook gives it, or the file was edited by hand."""
    nbgrader = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else None
    if not isinstance(nbgrader, dict) or not isinstance(nbgrader.get("grade_id", ""), str):
        raise InvalidNotebook(f"cell {index}: its metadata is not shaped as a notebook's; the file was edited by hand")
    if not (isinstance(source, str) or isinstance(source, list) and all(isinstance(s, str) for s in source)):
        raise InvalidNotebook(f"cell {index}: its source is not text; the file was edited by hand")


def _norm(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader") or {}


def _label(cell):
    gid = _meta(cell).get("grade_id", "?")
    kind = "test cell" if _meta(cell).get("grade") and not _meta(cell).get("solution") else (
        "answer cell" if _meta(cell).get("solution") else "locked cell")
    return f"{kind} '{gid}'"


def _match(release, cells, flags):
    """Map release index -> submission index."""
    by_id, dup = {}, set()
    for j, cell in enumerate(cells):
        gid = _meta(cell).get("grade_id")
        if gid:
            if gid in by_id:
                dup.add(gid)
            else:
                by_id[gid] = j
    for gid in sorted(dup):
        flags.append(f"duplicated cell '{gid}': only the first copy is graded, the others run as "
                     "ordinary cells")
    match, used = {}, set()
    for i, r in enumerate(release):
        j = by_id.get(_meta(r).get("grade_id"))
        if j is not None and cells[j].cell_type == r.cell_type:
            match[i] = j
            used.add(j)
    for i, r in enumerate(release):  # identical source (locked cells, untouched stubs)
        if i in match or not _meta(r):
            continue
        for j, c in enumerate(cells):
            if j not in used and c.cell_type == r.cell_type and _norm(c.source) == _norm(r.source):
                match[i], _ = j, used.add(j)
                break
    # keep anchors in increasing order, then fill the gaps between them by position and similarity
    anchors, last = {}, -1
    for i in sorted(match):
        if match[i] > last:
            anchors[i], last = match[i], match[i]
    for i, r in enumerate(release):
        if i in match or not _meta(r):
            continue
        lo = max([anchors[k] for k in anchors if k < i], default=-1)
        hi = min([anchors[k] for k in anchors if k > i], default=len(cells))
        gap = [j for j in range(lo + 1, hi) if j not in used and cells[j].cell_type == r.cell_type
               and not _meta(cells[j]).get("grade_id")]
        if not gap:
            continue
        score = {j: difflib.SequenceMatcher(None, _norm(r.source), _norm(cells[j].source)).ratio()
                 for j in gap}
        best = max(gap, key=lambda j: score[j])
        if _meta(r).get("solution") or score[best] >= 0.6:
            match[i] = best
            used.add(best)
            anchors[i] = best
    return match


def _bare(cell):
    """A copy of a cell as it goes to grading: no id (``repair`` numbers them), no outputs (a submission's
    outputs are never copied)."""
    kept = nbformat.NotebookNode({k: copy.deepcopy(v) for k, v in cell.items()
                                  if k not in ("id", "outputs", "execution_count")})
    if kept.cell_type == "code":
        kept.outputs, kept.execution_count = [], None
    return kept


def repair(submitted, release):
    """Return a ``Repair``: the submission with release metadata, restored cells and flags."""
    flags, repaired = [], False
    cells = submitted.cells
    match = _match(release.cells, cells, flags)
    repaired = bool(flags)  # duplicated grade ids
    out, emitted = [], set()

    def emit_extras(upto):
        for j in range(upto):
            if j not in emitted and j not in match.values():
                extra = _bare(cells[j])
                extra.metadata.pop("nbgrader", None)
                out.append(extra)
                emitted.add(j)

    for i, r in enumerate(release.cells):
        j = match.get(i)
        if j is None:
            if not _meta(r):
                continue  # a plain release cell the student deleted: nothing to grade
            restored = _bare(r)
            out.append(restored)
            repaired = True
            flags.append(f"deleted {_label(r)} restored from the release")
            continue
        emit_extras(j)
        cell = _bare(cells[j])
        emitted.add(j)
        theirs, ours = _meta(cell), _meta(r)
        if not theirs:
            repaired = True
        elif any(theirs.get(k) != ours.get(k) for k in GRADED_KEYS):
            repaired = True
            flags.append(f"altered nbgrader metadata on {_label(r)} restored")
        cell.metadata["nbgrader"] = copy.deepcopy(ours)
        for key in ("editable", "deletable"):
            if key in r.metadata:
                cell.metadata[key] = r.metadata[key]
        if ours.get("locked") and not ours.get("solution") and _norm(cell.source) != _norm(r.source):
            flags.append(f"edited {_label(r)}: the release version was graded")
            cell.source = r.source
        out.append(cell)
    emit_extras(len(cells))
    if release.nbformat_minor >= 5:  # ids of our own: editors duplicate and mangle theirs
        for index, cell in enumerate(out):
            cell.id = f"cell-{index}"
    nb = nbformat.NotebookNode(nbformat=4, nbformat_minor=release.nbformat_minor,
                               metadata=copy.deepcopy(release.metadata), cells=out)
    for flag in suspicious(nb):
        flags.append(flag)
    return Repair(nb, repaired, flags)


_SUSPICIOUS = [
    (r"\b(np|numpy|torch|math|F|nn|builtins|unittest|sys|IPython|cnncourse)(\.\w+)+\s*=(?!=)",
     "assigns to a library attribute"),
    (r"\bsetattr\(\s*(np|numpy|torch|builtins|math|F|nn|sys)\b", "patches a library with setattr"),
    (r"\b(import|from)\s+(ctypes|gc|builtins|inspect|socket|subprocess|signal|multiprocessing|"
     r"urllib|requests|http)\b", "imports a low-level module"),
    (r"\bos\.(_exit|kill|killpg|fork|system|popen|exec\w*|setsid)\b", "controls processes"),
    (r"\bsys\.(exit|modules|settrace|setprofile)\b|__builtins__|get_ipython\(\)\.(run_cell|"
     r"_showtraceback|showtraceback)", "tampers with the interpreter"),
    (r"\.\./|gradebook|/proc/|\bsolutions/|\bsource/", "reads paths outside its folder"),
]


def suspicious(nb):
    """Flags for code in answer and extra cells that looks like it games the grader."""
    flags = []
    for index, cell in enumerate(nb.cells):
        meta = _meta(cell)
        if cell.cell_type != "code" or (meta.get("locked") and not meta.get("solution")):
            continue
        for pattern, what in _SUSPICIOUS:
            hit = re.search(pattern, cell.source)
            if hit:
                flags.append(f"suspicious: cell {index + 1} {what} ({hit.group(0).strip()!r})")
        try:
            used = borrowing.course_modules(cell.source)
        except TOO_DEEP:
            flags.append(f"suspicious: cell {index + 1} is nested too deeply for the grader to read; "
                         "every graded item scores 0 (look at the notebook)")
            continue
        if used:
            flags.append(f"borrowing: cell {index + 1} uses the lectures' reference code ({', '.join(used)}); "
                         "graded items whose code reaches it score 0")
    return flags
