"""Checks for the exercises in the lectures: one module per lecture, check functions only.

An exercise cell holds a function whose body starts as ``raise NotImplementedError  # your
code here``; the next cell passes that function to a check from this package. A check

* prints ``✓ name: correct`` and returns ``True`` when every case agrees with the oracle;
* prints a short "not attempted yet" note and returns ``False`` (no exception) while the
  learner's function still raises ``NotImplementedError``, so a lecture runs top to bottom
  untouched;
* raises ``cnncourse.checks.CheckError`` naming the failing case, expected vs got, otherwise.

Oracles are closed forms or NumPy/PyTorch calls; the answer code never lives in this package
(it sits in the lecture's ``<details>`` block right after the exercise).

Writing a check (in e.g. ``cnncourse/exercises/conv1d.py``)::

    from cnncourse.checks import check_close
    from cnncourse.exercises import call, exercise

    @exercise("output_length")
    def check_output_length(output_length):
        for n, k in [(10, 3), (7, 7), (5, 1)]:
            got = call(output_length, n, k)      # the learner's code, run case by case
            check_close(got, n - k + 1, name=f"output_length({n}, {k})")

In the lecture, after ``from cnncourse import exercises`` (submodules load on first use):
``exercises.conv1d.check_output_length(output_length)``.
"""

import functools
import importlib

from cnncourse.checks import CheckError, passed

__all__ = ["CheckError", "NotAttempted", "call", "exercise"]


class NotAttempted(Exception):
    """The learner's function still raises ``NotImplementedError``."""


def _describe(fn, args, kwargs):
    shown = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return f"{getattr(fn, '__name__', 'your function')}({', '.join(shown)})"


def _short(value):
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return f"<{type(value).__name__} of shape {tuple(shape)}>"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def call(fn, *args, **kwargs):
    """Run the learner's ``fn(*args, **kwargs)`` for one test case.

    ``NotImplementedError`` becomes ``NotAttempted``; any other exception becomes a
    ``CheckError`` that names the call (the original stays attached as its cause).
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAttempted from exc
    except CheckError:
        raise
    except Exception as exc:  # the learner's bug: say which case raised what
        raise CheckError(f"{_describe(fn, args, kwargs)} raised {type(exc).__name__}: {exc}") from exc


def exercise(name):
    """Decorate a check function: ✓ on success, a note when not attempted, CheckError when wrong."""

    def wrap(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            try:
                check(*args, **kwargs)
            except (NotAttempted, NotImplementedError):
                print(f"· {name}: not attempted yet (replace `raise NotImplementedError` "
                      "with your code, then run this cell again)")
                return False
            passed(name)
            return True

        return run

    return wrap


def __getattr__(name):
    """``exercises.conv1d`` imports ``cnncourse.exercises.conv1d`` on first use."""
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
