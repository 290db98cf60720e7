"""What a grading run writes: ``grades.csv``, the graded notebooks and ``sandbox.txt``."""

import csv
import shutil
from dataclasses import dataclass, field

COLUMNS = ["student", "assignment", "score", "max_score", "status", "flags", "reason"]


@dataclass
class Row:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"      # graded, repaired, invalid, timeout, crashed, missing (pending, interrupted)
    flags: list = field(default_factory=list)
    reason: str = ""

    def as_csv(self):
        return [self.student, self.assignment, f"{self.score:g}", f"{self.max_score:g}", self.status,
                "; ".join(self.flags), self.reason]


def reason(recorded, verdicts, max_score):
    """The reason column from the points nbgrader recorded per test cell, with the judge's words; items lost
    for the same reason (code outside the functions that costs every item) are named together."""
    groups = {}
    for gid, (score, top) in recorded.items():
        if gid in verdicts and score < top:
            groups.setdefault(verdicts[gid][1], []).append(f"{gid} {score:g}/{top:g}")
    lost = [f"{', '.join(items)}: {why}" for why, items in groups.items()]
    manual = max_score - sum(top for gid, (_, top) in recorded.items())
    text = ("lost " + "; ".join(lost)) if lost else "every judged test passed"
    return text + (f" ({manual:g} points to grade by hand)" if manual > 0 else "")


def write_grades(rows, path):
    # a reason quotes what a student's code returned: whatever it holds, escaped, never a failed write
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(r.as_csv() for r in rows)


def copy_graded(course, assignment, notebook_name, rows, out):
    graded = out / "graded"
    shutil.rmtree(graded, ignore_errors=True)
    graded.mkdir()
    for row in rows:
        src = course.path("autograded", row.student, assignment) / f"{notebook_name}.ipynb"
        if src.exists():
            shutil.copy(src, graded / f"{row.student}.ipynb")


def write_sandbox_note(mechanisms, limits, plan, seed, out):
    lines = ["What cnn-grader enforced on student code in this run:"]
    if mechanisms is None:
        lines.append("(no local execution: nothing to grade, or tasks ran on a Dask cluster, "
                     "whose workers apply the same sandbox)")
    else:
        lines += [f"- {item}" for item in mechanisms.describe()]
        lines += [f"- NOT ENFORCED: {item}" for item in mechanisms.missing]
    lines.append(f"limits: {limits.timeout:g} s of CPU time (wall-clock backstop {limits.wall:g} s), "
                 f"{limits.memory_mb} MB memory, {limits.processes} "
                 f"processes, {limits.file_mb} MB per file, {limits.disk_mb} MB private /tmp, "
                 f"{limits.open_files} open files, {limits.threads} thread(s)")
    lines.append("hidden from student code: " + ", ".join(plan.hide))
    lines.append("verdicts: decided by the judge in the grader's own process, from plain data returned by the "
                 "student's functions on inputs drawn for this run")
    lines.append(f"run seed: {seed} (re-grade with --seed {seed} to draw the same inputs)")
    (out / "sandbox.txt").write_text("\n".join(lines) + "\n")


def print_table(rows):
    """The grades as an aligned text table."""
    if not rows:
        print("no submissions found")
        return
    width = max(len(r.student) for r in rows)
    print(f"{'student':<{width}}  {'score':>11}  {'status':<8}  reason / flags")
    for r in rows:
        note = r.reason + (f"  [{'; '.join(r.flags)}]" if r.flags else "")
        print(f"{r.student:<{width}}  {r.score:>5g} / {r.max_score:<3g}  {r.status:<8}  {note[:150]}")
