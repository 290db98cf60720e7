"""The ``cnn-grader`` command line."""

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cnn-grader",
        description="Build the course and grade its problem sets (wraps nbgrader).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    course = commands.add_parser("course", help="execute every lecture into build/ with an index.html")
    course.add_argument("--out", default="build", help="output folder (default: build)")
    course.add_argument("--timeout", type=int, default=600, help="seconds per cell (default: 600)")
    course.add_argument("notebooks", nargs="*", help="lecture notebooks (default: lectures/*.ipynb)")
    course.set_defaults(run=_course)
    release = commands.add_parser("release", help="generate the student versions: solutions/ -> assignments/")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                         help="problem sets to release (default: every folder of solutions/)")
    release.set_defaults(run=_release)
    from cnngrader.commands import add_grading_commands

    add_grading_commands(commands)  # collect, autograde, feedback, export, demo
    return parser


def _course(args):
    from cnngrader.course import build

    return build(args.notebooks or None, out=args.out, timeout=args.timeout)


def _release(args):
    from cnngrader.release import ReleaseError, generate

    try:
        paths = generate(args.assignments or None)
    except ReleaseError as err:
        print(err, file=sys.stderr)
        return 1
    for path in paths:
        print(f"released {path}")
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
