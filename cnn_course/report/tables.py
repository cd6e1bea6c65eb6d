"""The report's tables (one per CSV file) and how they are written to CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from cnn_course.report.actions import COLUMNS as ACTION_COLUMNS
from cnn_course.report.actions import actions
from cnn_course.report.results import CourseReport
from cnn_course.report.student_table import COLUMNS as STUDENT_COLUMNS
from cnn_course.report.student_table import student_rows

Table = tuple[list[str], list[list[object]]]


def _rows(items: Iterable[object], columns: Sequence[str]) -> list[list[object]]:
    return [[getattr(item, column) for column in columns] for item in items]


def report_tables(report: CourseReport) -> dict[str, Table]:
    """Every table of the report, by CSV file name: (header, rows)."""
    columns = {
        "scores.csv": ["assignment", "max_score", "n", "mean", "std", "min", "max",
                       "mean_percent", "waiting"],
        "cells.csv": ["assignment", "notebook", "grade_id", "max_score", "n", "full",
                      "pass_rate", "mean_score", "waiting"],
        "mistakes.csv": ["assignment", "notebook", "grade_id", "mistake", "students", "n",
                         "share", "who"],
        "students.csv": STUDENT_COLUMNS,
        "actions.csv": ACTION_COLUMNS,
        "submissions.csv": ["assignment", "student", "score", "max_score", "graded",
                            "pending_points"],
        "flags.csv": ["student", "assignment", "reason"],
        "copying.csv": ["student", "assignment", "source", "telling", "matches", "own"],
        "failures.csv": ["assignment", "student", "notebook", "reason"],
    }  # fmt: skip
    copying = report.copying()
    items = {
        "scores.csv": report.scores(),
        "cells.csv": report.pass_rates(),
        "mistakes.csv": report.mistakes(),
        "students.csv": student_rows(
            report.submissions,
            report.assignments,
            report.students,
            [*(report.flags or []), *copying],
        ),
        "submissions.csv": report.submissions,
        "flags.csv": report.flags or [],
        "copying.csv": copying,
        "actions.csv": actions(report.submissions, report.failures, report.flags or [], copying),
        "failures.csv": report.failures,
    }
    return {name: (columns[name], _rows(items[name], columns[name])) for name in columns}


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def write_csv(path: Path, table: Table) -> None:
    """Write one table; empty cells for undefined values (e.g. ``std`` of one score)."""
    header, rows = table
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([_csv_value(v) for v in row] for row in rows)
