"""The fork server: torch imported once, a fresh sandboxed process tree per notebook.

``python -m cnngrader.zygote`` starts from a minimal environment (``worker.py`` passes no
instructor variables), imports numpy, torch, matplotlib and IPython, builds the IPython shell,
then serves requests read from stdin. For each request it forks::

    zygote ── warden (namespaces, private read-only file view; runs the cells under the clock)
                └─ init (PID 1 of a fresh PID namespace: when it goes, every process goes)
                     └─ runner (rlimits, unprivileged uid; ``cnngrader.runner``: student code)

The zygote never decodes a request or a reply: it reads each frame into a buffer, forks the
warden (which parses the request), forwards the warden's reply and zeroes both buffers, so no
student's cells or outputs stay in the memory the next student's processes inherit. The runner
keeps only its own two pipes (``close_range``); the warden validates every frame it reads.
"""

import os
import select
import signal
import sys
import time
from dataclasses import asdict

from cnngrader import groups, protocol, runner, sandbox


CACHED = {}  # file name -> bytes of the datasets every sandbox's empty cache starts with (public data)


class OverBudget(Exception):
    """The submission's processes together used up its CPU time."""


def warm_imports(threads=1):
    """The heavy imports every problem set needs, done once before any fork."""
    import matplotlib
    matplotlib.use("module://matplotlib_inline.backend_inline")
    import matplotlib.pyplot as plt
    import numpy  # noqa: F401
    import torch
    import torch._dynamo  # noqa: F401  (the first optimizer step would import it: ~0.8 s)
    import torch.nn.functional  # noqa: F401
    torch.set_num_threads(threads)
    import cnncourse.checks  # noqa: F401
    import cnncourse.probe  # noqa: F401
    from cnncourse import plots
    _warm_up(torch, plt)
    plots.use_style()
    import bdb, pdb  # noqa: F401,E401  (IPython imports these lazily on the first error)
    shell = runner.make_shell()
    shell.enable_matplotlib("inline")
    shell.run_cell("1", store_history=False)  # warms IPython's own lazy imports
    _cache_datasets()
    return shell


def _cache_datasets():
    """MNIST-1D as the problem sets load it, made once in the grader's own cache and kept here, so that
    each notebook finds it in its empty cache instead of generating it again (1-2 s a notebook)."""
    from cnncourse import data
    data.mnist1d()
    CACHED[data.mnist1d_file().name] = data.mnist1d_file().read_bytes()


def _warm_up(torch, plt):
    """Run once what every notebook pays for on first use: autograd, an optimizer step (which
    imports torch._dynamo) and a drawn figure. Single-threaded, so forking afterwards is safe."""
    x = torch.randn(1, 1, 16, requires_grad=True)
    torch.nn.functional.conv1d(x, torch.randn(2, 1, 3)).sum().backward()
    torch.optim.Adam([x], lr=0.1).step()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="warm")
    ax.legend()
    fig.canvas.draw()
    plt.close(fig)


# ---------------------------------------------------------------- runner, init, warden
def _start_runner(shell, plan, limits, baseline, ident, cmd_r, res_w, log_w):
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(log_w, 1)
    os.dup2(log_w, 2)
    import fcntl
    cmd_r, res_w = (fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (cmd_r, res_w))  # out of the way of 3, 4
    os.dup2(cmd_r, runner.CHANNEL_IN)
    os.dup2(res_w, runner.CHANNEL_OUT)
    _keep_only(0, 1, 2, runner.CHANNEL_IN, runner.CHANNEL_OUT)  # nothing of the grader's stays open
    try:
        sandbox.confine(plan, limits, baseline)
        os.chdir(sandbox.WORK if plan.mechanisms.get("mounts") else plan.workdir)
    except OSError as err:
        os.write(2, f"sandbox confinement failed: {err}\n".encode())
        os._exit(71)
    home = os.getcwd()
    os.environ.clear()
    os.environ.update(HOME=home, MPLCONFIGDIR=home, CNNCOURSE_CACHE=os.path.join(home, ".cache"),
                      OMP_NUM_THREADS=str(limits.threads), NBGRADER_EXECUTION="autograde",
                      PYTHONHASHSEED="0", PATH="/usr/bin:/bin", LANG="C.UTF-8")
    os.makedirs(os.environ["CNNCOURSE_CACHE"], exist_ok=True)
    for name, blob in CACHED.items():
        with open(os.path.join(os.environ["CNNCOURSE_CACHE"], name), "wb") as f:
            f.write(blob)
    runner.serve(shell, ident, limits.threads)


