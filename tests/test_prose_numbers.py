"""tests/prose.py: numbers quoted in "What you should see" must be printed by the cells above."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from prose import quoted_numbers, report, unpinned


def _code(printed):
    return new_code_cell("...", outputs=[new_output("stream", name="stdout", text=printed)])


def _notebook(*cells):
    return new_notebook(cells=list(cells))


def _texts(paragraph):
    return [q.text for q in quoted_numbers(paragraph)]


CONSISTENT = _notebook(
    new_markdown_cell("# Lecture 02\nA 5×5 image, as in lecture 01."),
    _code("params: 12,289,000\naccuracy 0.98213\nratio 113.78\nweights 22658678784\n"),
    new_markdown_cell("**What you should see:** 12,289,000 parameters (about 12.3 million), accuracy\n"
                      "0.98 or 98 %, locality divides by 114, about 22.7 billion weights; a 3×3 kernel\n"
                      "with K=3, stride 2, as section 4 shows (LeCun et al., 1998).\n\n"
                      "A later paragraph is not checked: 777."),
    _code(torch_like := "tensor([[3., 0.],\n        [3., 1.]])\n"),
    new_markdown_cell("**What you should see:** `[[3, 0], [3, 1]]` and a difference of 0."),
)


def test_consistent_notebook_passes():
    assert unpinned(CONSISTENT) == []


def test_planted_drift_fails_and_names_cell_and_number():
    drifted = nbformat.from_dict(CONSISTENT)
    drifted.cells[1].outputs[0].text = drifted.cells[1].outputs[0].text.replace("0.98213", "0.97213")
    problems = unpinned(drifted)
    assert [(p.cell, p.number) for p in problems] == [(2, "0.98"), (2, "98")]
    message = report("lectures/02_x.ipynb", problems)
    assert "cell 2: '0.98'" in message and "lectures/02_x.ipynb" in message


def test_numbers_count_only_against_their_own_window():
    # The second paragraph may not lean on the first window's output.
    nb = _notebook(_code("5 outputs\n"), new_markdown_cell("**What you should see:** 5 outputs."),
                   _code("4 outputs\n"), new_markdown_cell("**What you should see:** 5 outputs."))
    assert [(p.cell, p.number) for p in unpinned(nb)] == [(3, "5")]


def test_rounding_to_the_quoted_precision():
    nb = _notebook(_code("0.9820\n"), new_markdown_cell("**What you should see:** 0.982 and 0.98 and 1.0"))
    assert unpinned(nb) == []
    nb = _notebook(_code("0.9820\n"), new_markdown_cell("**What you should see:** 0.99"))
    assert [p.number for p in unpinned(nb)] == ["0.99"]


def test_order_of_magnitude():
    nb = _notebook(_code("diff 3.2e-16\n"), new_markdown_cell("**What you should see:** ~1e-16"))
    assert unpinned(nb) == []
    nb = _notebook(_code("diff 0.0\n"), new_markdown_cell("**What you should see:** ~1e-16"))
    assert [p.number for p in unpinned(nb)] == ["1e-16"]


@pytest.mark.parametrize("paragraph, quoted", [
    ("conv1d and float32 on MNIST-1D with ResNet-50 in 2D", []),
    ("lecture 02 and section 3, lectures 04 and 05, Table 2, Fig. 4, layer 2, row 0", []),
    ("Krizhevsky et al. (2012)", []),
    ("K=3, stride=2, C = 64, kernel size 5, dilation 2, padding 1", []),
    ("a 3×3 kernel gives (5 − 3)/1 + 1 = 3 outputs; 3,104 = 32 × (96 + 1)", ["3", "3,104"]),
    ("a value of -0.24 then 0.44; 60k images, 138.4 M and 3.86 G MACs", ["0.24", "0.44", "60", "138.4", "3.86"]),
    ("see <img src='a1.png'> and [link](http://x.org/2)", []),
])
def test_what_counts_as_a_quoted_result(paragraph, quoted):
    assert _texts(paragraph) == quoted


def test_opt_out_needs_a_reason_and_is_visible_in_the_cell():
    cell = ("**What you should see:** AlexNet's 224 input.\n"
            "<!-- not outputs: 224; reason: the paper's stated input size -->")
    assert unpinned(_notebook(_code("55\n"), new_markdown_cell(cell))) == []
    with pytest.raises(ValueError, match="reason"):
        unpinned(_notebook(_code("55\n"), new_markdown_cell(cell.replace("the paper's stated input size", ""))))


def test_unit_suffixes_scale_the_quoted_number():
    nb = _notebook(_code("138357544 parameters, 15470264320 MACs\n"),
                   new_markdown_cell("**What you should see:** 138.4 M parameters, 15.47 G MACs, 138M."))
    assert unpinned(nb) == []


def test_drift_in_the_prose_is_caught_too():
    # Lecture 02's old error: the text counted five products equal to 1 where the cell printed 4.
    nb = _notebook(_code("products equal to 1: 4 | their sum: 4\n"),
                   new_markdown_cell("**What you should see:** 5 products equal 1, so the output is 4."))
    assert [(p.cell, p.number) for p in unpinned(nb)] == [(1, "5")]


@pytest.mark.parametrize("paragraph, quoted", [
    ("a test error of 8–12 % and a loss between 0.30 and 0.45", ["8–12", "0.30–0.45"]),
    ("between 88 % and 93 %, or 88 %–93 %; 14 – 17 %", ["88–93", "88–93", "14–17"]),
    ("a 3-5 kernel and (5 − 3)/1 + 1 = 3; stride 2–4 outputs 7", ["3", "4", "7"]),
])
def test_ranges_are_one_quoted_result(paragraph, quoted):
    assert _texts(paragraph) == quoted


def test_a_range_matches_any_printed_number_inside_it():
    def drift(printed, prose):
        return [p.number for p in unpinned(_notebook(_code(printed), new_markdown_cell(f"**What you should see:** {prose}")))]
    assert drift("test accuracy 0.904\n", "a test error of 8–12 %, an accuracy between 88 and 93 %") == ["8–12"]
    assert drift("test error 0.096\n", "a test error of 8–12 %") == []
    assert drift("test error 12.4 %\n", "a test error of 8–12 %") == []       # half the quoted precision
    assert drift("test error 12.6 %\n", "a test error of 8–12 %") == ["8–12"]
    assert drift("loss 0.29, then 0.46\n", "a loss between 0.30 and 0.45") == ["0.30–0.45"]
    assert drift("loss 0.44\n", "a loss between 0.30 and 0.45") == []
