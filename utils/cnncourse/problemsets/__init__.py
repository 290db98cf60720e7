"""The graded items of the problem sets, one definition serving the learner and the grader.

Each ``Item`` (one per nbgrader test cell) says which cases to run (``cases(rng, visible)``,
probes of ``cnncourse.probe``) and how to judge what came back (``judge(case, got, want)``, a
failure message or ``None``). In a notebook, ``check(...)`` runs the visible cases against the
learner's objects and compares with ``want`` from a reference built from PyTorch operations (or
with properties only, where a reference would be the answer itself). At grading, ``cnngrader``
runs the same probes in the student's sandbox and in the answer key, on cases drawn from the
run's seed, and judges in a process that never ran student code.

A case is plain data sent to the probe; its ``"secret"`` entry (e.g. held-out labels) stays with
the judge (``public(case)`` strips it).

What an answer may use is stated here too and enforced by the grader, which reads the submission's
code (``cnngrader.borrowing``): a set's ``ALLOWED`` modules (an item may narrow them with
``Item.allowed``, e.g. no PyTorch for a count asked as a formula) and each item's ``forbidden``
library shortcuts (e.g. ``numpy.convolve`` for a convolution). An item whose code reaches anything
else, the course package included, scores 0 with the reason.
"""

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from cnncourse import probe, scorecard
from cnncourse.checks import CheckError

SETS = ("ps1", "ps2", "ps3")
# what an answer may always use: standard-library arithmetic and printing (``sys`` only for printing:
# ``sys.modules`` reaches anything), plots and progress bars
STDLIB = ("math", "itertools", "functools", "collections", "typing", "copy", "random", "time", "warnings",
          "sys.stdout", "sys.stderr", "matplotlib", "IPython.display", "tqdm")


@dataclass
class Item:
    grade_id: str                 # the nbgrader id of the test cell
    title: str                    # as on the score card, e.g. "2 conv1d"
    points: float
    cases: Callable               # (rng, visible) -> list of cases
    judge: Callable               # (case, got, want) -> failure message or None
    reference: dict = None        # name -> callable computing ``want`` for visible cases
    summary: Callable = None      # (cases, decoded answers) -> message: a rule across cases
    allowed: tuple = None         # modules this item's code may use (None: the set's ``ALLOWED``)
    forbidden: tuple = ()         # library shortcuts that would do this item's work (dotted paths)


def load(assignment):
    """The module of a problem set; its ``ITEMS`` maps grade ids to items."""
    if assignment not in SETS:
        raise KeyError(f"no graded items are defined for {assignment!r}")
    return importlib.import_module(f"cnncourse.problemsets.{assignment}")


def public(case):
    """What the probe may see of a case."""
    return {k: v for k, v in case.items() if k != "secret"}


def draw(item, seed, index):
    """The graded cases of ``item`` for a run seed (reproducible, different per item)."""
    return item.cases(np.random.default_rng([seed, index]), False)


def verdict(item, cases, got, want):
    """``(points, message)``: full points when every case passes, else 0 and the first failure."""
    for case, g, w in zip(cases, got, want):
        message = explain(item, case, g, w)
        if message:
            return 0.0, message
    if item.summary:
        message = _guarded(item.title, lambda: item.summary(cases, [probe.decode(g["value"]) for g in got]))
        if message:
            return 0.0, message
    return item.points, f"{len(cases)} cases, all correct"


def _guarded(name, judge):
    """A judge's message; answers of an unexpected form (forged, or just odd) fail, never crash."""
    try:
        return judge()
    except probe.ProbeError as err:
        return f"{name}: the answer could not be read ({err})"
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as err:
        return f"{name}: the answer does not have the expected form ({type(err).__name__}: {str(err)[:100]})"


def explain(item, case, got, want):
    """The failure message for one case (``None`` when it passes)."""
    if got.get("not_attempted"):
        return f"{case['name']}: not attempted (the function still raises NotImplementedError)"
    if "error" in got:
        return f"{case['name']}: raised {str(got['error'])[:300]}"
    if "value" not in got:
        return f"{case['name']}: no answer came back"
    return _guarded(case["name"], lambda: item.judge(case, probe.decode(got["value"]), want))


def check(module, grade_id, **objects):
    """Visible check in a notebook: run ``grade_id``'s visible cases against ``objects``."""
    item = module.ITEMS[grade_id]

    def run():
        cases, answers = item.cases(np.random.default_rng(0), True), []
        for case in cases:
            want = None
            if item.reference is not None:
                want = probe.decode(_require(probe.run_case(case, item.reference))["value"])
            got = probe.run_case(case, objects)
            if got.get("not_attempted"):
                raise NotImplementedError(f"{item.title}: not attempted yet")
            message = explain(item, case, got, want)
            if message:
                raise CheckError(message)
            answers.append(probe.decode(got["value"]))
        message = item.summary and item.summary(cases, answers)
        if message:
            raise CheckError(message)

    scorecard.check(item.title, item.points)(run)


def _require(result):
    if "value" not in result:
        raise RuntimeError(f"the reference failed: {result}")
    return result


# ------------------------------------------------------------------ comparisons on decoded values
def kind(value):
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__.split('.')[0]}.{t.__name__}"


def same_type(got, want, name):
    """Message if ``got`` is not of ``want``'s exact kind (int vs float, tuple vs list, ...)."""
    if kind(got) != kind(want):
        return f"{name}: wrong type: expected {kind(want)}, got {kind(got)}"
    return None


