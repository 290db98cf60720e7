"""HTML feedback per student: nbgrader's feedback of the autograded notebook.

Test cells show the judge's verdict (what was checked, what was wrong, the run's seed); no test
source beyond the one-line visible check is in the notebook, so there is nothing to hide.
"""

import shutil
from pathlib import Path

from cnngrader import writable
from cnngrader.gradebook import CourseFolder


def feedback(assignment, out, course_dir="grader/work", solutions="solutions", db_url=None):
    """Write ``out/<student>.html`` for every autograded student; returns the paths."""
    writable.check(course_dir, "--course-dir")
    writable.check(out, "--out")
    course = CourseFolder(course_dir, solutions, db_url)
    api = course.api(HTMLExporter={"template_name": "feedback"})
    result = api.generate_feedback(assignment, force=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_feedback failed:\n{result.get('log', '')}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for html in sorted((course.root / "feedback").glob(f"*/{assignment}/*.html")):
        target = out / f"{html.parent.parent.name}.html"
        shutil.copy(html, target)
        paths.append(target)
    return paths
