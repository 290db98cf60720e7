"""Borrowed answers: the grader reads a submission's code and zeroes each item that reaches the course's
reference code or a library shortcut, whatever the import form (no notebook is executed here)."""

import nbformat
import pytest

from cnncourse import problemsets
from cnngrader import borrowing
from cnngrader.gradebook import runs_in_sandbox
from conftest import ROOT


class Judge:
    """What ``borrowing.check`` needs of the judge: the set's module, items and drawn cases."""

    def __init__(self, name):
        self.module = problemsets.load(name)
        self.items = list(self.module.ITEMS.values())
        self.cases = {i.grade_id: problemsets.draw(i, 1, k) for k, i in enumerate(self.items)}


def _solution(name):
    nb = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        cell.source = "\n".join(l for l in cell.source.splitlines() if "### " not in l)
    return nb


def check(name, replace=None, extra=""):
    """``borrowing.check`` (reasons, flags) of the answer key of ``name`` with answer cells replaced and an
    extra cell."""
    nb = _solution(name)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if replace and gid in replace:
            cell.source = replace[gid]
    nb.cells.append(nbformat.v4.new_code_cell(extra))
    return borrowing.check(Judge(name), [c for c in nb.cells if runs_in_sandbox(c)])


def reasons(name, replace=None, extra=""):
    return check(name, replace, extra)[0]


ITEMS = set(problemsets.load("ps1").ITEMS)


def borrowed(result):
    return {gid: why for gid, why in result.items() if why}


@pytest.mark.parametrize("name", ["ps1", "ps2", "ps3"])
def test_answer_keys_borrow_nothing(name):
    verdicts, flags = check(name)
    assert borrowed(verdicts) == {} and flags == []


def test_a_forbidden_library_no_answer_reaches_is_flagged_for_the_instructor():
    # torch in ps1, where the reader links it to no answer (a container alias it does not follow)
    extra = "import torch\nbox = [{}]\nbox[0]['f'] = torch.nn.functional.conv1d\n"
    verdicts, flags = check("ps1", extra=extra)
    assert borrowed(verdicts) == {} and len(flags) == 1 and "uses torch, which graded answers may not" in flags[0]
    # an item that lost its points for it needs no flag; the standard library is not flagged
    verdicts, flags = check("ps1", {"conv1d": "import torch\n" + CONV.format("torch.ones(3)")}, "import os\nos.getcwd()")
    assert set(borrowed(verdicts)) == {"test_conv1d"} and flags == []


