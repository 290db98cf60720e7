"""PS2 · MNIST-1D, a CNN against a fully connected net: the graded items (see ``cnncourse.problemsets``).

Models are judged by loading a state the judge chose (so the names and shapes of their parameters
must match the specification) and comparing outputs with the answer key's. The trained models are
judged on held-out MNIST-1D signals generated at grading time: only a model that classifies earns
the points, whatever the notebook prints.
"""

import sys

import numpy as np

from cnncourse import problemsets
from cnncourse.problemsets import Item, case, count, judge_module, random_state, same_array, same_number, state_arg

CNN = {"0.weight": (15, 1, 3), "0.bias": (15,), "2.weight": (15, 15, 3), "2.bias": (15,),
       "4.weight": (15, 15, 3), "4.bias": (15,), "7.weight": (10, 60), "7.bias": (10,)}
FC = {"1.weight": (285, 40), "1.bias": (285,), "3.weight": (135, 285), "3.bias": (135,),
      "5.weight": (60, 135), "5.bias": (60,), "7.weight": (10, 60), "7.bias": (10,)}
SMALL = [["Flatten"], ["Linear", 40, 16], ["ReLU"], ["Linear", 16, 10]]
SMALL_SPEC = {"1.weight": (16, 40), "1.bias": (16,), "3.weight": (10, 16), "3.bias": (10,)}

# What answers may use (checked by the grader on the submission's code, per item): PyTorch, NumPy and
# the standard library's arithmetic; not the course package.
ALLOWED = ("torch", "numpy") + problemsets.STDLIB
FORMULAS = ("numpy",) + problemsets.STDLIB   # decisions: no network built


def check(grade_id, **objects):
    """Run the visible checks of PS2's item ``grade_id`` against the learner's ``objects``."""
    problemsets.check(sys.modules[__name__], grade_id, **objects)


def _signals(rng, n):
    import torch
    return torch.from_numpy(rng.normal(size=(n, 1, 40)).astype(np.float32))


def _model_cases(name, spec):
    def cases(rng, visible):
        return [case(f"{name}() with the judge's weights, on {n} signals", name,
                     then={"load_state": state_arg(random_state(rng, spec)), "forward": [problemsets.arg(_signals(rng, n))],
                           "mode": "eval", "params": True}) for n in ((5,) if visible else (7, 3))]
    return cases


def _judge_model(spec):
    shapes = ", ".join(f"{k} {tuple(v)}" for k, v in spec.items())
    return lambda c, got, want: judge_module(c, got, want, spec, f"the layers, in order: {shapes}")


# ------------------------------------------------------------------------------------ 3 train
def _train_cases(rng, visible):
    import torch
    cases = []
    for identical in ([False] if visible else [True, False]):
        n = 100 if visible else 60
        x = _signals(rng, n)
        y = torch.from_numpy(rng.integers(0, 10, size=n))
        if identical:          # every minibatch is the same: the losses are exactly determined
            x, y = x[:1].repeat(n, 1, 1), y[:1].repeat(n)
        model = {"build": SMALL, "state": random_state(rng, SMALL_SPEC)}
        steps = int(rng.integers(4, 9))
        kind = "identical signals" if identical else "random signals"
        cases.append(case(f"train(small MLP, {n} {kind}, steps={steps}, batch_size=20, lr=0.05)", "train",
                          model, x, y, steps=steps, batch_size=20, lr=0.05, seed=int(rng.integers(100)),
                          then={"arg_states": True}))
    return cases


