"""The notebook harness (cnngrader.execute) on tiny notebooks: a failure names its cell, a stalled
kernel fails at once with its timed log, and a lost wake-up costs at most one poll slice."""

import asyncio
import time

import nbformat
import pytest

from cnngrader import execute
from cnngrader.execute import NotebookFailed, run_notebook


def _notebook(path, *sources):
    cells = [nbformat.v4.new_markdown_cell(f"# {path.stem.title()}")]
    cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_run_keeps_outputs_and_a_timed_log(tmp_path):
    run = run_notebook(_notebook(tmp_path / "nb.ipynb", "print(6 * 7)"))
    assert run.notebook.cells[1].outputs[0]["text"] == "42\n"
    events = [event for _, event in run.timeline]
    assert events[0] == "kernel start requested" and events[2].startswith("kernel ready")
    assert events[3:] == ["cell 1: execute_request sent", "cell 1: kernel busy (request received)",
                          "cell 1: kernel idle (cell done)", "cell 1: execute_reply received"]
    times = [t for t, _ in run.timeline]
    assert times == sorted(times)


def test_failure_names_notebook_cell_and_error(tmp_path):
    bad = _notebook(tmp_path / "nb.ipynb", "x = 1", "raise ValueError('broken on purpose')")
    with pytest.raises(NotebookFailed, match=r"nb.ipynb failed at cell 2: \"raise ValueError") as err:
        run_notebook(bad)
    assert "broken on purpose" in str(err.value) and "timed log" in str(err.value)


def test_a_stalled_kernel_fails_at_once_with_its_timed_log(tmp_path):
    # The kernel stops reading requests: the next execute_request is never acknowledged.
    nb = _notebook(tmp_path / "nb.ipynb", "get_ipython().kernel.shell_stream.stop_on_recv()", "print(2)")
    start = time.perf_counter()
    with pytest.raises(NotebookFailed, match="kernel stalled at cell 2") as err:
        run_notebook(nb, timeout=300, stall_after=3)
    assert time.perf_counter() - start < 60, "the watchdog, not the 300 s cell timeout, ended it"
    assert "cell 2: execute_request sent" in str(err.value) and "STALL" in str(err.value)


def test_a_lost_wake_up_costs_one_slice_not_the_timeout():
    """A message that arrived but whose wake-up was lost is only seen when the poll's own timer
    fires (that is how pyzmq's asyncio poll behaves): the sliced get_msg bounds the wait."""
    client = execute._TimedClient(nbformat.v4.new_notebook())

    async def lost_wake_up(timeout=None):
        await asyncio.sleep(timeout)  # the message sat in the socket; the timer found it
        return {"msg_type": "execute_reply"}

    get = client._sliced(lost_wake_up, "shell")
    start = time.perf_counter()
    assert asyncio.run(get(timeout=300))["msg_type"] == "execute_reply"
    assert time.perf_counter() - start < 2 * execute.POLL_SLICE
