"""Run a notebook headless with nbclient and report what happened, cell by cell."""

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets.config import Config


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotebookFailed(RuntimeError):
    """A notebook stopped with an error; the message names the notebook, the cell and the traceback."""


@dataclass
class Run:
    """An executed notebook and how long it took."""

    notebook: nbformat.NotebookNode
    seconds: float


def _failing_cell(nb):
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index, cell
    return None, None


def run_notebook(path, cwd=None, timeout=300, kernel_name="python3"):
    """Execute the notebook at ``path`` in the folder ``cwd`` (default: its own folder).

    Raises ``NotebookFailed`` naming the cell (index and first source line) and the error.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    # Kernel and client talk over Unix sockets in a private folder, not loopback TCP ports:
    # concurrent kernels (parallel tests, JupyterLab, Dask) can then never collide on a port.
    sockets = tempfile.mkdtemp(prefix="nbk")
    config = Config({"KernelManager": {"transport": "ipc", "ip": f"{sockets}/kernel"}})
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, config=config,
                            resources={"metadata": {"path": str(cwd or path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        index, cell = _failing_cell(nb)
        where = f"cell {index}: {cell.source.splitlines()[0] if cell.source else ''!r}" if cell else "a cell"
        raise NotebookFailed(f"{path.name} failed at {where}\n{_ANSI.sub('', str(err))}") from None
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    return Run(nb, time.perf_counter() - start)
