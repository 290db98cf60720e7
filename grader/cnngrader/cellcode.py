"""A notebook cell's code as IPython runs it: magics and shell escapes become calls, then Python's AST.

Every reader of student code (borrowing, repair flags, similarity) parses through here. Most cells
recur in every submission (the release's own code) and each answer is read by all three readers, so
the tree of a recent source text is remembered (IPython's transformation is the slow part) and
shared, read-only. Only cells of ordinary length are remembered: a hostile class's huge
cells cannot pile up in memory.
"""

import ast
from functools import lru_cache

REMEMBERED_UP_TO = 10_000  # characters; the course's cells are far shorter


def _transform(source):
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or the cell does not transform: it is compiled as it is
        return source


# Code nested deeper than the grader reads (a raised recursion limit lets it run in the sandbox):
# never taken as harmless.
TOO_DEEP = (RecursionError, MemoryError)


def _parse(source):
    try:
        return ast.parse(_transform(source))
    except (SyntaxError, ValueError):
        return None


_shared = lru_cache(maxsize=64)(_parse)  # a student's cells and the release's: a few dozen


def parse(source):
    """The module AST of a cell, or None when it does not parse (it fails in the notebook too). The tree
    is shared by every reader of the same text: read it, never change it. Raises one of ``TOO_DEEP`` for
    code nested too deeply to read; each caller says what that means."""
    return _shared(source) if len(source) <= REMEMBERED_UP_TO else _parse(source)
