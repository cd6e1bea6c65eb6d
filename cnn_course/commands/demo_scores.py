"""The demo's closing table: each student's score per assignment, read from the gradebook.

:func:`read_scores` reads them (with late penalties and points waiting for hand grading),
:func:`score_table` lays them out, and :func:`late_notes` and :func:`pending_notes` say
what the table's marks mean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------- the scores


@dataclass(frozen=True)
class Score:
    """One student's graded work on one assignment, from the gradebook."""

    score: float
    max_score: float
    penalty: float = 0.0
    seconds_late: float = 0.0
    pending: float = 0.0  # points waiting for hand grading, not in ``score`` yet

    @property
    def final(self) -> float:
        """The score after the late penalty."""
        return self.score - self.penalty


def read_scores(
    root: Path, students: Iterable[str], assignments: Iterable[str]
) -> dict[tuple[str, str], Score]:
    """Scores per (student, assignment) from the gradebook; missing submissions are left out."""
    from nbgrader.api import Gradebook, MissingEntry

    from cnn_course.course import course_directory
    from cnn_course.gradebook import pending_hand_grading

    coursedir = course_directory(root)
    pending = pending_hand_grading(coursedir.db_url, coursedir.course_id)
    scores = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for student in students:
            for assignment in assignments:
                try:
                    sub = gb.find_submission(assignment, student)
                except MissingEntry:
                    continue
                scores[(student, assignment)] = Score(
                    float(sub.score),
                    float(sub.max_score),
                    float(sub.late_submission_penalty or 0.0),
                    float(sub.total_seconds_late),
                    pending.get((assignment, student), 0.0),
                )
    return scores


def score_table(
    scores: Mapping[tuple[str, str], Score], students: list[str], assignments: list[str]
) -> str:
    """Students x assignments (scores after late penalties, ``*`` late) with totals."""
    rows = [["student", *assignments, "total"]]
    for student in students:
        got = [scores.get((student, a)) for a in assignments]
        shown = ["-" if s is None else f"{s.final:.1f}{'*' if s.penalty else ''}" for s in got]
        total = sum(s.final for s in got if s is not None)
        rows.append([student, *shown, f"{total:.1f}"])
    maxima = [
        max((s.max_score for (_, a), s in scores.items() if a == x), default=0.0)
        for x in assignments
    ]
    rows.append(["(max)", *[f"{m:.1f}" for m in maxima], f"{sum(maxima):.1f}"])
    return "\n".join(aligned(rows))


def aligned(rows: list[list[str]]) -> list[str]:
    """Rows as text columns: the first left-aligned, the others right; a rule under row 0."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            [row[0].ljust(widths[0])]
            + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        )
        for row in rows
    ]
    return [lines[0], "  ".join("-" * w for w in widths), *lines[1:]]


def late_notes(scores: Mapping[tuple[str, str], Score]) -> list[str]:
    """One line per penalised submission, saying what the late-penalty plugin deducted."""
    return [
        f"* {student} {assignment}: submitted {s.seconds_late:.2f} s after the due date, "
        f"penalty {s.penalty:g} of {s.score:g} points (PerDayLatePenalty)"
        for (student, assignment), s in sorted(scores.items())
        if s.penalty
    ]


def pending_notes(scores: Mapping[tuple[str, str], Score]) -> list[str]:
    """One line per assignment with points waiting for hand grading."""
    waiting: dict[str, list[float]] = {}
    for (_, assignment), s in sorted(scores.items()):
        if s.pending:
            waiting.setdefault(assignment, []).append(s.pending)
    return [
        f"+ {assignment}: {len(points)} submission(s) have {max(points):g} point(s) waiting for "
        "hand grading, not in the table yet (the formgrader: `cnn-course lab --instructor`)"
        for assignment, points in waiting.items()
    ]
