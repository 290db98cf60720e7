"""One submission's processes counted and capped together: control groups (root) and the /proc tree
that works for any user (``cnngrader.groups``)."""

import os
import signal
import sys
import time

import pytest

from cnngrader import groups
from cnngrader.sandbox import Limits

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="cgroups and /proc are Linux's")

V1 = """9:name=systemd:/
8:pids:/
4:memory:/process_api/abc
1:cpu,cpuacct:/
0::/
"""
V1_MOUNTS = """31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
36 31 0:33 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
42 31 0:39 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V2_IN_CONTAINER = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/grader.scope\n"
V2_MOUNTS = ("29 24 0:26 /user.slice/user-1000.slice /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 "
             "rw,nsdelegate\n")


def test_hierarchies_are_read_from_proc_text():
    found = groups.hierarchies(V1, V1_MOUNTS)
    assert found["memory"] == "/sys/fs/cgroup/memory/process_api/abc"
    assert found["pids"] == "/sys/fs/cgroup/pids/" and found["cpu"] == "/sys/fs/cgroup/cpu,cpuacct/"
    assert found["v2"] == "/sys/fs/cgroup/unified/"
    mounted_below = groups.hierarchies(V2_IN_CONTAINER, V2_MOUNTS)
    assert mounted_below == {"v2": "/sys/fs/cgroup/user@1000.service/app.slice/grader.scope"}


def test_layout_names_a_writable_hierarchy_or_says_why_not():
    version, where = groups.layout()
    if version is None:
        assert "no writable control group" in where and "delegated" in where
    else:
        assert version in ("v1", "v2") and all(os.access(p, os.W_OK) for p in where.values())
    if os.geteuid() != 0:
        assert version is None or version == "v2"  # v1 hierarchies are root's


def _child(fds, code):
    pid = os.fork()
    if pid == 0:
        try:
            groups.Group.join(fds)
            exec(code, {})
        finally:
            os._exit(0)
    for fd in fds:
        os.close(fd)
    return pid


@pytest.mark.root
@pytest.mark.skipif(groups.layout()[0] is None, reason="no writable control group here (an ordinary user)")
def test_a_group_caps_the_memory_of_all_its_processes_and_is_removed():
    group = groups.Group.make(f"cnngrader-test-{os.getpid()}", Limits(memory_mb=300, processes=8))
    try:
        code = ("import os, time\nkids = []\nfor _ in range(2):\n    kids.append(os.fork())\n    if not kids[-1]:\n"
                "        hold = b'x' * (200 * 2**20)\n        time.sleep(3)\n        os._exit(0)\n"
                "codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids]\n"
                "os._exit(9 if -9 in codes else 0)")
        pid = _child(group.entry(), code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 9  # 2 x 200 MB under 300 MB: one was killed
        assert group.oom_kills() >= 1
        sleeper = _child(group.entry(), "import time\ntime.sleep(60)")
        deadline = time.monotonic() + 5
        while sleeper not in group._members() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sleeper in group._members()
    finally:
        assert group.remove() == []
    assert os.waitpid(sleeper, 0)[1] == signal.SIGKILL  # emptied before it was removed
    assert not any(os.path.exists(os.path.join(p, group.name)) for p in groups.layout()[1].values())


def test_the_tree_counts_cpu_and_memory_of_every_descendant():
    tree = groups.Tree()
    try:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            if os.fork() == 0:  # a grandchild that allocates and burns CPU
                hold = b"x" * (300 * 2**20)
                end = time.process_time() + 1.0
                while time.process_time() < end:
                    pass
                os.write(write, b"1")
                time.sleep(30)
                os._exit(0)
            time.sleep(30)
            os._exit(0)
        os.read(read, 1)
        cpu, memory = tree.sample()
        for victim in memory:
            os.kill(victim, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        tree.close()
    assert cpu >= 0.9
    grandchild = max(memory, key=memory.get)
    assert pid in memory and memory[pid] < 50 * 2**20 and memory[grandchild] >= 280 * 2**20
