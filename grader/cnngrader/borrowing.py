"""Borrowed answers: what each graded item's code reaches, decided by reading it, never by running it.

A problem set says which modules its answers may use (``ALLOWED`` in its ``cnncourse.problemsets``
module; an item may narrow it with ``Item.allowed``) and which library shortcuts would do an
item's work (``Item.forbidden``, dotted paths such as ``numpy.convolve``). Here, in the trusted
grader, the submission's code cells are parsed (IPython syntax included) and, for every item, the
names its cases call are followed through the student's own functions, classes and variables (and
the code that changes a variable: ``cache[k] = ...``, ``results.append(...)``, a ``global``, or any
statement that may change it through an alias, as ``aliases.Flow`` reads it) to every module attribute
they reach, through any import form or alias (``import x as y``, ``from x import *``,
imports inside functions, ``getattr`` with a literal name). Module paths are resolved to the real
objects, so a shortcut reached by another route (``np.core.numeric.convolve``, ``torch.conv1d`` for
``F.conv1d``) is the same shortcut; a path through a private part of a library (``np._core``, or a
public name bound to a private module) is refused too, since a shortcut or an import by name can sit
there under another name.

Code the reader cannot follow counts as borrowing too, since the grader cannot tell what it reaches:
a name computed at run time (``getattr`` with a computed name or passed as a value, ``__import__``,
``importlib``, ``eval``, ``exec``, ``globals()``, dunder attributes and keys), shell commands and most
magics, a library function that imports what a string or a file names (``LOADERS``), a library module
used as a value (``m = np``) and an attribute stored on an object no name holds (``type(x).f = g``). Code that runs
with the cells (outside any function, decorators, class bodies, and everything they call) reaches
every item when it does such a thing or starts code that runs beside the graded functions (threads,
processes, hooks: ``RUNS_BESIDE``); what a library attribute is patched with (``np.asarray = f``)
reaches every item too, since the probe that calls the answers runs in the same libraries.

The result is a reason per item (``None``: nothing borrowed); the judge's verdict for that item
becomes 0 with the reason. Cells of the release that are locked (setup, imports) are not checked,
but the names they bind are resolved like the student's own imports.
"""

import ast
import functools
import importlib
import importlib.util
import re
import sys
import types

from cnngrader import aliases
from cnngrader.cellcode import TOO_DEEP, nodes, parse

DYNAMIC = {"__import__": "__import__", "eval": "eval", "exec": "exec", "compile": "compile",
           "globals": "globals()", "vars": "vars()", "locals": "locals()", "setattr": "setattr", "delattr": "delattr",
           "get_ipython": "get_ipython()", "breakpoint": "breakpoint()", "__builtins__": "__builtins__",
           "__loader__": "__loader__", "__spec__": "__spec__"}
HARMLESS_MAGICS = {"matplotlib", "who", "whos"}   # (a backend named as a module imports that module)
CODE_MAGICS = {"time", "timeit"}                 # their argument is Python, read as such
# Library functions that import or run code named in a string or a file (a pickle, a string annotation,
# a backend, a package): what they bring in is never read. Matched by path and by identity.
LOADERS = ("numpy.load", "numpy.lib.npyio", "numpy.lib.format", "numpy.ctypeslib", "numpy.f2py",
           "matplotlib.use", "matplotlib.backends", "matplotlib.pyplot.switch_backend",
           "typing.get_type_hints", "typing.ForwardRef", "functools.singledispatch", "functools.singledispatchmethod",
           "torch.load", "torch.serialization", "torch.hub", "torch.package", "torch.export", "torch.library",
           "torch.ops.load_library", "torch.classes.load_library", "torch.utils.benchmark",
           "torch.utils.cpp_extension", "torch.utils.model_zoo")