def _keep_only(*fds):
    """Close every descriptor but ``fds``."""
    low = 0
    for fd in sorted(set(fds)):
        if fd > low:  # os.closerange with an empty range closes more than nothing
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


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


def describe_exit(code):
    if code is None:
        return "the process vanished"
    if code > 128:
        sig = code - 128
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        extra = {"SIGXCPU": " (CPU-time limit)", "SIGKILL": " (killed, e.g. memory exhaustion or "
                 "os.kill)", "SIGSEGV": " (segmentation fault)"}.get(name, "")
        return f"killed by {name}{extra}"
    return f"exited with code {code} (os._exit/sys.exit from student code?)"


class Warden:
    """Runs one request in a fresh sandbox and reports; kills the whole tree when done."""

    def __init__(self, shell, request, mechanisms, baseline):
        self.shell, self.baseline = shell, baseline
        self.ident = int(request["id"])
        self.cells, self.cases = request["cells"], request["probes"]
        self.plan = sandbox.Plan(**request["plan"])
        self.plan.mechanisms = mechanisms
        self.plan.uid = mechanisms["uid"]
        self.plan.expose = list(self.plan.expose) + sandbox.interpreter_paths()
        self.limits = sandbox.Limits(**request["limits"])
        self.log = bytearray()

    def run(self):
        """The reply for this request; the submission's control group and /proc handle are released."""
        self.tree, self.group, self.memory_kills, self.notes = groups.Tree(), None, 0, []
        sandbox.subreaper()
        try:
            return self._run()
        finally:
            if self.group is not None:
                self.group.remove()
            for pid in self.tree.sample()[1]:  # without a PID namespace: what escaped its process group
                sandbox.kill_tree(pid)
            self.tree.close()

    def _run(self):
        started = time.monotonic()
        self.deadline, self.next_check = started + self.limits.wall, 0.0
        if not self.plan.mechanisms.get("mounts"):  # fallback: a throwaway folder on the host
            import tempfile
            self.plan.workdir = tempfile.mkdtemp(prefix="cnngrader-")
        if self.plan.mechanisms.get("cgroup"):
            try:
                self.group = groups.Group.make(f"cnngrader-{os.getpid()}", self.limits)
            except OSError as err:  # e.g. the parent group is full: the watchdog stands in, and says so
                self.notes.append(f"no control group for this notebook ({err.strerror}): its memory was watched")
        try:
            entry = self.group.entry() if self.group else []
            sandbox.isolate(self.plan, self.limits)
        except OSError as err:
            return {"status": "crashed", "reason": f"sandbox setup failed: {err}", "cells": [], "probes": None}
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        self.log_r, log_w = os.pipe()

        def start_runner():
            pid = os.fork()
            if pid == 0:
                try:
                    _start_runner(self.shell, self.plan, self.limits, self.baseline, self.ident, cmd_r, res_w, log_w)
                finally:
                    os._exit(70)
            return pid

        init = os.fork()
        if init == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            groups.Group.join(entry)  # before any process of the submission exists
            _keep_only(0, 1, 2, cmd_r, res_w, log_w)
            sandbox.undumpable()
            _init(start_runner)
        for fd in [cmd_r, res_w, log_w] + entry:
            os.close(fd)
        cells, probes, status, reason = [], None, "ok", ""

        def where():
            return (f"code cell {len(cells) + 1} of {len(self.cells)}" if len(cells) < len(self.cells)
                    else "the judge's calls of your functions")
        cpu_spent = f"used its {self.limits.timeout:g} s of CPU time while running "
        try:
            for source in self.cells:
                cells.append(self._ask({"cell": source}, _check_cell))
            probes = self._ask({"probe": self.cases}, _check_probes(len(self.cases)))["probes"]
            protocol.send(self.cmd_w, {"exit": True}, self.ident)
        except TimeoutError:
            status = "timeout"
            reason = f"stopped after {self.limits.wall:g} s of wall-clock time (the backstop) while running {where()}"
        except OverBudget:
            status, reason = "timeout", cpu_spent + where()
        except (EOFError, BrokenPipeError, OSError):
            status = "crashed"
        except protocol.FrameError as err:
            status, reason = "crashed", f"the notebook's process sent a malformed reply ({err})"
        if status == "timeout" or reason:
            sandbox.kill_tree(init)
        code = _reap(init, time.monotonic() + (1 if status != "ok" else 5))  # a dead runner: its own exit code
        self._drain()
        if status == "crashed" and code == 128 + signal.SIGXCPU:
            status, reason = "timeout", cpu_spent + where()
        elif status == "crashed" and not reason:
            reason = f"the notebook's process died while running {where()}: {describe_exit(code)}"
        elif status == "ok" and code not in (0, None):
            status, reason = "crashed", f"the notebook's process ended abnormally: {describe_exit(code)}"
        if not self.plan.mechanisms.get("mounts"):
            import shutil
            shutil.rmtree(self.plan.workdir, ignore_errors=True)
        return {"status": status, "reason": reason, "cells": cells, "probes": probes, "notes": self._notes(),
                "log": self.log.decode("utf-8", "replace")[-4000:], "seconds": time.monotonic() - started}

    def _notes(self):
        kills = self.memory_kills + (self.group.oom_kills() if self.group is not None else 0)
        if not kills:
            return self.notes
        return self.notes + [f"its processes together went over the {self.limits.memory_mb} MB memory limit: "
                             f"{kills} process{'es were' if kills > 1 else ' was'} killed"]

    def _ask(self, message, check):
        protocol.send(self.cmd_w, message, self.ident)
        while True:
            self._police()
            left = self.deadline - time.monotonic()
            ready = select.select([self.res_r, self.log_r], [], [], max(0.0, min(groups.POLL, left)))[0]
            if not ready and left <= groups.POLL:
                raise TimeoutError
            if self.log_r in ready:
                self._drain()
            if self.res_r in ready:
                reply = protocol.receive(self.res_r, self.deadline, expect=self.ident)
                check(reply)
                return reply

    def _police(self):
        """Every ``groups.POLL`` seconds or so: the CPU time of all the submission's processes together
        against its budget and, where no control group caps it, their memory (the largest is killed)."""
        now = time.monotonic()
        if now < self.next_check:
            return
        cpu, memory = self.tree.sample()
        # on a server with thousands of processes a look takes longer: then look less often (<= 10 %)
        self.next_check = now + max(groups.POLL, 10 * (time.monotonic() - now))
        if cpu > self.limits.timeout + 2:  # a lone process meets its RLIMIT_CPU first
            raise OverBudget
        if self.group is None and sum(memory.values()) > self.limits.memory_mb * 2**20:
            try:
                os.kill(max(memory, key=memory.get), signal.SIGKILL)
                self.memory_kills += 1
            except OSError:
                pass

    def _drain(self):
        while select.select([self.log_r], [], [], 0)[0]:
            chunk = os.read(self.log_r, 65536)
            if not chunk:
                break
            if len(self.log) < 20_000:
                self.log.extend(chunk[:20_000 - len(self.log)])


