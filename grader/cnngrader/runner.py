"""The student's side: an IPython shell that runs one notebook's cells, then the judge's probes.

Everything here runs in the sandboxed *runner* process, next to student code, so none of it is
trusted: it only turns cells into Jupyter outputs and probes into plain data
(``cnncourse.probe``). Whatever the student rewrites here can change what is sent back, never how
it is judged. Outputs are capped (``MAX_TEXT`` per stream, ``MAX_CELL`` per cell) with a note, so a
large display is reported as such and never turns into a timeout.
"""

import json
import os
import sys

from cnngrader import protocol

MAX_TEXT = 100_000          # characters kept per stream output (like nbgrader's LimitOutput)
MAX_CELL = 4 * 2**20        # bytes of outputs kept per cell
CHANNEL_IN, CHANNEL_OUT = 3, 4


class Outputs(list):
    """Jupyter outputs of the cell being run; consecutive stream writes are merged."""

    def stream(self, name, text):
        if self and self[-1]["output_type"] == "stream" and self[-1]["name"] == name:
            if len(self[-1]["text"]) < MAX_TEXT:
                self[-1]["text"] = (self[-1]["text"] + text)[:MAX_TEXT]
        else:
            self.append({"output_type": "stream", "name": name, "text": text[:MAX_TEXT]})

    def capped(self):
        """The outputs, the largest ones replaced by a note when the cell's total is too big."""
        kept, size = [], 0
        for output in self:
            n = len(json.dumps(output))
            if size + n > MAX_CELL:
                kept.append({"output_type": "stream", "name": "stderr", "text":
                             f"[cnn-grader: an output of {n / 2**20:.1f} MB was left out: a cell keeps at most "
                             f"{MAX_CELL / 2**20:.0f} MB of outputs]\n"})
                continue
            kept.append(output)
            size += n
        return kept


OUTPUTS = Outputs()


class Stream:
    def __init__(self, name):
        self.name, self.encoding, self.errors = name, "utf-8", "replace"

    def write(self, text):
        OUTPUTS.stream(self.name, str(text))
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        return 1 if self.name == "stdout" else 2


def make_shell():
    """An IPython shell whose results, displays and tracebacks land in ``OUTPUTS``."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            OUTPUTS.append({"output_type": "execute_result", "data": format_dict,
                            "metadata": md_dict or {}, "execution_count": self.prompt_count})

        def finish_displayhook(self):
            pass

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **_):
            OUTPUTS.append({"output_type": "display_data", "data": data, "metadata": metadata or {}})

        def clear_output(self, wait=False):
            OUTPUTS.clear()

    class Shell(InteractiveShell):
        displayhook_class = Type(Hook)
        display_pub_class = Type(Publisher)

        def enable_gui(self, gui=None):
            pass  # headless: figures are captured by the inline backend

        def _showtraceback(self, etype, evalue, stb):
            OUTPUTS.append({"output_type": "error", "ename": getattr(etype, "__name__", str(etype)),
                            "evalue": str(evalue), "traceback": list(stb)})

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Context"
    return Shell.instance(config=config)


def serve(shell, ident, threads):
    """Run requests from ``CHANNEL_IN`` until told to exit: ``{"cell": source}`` -> outputs,
    ``{"probe": cases}`` -> one plain-data result per case."""
    from cnncourse import probe
    import torch
    torch.set_num_threads(threads)
    sys.stdout, sys.stderr = Stream("stdout"), Stream("stderr")
    while True:
        msg = protocol.receive(CHANNEL_IN, expect=ident)
        if msg.get("exit"):
            os._exit(0)
        if "probe" in msg:
            results = [_probe(probe, case, shell.user_ns) for case in msg["probe"]]
            protocol.send(CHANNEL_OUT, {"probes": results}, ident)
            continue
        OUTPUTS.clear()
        result = shell.run_cell(msg["cell"], store_history=True)
        outputs = OUTPUTS.capped()
        if not result.success and not any(o["output_type"] == "error" for o in outputs):
            err = result.error_in_exec or result.error_before_exec
            outputs.append({"output_type": "error", "ename": type(err).__name__, "evalue": str(err),
                            "traceback": [f"{type(err).__name__}: {err}"]})
        protocol.send(CHANNEL_OUT, {"outputs": outputs, "execution_count": result.execution_count}, ident)


def _probe(probe, case, namespace):
    OUTPUTS.clear()  # what a probed function prints is not graded and not kept
    try:
        result = probe.run_case(case, namespace)
    except Exception as err:  # a malformed value built by student code
        result = {"error": f"{type(err).__name__}: {err}"}
    if len(json.dumps(result)) > protocol.LIMIT // 4:
        result = {"error": "the answer is too large to be judged"}
    return result