# What, called by code outside the graded functions, starts code that runs beside them (threads, processes,
# signal handlers, tracers, callbacks): it could compute their answers where the grader does not look.
RUNS_BESIDE = re.compile(r"(threading|_thread|subprocess|multiprocessing|concurrent|asyncio|pty|signal|atexit|"
                         r"weakref|gc|ctypes|IPython(?!\.display(\.|$))|torch\.multiprocessing|numpy\.seterrcall|sys\.(settrace|"
                         r"setprofile|monitoring|addaudithook|\w*hook)|os\.(fork\w*|system|popen|posix_spawn\w*|"
                         r"spawn\w*|exec\w*|register_at_fork)|torch\.overrides|torch\.autograd\.graph|"
                         r"[\w.]*\bregister_\w*hook\w*)(\.|$)")
# The machinery of imports by name: code that runs with the cells and uses it can bring in anything.
IMPORTERS = ("importlib", "runpy", "pickle", "marshal", "code", "codeop", "pydoc", "builtins", "types", "inspect",
             "zipimport", "pkgutil", "sys.modules", "sys.path", "sys.meta_path", "sys.path_hooks")
LOOKS = aliases.FRESH | {"dir", "help", "type"}   # builtins that only look at what they are handed
SAFE_DUNDERS = {"__init__", "__name__", "__len__", "__call__", "__repr__", "__str__", "__version__", "__doc__",
                "__file__", "__qualname__"}


class Node:
    """One top-level binding of student code: what it reaches, and whether it is trusted."""

    def __init__(self, trusted, stmt=None):
        self.trusted = trusted
        self.stmt = stmt      # the statement, for where the values it uses may go (``aliases.Flow``)
        self.constant = False  # ``NAME = <literal>``: a value nothing can change in place
        self.refs = []        # (name, [attr, ...]) global references
        self.paths = []       # dotted module paths reached directly (imports inside, local aliases)
        self.dynamic = []     # descriptions of code the reader cannot follow
        self.writes = set()   # global names it may change (``cache[k] = ...``, ``results.append(...)``)
        self.hands = set()    # (global name, name of the function it is handed to): ``fill(cache)``
        self.binds = set()    # the names it binds, when it is a statement outside any function
        self.looks = []       # (function, name, [attr, ...]): only looked at (``print(np)``, ``dir(np.linalg)``)


