"""Say in ``grades.csv`` whether each row's grade is current, and why not.

``nbgrader export`` writes the gradebook's scores, and the gradebook keeps the last score a
submission ever got: a resubmission that could not be graded would be exported with the
old submission's score as if it were current. Columns are added to every row, so the
file has the same shape whatever happened:

``status``
    ``graded`` (the score is of the submission in ``submitted/``), ``not graded`` (grading
    it failed: the score columns are left empty) or ``not submitted``.
``status_reason``
    Why not graded, in the runner's words (``reports/autograde_failures.json``).
``hand_grading_pending``
    Points of cells no human has graded yet (``0`` when none), for graded rows: the score
    leaves them out until the formgrader's grades are in; ``status_reason`` says so too.
``review``
    Left empty here; the integrity review (:mod:`cnn_course.integrity`) writes why it
    flagged a submission.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path

from cnn_course.failures import recorded_failures

STATUS, STATUS_REASON, REVIEW = "status", "status_reason", "review"
PENDING = "hand_grading_pending"
GRADED, NOT_GRADED, NOT_SUBMITTED = "graded", "not graded", "not submitted"
# What the integrity review writes in the score columns of a flagged submission.
WITHHELD = "withheld"
SCORE_COLUMNS = ("raw_score", "late_submission_penalty", "score")


def row_status(
    root: Path, row: dict[str, str], failures: dict[tuple[str, str], str]
) -> tuple[str, str]:
    """The (status, reason) of one exported row."""
    student, assignment = row.get("student_id", ""), row.get("assignment", "")
    if (assignment, student) in failures:
        return NOT_GRADED, failures[(assignment, student)]
    if not (root / "submitted" / student / assignment).is_dir():
        return NOT_SUBMITTED, ""
    return GRADED, ""


def mark_status(
    csv_path: Path, root: Path, pending: Mapping[tuple[str, str], float] | None = None
) -> None:
    """Add the status columns to an export in place (atomically); blank failed scores.

    ``pending`` maps (assignment, student) to the points waiting for hand grading
    (:func:`cnn_course.gradebook.pending_hand_grading`).
    """
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
        columns = list(rows[0]) if rows else []
    if not columns:
        return
    failures = recorded_failures(root)
    columns += [c for c in (PENDING, STATUS, STATUS_REASON, REVIEW) if c not in columns]
    for row in rows:
        status, reason = row_status(root, row, failures)
        waiting = (pending or {}).get((row.get("assignment", ""), row.get("student_id", "")), 0)
        if status == GRADED and waiting:
            reason = f"{waiting:g} of {row.get('max_score', '?')} points wait for hand grading"
        row[STATUS], row[STATUS_REASON] = status, reason
        row[PENDING] = f"{waiting:g}" if status == GRADED else ""
        row.setdefault(REVIEW, "")
        if status == NOT_GRADED:
            for column in SCORE_COLUMNS:
                row[column] = ""
    temporary = csv_path.with_name(f".{csv_path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, csv_path)
