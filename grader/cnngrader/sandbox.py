"""Confine one student's code: namespaces, a private file view, an unprivileged user, rlimits.

Everything here runs in processes forked by the fork server (``cnngrader.zygote``):

* ``isolate(plan)`` runs in the *warden* (still privileged): new mount, network, IPC, UTS and PID
  namespaces; the paths in ``plan.hide`` are covered by empty read-only tmpfs (except the read-only
  ``plan.expose`` paths the interpreter needs, e.g. the virtual environment), and ``/tmp`` becomes a
  small private tmpfs holding the working copy.
* ``confine(plan, limits)`` runs in the *runner* (the process that executes student code): a fresh
  ``/proc``, resource limits, no new privileges, then an unprivileged uid/gid.

Which of these work depends on the machine (root, user namespaces, seccomp policies of a
container). ``probe()`` tries them once in a throwaway child; whatever is missing is reported in
``Mechanisms.missing`` and printed by the caller: the sandbox falls back loudly, never silently.
"""

import ctypes
import ctypes.util
import errno
import os
import resource
from dataclasses import dataclass, field

from cnngrader import groups

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 38, 4, 36

WORK = "/tmp/work"  # the working copy, as the student's code sees it

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


@dataclass
class Limits:
    """Per-submission limits (enforced with setrlimit; the wall clock by the warden's SIGKILL)."""

    timeout: float = 120.0     # CPU seconds for the notebook (each process); the wall clock is a backstop

    @property
    def wall(self):
        """The wall-clock backstop: generous, so a notebook starved by a busy machine is not cut."""
        return 3 * self.timeout + 30
    memory_mb: int = 2048      # RLIMIT_AS above the warm interpreter's own address space
    processes: int = 64        # RLIMIT_NPROC for the sandbox uid (bounds fork bombs)
    file_mb: int = 64          # RLIMIT_FSIZE: largest file the code may write
    disk_mb: int = 256         # size of the private /tmp holding the working copy
    open_files: int = 256      # RLIMIT_NOFILE
    threads: int = 1           # torch/OpenMP threads for the student's code


@dataclass
class Plan:
    """What the student's code may see: everything but ``hide``; of ``hide``, only ``expose``."""

    hide: list = field(default_factory=list)
    expose: list = field(default_factory=list)
    uid: int = 65534
    workdir: str = "/tmp"  # the working copy when mounts are unavailable (fallback)
    mechanisms: dict = field(default_factory=dict)  # asdict(Mechanisms) of what may be used


@dataclass
class Mechanisms:
    namespaces: bool = False   # mount/net/pid/ipc/uts namespaces (network cut, private /proc)
    user_namespace: bool = False  # namespaces obtained through an unprivileged user namespace
    mounts: bool = False       # hiding paths behind tmpfs
    setuid: bool = False       # running as a separate unprivileged uid
    cgroup: str = ""           # "v1" or "v2": a control group per submission
    missing: list = field(default_factory=list)

    def describe(self):
        done = ["rlimits (memory and CPU time per process, file size, open files)",
                "a CPU-time budget per notebook, for all its processes together; wall-clock SIGKILL of the "
                "whole process tree as a backstop"]
        if self.cgroup:
            done.append(f"a control group per submission (cgroup {self.cgroup}): the memory and the number of "
                        "all its processes together capped by the kernel, one CPU core's share, every process "
                        "killed before the group is removed")
        else:
            done.append(f"memory of all the submission's processes together, watched every {groups.POLL:g} s (the largest "
                        "process is killed when they go over)")
        if self.setuid or self.user_namespace:
            done.append("a process cap per submission (RLIMIT_NPROC of its own uid or user namespace)")
        if self.namespaces:
            done.append("no network (empty network namespace)")
            done.append("own PID namespace (all processes killed with it)")
        if self.mounts:
            done.append("private file view (course, sources, gradebook, other students hidden); the whole "
                        "file system read-only except a private /tmp")
        if self.setuid:
            done.append("unprivileged uid")
        return done


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags):
    _check(_libc.unshare(flags), "unshare")


def mount(source, target, fstype=None, flags=0, data=None):
    enc = (lambda s: s.encode() if s is not None else None)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 1


