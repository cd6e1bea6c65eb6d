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

if TYPE_CHECKING:  # the report imports this module
    from cnn_course.copying import CopyingSuspicion
    from cnn_course.report import Flag, GradingProblem, SubmissionResult

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


def _problem(problem: GradingProblem) -> Action:
    regrade = f"cnn-course grade {problem.assignment} --student {problem.student}"
    if problem.unfinished:  # graded, but a cell timed out or its kernel died
        return Action(
            UNFINISHED,
            problem.assignment,
            problem.student,
            problem.reason,
            f"read the cell's feedback; if the machine was busy, `{regrade} --force`",
        )
    return Action(
        NOT_GRADED,
        problem.assignment,
        problem.student,
        problem.reason,
        f"fix the cause (or ask for a new submission), then `{regrade}`",
    )


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
    unfinished: dict[tuple[str, str], list[Action]] = defaultdict(list)
    for action in map(_problem, failures):
        if action.kind == UNFINISHED:
            unfinished[(action.assignment, action.student)].append(action)
        else:
            found.append(action)
    found += [
        Action(UNFINISHED, *key, "; ".join(a.what for a in group), group[0].todo)
        for key, group in unfinished.items()
    ]
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
