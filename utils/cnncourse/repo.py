"""Where the course lives: the one place that names the GitHub repository.

Colab badges and the Colab install cell of every notebook are derived from
``REPO_SLUG``; ``python -m cnncourse.badges --slug OWNER/NAME`` rewrites them all.
"""

REPO_SLUG = "cnn-course/cnn-course"
BRANCH = "main"


def colab_url(notebook_path, slug=REPO_SLUG, branch=BRANCH):
    """The URL that opens ``notebook_path`` (relative to the repository root) in Colab."""
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{notebook_path}"


def pip_spec(slug=REPO_SLUG, branch=BRANCH):
    """The pip requirement that installs this package from the repository (used on Colab)."""
    return f"cnn-course @ git+https://github.com/{slug}@{branch}"
