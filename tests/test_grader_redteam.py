"""Attacks on the grader by a student who has read this repository (PS1, one worker).

Every attack starts from the untouched release (nothing solved) and must score exactly what the
untouched release scores; correct classmates graded before and after it on the same worker keep
full marks; nothing of the answer key, of another student or of the instructor's environment shows
up in any student's outputs. Honest students are not hurt by stderr or by a huge display.
"""

import copy
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnngrader import demo
from cnngrader.autograde import Options, autograde
from cnngrader.feedback import feedback
from cnngrader.sandbox import Limits
from conftest import FULL

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux"), pytest.mark.slow,
              pytest.mark.xdist_group("grader")]

TOKEN = "TOKEN-7f3a9c-classmate-output"
CANARY = "CANARY-instructor-secret-5d21"

FORGED_VALUE = '''
import cnncourse.probe as _p
def _forge(case, namespace):
    return {"value": _p.encode(1)}
_p.run_case = _forge
'''

SNOOP = r"""import gc, os, re
pattern = re.compile(rb"TOKEN-[0-9a-f]{6}-c|BEGIN SOLUTI[O]N|CANARY-instru[c]tor")
hits = {o[:60] for o in gc.get_objects() if isinstance(o, str) and pattern.search(o.encode("utf-8", "replace"))}
try:
    mem = open("/proc/self/mem", "rb", 0)
    maps = open("/proc/self/maps").read().splitlines()
except OSError:  # not dumpable (a separate uid): nothing to scan
    maps = []
for line in maps:
    fields = line.split()
    if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5].startswith("/")):
        continue
    lo, hi = (int(a, 16) for a in fields[0].split("-"))
    for start in range(lo, hi, 1 << 24):
        try:
            mem.seek(start)
            chunk = mem.read(min(hi - start, (1 << 24) + 64))
        except (OSError, ValueError, OverflowError):
            break
        hits.update(m.group().decode() for m in pattern.finditer(chunk))
try:
    if pattern.search(open("/proc/self/environ", "rb").read()):
        hits.add("environ")
except OSError:
    pass
print("SNOOPED", sorted(hits))
"""

ATTACKS = {
    # the stub prints a result before raising: a test cell would see an execute_result
    "displayhook": ("stub", "import sys\nsys.displayhook('done')\nraise NotImplementedError()"),
    # IPython hooks that would turn later cells (tests) into `pass` or erase their errors
    "ipython_hooks": ("cell", "ip = get_ipython()\nip.events.register('post_run_cell', lambda r: None)\n"
                      "ip.events.register('pre_run_cell', lambda i: None)\n"
                      "ip.input_transformers_post.append(lambda lines: ['pass\\n'])"),
    # the probe's own code replaced: every case answers 1
    "forged_probe": ("cell", FORGED_VALUE),
    # the runner's result sender replaced, reached through a stream's globals
    "forged_sender": ("cell", "import sys, json\ng = type(sys.stdout).write.__globals__\nproto = g['protocol']\n"
                      "real = proto.send\n"
                      "def send(fd, obj, ident=0):\n"
                      "    if 'probes' in obj:\n"
                      "        obj = {'probes': [{'value': {'t': 'int', 'v': 3}} for _ in obj['probes']]}\n"
                      "    real(fd, obj, ident)\n"
                      "proto.send = send"),
    # raw frames on every descriptor: its own channel, and any pipe of the grader it might find
    "pipe_writer": ("cell", "import os, struct\nfor fd in range(3, 256):\n    try:\n"
                    "        os.write(fd, b'CNG1' + struct.pack('!QI', 1, 7) + b'{\"cells')\n"
                    "    except OSError:\n        pass"),
    # a forged, well-formed reply on its own channel claiming the probes passed
    "frame_forger": ("cell", "import os, json, struct, sys\ng = type(sys.stdout).write.__globals__\n"
                     "body = json.dumps({'probes': []}).encode()\n"
                     "for ident in range(0, 50):\n"
                     "    try:\n        os.write(4, b'CNG1' + struct.pack('!QI', ident, len(body)) + body)\n"
                     "    except OSError:\n        pass"),
    # what lies in memory: the previous student's outputs, the answer key, the instructor's variables
    # (the patterns do not match their own text, so the scan does not find itself)
    "memory_snoop": ("cell", SNOOP),
    # text that is not valid Unicode (a lone surrogate) printed and returned: feedback could not be written
    "lone_surrogate": ("cell", "print('printed \\ud800')\ndef conv_output_size(*args):\n    return 'returned \\ud800'"),
    # a loop that never ends: stopped by its CPU-time budget, whatever the load
    "endless_loop": ("cell", "while True:\n    pass"),
    # files left behind for a later student
    "dropper": ("cell", "import os\nfor d in ('/run/lock', '/var/lock', '/dev/shm', '/tmp', '/var/tmp'):\n"
                "    try:\n        open(os.path.join(d, 'cnngrader-drop'), 'w').write('x' * 1000)\n"
                "        print('DROPPED', d)\n    except OSError as e:\n        print('refused', d, e.errno)"),
}
PICKUP = ("import os\nfor d in ('/run/lock', '/var/lock', '/dev/shm', '/tmp', '/var/tmp'):\n"
          "    if os.path.exists(os.path.join(d, 'cnngrader-drop')):\n        print('FOUND DROP', d)")