class _Reader(ast.NodeVisitor):
    """Collects the global references of one statement (scope-aware for functions)."""

    def __init__(self, node):
        self.node = node
        self.scopes = []      # stack of (local names, {local alias: module path})

    # ---------------------------------------------------------------- scopes
    def _function(self, fn, body):
        local, aliases = set(), {}
        args = fn.args
        for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if a is not None:
                local.add(a.arg)
        declared = set()
        for sub in (n for stmt in (body if isinstance(body, list) else [body]) for n in nodes(stmt)):
            if isinstance(sub, (ast.Global, ast.Nonlocal)):
                declared.update(sub.names)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                local.add(sub.id)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                local.add(sub.name)
            elif isinstance(sub, ast.ExceptHandler) and sub.name:
                local.add(sub.name)
        for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.visit(default)
        self.scopes.append((local - declared, aliases))
        for stmt in body if isinstance(body, list) else [body]:
            self.visit(stmt)
        self.scopes.pop()

    def visit_FunctionDef(self, fn):
        for d in fn.decorator_list:
            self.visit(d)
        self._function(fn, fn.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, fn):
        self._function(fn, fn.body)

    # ---------------------------------------------------------------- imports
    # an import only binds a name: what counts is what the code then uses of it
    def visit_Import(self, stmt):
        for alias in stmt.names:
            if self.scopes:
                self.scopes[-1][1][alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0])

    def visit_ImportFrom(self, stmt):
        module = "." * stmt.level + (stmt.module or "")
        for alias in stmt.names:
            path = module if alias.name == "*" else f"{module}.{alias.name}"
            if alias.name == "*":
                self.node.paths.append(path)
            if self.scopes and alias.name != "*":
                self.scopes[-1][1][alias.asname or alias.name] = path

    # ---------------------------------------------------------------- references
    def _local(self, name):
        return any(name in local or name in aliases for local, aliases in self.scopes)

    def _global_base(self, expr):
        """The global name that ``expr`` (a name, or an attribute or item of one) starts from, or None."""
        expr = aliases.root(expr)
        return expr.id if isinstance(expr, ast.Name) and not self._local(expr.id) else None

    def _write(self, expr):
        """``expr`` is changed here."""
        if name := self._global_base(expr):
            self.node.writes.add(name)

    def _global(self, name, attrs, store=False):
        for local, aliases in reversed(self.scopes):
            if name in aliases:
                self.node.paths.append(".".join([aliases[name]] + attrs))
                if store:
                    self.node.dynamic.append(f"an assignment to {'.'.join([name] + attrs)}")
                return
            if name in local:
                return
        if name in DYNAMIC:
            self.node.dynamic.append(DYNAMIC[name])
        if store:
            self.node.dynamic.append(f"an assignment to {'.'.join([name] + attrs)}")
        self.node.refs.append((name, attrs))

    def visit_Name(self, name):
        if self.scopes and not isinstance(name.ctx, ast.Load):
            self._write(name)   # a ``global`` declared in a function
        if isinstance(name.ctx, ast.Load):
            if name.id in ("getattr", "hasattr") and not self._local(name.id):
                self.node.dynamic.append(f"{name.id} passed as a value")  # its names are computed elsewhere
            self._global(name.id, [])

    def visit_Subscript(self, sub):
        key = sub.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and _dunder(key.value) \
                and key.value not in SAFE_DUNDERS:
            self.node.dynamic.append(f"the key {key.value!r}")   # a namespace read by name
        if isinstance(sub.ctx, (ast.Store, ast.Del)):
            self._write(sub.value)
        self.generic_visit(sub)

    def visit_Attribute(self, attr):
        base, chain = aliases.chain(attr)
        for a in chain:
            if a.startswith("__") and a not in SAFE_DUNDERS:
                self.node.dynamic.append(f"the attribute {a}")
        store = isinstance(attr.ctx, (ast.Store, ast.Del))
        if store:
            self._write(base)
            if not isinstance(aliases.root(base), ast.Name):   # ``type(x).f = g``, ``[np][0].f = g``
                self.node.dynamic.append(f"an assignment to an attribute of a computed object ({_clip(attr)})")
        if isinstance(base, ast.Name):
            if store and not self.scopes:
                return   # assigned outside any function: ``Program`` follows what is assigned, not the target
            self._global(base.id, chain, store=store and self.scopes != [] and not self._local(base.id))
        else:
            self.visit(base)

    def visit_Call(self, call):
        fn = call.func
        if isinstance(fn, ast.Name) and fn.id in LOOKS and not self._local(fn.id):
            for arg in call.args:
                base, chain = aliases.chain(arg)
                if isinstance(base, ast.Name) and not self._local(base.id) and not any(map(_dunder, chain)):
                    self.node.looks.append((fn.id, base.id, chain))   # a library printed or listed: it stays as it was
                else:
                    self.visit(arg)
            for keyword in call.keywords:
                self.visit(keyword.value)
            return self.visit(fn)
        if isinstance(fn, ast.Attribute):
            self._write(fn.value)   # a method may change what it is called on
        elif isinstance(fn, ast.Name) and not self._local(fn.id):   # and a function what it is handed
            for arg in call.args + [k.value for k in call.keywords]:
                arg = arg.value if isinstance(arg, ast.Starred) else arg
                for part in (arg.elts if isinstance(arg, (ast.List, ast.Tuple, ast.Set)) else
                             [v for v in arg.values if v] if isinstance(arg, ast.Dict) else [arg]):
                    if name := self._global_base(part):
                        self.node.hands.add((name, fn.id))
        if (isinstance(fn, ast.Name) and fn.id in ("getattr", "hasattr") and not self._local(fn.id)
                and len(call.args) >= 2):
            name = call.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                self.visit(ast.Attribute(value=call.args[0], attr=name.value, ctx=ast.Load()))
                for extra in call.args[2:] + [k.value for k in call.keywords]:
                    self.visit(extra)
                return
            base = call.args[0]
            while isinstance(base, ast.Attribute):
                base = base.value
            if not (isinstance(base, ast.Name) and self._local(base.id)):
                self.node.dynamic.append(f"{fn.id} with a computed name")
            for arg in call.args + [k.value for k in call.keywords]:
                self.visit(arg)
            return
        if _magic(call):
            name, line = _magic(call)
            if name in CODE_MAGICS or name == "config":   # %config runs ``cfg.<line>`` in the notebook's namespace
                tree = parse(line if name in CODE_MAGICS else f"cfg.{line}")
                for stmt in tree.body if tree else []:
                    self.visit(stmt)
            elif name not in HARMLESS_MAGICS or "module:" in line:
                self.node.dynamic.append(f"the magic %{name}")
            return
        self.generic_visit(call)


