"""PS1 · convolution from scratch: the graded items (see ``cnncourse.problemsets``).

References for the visible checks are PyTorch operations (the learner's answers use NumPy only).
"""

import sys

import numpy as np

from cnncourse import problemsets
from cnncourse.problemsets import Item, same_array, same_number, same_value


def check(grade_id, **objects):
    """Run the visible checks of PS1's item ``grade_id`` against the learner's ``objects``."""
    problemsets.check(sys.modules[__name__], grade_id, **objects)


_case = problemsets.case

# What answers may use (checked by the grader on the submission's code, per item): NumPy and the
# standard library's arithmetic, nothing that computes a convolution for you.
ALLOWED = ("numpy",) + problemsets.STDLIB
# numpy's convolutions, wherever they sit: polymul convolves, numpy.ma wraps convolve and correlate, and
# numpy.testing hands out every numpy function as an object (private modules are refused on these items too)
CONVOLUTIONS = ("numpy.convolve", "numpy.correlate", "numpy.polymul", "numpy.polynomial", "numpy.ma.convolve",
                "numpy.ma.correlate", "numpy.testing")


def _layer(rng, min_length=1):
    """A random valid (W, kernel, stride, padding, dilation)."""
    k, s, d = int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    p = int(rng.integers(0, 4))
    span = d * (k - 1) + 1
    W = int(rng.integers(max(span - 2 * p, min_length, 1), span + 40))
    return W, k, s, p, d


def _torch():
    import torch
    import torch.nn.functional as F
    return torch, F


# ------------------------------------------------------------------------------------ 1 output size
def _size_cases(rng, visible):
    cases = [(40, 3, 1, 0, 1), (40, 3, 2, 0, 1), (10, 3, 1, 1, 1), (11, 3, 2, 1, 1), (20, 3, 1, 0, 2)]
    if not visible:
        cases = [(227, 11, 4, 0, 1), (8, 8, 1, 0, 1)] + [_layer(rng) for _ in range(10)]
    return [_case(f"conv_output_size{c}", "conv_output_size", *c) for c in cases]


def _torch_length(W, kernel_size, stride=1, padding=0, dilation=1):
    torch, F = _torch()
    return int(F.conv1d(torch.zeros(1, 1, W), torch.zeros(1, 1, kernel_size), stride=stride, padding=padding,
                        dilation=dilation).shape[-1])


def _judge_size(case, got, want):
    return same_number(got, want, case["name"], "the last window must fit inside the padded input: "
                       "(W + 2P - D(F-1) - 1) // S + 1, an int")


# ------------------------------------------------------------------------------------ 2-4 convolution
def _conv_cases(rng, visible):
    if visible:
        x, w = rng.normal(size=12), np.array([1.0, -2.0, 0.5])
        settings = [dict(), dict(b=0.3), dict(stride=2), dict(padding=1), dict(dilation=2)]
        return [_case(f"conv1d(x, w{''.join(f', {k}={v}' for k, v in s.items())})", "conv1d", x, w, **s)
                for s in settings]
    cases = []
    for _ in range(8):
        W, k, s, p, d = _layer(rng)
        b = float(np.round(rng.normal(), 3))
        cases.append(_case(f"conv1d(x of {W}, w of {k}, b={b}, stride={s}, padding={p}, dilation={d})", "conv1d",
                           rng.normal(size=W), rng.normal(size=k), b=b, stride=s, padding=p, dilation=d))
    return cases