def _check_cell(reply):
    outputs = reply.get("outputs") if isinstance(reply, dict) else None
    if not isinstance(outputs, list) or not all(isinstance(o, dict) and isinstance(o.get("output_type"), str)
                                                for o in outputs):
        raise protocol.FrameError("a cell reply without a list of outputs")
    if not isinstance(reply.get("execution_count"), (int, type(None))):
        raise protocol.FrameError("a cell reply with a bad execution count")
    reply["outputs"] = [{"output_type": "stream", "name": "stderr", "text": (
        f"[cnn-grader: an output nested more than {protocol.DEPTH} levels deep was left out]\n")}
        if protocol.too_deep(o) else o for o in outputs]


def _check_probes(count):
    def check(reply):
        probes = reply.get("probes") if isinstance(reply, dict) else None
        if not isinstance(probes, list) or len(probes) != count or not all(isinstance(p, dict) for p in probes):
            raise protocol.FrameError(f"a probe reply without {count} results")
        reply["probes"] = [{"error": f"the answer nests more than {protocol.DEPTH} levels deep: too deep to be judged"}
                           if protocol.too_deep(p) else p for p in probes]
    return check


def _reap(pid, deadline):
    """Wait for ``pid`` until ``deadline``, then kill its tree; its exit code (None if unknown)."""
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code
        if time.monotonic() > deadline:
            sandbox.kill_tree(pid)
            os.waitpid(pid, 0)
            return 128 + signal.SIGKILL
        time.sleep(0.01)


