"""A demo class made from the solutions: correct, partial, broken and hostile submissions.

``make_class`` writes one submission per kind (the tests use it too); ``run_demo`` grades them
with ``cnn-grader autograde`` and prints the table (``make course`` runs it).
"""

import copy
import json
import re
import shutil
from pathlib import Path

import nbformat

HOSTILE = {
    # name: (code inserted after the first answer cell, what it attempts)
    "hostile_loop": ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n"
                     "    pass", "an infinite loop that ignores SIGINT"),
    "hostile_exit": ("import os\nos._exit(0)", "kills its own process with os._exit"),
    "hostile_kill": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
                     "kills its own process with SIGKILL"),
    "hostile_snoop": ("import os\nfound = []\nfor base in ('..', '/tmp', '/root', '/home', '/work'):\n"
                      "    for root, dirs, files in os.walk(base):\n"
                      "        dirs[:] = [d for d in dirs if d not in ('site-packages', 'lib', '.git')]\n"
                      "        found += [os.path.join(root, f) for f in files\n"
                      "                  if 'gradebook' in f or root.endswith(('source', 'solutions'))]\n"
                      "print('FOUND', found)", "looks for the gradebook and the sources"),
    "hostile_network": ("import socket\ns = socket.create_connection(('1.1.1.1', 80), timeout=3)\n"
                        "print('NETWORK OPEN')", "opens a network connection"),
    "hostile_forkbomb": ("import os\nfor _ in range(100000):\n    try:\n        os.fork()\n"
                         "    except OSError:\n        pass", "a fork bomb"),
    "hostile_fanout": ("import os, time\nkids = []\nfor _ in range(3):\n    pid = os.fork()\n    if pid == 0:\n"
                       "        hold = b'x' * (1536 * 2**20)\n        time.sleep(5)\n        os._exit(0)\n"
                       "    kids.append(pid)\nprint('children ended with', "
                       "[os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids])",
                       "three processes of 1.5 GB each, 4.5 GB together"),
    "hostile_hog": ("import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n        os.setsid()\n"
                    "        while True:\n            pass\nprint('four busy processes started')\ntime.sleep(60)",
                    "leaves four busy processes running in the background"),
    "hostile_bigfile": ("with open('big.bin', 'wb') as f:\n    for _ in range(4096):\n"
                        "        f.write(b'x' * 2**20)", "writes a 4 GB file"),
    "hostile_memory": ("hog = bytearray(64 * 2**30)", "allocates 64 GB"),
    "hostile_patch": ("import torch, numpy\ntorch.equal = lambda a, b: True\n"
                      "numpy.allclose = lambda *a, **k: True", "patches library comparison functions"),
}


def strip_solution(source):
    """A source cell's solution without nbgrader's BEGIN/END SOLUTION markers."""
    return "\n".join(line for line in source.splitlines()
                     if not re.match(r"\s*### (BEGIN|END) SOLUTION", line))


