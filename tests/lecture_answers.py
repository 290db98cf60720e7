"""The answer a lecture shows for an exercise: the Python code block of the ``<details>`` block
that defines the function, run in a fresh namespace, so tests check the answer learners see."""

import json
import re

from conftest import ROOT

_DETAILS = re.compile(r"<details>.*?</details>", re.S)
_CODE = re.compile(r"```python\n(.*?)```", re.S)
PRELUDE = "import numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"


def answer(notebook, name):
    """The function ``name`` as defined in an answer block of ``notebook`` (a path under the repo)."""
    cells = json.loads((ROOT / notebook).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        text = "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""
        for block in _DETAILS.findall(text):
            for code in _CODE.findall(block):
                if re.search(rf"^def {name}\(", code, re.M):
                    namespace = {}
                    exec(PRELUDE + code, namespace)
                    return namespace[name]
    raise LookupError(f"{notebook}: no <details> answer defines {name}()")


def answers(notebook):
    """Every answer block of ``notebook`` run in order in one namespace (later answers may call
    earlier ones, as they do in the lecture)."""
    namespace = {}
    exec(PRELUDE, namespace)
    cells = json.loads((ROOT / notebook).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for block in _DETAILS.findall("".join(cell["source"])):
                for code in _CODE.findall(block):
                    exec(code, namespace)
    return namespace
