"""A warm fork server runs a notebook in its sandbox: the course's datasets are already in its cache."""

import hashlib
import sys

import numpy as np
import pytest

from cnncourse import data
from cnngrader import sandbox
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
