"""A notebook cell's code as IPython runs it: magics and shell escapes become calls, then Python's AST.

Every reader of student code (borrowing, repair flags, similarity) parses through here. Most cells
recur in every submission (the release's own code) and each answer is read by all three readers, so
the tree of a recent source text is remembered and shared, read-only. Only cells of ordinary length
are remembered: a hostile class's huge cells cannot pile up in memory.
"""

import ast
import re
from functools import lru_cache

REMEMBERED_UP_TO = 10_000  # characters; the course's cells are far shorter

# Every token pass of IPython's transform_cell needs one of these (%magic, a = %magic, a = !cmd, !cmd,
# obj?), or a line that starts with , ; or / , which plain Python never has.
_TOKEN_SYNTAX = re.compile(r"[%?]|!(?!=)")

# Code nested deeper than the grader reads (a raised recursion limit lets it run in the sandbox):
# never taken as harmless.
TOO_DEEP = (RecursionError, MemoryError)


def _parse(source):
    """The tree of IPython's ``transform_cell(source)``. Its line passes (prompts, indentation, cell
    magics) are cheap; its token passes tokenize the whole cell and are skipped where they cannot
    apply: no character they look for, and the text is Python already."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        manager = TransformerManager()
        lines = (source if source.endswith("\n") else source + "\n").splitlines(keepends=True)
        for transform in manager.cleanup_transforms + manager.line_transforms:
            lines = transform(lines)
    except Exception:  # IPython missing or the cell does not transform: it is compiled as it is
        return _python(source)
    if not _TOKEN_SYNTAX.search(text := "".join(lines)):
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError):
            pass  # not Python: IPython's token passes decide
    try:
        text = "".join(manager.do_token_transforms(lines))
    except Exception:
        return _python(source)
    return _python(text)


def _python(text):
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


_shared = lru_cache(maxsize=64)(_parse)  # a student's cells and the release's: a few dozen


def parse(source):
    """The module AST of a cell, or None when it does not parse (it fails in the notebook too). The tree
    is shared by every reader of the same text: read it, never change it. Raises one of ``TOO_DEEP`` for
    code nested too deeply to read; each caller says what that means."""
    return _shared(source) if len(source) <= REMEMBERED_UP_TO else _parse(source)


def nodes(tree):
    """Every node under ``tree``, itself first, in ``ast.walk``'s order; about twice as fast (the readers
    walk every cell of every student)."""
    found = [tree]
    for node in found:  # the list grows as it is read: breadth first, as ast.walk
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                found.extend([v for v in value if isinstance(v, ast.AST)])
            elif isinstance(value, ast.AST):
                found.append(value)
    return found
