"""HTML feedback per student, without the source of hidden tests.

nbgrader's feedback shows the autograded notebook, hidden tests included, and the traceback of a
failing hidden assert quotes its line. Before nbgrader renders it, ``HideHiddenTests`` replaces
every hidden-test region with a one-line note and reduces tracebacks of cells that held hidden
tests to their last line (the exception and its message).
"""

import re
import shutil
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

from cnngrader.autograde import Course

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*$", re.S | re.M)
NOTE = "# (hidden tests ran here; their code is not shown)"


class HideHiddenTests(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN.search(cell.source):
            cell.source = HIDDEN.sub(NOTE, cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
        return cell, resources


def feedback(assignment, out, course_dir="grader/work", solutions="solutions", db_url=None):
    """Write ``out/<student>.html`` for every autograded student; returns the paths."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.preprocessors import GetGrades
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

    course = Course(course_dir, solutions, db_url)
    api = course.api(GenerateFeedback={"preprocessors": [HideHiddenTests, GetGrades,
                                                          CSSHTMLHeaderPreprocessor]},
                     HTMLExporter={"template_name": "feedback"})
    api.config.HTMLExporter.template_name = "feedback"
    result = api.generate_feedback(assignment, force=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_feedback failed:\n{result.get('log', '')}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for html in sorted((course.root / "feedback").glob(f"*/{assignment}/*.html")):
        student = html.parent.parent.name
        target = out / f"{student}.html"
        shutil.copy(html, target)
        paths.append(target)
    return paths