def _with_cell(nb, code, position):
    out = copy.deepcopy(nb)
    out.cells.insert(position, nbformat.v4.new_code_cell(code))
    return out


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redteam")
    subs = tmp / "subs"
    course, _ = demo.build_class("ps1", tmp / "course", root / "solutions", subs, kinds={"correct", "blank"})
    correct = nbformat.read(subs / "correct" / "ps1.ipynb", as_version=4)
    blank = nbformat.read(subs / "blank" / "ps1.ipynb", as_version=4)
    first = demo._first_answer(blank)
    people = {"a_blank": blank, "a_correct": correct,
              "a_marker": _with_cell(correct, f"print('{TOKEN}')", first + 1),
              "z_correct": correct, "zz_pickup": _with_cell(correct, PICKUP, first + 1)}
    for name, (where, code) in ATTACKS.items():
        if where == "stub":
            nb = copy.deepcopy(blank)
            nb.cells[first].source = nb.cells[first].source.replace("raise NotImplementedError()",
                                                                    code.replace("\n", "\n    "))
        else:
            nb = _with_cell(blank, code, first + 1)
        people[f"m_{name}"] = nb
    honest_stderr = copy.deepcopy(correct)
    for cell in honest_stderr.cells:
        if cell.source.startswith("def conv1d("):
            cell.source = cell.source.replace('    """One-channel', '    import sys; print("debug", file=sys.stderr)\n    """One-channel', 1)
    people["h_stderr"] = honest_stderr
    # right answers beside code too deep for the grader's parser, which runs once the limit is raised:
    # what the grader cannot read, it cannot clear of borrowing
    people["m_too_deep"] = _with_cell(_with_cell(correct, "import sys\nsys.setrecursionlimit(100_000)", first + 1),
                                      "x = " + "+".join(["1"] * 5000) + "\nprint('deep code ran', x)", first + 2)
    # an answer nested deeper than any reader of the grader recurses (the notebook raised its own limit)
    deep = _with_cell(blank, "import sys\nsys.setrecursionlimit(100_000)", first + 1)
    deep.cells[first].source = deep.cells[first].source.replace(
        "raise NotImplementedError()", "d = 0\n    for _ in range(3000):\n        d = [d]\n    return d")
    people["m_deep_answer"] = deep
    people["h_deep_display"] = _with_cell(correct, "import sys\nsys.setrecursionlimit(100_000)\nd = 1\n"
                                          "for _ in range(3000):\n    d = [d]\nfrom IPython.display import display\n"
                                          "display({'application/json': d, 'text/plain': 'deep'}, raw=True)\n"
                                          "print('displayed')", first + 1)
    people["h_big_display"] = _with_cell(correct, "from IPython.display import HTML, display\n"
                                         "display(HTML('<p>' + 'x' * 12_000_000 + '</p>'))\nprint('displayed')", first + 1)
    for student in ("correct", "blank"):
        shutil.rmtree(subs / student)
    for name, nb in people.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    # files no editor writes: a lone surrogate (as a broken emoji in Colab leaves), JSON nested too deeply
    # to parse, cell metadata that is a list (each of the last two used to end the whole run in a traceback)
    text = nbformat.writes(_with_cell(correct, "# a broken emoji: @@\nprint('ran')", first + 1))
    (subs / "h_surrogate.ipynb").write_text(text.replace("@@", "\\ud83d"))
    text = nbformat.writes(_with_cell(correct, "x = 1", first + 1)).replace('"metadata": {}', '"metadata": @@', 1)
    (subs / "m_deep_json.ipynb").write_text(text.replace("@@", '{"a": ' * 100_000 + "1" + "}" * 100_000))
    (subs / "m_bad_shape.ipynb").write_text(text.replace("@@", "[]"))
    # code whose syntax trees would take the grader's memory (some 200 bytes per character): 100 MB of it
    # would have ended the whole run; it is refused from its size, never parsed
    nbformat.write(_with_cell(correct, "x = [" + "1, " * 400_000 + "]", first + 1), subs / "m_huge_code.ipynb")
    os.environ["CNNGRADER_REDTEAM_CANARY"] = CANARY  # the instructor's environment
    try:
        rows = autograde("ps1", subs, tmp / "out", course_dir=course.root, solutions=root / "solutions",
                         options=Options(workers=1, seed=11, limits=Limits(timeout=10), progress=False))
    finally:
        del os.environ["CNNGRADER_REDTEAM_CANARY"]
    return {r.student: r for r in rows}, tmp


