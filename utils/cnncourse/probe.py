"""Plain-data probes of a learner's answers: call a function on chosen inputs, return plain data.

A *case* says what to call and with which arguments; ``run_case`` runs it against a namespace (the
learner's notebook, or a dict of their objects) and returns the result as plain JSON-able data
(``encode``). Arrays travel as dtype, shape and base64 bytes, never pickle. The same code serves the
visible checks in a notebook and the grader, where the probe runs beside the student's code and a
trusted judge decodes and compares what comes back::

    case = {"call": "conv1d", "args": [encode(x), encode(w)], "kwargs": {"stride": encode(2)}}
    result = run_case(case, namespace)      # {"value": {...}} or {"error": "..."}
    decode(result["value"])                 # a real numpy array (or int, tuple, ...)

Optional steps after the call (``case["then"]``): ``load_state`` (strict ``load_state_dict`` of
an encoded state), ``forward`` (inputs, and ``mode`` "eval"/"train"), ``predict`` (argmax of the
outputs), ``params`` (shapes of the named parameters), ``args_after`` (the arguments after the call,
to catch answers that modify their inputs). ``{"get": "name"}`` fetches a variable instead of
calling a function.
"""

import base64
import math

import numpy as np

NUMERIC = {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"}
MAX_ITEMS = 100_000      # list/tuple/dict entries per value
MAX_DEPTH = 12


class ProbeError(ValueError):
    """Data that does not decode: a malformed or forged value."""


class NotAttempted(Exception):
    """The learner's function still raises NotImplementedError."""


def _type_name(value):
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _array(kind, array):
    array = np.ascontiguousarray(array)
    return {"t": kind, "dtype": array.dtype.name, "shape": list(array.shape),
            "b64": base64.b64encode(array.tobytes()).decode()}


def encode(value, depth=0):
    """Plain JSON-able data describing ``value``: its exact type and its content."""
    if depth > MAX_DEPTH:
        return {"t": "object", "type": "too deeply nested"}
    t = type(value)
    if value is None:
        return {"t": "none"}
    if t in (bool, int, str):
        return {"t": t.__name__, "v": value if t is not str else value[:10_000]}
    if t is float:
        return {"t": "float", "v": value if math.isfinite(value) else repr(value)}
    if t in (list, tuple):
        return {"t": t.__name__, "v": [encode(v, depth + 1) for v in value[:MAX_ITEMS]]}
    if t is dict and all(type(k) is str for k in value):
        return {"t": "dict", "v": {k: encode(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}}
    if isinstance(value, np.generic) and value.dtype.name in NUMERIC:
        return {"t": "npscalar", **_array("", np.asarray(value))}
    if t is np.ndarray and value.dtype.name in NUMERIC:
        return _array("ndarray", value)
    torch = _torch()
    if torch is not None:
        if t is torch.Tensor or t is torch.nn.Parameter:
            data = value.detach().cpu()
            if str(data.dtype).replace("torch.", "") in NUMERIC:
                return {**_array("tensor", data.numpy()), "grad": bool(value.requires_grad)}
        if isinstance(value, torch.nn.Module):
            return {"t": "module", "type": _type_name(value)}
    return {"t": "object", "type": _type_name(value)}


def _torch():
    import sys
    return sys.modules.get("torch")


def decode(data, depth=0):
    """The value ``encode`` described, rebuilt from plain data with checked types and sizes."""
    if depth > MAX_DEPTH or not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise ProbeError("malformed value")
    kind = data["t"]
    if kind == "none":
        return None
    if kind in ("bool", "int", "str"):
        value = data.get("v")
        if type(value) is not {"bool": bool, "int": int, "str": str}[kind]:
            raise ProbeError(f"malformed {kind}")
        return value
    if kind == "float":
        value = data.get("v")
        if type(value) is str and value in ("nan", "inf", "-inf"):
            return float(value)
        if type(value) not in (int, float):
            raise ProbeError("malformed float")
        return float(value)
    if kind in ("list", "tuple"):
        items = data.get("v")
        if type(items) is not list or len(items) > MAX_ITEMS:
            raise ProbeError(f"malformed {kind}")
        out = [decode(v, depth + 1) for v in items]
        return out if kind == "list" else tuple(out)
    if kind == "dict":
        items = data.get("v")
        if type(items) is not dict or len(items) > MAX_ITEMS:
            raise ProbeError("malformed dict")
        return {str(k): decode(v, depth + 1) for k, v in items.items()}
    if kind in ("ndarray", "npscalar", "tensor"):
        array = _decode_array(data)
        if kind == "npscalar":
            return array[()]
        if kind == "tensor":
            import torch
            return torch.from_numpy(array).requires_grad_(bool(data.get("grad")) and array.dtype.kind == "f")
        return array
    if kind in ("module", "object"):
        return Opaque(kind, str(data.get("type", "?"))[:200])
    raise ProbeError(f"unknown kind {kind!r}")


def _decode_array(data):
    dtype, shape = data.get("dtype"), data.get("shape")
    if dtype not in NUMERIC or type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
        raise ProbeError("malformed array header")
    try:
        raw = base64.b64decode(data.get("b64", ""), validate=True)
    except (ValueError, TypeError):
        raise ProbeError("malformed array data") from None
    if len(raw) != math.prod(shape) * np.dtype(dtype).itemsize:
        raise ProbeError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


class Opaque:
    """A value that is not plain data (a module, an object): only its type name travels."""

    def __init__(self, kind, type_name):
        self.kind, self.type_name = kind, type_name

    def __repr__(self):
        return f"<{self.type_name}>"


# ----------------------------------------------------------------------------- running a case
def run_case(case, namespace):
    """Run one case against ``namespace``; ``{"value": ...}``, ``{"error": ...}`` or
    ``{"not_attempted": True}``. Never raises for a learner's mistake."""
    try:
        return {"value": _run(case, namespace)}
    except NotAttempted:
        return {"not_attempted": True}
    except ProbeError:
        raise
    except Exception as err:  # a learner's bug of any kind is reported, not raised
        text = str(err).strip().splitlines()
        return {"error": f"{type(err).__name__}: {text[0][:300] if text else ''}"}


def _run(case, namespace):
    if "get" in case:
        if case["get"] not in namespace:
            raise NameError(f"name {case['get']!r} is not defined: run the cells that define it")
        value = namespace[case["get"]]
        return encode(_then(value, case["then"], []) if case.get("then") else value)
    name = case["call"]
    if name not in namespace:
        raise NameError(f"{name!r} is not defined: run the cell that defines it")
    args = [decode(a) for a in case.get("args", [])]
    kwargs = {k: decode(v) for k, v in case.get("kwargs", {}).items()}
    args = [_callable(a) for a in args]
    try:
        result = namespace[name](*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted from None
    then = case.get("then")
    if not then:
        return encode(result)
    return encode(_then(result, then, args))


class CubicSum:
    """The scalar function f(v) = sum(c * v**3), sent as data: ``{"fn": "sum_c_cubed", "c": array}``."""

    def __init__(self, c):
        self.c = np.asarray(c, dtype=np.float64)

    def __call__(self, v):
        return float(np.sum(self.c * np.asarray(v, dtype=np.float64) ** 3))


def _callable(arg):
    """Arguments that are functions or modules travel as descriptions; build them."""
    if type(arg) is dict and arg.get("fn") == "sum_c_cubed":
        return CubicSum(arg["c"])
    if type(arg) is dict and ("build" in arg or "layer" in arg):
        return build_module(arg)
    return arg


LAYERS = ("Flatten", "Linear", "ReLU", "Conv1d", "Conv2d")


def build_module(spec):
    """``{"build": [["Linear", 40, 10], ...], "state": {...}}`` -> an ``nn.Sequential`` with that
    state; ``{"layer": ["Linear", 40, 10], ...}`` -> that one layer."""
    import torch
    layers = []
    for name, *sizes in spec["build"] if "build" in spec else [spec["layer"]]:
        if name not in LAYERS or not all(type(n) is int for n in sizes):
            raise ProbeError(f"unknown layer {name!r}")
        layers.append(getattr(torch.nn, name)(*sizes))
    model = torch.nn.Sequential(*layers) if "build" in spec else layers[0]
    if "state" in spec:
        model.load_state_dict(spec["state"], strict=True)
    return model


def _then(result, then, args):
    import torch
    out = {"type": _type_name(result)}
    if then.get("args_after"):
        out["args_after"] = [a for a in args if not callable(a)]
    if then.get("arg_states"):
        out["arg_states"] = [dict(a.state_dict()) for a in args if isinstance(a, torch.nn.Module)]
    if not isinstance(result, torch.nn.Module):
        out["value"] = result
        return out
    if "load_state" in then:
        state = {k: decode(v) for k, v in then["load_state"].items()}
        result.load_state_dict(state, strict=True)
    if then.get("params"):
        out["params"] = {name: list(p.shape) for name, p in result.named_parameters()}
    if "forward" in then:
        result.train(then.get("mode") == "train")
        with torch.no_grad():
            outputs = result(*[decode(x) for x in then["forward"]])
        out["output"] = outputs.argmax(dim=1) if then.get("predict") else outputs
    return out
