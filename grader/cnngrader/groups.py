"""One submission's processes, capped and counted together.

* ``Group`` is a control group per submission, where the grader may make one: cgroup v2 with the
  ``memory`` and ``pids`` controllers enabled below the grader's own cgroup (root, or a delegated
  subtree), or the cgroup v1 ``memory`` and ``pids`` hierarchies (root). The kernel then caps the
  memory and the process count of the whole tree, holds it to its share of the CPU, and the group
  is emptied (every process killed) before it is removed.
* ``Tree`` reads the warden's descendants from ``/proc``, which works for any user: their CPU time
  together (the notebook's budget) and their memory together (the watchdog's measure, where no
  control group caps it).
"""

import errno
import os
import signal
import time

V1 = ("memory", "pids", "cpu")  # the cgroup v1 hierarchies used (cpu where mounted)
POLL = 0.1  # seconds between two looks at a submission's processes


def hierarchies(cgroup, mountinfo):
    """{"v2": folder} and {controller: folder} for v1: where a process's own cgroups are, from the text of
    its ``/proc/<pid>/cgroup`` and ``/proc/<pid>/mountinfo``."""
    own = {}
    for line in cgroup.splitlines():
        number, controllers, path = line.split(":", 2)
        for name in (["v2"] if number == "0" and not controllers else controllers.split(",")):
            own[name] = path
    found = {}
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, (fstype, _, options) = left.split(), right.split()[:3]
        root, point = fields[3], fields[4]
        names = ["v2"] if fstype == "cgroup2" else options.split(",") if fstype == "cgroup" else []
        for name in names:
            if name in own and name not in found and own[name].startswith(root):
                found[name] = os.path.join(point, own[name][len(root):].lstrip("/"))
    return found


def _enabled(folder):
    try:
        with open(os.path.join(folder, "cgroup.subtree_control")) as f:
            return set(f.read().split())
    except OSError:
        return set()


def layout():
    """("v2", {"v2": parent}) or ("v1", {controller: parent}) where new groups may go, or a reason why none."""
    with open("/proc/self/cgroup") as cgroup, open("/proc/self/mountinfo") as mountinfo:
        found = hierarchies(cgroup.read(), mountinfo.read())
    v2 = found.get("v2")
    if v2 and {"memory", "pids"} <= _enabled(v2) and os.access(v2, os.W_OK):
        return "v2", {"v2": v2}
    v1 = {c: found[c] for c in V1 if c in found and os.access(found[c], os.W_OK)}
    if {"memory", "pids"} <= set(v1):
        return "v1", v1
    return None, ("no writable control group: that takes root, or a cgroup v2 subtree delegated to this "
                  "user with the memory and pids controllers enabled for its children")


