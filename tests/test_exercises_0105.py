"""Lectures 01-05: each exercise check passes the answer the lecture shows, fails a typical wrong
answer with a message naming the case, and only notes (never raises) an unattempted exercise."""

import numpy as np
import pytest

from cnncourse import exercises
from cnncourse.checks import CheckError
from lecture_answers import answer

L01, L02, L03 = "lectures/01_why_convolutions.ipynb", "lectures/02_conv1d.ipynb", "lectures/03_channels.ipynb"
L04, L05 = "lectures/04_receptive_fields.ipynb", "lectures/05_pooling.ipynb"


def _bias_forgotten(side, channels, hidden):
    return side * side * channels * hidden


def _invariance_instead(f, x, k):
    return np.abs(f(np.roll(x, k)) - f(x)).max()


def _dilation_forgotten(W, K, S=1, D=1, P=0):
    return (W + 2 * P - K) // S + 1


def _contiguous_taps(x, omega, stride=1, dilation=1, padding=0):
    padded = np.concatenate([np.zeros(padding), x, np.zeros(padding)])
    n_out = (len(padded) - dilation * (len(omega) - 1) - 1) // stride + 1
    return np.array([np.sum(omega * padded[i * stride:i * stride + len(omega)]) for i in range(n_out)])


def _channels_forgotten(c_in, c_out, k, dims=1):
    return c_out * (k ** dims + 1)


def _no_bias(x, weight, bias):
    c_out, _, k = weight.shape
    return np.array([[np.sum(weight[o] * x[:, i:i + k]) for i in range(x.shape[1] - k + 1)] for o in range(c_out)])


def _jump_forgotten(layers):
    return 1 + sum(d * (k - 1) for k, s, d in layers)


def _dilation_ignored(layers, length):
    lengths = [length]
    for k, s, d in layers:
        lengths.append((lengths[-1] - d * (k - 1) - 1) // s + 1)
    used = set(range(lengths[-1]))
    for k, s, d in reversed(layers):
        used = {u * s + j for u in used for j in range(k)}  # taps side by side, as if D = 1
    return sorted(set(range(length)) - used)


def _partial_windows_kept(x, k, s):
    return np.array([x[i:i + k].max() for i in range(0, len(x), s)])


def _overlaps_overwrite(x, grad_out, k, s):
    grad_x = np.zeros_like(x)
    for i, g in enumerate(grad_out):
        grad_x[i * s + np.argmax(x[i * s:i * s + k])] = g
    return grad_x


def _last_maximum_wins(x, grad_out, k, s):
    grad_x = np.zeros_like(x)
    for i, g in enumerate(grad_out):
        window = x[i * s:i * s + k]
        grad_x[i * s + len(window) - 1 - np.argmax(window[::-1])] += g
    return grad_x


CASES = [  # (lecture, module, name, wrong answers with the message they must get)
    (L01, "why_convolutions", "fc_params", [(_bias_forgotten, r"fc_params\(64, 3, 1000\).*expected 12289000")]),
    (L01, "why_convolutions", "equivariance_error", [(_invariance_instead, r"a circular convolution, x, k=1")]),
    (L02, "conv1d", "output_length", [(_dilation_forgotten, r"output_length\(W=20, K=3, S=1, D=2, P=2\)")]),
    (L02, "conv1d", "conv1d_loop", [(_contiguous_taps, r"dilation=2.*wrong (shape|values)")]),
    (L03, "channels", "conv_params", [(_channels_forgotten, r"conv_params\(c_in=4, c_out=6, k=5, dims=1\)")]),
    (L03, "channels", "conv_layer", [(_no_bias, r"conv_layer\(x \(1, 10\).*wrong values")]),
    (L04, "receptive_fields", "receptive_field", [(_jump_forgotten, r"\[\(3, 2, 1\), \(3, 2, 1\), \(3, 2, 1\)\].*expected 15, got 7")]),
    (L04, "receptive_fields", "unseen_inputs", [(lambda layers, length: [], r"expected positions \[39\]"),
                                               (_dilation_ignored, r"\(3, 1, 2\), \(3, 1, 2\)\], length=20\)")]),
    (L05, "pooling", "max_pool", [(_partial_windows_kept, r"wrong shape")]),
    (L05, "pooling", "max_pool_backward", [(_overlaps_overwrite, r"k=2, s=1\): wrong values"),
                                            (_last_maximum_wins, r"x=\[3.0, 3.0, 0.0, 1.0\].*expected 1, got 0")]),
]
IDS = [case[2] for case in CASES]


def _check(module, name):
    return getattr(getattr(exercises, module), f"check_{name}")


@pytest.mark.parametrize("lecture, module, name, wrong", CASES, ids=IDS)
def test_the_lecture_answer_passes(lecture, module, name, wrong, capsys):
    assert _check(module, name)(answer(lecture, name)) is True
    assert capsys.readouterr().out == f"✓ {name}: correct\n"


@pytest.mark.parametrize("lecture, module, name, wrong", CASES, ids=IDS)
def test_wrong_answers_fail_with_a_precise_message(lecture, module, name, wrong):
    for function, message in wrong:
        with pytest.raises(CheckError, match=message):
            _check(module, name)(function)


@pytest.mark.parametrize("lecture, module, name, wrong", CASES, ids=IDS)
def test_the_untouched_exercise_is_only_noted(lecture, module, name, wrong, capsys):
    def untouched(*args):
        raise NotImplementedError  # your code here

    assert _check(module, name)(untouched) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_a_crash_in_the_learner_code_names_the_case():
    def max_pool(x, k, s):
        return [x.max()][k]

    with pytest.raises(CheckError, match=r"max_pool\(<ndarray of shape \(4,\)>, 2, 2\) raised IndexError"):
        exercises.pooling.check_max_pool(max_pool)


@pytest.mark.parametrize("lecture, count", [(L01, 2), (L02, 2), (L03, 2), (L04, 2), (L05, 2)])
def test_each_lecture_has_its_exercises_with_stub_and_check(lecture, count):
    import json

    from conftest import ROOT

    cells = json.loads((ROOT / lecture).read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    stubs = [s for s in sources if "raise NotImplementedError  # your code here" in s]
    checks = [s for s in sources if "exercises." in s and ".check_" in s]
    assert len(stubs) == len(checks) >= count
