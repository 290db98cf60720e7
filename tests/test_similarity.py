"""Copied answers: the answer key and its light rewrites are noticed, honest answers are not."""

import ast
import copy
import re
import sys

import nbformat

from cnngrader import cellcode, similarity
from conftest import ROOT

# An honest PS1: the same functions written another way (loops over outputs, other formulas).
HONEST = {
    "conv_output_size": '''def conv_output_size(W, kernel_size, stride=1, padding=0, dilation=1):
    last_start = W + 2 * padding - (dilation * kernel_size - dilation + 1)
    if last_start < 0:
        return 0
    return last_start // stride + 1''',
    "conv1d": '''def conv1d(x, w, b=0.0, stride=1, padding=0, dilation=1):
    padded = np.concatenate([np.zeros(padding), x, np.zeros(padding)])
    out = []
    i = 0
    while i + dilation * (len(w) - 1) < len(padded):
        total = b
        for k, wk in enumerate(w):
            total = total + wk * padded[i + k * dilation]
        out.append(total)
        i += stride
    return np.array(out, dtype=np.float64)''',
    "conv1d_matrix": '''def conv1d_matrix(w, W, stride=1, padding=0, dilation=1):
    columns = []
    for j in range(W):
        e = np.zeros(W)
        e[j] = 1.0
        columns.append(conv1d(e, w, 0.0, stride, padding, dilation))
    return np.stack(columns, axis=1)''',
    "conv1d_multi": '''def conv1d_multi(x, w, b, stride=1, padding=0, dilation=1):
    rows = []
    for o in range(w.shape[0]):
        acc = sum(conv1d(x[c], w[o, c], 0.0, stride, padding, dilation) for c in range(x.shape[0]))
        rows.append(acc + b[o])
    return np.array(rows)''',
    "receptive_field": '''def receptive_field(layers):
    total = 1
    for i, (k, s, d) in enumerate(layers):
        product = 1
        for _, s_before, _ in layers[:i]:
            product *= s_before
        total = total + (k - 1) * d * product
    return int(total)''',
    "max_pool1d": '''def max_pool1d(x, size, stride):
    C, W = x.shape
    out = np.empty((C, (W - size) // stride + 1))
    for c in range(C):
        for i in range(out.shape[1]):
            out[c, i] = np.max(x[c, i * stride:i * stride + size])
    return out''',
    "max_pool1d_backward": '''def max_pool1d_backward(grad_out, x, size, stride):
    dx = np.zeros(x.shape)
    C, n = grad_out.shape
    for c in range(C):
        for i in range(n):
            window = x[c, i * stride:i * stride + size]
            dx[c, i * stride + int(np.argmax(window))] += grad_out[c, i]
    return dx''',
}


def notebooks():
    key = nbformat.read(ROOT / "solutions" / "ps1" / "ps1.ipynb", as_version=4)
    release = nbformat.read(ROOT / "assignments" / "ps1" / "ps1.ipynb", as_version=4)
    return key, release


