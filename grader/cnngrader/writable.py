"""The folders a grading command writes: refused at once, saying what to do, when this user cannot write them.

A course folder made by a run as root (``sudo make course``) or by a colleague cannot be written by an
ordinary user, and the gradebook only says so at its first write: after the workers started and the first
student was graded, as a database traceback.
"""

import os
import pwd
from pathlib import Path


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check(folder, option):
    """Raise ``SystemExit`` naming the first path in ``folder`` (or the folder it would be made in) that this
    user cannot write; ``option`` is the command-line option that chooses another folder."""
    folder = Path(folder).absolute()
    if not folder.exists():
        parent = next(p for p in folder.parents if p.exists())
        if not os.access(parent, os.W_OK | os.X_OK):
            raise SystemExit(f"cnn-grader: cannot make {folder}: {parent} is not writable for {_user(os.geteuid())}; "
                             f"choose another {option}")
        return
    blocked = next((p for p in (folder, *folder.rglob("*")) if not p.is_symlink() and not os.access(p, os.W_OK)),
                   None)
    if blocked is not None:
        me = _user(os.geteuid())
        raise SystemExit(f"cnn-grader: cannot write {blocked} (owned by {_user(blocked.stat().st_uid)}; you are {me}): "
                         f"a run as another user (sudo?) made it. Take the folder over (sudo chown -R {me} {folder}) "
                         f"or choose another {option}")
