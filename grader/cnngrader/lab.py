"""``make lab``: JupyterLab on the course, the lectures and the student versions of the problem sets.

JupyterLab opens on ``lectures/``; the nbgrader extension (installed with the ``[grader]`` extra)
adds the *Validate* button to every notebook. The course's ``grader/nbgrader_config.py`` is on
Jupyter's config path, so nbgrader's formgrader sees this course.
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def command(root=".", port=8888, open_browser=True, token=None):
    """The ``jupyter lab`` command line for the course in ``root``."""
    args = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={Path(root).resolve()}",
            f"--ServerApp.port={port}", "--LabApp.default_url=/lab/tree/lectures"]
    if not open_browser:
        args.append("--no-browser")
    if token is not None:
        args.append(f"--IdentityProvider.token={token}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # containers and CI run as root; Jupyter refuses it otherwise
    return args


def environment(root="."):
    """The environment JupyterLab runs in: the course's nbgrader config on Jupyter's config path."""
    grader = str(Path(root, "grader").resolve())
    path = os.environ.get("JUPYTER_CONFIG_PATH")
    return {**os.environ, "JUPYTER_CONFIG_PATH": grader + (os.pathsep + path if path else "")}


def main(root=".", port=8888, open_browser=True):
    """Run JupyterLab in the foreground until Ctrl-C; its exit status."""
    print(f"JupyterLab on {Path(root).resolve()} (lectures/ and assignments/); stop it with Ctrl-C")
    try:
        return subprocess.call(command(root, port, open_browser), env=environment(root))
    except KeyboardInterrupt:
        return 0


@contextlib.contextmanager
def running(root=".", token="cnn-course", timeout=90, env=None, log=None):
    """A JupyterLab server on a port the OS picks (never one picked and then released); yields
    its base URL. The port is read back from the server's own runtime file."""
    runtime = Path(tempfile.mkdtemp(prefix="cnnlab"))
    env = {**environment(root), "JUPYTER_RUNTIME_DIR": str(runtime), **(env or {})}
    args = command(root, port=0, open_browser=False, token=token) + [
        "--ServerApp.ip=127.0.0.1", "--LabApp.expose_app_in_browser=True"]
    log = log or open(runtime / "jupyterlab.log", "w")
    server = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env)
    try:
        deadline = time.time() + timeout
        while not (info := _server_info(runtime)):
            if server.poll() is not None or time.time() > deadline:
                log.flush()
                text = Path(log.name).read_text()[-3000:] if hasattr(log, "name") else ""
                raise RuntimeError(f"JupyterLab did not start within {timeout} s:\n{text}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{info['port']}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _server_info(runtime):
    for path in runtime.glob("jpserver-*.json"):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None  # being written
    return None
