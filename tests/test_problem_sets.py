"""The graded problem sets, end to end with the real nbgrader (0.9.6).

Every source in solutions/ generates; the committed release in assignments/ is byte-identical to a
fresh generation; nbgrader's autograder gives the solutions full marks and the untouched release zero
without pipeline errors; a plausible wrong answer to an exercise costs exactly that exercise's points
(plus, in PS2, the comparison that runs the learner's own functions); hostile answers (objects with a
custom ``__eq__``, patched comparison helpers and builtins, no-op check functions) earn nothing.

One course directory, one gradebook and one release for the whole module; all submissions of a set
are autograded in one batch (a notebook costs seconds: kernel start, torch import, training in PS2).
"""

import json
import os
import re
import shutil
import time

import nbformat
import pytest

from cnngrader import release
from conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore:Object of type:Warning")  # nbgrader's own SQLAlchemy warnings

SETS = ("ps1", "ps2", "ps3")
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

# Wrong-but-plausible answers: student -> {solution cell: [(old, new), ...]}, and the test cells
# that must then score 0 (every other test cell keeps its full points).
MUTANTS = {
    "ps1": {
        "mutant_a": ({
            "conv_output_size": [("span = dilation * (kernel_size - 1) + 1", "span = dilation * (kernel_size - 1)")],
            "conv1d_matrix": [("j = i * stride + k * dilation - padding", "j = i * stride + k * dilation")],
            "conv1d_param_count": [(" + (out_channels if bias else 0)", "")],
            "max_pool1d": [("n = (x.shape[1] - size) // stride + 1", "n = (x.shape[1] - size) // stride")],
            "mean_pool1d": [("grad_out[:, i:i + 1] / size", "grad_out[:, i:i + 1]")],
        }, {"test_conv_output_size", "test_conv1d_matrix", "test_conv1d_param_count", "test_max_pool1d",
            "test_mean_pool1d"}),
        "mutant_b": ({
            "conv1d": [("    y = np.full(n, float(b))", "    y = np.full(n, float(b))\n    w = w[::-1]")],
            "conv1d_multi": [("y = np.zeros((c_out, n)) + np.asarray(b, dtype=np.float64)[:, None]",
                              "y = np.zeros((c_out, n))")],
            "receptive_field": [("field += dilation * (size - 1) * jump", "field += dilation * (size - 1)")],
            "max_pool1d_backward": [("np.add.at(grad_x, (rows, winner), grad_out[:, i])",
                                     "grad_x[rows, winner] = grad_out[:, i]")],
            "gradient_check": [("x[j] = saved - h", "x[j] = saved"), ("/ (2 * h)", "/ h")],
        }, {"test_conv1d", "test_conv1d_multi", "test_receptive_field", "test_max_pool1d_backward",
            "test_gradient_check"}),
    },
    "ps2": {
        "mutant_a": ({
            "make_fc": [("nn.Linear(135, 60), nn.ReLU(),", "nn.Linear(135, 60),")],
            "shuffle_positions": [("permutation(x.shape[-1]))", "permutation(x.shape[0]))"),
                                  ("return x[..., order]", "return x[order]")],
        }, {"test_make_fc", "test_shuffle_positions"}),
        "mutant_b": ({
            "compare": [("evaluate(cnn, x_test, y_test), evaluate(fc, x_test, y_test)",
                         "evaluate(cnn, x_train, y_train), evaluate(fc, x_train, y_train)")],
        }, {"test_compare"}),
        # these functions feed the comparison of exercise 5, which then fails too
        "mutant_c": ({
            "make_cnn": [("nn.Linear(60, 10))", "nn.Linear(60, 10, bias=False))")],
            "train": [("        optimizer.zero_grad()\n", "")],
            "evaluate": [(".float().mean().item()", ".float().sum().item()")],
        }, {"test_make_cnn", "test_train", "test_evaluate", "test_compare"}),
    },
    "ps3": {
        "mutant_a": ({
            "feature_shapes": [("+ 2 * padding) // stride", ") // stride")],
            "basic_block": [("return F.relu(out + self.shortcut(x))", "return out + self.shortcut(x)")],
            "vgg_param_count": [("total += item * (channels * 9 + 1)", "total += item * channels * 9")],
        }, {"test_feature_shapes", "test_basic_block", "test_vgg_param_count"}),
        "mutant_b": ({
            "vgg_block": [("3, padding=1)", "3)")],
            "inception": [("nn.Sequential(nn.Conv2d(in_channels, c1, 1), nn.ReLU())",
                           "nn.Sequential(nn.Conv2d(in_channels, c1, 1))")],
            "fc_to_conv": [("linear.weight.reshape(linear.out_features, in_channels, size, size)",
                            "linear.weight.reshape(linear.out_features, size, size, in_channels).permute(0, 3, 1, 2)")],
        }, {"test_vgg_block", "test_inception", "test_fc_to_conv"}),
    },
}