class Group:
    """A control group for one submission (a folder per hierarchy); ``make`` creates one, ``remove`` empties and
    removes it. It works through descriptors opened when it is made, so it still can once the warden's file view
    has gone read-only."""

    def __init__(self, version, name, parents):
        self.version, self.name = version, name
        self.parents = {c: os.open(p, os.O_RDONLY | os.O_DIRECTORY) for c, p in parents.items()}

    @classmethod
    def make(cls, name, limits):
        """A new group ``name`` with ``limits``, or ``None`` where no control group is writable."""
        version, parents = layout()
        if not version:
            return None
        group = cls(version, name, parents)
        try:
            for fd in group.parents.values():
                os.mkdir(name, dir_fd=fd)
            group._limit(limits)
        except OSError:
            group.remove()
            raise
        return group

    @classmethod
    def clear(cls, name):
        """Empty and remove the groups called ``name`` that are left (their warden was killed)."""
        version, parents = layout()
        if version:
            cls(version, name, {c: p for c, p in parents.items() if os.path.isdir(os.path.join(p, name))}).remove()

    def _open(self, controller, filename, flags=os.O_RDONLY):
        return os.open(f"{self.name}/{filename}", flags, dir_fd=self.parents[controller])

    def _read(self, controller, filename):
        fd = self._open(controller, filename)
        try:
            return os.read(fd, 1 << 16).decode()
        finally:
            os.close(fd)

    def _write(self, controller, filename, value):
        fd = self._open(controller, filename, os.O_WRONLY)
        try:
            os.write(fd, str(value).encode())
        finally:
            os.close(fd)

    def _has(self, controller, filename):
        return os.access(f"{self.name}/{filename}", os.F_OK, dir_fd=self.parents[controller])

    def _limit(self, limits):
        memory, cores = limits.memory_mb * 2**20, max(1, limits.threads)
        if self.version == "v2":
            self._write("v2", "memory.max", memory)
            self._write("v2", "pids.max", limits.processes)
            if self._has("v2", "memory.swap.max"):
                self._write("v2", "memory.swap.max", 0)
            if self._has("v2", "cpu.max"):
                self._write("v2", "cpu.max", f"{cores * 100_000} 100000")
            return
        self._write("memory", "memory.limit_in_bytes", memory)
        if self._has("memory", "memory.memsw.limit_in_bytes"):
            self._write("memory", "memory.memsw.limit_in_bytes", memory)  # no escape into swap
        self._write("pids", "pids.max", limits.processes)
        if "cpu" in self.parents:
            self._write("cpu", "cpu.cfs_quota_us", cores * int(self._read("cpu", "cpu.cfs_period_us")))

    def entry(self):
        """Descriptors on the groups' ``cgroup.procs``, for ``join``."""
        return [self._open(c, "cgroup.procs", os.O_WRONLY) for c in self.parents]

    @staticmethod
    def join(fds):
        """In the process that enters: move itself (``0``) into every group, then close the descriptors."""
        for fd in fds:
            os.write(fd, b"0")
            os.close(fd)

    def oom_kills(self):
        """How many processes the kernel killed for going over the group's memory."""
        controller, name = ("v2", "memory.events") if self.version == "v2" else ("memory", "memory.oom_control")
        try:
            return sum(int(line.split()[1]) for line in self._read(controller, name).splitlines()
                       if line.startswith("oom_kill "))
        except OSError:
            return 0

    def _members(self):
        pids = set()
        for controller in self.parents:
            try:
                pids.update(int(p) for p in self._read(controller, "cgroup.procs").split())
            except OSError:
                pass
        return pids

    def remove(self, wait=5.0):
        """Kill every process still in the group, then remove it (a bounded wait for the kernel); the
        folders that could not be removed."""
        deadline, left = time.monotonic() + wait, list(self.parents.items())
        while left:
            for pid in self._members():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            busy = []
            for controller, fd in left:
                try:
                    os.rmdir(self.name, dir_fd=fd)
                except FileNotFoundError:
                    pass
                except OSError as err:
                    if err.errno != errno.EBUSY:
                        raise
                    busy.append((controller, fd))
            left = busy
            if left and time.monotonic() < deadline:
                time.sleep(0.02)
            else:
                break
        for fd in self.parents.values():
            os.close(fd)
        self.parents = {}
        return [c for c, _ in left]


class Tree:
    """The warden's descendants, read through the ``/proc`` it saw before entering new namespaces."""

    def __init__(self):
        self.root = os.getpid()
        self.proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
        self.tick = os.sysconf("SC_CLK_TCK")
        self.baseline = self._anon(self.root) or 0  # what every fresh fork already maps, shared

    def _read(self, pid, name):
        fd = os.open(f"{pid}/{name}", os.O_RDONLY, dir_fd=self.proc)
        try:
            return os.read(fd, 4096).decode()
        finally:
            os.close(fd)

    def _anon(self, pid):
        try:
            for line in self._read(pid, "status").splitlines():
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None

    def sample(self):
        """(CPU seconds of every descendant, reaped children included; {pid: anonymous memory above the
        warden's own}). Copy-on-write pages a process shares with its parent count once per process."""
        parents, times = {}, {}
        for entry in os.listdir(self.proc):
            if entry.isdigit():
                try:
                    fields = self._read(entry, "stat").rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                parents[int(entry)] = int(fields[1])
                times[int(entry)] = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        children = {}
        for pid, parent in parents.items():
            children.setdefault(parent, []).append(pid)
        found, todo = [], list(children.get(self.root, []))
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        memory = {pid: max(0, (self._anon(pid) or 0) - self.baseline) for pid in found}
        return sum(times[p] for p in found) / self.tick, memory

    def close(self):
        os.close(self.proc)