CONV = "def conv1d(x, w, b=0.0, stride=1, padding=0, dilation=1):\n    return {}\n"
WRAPPERS = {
    "from the module": ("from cnncourse.conv1d import conv1d as ref\n" + CONV.format("ref(x, w, b, stride, padding, dilation)"),
                        "cnncourse.conv1d.conv1d"),
    "module alias": ("from cnncourse import conv1d as c\n" + CONV.format("c.conv1d(x, w, b, stride, padding, dilation)"),
                     "cnncourse.conv1d.conv1d"),
    "the setup cell's import": (CONV.format("cnncourse.conv1d.conv1d(x, w)"), "cnncourse.conv1d.conv1d"),
    "the visible reference": (CONV.format("ps1.ITEMS['test_conv1d'].reference['conv1d'](x, w)"),
                              "cnncourse.problemsets.ps1.ITEMS"),
    "importlib": ("import importlib\n" + CONV.format("importlib.import_module('cnn' + 'course.conv1d').conv1d(x, w)"),
                  "importlib"),
    "__import__": (CONV.format("__import__('cnncourse.conv1d').conv1d.conv1d(x, w)"), "__import__"),
    "import inside": ("def conv1d(x, w, b=0.0, stride=1, padding=0, dilation=1):\n"
                      "    import torch.nn.functional as G\n    import torch\n"
                      "    return G.conv1d(torch.tensor(x)[None, None], torch.tensor(w)[None, None])[0, 0].numpy()\n",
                      "torch"),
    "F.conv1d lambda": ("import torch\nimport torch.nn.functional as F\n"
                        "conv1d = lambda x, w, b=0.0, stride=1, padding=0, dilation=1: "
                        "F.conv1d(torch.tensor(x)[None, None], torch.tensor(w)[None, None])[0, 0].numpy() + b\n",
                        "torch.nn.functional.conv1d"),
    "np.convolve": (CONV.format("np.convolve(x, w[::-1], 'valid') + b"), "numpy.convolve"),
    "np.correlate by a star import": ("from numpy import *\n" + CONV.format("correlate(x, w) + b"), "numpy.correlate"),
    "the same function by another path": (CONV.format("np._core.numeric.convolve(x, w[::-1], 'valid') + b"),
                                          "numpy.convolve"),
    "getattr with a literal": (CONV.format("getattr(np, 'correlate')(x, w) + b"), "numpy.correlate"),
    "getattr with a computed name": (CONV.format("getattr(np, 'corr' + 'elate')(x, w) + b"), "computed name"),
    "sys.modules": ("import sys\n" + CONV.format("sys.modules['cnncourse.conv1d'].conv1d(x, w)"), "sys.modules"),
    "polymul convolves": (CONV.format("np.polymul(x, w[::-1])[len(w) - 1:len(x)] + b"), "numpy.polymul"),
    "scipy": ("import scipy.signal as sig\n" + CONV.format("sig.correlate(x, w, 'valid') + b"), "scipy.signal"),
    # numpy's convolutions under other public or private names (a student who read the forbidden list)
    "numpy.ma's convolve": (CONV.format("np.ma.convolve(x, w[::-1], 'valid') + b"), "numpy.ma.convolve"),
    "numpy.ma.core's correlate": (CONV.format("np.ma.core.correlate(x, w, 'valid') + b"), "numpy.ma.correlate"),
    "a private module": (CONV.format("np._core.multiarray.correlate2(x, w, 0) + b"), "numpy._core, a private"),
    "a private module under a public name": (CONV.format("np.lib.mixins.um.correlate2(x, w, 0) + b"),
                                             "the module numpy._core.umath"),
    "numpy.testing hands out numpy's functions": (
        CONV.format("[f for f in np.testing.overrides.get_overridable_numpy_array_functions()\n"
                    "            if f.__name__ == 'convolve'][0](x, w[::-1], 'valid') + b"), "numpy.testing"),
    # what a string or a file names, imported by an allowed library: never read by the grader
    "a pickle np.load unpickles": ("def conv1d(x, w, b=0.0, stride=1, padding=0, dilation=1):\n"
                                   "    open('p.bin', 'wb').write(b'ccnncourse.conv1d\\nconv1d\\n.')\n"
                                   "    return np.load('p.bin', allow_pickle=True)(x, w, b, stride, padding, dilation)\n",
                                   "numpy.load"),
    "a matplotlib backend named as a module": (
        "import matplotlib.backends\n" + CONV.format(
            "matplotlib.backends.backend_registry.load_backend_module('module://cnncourse.conv1d').conv1d(x, w)"),
        "matplotlib.backends"),
    "the same loader by another path": ("import matplotlib.pyplot as plt\n" + CONV.format(
        "plt.matplotlib.use('module://cnncourse.conv1d') or 0"), "(matplotlib.use)"),
    "a string annotation evaluated": ("import typing\n\ndef _h(a: \"__import__('cnncourse.conv1d').conv1d.conv1d\"): pass\n"
                                      + CONV.format("typing.get_type_hints(_h)['a'](x, w)"), "typing.get_type_hints"),
    "getattr passed as a value": ("import functools\n" + CONV.format("functools.reduce(getattr, ['convolve'], np)(x, w)"),
                                  "getattr passed as a value"),
    "a namespace read by a dunder key": (CONV.format("namespace['__builtins__'].eval('1')"), "the key '__builtins__'"),
    "a shell command's output": ("def conv1d(x, w, b=0.0, stride=1, padding=0, dilation=1):\n"
                                 "    out = %system python -c \"print(1)\"\n    return np.array(out, float)\n", "%system"),
}


@pytest.mark.parametrize("how", sorted(WRAPPERS))
def test_wrapping_a_reference_or_shortcut_zeroes_that_item(how):
    source, named = WRAPPERS[how]
    result = borrowed(reasons("ps1", {"conv1d": source}))
    assert set(result) == {"test_conv1d"}, result
    assert named in result["test_conv1d"], result["test_conv1d"]


