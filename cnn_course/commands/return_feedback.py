"""The ``feedback`` subcommand: return the feedback pages to the students via the exchange.

``cnn-course feedback ASSIGNMENT ... [--student ID ...]`` runs ``nbgrader
release_feedback`` in this process for each assignment: the HTML pages ``cnn-course
grade`` made in ``feedback/<student>/<assignment>/`` are copied to
``<exchange>/<course_id>/feedback/<hash>.html``, where a student's "Fetch Feedback" finds
the pages of their own submission (the hash is of the submission's secret, which only
that student's copy holds).

The module is not called ``feedback``: :mod:`cnn_course.integrity.feedback` holds the feedback
checks. ``cnn-course feedback`` still finds it, through the full parser (see
:func:`cnn_course.commands.cli.main`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnn_course.errors import CourseInputError
from cnn_course.exchange import ExchangePaths

# What nbgrader's release_feedback reads beside each student's pages.
TIMESTAMP, SECRET = "timestamp.txt", "submission_secret.txt"


@dataclass
class FeedbackResult:
    """One assignment's returned feedback; every list holds student ids, sorted."""

    assignment: str
    returned: dict[str, int] = field(default_factory=dict)  # student -> pages returned
    no_page: list[str] = field(default_factory=list)  # graded, but no feedback page
    not_graded: list[str] = field(default_factory=list)  # asked for with --student
    unreturnable: dict[str, str] = field(default_factory=dict)  # student -> why not
    reason: str = ""  # nbgrader failed

    @property
    def pages(self) -> int:
        return sum(self.returned.values())

    @property
    def failed(self) -> bool:
        return bool(self.reason or self.unreturnable)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``feedback`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "feedback",
        help="return the feedback made by `cnn-course grade` to students via the exchange",
        description="Copy the HTML feedback pages made by `cnn-course grade` "
        "(feedback/<student>/<assignment>/) to the course's exchange with nbgrader "
        "release_feedback, so each student's Fetch Feedback finds the pages of their own "
        "submission. Lists students whose graded submission has no feedback page.",
        epilog="Exit codes: 0 returned, 1 some pages could not be returned (listed with the "
        "reason), 2 usage or input error (unknown assignment, no feedback made yet, no "
        "exchange).",
    )
    parser.add_argument(
        "assignments", nargs="+", metavar="ASSIGNMENT", help="assignments whose feedback to return"
    )
    parser.add_argument(
        "--student",
        action="append",
        default=[],
        metavar="ID",
        help="return only this student's feedback (repeat for several)",
    )
    parser.set_defaults(func=run)


def feedback_pages(root: Path, assignment: str) -> dict[str, list[Path]]:
    """Student -> the feedback pages in ``feedback/<student>/<assignment>/``."""
    pages = {}
    for folder in sorted((root / "feedback").glob(f"*/{assignment}")):
        found = sorted(folder.glob("*.html"))
        if folder.is_dir() and found:
            pages[folder.parent.name] = found
    return pages


def graded_students(root: Path, assignment: str) -> list[str]:
    """Students whose submission was autograded (``autograded/<student>/<assignment>/``)."""
    from cnn_course.pipeline.completion import graded_notebooks_exist
    from cnn_course.submissions import Submission

    return sorted(
        folder.parent.name
        for folder in (root / "autograded").glob(f"*/{assignment}")
        if graded_notebooks_exist(root, Submission(assignment, folder.parent.name))
    )


def returnable(root: Path, assignment: str, student: str) -> str:
    """Why nbgrader cannot return this student's pages ("" when it can).

    nbgrader names the returned page after a hash of the submission's secret, and reads
    the secret and the timestamp from the feedback folder, where ``generate_feedback``
    (and :func:`cnn_course.failures.write_failure_feedback`) put them.
    """
    folder = root / "feedback" / student / assignment
    for name in (TIMESTAMP, SECRET):
        if not (folder / name).is_file():
            return f"no {name} in {folder} (make it again: `cnn-course grade --force`)"
    return ""


def chosen_pages(root: Path, assignment: str, students: Sequence[str]) -> dict[str, list[Path]]:
    """:func:`feedback_pages` of ``students`` (empty: everyone's); raise if there is none."""
    pages = feedback_pages(root, assignment)
    if students:
        pages = {s: p for s, p in pages.items() if s in students}
    check_has_feedback(pages, assignment, students)
    return pages


def returned_pages(paths: ExchangePaths, pages: Sequence[Path]) -> list[Path]:
    """Those of ``pages`` whose very copy is in the exchange, where students fetch it."""
    return [
        page
        for page in pages
        if (page.parent / SECRET).is_file()
        and (dest := page_in_exchange(paths, page)).is_file()
        and dest.read_bytes() == page.read_bytes()
    ]


def check_has_feedback(
    pages: dict[str, list[Path]], assignment: str, students: Sequence[str]
) -> None:
    """Raise :class:`CourseInputError` when ``pages`` (of the chosen students) is empty."""
    if not pages:
        who = f" for {', '.join(students)}" if students else ""
        raise CourseInputError(
            f"no feedback for {assignment!r}{who} yet (feedback/*/{assignment}/ holds no "
            f"page); run `cnn-course grade {assignment}` first"
        )


def page_in_exchange(paths: ExchangePaths, page: Path) -> Path:
    """Where nbgrader's release_feedback puts ``page`` (and fetch_feedback looks)."""
    from nbgrader.utils import notebook_hash

    secret = (page.parent / SECRET).read_text()
    return paths.feedback / f"{notebook_hash(secret=secret, notebook_id=page.stem)}.html"


def return_assignment(
    root: Path, paths: ExchangePaths, assignment: str, students: Sequence[str]
) -> FeedbackResult:
    """Return one assignment's feedback with nbgrader; count the pages that arrived.

    Parameters
    ----------
    root : Path
        Course root.
    paths : ExchangePaths
        The course's exchange.
    assignment : str
        Assignment id.
    students : sequence of str
        Only these students (empty: everyone with feedback).

    Returns
    -------
    FeedbackResult

    Raises
    ------
    CourseInputError
        If there is no feedback page for the assignment (for these students).
    """
    from nbgrader.apps import ReleaseFeedbackApp

    from cnn_course.exchange import run_exchange_app

    result = FeedbackResult(assignment)
    pages = chosen_pages(root, assignment, students)
    graded = graded_students(root, assignment)
    if students:
        result.not_graded = sorted(set(students) - set(pages) - set(graded))
        graded = [s for s in graded if s in students]
    result.no_page = sorted(set(graded) - set(pages))
    for student in pages:
        why = returnable(root, assignment, student)
        if why:
            result.unreturnable[student] = why
    ready = sorted(set(pages) - set(result.unreturnable))
    # nbgrader returns one student or all ('*'); all at once, but never the unreturnable
    # ones, whose missing files would stop the whole run half-way.
    runs: list[list[str]] = (
        [[f"--CourseDirectory.student_id={s}"] for s in ready]
        if students
        else [
            [
                "--CourseDirectory.student_id=*",
                f"--CourseDirectory.student_id_exclude={','.join(sorted(result.unreturnable))}",
            ]
        ]
    )
    for options in runs if ready else []:
        outcome = run_exchange_app(ReleaseFeedbackApp, root, paths, [assignment, *options])
        if not outcome.success:
            result.reason = outcome.reason
            break
    for student in ready:
        if arrived := returned_pages(paths, pages[student]):
            result.returned[student] = len(arrived)
    return result


def return_feedback(
    root: Path, assignments: Sequence[str], students: Sequence[str] = ()
) -> list[FeedbackResult]:
    """Return each assignment's feedback; check names, feedback and the exchange first.

    Raises
    ------
    CourseInputError
        For an unknown assignment, one without feedback, or an exchange that is missing
        or not writable.
    """
    from cnn_course.exchange import check_exchange, exchange_paths, known_assignments
    from cnn_course.submissions import check_assignments

    wanted = list(dict.fromkeys(assignments))
    check_assignments(wanted, known_assignments(root))
    students = list(dict.fromkeys(students))
    for name in wanted:  # every assignment has feedback, before any is returned
        chosen_pages(root, name, students)
    paths = exchange_paths(root)
    check_exchange(paths)
    return [return_assignment(root, paths, name, students) for name in wanted]


def feedback_lines(results: list[FeedbackResult]) -> list[str]:
    """Per assignment: pages returned to whom, and graded students without a page."""
    lines = []
    for r in results:
        lines.append(
            f"{r.assignment}: returned {r.pages} feedback page(s) to {len(r.returned)} "
            f"student(s)" + (f": {', '.join(sorted(r.returned))}" if r.returned else "")
        )
        if r.no_page:
            lines.append(
                f"  graded, but no feedback page: {', '.join(r.no_page)} (run `cnn-course "
                f"grade {r.assignment}`)"
            )
        if r.not_graded:
            lines.append(f"  no graded submission, no feedback: {', '.join(r.not_graded)}")
    return lines


def run(args: argparse.Namespace) -> int:
    """``cnn-course feedback``: return the pages, print the summary; failures to stderr."""
    from cnn_course.submissions import check_course_root

    root = check_course_root(args.course)
    results = return_feedback(root, args.assignments, args.student)
    print("\n".join(feedback_lines(results)))
    for r in results:
        for student, why in sorted(r.unreturnable.items()):
            print(f"feedback {r.assignment}/{student} not returned: {why}", file=sys.stderr)
        if r.reason:
            print(f"feedback {r.assignment} failed: {r.reason}", file=sys.stderr)
    return 1 if any(r.failed for r in results) else 0
