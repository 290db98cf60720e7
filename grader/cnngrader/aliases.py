"""Where a variable's value can go within one statement of student code, read from the code alone.

The borrowing check follows the names an item reaches; an alias it cannot name (``[cache][0][k] = f``,
``d = [cache]``, ``def get(): return cache``) would let other code change the item's state unseen. For a
statement (or a whole function or class) that uses a variable, ``Flow.effect`` follows the variable's value
through the statement and says whether the statement may change it (stored into, a method called on it,
handed to code of the notebook or to a library function that changes or calls what it is handed) and
whether it hands it on (bound to another name, stored in another object, returned, handed to code that may
keep it). Both err on the side of yes, but for one rule: a call of ``NEW_VALUES`` (``nn.Conv1d(1, 8, k)``,
``torch.zeros(n)``) returns something new, not what it is handed; any other library call may hand it back
(``typing.cast``, ``copy.copy``, ``np.asarray``, ``nn.Sequential``), and what it returns is followed as the
value itself. A value is followed with how many containers deep it sits (``box = [cache]``: one): storing
into the box or calling its methods changes the box, not the value; taking an item out, iterating or
unpacking it, or calling anything (which may return the value) brings it back to the surface.
"""

import ast

from cnngrader.cellcode import nodes

# Builtins that change nothing they are handed and call no code of it but its special methods: those that
# return a new value of their own type (``len``, ``str``), and those whose result may be or hold what they
# are handed (``list(cache)``, ``enumerate(cache)``, ``type(obj)``, ``abs(obj)``, which calls ``obj.__abs__``).
FRESH = frozenset({"all", "any", "bin", "bool", "bytes", "chr", "complex", "float", "format", "hash", "hex", "id",
                   "int", "isinstance", "issubclass", "len", "oct", "ord", "print", "range", "repr", "str"})
HOLDING = frozenset({"abs", "dict", "divmod", "enumerate", "frozenset", "iter", "list", "next", "pow", "reversed",
                     "round", "set", "slice", "sum", "tuple", "type", "zip"})
# Library functions that change what they are handed, or call a function they are handed.
MUTATORS = ("operator", "functools.reduce", "functools.partial", "itertools.starmap", "itertools.accumulate",
            "numpy.copyto", "numpy.put", "numpy.place", "numpy.putmask", "numpy.put_along_axis",
            "numpy.fill_diagonal", "numpy.ndarray", "numpy.lib.stride_tricks", "numpy.vectorize",
            "numpy.frompyfunc", "numpy.apply_along_axis", "numpy.apply_over_axes", "numpy.piecewise")
_CONTAINER_OPS = (ast.Add, ast.Mult, ast.BitOr)   # list + list, list * n, dict | dict: new containers, same items
_CONTAINERS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_HOLDERS = (ast.Starred, ast.IfExp, ast.BoolOp, ast.keyword, ast.Await)   # what they give is (a part of) the value
_DEEPEST = 3   # containers of containers of containers: as deep as the reader tells them apart
_OPERANDS = (ast.Compare, ast.UnaryOp, ast.If, ast.While, ast.Assert, ast.JoinedStr, ast.FormattedValue, ast.Slice)
# Library calls that return something new, never what they are handed: new tensors, and torch's layers that
# keep numbers only (``nn.Transformer(custom_encoder=m)`` keeps ``m``, ``nn.Sequential`` its modules,
# ``nn.CrossEntropyLoss(weight=t)`` the tensor ``t``).
_LAYERS = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Linear", "ReLU",
           "LeakyReLU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Dropout", "Dropout1d", "Dropout2d",
           "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "LocalResponseNorm", "MaxPool1d",
           "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Flatten", "Unflatten", "Identity", "Embedding", "Upsample",
           "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "MSELoss")
NEW_VALUES = ("torch.tensor", "torch.zeros", "torch.ones", "torch.full", "torch.empty", "torch.eye", "torch.arange",
              "torch.linspace", "torch.rand", "torch.randn", "torch.randint", "torch.randperm",
              *(f"torch.nn.{layer}" for layer in _LAYERS))
WRITE, LEAK = "write", "leak"
# Where a value handed on goes (``Flow.leaks``): ("into", name, depth) a global name bound to it or an object it is
# stored into; OUT the statement's callers (returned, yielded, raised, a default, a decorator); CODE code that may
# keep it anywhere.
OUT, CODE = "out", "code"


