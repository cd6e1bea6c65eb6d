"""The ``build`` subcommand: generate every assignment's student version into ``release/``.

``cnn-course build [ASSIGNMENT ...]`` runs ``nbgrader generate_assignment`` (through
``NbGraderAPI.generate_assignment``, forced, so ``release/`` always reflects ``source/``)
for each assignment in ``source/``. If the release leak check module
(:data:`LEAK_CHECK_MODULE`, providing ``check_release_leaks(course_root) -> list[str]``)
is installed, it runs afterwards; any problem it reports fails the build.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path

from cnn_course.errors import CourseInputError

LEAK_CHECK_MODULE = "cnn_course.integrity.leaks"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``build`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "build",
        help="generate the student version of assignments into release/",
        description="Generate the student version of each assignment in source/ into "
        "release/ with nbgrader generate_assignment (solutions and hidden tests removed), "
        "recording the assignment in the gradebook.",
        epilog="Exit codes: 0 built, 1 an assignment failed to build or the release leaks "
        "answers, 2 usage or input error.",
    )
    parser.add_argument(
        "assignments",
        nargs="*",
        metavar="ASSIGNMENT",
        help="assignments to build (default: every one in source/)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="gradebook SQLAlchemy URL (default: the course config, else "
        "sqlite:///<course>/gradebook.db)",
    )
    parser.set_defaults(func=run)


def leak_checker() -> Callable[[Path], list[str]] | None:
    """Return ``check_release_leaks`` from :data:`LEAK_CHECK_MODULE`, if that module exists."""
    try:
        module = importlib.import_module(LEAK_CHECK_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != LEAK_CHECK_MODULE:
            raise
        return None
    return module.check_release_leaks


def build_assignments(root: Path, assignments: list[str], db_url: str | None) -> list[str]:
    """Generate each assignment's student version; return one message per failure.

    Parameters
    ----------
    root : Path
        Course root.
    assignments : list of str
        Assignment ids in ``source/``.
    db_url : str or None
        Gradebook URL, None for the course's configured one.

    Returns
    -------
    list of str
        ``"<assignment>: <reason>"`` for each assignment nbgrader could not generate.
    """
    from cnn_course.failures import failure_reason
    from cnn_course.nbgrader_api import load_api

    api = load_api(root, db_url)
    failures = []
    for assignment in assignments:
        outcome = api.generate_assignment(assignment, force=True, create=True)
        if outcome.get("success"):
            print(f"built release/{assignment}")
        else:
            reason = failure_reason(outcome.get("log", ""), outcome.get("error", ""))
            failures.append(f"{assignment}: {reason}")
    return failures


def run(args: argparse.Namespace) -> int:
    """Build the assignments, then run the leak check if it is installed."""
    import sys

    from cnn_course.submissions import check_assignments, check_course_root, source_assignments

    root = check_course_root(args.course)
    available = source_assignments(root)
    if not available:
        raise CourseInputError(f"no assignments in {root / 'source'} (folders with notebooks)")
    check_assignments(args.assignments, available)
    problems = build_assignments(root, list(args.assignments) or available, args.db)
    check_release_leaks = leak_checker()
    if check_release_leaks is not None:
        problems += check_release_leaks(root)
    for problem in problems:
        print(f"build failed: {problem}", file=sys.stderr)
    return 1 if problems else 0
