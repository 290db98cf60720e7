"""nbgrader configuration of the course (nbgrader 0.9.6).

The repository root is the course directory: ``solutions/`` is nbgrader's source folder,
``assignments/`` its (committed) release folder. Everything nbgrader writes while grading
(submissions, autograded copies, feedback, the gradebook) lives under the git-ignored
``grader/work/``. Run nbgrader from this folder, or use ``cnn-grader``, which loads this file.
"""

from pathlib import Path

c = get_config()  # noqa: F821 (injected by traitlets when it loads this file)

ROOT = Path(__file__).resolve().parents[1]
WORK = "grader/work"

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = f"{WORK}/submitted"
c.CourseDirectory.autograded_directory = f"{WORK}/autograded"
c.CourseDirectory.feedback_directory = f"{WORK}/feedback"
c.CourseDirectory.solution_directory = f"{WORK}/solution"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / WORK / 'gradebook.db'}"

# What students see in place of a solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A graded notebook runs in seconds; anything near this limit is a runaway cell.
c.Execute.timeout = 120