class Flow:
    """What one statement (``stmt``) may do with the values it uses. ``library(name)``: the module path a global
    name is bound to when only imports bind it, else None; ``bound(name)``: whether the notebook binds it at all
    (a function of its own named ``print`` is no builtin); ``special``: whether the notebook's classes define special
    methods (``__eq__``, ``__add__``, ``__getitem__``), which then get what is compared, computed with or looked up."""

    def __init__(self, stmt, library, bound, special=False):
        self.stmt, self.library, self.bound, self.special = stmt, library, bound, special
        self.all = nodes(stmt)
        self.parents = {}
        for sub in self.all:
            for field, value in ast.iter_fields(sub):
                for child in value if isinstance(value, list) else [value]:
                    if isinstance(child, ast.AST):
                        self.parents[id(child)] = (sub, field)
        self.function = isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
        self.names = {}   # name -> its uses in the statement
        for n in self.all:
            if isinstance(n, ast.Name):
                self.names.setdefault(n.id, []).append(n)
        self.stored = {n.id for n in self.all if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        self.declared = {name for n in self.all if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}
        self.known = {}   # names -> what happens to them (every item's walk asks again)

    def effect(self, names, depth=0):
        """The part of ``{WRITE, LEAK}`` that applies to the values of ``names`` (None: a function's parameters; a
        class handed a value may do anything with it). ``depth``: 0 when the names hold the value itself (or a
        part of it), 1 when they hold a container of it (``box = [cache]``), and so on."""
        found = self._found(names, depth)
        return {WRITE} & found | ({LEAK} if found - {WRITE} else set())

    def leaks(self, names, depth=0):
        """Where the values of ``names`` are handed on: ``("into", name, depth)``, ``OUT``, ``CODE``."""
        return self._found(names, depth) - {WRITE}

    def _found(self, names, depth):
        key = (frozenset(names) if names is not None else None, depth)
        if key not in self.known:
            self.known[key] = frozenset(self._effect(names, depth))
        return self.known[key]

    def _effect(self, names, depth):
        if names is None:
            if not self.function:
                return {WRITE, CODE}
            args = self.stmt.args
            names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg] if a}
        tainted, found = dict.fromkeys(names, depth), set()   # name -> how deep in it the value is, at least
        if tainted.keys() & self.names.keys():   # what is raised where it is used may be it: ``except E as e``
            tainted.update({n.name: 0 for n in self.all if isinstance(n, ast.ExceptHandler) and n.name})
        todo, done = list(tainted), {}
        while todo:
            name = todo.pop()
            for use in self.names.get(name, ()):
                if done.get(id(use), _DEEPEST + 1) <= tainted[name]:
                    continue
                done[id(use)] = level = tainted[name]
                if isinstance(use.ctx, ast.Load):
                    for bound, deep in self._follow(use, found, level).items():
                        if deep < tainted.get(bound, _DEEPEST + 1):
                            tainted[bound] = deep
                            todo.append(bound)
                elif isinstance(self.parents.get(id(use), (None,))[0], ast.AugAssign) and level == 0:
                    found.add(WRITE)   # ``d += [f]`` extends the list in place
        return found

    # ---------------------------------------------------------------- one value's way up the tree
    def _follow(self, expr, found, depth):
        """Climb from a use of the value, ``depth`` containers deep, to where it ends; record what happens to it
        in ``found``; return the local names it is bound to on the way ({name: depth})."""
        while True:
            parent, field = self.parents.get(id(expr), (None, None))
            if parent is None or isinstance(parent, ast.Expr):
                return {}
            if isinstance(parent, _OPERANDS):
                return self._operand(found)
            if isinstance(parent, (ast.Attribute, ast.Subscript)):
                if field == "slice":   # a key: looked up, or kept in the object stored into (``d[obj] = 1``)
                    self._operand(found)
                    return self._store(parent.value, found, depth) if not isinstance(parent.ctx, ast.Load) else {}
                if not isinstance(parent.ctx, ast.Load):
                    if depth == 0:
                        found.add(WRITE)   # ``cache[k] = v``, ``del cache.f`` (not ``box[0] = v``: only the box)
                    return {}
                call, role = self.parents.get(id(parent), (None, None))
                if isinstance(parent, ast.Attribute) and isinstance(call, ast.Call) and role == "func":
                    if depth == 0:   # a method of it (not ``box.append(x)``: only the box)
                        found.add(WRITE)
                    expr, depth = call, 0   # what it returns may be the value
                    continue
                depth = max(depth - 1, 0)   # a part of it, or what the container holds
            elif isinstance(parent, ast.BinOp):
                if not isinstance(parent.op, _CONTAINER_OPS):
                    return self._operand(found)
            elif isinstance(parent, ast.IfExp) and field == "test":
                return self._operand(found)
            elif isinstance(parent, ast.Call):   # what a call returns may be the value or any part of it
                path = self._library_path(parent.func)
                if field == "func":   # calling it (``get()[k] = v``), or an item of it
                    if depth == 0 and not isinstance(expr, ast.Name):
                        found.add(WRITE)
                elif path and not _under(path, MUTATORS):
                    if path in NEW_VALUES:
                        return {}   # something new
                elif not self._builtin(parent.func, HOLDING):
                    if self._builtin(parent.func, FRESH):
                        return {}
                    found.update((WRITE, CODE))   # handed to code that may change it or keep it, in what it
                    return (self._store(parent.func.value, found, depth + 1)   # is a method of
                            if isinstance(parent.func, ast.Attribute) else {})
                depth = 0   # (``random.choice([cache])``, ``next(iter(box))``, ``box.pop()``)
            elif isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                return self._bound(parent.targets if isinstance(parent, ast.Assign) else [parent.target], found, depth)
            elif isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)):
                if field != "iter":
                    return {}
                if isinstance(parent, ast.comprehension):   # its variables live in the comprehension
                    return {n.id: max(depth - 1, 0) for n in nodes(parent.target) if isinstance(n, ast.Name)}
                return self._bound([parent.target], found, max(depth - 1, 0))   # its items
            elif isinstance(parent, ast.withitem):   # its ``__enter__`` and ``__exit__`` run
                if depth == 0:
                    found.add(WRITE)
                return self._bound([parent.optional_vars], found, depth) if parent.optional_vars else {}
            elif isinstance(parent, ast.NamedExpr):   # bound to its target, and still the value
                return {**self._follow(parent, found, depth), **self._bound([parent.target], found, depth)}
            elif isinstance(parent, ast.Match):   # bound to the names its patterns capture
                captured = [sub.name if isinstance(sub, (ast.MatchAs, ast.MatchStar)) else sub.rest
                            for case in parent.cases for sub in nodes(case.pattern)
                            if isinstance(sub, (ast.MatchAs, ast.MatchStar, ast.MatchMapping))]
                return {name: 0 for capture in captured if capture for name in self._name(capture, found, 0)}
            elif isinstance(parent, ast.arguments):   # a default: kept by the function, and its parameters' value
                found.add(OUT)
                return {a.arg: depth for a in parent.posonlyargs + parent.args + parent.kwonlyargs}
            elif isinstance(parent, _CONTAINERS):
                depth = min(depth + 1, _DEEPEST)   # an item of a new container
            elif not isinstance(parent, _HOLDERS):
                found.add(OUT)   # returned, yielded, raised, a decorator: handed on
                return {}
            expr = parent

    def _operand(self, found):
        """A value compared, computed with, tested or used as a key: used up, unless the notebook's own special
        methods get it (``k == cache`` calls ``K.__eq__``, which may keep it)."""
        if self.special:
            found.update((WRITE, CODE))
        return {}

    def _bound(self, targets, found, depth):
        """The names a value is bound to, or that hold the objects it is stored into ({name: depth}); where
        else it goes (a global name, an object no name holds) is recorded in ``found``."""
        names = {}
        for target in targets:
            if isinstance(target, ast.Name):
                names.update(dict.fromkeys(self._name(target.id, found, depth), depth))
            elif isinstance(target, (ast.Attribute, ast.Subscript)):
                names.update(self._store(target.value, found, depth + 1))
            elif isinstance(target, ast.Starred):   # ``*rest, = box``: a new list of its items
                names.update(self._bound([target.value], found, depth))
            elif isinstance(target, (ast.Tuple, ast.List)):   # ``a, b = box``: its items
                names.update(self._bound(target.elts, found, max(depth - 1, 0)))
        return names

    def _store(self, obj, found, depth):
        """A value kept in the object ``obj`` (stored into it, or handed to one of its methods), ``depth`` deep."""
        base = root(obj)
        if isinstance(base, ast.Name):
            return dict.fromkeys(self._name(base.id, found, depth), depth)
        found.add(CODE)
        return {}

    def _name(self, name, found, depth):
        """A value bound to ``name``, ``depth`` deep: followed on within the statement if it is a local (or bound
        by it at top level); a global name is also where it goes."""
        if not (self.function and name not in self.declared):
            found.add(("into", name, depth))
        return {name}

    # ---------------------------------------------------------------- what a callee is
    def _library_path(self, expr):
        """The dotted library path that ``expr`` names (``np.copyto``), or None."""
        base, attrs = chain(expr)
        if isinstance(base, ast.Name) and base.id not in self.stored and self.library(base.id):
            return ".".join([self.library(base.id)] + attrs)
        return None

    def _builtin(self, func, names):
        return (isinstance(func, ast.Name) and func.id in names and func.id not in self.stored
                and not self.bound(func.id))


def chain(expr):
    """``(base, [attr, ...])`` of ``base.a.b``: the expression under the attributes, and their names."""
    attrs = []
    while isinstance(expr, ast.Attribute):
        attrs.insert(0, expr.attr)
        expr = expr.value
    return expr, attrs


def root(expr):
    """The expression under a chain of attributes and items (``x`` of ``x.a[0].b``)."""
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return expr


def _under(path, prefixes):
    return any(path == p or path.startswith(p + ".") for p in prefixes)