def same_number(got, want, name, hint="", rtol=1e-6):
    if kind(got) != kind(want):
        return f"{name}: wrong type: expected {kind(want)}, got {kind(got)} ({got!r})"
    if isinstance(want, float):
        ok = abs(got - want) <= rtol * max(1.0, abs(want))
    else:
        ok = got == want
    return None if ok else f"{name}: expected {want!r}, got {got!r}" + (f"; {hint}" if hint else "")


def same_array(got, want, name, rtol=1e-5, atol=1e-7, hint=""):
    """Type, shape, dtype, then values (first wrong index) of two decoded arrays."""
    message = same_type(got, want, name)
    if message:
        return message
    g = got.detach().numpy() if kind(got) == "torch.Tensor" else got
    w = want.detach().numpy() if kind(want) == "torch.Tensor" else want
    if g.shape != w.shape:
        return f"{name}: wrong shape: expected {tuple(w.shape)}, got {tuple(g.shape)}" + (f"; {hint}" if hint else "")
    if g.dtype != w.dtype:
        return f"{name}: wrong dtype: expected {w.dtype}, got {g.dtype}"
    g64, w64 = g.astype(np.float64), w.astype(np.float64)
    bad = ~np.isclose(g64, w64, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = index if len(index) != 1 else index[0]
        return (f"{name}: wrong values at {int(bad.sum())} of {bad.size} positions; first at index {where}: "
                f"expected {w64[index]:.6g}, got {g64[index]:.6g}" + (f"; {hint}" if hint else ""))
    return None


def same_count(got, want, name, formula, slips=()):
    """A count with feedback that teaches: the expected number written as its ``formula``, and when
    ``got`` equals what a known slip gives (``slips``: [(value, question)]), that question, e.g.
    "counted the bias once per output channel? expected 18,464 = 32·(16·6·6)+32, got 18,432"."""
    if kind(got) != "int":
        return f"{name}: return a Python int, got {kind(got)} ({got!r})"
    if got == want:
        return None
    hint = next((question for value, question in slips if value == got and value != want), None)
    return (f"{name}: " + (f"{hint} " if hint else "") + f"expected {want:,} = {formula}, got {got:,}")


def same_value(got, want, name, **tolerances):
    """Recursive comparison of decoded values (numbers, arrays, tuples, lists, dicts)."""
    message = same_type(got, want, name)
    if message:
        return message
    if isinstance(want, (tuple, list)):
        if len(got) != len(want):
            return f"{name}: expected {len(want)} entries, got {len(got)}"
        for i, (g, w) in enumerate(zip(got, want)):
            message = same_value(g, w, f"{name}[{i}]", **tolerances)
            if message:
                return message
        return None
    if isinstance(want, dict):
        if sorted(got) != sorted(want):
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            return f"{name}: expected the entries {sorted(want)}; missing {missing}, unexpected {extra}"
        for key in want:
            message = same_value(got[key], want[key], f"{name}[{key!r}]", **tolerances)
            if message:
                return message
        return None
    if hasattr(want, "shape") and not isinstance(want, np.generic):
        return same_array(got, want, name, **tolerances)
    if isinstance(want, probe.Opaque):
        return None if got.type_name == want.type_name else f"{name}: expected a {want.type_name}, got a {got.type_name}"
    if isinstance(want, (bool, str)) or want is None:
        return None if got == want else f"{name}: expected {want!r}, got {got!r}"
    return same_number(got, want, name, rtol=tolerances.get("rtol", 1e-6))


def arg(value):
    """A case argument as plain data."""
    return probe.encode(value)


def case(name, call, *args, then=None, **kwargs):
    """A case calling ``call(*args, **kwargs)`` (arguments given as Python values)."""
    out = {"name": name, "call": call, "args": [arg(a) for a in args], "kwargs": {k: arg(v) for k, v in kwargs.items()}}
    if then:
        out["then"] = then
    return out


def random_state(rng, spec):
    """A float32 state dict for ``spec`` = {name: shape}; batch-norm buffers get plausible values."""
    import torch
    state = {}
    for name, shape in spec.items():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0)
        elif name.endswith("running_var"):
            state[name] = torch.from_numpy(rng.uniform(0.5, 2.0, size=shape).astype(np.float32))
        else:
            scale = 1 / np.sqrt(max(1, int(np.prod(shape[1:])))) if len(shape) > 1 else 0.5
            state[name] = torch.from_numpy((rng.normal(size=shape) * scale).astype(np.float32))
    return state


def state_arg(state):
    return {k: probe.encode(v) for k, v in state.items()}


def count(params):
    """Number of parameters from the {name: shape} a probe returns."""
    return int(sum(np.prod(shape, dtype=np.int64) for shape in params.values()))


def judge_module(case, got, want, spec, hint=""):
    """Parameter shapes (with a count), then outputs (against ``want`` when there is one)."""
    shapes = {k: list(v) for k, v in spec.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    if got["params"] != shapes:
        expected, found = count(shapes), count(got["params"])
        differ = sorted(k for k in set(shapes) | set(got["params"]) if shapes.get(k) != got["params"].get(k))
        return (f"{case['name']}: expected {expected:,} parameters, got {found:,}; first difference at "
                f"{differ[0]!r}: expected {shapes.get(differ[0])}, got {got['params'].get(differ[0])}"
                + (f"; {hint}" if hint else ""))
    if want is None:
        return None
    return same_array(got["output"], want["output"], f"{case['name']} output", rtol=1e-4, atol=1e-5)
