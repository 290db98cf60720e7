"""Cells are parsed as IPython runs them; only cells of ordinary length are remembered; code too deep
to read is reported."""

import ast

import nbformat
import pytest

from cnngrader import cellcode, similarity
from conftest import ROOT


def test_magics_become_calls_and_readers_share_a_tree():
    first, second = cellcode.parse("%time x = 1"), cellcode.parse("%time x = 1")
    call = first.body[0].value
    assert isinstance(call, ast.Call) and call.func.attr == "run_line_magic"
    assert first is second
    assert cellcode.parse("def broken(:") is None


def test_a_huge_cell_is_parsed_but_not_kept():
    cellcode._shared.cache_clear()
    huge = "x = 1\n" * (cellcode.REMEMBERED_UP_TO // 6 + 1)
    assert len(cellcode.parse(huge).body) == cellcode.REMEMBERED_UP_TO // 6 + 1
    assert cellcode._shared.cache_info().currsize == 0
    cellcode.parse("y = 2")
    cellcode.parse("y = 2")
    info = cellcode._shared.cache_info()
    assert (info.currsize, info.hits) == (1, 1)


def test_code_too_deep_to_read_is_reported_not_taken_as_broken():
    deep = "x = " + "+".join(["1"] * 5000)
    with pytest.raises(cellcode.TOO_DEEP):
        cellcode.parse(deep)
    assert cellcode.parse("x = (") is None              # a syntax error fails in the notebook too
    assert similarity.tokens(deep) == ()                 # nothing to compare, no crash


def _ipython_tree(source):
    """The reference: IPython's whole transform_cell, then Python's parser."""
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        text = TransformerManager().transform_cell(source)
    except Exception:
        text = source
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


TRICKY = ["%time x = 1", "%%timeit\nx = 1", "a = !ls", "a = %pwd", "b = !!ls", "!ls", "x?", "x??", "%%time?",
          ",f a b", ";f a b", "/f a b", "x != 1\n", "f(a\n, b)", "x = (1\n/ 2)", "x = 1 \\\n/ 2", "x = 1; y = 2",
          ">>> x = 1\n... y = 2", "x = 1\n... + 1", "x = 1\n...", "In [1]: x = 1\n   ...: y = x", "    x = 1\n    y = 2",
          "\n\n\nx = 1", "s = '%d' % 3", "print('why?')", "# what?\nx = 1", "x = '''\n>>> y\n'''", "def f(x):\n  return 1",
          "f'{x!r}'", "x\0 = 1", "", "   ", "def broken(:", "import cnncourse as c!", "a = f(\n!ls\n)",
          "for i in r:\n    %time f(i)", "x = 1\n    ,f a"]


def _course_cells():
    return {c.source for path in sorted(ROOT.glob("*/*.ipynb")) + sorted(ROOT.glob("solutions/*/*.ipynb"))
            for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"} | set(TRICKY)


def test_nodes_are_ast_walks_nodes_in_its_order():
    trees = [cellcode.parse(source) for source in _course_cells()]
    assert sum(tree is not None for tree in trees) > 250
    for tree in filter(None, trees):
        assert cellcode.nodes(tree) == list(ast.walk(tree))


def test_reading_a_cell_equals_ipythons_whole_transformation_and_skips_its_tokenizing_for_plain_python(
        monkeypatch):
    from IPython.core.inputtransformer2 import TransformerManager
    sources = _course_cells()
    tokenized = []
    passes = TransformerManager.do_token_transforms
    monkeypatch.setattr(TransformerManager, "do_token_transforms",
                        lambda self, lines: tokenized.append("".join(lines)) or passes(self, lines))
    for source in sorted(sources):
        mine, reference = cellcode._parse(source), _ipython_tree(source)
        assert (ast.dump(mine, include_attributes=True) if mine else None) == \
            (ast.dump(reference, include_attributes=True) if reference else None), source
    tokenized_sources = len(tokenized) - len(sources)  # the reference tokenizes every cell
    assert 0 < tokenized_sources < len(sources) / 3
    tokenized.clear()
    cellcode._parse("x = [a != b for a, b in pairs]  # plain Python")
    assert tokenized == []
    cellcode._parse("x = 1\n%time y = x")
    assert tokenized == ["x = 1\n%time y = x\n"]