def _constant(stmt):
    """``NAME = <literal>``: numbers, text, None and tuples of them, which nothing can change in place."""
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
        return False
    if not all(isinstance(t, ast.Name) for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])):
        return False
    try:
        value = ast.literal_eval(stmt.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    immutable = (int, float, complex, str, bytes, bool, type(None))
    return all(isinstance(v, immutable) for v in (value if isinstance(value, tuple) else (value,)))


def _magic(call):
    """(name, argument) of ``get_ipython().run_line_magic("name", "argument")`` (what ``%name`` becomes)."""
    fn = call.func
    if (isinstance(fn, ast.Attribute) and fn.attr in ("run_line_magic", "run_cell_magic")
            and isinstance(fn.value, ast.Call) and isinstance(fn.value.func, ast.Name)
            and fn.value.func.id == "get_ipython" and len(call.args) >= 2
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)):
        return call.args[0].value, call.args[-1].value
    return None


def _bound_names(stmt):
    """Names a top-level statement binds (anywhere inside it, for compound statements)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {a.asname or a.name.split(".")[0] for a in stmt.names if a.name != "*"}
    names = set()
    for sub in nodes(stmt):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name.split(".")[0] for a in sub.names if a.name != "*")
    return names


def _module_attribute_stores(stmt, bindings):
    """Module paths a top-level statement assigns (``np.convolve = ...`` -> ``numpy.convolve``)."""
    out = []
    for sub in nodes(stmt):
        if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            base, chain = aliases.chain(sub)
            if isinstance(base, ast.Name):
                out += [".".join([value] + chain) for kind, value in bindings.get(base.id, []) if kind == "path"]
    return out


class Program:
    """The cells of one submission as a graph of top-level bindings."""

    def __init__(self, cells):
        """``cells``: [(source, trusted)] of the cells that run, in order."""
        self.bindings = {}        # name -> list of ("module", path) | ("path", path) | ("node", Node)
        self.stars = []           # modules imported with *
        self.everywhere = Node(False)   # what the reader cannot follow in code that runs: it reaches every item
        self.patches = []         # statements outside functions that assign a library's attribute (``np.mean = f``)
        self.writers = {}         # global name -> what may change it (walk entries: a statement, a function)
        self.mentioners = {}      # global name -> the statements and functions that use it (any of them may
        #                           change it through an alias the reader does not follow: ``[cache][0][k] = f``)
        self.top = []             # (node, statement): code outside functions, decorators, defaults, class bodies
        self.special = False      # whether its classes define special methods other than __init__, __repr__, __str__
        for source, trusted in cells:
            tree = parse(source)
            for stmt in tree.body if tree else []:
                self._statement(stmt, trusted)
        self.top_paths, dynamic = self._walk([("node", node, None) for node, _ in self.top])   # what runs now
        if _first_unfollowable(self.top_paths, dynamic):
            for writers in (False, True):   # name the statement: one that does it by what it calls, else by
                hit = next(((what, stmt) for node, stmt in self.top   # what changes the variables it uses
                            for what in [self._unfollowed([("node", node, None)], writers)] if what), None)
                if hit:
                    self.everywhere.dynamic.append(f"{hit[0]} ({_where(hit[1])}, outside the graded functions)")
                    break

    def unlinked(self, allowed, reasons):
        """A flag when the notebook's own code uses a library that graded answers may not (the standard
        library and the course package aside: the repair flags name those) and no item lost points for it:
        what the reader could not link to an answer, for the instructor to look at."""
        nodes = [value for values in self.bindings.values() for kind, value in values if kind == "node"]
        paths, _ = self._walk([("node", n, None) for n in nodes + [node for node, _ in self.top]], writers=False)
        said = " ".join(r for r in reasons.values() if r)
        libraries = sorted({p.split(".")[0] for p in paths if not _under(p, allowed)} - set(sys.stdlib_module_names)
                           - {"", "cnncourse"})
        unsaid = [name for name in libraries if name not in said]
        return [f"borrowing? the notebook uses {', '.join(unsaid)}, which graded answers may not, where the grader "
                "could not link it to an answer: look at it if an answer seems borrowed"] if unsaid else []

    def _unfollowed(self, todo, writers=True):
        """The first thing that the walk from ``todo`` reaches and the reader cannot follow, or None."""
        return _first_unfollowable(*self._walk(todo, writers))

    def _bind(self, name, value):
        self.bindings.setdefault(name, []).append(value)

    def _statement(self, stmt, trusted):
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                self._bind(a.asname or a.name.split(".")[0], ("path", a.name if a.asname else a.name.split(".")[0]))
            return
        if isinstance(stmt, ast.ImportFrom):
            module = "." * stmt.level + (stmt.module or "")
            for a in stmt.names:
                if a.name == "*":
                    self.stars.append(module)
                else:
                    self._bind(a.asname or a.name, ("path", f"{module}.{a.name}"))
            return
        node = Node(trusted, stmt)
        if not trusted:
            _Reader(node).visit(stmt)
        node.binds, node.constant = _bound_names(stmt), _constant(stmt)
        for name in node.binds:
            self._bind(name, ("node", node))
        if trusted:
            return
        for name in {name for name, _ in node.refs} | {name for _, name, _ in node.looks}:
            self.mentioners.setdefault(name, []).append(node)
        for name in node.writes:
            self.writers.setdefault(name, []).append(("writer", node, None))
        for name, function in node.hands:
            self.writers.setdefault(name, []).append(("name", function, []))
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):   # only its decorators and defaults run now
            now = Node(False)
            reader = _Reader(now)
            for expr in stmt.decorator_list + stmt.args.defaults + [d for d in stmt.args.kw_defaults if d]:
                reader.visit(expr)
            self.top.append((now, stmt))
            return
        self.top.append((node, stmt))   # a class body runs when it is defined
        if isinstance(stmt, ast.ClassDef):
            self.special |= any(isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and _dunder(sub.name)
                                and sub.name not in ("__init__", "__repr__", "__str__") for sub in nodes(stmt))
        if not isinstance(stmt, ast.ClassDef) and _module_attribute_stores(stmt, self.bindings):
            self.patches.append(node)   # a patched library runs it for every item (the probe uses libraries too)

    def reach(self, roots):
        """(dotted paths, dynamic descriptions) reachable from the names ``roots``, and from what every item
        reaches: the patches of libraries and what the running cells do that the reader cannot follow."""
        everywhere = [("node", n, None) for n in [self.everywhere] + self.patches]
        return self._walk([("name", r, []) for r in roots] + everywhere, aliases_too=True)

    def _library(self, name):
        """The module path a global name is bound to when only imports bind it, else None."""
        values = self.bindings.get(name, ())
        return values[0][1] if values and all(kind == "path" for kind, _ in values) else None

    def _flow(self, node):
        if not hasattr(node, "flow"):
            node.flow = aliases.Flow(node.stmt, self._library, self.bindings.__contains__, self.special)
        return node.flow

    def _handed_on(self, node, targets):
        """Walk entries for where ``node`` hands a value on (``aliases.Flow.leaks``): whatever uses the names it
        binds it to or the objects it stores it in (``d = [cache]``, ``x.d = cache``), the callers of what returns
        it (``def get(): return cache``); handed to code, whatever the statement names and the functions and
        classes of the notebook behind it (``g = gen(); g.send(cache)``)."""
        into = {(t[1], t[2]) for t in targets if isinstance(t, tuple)}   # (name, depth)
        if aliases.OUT in targets or aliases.CODE in targets:
            into |= {(n, 0) for n in node.binds}
        if aliases.CODE in targets:
            into |= {(n, 0) for n in node.writes | {n for n, _ in node.refs} | {n for _, n, _ in node.looks}}
        into = [(n, depth) for n, depth in into if self._library(n) is None]
        return ([("mention", m, (n, depth)) for n, depth in into for m in self.mentioners.get(n, ()) if m is not node]
                + [entry for n, depth in into if depth == 0 for entry in self.writers.get(n, ())]   # (a holder's
                #   writers: what reaches its items through it is read by the mentions above)
                + [("mention", c, None) for c in (self._code_behind(node) if aliases.CODE in targets else ())
                   if c is not node])

    def _code_behind(self, node):
        """The functions and classes of the notebook that ``node`` names, or that the variables it names were
        made from (``g = gen()``), however many variables away."""
        found, seen, todo = [], set(), [name for name, _ in node.refs]
        while todo:
            name = todo.pop()
            for kind, value in self.bindings.get(name, ()) if name not in seen else ():
                if kind == "node" and isinstance(value.stmt, _DEFINITIONS):
                    found.append(value)
                elif kind == "node":
                    todo += [n for n, _ in value.refs]
            seen.add(name)
        return found

    def _walk(self, todo, writers=True, aliases_too=False):
        """(paths, dynamic descriptions) of everything reached from ``todo`` (walk entries); ``writers``: whether
        what changes a variable comes along with it; ``aliases_too``: and what may change it through an alias."""
        paths, dynamic, seen = [], [], set()
        while todo:
            kind, what, attrs = todo.pop()
            if kind in ("node", "writer", "mention"):
                if (id(what), kind, attrs) in seen or what.trusted:
                    continue
                seen.add((id(what), kind, attrs))
                if kind == "writer":   # it may change a variable through what it binds (``d = c.setdefault(k, {})``)
                    todo += [entry for name in what.binds for entry in self.writers.get(name, ())]
                elif kind == "mention":   # it uses the variable ``attrs`` = (name, how many containers deep the
                    flow, (name, depth) = self._flow(what), attrs or (None, 0)   # value is in it); None: it is
                    names = None if name is None else {name}                      # handed the value
                    targets = flow.leaks(names, depth)
                    if targets and (id(what), targets) not in seen:   # the same for every value handed on alike
                        seen.add((id(what), targets))
                        todo += self._handed_on(what, targets)
                    if aliases.WRITE not in flow.effect(names, depth):
                        continue
                paths += what.paths
                dynamic += what.dynamic
                todo += [("name", n, a) for n, a in what.refs]
                todo += [("name", n, a) for fn, n, a in what.looks   # a library only looked at by a builtin is
                         if self._library(n) is None or fn in self.bindings]   # not used; anything else is
                continue
            values = self.bindings.get(what)
            if writers and (values is None or any(kind == "node" for kind, _ in values)):   # a variable:
                todo += self.writers.get(what, [])   # what changes it comes along
                if aliases_too and values and _mutable(values, attrs):   # and whatever uses it, or what was bound
                    todo += [("mention", m, (name, 0)) for kind, value in values if kind == "node"   # with it,
                             for name in value.binds for m in self.mentioners.get(name, ())]   # through aliases
            if values is None:
                paths += [".".join([m, what] + attrs) for m in self.stars if _has(m, what)]
                continue
            for value_kind, value in values:
                if value_kind == "path":
                    paths.append(".".join([value] + attrs))
                else:
                    todo.append(("node", value, None))
        return paths, dynamic


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _mutable(values, attrs):
    """Whether the state of a name bound to ``values`` can matter to code that reads it: a variable other than
    ``NAME = <literal>``, or the attributes (``attrs``) of a function or class of the notebook."""
    return any(kind == "node" and not value.constant and (attrs or not isinstance(value.stmt, _DEFINITIONS))
               for kind, value in values)


def _first_unfollowable(paths, dynamic):
    found = sorted(what for what in map(_unfollowable, paths) if what)   # the plainest reason first
    return dynamic[0] if dynamic else found[0][1] if found else None


def _unfollowable(path):
    """(rank, why) ``path``, used by code that runs with the cells, can change any item in a way the reader
    cannot follow, or None."""
    if RUNS_BESIDE.match(path):
        return 0, f"{path}, which runs code beside the graded functions"
    if _under(path, LOADERS + IMPORTERS):
        return 1, f"{path}, which imports or runs code by name"
    if _private(path):
        return 2, f"{path}, a private part of a library"
    return None


def _where(stmt):
    return f"line {stmt.lineno} of a cell: {_clip(stmt)}"


def _clip(tree):
    return ast.unparse(tree).splitlines()[0][:80]


def _has(module, name):
    try:
        return hasattr(importlib.import_module(module), name)
    except Exception:
        return False


def _under(path, prefixes):
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def _dunder(name):
    return name.startswith("__") and name.endswith("__")


def _private(name):
    """``name`` up to its first part that a library keeps private (a leading underscore, not a dunder), or None."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not _dunder(part):
            return ".".join(parts[:i + 1])
    return None


