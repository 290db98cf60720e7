"""Warm, sandboxed notebook execution: a fork server with torch already imported.

``python -m cnngrader.warm`` starts a *zygote*: it imports numpy, torch (with ``torch._dynamo``),
matplotlib and IPython once, builds an IPython shell, then serves requests read from stdin.
For every notebook it forks::

    zygote ── warden (namespaces, private file view; enforces the wall clock)
                └─ init (PID 1 of a fresh PID namespace: when it goes, every process goes)
                     └─ runner (rlimits, unprivileged uid; executes the cells one by one)

Each runner starts from the zygote's pristine memory (fork copies it), so nothing one student's
code does can reach the next student. Cells are sent one at a time; outputs come back in Jupyter's
format (streams, displays, results, errors) so nbgrader can grade them as if a kernel had run them.
No Jupyter kernel is started: no ports, no port collisions.

``WarmWorker`` is the client used by the orchestrator (one per parallel slot).
"""

import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict

from cnngrader import sandbox

MAX_TEXT = 100_000  # characters kept per stream output (like nbgrader's LimitOutput)


# ---------------------------------------------------------------- framing (4-byte length + JSON)
def send(fd, obj):
    data = json.dumps(obj).encode()
    data = struct.pack("!I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def _read_exact(fd, n, deadline=None):
    chunks = b""
    while len(chunks) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, n - len(chunks))
        if not chunk:
            raise EOFError
        chunks += chunk
    return chunks


def receive(fd, deadline=None):
    (n,) = struct.unpack("!I", _read_exact(fd, 4, deadline))
    return json.loads(_read_exact(fd, n, deadline))


# ---------------------------------------------------------------- the runner's IPython shell
class _Outputs(list):
    """Jupyter outputs of the cell being run; consecutive stream writes are merged."""

    def stream(self, name, text):
        if self and self[-1]["output_type"] == "stream" and self[-1]["name"] == name:
            if len(self[-1]["text"]) < MAX_TEXT:
                self[-1]["text"] = (self[-1]["text"] + text)[:MAX_TEXT]
        else:
            self.append({"output_type": "stream", "name": name, "text": text[:MAX_TEXT]})


OUTPUTS = _Outputs()


class _Stream:
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


def warm_imports(threads=1):
    """The heavy imports every problem set needs, done once before any fork."""
    import matplotlib
    matplotlib.use("module://matplotlib_inline.backend_inline")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import torch
    import torch._dynamo  # noqa: F401  (the first optimizer step would import it: ~0.8 s)
    import torch.nn.functional  # noqa: F401
    torch.set_num_threads(threads)
    try:
        import cnncourse  # noqa: F401
        import cnncourse.checks  # noqa: F401
    except ImportError:
        pass
    _warm_up(torch, matplotlib.pyplot)
    import bdb, pdb  # noqa: F401,E401  (IPython imports these lazily on the first error)
    shell = make_shell()
    shell.enable_matplotlib("inline")
    shell.run_cell("1", store_history=False)  # warms IPython's own lazy imports
    return shell


def _warm_up(torch, plt):
    """Run once what every notebook pays for on first use: autograd, an optimizer step (which
    imports torch._dynamo), matplotlib's font cache and a drawn figure. Single-threaded, so
    forking afterwards is safe."""
    x = torch.randn(1, 1, 16, requires_grad=True)
    torch.nn.functional.conv1d(x, torch.randn(2, 1, 3)).sum().backward()
    optimizer = torch.optim.Adam([x], lr=0.1)
    optimizer.step()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="warm")
    ax.legend()
    ax.set_title("warm")
    fig.canvas.draw()
    plt.close(fig)
    try:
        from cnncourse import plots
        plots.use_style()
    except ImportError:
        pass


