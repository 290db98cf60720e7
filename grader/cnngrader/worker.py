"""The grader's handle on one fork server (``cnngrader.zygote``): start it, send a notebook, close it.

The zygote starts from a minimal environment: none of the instructor's variables (tokens, database
URLs, paths) reach the processes that run student code.
"""

import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict

from cnngrader import protocol, sandbox

_ids = itertools.count(1)


def minimal_environment(private):
    """What the fork server needs to run, and nothing of the instructor's (``private``: a folder
    for matplotlib's and IPython's caches; the course's datasets are made once, in the grader's cache)."""
    try:
        from cnncourse.data import cache_dir
        datasets = str(cache_dir())
    except OSError:  # no writable home: made again by each fork server
        datasets = private
    env = {"CNNCOURSE_CACHE": datasets, "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin", "LANG": "C.UTF-8",
           "HOME": private, "MPLCONFIGDIR": private, "IPYTHONDIR": private, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYTHONUNBUFFERED": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("CNNGRADER_SANDBOX", "CNNGRADER_TEST_TAG", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class WarmWorker:
    """One zygote process; ``run(cells, probes, plan, limits)`` executes a notebook in a sandbox."""

    def __init__(self, threads=1, uid=65534, wall=390.0):
        self.uid = uid
        self.backstop = wall + 60
        self.private = tempfile.mkdtemp(prefix="cnngrader-zygote-")
        self.proc = subprocess.Popen([sys.executable, "-m", "cnngrader.zygote"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=minimal_environment(self.private),
                                     start_new_session=True, cwd="/")
        self.lock = threading.Lock()
        protocol.send(self.proc.stdin.fileno(), {"threads": threads, "uid": uid, "backstop": self.backstop})
        hello = protocol.receive(self.proc.stdout.fileno(), time.monotonic() + 300)
        self.mechanisms = sandbox.Mechanisms(**hello["mechanisms"])

    def run(self, cells, probes, plan, limits):
        """The reply for one notebook: status, reason, outputs per cell, probe results."""
        with self.lock:
            ident = next(_ids)
            request = {"id": ident, "cells": cells, "probes": probes, "plan": asdict(plan), "limits": asdict(limits)}
            try:
                protocol.send(self.proc.stdin.fileno(), request, ident)
                return protocol.receive(self.proc.stdout.fileno(), time.monotonic() + self.backstop + 30,
                                        expect=ident)
            except (EOFError, TimeoutError, BrokenPipeError, protocol.FrameError) as err:
                self.close()
                raise RuntimeError(f"the grading worker stopped answering ({type(err).__name__})") from None

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        """Kill the zygote, its process group and every process left under its sandbox uid, and
        return only when they are gone (SIGKILL is asynchronous: a fork bomb takes a moment)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()
        shutil.rmtree(self.private, ignore_errors=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = _living(self.uid) + _living_in_group(self.proc.pid)
            if not alive:
                return
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)


def _processes():
    """(pid, uid, process group, state) of every process, from /proc."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                yield int(entry), os.stat(f"/proc/{entry}").st_uid, int(fields[2]), fields[0]
            except (OSError, IndexError, ValueError):
                continue


def _living(uid):
    """Processes (zombies excepted) of a dedicated sandbox uid; none for a uid shared with us."""
    if uid == os.getuid() or uid < 60000:
        return []
    return [pid for pid, owner, _, state in _processes() if owner == uid and state != "Z"]


def _living_in_group(pgid):
    return [pid for pid, _, group, state in _processes() if group == pgid and state != "Z"]
