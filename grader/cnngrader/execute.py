"""Run a notebook headless with nbclient and report what happened, cell by cell.

Every run keeps a timed log (``Run.timeline``): kernel process started, kernel ready, and for
each cell when its ``execute_request`` was sent, when the kernel said ``busy`` (it received the
request) and ``idle`` (done), and when the reply was read.

Two ways a run used to hang, and what this module does about them:

* The reply is in the client's socket but nobody reads it (the "first-kernel stall": a cell
  finished, then nothing happened until the cell timeout, then the run went on normally). Seen
  at lecture 01's widget explorer: nbclient mimics the Output widget by sending ``comm_msg`` on the
  shell socket while it is waiting on that socket for the reply, and pyzmq's asyncio poll can
  then miss the socket's edge-triggered wake-up; it re-checks the socket only when its timer
  fires, and nbclient's timer is the whole cell timeout. Here every wait is cut into slices of
  ``POLL_SLICE`` seconds, and a reply read more than ``LATE_REPLY`` after the kernel said idle
  is flagged ``LATE`` in the log.
* The kernel never receives a request: no ``busy`` within ``stall_after`` seconds. The watchdog
  kills the kernel and the run fails at once with the timed log, instead of waiting out the
  cell timeout.
"""

import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets.config import Config


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
POLL_SLICE = 1.0  # seconds: the longest a message that has arrived can wait unread (see _sliced)
LATE_REPLY = 0.5  # seconds between the kernel's idle and reading its reply that the log flags


class NotebookFailed(RuntimeError):
    """A notebook stopped with an error; the message names the notebook, the cell and the traceback."""


@dataclass
class Run:
    """An executed notebook, how long it took and the timed log of its kernel."""

    notebook: nbformat.NotebookNode
    seconds: float
    timeline: list = field(default_factory=list)


class _TimedClient(NotebookClient):
    """nbclient with a timed log of the kernel's start and of every request, and a stall watchdog."""

    def __init__(self, *args, stall_after=60.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.t0 = time.perf_counter()
        self.timeline = []
        self.stall_after = stall_after
        self.stalled = None
        self._waiting = None        # (cell index, time sent) while no busy has come for it
        self._done = threading.Event()
        self._idle_at = {}          # cell index -> when the kernel said idle
        self._reply_at = 0.0        # when the last execute_reply was read

    def mark(self, event):
        self.timeline.append((round(time.perf_counter() - self.t0, 3), event))

    async def async_start_new_kernel(self, **kwargs):
        self.mark("kernel start requested")
        await super().async_start_new_kernel(**kwargs)
        self.mark(f"kernel process started (pid {getattr(self.km.provisioner, 'pid', '?')})")

    async def async_start_new_kernel_client(self):
        await super().async_start_new_kernel_client()
        self.mark("kernel ready (kernel_info reply and IOPub connected)")
        for name in ("shell", "iopub"):
            channel = getattr(self.kc, f"{name}_channel")
            channel.get_msg = self._sliced(channel.get_msg, name)
        return self.kc

    def _sliced(self, get_msg, name):
        """``get_msg`` that waits in slices of at most ``POLL_SLICE`` seconds: a message whose
        wake-up was lost waits at most one slice (see the module docstring)."""
        async def get(timeout=None):
            deadline = None if timeout is None else time.perf_counter() + timeout
            while True:
                left = POLL_SLICE if deadline is None else max(0.0, deadline - time.perf_counter())
                try:
                    msg = await get_msg(timeout=min(POLL_SLICE, left))
                except Empty:
                    if deadline is not None and time.perf_counter() >= deadline:
                        raise
                    continue
                if msg["msg_type"] == "execute_reply":
                    self._reply_at = time.perf_counter()
                return msg
        return get

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type == "code" and cell.source.strip():
            self._waiting = (cell_index, time.perf_counter())
            self.mark(f"cell {cell_index}: execute_request sent")
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell.cell_type == "code" and cell.source.strip():
            self.mark(f"cell {cell_index}: execute_reply received")
            # The kernel sends its reply just before it says idle: a reply read later than that
            # waited unread in the socket (a lost wake-up, see _sliced).
            late = self._reply_at - self._idle_at.get(cell_index, self._reply_at)
            if late > LATE_REPLY:
                self.mark(f"cell {cell_index}: LATE, the reply was read {late:.2f} s after "
                          "the kernel went idle")
        return result

    def process_message(self, msg, cell, cell_index):
        state = msg.get("content", {}).get("execution_state") if msg["msg_type"] == "status" else None
        if self._waiting and state == "busy":
            self.mark(f"cell {cell_index}: kernel busy (request received)")
            self._waiting = None
        elif state == "idle":
            self._idle_at[cell_index] = time.perf_counter()
            self.mark(f"cell {cell_index}: kernel idle (cell done)")
        return super().process_message(msg, cell, cell_index)

    def watch(self):
        """Watchdog thread: kill a kernel that received no request for ``stall_after`` seconds."""
        while not self._done.wait(1.0):
            waiting = self._waiting
            if waiting and time.perf_counter() - waiting[1] > self.stall_after:
                self.stalled = waiting[0]
                self.mark(f"cell {waiting[0]}: STALL, no busy after {self.stall_after:.0f} s; "
                          "killing the kernel")
                if self.km is not None:
                    self.km.provisioner.process.kill()
                return

    def log_text(self):
        return "\n".join(f"  {t:8.3f} s  {event}" for t, event in self.timeline)


def _failing_cell(nb):
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index, cell
    return None, None


def run_notebook(path, cwd=None, timeout=300, kernel_name="python3", stall_after=60.0):
    """Execute the notebook at ``path`` in the folder ``cwd`` (default: its own folder).

    Raises ``NotebookFailed`` naming the cell (index and first source line) and the error; a
    stalled kernel (see the module docstring) fails after ``stall_after`` seconds.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    # Kernel and client talk over Unix sockets in a private folder, not loopback TCP ports:
    # concurrent kernels (parallel tests, JupyterLab, Dask) can then never collide on a port.
    sockets = tempfile.mkdtemp(prefix="nbk")
    config = Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/kernel"}})
    client = _TimedClient(nb, timeout=timeout, kernel_name=kernel_name, config=config,
                          startup_timeout=60, stall_after=stall_after,
                          resources={"metadata": {"path": str(cwd or path.parent)}})
    watchdog = threading.Thread(target=client.watch, daemon=True)
    watchdog.start()
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as err:
        if client.stalled is not None:
            raise NotebookFailed(f"{path.name}: the kernel stalled at cell {client.stalled}: it did not "
                                 f"acknowledge the execute_request (no busy status) in "
                                 f"{stall_after:.0f} s\n{client.log_text()}") from None
        index, cell = _failing_cell(nb)
        where = f"cell {index}: {cell.source.splitlines()[0] if cell.source else ''!r}" if cell else "a cell"
        raise NotebookFailed(f"{path.name} failed at {where}\n{_ANSI.sub('', str(err))}\n"
                             f"timed log:\n{client.log_text()}") from None
    finally:
        client._done.set()
        shutil.rmtree(sockets, ignore_errors=True)
    return Run(nb, time.perf_counter() - start, client.timeline)
