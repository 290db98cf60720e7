"""The gradebook as CSV (nbgrader's own CSV export: one row per student and assignment)."""

from pathlib import Path

from cnngrader.gradebook import CourseFolder


def export(path, course_dir="grader/work", solutions="solutions", db_url=None):
    """Write the gradebook to ``path``; returns the number of data rows."""
    from nbgrader.plugins import CsvExportPlugin

    course = CourseFolder(course_dir, solutions, db_url)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    plugin = CsvExportPlugin(config=course.config())
    plugin.to = str(path)
    with course.gradebook() as gb:
        plugin.export(gb)
    return max(0, len(Path(path).read_text().splitlines()) - 1)
