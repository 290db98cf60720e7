"""Where notebooks run: warm local fork servers (one per parallel slot) or an existing Dask cluster.

A task is ``{"student", "cells", "probes", "plan", "limits"}``; the result is the sandbox's reply.
A worker that stops answering is replaced, and only that task is reported as ``crashed``.
"""

import fcntl
import itertools
import os
import queue
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

from cnngrader.worker import WarmWorker

BASE_UID, BLOCK, BLOCKS = 60000, 64, 256  # sandbox uids, when the grader runs as root


def uid_block():
    """(first uid, lock) of a block of sandbox uids that no other grading run on this machine holds:
    one run's clean-up or process cap never touches another's. The lock lasts while it is open.
    Without root there is no uid switch (user namespaces instead): no block, no lock."""
    if os.geteuid() != 0:
        return BASE_UID, None
    folder = os.path.join(tempfile.gettempdir(), "cnngrader-uids")
    os.makedirs(folder, mode=0o755, exist_ok=True)
    for block in range(BLOCKS):
        fd = os.open(os.path.join(folder, f"{block}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return BASE_UID + block * BLOCK, fd
        except OSError:
            os.close(fd)
    raise RuntimeError(f"{BLOCKS} grading runs already hold every block of sandbox uids")


def _crashed(reason):
    return {"status": "crashed", "reason": reason, "cells": [], "probes": None}


class Pool:
    """Run tasks on warm local workers, or on a Dask cluster when ``dask_scheduler`` is given."""

    def __init__(self, size, limits, dask_scheduler=None):
        self.limits, self.client, self.workers = limits, None, []
        # One torch/OpenMP thread per notebook: GNU OpenMP is not fork-safe once the zygote has
        # used it (a 2-thread runner was seen deadlocked on a futex); parallelism comes from workers.
        limits.threads = 1
        self.size, self.free = size, queue.Queue()
        self.closed, self.restarting = False, threading.Lock()  # no worker restarted after close() survives it
        for slot in range(size):
            self.free.put(slot)
        self.first_uid, self.lock = uid_block()
        if dask_scheduler:
            from distributed import Client
            self.client = dask_scheduler if isinstance(dask_scheduler, Client) else Client(dask_scheduler)
            self.mechanisms = None
        else:
            with ThreadPoolExecutor(size) as starter:  # start the zygotes concurrently
                self.workers = list(starter.map(self._start, range(size)))
            self.mechanisms = self.workers[0].mechanisms

    def _start(self, slot):
        return WarmWorker(self.limits.threads, self.first_uid + slot, self.limits.wall)

    def run(self, task):
        """One task, on the first local worker (the answer key) or on the cluster."""
        if self.client is not None:
            return self.client.submit(execute_remote, task, pure=False).result()
        return self._run_local(0, task)

    def _run_local(self, slot, task):
        worker = self.workers[slot]
        if not worker.alive() and not self.closed:
            worker = self._start(slot)  # outside the lock: the other workers go on meanwhile
            with self.restarting:
                if self.closed:  # close() began meanwhile: this one would outlive the run
                    worker.close()
                else:
                    self.workers[slot] = worker
        try:  # a closed worker answers no more: crashed
            return worker.run(task["cells"], task["probes"], task["plan"], task["limits"])
        except RuntimeError as err:
            return _crashed(str(err))

    def submit_all(self, tasks):
        """Yield (student, reply) as executions finish. ``tasks`` is consumed lazily, one more than the
        workers can run at a time: when it is a generator, the next submission is prepared (in this
        thread) while the others run."""
        done, running, tasks = queue.Queue(), 0, iter(tasks)
        local = ThreadPoolExecutor(self.size)
        try:
            while True:
                for task in itertools.islice(tasks, max(0, self.size + 1 - running)):
                    future = (self.client.submit(execute_remote, task, pure=False) if self.client is not None
                              else local.submit(self._run_free, task))
                    future.add_done_callback(lambda f, student=task["student"]: done.put((student, f)))
                    running += 1
                if not running:
                    return
                student, future = done.get()
                running -= 1
                yield student, future.result()
        finally:  # stopped early (a signal): no waiting here for the running notebooks, close() ends them
            local.shutdown(wait=False, cancel_futures=True)

    def _run_free(self, task):
        slot = self.free.get()
        try:
            return self._run_local(slot, task)
        finally:
            self.free.put(slot)

    def close(self):
        with self.restarting:
            self.closed = True
        for w in self.workers:
            w.close()
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


_REMOTE = {}
_REMOTE_LOCK = threading.Lock()


def execute_remote(task):
    """A Dask task: run one notebook on this Dask worker's warm sandboxed fork server."""
    with _REMOTE_LOCK:
        worker = _REMOTE.get("worker")
        if worker is None or not worker.alive():
            if "uids" not in _REMOTE:
                _REMOTE["uids"] = uid_block()
            worker = _REMOTE["worker"] = WarmWorker(task["limits"].threads, _REMOTE["uids"][0], task["limits"].wall)
        try:
            return worker.run(task["cells"], task["probes"], task["plan"], task["limits"])
        except RuntimeError as err:
            return _crashed(str(err))


def stop_remote_worker():
    """Stop this process's Dask-side fork server (``client.run(stop_remote_worker)``)."""
    with _REMOTE_LOCK:
        worker = _REMOTE.pop("worker", None)
    if worker is not None:
        worker.close()
