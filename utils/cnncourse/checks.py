"""Learner-facing checks: compare an answer with the expected one and say precisely what is off.

Every check raises ``CheckError`` (an ``AssertionError``) with a message that names the
first problem found, in this order: type, shape, dtype, values (with the first wrong index).
Oracles are converted to plain NumPy arrays here, so an answer object with a custom
``__eq__`` cannot pass itself off as correct.
"""

import numpy as np


class CheckError(AssertionError):
    """A learner's answer differs from the expected one."""


def _kind(value):
    module = type(value).__module__.split(".")[0]
    return f"{module}.{type(value).__name__}" if module != "builtins" else type(value).__name__


def _as_array(value, name):
    if type(value).__module__.split(".")[0] == "torch":
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    raise CheckError(f"{name}: expected an array, got {_kind(value)}")


def check_type(answer, expected_type, name="answer"):
    """Fail unless ``answer`` is exactly an instance of ``expected_type``."""
    if not isinstance(answer, expected_type):
        want = expected_type.__name__ if isinstance(expected_type, type) else expected_type
        raise CheckError(f"{name}: wrong type: expected {want}, got {_kind(answer)}")


def check_array(answer, expected, name="answer", rtol=1e-5, atol=1e-6, check_dtype=True):
    """Compare an array answer (NumPy or torch) with the expected array.

    Checks, in order: same library type, shape, dtype (unless ``check_dtype=False``), values.
    """
    if type(answer) is not type(expected):
        raise CheckError(f"{name}: wrong type: expected {_kind(expected)}, got {_kind(answer)}")
    got, want = _as_array(answer, name), _as_array(expected, "expected")
    if got.shape != want.shape:
        raise CheckError(f"{name}: wrong shape: expected {tuple(want.shape)}, got {tuple(got.shape)}")
    if check_dtype and got.dtype != want.dtype:
        raise CheckError(f"{name}: wrong dtype: expected {want.dtype}, got {got.dtype}")
    got64 = np.asarray(got, dtype=np.float64) if got.dtype != object else got
    want64 = np.asarray(want, dtype=np.float64)
    bad = ~np.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = index if len(index) != 1 else index[0]
        raise CheckError(
            f"{name}: wrong values at {bad.sum()} of {bad.size} positions; first at index "
            f"{where}: expected {want64[index]:.6g}, got {got64[index]:.6g}")


def check_close(answer, expected, name="answer", rtol=1e-6, atol=0.0):
    """Compare a scalar answer (int or float) with the expected number."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        raise CheckError(f"{name}: wrong type: expected a number, got {_kind(answer)}")
    if isinstance(expected, (int, np.integer)) and not isinstance(answer, (int, np.integer)):
        raise CheckError(f"{name}: wrong type: expected an integer, got {_kind(answer)} {answer!r}")
    if not abs(float(answer) - float(expected)) <= atol + rtol * abs(float(expected)):
        raise CheckError(f"{name}: wrong value: expected {expected}, got {answer}")


def passed(name="answer"):
    """The message printed when a check succeeds."""
    print(f"✓ {name}: correct")