def _run_warden(shell, buffer, size, mechanisms, baseline, reply_w):
    import json
    request = json.loads(bytes(buffer[protocol.HEADER.size:size]))
    protocol.wipe(buffer, size)
    try:
        reply = Warden(shell, request, mechanisms, baseline).run()
    except Exception as err:  # a bug of the warden itself: say so, for this student only
        reply = {"status": "crashed", "reason": f"the sandbox warden failed: {type(err).__name__}: {err}",
                 "cells": [], "probes": None}
    protocol.send(reply_w, reply, int(request["id"]))


def serve(stdin_fd=0, stdout_fd=1):
    """The zygote's loop: one request in, one reply out, a fresh warden per request."""
    out = os.dup(stdout_fd)
    os.dup2(2, stdout_fd)  # stray prints must not corrupt the protocol
    hello = protocol.receive(stdin_fd)
    shell = warm_imports(int(hello.get("threads", 1)))
    if os.environ.get("CNNGRADER_SANDBOX") == "off":  # measurements only: rlimits and kill remain
        mech = sandbox.Mechanisms(missing=["namespaces, private file view and uid switch disabled "
                                           "by CNNGRADER_SANDBOX=off"])
    else:
        mech = sandbox.probe(hello.get("uid", 65534))
    baseline = sandbox.address_space()
    protocol.send(out, {"ready": True, "mechanisms": asdict(mech)})
    mechanisms = asdict(mech)
    mechanisms["uid"] = int(hello.get("uid", 65534))
    request_buf, reply_buf = bytearray(protocol.LIMIT + 64), bytearray(protocol.LIMIT + 64)
    while True:
        try:
            ident, size = protocol.read_raw(stdin_fd, request_buf)
        except EOFError:
            os._exit(0)
        reply_r, reply_w = os.pipe()
        try:
            pid = os.fork()
        except OSError as err:
            protocol.wipe(request_buf, size)
            protocol.send(out, {"status": "crashed", "reason": f"could not start a sandbox: {err}", "cells": [],
                                "probes": None}, ident)
            continue
        if pid == 0:
            os.close(reply_r)
            os.close(out)
            try:
                _run_warden(shell, request_buf, size, mechanisms, baseline, reply_w)
            finally:
                os._exit(70)
        os.close(reply_w)
        protocol.wipe(request_buf, size)
        limits = hello.get("backstop", 600)
        try:
            _, length = protocol.read_raw(reply_r, reply_buf, time.monotonic() + limits)
            protocol.write_raw(out, reply_buf, length)
            protocol.wipe(reply_buf, length)
        except (EOFError, TimeoutError, protocol.FrameError) as err:
            sandbox.kill_tree(pid)
            protocol.send(out, {"status": "crashed", "reason": f"the sandbox warden failed ({type(err).__name__})",
                                "cells": [], "probes": None}, ident)
        os.close(reply_r)
        os.waitpid(pid, 0)
        if mechanisms.get("cgroup"):
            groups.Group.clear(f"cnngrader-{pid}")


if __name__ == "__main__":
    sys.setrecursionlimit(10_000)
    serve()
