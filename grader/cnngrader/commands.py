"""The grading subcommands of ``cnn-grader``: collect, autograde, feedback, export, demo."""

import signal
import sys
import warnings

# nbgrader 0.9.6 trips SQLAlchemy's autoflush warnings on every re-grade; they say nothing useful
warnings.filterwarnings("ignore", message=".*not in session, add operation along.*")

DEFAULT_COURSE_DIR = "grader/work"


def add_grading_commands(commands):
    collect = commands.add_parser("collect", help="sort an LMS download into DIR/<student>/")
    collect.add_argument("assignment", metavar="ASSIGNMENT")
    collect.add_argument("source", metavar="SOURCE", help="a zip file or a folder from the LMS")
    collect.add_argument("--submissions", required=True, metavar="DIR")
    collect.set_defaults(run=_collect)

    grade = commands.add_parser("autograde", help="grade DIR/<student>.ipynb or DIR/<student>/*.ipynb "
                                "in a sandbox; writes OUT/grades.csv and the graded notebooks")
    grade.add_argument("assignment", metavar="ASSIGNMENT")
    grade.add_argument("--submissions", required=True, metavar="DIR")
    grade.add_argument("--out", required=True, metavar="DIR")
    _course_options(grade)
    grade.add_argument("--workers", type=int, default=0, help="parallel workers (default: the cores)")
    grade.add_argument("--timeout", type=float, default=120, help="CPU seconds per notebook (the wall clock "
                       "stops it only at 3x this + 30 s, so a busy machine changes no status)")
    grade.add_argument("--memory", type=int, default=2048, help="MB of memory per notebook")
    grade.add_argument("--seed", type=int, help="the run's seed for the judge's inputs (default: a fresh one; "
                       "pass a run's seed to reproduce its scores)")
    grade.add_argument("--dask-scheduler", metavar="ADDRESS",
                       help="run the notebooks on an existing Dask cluster instead of locally")
    grade.set_defaults(run=_autograde)

    feedback = commands.add_parser("feedback", help="HTML feedback per student (no hidden tests)")
    feedback.add_argument("assignment", metavar="ASSIGNMENT")
    feedback.add_argument("--out", required=True, metavar="DIR")
    _course_options(feedback)
    feedback.set_defaults(run=_feedback)

    export = commands.add_parser("export", help="the gradebook as CSV")
    export.add_argument("--out", required=True, metavar="FILE.csv")
    _course_options(export)
    export.set_defaults(run=_export)

    demo = commands.add_parser("demo", help="autograde a generated demo class and print its grades")
    demo.add_argument("--assignment", default="ps1")
    demo.add_argument("--out", default="build/demo")
    demo.add_argument("--solutions", default="solutions")
    demo.add_argument("--workers", type=int, default=0)
    demo.set_defaults(run=_demo)


def _course_options(parser):
    parser.add_argument("--course-dir", default=DEFAULT_COURSE_DIR,
                        help=f"nbgrader's gradebook and working folders (default: {DEFAULT_COURSE_DIR})")
    parser.add_argument("--solutions", default="solutions", help="nbgrader source folder")
    parser.add_argument("--db-url", help="gradebook database URL (default: SQLite in --course-dir)")


def _collect(args):
    from cnngrader.submissions import collect

    rows = collect(args.assignment, args.source, args.submissions)
    for file, student, action, reason in rows:
        if action != "collected":
            print(f"{action:>9}: {file}{' (' + reason + ')' if reason else ''}", file=sys.stderr)
    print(f"collected {sum(r[2] == 'collected' for r in rows)} submissions into {args.submissions} "
          f"({sum(r[2] == 'unknown' for r in rows)} unknown names, see collect_report.csv)")
    return 0


def _autograde(args):
    from cnngrader.autograde import Options, autograde
    from cnngrader.interruption import STOPPING, Interrupted
    from cnngrader.report import print_table
    from cnngrader.sandbox import Limits

    options = Options(workers=args.workers, dask_scheduler=args.dask_scheduler, seed=args.seed,
                      limits=Limits(timeout=args.timeout, memory_mb=args.memory))
    try:
        rows = autograde(args.assignment, args.submissions, args.out, course_dir=args.course_dir,
                         solutions=args.solutions, db_url=args.db_url, options=options)
    except Interrupted as stop:
        for signum in STOPPING:  # the run is over: Ctrl-C pressed again changes nothing now
            signal.signal(signum, signal.SIG_IGN)
        if stop.rows:
            print_table(stop.rows)
        print(f"cnn-grader: {stop}", file=sys.stderr)
        return 128 + stop.signum  # as a shell reports a command a signal ended
    print_table(rows)
    return 0


def _feedback(args):
    from cnngrader.feedback import feedback

    paths = feedback(args.assignment, args.out, course_dir=args.course_dir, solutions=args.solutions,
                     db_url=args.db_url)
    print(f"wrote {len(paths)} feedback files into {args.out}")
    return 0


def _export(args):
    from cnngrader.export import export

    count = export(args.out, course_dir=args.course_dir, solutions=args.solutions, db_url=args.db_url)
    print(f"wrote {count} rows to {args.out}")
    return 0


def _demo(args):
    from cnngrader.demo import run_demo

    return run_demo(args.assignment, args.out, solutions=args.solutions, workers=args.workers)
