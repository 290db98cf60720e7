"""A warm fork server runs a notebook in its sandbox: the course's datasets are already in its cache,
and a control group that cannot be made leaves the memory watchdog in its place, with a note."""

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import asdict

import numpy as np
import pytest

from cnncourse import data
from cnngrader import groups, protocol, sandbox
from cnngrader.worker import WarmWorker

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux"), pytest.mark.slow,
              pytest.mark.xdist_group("grader")]


def test_each_sandbox_finds_mnist1d_in_its_empty_cache(tmp_path):
    limits = sandbox.Limits(timeout=30)
    worker = WarmWorker(1, 60000, limits.wall)
    try:
        cell = ("import os, hashlib\nfrom cnncourse import data\nfound = sorted(os.listdir(os.environ['CNNCOURSE_CACHE']))\n"
                "print(found, hashlib.sha1(data.mnist1d()['x'].tobytes()).hexdigest())")
        reply = worker.run([cell], [], sandbox.Plan(hide=[str(tmp_path)]), limits)
    finally:
        worker.close()
    assert reply["status"] == "ok", reply
    expected = hashlib.sha1(np.ascontiguousarray(data.mnist1d()["x"]).tobytes()).hexdigest()
    assert reply["cells"][0]["outputs"][0]["text"].strip() == f"['{data.mnist1d_file().name}'] {expected}"


FULL_PARENT = """
import errno, os
from cnngrader import groups, zygote
make = groups.Group.make
def full(name, limits):  # the probe's group is made; every notebook's group fails as in a full parent
    if name.startswith("cnngrader-probe-"):
        return make(name, limits)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
groups.Group.make = full
zygote.serve()
"""


@pytest.mark.root
@pytest.mark.skipif(groups.layout()[0] is None, reason="no writable control group here (an ordinary user)")
def test_a_control_group_that_cannot_be_made_leaves_the_watchdog_and_says_so(tmp_path):
    server = subprocess.Popen([sys.executable, "-c", FULL_PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        protocol.send(server.stdin.fileno(), {"threads": 1, "uid": 60000, "backstop": 120})
        assert protocol.receive(server.stdout.fileno(), time.monotonic() + 120)["mechanisms"]["cgroup"]
        request = {"id": 1, "cells": ["print(6 * 7)"], "probes": [], "limits": asdict(sandbox.Limits(timeout=10)),
                   "plan": asdict(sandbox.Plan(hide=[str(tmp_path)]))}
        protocol.send(server.stdin.fileno(), request, 1)
        reply = protocol.receive(server.stdout.fileno(), time.monotonic() + 120, expect=1)
    finally:
        server.kill()
        server.wait()
    assert reply["status"] == "ok" and reply["cells"][0]["outputs"][0]["text"] == "42\n"
    assert reply["notes"] == ["no control group for this notebook (No space left on device): its memory was watched"]


def _nested(depth):
    value = 0
    for _ in range(depth):
        value = [value]
    return value


def test_the_warden_passes_on_nothing_nested_deeper_than_the_grader_reads():
    from cnngrader import zygote
    fine = {"output_type": "display_data", "data": {"application/json": _nested(50)}, "metadata": {}}
    deep = {"output_type": "display_data", "data": {"application/json": _nested(3000)}, "metadata": {}}
    cell = {"outputs": [fine, deep], "execution_count": 1}
    zygote._check_cell(cell)
    assert cell["outputs"][0] is fine and "levels deep was left out" in cell["outputs"][1]["text"]
    probes = {"probes": [{"value": _nested(20)}, {"value": _nested(3000)}]}
    zygote._check_probes(2)(probes)
    assert probes["probes"][0] == {"value": _nested(20)} and "too deep to be judged" in probes["probes"][1]["error"]
    assert not protocol.too_deep(_nested(protocol.DEPTH - 1)) and protocol.too_deep(_nested(protocol.DEPTH))


def test_text_no_file_could_hold_is_mended_as_a_frame_is_decoded():
    read, write = os.pipe()
    try:
        protocol.send(write, {"out\ud800": ["a\udc00b", "\U0001F600", {"k": "\ud83d"}]}, 3)
        assert protocol.receive(read, expect=3) == {"out\ufffd": ["a\ufffdb", "\U0001F600", {"k": "\ufffd"}]}
        protocol.send(write, {"plain": "\U0001F600 é"})
        assert protocol.receive(read) == {"plain": "\U0001F600 é"}
    finally:
        os.close(read)
        os.close(write)
