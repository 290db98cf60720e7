"""The graded problem sets, end to end: nbgrader's release, cnn-grader's judge, nbgrader's gradebook.

Every source in solutions/ generates; the committed release in assignments/ is byte-identical to a
fresh generation; the judge gives the solutions full marks and the untouched release zero; a
plausible wrong answer to an exercise costs exactly that exercise's points; hostile answers (objects
with a custom ``__eq__``, patched comparison helpers and builtins, no-op check functions) earn nothing.

One course directory per set; all submissions of a set are graded in one ``autograde`` run.
"""

import json
import re
import shutil

import nbformat
import pytest

from cnngrader import release
from cnngrader.autograde import Options, autograde
from cnngrader.sandbox import Limits
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
            "conv1d_backward": [("flipped = w[:, :, ::-1]", "flipped = w")],     # the kernel not flipped
        }, {"test_conv_output_size", "test_conv1d_matrix", "test_conv1d_param_count", "test_max_pool1d",
            "test_mean_pool1d", "test_conv1d_backward"}),
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
            "design": [("layers = [(20, 1), (2, 20)]", "layers = [(40, 1)]")],     # right field, not the fewest
        }, {"test_make_fc", "test_shuffle_positions", "test_design"}),
        "mutant_b": ({      # the CNN barely trained: whatever it prints, new signals show it
            "compare": [("cnn_losses = train(cnn, x_train, y_train)",
                         "cnn_losses = train(cnn, x_train[:50], y_train[:50], steps=3)")],
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
            "inception_params": [("return c_out * (c_in * size * size + 1)", "return c_out * c_in * size * size")],
        }, {"test_vgg_block", "test_inception", "test_fc_to_conv", "test_inception_params"}),
    },
}