def _torch_conv1d(x, w, b=0.0, stride=1, padding=0, dilation=1):
    torch, F = _torch()
    return F.conv1d(torch.tensor(x)[None, None], torch.tensor(w)[None, None], torch.tensor([float(b)], dtype=torch.float64),
                    stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()


def _matrix_cases(rng, visible):
    if visible:
        w = np.array([1.0, 2.0, 3.0])
        settings = [(6, {}), (6, dict(padding=1)), (7, dict(stride=2)), (8, dict(dilation=2))]
        return [_case(f"conv1d_matrix(w, {W}{''.join(f', {k}={v}' for k, v in s.items())})", "conv1d_matrix",
                      w, W, **s) for W, s in settings]
    cases = []
    for _ in range(6):
        W, k, s, p, d = _layer(rng)
        cases.append(_case(f"conv1d_matrix(w of {k}, {W}, stride={s}, padding={p}, dilation={d})", "conv1d_matrix",
                           rng.normal(size=k), W, stride=s, padding=p, dilation=d))
    return cases


def _torch_matrix(w, W, stride=1, padding=0, dilation=1):
    torch, F = _torch()
    return F.conv1d(torch.eye(W, dtype=torch.float64)[:, None], torch.tensor(w)[None, None], stride=stride,
                    padding=padding, dilation=dilation)[:, 0].T.contiguous().numpy()


def _multi_cases(rng, visible):
    if visible:
        x, w, b = rng.normal(size=(2, 10)), rng.normal(size=(3, 2, 3)), rng.normal(size=3)
        return [_case("conv1d_multi(x, w, b)", "conv1d_multi", x, w, b),
                _case("conv1d_multi(x, w, b, stride=2, padding=1)", "conv1d_multi", x, w, b, stride=2, padding=1)]
    cases = []
    for _ in range(5):
        W, k, s, p, d = _layer(rng)
        ci, co = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        cases.append(_case(f"conv1d_multi(x of {ci}x{W}, w of {co}x{ci}x{k}, stride={s}, padding={p}, "
                           f"dilation={d})", "conv1d_multi", rng.normal(size=(ci, W)), rng.normal(size=(co, ci, k)),
                           rng.normal(size=co), stride=s, padding=p, dilation=d))
    return cases


def _torch_multi(x, w, b, stride=1, padding=0, dilation=1):
    torch, F = _torch()
    return F.conv1d(torch.tensor(x)[None], torch.tensor(w), torch.tensor(b), stride=stride, padding=padding,
                    dilation=dilation)[0].numpy()


def _judge_array(hint):
    def judge(case, got, want):
        if want is None:
            return None
        return same_array(got, want, case["name"], rtol=1e-6, atol=1e-9, hint=hint)
    return judge


# ------------------------------------------------------------------------------------ 5 parameters
def _count_cases(rng, visible):
    cases = [(1, 15, 3, True), (15, 15, 3, True), (3, 8, 5, False)]
    if not visible:
        cases = [(int(rng.integers(1, 65)), int(rng.integers(1, 129)), int(rng.integers(1, 12)), bool(rng.integers(2)))
                 for _ in range(8)]
    return [_case(f"conv1d_param_count{c}", "conv1d_param_count", *c[:3], bias=c[3]) for c in cases]


def _torch_count(in_channels, out_channels, kernel_size, bias=True):
    import torch
    layer = torch.nn.Conv1d(in_channels, out_channels, kernel_size, bias=bias, device="meta")
    return int(sum(p.numel() for p in layer.parameters()))


def _judge_count(case, got, want):
    ci, co, k = (a["v"] for a in case["args"])
    bias = case["kwargs"]["bias"]["v"]
    weights = co * ci * k
    formula = f"{co}·({ci}·{k})" + (f" + {co}" if bias else " (no bias)")
    slips = [(weights, "forgot the biases? There is one per output channel.") if bias else
             (weights + co, "bias=False: this layer has no biases."),
             (weights + ci, "one bias per OUTPUT channel, not per input channel?"),
             (weights + co * ci, "one bias per output channel, not one per kernel?"),
             (co * k + (co if bias else 0), "each output channel has a kernel for EVERY input channel?"),
             (ci * k + (co if bias else 0), "one kernel of C_i·F weights per output channel: multiply by C_o?")]
    return problemsets.same_count(got, want, case["name"], formula, slips)


# ------------------------------------------------------------------------------------ 6 receptive field
def _field_cases(rng, visible):
    stacks = [[(3, 1, 1)], [(3, 1, 1), (3, 1, 1)], [(3, 2, 1), (3, 2, 1), (3, 2, 1)], [(3, 1, 2), (3, 1, 4)]]
    if not visible:
        stacks = [[]] + [[(int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 4)))
                          for _ in range(int(rng.integers(1, 6)))] for _ in range(8)]
    return [_case(f"receptive_field({s})", "receptive_field", s) for s in stacks]


def _torch_field(layers):
    torch, F = _torch()
    size = 1 + sum(d * (k - 1) * int(np.prod([s2 for _, s2, _ in layers[:i]] or [1]))
                   for i, (k, _, d) in enumerate(layers)) * 2 + 8
    x = torch.zeros(1, 1, size, requires_grad=True)
    h = x
    for k, s, d in layers:
        h = F.conv1d(h, torch.ones(1, 1, k), stride=s, dilation=d)
    h[0, 0, 0].backward()
    hit = torch.nonzero(x.grad[0, 0])[:, 0]
    return int(hit[-1] - hit[0] + 1)


def _judge_field(case, got, want):
    layers = problemsets.probe.decode(case["args"][0])
    no_jump = 1 + sum(d * (k - 1) for k, _, d in layers)
    after = 1
    jump_after = 1
    for k, s, d in layers:          # the jump updated before the field: a common slip
        jump_after *= s
        after += d * (k - 1) * jump_after
    slips = [(no_jump, "forgot the jump? A layer's taps are j input positions apart, j the product of the "
                       "strides BELOW it."), (after, "multiplied by the jump including the layer's own stride? "
                                                      "Grow r first, then update j.")]
    return problemsets.same_count(got, want, case["name"], "1 + Σ D·(F-1)·j over the layers, j = product of the "
                                  "strides of the layers below", slips)


