"""A notebook cell's code as IPython runs it: magics and shell escapes become calls, then Python's AST.

Every reader of student code (borrowing, repair flags, similarity) parses through here. IPython's
transformation is the slow part and most cells recur in every submission (the release's own code),
so its result is remembered per source text; each caller still gets a fresh tree of its own.
"""

import ast
from functools import lru_cache


@lru_cache(maxsize=8192)
def python_source(source):
    """The Python IPython compiles for a cell (the text as it is without IPython, or if it will not transform)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def parse(source):
    """A new module AST of a cell, or None when it does not parse (it fails in the notebook too)."""
    try:
        return ast.parse(python_source(source))
    except (SyntaxError, ValueError):
        return None