def outputs(tmp, student):
    nb = nbformat.read(tmp / "out" / "graded" / f"{student}.ipynb", as_version=4)
    return "\n".join(str(o.get("text", "")) + str(o.get("evalue", "")) + str(o.get("data", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_scores_what_the_blank_release_scores(graded, attack):
    rows, _ = graded
    assert rows["a_blank"].score == 0
    assert rows[f"m_{attack}"].score == rows["a_blank"].score, rows[f"m_{attack}"]


def test_classmates_before_and_after_are_unaffected(graded):
    rows, tmp = graded
    for student in ("a_correct", "a_marker", "z_correct", "zz_pickup"):
        assert (rows[student].score, rows[student].status) == (FULL, "graded"), rows[student]
    assert {r["student"] for r in csv.DictReader(open(tmp / "out" / "grades.csv"))} == set(rows)


def test_nothing_of_others_or_of_the_instructor_in_memory(graded):
    rows, tmp = graded
    snooped = outputs(tmp, "m_memory_snoop")
    assert "SNOOPED []" in snooped, snooped[:2000]
    for student in rows:
        if student not in ("a_marker",) and (tmp / "out" / "graded" / f"{student}.ipynb").exists():
            text = outputs(tmp, student)
            assert TOKEN not in text and CANARY not in text and "BEGIN SOLUTION" not in text, student


def test_files_do_not_outlive_their_student(graded):
    rows, tmp = graded
    dropped = outputs(tmp, "m_dropper")
    assert "DROPPED /run/lock" not in dropped and "DROPPED /var/lock" not in dropped
    assert "FOUND DROP" not in outputs(tmp, "zz_pickup")
    for d in ("/run/lock", "/var/lock", "/dev/shm", "/var/tmp"):
        assert not Path(d, "cnngrader-drop").exists()


def test_a_forged_or_malformed_frame_fails_only_its_sender(graded):
    rows, _ = graded
    for attack in ("pipe_writer", "frame_forger"):
        row = rows[f"m_{attack}"]
        assert row.status in ("crashed", "graded") and row.score == 0, row
    assert "malformed" in rows["m_pipe_writer"].reason or rows["m_pipe_writer"].status == "graded"


def test_an_answer_too_deep_to_judge_is_reported_not_a_worker_crash(graded):
    rows, _ = graded
    row = rows["m_deep_answer"]
    assert (row.status, row.score) == ("graded", 0) and "the answer could not be read" in row.reason, row


def test_code_too_deep_to_read_earns_nothing_and_stops_nobody(graded):
    rows, tmp = graded
    row = rows["m_too_deep"]
    assert "deep code ran 5000" in outputs(tmp, "m_too_deep")      # it did run in the sandbox
    assert row.score == 0 and "could not be read (RecursionError)" in row.reason, row
    assert any("nested too deeply for the grader to read" in flag for flag in row.flags), row
    assert (rows["z_correct"].score, rows["z_correct"].status) == (FULL, "graded")


def test_files_no_editor_writes_stop_only_their_student(graded):
    rows, tmp = graded
    row = rows["h_surrogate"]  # mended, flagged, graded: its cell ran with U+FFFD in its comment
    assert (row.score, row.status) == (FULL, "repaired") and "lone surrogates" in "; ".join(row.flags), row
    assert "ran" in outputs(tmp, "h_surrogate")
    assert rows["m_deep_json"].status == "invalid" and "nested too deeply" in rows["m_deep_json"].reason
    assert rows["m_bad_shape"].status == "invalid" and "metadata is not shaped" in rows["m_bad_shape"].reason
    assert rows["m_huge_code"].status == "invalid" and "MB of code, over the 1 MB" in rows["m_huge_code"].reason
    assert "printed \ufffd" in outputs(tmp, "m_lone_surrogate")  # what no UTF-8 file can hold, mended
    written = {r["student"]: r for r in csv.DictReader(open(tmp / "out" / "grades.csv", encoding="utf-8"))}
    assert "returned \ufffd" in written["m_lone_surrogate"]["reason"]


def test_feedback_is_written_for_every_graded_student_of_a_hostile_class(graded, root):
    rows, tmp = graded
    pages = feedback("ps1", tmp / "feedback", course_dir=tmp / "course", solutions=root / "solutions")
    assert sorted(p.stem for p in pages) == sorted(p.stem for p in (tmp / "out" / "graded").glob("*.ipynb"))
    assert "printed \ufffd" in (tmp / "feedback" / "m_lone_surrogate.html").read_text(encoding="utf-8")


def test_honest_students_are_not_hurt(graded):
    rows, tmp = graded
    assert (rows["h_stderr"].score, rows["h_stderr"].status) == (FULL, "graded"), rows["h_stderr"]
    big = rows["h_big_display"]
    assert (big.score, big.status) == (FULL, "graded"), big
    text = outputs(tmp, "h_big_display")
    assert "was left out" in text and "displayed" in text
    deep = rows["h_deep_display"]  # an output too deep to store is left out, the rest of the notebook kept
    assert (deep.score, deep.status) == (FULL, "graded"), deep
    assert "levels deep was left out" in outputs(tmp, "h_deep_display") and "displayed" in outputs(tmp, "h_deep_display")


def test_endless_loop_runs_out_of_cpu_time(graded):
    rows, _ = graded
    row = rows["m_endless_loop"]
    assert row.status == "timeout" and "used its 10 s of CPU time" in row.reason, row


def test_regrade_under_cpu_load_gives_identical_rows(graded, root):
    """Two processes burn both cores while the class is graded again with the run's seed."""
    rows, tmp = graded
    burners = [subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 300\n"
                                 "while time.time() < end: pass"]) for _ in range(2)]
    try:
        again = autograde("ps1", tmp / "subs", tmp / "out-again", course_dir=tmp / "course",
                          solutions=root / "solutions",
                          options=Options(workers=1, seed=11, limits=Limits(timeout=10), progress=False))
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert {r.student: r.as_csv() for r in again} == {s: r.as_csv() for s, r in rows.items()}
