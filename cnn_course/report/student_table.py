"""The report's table per student: scores, what failed, what waits, what was flagged.

One row per student in the gradebook or with a submission, from what
:class:`~cnn_course.report.CourseReport` already read (nothing is read again): an
instructor looks a student up here before opening any page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report imports this module
    from cnn_course.grading.copying import CopyingSuspicion
    from cnn_course.report.results import Flag, SubmissionResult


@dataclass(frozen=True)
class StudentRow:
    """One student across the course.

    Attributes
    ----------
    student : str
    score, max_score : float
        Points of the graded submissions (late penalties applied), and the maximum of every
        assignment in the gradebook: what is not submitted or not graded counts as missing.
    graded : int
        Submissions graded.
    not_graded : str
        Assignments submitted but not graded (a grading problem), space-separated.
    pending_points : float
        Points waiting for a human grader.
    lost : str
        Automatically graded cells that did not get full points, as ``assignment/cell``.
    mistakes : str
        The mistakes their feedback names, each once.
    notes : str
        Flags for review and suspected copying, ``assignment: reason``, ``;``-separated.
    """

    student: str
    score: float
    max_score: float
    graded: int
    not_graded: str
    pending_points: float
    lost: str
    mistakes: str
    notes: str


COLUMNS = [
    "student",
    "score",
    "max_score",
    "graded",
    "not_graded",
    "pending_points",
    "lost",
    "mistakes",
    "notes",
]


def student_rows(
    submissions: Iterable[SubmissionResult],
    assignments: Mapping[str, float],
    students: Iterable[str] = (),
    notes: Iterable[Flag | CopyingSuspicion] = (),
) -> list[StudentRow]:
    """The rows, by student id; ``notes`` are flags and copying suspicions (with reasons)."""
    mine: dict[str, list[SubmissionResult]] = defaultdict(list)
    for submission in submissions:
        mine[submission.student].append(submission)
    noted: dict[str, list[str]] = defaultdict(list)
    for note in notes:
        noted[note.student].append(f"{note.assignment}: {note.reason}")
    total = sum(assignments.values())
    rows = []
    for student in sorted(set(students) | set(mine) | set(noted)):
        work = mine.get(student, [])
        graded = [s for s in work if s.score is not None]
        lost = [
            f"{s.assignment}/{c.grade_id}"
            for s in graded
            for c in s.cells
            if c.score is not None and c.score < c.max_score
        ]
        named = dict.fromkeys(m for s in graded for _, _, m in s.mistakes)
        rows.append(
            StudentRow(
                student,
                sum(s.score for s in graded if s.score is not None),
                total,
                len(graded),
                " ".join(s.assignment for s in work if s.score is None),
                sum(s.pending_points for s in work),
                " ".join(lost),
                "; ".join(named),
                "; ".join(noted.get(student, [])),
            )
        )
    return rows