def filled(release, sources):
    nb = nbformat.from_dict(release)
    nb = nbformat.reads(nbformat.writes(release), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sources:
            cell.source = sources[gid]
    return nb


def key_sources(key):
    return {c.metadata["nbgrader"]["grade_id"]: "\n".join(l for l in c.source.splitlines() if "###" not in l)
            for c in key.cells if c.metadata.get("nbgrader", {}).get("solution")}


def rewrite(source):
    """A light rewrite: variables renamed, comments added, spacing and the docstrings changed."""
    for old, new in [("x_pad", "xp"), ("grad_x", "gx"), (r"\bn\b", "count"), ("field", "rf"), ("jump", "j_total"),
                     ("omega", "M"), ("winner", "arg"), ("saved", "old_value"), ("span", "extent")]:
        source = re.sub(old, new, source)
    source = re.sub(r'""".*?"""', '"""my version"""', source, flags=re.S)
    return "# my own work\n" + source.replace(" = ", "  =  ").replace("return ", "return  ")


def test_key_and_light_rewrites_are_flagged_honest_answers_are_not():
    key, release = notebooks()
    stubs = similarity.stubs(release)
    reference = similarity.answers(key, stubs)
    sources = key_sources(key)
    students = {
        "copied": similarity.answers(filled(release, sources), stubs),
        "renamed": similarity.answers(filled(release, {g: rewrite(s) for g, s in sources.items()}), stubs),
        "renamed_too": similarity.answers(filled(release, {g: rewrite(s) for g, s in sources.items()}), stubs),
        "honest": similarity.answers(filled(release, HONEST), stubs),
        "untouched": similarity.answers(release, stubs),
    }
    flags = similarity.key_flags(reference, students)
    assert set(flags) == {"copied", "renamed", "renamed_too"}, flags
    assert "answer key" in flags["renamed"] and "no penalty" in flags["renamed"]
    score, n = students["honest"].similarity(reference)
    assert n >= 5 and score < 0.5, score
    found = similarity.pairs(students)
    assert {(a, b) for a, b, *_ in found} == {("copied", "renamed"), ("copied", "renamed_too"), ("renamed", "renamed_too")}


def test_normalised_source_ignores_names_comments_docstrings_and_layout():
    a = 'def f(x, y):\n    """doc"""\n    total = x + y  # add\n    return total * 2\n'
    b = 'def g(first,second):\n    s=first+second\n\n    return s*2'
    c = 'def f(x, y):\n    return (x + y) * 2\n'
    assert similarity.tokens(a) == similarity.tokens(b)
    assert similarity.tokens(a) != similarity.tokens(c)
    assert similarity.tokens("def broken(:\n") == ()


def test_report_file(tmp_path):
    similarity.write(tmp_path / "similarity.csv", [("a", "b", 0.97, 6)])
    assert (tmp_path / "similarity.csv").read_text().splitlines() == [
        "student_a,student_b,similarity,answer_cells_compared", "a,b,0.97,6"]


class _Rewrite(ast.NodeTransformer):
    """The plain reading the one-pass reader must equal: rewrite a copy of the tree, then ``ast.dump`` it."""

    def __init__(self):
        self.names = {}

    def _name(self, name):
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        return ast.Name(id=self._name(node.id), ctx=node.ctx)

    def visit_arg(self, node):
        node.arg, node.annotation = self._name(node.arg), None
        return node

    def visit_FunctionDef(self, node):
        node.name, node.returns = self._name(node.name), None
        return self._definition(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = self._name(node.name)
        return self._definition(node)

    def _definition(self, node):
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node

    def visit_alias(self, node):
        if node.asname:
            node.asname = self._name(node.asname)
        return node

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None
        self.generic_visit(node)
        return node


def _rewritten_tokens(source):
    tree = copy.deepcopy(cellcode.parse(source))
    if tree is None:
        return ()
    empty = {"show_empty": True} if sys.version_info >= (3, 13) else {}  # 3.13 leaves empty lists out
    text = ast.dump(_Rewrite().visit(tree), annotate_fields=False, include_attributes=False, **empty)
    return tuple(re.sub(r"[(),\[\]=]", " ", text).split())


def test_one_pass_reading_equals_rewriting_then_dumping_and_leaves_the_shared_tree_alone():
    sources = [c.source for path in sorted(ROOT.glob("*/*.ipynb")) + sorted(ROOT.glob("solutions/*/*.ipynb"))
               for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    sources += ['def f(x: int) -> int:\n    "doc"\n', 'def f():\n    "a"\n    "b"\n', '"module"\nx = f"{y!r:>{w}}"',
                'class A(B, metaclass=M):\n    "doc"\n    x: int = 1\n', 'import numpy as np, os\nfrom a import b as c',
                'async def g(*a, b=1, **k) -> None:\n    await h(a)', 'f = lambda x, y=2: x + y', '%time x = 1',
                'try:\n    pass\nexcept E as e:\n    raise\nglobal q', '@deco(1)\ndef f(): return [i for i in r if i]']
    assert len(set(sources)) > 200
    for source in set(sources):
        tree = cellcode.parse(source)
        before = ast.dump(tree) if tree else None
        assert similarity.tokens(source) == _rewritten_tokens(source), source
        assert (ast.dump(tree) if tree else None) == before


def test_pairs_for_the_whole_class_equal_the_pairwise_definition():
    """``pairs`` computes every pair at once; each score must be exactly ``Answers.similarity``'s."""
    key, release = notebooks()
    stubs = similarity.stubs(release)
    sources = key_sources(key)
    variants = {"key": sources, "honest": HONEST, "rewritten": {g: rewrite(s) for g, s in sources.items()},
                "mixed": {**sources, **dict(list(HONEST.items())[:3])}}
    students = {}
    for i in range(12):  # different subsets of answer cells, so that pairs share a few of them to all
        chosen = variants[sorted(variants)[i % 4]]
        kept = {g: s + f"\nextra_{i} = {i}" * (i % 3) for j, (g, s) in enumerate(chosen.items()) if (i + j) % 5}
        students[f"s{i:02d}"] = similarity.answers(filled(release, kept), stubs)
    students["nothing"] = similarity.answers(release, stubs)
    names = sorted(students)
    brute = sorted(((a, b, round(score, 3), n) for i, a in enumerate(names) for b in names[i + 1:]
                    for score, n in [students[a].similarity(students[b])] if n >= similarity.MIN_CELLS),
                   key=lambda p: (-p[2], p[0], p[1]))
    assert similarity.pairs(students, threshold=0.0) == brute
    assert 0 < len(similarity.pairs(students)) < len(brute)  # the threshold still sorts copies from the rest
    assert similarity.pairs({}) == [] and similarity.pairs({"alone": students["s00"]}) == []
    sets = [answers.cells[gid][1] for answers in students.values() for gid in answers.cells if gid == "conv1d"]
    common = similarity._common(sets, chunk=7)  # many chunks: the same counts as one
    assert all(common[i, j] == len(sets[i] & sets[j]) for i in range(len(sets)) for j in range(len(sets)) if i != j)


def test_pairs_of_a_class_that_copies_one_huge_cell_equal_the_pairwise_definition():
    """Attack on the report: students sharing a cell longer than a chunk of columns (10,000 shingles), beside
    students who share nothing; every pair still scores exactly as ``Answers.similarity`` says."""
    huge = frozenset(range(10_000))
    students = {f"copier{i}": similarity.Answers({"a": (10_004, huge | {100_000 + i}), "b": (70, frozenset(range(60)))})
                for i in range(6)}
    students.update({f"own{i}": similarity.Answers({"a": (90, frozenset(range(10 ** 6 * (i + 1), 10 ** 6 * (i + 1) + 80))),
                                                    "b": (70, frozenset(range(60)))}) for i in range(4)})
    names = sorted(students)
    brute = sorted(((a, b, round(score, 3), n) for i, a in enumerate(names) for b in names[i + 1:]
                    for score, n in [students[a].similarity(students[b])] if n >= similarity.MIN_CELLS),
                   key=lambda p: (-p[2], p[0], p[1]))
    assert similarity.pairs(students, threshold=0.0) == brute
    assert {(a, b) for a, b, *_ in similarity.pairs(students)} == {
        (f"copier{i}", f"copier{j}") for i in range(6) for j in range(i + 1, 6)}