def test_private_parts_of_a_library_count_on_every_item():
    pool = ("def max_pool1d(x, size, stride):\n"
            "    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=-1)[..., ::stride, :]\n"
            "    return np._core.umath.maximum.reduce(windows, axis=-1)\n")
    result = borrowed(reasons("ps1", {"max_pool1d": pool}))   # (every item: the notebook also calls it outside)
    assert "numpy._core" in result["test_max_pool1d"] and "private part" in result["test_max_pool1d"], result
    # where PyTorch is allowed, a private module re-exports importlib.import_module
    cnn = "def make_cnn():\n    return torch.distributed._tensor.import_module('cnncourse.models').book_cnn()\n"
    result = borrowed(reasons("ps2", {"make_cnn": cnn}))
    assert "torch.distributed._tensor" in result["test_make_cnn"], result


@pytest.mark.parametrize("source, named", [
    ("def make_cnn():\n    return torch.load('net.pt', weights_only=False)\n", "torch.load"),
    ("import torch.utils.benchmark as tb\n\ndef make_cnn():\n    g = {}\n"
     "    tb.Timer(stmt=\"g['m'] = 1\", globals={'g': g}).timeit(1)\n    return g['m']\n", "torch.utils.benchmark"),
    ("def make_cnn():\n    return torch.hub.load('.', 'cnn', source='local')\n", "torch.hub"),
], ids=["torch.load", "torch.utils.benchmark runs a string", "torch.hub"])
def test_torch_loaders_are_not_followed(source, named):
    result = borrowed(reasons("ps2", {"make_cnn": source}))
    assert named in result["test_make_cnn"], result   # (every item: the notebook also calls it outside)


SERVER = "def _serve():\n    import torch\n    RESULT.append(torch.nn.functional.conv1d)\n\nRESULT = []\n"
BESIDE = {  # code outside the graded functions starts something that computes beside them
    "a thread": (SERVER + "import threading\nthreading.Thread(target=_serve).start()\n", "threading.Thread"),
    "a thread started by a helper": (SERVER + "from threading import Thread\n\ndef setup():\n"
                                     "    Thread(target=_serve).start()\n\nsetup()\n", "threading.Thread"),
    "a decorator": (SERVER + "import threading\n\n@lambda f: threading.Thread(target=f).start() or f\n"
                    "def g():\n    _serve()\n", "threading.Thread"),
    "a class body": ("import subprocess, sys\n\nclass Helper:\n"
                     "    proc = subprocess.Popen([sys.executable, '-c', 'import cnncourse'])\n", "subprocess.Popen"),
    "a process": ("import os\nif os.fork() == 0:\n    os._exit(0)\n", "os.fork"),
    "a numpy error callback": (SERVER + "np.seterrcall(lambda *a: _serve())\nnp.seterr(all='call')\n",
                               "numpy.seterrcall"),
    "a tracer": ("import sys\nsys.settrace(None)\n", "sys.settrace"),
    "%config runs code": ("%config InlineBackend.figure_format = __import__('cnncourse.conv1d')", "__import__"),
    "%matplotlib with a module backend": ("%matplotlib module://helper", "the magic %matplotlib"),
    "locals() holds the builtins": ("B = locals()['__builtins__']", "locals()"),
    "an import by name": ("import importlib\nimportlib.import_module('threading').Thread(target=print).start()\n",
                          "importlib.import_module, which imports or runs code by name"),
    "a private module": ("np._core.numeric.zeros(3)\n", "numpy._core.numeric.zeros, a private part"),
}


def test_a_global_hook_on_every_network_zeroes_every_item():
    hook = "torch.nn.modules.module.register_module_forward_hook(lambda module, args, out: out)\n"
    result = borrowed(reasons("ps2", extra=hook))
    assert set(result) == set(problemsets.load("ps2").ITEMS), result
    assert "register_module_forward_hook, which runs code beside" in result["test_make_cnn"], result


@pytest.mark.parametrize("how", sorted(BESIDE))
def test_code_outside_the_graded_functions_that_runs_beside_them_zeroes_every_item(how):
    source, named = BESIDE[how]
    result = borrowed(reasons("ps1", extra=source))
    assert set(result) == ITEMS, result
    assert named in result["test_conv1d"], result["test_conv1d"]


def test_a_helper_in_another_cell_is_followed_and_callers_lose_too():
    helper = "import cnncourse.shapes as s\n\ndef helper(*args):\n    return s.conv_output_size(*args)\n"
    size = "def conv_output_size(W, kernel_size, stride=1, padding=0, dilation=1):\n    return helper(W, kernel_size, stride, padding, dilation)\n"
    result = borrowed(reasons("ps1", {"conv_output_size": size}, extra=helper))
    assert set(result) == {"test_conv_output_size"} and "cnncourse.shapes.conv_output_size" in result["test_conv_output_size"]
    matrix = "def conv1d_multi(x, w, b, stride=1, padding=0, dilation=1):\n    return conv1d(x[0], w[0, 0]) + b\n"
    result = borrowed(reasons("ps1", {"conv1d": CONV.format("np.convolve(x, w)"), "conv1d_multi": matrix}))
    assert set(result) == {"test_conv1d", "test_conv1d_multi"}