# ------------------------------------------------------------------------------------ 7-9 pooling
def _pool_setting(rng):
    c, size, stride = int(rng.integers(1, 5)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
    W = int(rng.integers(size, size + 20))
    return c, W, size, stride


def _max_cases(rng, visible):
    if visible:
        x = rng.normal(size=(2, 11))
        return [_case(f"max_pool1d(x, size={k}, stride={s})", "max_pool1d", x, k, s) for k, s in [(2, 2), (3, 2), (3, 1)]]
    cases = []
    for _ in range(6):
        c, W, k, s = _pool_setting(rng)
        cases.append(_case(f"max_pool1d(x of {c}x{W}, size={k}, stride={s})", "max_pool1d", rng.normal(size=(c, W)), k, s))
    return cases


def _backward_inputs(rng, c, W, k, s):
    x = rng.normal(size=(c, W))
    x[:, W // 2] = 9.0            # one input that wins several overlapping windows
    return x, rng.normal(size=(c, (W - k) // s + 1))


def _max_backward_cases(rng, visible):
    settings = [(2, 11, 2, 2), (2, 11, 3, 2)] if visible else [_pool_setting(rng) for _ in range(6)]
    cases = []
    for c, W, k, s in settings:
        x, g = _backward_inputs(rng, c, W, k, s)
        cases.append(_case(f"max_pool1d_backward(grad_out, x of {c}x{W}, size={k}, stride={s})",
                           "max_pool1d_backward", g, x, k, s))
    return cases


def _mean_cases(rng, visible):
    settings = [(2, 11, 2, 2), (2, 11, 3, 2)] if visible else [_pool_setting(rng) for _ in range(5)]
    cases = []
    for c, W, k, s in settings:
        x, g = _backward_inputs(rng, c, W, k, s)
        cases.append(_case(f"mean_pool1d(x of {c}x{W}, size={k}, stride={s})", "mean_pool1d", x, k, s))
        cases.append(_case(f"mean_pool1d_backward(grad_out, x of {c}x{W}, size={k}, stride={s})",
                           "mean_pool1d_backward", g, x, k, s))
    return cases


def _torch_pool(pool):
    def forward(x, size, stride):
        torch, F = _torch()
        return getattr(F, pool)(torch.tensor(x)[None], size, stride)[0].numpy()
    return forward


def _torch_pool_backward(pool):
    def backward(grad_out, x, size, stride):
        torch, F = _torch()
        xt = torch.tensor(x, requires_grad=True)
        getattr(F, pool)(xt[None], size, stride)[0].backward(torch.tensor(grad_out))
        return xt.grad.numpy()
    return backward


# ------------------------------------------------------------------------------------ 10 gradient check
def _gradient_cases(rng, visible):
    shape, h = ((2, 3), 1e-3) if visible else (tuple(int(n) for n in rng.integers(1, 5, size=2)), 1e-2)
    x, c = rng.normal(size=shape), rng.normal(size=shape)
    a = rng.normal(size=4)
    b = a + rng.normal(size=4) * 0.1
    b[0] = a[0]
    cases = [_case(f"numerical_gradient(sum(c * x**3), x of {shape}, h={h:g})", "numerical_gradient",
                   {"fn": "sum_c_cubed", "c": c}, x, h, then={"args_after": True}),
             _case("relative_error([1, 2], [1.1, 2])", "relative_error", np.array([1.0, 2.0]), np.array([1.1, 2.0])),
             _case("relative_error(a, b)", "relative_error", a, b),
             _case("relative_error(a, a)", "relative_error", a, a.copy())]
    return cases


def _relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def _judge_gradient(case, got, want):
    if case["call"] == "relative_error":
        return None if want is None else same_number(got, want, case["name"], "max of |a-b| / max(|a|+|b|, 1e-12), a float")
    if want is None:
        return None
    message = same_array(got["value"], want["value"], case["name"], rtol=1e-6, atol=1e-9,
                         hint="centred difference (f(x+h e_j) - f(x-h e_j)) / 2h at every position")
    if message:
        return message
    if same_value(got["args_after"], want["args_after"], "x", rtol=0, atol=0):
        return f"{case['name']}: x was changed; restore every entry before you return"
    return None


def _cubic_gradient(f, x, h=1e-6):
    """The exact centred difference of f = probe.CubicSum(c): c * (3x² + h²)."""
    return f.c * (3 * np.asarray(x, dtype=np.float64) ** 2 + h ** 2)


# ------------------------------------------------------------------------------------ 11 convolution backward
def _backward_cases(rng, visible):
    if visible:
        settings = [(2, 3, 9, 3, 1, 0), (2, 3, 9, 3, 2, 1), (1, 2, 10, 4, 3, 2)]
    else:
        settings = []
        for _ in range(6):
            W, k, s, p, _ = _layer(rng)
            settings.append((int(rng.integers(1, 5)), int(rng.integers(1, 5)), W, k, s, p))
    cases = []
    for ci, co, W, k, s, p in settings:
        x, w = rng.normal(size=(ci, W)), rng.normal(size=(co, ci, k))
        n = (W + 2 * p - k) // s + 1
        cases.append(_case(f"conv1d_backward(grad_out of {co}x{n}, x of {ci}x{W}, w of {co}x{ci}x{k}, stride={s}, "
                           f"padding={p})", "conv1d_backward", rng.normal(size=(co, n)), x, w, stride=s, padding=p))
    return cases


def _torch_backward(grad_out, x, w, stride=1, padding=0):
    torch, F = _torch()
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
    F.conv1d(xt[None], wt, bt, stride=stride, padding=padding)[0].backward(torch.tensor(grad_out))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


BACKWARD_HINTS = (
    ("dx", "dx is grad_out with stride-1 zeros between its entries, convolved with the kernel flipped along its "
           "taps and with input and output channels swapped (a transposed convolution), then the P padded "
           "positions cut off; input positions no window reads get 0"),
    ("dw", "dw[o, c, k] = Σ_i grad_out[o, i] · x_pad[c, i·S + k]: the padded input correlated with grad_out"),
    ("db", "db[o] = Σ_i grad_out[o, i]: one sum per output channel"),
)


def _judge_backward(case, got, want):
    if type(got) is not tuple or len(got) != 3:
        return f"{case['name']}: return the tuple (dx, dw, db), got {problemsets.kind(got)}"
    if want is None:
        return None
    for (name, hint), g, w in zip(BACKWARD_HINTS, got, want):
        message = same_array(g, w, f"{case['name']}: {name}", rtol=1e-6, atol=1e-9, hint=hint)
        if message:
            return message
    return None


ITEMS = {item.grade_id: item for item in [
    Item("test_conv_output_size", "1 conv_output_size", 2, _size_cases, _judge_size,
         {"conv_output_size": _torch_length}),
    Item("test_conv1d", "2 conv1d", 3, _conv_cases,
         _judge_array("y[i] = b + Σ_k w[k]·x_pad[i·S + k·D], with P zeros on each side"), {"conv1d": _torch_conv1d}, forbidden=CONVOLUTIONS),
    Item("test_conv1d_matrix", "3 conv1d_matrix", 3, _matrix_cases,
         _judge_array("row i holds w[k] at column i·S + k·D - P (taps in the padding have no column)"),
         {"conv1d_matrix": _torch_matrix}, forbidden=CONVOLUTIONS),
    Item("test_conv1d_multi", "4 conv1d_multi", 3, _multi_cases,
         _judge_array("sum over input channels c and taps k, plus b[o] once per output channel"),
         {"conv1d_multi": _torch_multi}, forbidden=CONVOLUTIONS),
    Item("test_conv1d_param_count", "5 conv1d_param_count", 2, _count_cases, _judge_count,
         {"conv1d_param_count": _torch_count}),
    Item("test_receptive_field", "6 receptive_field", 3, _field_cases, _judge_field,
         {"receptive_field": _torch_field}),
    Item("test_max_pool1d", "7 max_pool1d", 2, _max_cases, _judge_array("the maximum of x[c, i·S : i·S + size]"),
         {"max_pool1d": _torch_pool("max_pool1d")}),
    Item("test_max_pool1d_backward", "8 max_pool1d_backward", 2, _max_backward_cases,
         _judge_array("each window's gradient goes to its maximum; where windows overlap, gradients add up"),
         {"max_pool1d_backward": _torch_pool_backward("max_pool1d")}),
    Item("test_mean_pool1d", "9 mean_pool1d forward and backward", 3, _mean_cases,
         _judge_array("mean of each window; backward: 1/size of the window's gradient to each input, added up"),
         {"mean_pool1d": _torch_pool("avg_pool1d"), "mean_pool1d_backward": _torch_pool_backward("avg_pool1d")}),
    Item("test_gradient_check", "10 numerical_gradient and relative_error", 2, _gradient_cases, _judge_gradient,
         {"numerical_gradient": _cubic_gradient, "relative_error": _relative_error}),
    Item("test_conv1d_backward", "11 conv1d_backward", 3, _backward_cases, _judge_backward,
         {"conv1d_backward": _torch_backward}, forbidden=CONVOLUTIONS),
]}