def read_only_tree(path="/"):
    """Every mount under ``path`` read-only (``mount_setattr`` with ``AT_RECURSIVE``)."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    _check(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), AT_RECURSIVE, ctypes.byref(attr),
                         ctypes.sizeof(attr)), f"read-only {path}")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _enter_namespaces(mech):
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    if mech.get("user_namespace"):
        uid, gid = os.getuid(), os.getgid()
        unshare(CLONE_NEWUSER | flags)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    else:
        unshare(flags)


def _outermost(paths):
    kept = []
    for p in sorted({os.path.realpath(p) for p in paths}, key=len):
        if os.path.isdir(p) and not any(p == k or p.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(p)
    return kept


def isolate(plan, limits):
    """In the warden: new namespaces and the private file view. Returns the working directory."""
    mech = plan.mechanisms
    if mech.get("namespaces"):
        _enter_namespaces(mech)
    if not mech.get("mounts"):
        return None
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    read_only_tree("/")  # only the private /tmp (with the working folder) is writable below
    inside = (lambda p, h: p.startswith(h.rstrip("/") + "/"))
    every = [os.path.realpath(p) for p in plan.hide if os.path.isdir(p)]
    hidden = _outermost(every + ["/tmp"])
    # keep handles on what must stay visible before covering its parents (never a hidden folder)
    exposed = _outermost([p for p in map(os.path.realpath, plan.expose)
                          if not any(p == h or inside(h, p) for h in hidden)])
    handles = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in exposed]
    for h in hidden:
        size = f"size={limits.disk_mb}m,mode=1777" if h == "/tmp" else "size=1m,mode=0755"
        mount("tmpfs", h, "tmpfs", MS_NOSUID | MS_NODEV, size)
    for path, fd in handles:
        if any(inside(path, h) for h in hidden):
            os.makedirs(path, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
        os.close(fd)
    for h in every:  # a hidden folder inside an exposed one is covered again
        if any(inside(h, e) for e in exposed):
            mount("tmpfs", h, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=1m,mode=0755")
    for h in hidden:
        if h != "/tmp":
            mount(None, h, None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_RDONLY, "size=1m,mode=0755")
    os.makedirs(WORK, mode=0o700)
    if mech.get("setuid"):
        os.chown(WORK, plan.uid, plan.uid)
    return WORK


def confine(plan, limits, baseline_vm):
    """In the runner (PID 2 of the new namespace): /proc, rlimits, no new privileges, drop the uid."""
    mech = plan.mechanisms
    if mech.get("namespaces") and mech.get("mounts"):
        try:
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            pass  # some container runtimes forbid a fresh /proc; the PID namespace still holds
    cpu = max(1, int(limits.timeout))
    memory = baseline_vm + limits.memory_mb * 2**20
    # counted per uid: the sandbox uid as root, or (as an ordinary user) the processes of the
    # submission's own user namespace, since the kernel keeps those counts per namespace
    contained = mech.get("setuid") or mech.get("user_namespace")
    nproc = limits.processes if contained else resource.RLIM_INFINITY
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU at the budget, SIGKILL 5 s later
    for name, value in [("RLIMIT_AS", memory), ("RLIMIT_NPROC", nproc),
                        ("RLIMIT_FSIZE", limits.file_mb * 2**20), ("RLIMIT_NOFILE", limits.open_files),
                        ("RLIMIT_CORE", 0)]:
        _, hard = resource.getrlimit(getattr(resource, name))
        if hard != resource.RLIM_INFINITY and (value == resource.RLIM_INFINITY or value > hard):
            value = hard
        resource.setrlimit(getattr(resource, name), (value, value))
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if mech.get("setuid"):
        os.setgroups([])
        os.setgid(plan.uid)
        os.setuid(plan.uid)
    if not mech.get("namespaces"):
        os.setsid()  # fallback: at least a process group to kill


def subreaper():
    """Orphaned descendants of this process become its children (not init's): none leaves its tree."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def undumpable():
    """No ptrace and no /proc/<pid>/mem of this process for processes of the same uid."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def interpreter_paths():
    """Folders the Python running this code needs to read: its installation, venv and packages."""
    import sys
    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(p for p in sys.path if p and os.path.isdir(p))
    for name in ("cnncourse", "cnngrader"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            paths.add(os.path.dirname(os.path.realpath(module.__file__)))
    return sorted(paths)


def address_space():
    """Bytes of virtual memory this process already maps (the warm interpreter's baseline)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _try(fn):
    """Run ``fn`` in a throwaway child; True if it returned without raising."""
    pid = os.fork()
    if pid == 0:
        try:
            fn()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def probe(uid=65534):
    """Which isolation mechanisms work here (tested in throwaway children)."""
    mech = Mechanisms()
    root = os.geteuid() == 0
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    if root and _try(lambda: unshare(flags)):
        mech.namespaces = True
    elif _try(lambda: _enter_namespaces({"user_namespace": True})):
        mech.namespaces = mech.user_namespace = True
    else:
        mech.missing.append("namespaces (no network cut, no PID namespace): unshare() is not permitted")

    def mounts():
        _enter_namespaces({"user_namespace": mech.user_namespace})
        mount("none", "/", None, MS_REC | MS_PRIVATE)
        read_only_tree("/")
        mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m")

    if mech.namespaces and _try(mounts):
        mech.mounts = True
    else:
        mech.missing.append("private read-only file view: mounting is not permitted, instructor files "
                            "stay readable and the disk writable by student code")

    try:
        group = groups.Group.make(f"cnngrader-probe-{os.getpid()}", Limits())
        if group is None:
            mech.missing.append("control groups: " + groups.layout()[1] + "; memory is watched by polling instead, "
                                "processes are capped by RLIMIT_NPROC")
        else:
            mech.cgroup = group.version
            group.remove()
    except OSError as err:
        mech.missing.append(f"control groups: making one failed ({err}); memory is watched by polling instead")

    def drop():
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)

    if root and not mech.user_namespace and _try(drop):
        mech.setuid = True
    else:
        if not mech.user_namespace:
            mech.missing.append("process cap: neither a sandbox uid nor a user namespace, so RLIMIT_NPROC would "
                                "count every process of the grader's user; a fork bomb is stopped by the "
                                "PID namespace and the wall-clock backstop only")
        mech.missing.append("unprivileged uid: not running as root, student code runs as the "
                            "grader's user (inside the namespaces where available)")
    return mech


def kill_tree(pid):
    """SIGKILL ``pid`` (the PID namespace's init, or a session leader in the fallback)."""
    for target in (pid, -pid):
        try:
            os.kill(target, 9)
        except OSError as err:
            if err.errno not in (errno.ESRCH, errno.EPERM):
                raise