# ---------------------------------------------------------------- runner, init, warden
def _runner(shell, plan, limits, baseline, cmd_fd, res_fd, log_fd):
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    try:
        sandbox.confine(plan, limits, baseline)
        os.chdir(sandbox.WORK if plan.mechanisms.get("mounts") else plan.workdir)
    except OSError as err:
        os.write(2, f"sandbox confinement failed: {err}\n".encode())
        os._exit(71)
    home = os.getcwd()
    os.environ.update(HOME=home, MPLCONFIGDIR=home, CNNCOURSE_CACHE=os.path.join(home, ".cache"),
                      OMP_NUM_THREADS=str(limits.threads), NBGRADER_EXECUTION="autograde",
                      PYTHONHASHSEED="0")
    import torch
    torch.set_num_threads(limits.threads)
    run_cell = type(shell).run_cell  # held here: a student patching the shell cannot skip errors
    sys.stdout, sys.stderr = _Stream("stdout"), _Stream("stderr")
    while True:
        msg = receive(cmd_fd)
        if msg.get("exit"):
            os._exit(0)
        OUTPUTS.clear()
        result = run_cell(shell, msg["source"], store_history=True)
        outputs = list(OUTPUTS)
        if not result.success and not any(o["output_type"] == "error" for o in outputs):
            err = result.error_in_exec or result.error_before_exec
            outputs.append({"output_type": "error", "ename": type(err).__name__, "evalue": str(err),
                            "traceback": [f"{type(err).__name__}: {err}"]})
        send(res_fd, {"outputs": outputs, "execution_count": result.execution_count})


def _init(start_runner):
    """PID 1 of the namespace: start the runner, reap everything, exit with the runner's status."""
    pid = start_runner()
    while True:
        try:
            done, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if done == pid:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)


def _describe_exit(code):
    if code is None:
        return "the process vanished"
    if code > 128:
        sig = code - 128
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        extra = {"SIGXCPU": " (CPU-time limit)", "SIGKILL": " (killed, e.g. memory exhaustion or "
                 "os.kill)", "SIGSEGV": " (segmentation fault)"}.get(name, "")
        return f"killed by {name}{extra}"
    return f"exited with code {code} (os._exit/sys.exit from student code?)"


def _warden(shell, request, plan, limits, baseline, reply_fd):
    """Isolate, run every cell under the wall clock, report; kills the whole tree when done."""
    started = time.monotonic()
    deadline = started + limits.timeout
    if not plan.mechanisms.get("mounts"):  # fallback: a throwaway folder on the host
        import tempfile
        plan.workdir = tempfile.mkdtemp(prefix="cnngrader-")
    try:
        sandbox.isolate(plan, limits)
    except OSError as err:
        send(reply_fd, {"status": "crashed", "reason": f"sandbox setup failed: {err}", "cells": []})
        os._exit(0)
    cmd_r, cmd_w = os.pipe()
    res_r, res_w = os.pipe()
    log_r, log_w = os.pipe()

    def start_runner():
        pid = os.fork()
        if pid == 0:
            try:
                for fd in (cmd_w, res_r, log_r, reply_fd):
                    os.close(fd)
                _runner(shell, plan, limits, baseline, cmd_r, res_w, log_w)
            finally:
                os._exit(70)
        return pid

    init = os.fork()
    if init == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _init(start_runner)
    for fd in (cmd_r, res_w, log_w):
        os.close(fd)
    log = bytearray()
    cells, status, reason = [], "ok", ""

    def drain_log():
        while select.select([log_r], [], [], 0)[0]:
            chunk = os.read(log_r, 65536)
            if not chunk:
                break
            if len(log) < 20_000:
                log.extend(chunk[:20_000 - len(log)])

    try:
        for index, source in enumerate(request["cells"]):
            send(cmd_w, {"source": source})
            while True:
                drain_log()
                try:
                    cells.append(receive(res_r, min(deadline, time.monotonic() + 0.2)))
                    break
                except TimeoutError:
                    if time.monotonic() >= deadline:
                        raise
        send(cmd_w, {"exit": True})
    except TimeoutError:
        status = "timeout"
        reason = (f"stopped after {limits.timeout:g} s of wall-clock time while running code cell "
                  f"{len(cells) + 1} of {len(request['cells'])}")
    except (EOFError, BrokenPipeError, OSError):
        status = "crashed"
    except (ValueError, struct.error):
        status, reason = "crashed", "student code wrote into the grader's result channel"
    sandbox.kill_tree(init) if status != "ok" else None
    try:
        _, wait_status = os.waitpid(init, 0)
        code = os.waitstatus_to_exitcode(wait_status)
        code = code if code >= 0 else 128 - code
    except ChildProcessError:
        code = None
    drain_log()
    if status == "crashed" and not reason:
        reason = (f"the notebook's process died while running code cell {len(cells) + 1} of "
                  f"{len(request['cells'])}: {_describe_exit(code)}")
    elif status == "ok" and code not in (0, None):
        status, reason = "crashed", f"the notebook's process ended abnormally: {_describe_exit(code)}"
    if not plan.mechanisms.get("mounts"):
        import shutil
        shutil.rmtree(plan.workdir, ignore_errors=True)
    send(reply_fd, {"status": status, "reason": reason, "cells": cells,
                    "log": log.decode("utf-8", "replace")[-4000:],
                    "seconds": time.monotonic() - started})
    os._exit(0)