def test_a_patched_library_brings_the_patch_to_every_item():
    # the probe that calls the answers uses the libraries too: a patch runs wherever they do
    extra = "import cnncourse.pooling\nnp.my_pool = cnncourse.pooling.pool1d\n"
    result = borrowed(reasons("ps1", extra=extra))
    assert set(result) == ITEMS and "cnncourse.pooling.pool1d" in result["test_max_pool1d"], result
    probe = "import cnncourse.probe as P\n\ndef fake(*args):\n    import torch\n    return torch\n\nP.encode = fake\n"
    result = borrowed(reasons("ps1", extra=probe))
    assert set(result) == ITEMS and "torch" in result["test_conv1d"], result
    # made by a function that the cells call
    extra = "def setup():\n    np.asarray = lambda a, *k, **kw: a\n\nsetup()\n"
    result = borrowed(reasons("ps1", extra=extra))
    assert set(result) == ITEMS and "an assignment to np.asarray" in result["test_conv1d"], result
    # patches that bring nothing in cost nothing: the judge does not run here
    assert borrowed(reasons("ps1", extra="import torch, numpy\ntorch.equal = lambda a, b: True\n"
                                         "numpy.allclose = lambda *a, **k: True")) == {}


WRITTEN = {  # what an answer reads, filled in by code it never calls
    "a cache filled by a function the cells call": (
        "CACHE = {}\n\ndef _fill():\n    import torch\n    CACHE['f'] = torch.nn.functional.conv1d\n\n_fill()\n",
        CONV.format("CACHE['f'](x, w)")),
    "a list a figure's callback fills": (
        "fig, ax = plt.subplots()\nRESULT = []\n\ndef _on_draw(event):\n    import torch\n"
        "    RESULT.append(torch.nn.functional.conv1d)\n\nfig.canvas.mpl_connect('draw_event', _on_draw)\n",
        CONV.format("fig.canvas.draw() or RESULT[-1](x, w)")),
    "a cache handed to a function": (
        "CACHE = {}\n\ndef _fill(d):\n    import torch\n    d['f'] = torch.nn.functional.conv1d\n\n_fill(CACHE)\n",
        CONV.format("CACHE['f'](x, w)")),
    "a cache filled through an alias": (
        "CACHE = {}\nd = CACHE\nimport torch\nd['f'] = torch.nn.functional.conv1d\n", CONV.format("CACHE['f'](x, w)")),
    "an alias inside a function": (
        "CACHE = {}\n\ndef _fill():\n    import torch\n    d = CACHE\n    d['f'] = torch.nn.functional.conv1d\n\n"
        "_fill()\n", CONV.format("CACHE['f'](x, w)")),
    "a global set through a declaration": (
        "def _set():\n    global SHORTCUT\n    import torch\n    SHORTCUT = torch.nn.functional.conv1d\n\n_set()\n",
        CONV.format("SHORTCUT(x, w)")),
}


@pytest.mark.parametrize("how", sorted(WRITTEN))
def test_what_changes_a_global_comes_with_it(how):
    extra, conv = WRITTEN[how]
    result = borrowed(reasons("ps1", {"conv1d": conv}, extra=extra))
    assert set(result) == {"test_conv1d"} and "torch.nn.functional.conv1d" in result["test_conv1d"], result


