"""The ``status`` subcommand: where every assignment of the course stands.

``cnn-course status [ASSIGNMENT ...]`` prints, per assignment: whether it was generated
and released to the exchange, how many students submitted, how many of those are graded
(to the end, as :mod:`cnn_course.pipeline.completion` records it), could not be graded (with the
reason, from ``reports/autograde_failures.json``) or are still to grade, how many wait for hand
grading, and how much feedback was made and returned. Read only: it changes nothing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from cnn_course.failures import recorded_failures
from cnn_course.pipeline import completion
from cnn_course.submissions import Submission


@dataclass
class AssignmentStatus:
    """Counts for one assignment; ``not_graded`` maps student -> why."""

    assignment: str
    generated: bool = False
    released: bool = False
    submitted: int = 0
    graded: int = 0
    not_graded: dict[str, str] = field(default_factory=dict)
    to_grade: list[str] = field(default_factory=list)
    hand_grading: list[str] = field(default_factory=list)
    feedback_made: int = 0
    feedback_returned: int = 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``status`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "status",
        help="where each assignment stands: released, submitted, graded, hand grading, feedback",
        description="Print, per assignment, whether it is released, how many students "
        "submitted, how many submissions are graded, could not be graded (and why) or are "
        "still to grade, which wait for hand grading, and how much feedback was made and "
        "returned. Changes nothing.",
    )
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="only these")
    parser.set_defaults(func=run)


def _hand_grading(root: Path, assignment: str) -> list[str]:
    """Students whose submission has cells no human has graded yet."""
    from cnn_course.course import course_directory
    from cnn_course.gradebook import pending_hand_grading

    coursedir = course_directory(root)
    url = coursedir.db_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    pending = pending_hand_grading(url, coursedir.course_id)
    return sorted(student for a, student in pending if a == assignment)


def assignment_status(root: Path, assignment: str, course_id: str) -> AssignmentStatus:
    """Everything ``status`` says about one assignment."""
    from cnn_course.commands.return_feedback import feedback_pages, returned_pages
    from cnn_course.exchange import exchange_paths

    exchange = exchange_paths(root)  # the course config's c.Exchange.root
    status = AssignmentStatus(assignment)
    status.generated = (root / "release" / assignment).is_dir()
    status.released = (exchange.outbound / assignment).is_dir()
    failures = recorded_failures(root)
    students = sorted(
        p.parent.name for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir()
    )
    status.submitted = len(students)
    for student in students:
        sub = Submission(assignment, student)
        if completion.is_graded(root, sub, completion.submitted_digest(root, sub)):
            status.graded += 1
        elif (assignment, student) in failures:
            status.not_graded[student] = failures[(assignment, student)]
        else:
            status.to_grade.append(student)
        if completion.feedback_exists(root, sub):
            status.feedback_made += 1
    status.hand_grading = _hand_grading(root, assignment)
    # The exchange's pages are named by hash, not by assignment: count this one's own.
    pages = [p for found in feedback_pages(root, assignment).values() for p in found]
    status.feedback_returned = len(returned_pages(exchange, pages))
    return status


def status_lines(statuses: list[AssignmentStatus]) -> list[str]:
    """The report, one block per assignment."""
    lines = []
    for s in statuses:
        released = "released" if s.released else "generated" if s.generated else "not generated"
        lines.append(
            f"{s.assignment}: {released}; {s.submitted} submitted, {s.graded} graded, "
            f"{len(s.not_graded)} could not be graded, {len(s.to_grade)} to grade; "
            f"{len(s.hand_grading)} wait for hand grading; feedback made for "
            f"{s.feedback_made}, {s.feedback_returned} page(s) returned"
        )
        lines += [f"  not graded {student}: {why}" for student, why in s.not_graded.items()]
        if s.to_grade:
            lines.append(f"  to grade: {', '.join(s.to_grade)} (run `cnn-course grade`)")
        if s.hand_grading:
            lines.append(
                f"  hand grading: {', '.join(s.hand_grading)} (the formgrader, "
                "`cnn-course lab --instructor`)"
            )
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the status of the chosen (default: every) assignment."""
    from cnn_course.course import course_directory
    from cnn_course.errors import CourseInputError
    from cnn_course.submissions import check_course_root

    root = check_course_root(args.course)
    course_id = course_directory(root).course_id
    known = sorted(p.name for p in (root / "source").iterdir() if p.is_dir())
    unknown = sorted(set(args.assignments) - set(known))
    if unknown:
        raise CourseInputError(f"no such assignment: {', '.join(unknown)}; known: {known}")
    chosen = args.assignments or known
    print("\n".join(status_lines([assignment_status(root, a, course_id) for a in chosen])))
    return 0