def answer_key(source_nb):
    return {c.metadata["nbgrader"]["grade_id"]: strip_solution(c.source) for c in source_nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def solved(release, key, keep=None):
    """The release with answer cells filled in from ``key`` (only ``keep`` ids when given)."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in key:
            if keep is None or gid in keep:
                cell.source = key[gid]
    return nb


def colab_roundtrip(nb):
    """What a Colab/VS Code round trip does: ids, colab metadata, new kernelspec, no nbgrader tags."""
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        cell.metadata = {"id": f"c{index:04x}"}
        cell["id"] = f"c{index:04x}"
    nb.metadata = {"colab": {"provenance": []}, "kernelspec": {"name": "python3",
                   "display_name": "Python 3"}, "language_info": {"name": "python"}}
    nb.nbformat_minor = 5
    return nb


def _first_answer(nb):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))


def _test_cells(nb):
    return [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade")
            and c.cell_type == "code" and not c.metadata["nbgrader"].get("solution")]


def make_class(release, source, dest, kinds=None, name=None, exclude=()):
    """Write the demo class into ``dest``; returns {student: what the submission is}."""
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    name = name or "notebook"
    key = answer_key(source)
    ids = list(key)
    correct = solved(release, key)
    made = {}

    def put(student, nb, what, filename=None):
        folder = dest / student
        folder.mkdir()
        nbformat.write(nb, folder / (filename or f"{name}.ipynb"))
        made[student] = what

    put("correct", correct, "every answer right")
    put("partial", solved(release, key, keep=set(ids[: max(1, len(ids) // 2)])), "half the answers")
    put("blank", release, "the release, untouched")
    put("colab", colab_roundtrip(correct), "correct, after a Colab round trip (metadata stripped)")
    put("renamed", correct, "correct, saved as 'Copy of ...'", filename=f"Copy of {name}.ipynb")
    deleted = copy.deepcopy(correct)
    del deleted.cells[_test_cells(deleted)[0]]
    put("deleted_test", deleted, "correct, first test cell deleted")
    edited = copy.deepcopy(correct)
    edited.cells[_test_cells(edited)[0]].source = "pass  # tests removed"
    put("edited_test", edited, "correct, first test cell emptied")
    duplicated = copy.deepcopy(correct)
    first = _first_answer(duplicated)
    duplicated.cells.insert(first + 1, copy.deepcopy(duplicated.cells[first]))
    put("duplicated", duplicated, "correct, an answer cell duplicated")
    (dest / "broken").mkdir()
    text = nbformat.writes(correct)
    (dest / "broken" / f"{name}.ipynb").write_text(text[: len(text) // 2])
    made["broken"] = "truncated file (invalid JSON)"
    (dest / "empty_folder").mkdir()
    (dest / "empty_folder" / "answers.txt").write_text("I forgot the notebook\n")
    made["empty_folder"] = "no notebook submitted"
    for student, (code, what) in HOSTILE.items():
        nb = copy.deepcopy(correct)
        nb.cells.insert(_first_answer(nb) + 1, nbformat.v4.new_code_cell(code))
        put(student, nb, what)
    if kinds is not None or exclude:
        for student in list(made):
            if (kinds is not None and student not in kinds) or student in exclude:
                shutil.rmtree(dest / student)
                made.pop(student)
    (dest / ".manifest.json").write_text(json.dumps(made, indent=1))
    return made


def build_class(assignment, course_dir, solutions, dest, kinds=None, exclude=()):
    """Prepare ``assignment`` in ``course_dir`` and write its demo class into ``dest``.

    Returns the ``CourseFolder`` and {student: what the submission is}.
    """
    from cnngrader.gradebook import CourseFolder

    course = CourseFolder(course_dir, solutions)
    release = course.prepare(assignment)
    name = next((course.root / "release" / assignment).glob("*.ipynb")).stem
    source = nbformat.read(course.root / "source" / assignment / f"{name}.ipynb", as_version=4)
    return course, make_class(release, source, dest, kinds=kinds, name=name, exclude=exclude)


def run_demo(assignment, out, solutions="solutions", workers=0):
    """Generate the demo class for ``assignment``, autograde it, print the table; 0 when it ran."""
    from cnngrader.autograde import Options, autograde
    from cnngrader.report import print_table
    from cnngrader.sandbox import Limits

    from cnngrader import sandbox

    out = Path(out)
    mech = sandbox.probe()
    exclude = () if mech.setuid or mech.user_namespace else ("hostile_forkbomb",)
    if exclude:
        print("demo: the fork bomb is left out: this machine cannot cap the processes of one submission "
              "(no sandbox uid, no user namespace)")
    course, made = build_class(assignment, out / "course", solutions, out / "submissions", exclude=exclude)
    rows = autograde(assignment, out / "submissions", out / "graded", course_dir=out / "course",
                     solutions=solutions, options=Options(workers=workers, limits=Limits(timeout=10)))
    print(f"demo class of {assignment}: {len(made)} submissions")
    for student, what in made.items():
        print(f"  {student:<18} {what}")
    print_table(rows)
    return 0