def _judge_train(c, got, want):
    losses, name = got["value"], c["name"]
    steps = c["kwargs"]["steps"]["v"]
    if type(losses) is not list or not all(type(v) is float for v in losses):
        return f"{name}: return a list of Python floats (loss.item() at every step), got {problemsets.kind(losses)}"
    if len(losses) != steps:
        return f"{name}: expected {steps} losses, one per step, got {len(losses)}"
    initial = problemsets.probe.decode(c["args"][0])["state"]
    final = got["arg_states"][0]
    if all(np.array_equal(final[k].numpy(), initial[k].numpy()) for k in initial):
        return f"{name}: the model's parameters did not change (is the optimizer stepping?)"
    if want is None or "identical" not in name:
        return None if losses[-1] < losses[0] else f"{name}: the loss did not go down ({losses[0]:.3f} -> {losses[-1]:.3f})"
    message = same_array(np.array(losses), np.array(want["value"]), f"{name}: losses", rtol=1e-4, atol=1e-5,
                         hint="Adam(model.parameters(), lr), zero_grad, cross-entropy, backward, step, in that order")
    if message:
        return message
    for key in want["arg_states"][0]:
        message = same_array(final[key], want["arg_states"][0][key], f"{name}: trained {key}", rtol=1e-4, atol=1e-5)
        if message:
            return message
    return None


# ------------------------------------------------------------------------------------ 4 evaluate
def _evaluate_cases(rng, visible):
    import torch
    cases = []
    for always in (9, 0):       # a model that always predicts one class: accuracy = share of that class
        state = {"1.weight": torch.zeros(10, 40), "1.bias": torch.arange(10.0) if always == 9 else -torch.arange(10.0)}
        n = 200
        x, y = _signals(rng, n), torch.from_numpy(rng.integers(0, 10, size=n))
        cases.append(case(f"evaluate(a model that always says {always}, {n} signals)", "evaluate",
                          {"build": [["Flatten"], ["Linear", 40, 10]], "state": state}, x, y))
        cases[-1]["secret"] = {"accuracy": float((y == always).float().mean())}
    if not visible:
        n = 300
        cases.append(case(f"evaluate(a random small MLP, {n} signals)", "evaluate",
                          {"build": SMALL, "state": random_state(rng, SMALL_SPEC)}, _signals(rng, n),
                          torch.from_numpy(rng.integers(0, 10, size=n))))
    return cases


def _judge_evaluate(c, got, want):
    if "secret" in c:
        want = c["secret"]["accuracy"]
    return same_number(got, want, c["name"], "the share of signals whose largest score is the true class, a float")


# ------------------------------------------------------------------------------------ 5 CNN vs FC
def _compare_cases(rng, visible):
    import torch

    from cnncourse import data
    held_out = data.mnist1d() if visible else data.mnist1d(seed=int(rng.integers(1_000, 10**9)), cache=False)
    x = torch.tensor(held_out["x_test"][:600], dtype=torch.float32)[:, None]
    y = held_out["y_test"][:600]
    return [{"name": f"your trained {name} on {len(y)} {'test' if visible else 'new'} MNIST-1D signals", "get": name,
             "then": {"forward": [problemsets.arg(x)], "predict": True, "params": True}, "secret": {"labels": y}}
            for name in ("cnn", "fc")]


def _judge_compare(c, got, want):
    model, params = c["get"], got["params"]
    expected = count({k: v for k, v in (CNN if model == "cnn" else FC).items()})
    if count(params) != expected:
        return f"{c['name']}: {count(params):,} parameters, expected {expected:,} (build it with make_{model}())"
    accuracy = float(np.mean(got["output"].numpy() == c["secret"]["labels"]))
    if model == "cnn" and accuracy <= 0.6:
        return f"{c['name']}: accuracy {accuracy:.1%}; a trained CNN reaches well above 60 %"
    return None


def _compare_summary(cases, answers):
    cnn, fc = (float(np.mean(a["output"].numpy() == c["secret"]["labels"])) for c, a in zip(cases, answers))
    if cnn <= fc:
        return f"on new signals the CNN ({cnn:.1%}) should beat the FC net ({fc:.1%})"
    return None


# ------------------------------------------------------------------------------------ 6 shuffle
def _shuffle_cases(rng, visible):
    import torch
    x = torch.arange(24.0).reshape(3, 1, 8) if visible else _signals(rng, 20)
    seeds = [None, 5] if visible else [int(rng.integers(1000)), int(rng.integers(1000))]
    return [case(f"shuffle_positions(x of {tuple(x.shape)}{'' if s is None else f', seed={s}'})", "shuffle_positions",
                 x, **({} if s is None else {"seed": s})) for s in seeds]