@functools.lru_cache(maxsize=4096)   # the same paths recur in every submission; the libraries do not change
def _resolve(path, allowed):
    """Walk ``path`` through the real modules (allowed ones only): ``(object or None, problem or None,
    private or None)``; problem "missing" when a module lacks the attribute (something added at run
    time); private: the first private module or attribute the walk went through (``np._core``, or a
    public name bound to a private module), where a library can hold a shortcut under another name."""
    parts = path.split(".")
    private = _private(path)
    if not _under(path, allowed) or importlib.util.find_spec(parts[0]) is None:
        return None, "outside", private
    try:
        obj = importlib.import_module(parts[0])
    except Exception:
        return None, "outside", private
    for i, attr in enumerate(parts[1:], start=1):
        try:
            nxt = getattr(obj, attr)
        except Exception:
            if not isinstance(obj, types.ModuleType):
                return None, None, private          # an attribute of a class or an object: nothing to resolve
            try:
                nxt = importlib.import_module(".".join(parts[:i + 1]))
            except Exception:
                return None, "missing", private
        obj = nxt
        if isinstance(obj, types.ModuleType):
            if not _under(obj.__name__, allowed):
                return None, f"(through it, the module {obj.__name__})", private
            if not private and _private(obj.__name__):
                private = f"{'.'.join(parts[:i + 1])} (the module {obj.__name__})"
    return obj, None, private