# A hostile learner: no-op check functions, patched comparison helpers and builtins, and answers
# that claim to equal anything.
HOSTILE_PREAMBLE = '''import builtins, numpy, torch
import cnncourse.checks


class Liar:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    __le__ = __gt__ = __ge__ = __lt__
    def __float__(self): return 0.0
    def __int__(self): return 0
    def __index__(self): return 0
    def __bool__(self): return True
    def __abs__(self): return 0.0
    def __sub__(self, other): return 0.0
    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __sub__
    def __len__(self): return 0
    def __iter__(self): return iter(())
    def __getitem__(self, key): return self
    def __call__(self, *args, **kwargs): return self
    def __getattr__(self, name): return self
    def __format__(self, spec): return "ok"


def _yes(*args, **kwargs): return True
def _none(*args, **kwargs): return None
check_array = check_close = check_type = _none
for _name in ("check_array", "check_close", "check_type"):
    setattr(cnncourse.checks, _name, _none)
numpy.allclose = numpy.array_equal = _yes
numpy.isclose = lambda *a, **k: numpy.ones(1, dtype=bool)
numpy.testing.assert_allclose = numpy.testing.assert_array_equal = numpy.testing.assert_equal = _none
torch.allclose = torch.equal = _yes
torch.testing.assert_close = _none
builtins.abs = lambda x: 0.0
builtins.all = builtins.any = _yes
builtins.round = lambda *a, **k: 0
'''
HOSTILE_TOPLEVEL = {"compare": "cnn = fc = Liar()\ncnn_acc = fc_acc = Liar()\ncnn_losses = fc_losses = []"}


def _read(path):
    return nbformat.read(path, as_version=4)


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _fill(source, replacement):
    """Replace every solution region of ``source`` by ``replacement(indent, before)``."""
    out, region, indent = [], False, ""
    for line in source.splitlines():
        if MARKER.match(line):
            region = "BEGIN" in line
            indent = line[:len(line) - len(line.lstrip())]
            if region:
                out.append(indent + replacement(out))
            continue
        if not region:
            out.append(line)
    return "\n".join(out)


def _answers(name):
    """Solution cells of a set: {grade_id: source as a learner would submit it (no markers)}."""
    nb = _read(ROOT / "solutions" / name / f"{name}.ipynb")
    return {_nbgrader(c)["grade_id"]: "\n".join(l for l in c.source.splitlines() if not MARKER.match(l))
            for c in nb.cells if _nbgrader(c).get("solution")}


def _hostile(source, grade_id):
    if grade_id in HOSTILE_TOPLEVEL:
        return HOSTILE_TOPLEVEL[grade_id]

    def body(before):
        inside_init = next((l for l in reversed(before) if l.lstrip().startswith("def ")), "").lstrip().startswith("def __init__")
        return "pass" if inside_init else "return Liar()"
    return _fill(source, body)


def submission(name, kind, edits=None):
    """A learner's notebook: the committed release with its solution cells filled in."""
    nb = _read(ROOT / "assignments" / name / f"{name}.ipynb")
    if kind == "untouched":
        return nb
    answers = _answers(name)
    first = True
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if not meta.get("solution") or cell.cell_type != "code":
            continue
        grade_id = meta["grade_id"]
        source = answers[grade_id]
        if kind == "hostile":
            source = _hostile(_read_solution_cell(name, grade_id), grade_id)
            if first:
                source = HOSTILE_PREAMBLE + "\n\n" + source
                first = False
        for old, new in (edits or {}).get(grade_id, []):
            assert old in source, f"{name}/{grade_id}: mutant text {old!r} not found"
            source = source.replace(old, new)
        cell.source = source
    return nb


def _read_solution_cell(name, grade_id):
    nb = _read(ROOT / "solutions" / name / f"{name}.ipynb")
    return next(c.source for c in nb.cells if _nbgrader(c).get("grade_id") == grade_id)


def graded_cells(name):
    """Autograded test cells of a set: {grade_id: points}."""
    nb = _read(ROOT / "solutions" / name / f"{name}.ipynb")
    return {_nbgrader(c)["grade_id"]: _nbgrader(c)["points"] for c in nb.cells
            if _nbgrader(c).get("grade") and c.cell_type == "code"}