def _torch_shuffle(x, seed=0):
    import torch
    return x[..., torch.from_numpy(np.random.default_rng(seed).permutation(x.shape[-1]))]


def _judge_shuffle(c, got, want):
    return same_array(got, want, c["name"], rtol=0, atol=0,
                      hint="one order for every signal: np.random.default_rng(seed).permutation(L)")


# ------------------------------------------------------------------------------------ 7 design: see 40 positions
TARGET, WIDTH = 40, 8       # positions one unit must see; channels of every layer


def stack_params(layers, width=WIDTH):
    """Parameters of a stride-1 stack of Conv1d layers (kernel, dilation), 1 input channel, ``width``
    channels in every layer, with biases."""
    return sum((1 if i == 0 else width) * width * k + width for i, (k, _) in enumerate(layers))


def fewest_params(target=TARGET, width=WIDTH):
    """The fewest parameters of any gap-free stack whose unit sees ``target`` positions (a search over
    fields: adding (k, d) with d <= r grows r to r + d·(k-1))."""
    import heapq
    queue, done = [(0, 1, True)], set()
    while queue:
        cost, field, first = heapq.heappop(queue)
        if field >= target:
            return cost
        if (field, first) in done:
            continue
        done.add((field, first))
        for k in range(2, target + 1):
            for d in range(1, field + 1):
                heapq.heappush(queue, (cost + (1 if first else width) * width * k + width,
                                       min(target, field + d * (k - 1)), False))
    return None


def _design_cases(rng, visible):
    return [{"name": f"your layers: one unit sees all {TARGET} positions, no gaps, fewest parameters", "get": "layers"}]


def _judge_design(c, got, want):
    name = c["name"]
    if type(got) not in (list, tuple) or not got or not all(
            type(layer) in (list, tuple) and len(layer) == 2 and all(type(v) is int for v in layer) for layer in got):
        return f"{name}: layers must be a non-empty list of (kernel_size, dilation) pairs of ints, got {got!r}"
    field = 1
    for i, (k, d) in enumerate(got):
        if k < 2 or d < 1:
            return f"{name}: layer {i + 1} is ({k}, {d}); kernels have at least 2 taps and dilations are at least 1"
        if d > field:
            return (f"{name}: layer {i + 1} has dilation {d} but the stack below it sees only {field} positions: "
                    f"{d - field} of every {d} positions would be skipped (a dilation may be at most the field so far)")
        field += d * (k - 1)
    if field < TARGET:
        return (f"{name}: one unit sees {field} positions, fewer than {TARGET}; each layer adds d·(k-1) "
                "(add a layer, a tap or more dilation)")
    best, mine = fewest_params(), stack_params(got)
    if mine > best:
        return (f"{name}: sees {field} positions with {mine:,} parameters, but {best:,} suffice. Count what one tap "
                f"costs: in the first layer {WIDTH} weights (one input channel), in later layers {WIDTH * WIDTH}; "
                "and a dilated layer multiplies the field")
    return None


ITEMS = {item.grade_id: item for item in [
    Item("test_make_cnn", "1 make_cnn", 3, _model_cases("make_cnn", CNN), _judge_model(CNN)),
    Item("test_make_fc", "2 make_fc", 2, _model_cases("make_fc", FC), _judge_model(FC)),
    Item("test_train", "3 train", 3, _train_cases, _judge_train),
    Item("test_evaluate", "4 evaluate", 2, _evaluate_cases, _judge_evaluate),
    Item("test_compare", "5 the CNN beats the FC net", 2, _compare_cases, _judge_compare, summary=_compare_summary),
    Item("test_shuffle_positions", "6 shuffle_positions", 2, _shuffle_cases, _judge_shuffle,
         {"shuffle_positions": _torch_shuffle}),
    Item("test_design", "7 see all 40 positions with the fewest parameters", 3, _design_cases, _judge_design,
         allowed=FORMULAS),
]}
