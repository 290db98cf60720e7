"""The ``cnn-grader`` command line."""

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cnn-grader",
        description="Build the course and grade its problem sets (wraps nbgrader).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    course = commands.add_parser("course", help="build the course website (Jupyter Book) into _site/html")
    course.add_argument("--out", default="_site", help="output folder (default: _site)")
    course.add_argument("--timeout", type=int, default=300, help="seconds per cell (default: 300)")
    course.add_argument("--no-demo", dest="demo", action="store_false",
                        help="skip grading the demo class (its pages are then left out)")
    course.add_argument("notebooks", nargs="*", help="lecture notebooks (default: lectures/*.ipynb)")
    course.set_defaults(run=_course)
    lab = commands.add_parser("lab", help="JupyterLab on the lectures and problem sets, with nbgrader")
    lab.add_argument("--port", type=int, default=8888, help="port (default: 8888; 0: any free port)")
    lab.add_argument("--no-browser", dest="browser", action="store_false", help="do not open a browser")
    lab.set_defaults(run=_lab)
    release = commands.add_parser("release", help="generate the student versions: solutions/ -> assignments/")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                         help="problem sets to release (default: every folder of solutions/)")
    release.set_defaults(run=_release)
    from cnngrader.commands import add_grading_commands

    add_grading_commands(commands)  # collect, autograde, feedback, export, demo
    return parser


def _course(args):
    from cnngrader.website import build

    return build(out=args.out, notebooks=args.notebooks or None, timeout=args.timeout, demo=args.demo)


def _lab(args):
    from cnngrader.lab import main

    return main(port=args.port, open_browser=args.browser)


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
