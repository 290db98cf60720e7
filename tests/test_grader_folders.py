"""A folder the grader cannot write is refused before anything starts, with what to do: not a database
traceback after the workers started and the first student was graded.

A course folder made by a run as root (``sudo make course``) is the common case on a laptop. Root may
write anything, so the real refusal is tested as an ordinary user (CI runs this module as one too); the
message and the early stop are tested as any user.
"""

import os
import shutil

import pytest

from cnngrader import autograde, demo, feedback, writable


@pytest.fixture(scope="module")
def course(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("folders")
    demo.build_class("ps1", tmp / "course", root / "solutions", tmp / "subs", kinds={"correct"})
    return tmp


def test_a_path_this_user_cannot_write_stops_the_run_before_it_starts(course, root, monkeypatch):
    blocked = course / "course" / "gradebook.db"
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: real(path, mode) and str(path) != str(blocked))
    pools = []
    monkeypatch.setattr(autograde, "Pool", lambda *args: pools.append(args))
    with pytest.raises(SystemExit, match=r"cannot write .*gradebook\.db .*Take the folder over \(sudo chown -R \S+ "
                                         r".*course\) or choose another --course-dir"):
        autograde.autograde("ps1", course / "subs", course / "out", course_dir=course / "course",
                            solutions=root / "solutions")
    assert pools == []   # no worker was started
    with pytest.raises(SystemExit, match="choose another --course-dir"):
        feedback.feedback("ps1", course / "feedback", course_dir=course / "course", solutions=root / "solutions")


def test_a_folder_that_cannot_be_made_is_named_with_its_parent(course, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: real(path, mode) and str(path) != str(course))
    with pytest.raises(SystemExit, match=rf"cannot make {course}/new/out: {course} is not writable .*--out"):
        writable.check(course / "new" / "out", "--out")


def test_writable_folders_pass(course):
    writable.check(course / "course", "--course-dir")
    writable.check(course / "not yet made", "--out")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file: the refusal needs an ordinary user")
def test_a_read_only_gradebook_is_refused_for_an_ordinary_user(course, root, tmp_path):
    folder = tmp_path / "course"
    shutil.copytree(course / "course", folder)
    (folder / "gradebook.db").chmod(0o444)   # as a run under sudo leaves it, for this user
    with pytest.raises(SystemExit, match=r"cannot write .*gradebook\.db"):
        autograde.autograde("ps1", course / "subs", tmp_path / "out", course_dir=folder, solutions=root / "solutions")
