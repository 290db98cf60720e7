"""cnn-grader beyond one process: tasks on a Dask cluster, the gradebook on PostgreSQL."""

import os
import shutil
import socket
import subprocess
from pathlib import Path

import nbformat
import pytest

from cnngrader import demo
from cnngrader.autograde import Course, Options, autograde
from cnngrader.sandbox import Limits

PG_BIN = Path("/usr/lib/postgresql")


@pytest.fixture(scope="module")
def small_class(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    solutions = root / "tests" / "fixtures" / "solutions"
    course = Course(tmp / "prep", solutions)
    release = course.prepare("mini")
    source = nbformat.read(course.root / "source" / "mini" / "mini.ipynb", as_version=4)
    demo.make_class(release, source, tmp / "subs", name="mini",
                    kinds={"correct", "partial", "colab", "broken"})
    return tmp, solutions


EXPECTED = {"correct": ("graded", 5), "partial": ("graded", 2), "colab": ("repaired", 5),
            "broken": ("invalid", 0)}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """A throwaway PostgreSQL server on loopback (Debian's postgresql package), or a skip."""
    versions = sorted(PG_BIN.glob("*/bin/initdb")) if PG_BIN.exists() else []
    if not versions:
        yield None  # the test prints why PostgreSQL was left out
        return
    bindir = versions[-1].parent
    data = tmp_path_factory.mktemp("pg") / "data"
    run_as = []
    if os.geteuid() == 0:  # postgres refuses to run as root: use the package's postgres user
        if shutil.which("runuser") is None:
            yield None
            return
        run_as = ["runuser", "-u", "postgres", "--"]
        data.parent.chmod(0o777)
    port = _free_port()
    subprocess.run(run_as + [str(bindir / "initdb"), "-D", str(data), "-U", "grader", "-A", "trust"],
                   check=True, capture_output=True)
    log = data.parent / "pg.log"
    subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
                             f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        subprocess.run(run_as + [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                                 "grader", "gradebook"], check=True, capture_output=True)
        yield f"postgresql://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)


def test_dask_fan_out_with_postgresql_gradebook(small_class, postgres):
    """Notebooks run as tasks on a local Dask cluster; the one writer records into PostgreSQL."""
    distributed = pytest.importorskip("distributed")
    from cnngrader.autograde import stop_remote_worker
    tmp, solutions = small_class
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        rows = autograde("mini", tmp / "subs", tmp / "out", course_dir=tmp / "course",
                         solutions=solutions, db_url=postgres,
                         options=Options(dask_scheduler=client, limits=Limits(timeout=30)))
        client.run(stop_remote_worker)
    assert {r.student: (r.status, r.score) for r in rows} == EXPECTED
    if postgres is None:
        print("PostgreSQL part skipped: no PostgreSQL server could be started (apt-get install postgresql)")
        return
    assert not (tmp / "course" / "gradebook.db").exists()
    from nbgrader.api import Gradebook
    with Gradebook(postgres, "cnn-course") as gb:
        assert gb.find_submission("mini", "correct").score == 5
        assert gb.find_submission("mini", "partial").score == 2