# Borrowed answers: student -> ({solution cell: new source}, {test cell: a word its reason must name}).
# Every other item keeps its points (the key's answers stay in the other cells).
BORROWERS = {
    "ps1": {
        "borrower_a": ({
            "conv_output_size": "from cnncourse import shapes as s\n\n\ndef conv_output_size(W, kernel_size, stride=1, "
                                "padding=0, dilation=1):\n    return s.conv_output_size(W, kernel_size, stride, padding, dilation)",
            "conv1d": "import torch\nimport torch.nn.functional as F\n\nconv1d = lambda x, w, b=0.0, stride=1, padding=0, "
                      "dilation=1: F.conv1d(torch.tensor(x)[None, None], torch.tensor(w)[None, None], "
                      "torch.tensor([float(b)], dtype=torch.float64), stride=stride, padding=padding, "
                      "dilation=dilation)[0, 0].numpy()",
            "receptive_field": "import importlib\n\n\ndef receptive_field(layers):\n"
                               "    return importlib.import_module('cnncourse.' + 'shapes').receptive_field(layers)",
            "max_pool1d": "def max_pool1d(x, size, stride):\n    return cnncourse.pooling.pool1d(x, size, stride)",
        }, {"test_conv_output_size": "cnncourse.shapes.conv_output_size", "test_conv1d": "torch",
            "test_receptive_field": "importlib", "test_max_pool1d": "cnncourse.pooling.pool1d"}),
        "borrower_b": ({
            "conv1d_multi": "def conv1d_multi(x, w, b, stride=1, padding=0, dilation=1):\n"
                            "    from cnncourse.conv1d import conv1d_multi as ref\n"
                            "    return ref(x, w, b, stride=stride, dilation=dilation, padding=padding)",
            "conv1d_param_count": "conv1d_param_count = lambda ci, co, k, bias=True: "
                                  "cnncourse.shapes.conv_params(ci, co, k, bias=bias)",
        }, {"test_conv1d_multi": "cnncourse.conv1d.conv1d_multi", "test_conv1d_param_count": "cnncourse.shapes"}),
    },
    "ps2": {},
    "ps3": {
        "borrower_a": ({
            "vgg_param_count": "def vgg_param_count(config, in_channels=3, image_size=224, fc=(4096, 4096), "
                               "num_classes=1000):\n    from cnncourse.models.vgg import VGG\n"
                               "    return sum(p.numel() for p in VGG(config, num_classes).parameters())",
            # an exercise that asks for the formula, answered by measuring a network
            "feature_shapes": "def feature_shapes(input_shape, layers):\n"
                              "    x, shapes = torch.zeros(1, *input_shape, device='meta'), []\n"
                              "    for layer in layers:\n"
                              "        x = (nn.Conv2d(x.shape[1], *layer[1:], device='meta') if layer[0] == 'conv'\n"
                              "             else nn.MaxPool2d(*layer[1:]))(x)\n"
                              "        shapes.append(tuple(x.shape[1:]))\n"
                              "    return shapes",
        }, {"test_vgg_param_count": "cnncourse.models.vgg", "test_feature_shapes": "torch"}),
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
    for student, (sources, _) in BORROWERS[name].items():
        table[student] = submission(name, "borrower")
        for cell in table[student].cells:
            table[student].cells[table[student].cells.index(cell)].source = sources.get(
                _nbgrader(cell).get("grade_id"), cell.source)
    return table


SEED = 20261130


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with a fresh release; ``course["grade"](name)`` grades every submission
    of one set with cnn-grader (once per module) and returns the state with their scores."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "solutions", root / "solutions")
    work = root / "grader-work"
    generated = release.generate(SETS, root=root, work=work)
    state = {"root": root, "work": work, "generated": generated, "scores": {}, "rows": {}}
    graded = set()

    def grade(name):
        if name not in graded:
            _autograde(name, state)
            graded.add(name)
        return state

    state["grade"] = grade
    return state


def _autograde(name, state):
    from nbgrader.api import Gradebook

    subs = state["root"] / "subs" / name
    subs.mkdir(parents=True)
    table = students(name)
    for student, nb in table.items():
        nbformat.write(nb, subs / f"{student}.ipynb")
    course_dir = state["root"] / "graded" / name
    rows = autograde(name, subs, course_dir / "out", course_dir=course_dir, solutions=state["root"] / "solutions",
                     options=Options(workers=1, seed=SEED, limits=Limits(timeout=120), progress=False))
    state["rows"].update({(name, r.student): r for r in rows})
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", "cnn-course") as gb:
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
def test_release_hides_solutions(name):
    text = (ROOT / "assignments" / name / f"{name}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in text
    nb = json.loads(text)
    ids = [c["id"] for c in nb["cells"]]
    assert len(set(ids)) == len(ids) and all(not c.get("outputs") for c in nb["cells"])


def test_regenerating_is_byte_identical(course):
    before = {p: p.read_bytes() for p in course["generated"]}
    again = release.generate(["ps1"], root=course["root"], work=course["work"])
    assert all(p.read_bytes() == before[p] for p in again)


@pytest.mark.parametrize("name", SETS)
def test_solutions_get_full_marks(course, name):
    course = course["grade"](name)
    row = course["rows"][name, "solution"]
    assert row.status == "graded" and row.reason.startswith("every judged test passed"), row
    assert course["scores"][name, "solution"] == graded_cells(name)


@pytest.mark.parametrize("name", SETS)
def test_untouched_release_scores_zero_without_pipeline_errors(course, name):
    course = course["grade"](name)
    assert course["rows"][name, "untouched"].status == "graded"
    assert "not attempted" in course["rows"][name, "untouched"].reason
    assert set(course["scores"][name, "untouched"]) == set(graded_cells(name))
    assert sum(course["scores"][name, "untouched"].values()) == 0


@pytest.mark.parametrize("name,student", [(n, s) for n in SETS for s in MUTANTS[n]])
def test_plausible_wrong_answer_loses_exactly_its_points(course, name, student):
    course = course["grade"](name)
    assert course["rows"][name, student].status == "graded", course["rows"][name, student]
    points = graded_cells(name)
    lost = MUTANTS[name][student][1]
    expected = {cell: (0.0 if cell in lost else p) for cell, p in points.items()}
    assert course["scores"][name, student] == expected


@pytest.mark.parametrize("name,student", [(n, s) for n in SETS for s in BORROWERS[n]])
def test_borrowed_answer_scores_zero_on_its_item_with_the_reason(course, name, student):
    course = course["grade"](name)
    row = course["rows"][name, student]
    assert row.status == "graded", row
    named = BORROWERS[name][student][1]
    expected = {cell: (0.0 if cell in named else p) for cell, p in graded_cells(name).items()}
    assert course["scores"][name, student] == expected
    for cell, word in named.items():
        assert re.search(rf"{cell} 0/\d+: borrow\w*[^;]*{re.escape(word)}", row.reason), (cell, word, row.reason)


@pytest.mark.parametrize("name", SETS)
def test_copies_of_the_key_are_flagged_not_penalised(course, name):
    course = course["grade"](name)
    rows = {s: r for (n, s), r in course["rows"].items() if n == name}
    flagged = {s for s, r in rows.items() if any("answer key" in f for f in r.flags)}
    assert "solution" in flagged and "untouched" not in flagged and "hostile" not in flagged, flagged
    assert set(MUTANTS[name]) <= flagged           # the key with one slip per exercise is still the key
    lines = (course["root"] / "graded" / name / "out" / "similarity.csv").read_text().splitlines()
    assert lines[0] == "student_a,student_b,similarity,answer_cells_compared"
    assert any(line.startswith("mutant_a,solution,") for line in lines[1:]), lines


@pytest.mark.parametrize("name", SETS)
def test_hostile_answers_earn_nothing(course, name):
    course = course["grade"](name)
    assert course["rows"][name, "hostile"].status in ("graded", "crashed"), course["rows"][name, "hostile"]
    assert sum(course["scores"][name, "hostile"].values()) == 0, course["scores"][name, "hostile"]


def test_sets_state_their_totals():
    for name in SETS:
        nb = _read(ROOT / "solutions" / name / f"{name}.ipynb")
        total = sum(_nbgrader(c).get("points", 0) for c in nb.cells if _nbgrader(c).get("grade"))
        assert f"Total: {total:g} points" in nb.cells[0].source, name
        assert f"exactly `{name}.ipynb`" in nb.cells[0].source


def test_failure_messages_teach():
    """A wrong count names the case, the formula with its numbers, and the likely slip."""
    from cnncourse import problemsets
    from cnncourse.problemsets import ps1, ps2, ps3
    item = ps1.ITEMS["test_conv1d_param_count"]
    case = problemsets.case("conv1d_param_count(16, 32, 36)", "conv1d_param_count", 16, 32, 36, bias=True)
    assert item.judge(case, 18_432, 18_464) == ("conv1d_param_count(16, 32, 36): forgot the biases? There is one per "
                                                "output channel. expected 18,464 = 32·(16·36) + 32, got 18,432")
    field = ps1.ITEMS["test_receptive_field"]
    case = problemsets.case("receptive_field(three stride-2 layers)", "receptive_field", [(3, 2, 1)] * 3)
    assert "forgot the jump?" in field.judge(case, 7, 15)
    design = ps2.ITEMS["test_design"]
    case = design.cases(None, False)[0]
    assert "skipped" in design.judge(case, [(3, 1), (3, 9)], None)
    assert "but 304 suffice" in design.judge(case, [(40, 1)], None)
    assert design.judge(case, [(20, 1), (2, 20)], None) is None and ps2.fewest_params() == 304
    predict = ps3.ITEMS["test_inception_params"]
    case = predict.cases(None, True)[0]
    assert "forgot branch 4?" in predict.judge(case, 163_696 - 32 * 193, 163_696)
