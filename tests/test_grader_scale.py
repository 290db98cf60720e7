"""cnn-grader beyond one process: tasks on a Dask cluster, the gradebook on PostgreSQL."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from cnngrader import demo
from cnngrader.autograde import Options, autograde
from cnngrader.sandbox import Limits
from conftest import FULL, PARTIAL

PG_BIN = Path("/usr/lib/postgresql")
pytestmark = [pytest.mark.xdist_group("grader"), pytest.mark.slow]


@pytest.fixture(scope="module")
def small_class(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    solutions = root / "solutions"
    demo.build_class("ps1", tmp / "prep", solutions, tmp / "subs", kinds={"correct", "partial", "colab", "broken"})
    return tmp, solutions


EXPECTED = {"correct": ("graded", FULL), "partial": ("graded", PARTIAL), "colab": ("repaired", FULL),
            "broken": ("invalid", 0)}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on loopback (Debian's postgresql package), or None."""
    versions = sorted(PG_BIN.glob("*/bin/initdb")) if PG_BIN.exists() else []
    if not versions:
        yield None  # the test prints why PostgreSQL was left out
        return
    bindir = versions[-1].parent
    home = Path(tempfile.mkdtemp(prefix="cnngrader-pg-"))
    run_as = []
    if os.geteuid() == 0:  # postgres refuses to run as root: use the package's postgres user
        if shutil.which("runuser") is None:
            yield None
            return
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(home, "postgres")
    data, port = home / "data", _free_port()
    ctl = run_as + [str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(run_as + [str(bindir / "initdb"), "-D", str(data), "-U", "grader", "-A",
                                 "trust"], check=True, capture_output=True, text=True)
        subprocess.run(ctl + ["-l", str(home / "pg.log"), "-w", "-o",
                              f"-p {port} -k {home} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True, text=True)
        subprocess.run(run_as + [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                                 "grader", "gradebook"], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as err:
        print(f"PostgreSQL could not be started: {err.cmd[-1]}: {err.stderr.strip()[-500:]}")
        subprocess.run(ctl + ["-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
        yield None
        return
    try:
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(ctl + ["-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_dask_fan_out(small_class):
    """Notebooks run as tasks on a local Dask cluster, in the same sandbox, with the same budgets for all
    of a submission's processes together; the judge stays local."""
    distributed = pytest.importorskip("distributed")
    from cnngrader.pool import stop_remote_worker
    tmp, solutions = small_class
    subs = tmp / "dask-subs"
    demo.build_class("ps1", tmp / "dask-prep", solutions, subs, kinds={"hostile_fanout", "hostile_hog"})
    for student in EXPECTED:
        shutil.copytree(tmp / "subs" / student, subs / student)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        rows = autograde("ps1", subs, tmp / "out", course_dir=tmp / "course", solutions=solutions,
                         options=Options(dask_scheduler=client, limits=Limits(timeout=10), seed=3))
        client.run(stop_remote_worker)
    graded = {r.student: r for r in rows}
    assert {s: (graded[s].status, graded[s].score) for s in EXPECTED} == EXPECTED
    assert (graded["hostile_fanout"].status, graded["hostile_fanout"].score) == ("graded", 0)  # forks beside them
    assert "went over the 2048 MB memory limit" in graded["hostile_fanout"].reason
    assert graded["hostile_hog"].status == "timeout" and "used its 10 s of CPU time" in graded["hostile_hog"].reason


def test_postgresql_gradebook(small_class, postgres):
    """The gradebook on a real PostgreSQL server (nbgrader's db_url)."""
    if postgres is None:
        pytest.skip("no PostgreSQL server could be started here (apt-get install postgresql)")
    tmp, solutions = small_class
    rows = autograde("ps1", tmp / "subs", tmp / "out-pg", course_dir=tmp / "course-pg", solutions=solutions,
                     db_url=postgres, options=Options(workers=1, limits=Limits(timeout=30), seed=3))
    assert {r.student: (r.status, r.score) for r in rows} == EXPECTED
    assert not (tmp / "course-pg" / "gradebook.db").exists()
    from nbgrader.api import Gradebook
    with Gradebook(postgres, "cnn-course") as gb:
        assert gb.find_submission("ps1", "correct").score == FULL
        assert gb.find_submission("ps1", "partial").score == PARTIAL