_LOADED, _PENDING = {}, list(LOADERS)   # id -> (loader, its path); loaders of libraries not imported yet


def _loader(obj):
    """The ``LOADERS`` path that ``obj`` is, if any; a library is never imported to find out."""
    for path in [p for p in _PENDING if p.split(".")[0] in sys.modules]:
        found = _resolve(path, (path.split(".")[0],))[0]
        if found is not None:
            _LOADED[id(found)] = (found, path)   # kept: its id stays its own
        _PENDING.remove(path)
    hit = _LOADED.get(id(obj))
    return hit[1] if hit and hit[0] is obj else None


def verdicts(program, items, allowed, calls):
    """{grade id: reason or None}. ``program``: the submission's ``Program``; ``items``: the set's ``Item``s;
    ``allowed``: the set's module prefixes; ``calls``: {grade id: names its cases call or fetch}."""
    out, top = {}, {}
    for item in items:
        ok = tuple(item.allowed) if getattr(item, "allowed", None) is not None else tuple(allowed)
        if ok not in top:
            top[ok] = _top_module_value(program, ok)
        forbidden = tuple(getattr(item, "forbidden", ()) or ())
        out[item.grade_id] = _judge(program, calls[item.grade_id], ok, forbidden) or top[ok]
    return out


def _judge(program, roots, allowed, forbidden):
    paths, dynamic = program.reach(roots)
    if dynamic:
        return (f"borrowing check: the code of this item uses {dynamic[0]}, which the grader cannot follow; "
                "graded answers import what they use by name and compute it themselves")
    shortcuts = {}
    for f in forbidden:
        obj, _, _ = _resolve(f, (f.split(".")[0],))
        if obj is not None:
            shortcuts[id(obj)] = f
    for path in sorted(set(paths)):
        if _under(path, forbidden):
            return f"borrowed: uses {path}, a library shortcut that does this item's work"
        if not _under(path, allowed):
            what = "the course's reference code" if path.startswith("cnncourse") else "a module"
            return (f"borrowed: uses {path} ({what}), which this item does not allow (allowed: "
                    f"{', '.join(allowed) or 'plain Python only'})")
        obj, problem, private = _resolve(path, allowed)
        if problem and problem != "missing":
            return f"borrowed: uses {path} {problem}, which this item does not allow"
        if obj is not None and id(obj) in shortcuts:
            return f"borrowed: uses {path}, which is {shortcuts[id(obj)]}, a library shortcut that does this item's work"
        loader = next((p for p in LOADERS if _under(path, (p,))), None) or (obj is not None and _loader(obj))
        if loader:
            return (f"borrowing check: the code of this item uses {path} ({loader}), which imports or runs code that a "
                    "string or a file names; the grader cannot follow it, so graded answers do without it")
        if private:
            return (f"borrowed: uses {path}, through {private}, a private part of the library where a shortcut or an "
                    "import by name can sit under another name; graded answers use a library's public names only")
        if isinstance(obj, types.ModuleType):
            return _module_value(path)
        if problem == "missing":
            return f"borrowing check: uses {path}, which does not exist in the library (added at run time?)"
    return None


