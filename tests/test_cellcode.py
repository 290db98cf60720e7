"""Cells are parsed as IPython runs them; only cells of ordinary length are remembered; code too deep
to read is reported."""

import ast

import pytest

from cnngrader import cellcode, similarity


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