def students(name):
    table = {"solution": submission(name, "solution"), "untouched": submission(name, "untouched"),
             "hostile": submission(name, "hostile")}
    for student, (edits, _) in MUTANTS[name].items():
        table[student] = submission(name, "mutant", edits)
    return table


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with its own gradebook and a fresh release; ``course["grade"](name)``
    autogrades all submissions of one set (once per module) and returns their scores."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "solutions", root / "solutions")
    work = root / "grader-work"
    generated = release.generate(SETS, root=root, work=work)
    config = release.course_config(root, work)
    state = {"root": root, "work": work, "generated": generated, "scores": {}, "logs": {}, "seconds": {}}
    graded = set()

    def grade(name):
        if name not in graded:
            _autograde(name, config, state)
            graded.add(name)
        return state

    state["grade"] = grade
    return state


def _autograde(name, config, state):
    from nbgrader.api import Gradebook

    api = release.api_for(config)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    table = students(name)
    for student, nb in table.items():
        path = state["work"] / "submitted" / student / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    for student in table:
        start = time.perf_counter()
        state["logs"][name, student] = api.autograde(name, student)
        state["seconds"][name, student] = time.perf_counter() - start
    with Gradebook(config.CourseDirectory.db_url, "cnn-course") as gb:
        for student in table:
            notebook = gb.find_submission_notebook(name, name, student)
            state["scores"][name, student] = {g.name: g.score for g in notebook.grades
                                              if g.cell.cell_type == "code"}


@pytest.mark.parametrize("name", SETS)
def test_committed_release_is_what_nbgrader_generates(course, name):
    fresh = course["root"] / "assignments" / name / f"{name}.ipynb"
    committed = ROOT / "assignments" / name / f"{name}.ipynb"
    assert fresh in course["generated"]
    assert committed.read_bytes() == fresh.read_bytes(), (
        f"assignments/{name} differs from what nbgrader generates from solutions/{name}: "
        "run `cnn-grader release` and commit the result")


@pytest.mark.parametrize("name", SETS)
def test_release_hides_solutions_and_hidden_tests(name):
    text = (ROOT / "assignments" / name / f"{name}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text and "_strict" not in text
    assert "raise NotImplementedError()" in text
    nb = json.loads(text)
    ids = [c["id"] for c in nb["cells"]]
    assert len(set(ids)) == len(ids) and all(not c.get("outputs") for c in nb["cells"])


def test_regenerating_is_byte_identical(course):
    before = {p: p.read_bytes() for p in course["generated"]}
    again = release.generate(["ps1"], root=course["root"], work=course["work"])
    assert all(p.read_bytes() == before[p] for p in again)


@pytest.mark.parametrize("name", SETS)
def test_solutions_get_full_marks(course, name, record_property):
    course = course["grade"](name)
    assert course["logs"][name, "solution"]["success"], course["logs"][name, "solution"].get("error")
    record_property("autograde_seconds", round(course["seconds"][name, "solution"], 1))
    assert course["scores"][name, "solution"] == graded_cells(name)


@pytest.mark.parametrize("name", SETS)
def test_untouched_release_scores_zero_without_pipeline_errors(course, name):
    course = course["grade"](name)
    assert course["logs"][name, "untouched"]["success"], course["logs"][name, "untouched"].get("error")
    assert (course["work"] / "autograded" / "untouched" / name / f"{name}.ipynb").exists()
    assert set(course["scores"][name, "untouched"]) == set(graded_cells(name))
    assert sum(course["scores"][name, "untouched"].values()) == 0


@pytest.mark.parametrize("name,student", [(n, s) for n in SETS for s in MUTANTS[n]])
def test_plausible_wrong_answer_loses_exactly_its_points(course, name, student):
    course = course["grade"](name)
    assert course["logs"][name, student]["success"], course["logs"][name, student].get("error")
    points = graded_cells(name)
    lost = MUTANTS[name][student][1]
    expected = {cell: (0.0 if cell in lost else p) for cell, p in points.items()}
    assert course["scores"][name, student] == expected


@pytest.mark.parametrize("name", SETS)
def test_hostile_answers_earn_nothing(course, name):
    course = course["grade"](name)
    assert course["logs"][name, "hostile"]["success"], course["logs"][name, "hostile"].get("error")
    assert sum(course["scores"][name, "hostile"].values()) == 0, course["scores"][name, "hostile"]


def test_sets_state_their_totals():
    for name in SETS:
        nb = _read(ROOT / "solutions" / name / f"{name}.ipynb")
        total = sum(_nbgrader(c).get("points", 0) for c in nb.cells if _nbgrader(c).get("grade"))
        assert f"Total: {total:g} points" in nb.cells[0].source, name
        assert f"exactly `{name}.ipynb`" in nb.cells[0].source