def _module_value(path, where=""):
    return (f"borrowing check: {where or 'the code of this item'} uses the module {path} as a value (bound to a name, "
            "put in a container or handed to a function), which the grader cannot follow: what is done to it changes "
            "the library for every item; graded answers use a library's names directly (np.zeros, not m = np)")


def _top_module_value(program, allowed):
    """A reason when code that runs with the cells uses a library module as a value (``[np][0].mean = f``)."""
    for path in sorted(set(program.top_paths)):
        if isinstance(_resolve(path, allowed)[0], types.ModuleType):
            return _module_value(path, "code outside the graded functions")
    return None


def course_modules(source):
    """The ``cnncourse`` modules a cell imports or names (any import form), for the repair flags."""
    tree = parse(source)   # (parsed even so: code too deep to read is said here first)
    found = set()
    for sub in nodes(tree) if tree and "cnncourse" in source else []:   # each form below spells it
        if isinstance(sub, ast.Import):
            found.update(a.name for a in sub.names if a.name.split(".")[0] == "cnncourse")
        elif isinstance(sub, ast.ImportFrom) and (sub.module or "").split(".")[0] == "cnncourse":
            found.update(f"{sub.module}.{a.name}" if sub.module == "cnncourse" else sub.module for a in sub.names)
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "cnncourse":
            found.add(f"cnncourse.{sub.attr}")
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value.startswith("cnncourse"):
            found.add(sub.value)
    return sorted(found)


def locked(cell):
    """A release cell the student cannot change (restored at grading): setup and imports."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("locked")) and not meta.get("solution")


def check(judge, notebook_cells):
    """``(reasons, flags)`` for the cells of a sanitized submission that run in the sandbox: {grade id: reason
    or None}, and flags for the instructor (``Program.unlinked``)."""
    cells = [(c.source, locked(c)) for c in notebook_cells]
    calls = {gid: sorted({c.get("call") or c.get("get") for c in cases}) for gid, cases in judge.cases.items()}
    allowed = getattr(judge.module, "ALLOWED", ())
    try:
        program = Program(cells)
        reasons = verdicts(program, judge.items, allowed, calls)
        return reasons, program.unlinked(allowed, reasons)
    except (*TOO_DEEP, ValueError) as err:   # code too odd to read: say so, never crash
        return {item.grade_id: f"borrowing check: the code could not be read ({type(err).__name__})"
                for item in judge.items}, []


def apply(verdicts_, reasons):
    """The judge's verdicts with every borrowed item set to 0 and the reason."""
    return {gid: ((0.0, reasons[gid]) if reasons.get(gid) else v) for gid, v in verdicts_.items()}