USE = CONV.format("CACHE['f'](x, w[::-1], 'valid') + b")
ALIASED = {  # what an answer reads, changed through an alias the reader never names: whatever uses it comes along
    "a container": "CACHE = {}\n[CACHE][0]['f'] = np.convolve\n",
    "a conditional": "CACHE = {}\n(CACHE if True else None)['f'] = np.convolve\n",
    "a loop variable": "CACHE = {}\nfor d in [CACHE]:\n    d['f'] = np.convolve\n",
    "a walrus": "CACHE = {}\n(d := CACHE)['f'] = np.convolve\n",
    "a lambda over map": "CACHE = {}\nlist(map(lambda d: d.update(f=np.convolve), [CACHE]))\n",
    "a variable in another cell": "CACHE = {}\nbox = [CACHE]\nimport sys\nbox[0]['f'] = np.convolve\n",
    "what a function returns": "CACHE = {}\n\ndef get():\n    return CACHE\n\nget()['f'] = np.convolve\n",
    "a function that keeps what it is handed": ("CACHE, KEPT = {}, []\n\ndef keep(v):\n    KEPT.append(v)\n\n"
                                                "keep(CACHE)\nKEPT[0]['f'] = np.convolve\n"),
    "a shallow copy": "import copy\nCACHE = {}\nbox = copy.copy([CACHE])\nbox[0]['f'] = np.convolve\n",
    "typing.cast hands it back": "import typing\nCACHE = {}\ntyping.cast(dict, CACHE)['f'] = np.convolve\n",
    "operator.setitem": "import operator\nCACHE = {}\noperator.setitem(CACHE, 'f', np.convolve)\n",
    "an unbound method": "CACHE = {}\ndict.update(CACHE, f=np.convolve)\n",
    "an attribute of an object": "class Box:\n    pass\n\nbox, CACHE = Box(), {}\nbox.d = CACHE\nbox.d['f'] = np.convolve\n",
    "an exception that carries it": ("CACHE = {}\n\ndef fail():\n    raise ValueError(CACHE)\n\ntry:\n    fail()\n"
                                     "except ValueError as e:\n    e.args[0]['f'] = np.convolve\n"),
    "a generator it is sent to": ("CACHE = {}\n\ndef fill():\n    d = yield\n    d['f'] = np.convolve\n    yield\n\n"
                                  "g = fill()\nnext(g)\ng.send(CACHE)\n"),
    "a parameter's default": "CACHE = {}\nfill = lambda d=CACHE: d.update(f=np.convolve)\nfill()\n",
    "a function of the notebook named like a builtin": "CACHE = {}\n\ndef print(d):\n    d['f'] = np.convolve\n\nprint(CACHE)\n",
    "a special method that keeps what it is compared with": (
        "CACHE = {}\n\nclass Keep:\n    def __eq__(self, other):\n        self.kept = other\n        return True\n\n"
        "k = Keep()\nk == CACHE\nk.kept['f'] = np.convolve\n"),
    "a closure returned with its state": ("def make():\n    c = {}\n    return (lambda x, w, *a: c['f'](x, w[::-1], 'valid')), c\n\n"
                                          "CACHE = {'f': None}\nconv1d, state = make()\nstate['f'] = np.convolve\n"),
}


@pytest.mark.parametrize("how", sorted(ALIASED))
def test_what_changes_a_global_through_an_alias_comes_with_it(how):
    result = borrowed(reasons("ps1", {"conv1d": USE}, extra=ALIASED[how]))
    assert set(result) == {"test_conv1d"} and "numpy.convolve" in result["test_conv1d"], result


def test_a_formula_item_may_not_read_what_a_network_computed_through_an_alias():
    count = ("CACHE = {}\n\ndef vgg_param_count(config, in_channels=3, image_size=224, fc=(4096, 4096), num_classes=1000):\n"
             "    return CACHE['f'](config)\n\nbox = [CACHE]\n"
             "box[0]['f'] = lambda config: sum(p.numel() for c in config if c != 'M' for p in nn.Conv2d(3, c, 3).parameters())\n")
    result = borrowed(reasons("ps3", {"vgg_param_count": count}))
    assert set(result) == {"test_vgg_param_count"} and "torch.nn.Conv2d" in result["test_vgg_param_count"], result


@pytest.mark.parametrize("extra, named", [
    ("[np][0].stack = lambda a, *k: np.convolve(a[0], a[1][::-1], 'valid')\n", "an attribute of a computed object"),
    ("type(np.zeros(1)).f = 1\n", "an attribute of a computed object"),
    ("m = np\nm.stack = lambda a, *k: np.convolve(a[0], a[1][::-1], 'valid')\n", "the module numpy as a value"),
    ("def setup(lib):\n    lib.stack = None\n\nsetup(np.linalg)\n", "the module numpy.linalg as a value"),
    ("def print(lib):\n    lib.stack = None\n\nprint(np)\n", "the module numpy as a value"),
], ids=["a container", "a computed class", "a module alias", "a module handed to a function",
        "a module handed to a function named like a builtin"])
def test_a_library_patched_through_an_object_the_reader_cannot_name_zeroes_every_item(extra, named):
    result = borrowed(reasons("ps1", extra=extra))
    assert set(result) == ITEMS and named in result["test_conv1d"], result