def serve(stdin_fd=0, stdout_fd=1):
    """The zygote's loop: one request in, one reply out, a fresh warden per request."""
    out = os.dup(stdout_fd)
    os.dup2(2, stdout_fd)  # stray prints must not corrupt the protocol
    hello = receive(stdin_fd)
    threads = int(hello.get("threads", 1))
    shell = warm_imports(threads)
    if os.environ.get("CNNGRADER_SANDBOX") == "off":  # measurements only: rlimits and kill remain
        mech = sandbox.Mechanisms(missing=["namespaces, private file view and uid switch disabled "
                                           "by CNNGRADER_SANDBOX=off"])
    else:
        mech = sandbox.probe(hello.get("uid", 65534))
    baseline = sandbox.address_space()
    send(out, {"ready": True, "mechanisms": asdict(mech), "threads": len(os.listdir("/proc/self/task"))})
    while True:
        try:
            request = receive(stdin_fd)
        except EOFError:
            os._exit(0)
        plan = sandbox.Plan(**request["plan"])
        plan.mechanisms = asdict(mech)
        plan.uid = int(hello.get("uid", plan.uid))  # one uid per worker slot: separate NPROC counts
        plan.expose = list(plan.expose) + sandbox.interpreter_paths()
        limits = sandbox.Limits(**request["limits"])
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                _warden(shell, request, plan, limits, baseline, w)
            finally:
                os._exit(70)
        os.close(w)
        try:
            reply = receive(r, time.monotonic() + limits.timeout + 60)
        except (EOFError, TimeoutError):
            sandbox.kill_tree(pid)
            reply = {"status": "crashed", "reason": "the sandbox warden failed", "cells": []}
        os.close(r)
        os.waitpid(pid, 0)
        reply["id"] = request.get("id")
        send(out, reply)


# ---------------------------------------------------------------- client side
class WarmWorker:
    """One zygote process; ``run(cells, plan, limits)`` executes a notebook's code cells."""

    def __init__(self, threads=1, uid=65534):
        self.uid = uid
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   MPLBACKEND="module://matplotlib_inline.backend_inline", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "cnngrader.warm"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, start_new_session=True, cwd="/")
        self.lock = threading.Lock()
        send(self.proc.stdin.fileno(), {"threads": threads, "uid": uid})
        hello = receive(self.proc.stdout.fileno(), time.monotonic() + 300)
        self.mechanisms = sandbox.Mechanisms(**hello["mechanisms"])

    def run(self, cells, plan, limits):
        with self.lock:
            request = {"cells": cells, "plan": asdict(plan), "limits": asdict(limits)}
            send(self.proc.stdin.fileno(), request)
            try:
                return receive(self.proc.stdout.fileno(), time.monotonic() + limits.timeout + 90)
            except (EOFError, TimeoutError) as err:
                self.close()
                raise RuntimeError(f"warm worker stopped answering ({type(err).__name__})") from None

    def close(self):
        """Kill the zygote, its process group and every process left under its sandbox uid, and
        return only when they are gone (SIGKILL is asynchronous: a fork bomb takes a moment)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()
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


if __name__ == "__main__":
    serve()
