"""The ``grade`` subcommand: parallel autograding, then feedback and a grades export.

``cnn-course grade [ASSIGNMENT ...] [--student ID ...] [--jobs N] [--db URL]`` grades
every matching submission in ``submitted/`` with nbgrader's own ``Autograde`` converter,
N at a time (see :mod:`cnn_course.pipeline.runner`), then runs ``nbgrader generate_feedback`` for
the graded ones and ``nbgrader export`` to ``grades.csv`` in the course directory.

``--scheduler ADDRESS`` (or ``--local-cluster N``) grades on the workers of a Dask
cluster instead of the local pool (:mod:`cnn_course.pipeline.cluster`), with the same progress,
failure report and exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from cnn_course.pipeline.runner import GradingRun

GRADES_CSV = "grades.csv"


def positive_int(text: str) -> int:
    """Parse a strictly positive integer option (``--jobs``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grade`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "grade",
        help="autograde submissions in parallel, then make feedback and export grades",
        description="Autograde submitted notebooks with nbgrader, N at a time, then generate "
        "HTML feedback (nbgrader generate_feedback) and export grades to grades.csv in the "
        "course directory (nbgrader export). Already graded, unchanged submissions are "
        "skipped unless --force, as with nbgrader autograde.",
        epilog="Exit codes: 0 all graded, 1 some submissions failed (listed with the reason), "
        "2 usage or input error.",
    )
    parser.add_argument(
        "assignments",
        nargs="*",
        metavar="ASSIGNMENT",
        help="assignments to grade (default: every assignment with submissions)",
    )
    parser.add_argument(
        "--student",
        action="append",
        default=[],
        metavar="ID",
        help="grade only this student's work (repeat for several)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=None,
        metavar="N",
        help="submissions graded at once (default: the number of CPUs)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the workers of this Dask scheduler (tcp://HOST:PORT); needs --db "
        "with a database server and the course at the same path on every worker",
    )
    where.add_argument(
        "--local-cluster",
        type=positive_int,
        metavar="N",
        help="grade on a Dask cluster of N workers started on this machine for the run "
        "(to try a cluster run; needs --db with a database server)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="gradebook SQLAlchemy URL, e.g. postgresql://user@host/course "
        "(default: the course config, else sqlite:///<course>/gradebook.db)",
    )
    parser.add_argument(
        "--force", action="store_true", help="regrade submissions that are already graded"
    )
    parser.add_argument("--no-feedback", action="store_true", help="skip generating feedback")
    parser.add_argument("--no-export", action="store_true", help="skip writing grades.csv")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: only when stderr is a terminal)",
    )
    parser.set_defaults(func=run)


def summarize(run: GradingRun, jobs: int | str, csv: Path | None) -> list[str]:
    """Return the human summary of a grading run, one line per item.

    Parameters
    ----------
    run : GradingRun
        What :func:`cnn_course.pipeline.runner.grade` returned.
    jobs : int or str
        Submissions graded at once, or where (``"the Dask cluster at ..."``).
    csv : Path or None
        Where grades were exported, if anywhere.
    """
    graded = [r for r in run.autograde if r.status == "ok"]
    skipped = [r for r in run.autograde if r.status == "skipped"]
    failed = [r for r in run.autograde if r.failed]
    lines = [
        f"autograded {len(graded)} of {len(run.autograde)} submissions "
        f"({len(skipped)} already graded, {len(failed)} failed) "
        f"in {run.wall_seconds:.1f} s " + (f"with {jobs} jobs" if isinstance(jobs, int) else jobs)
    ]
    if run.feedback:
        made = sum(r.status == "ok" for r in run.feedback)
        kept = sum(r.status == "skipped" for r in run.feedback)
        lines.append(f"feedback: {made} generated, {kept} already up to date, in feedback/")
    if run.export is not None and not run.export.failed and csv is not None:
        lines.append(f"grades exported to {csv}")
    return lines


@contextlib.contextmanager
def _executor(args: argparse.Namespace, root: Path) -> Iterator[tuple[Executor | None, str]]:
    """The Dask executor of ``--scheduler``/``--local-cluster`` (checked), else the pool."""
    if not (args.scheduler or args.local_cluster):
        yield None, ""
        return
    from cnn_course.errors import CourseInputError
    from cnn_course.pipeline.cluster import cluster_executor, refuse_sqlite
    from cnn_course.pipeline.runner import course_spec

    if args.jobs:
        raise CourseInputError(
            "--jobs sizes the local pool; on a cluster, the workers grade one submission "
            "each at a time (start more workers, or give --local-cluster N)"
        )

    refuse_sqlite(course_spec(root, args.db).db_url)
    with cluster_executor(str(root), args.scheduler, args.local_cluster) as (executor, notes):
        for note in notes:
            print(note)
        address = executor.client.scheduler.address
        workers = len(executor.client.nthreads())
        yield executor, f"on the Dask cluster at {address} ({workers} workers)"


def run(args: argparse.Namespace) -> int:
    """Grade, then print a summary; failures go to stderr with their reason."""
    from cnn_course.pipeline.progress import bar_factory
    from cnn_course.pipeline.runner import default_jobs, grade
    from cnn_course.submissions import check_course_root, select_submissions

    root = check_course_root(args.course)
    submissions = select_submissions(root, args.assignments, args.student)
    jobs: int | str = args.jobs or default_jobs()
    csv = None if args.no_export else root / GRADES_CSV
    with _executor(args, root) as (executor, where):
        result = grade(
            root,
            submissions,
            db_url=args.db,
            executor=executor,
            jobs=args.jobs or default_jobs(),
            force=args.force,
            feedback=not args.no_feedback,
            export_to=csv,
            progress=bar_factory(args.progress),
            review=True,  # cheating attempts: flags, withheld scores, feedback notices
        )
    print("\n".join(summarize(result, where or jobs, csv)))
    if result.reviews is not None:
        from cnn_course.integrity import summary_lines

        print("\n".join(summary_lines(result.reviews, root)))
    if result.failures:
        print(f"{len(result.failures)} task(s) failed:", file=sys.stderr)
        for failure in result.failures:
            where = failure.submission or "gradebook"
            print(f"  {failure.step} {where}: {failure.reason}", file=sys.stderr)
    if result.stopped:
        print(
            f"stopped early: {result.stopped}. What was graded is kept; feedback, grades.csv "
            "and the review were not updated.",
            file=sys.stderr,
        )
    return result.exit_code