def test_code_outside_functions_that_cannot_be_followed_zeroes_every_item():
    result = borrowed(reasons("ps1", extra="exec('import cnncourse')"))
    assert set(result) == ITEMS and "exec" in result["test_conv1d"]


def test_honest_variants_are_not_flagged():
    honest = ("from numpy.lib.stride_tricks import sliding_window_view\nimport math\n\n"
              "def conv1d(x, w, b=0.0, stride=1, padding=0, dilation=1):\n"
              "    F = len(w)          # a local named like torch's F\n"
              "    import sys; print('debug', F, file=sys.stderr)\n"
              "    xp = np.pad(x, padding)\n"
              "    win = sliding_window_view(xp, dilation * (F - 1) + 1)[::stride, ::dilation]\n"
              "    return win @ w + b\n")
    extra = ("%timeit conv1d(np.ones(40), np.ones(3))\n%matplotlib inline\nprint(conv1d(np.ones(5), np.ones(2)))\n"
             "%config InlineBackend.figure_format = 'retina'\nwith np.errstate(divide='ignore'):\n"
             "    print(np.log(np.zeros(2)))\nfig, ax = plt.subplots()\nax.plot(conv1d(np.ones(9), np.ones(3)))\n"
             "class Trace:\n    def show(self, name):\n        return getattr(self, name)\n"
             "from IPython.display import HTML, display\ndisplay(HTML('<b>done</b>'))\nprint(np.__version__)\n"
             "print(np, type(np.linalg))\nhelp(np)\n")
    assert borrowed(reasons("ps1", {"conv1d": honest}, extra=extra)) == {}
    # a global the answer reads, and a check that hands it to a shortcut only: nothing there can change it
    kernel = ("KERNEL = np.array([1.0, 2.0])\n\n" + honest.replace("win @ w + b", "win @ w + b + 0 * KERNEL.sum()")
              + "\nprint(np.allclose(conv1d(np.ones(5), np.ones(2)), np.convolve(np.ones(5), KERNEL, 'valid')))\n")
    assert borrowed(reasons("ps1", {"conv1d": kernel})) == {}


def test_a_formula_item_may_read_a_table_that_a_network_is_built_from():
    # the item reads a global list; a check beside it builds layers from its rows, keeps them in other
    # variables and runs them: none of that can change the list
    shapes = _solution_cell("ps3", "feature_shapes").replace(
        "def feature_shapes(input_shape, layers):", "PADS = [0, 1]\n\ndef feature_shapes(input_shape, layers):").replace(
        "padding = 0", "padding = PADS[0]")
    check = ("convs, results = [], {}\nfor i, pad in enumerate(PADS):\n    convs.append(nn.Conv2d(3, 3, 3, 1, pad))\n"
             "net = nn.Sequential(*convs)\nnet.eval()\nresults['pads'] = PADS\nresults['net'] = net\n"
             "print(net(torch.zeros(1, 3, 8, 8)).shape, results)\n")
    assert borrowed(reasons("ps3", {"feature_shapes": shapes}, extra=check)) == {}


def test_plotting_while_training_is_not_borrowing():
    compare = _solution_cell("ps2", "compare") + ("\nfig, ax = plt.subplots()\nfor losses in (cnn_losses, fc_losses):\n"
                                                  "    lines = ax.plot(losses)\ncnn = cnn if lines else None\n")
    assert borrowed(reasons("ps2", {"compare": compare})) == {}


def test_formula_items_may_not_build_a_network():
    count = ("def vgg_param_count(config, in_channels=3, image_size=224, fc=(4096, 4096), num_classes=1000):\n"
             "    layers = [nn.Conv2d(3, c, 3) for c in config if c != 'M']\n"
             "    return sum(p.numel() for l in layers for p in l.parameters())\n")
    result = borrowed(reasons("ps3", {"vgg_param_count": count}))
    assert set(result) == {"test_vgg_param_count"} and "torch.nn.Conv2d" in result["test_vgg_param_count"]
    block = "import torchvision\n" + _solution_cell("ps3", "vgg_block")
    assert set(borrowed(reasons("ps3", {"vgg_block": block.replace("return nn.Sequential(", "return torchvision.ops.misc.Sequential(")}))) == {"test_vgg_block"}


def _solution_cell(name, gid):
    return next(c.source for c in _solution(name).cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
