"""The report's action list: what the instructor has to do next, most urgent first.

Made from what :class:`~cnn_course.report.CourseReport` already read: work that was not
graded, cells that ran out of time or lost their kernel in graded work, flagged work,
suspected copying and hand grading still to do. Each action names the submission and the
command or page that deals with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

# Why a cell did not finish (GradingProblem.cause), as the judge recorded it.
from cnn_course.grading.judging import CPU_LIMIT

if TYPE_CHECKING:  # the report imports this module
    from cnn_course.grading.copying import CopyingSuspicion
    from cnn_course.report.results import Flag, GradingProblem, SubmissionResult


# In order of urgency: a grade is missing, a grade may be wrong, a grade may be undeserved,
# a grade is not complete yet.
NOT_GRADED, UNFINISHED, FLAGGED, COPYING, HAND_GRADING = (
    "not graded",
    "unfinished cell",
    "flagged",
    "suspected copying",
    "hand grading",
)
COLUMNS = ["kind", "assignment", "student", "what", "todo"]


@dataclass(frozen=True)
class Action:
    """One thing to do; ``student`` is empty for an action on a whole assignment."""

    kind: str
    assignment: str
    student: str
    what: str
    todo: str


def _regrade(problem: GradingProblem) -> str:
    return f"cnn-course grade {problem.assignment} --student {problem.student}"


def _not_graded(problem: GradingProblem) -> Action:
    todo = f"fix the cause (or ask for a new submission), then `{_regrade(problem)}`"
    return Action(NOT_GRADED, problem.assignment, problem.student, problem.reason, todo)


# The probe's limit counts CPU time, which a busy machine does not inflate: regrading would
# stop the code again. nbgrader's timeout counts wall time, and a dead kernel may have been
# killed from outside: a regrade on a quiet machine tells a loop from the machine.
CODE_LOOPS = (
    "the code does not finish (its CPU time ran out; a busy machine does not cause that): "
    "the student's feedback names the case; no regrade needed"
)


def _unfinished(group: list[GradingProblem]) -> Action:
    """One action for a submission's cells that did not finish: one loop stops them all."""
    first = group[0]
    if any(problem.cause == CPU_LIMIT for problem in group):
        todo = CODE_LOOPS
    else:
        todo = f"read the cell's feedback; if the machine was busy, `{_regrade(first)} --force`"
    what = "; ".join(problem.reason for problem in group)
    return Action(UNFINISHED, first.assignment, first.student, what, todo)


def actions(
    submissions: Iterable[SubmissionResult],
    failures: Iterable[GradingProblem],
    flags: Iterable[Flag] = (),
    copying: Iterable[CopyingSuspicion] = (),
) -> list[Action]:
    """Every action, most urgent kind first, then by assignment and student.

    A submission's unfinished cells make one action (an endless loop stops every cell that
    calls the function).
    """
    found: list[Action] = []
    unfinished: dict[tuple[str, str], list[GradingProblem]] = defaultdict(list)
    for problem in failures:
        if problem.unfinished:  # graded, but a cell ran out of time or lost its kernel
            unfinished[(problem.assignment, problem.student)].append(problem)
        else:
            found.append(_not_graded(problem))
    found += [_unfinished(group) for group in unfinished.values()]
    found += [
        Action(FLAGGED, f.assignment, f.student, f.reason, "review the submission") for f in flags
    ]
    found += [
        Action(
            COPYING,
            c.assignment,
            c.student,
            c.reason,
            f"compare with {c.source}'s {c.assignment} (`cnn-course quiz-preview --student "
            f"{c.source}` shows that variant's answers)",
        )
        for c in copying
    ]
    waiting: dict[str, list[float]] = defaultdict(list)
    for submission in submissions:
        if submission.pending_points > 0:
            waiting[submission.assignment].append(submission.pending_points)
    found += [
        Action(
            HAND_GRADING,
            assignment,
            "",
            f"{len(points)} submission(s) wait, {sum(points):g} points in all",
            "grade the written answers in the formgrader (Manual Grading)",
        )
        for assignment, points in waiting.items()
    ]
    order = [NOT_GRADED, UNFINISHED, FLAGGED, COPYING, HAND_GRADING]
    return sorted(found, key=lambda a: (order.index(a.kind), a.assignment, a.student))
