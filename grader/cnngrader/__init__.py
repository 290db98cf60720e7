"""cnngrader: the instructor's tooling (course build, release, collect, autograde, feedback, export)."""

__version__ = "0.1.0"
