"""A score card for the visible checks of a problem set, for learners working without nbgrader.

Each visible test cell registers its check with ``@scorecard.check(name, points)``: the check
runs at once (so the cell passes or fails with its message, as under nbgrader) and is kept.
The last cell of a set calls ``scorecard.report()``, which re-runs every registered check
against the learner's current code and prints one line per check plus the total.
At grading the same checks run on new inputs drawn for that run, judged outside the notebook, so
the card shows which visible checks fail; the final grade can be lower than its total, never higher.
"""

import time
from dataclasses import dataclass


@dataclass
class Result:
    """The outcome of one registered check."""

    name: str
    points: float
    passed: bool
    message: str


_CHECKS = {}


def check(name, points):
    """Decorator: register ``fn`` as the visible check ``name`` worth ``points``, then run it.

    A failing check raises its error, so the test cell fails with the check's message.
    """
    def register(fn):
        _CHECKS[name] = (float(points), fn)
        fn()
        print(f"✓ {name}: visible checks pass ({points:g} points if the grader's new inputs pass too)")
        return fn
    return register


def clear():
    """Forget every registered check (a fresh set)."""
    _CHECKS.clear()


def run_all():
    """Re-run every registered check in registration order; a list of ``Result``."""
    results = []
    for name, (points, fn) in _CHECKS.items():
        try:
            fn()
            results.append(Result(name, points, True, ""))
        except NotImplementedError:
            results.append(Result(name, points, False, "not attempted yet (NotImplementedError)"))
        except Exception as err:  # a learner's bug of any kind is a failed check, reported
            text = str(err).strip().splitlines()
            results.append(Result(name, points, False, f"{type(err).__name__}: {text[0] if text else ''}"))
    return results


def format_card(results, title="Score card"):
    """The score card as text: one line per check, then the visible total."""
    width = max([len(r.name) for r in results] + [5])
    lines = [title, "=" * len(title)]
    for r in results:
        mark = "✓" if r.passed else "✗"
        earned = r.points if r.passed else 0.0
        lines.append(f"{mark} {r.name:<{width}}  {earned:g}/{r.points:g}" + ("" if r.passed else f"  {r.message}"))
    earned = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    lines.append(f"visible checks: {earned:g}/{total:g} points "
                 f"({sum(r.passed for r in results)} of {len(results)} checks pass)")
    lines.append("At grading the same checks run on new inputs, and written answers are marked by hand, "
                 "so the final grade can be lower than this.")
    return "\n".join(lines)


def report(title="Score card"):
    """Re-run all visible checks, print the score card and return ``(earned, total)``."""
    start = time.perf_counter()
    results = run_all()
    if not results:
        print("No checks registered yet: run the notebook from the top (Run > Run All Cells).")
        return 0.0, 0.0
    print(format_card(results, title))
    print(f"({time.perf_counter() - start:.1f} s)")
    return sum(r.points for r in results if r.passed), sum(r.points for r in results)
