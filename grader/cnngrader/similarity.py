"""Copied answers: each answer cell normalised, then compared with the answer key and between students.

The answer keys are public (``solutions/``), so a graded course needs to notice a copied key. An
answer cell is *normalised* before comparison: parsed (IPython syntax included), docstrings and
comments dropped, every name the code binds or uses (variables, arguments, functions, import
aliases) renamed by order of first appearance, formatting gone; what is left is the structure of
the computation (attribute names such as ``.sum`` and constants stay). Two cells are compared by
the Jaccard overlap of their token 5-grams; a submission's similarity to another is the average
over the answer cells both attempted, weighted by length, counting only cells long enough to be
telling (a one-line formula is written the same way by everyone).

Nothing here changes a grade. A submission near-identical to the key gets a flag on its
``grades.csv`` row; pairs of students with near-identical answers go to ``similarity.csv`` for the
instructor to look at.
"""

import ast
import collections
import csv
from dataclasses import dataclass

import numpy as np

from cnngrader.cellcode import TOO_DEEP, parse

THRESHOLD = 0.9          # similarity at which a pair is reported
MIN_TOKENS = 60          # cells shorter than this (normalised) do not count
MIN_CELLS = 2            # at least this many telling cells in common before anything is said
SHINGLE = 5


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_RENAMED = {ast.Name: "id", ast.arg: "arg", ast.alias: "asname", **{cls: "name" for cls in _DEFINITIONS}}
_DROPPED = {ast.arg: "annotation", ast.FunctionDef: "returns", ast.AsyncFunctionDef: "returns"}
_ABSENT = object()


class _Canonical:
    """A cell's tree as text, as ``ast.dump(tree, annotate_fields=False)`` prints it (Python 3.11), read the
    way the code means: every name renamed by first appearance (``v0``, ``v1``, ...), docstrings, bare
    strings and annotations left out. One pass that leaves the (shared) tree as it is."""

    def __init__(self):
        self.names, self.out = {}, []

    def _name(self, name):
        return self.names.setdefault(name, f"v{len(self.names)}")

    def node(self, node):
        cls = type(node)
        self.out.append(cls.__name__)
        keywords = False
        for field in node._fields:
            value = None if field == _DROPPED.get(cls) else getattr(node, field, _ABSENT)
            if value is _ABSENT or (value is None and getattr(cls, field, ...) is None):
                keywords = True  # ast.dump names every later field
                continue
            if keywords:
                self.out.append(field)
            if field == _RENAMED.get(cls) and value:
                value = self._name(value)
            elif field == "body" and cls in _DEFINITIONS and value and _is_text(value[0]):
                value = value[1:] or [ast.Pass()]  # the docstring
            self.value(value)

    def value(self, value):
        if isinstance(value, ast.AST):
            self.node(value)
        elif isinstance(value, list):
            for item in value:
                if not _is_text(item):  # a bare string (a docstring-like comment) says nothing about the code
                    self.value(item)
        else:
            self.out.append(repr(value))


def _is_text(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def tokens(source):
    """The normalised token sequence of a cell (empty when it does not parse or is too deep to read)."""
    try:
        tree = parse(source)
        if tree is None:
            return ()
        reader = _Canonical()
        reader.value(tree)
        text = " ".join(reader.out)
    except TOO_DEEP:
        return ()
    for ch in "(),[]=":
        text = text.replace(ch, " ")
    return tuple(text.split())


def _shingles(seq):
    return frozenset(hash(seq[i:i + SHINGLE]) for i in range(max(1, len(seq) - SHINGLE + 1)))


@dataclass
class Answers:
    """The telling answer cells of one notebook: grade id -> (token count, shingles)."""

    cells: dict

    def similarity(self, other):
        """(weighted similarity, number of cells compared) with another notebook's answers."""
        total = weight = 0.0
        n = 0
        for gid, (size, shingles) in sorted(self.cells.items()):  # the order ``pairs`` adds them in
            if gid not in other.cells:
                continue
            other_size, other_shingles = other.cells[gid]
            w = min(size, other_size)
            common = len(shingles & other_shingles)  # the union's size without building it
            total += w * common / max(1, len(shingles) + len(other_shingles) - common)
            weight += w
            n += 1
        return (total / weight if weight else 0.0), n


def stubs(release):
    """{grade id: tokens} of the release's answer stubs, read once per run."""
    return {_gid(c): tokens(c.source) for c in release.cells if _is_answer(c)}


def answers(notebook, stubs=None):
    """``Answers`` of the solution cells of ``notebook``; cells still equal to their stub (``stubs``),
    and cells too short to tell, are left out."""
    stubs = stubs or {}
    cells = {}
    for cell in notebook.cells:
        if not _is_answer(cell):
            continue
        seq = tokens(cell.source)
        if len(seq) < MIN_TOKENS or seq == stubs.get(_gid(cell)):
            continue
        cells[_gid(cell)] = (len(seq), _shingles(seq))
    return Answers(cells)


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_answer(cell):
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("solution"))


def key_flags(key, students, threshold=THRESHOLD):
    """{student: flag text} for submissions near-identical to the answer key."""
    flags = {}
    for student, mine in students.items():
        score, n = mine.similarity(key)
        if n >= MIN_CELLS and score >= threshold:
            flags[student] = (f"copy? answers near-identical to the answer key (similarity {score:.2f} over {n} "
                              "answer cells, names and formatting ignored): no penalty, for the instructor to look at")
    return flags


def pairs(students, threshold=THRESHOLD):
    """[(student a, student b, similarity, cells compared)] of near-identical submissions, most similar first:
    ``Answers.similarity`` of every pair, computed a cell at a time for the whole class (the shingles each
    two students share, counted by a matrix product), not pair by pair in Python (300 students: 4.2 s
    that way, 0.3 s this way)."""
    names = sorted(students)
    shape = (len(names), len(names))
    total, weight, count = np.zeros(shape), np.zeros(shape), np.zeros(shape, dtype=int)
    for gid in sorted({gid for answers in students.values() for gid in answers.cells}):
        rows = [i for i, name in enumerate(names) if gid in students[name].cells]
        sizes, shingles = zip(*(students[names[i]].cells[gid] for i in rows))
        common = _common(shingles)
        lengths = np.array([len(s) for s in shingles], dtype=float)
        w = np.minimum.outer(*[np.array(sizes, dtype=float)] * 2)
        block = np.ix_(rows, rows)
        total[block] += w * common / np.maximum(1, lengths[:, None] + lengths[None, :] - common)
        weight[block] += w
        count[block] += 1
    score = np.divide(total, weight, out=np.zeros_like(total), where=weight > 0)
    found = np.triu((count >= MIN_CELLS) & (score >= threshold), 1)
    out = [(names[a], names[b], round(float(score[a, b]), 3), int(count[a, b])) for a, b in zip(*np.nonzero(found))]
    return sorted(out, key=lambda p: (-p[2], p[0], p[1]))


def _common(shingle_sets, chunk=4096):
    """The number of shingles each two of ``shingle_sets`` share (a square matrix), counting only shingles
    held by two sets or more, a chunk of them at a time (the memory stays ``len(shingle_sets) * chunk``)."""
    held = collections.Counter(h for s in shingle_sets for h in s)
    column = {h: j for j, h in enumerate(h for h, n in held.items() if n > 1)}
    rows, cols = [], []
    for r, s in enumerate(shingle_sets):
        mine = [column[h] for h in s if h in column]
        rows += [r] * len(mine)
        cols += mine
    rows, cols = np.array(rows, dtype=int), np.array(cols, dtype=int)
    common = np.zeros((len(shingle_sets), len(shingle_sets)))
    for start in range(0, len(column), chunk):
        inside = (cols >= start) & (cols < start + chunk)
        held_here = np.zeros((len(shingle_sets), chunk), dtype=np.float32)  # counts stay exact below 2**24
        held_here[rows[inside], cols[inside] - start] = 1
        common += held_here @ held_here.T
    return common


def write(path, found):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_a", "student_b", "similarity", "answer_cells_compared"])
        writer.writerows(found)
