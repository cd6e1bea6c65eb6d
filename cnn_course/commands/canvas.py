"""The ``export`` subcommand: the course's grades into the instructor's Canvas gradebook.

``cnn-course export --canvas EXPORT.csv`` reads the gradebook CSV the instructor exported
from Canvas (Grades -> Export) and ``grades.csv`` (written by ``cnn-course grade``), and
writes a copy of the export with the course's scores filled in, ready for Grades ->
Import. The instructor's file is never changed.

Canvas's export is wide: a header row, then often a ``Points Possible`` row (and on some
instances a ``Manual Posting`` row) whose first cell is indented, then one row per
student with the identity columns ``Student`` ("Last, First"), ``ID``, ``SIS User ID``,
``SIS Login ID``, ``Section``, one column per assignment headed ``Name (canvas-id)``, and
read-only totals (``Current Score``, ...) that Canvas ignores on import.

- A course assignment goes into the column whose name (before ``(id)``) is the
  assignment's name, or the one ``--column ASSIGNMENT=ID`` names.
- A course student (nbgrader's student id, the hub login) is the Canvas row whose
  ``SIS Login ID`` is that id, else whose ``SIS User ID`` is, ignoring case (``--match``
  narrows this).
- A score goes in only when it is current and whole: graded, not withheld by the review,
  no points waiting for hand grading. Otherwise the cell is left blank and listed with
  the reason: a blank, not a 0, so no score is invented for work not judged yet.
- Students on one side only, course assignments with no column, and assignments whose
  points in Canvas differ from the course's are reported. Other cells stay as exported.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnn_course.errors import CourseInputError
from cnn_course.grade_status import (
    GRADED,
    NOT_SUBMITTED,
    PENDING,
    REVIEW,
    STATUS,
    STATUS_REASON,
    WITHHELD,
)

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
LOGIN, SIS_ID = "SIS Login ID", "SIS User ID"
MATCH_COLUMNS = {"login": (LOGIN,), "sis": (SIS_ID,), "auto": (LOGIN, SIS_ID)}
HEADER_WITH_ID = re.compile(r"^(?P<name>.*\S)\s*\((?P<id>\d+)\)$")
BOM = "\ufeff"


@dataclass(frozen=True)
class Column:
    """One assignment column of the Canvas export."""

    index: int
    header: str
    name: str
    canvas_id: str


@dataclass(frozen=True)
class CourseGrade:
    """One row of ``grades.csv``: a student's grade of one assignment, and whether it is current."""

    student: str
    assignment: str
    score: str
    max_score: str
    status: str
    reason: str

    @property
    def blank_reason(self) -> str:
        """Why this grade must not go to Canvas; empty when it may."""
        if self.score == WITHHELD:
            return f"withheld for review: {self.reason}" if self.reason else "withheld for review"
        if self.status != GRADED:
            return f"{self.status}: {self.reason}" if self.reason else self.status
        if self.reason:  # graded, but points wait for hand grading
            return self.reason
        return ""


@dataclass(frozen=True)
class Blank:
    """A cell left blank: whose, which assignment, and why."""

    student: str
    canvas_name: str
    assignment: str
    reason: str


@dataclass
class CanvasFill:
    """The filled export and everything the instructor should be told about it."""

    text: str
    columns: dict[str, Column] = field(default_factory=dict)  # course assignment -> column
    filled: int = 0
    blanks: list[Blank] = field(default_factory=list)
    not_in_course: list[str] = field(default_factory=list)  # Canvas rows, described
    not_in_canvas: list[str] = field(default_factory=list)  # course student ids
    without_column: list[str] = field(default_factory=list)  # course assignments
    points_differ: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # header, canvas, course


# ---------------------------------------------------------------------------- reading


def read_canvas(text: str) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Split a Canvas export into (header, special rows, student rows).

    Special rows (``Points Possible``, ``Manual Posting``, ...) are the rows before the
    first student whose first cell is indented or that have no ``ID``.
    """
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    if not rows:
        raise CourseInputError("the Canvas export is empty")
    header = [cell.strip() for cell in rows[0]]
    missing = [name for name in ("Student", "ID") if name not in header]
    if missing:
        raise CourseInputError(
            f"this is not a Canvas gradebook export: no {' or '.join(map(repr, missing))} "
            "column in its first row (export it from Canvas: Grades -> Export -> CSV)"
        )
    width = len(header)
    body = [row + [""] * (width - len(row)) for row in rows[1:] if any(c.strip() for c in row)]
    student_at, id_at = header.index("Student"), header.index("ID")
    special = []
    while body and (body[0][student_at].startswith(" ") or not body[0][id_at].strip()):
        special.append(body.pop(0))
    return header, special, body


def assignment_columns(header: Sequence[str]) -> list[Column]:
    """The columns headed ``Name (id)``: Canvas's assignments."""
    columns = []
    for index, cell in enumerate(header):
        found = HEADER_WITH_ID.match(cell)
        if found and cell not in IDENTITY:
            columns.append(Column(index, cell, found["name"], found["id"]))
    return columns


def read_grades(path: Path) -> list[CourseGrade]:
    """The rows of the course's ``grades.csv``."""
    if not path.is_file():
        raise CourseInputError(f"no {path}: run `cnn-course grade` first, which writes it")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"student_id", "assignment", "score"} <= set(rows[0]):
        raise CourseInputError(f"{path} is not the course's grades export (no student_id)")
    return [
        CourseGrade(
            student=row["student_id"],
            assignment=row["assignment"],
            score=(row.get("score") or "").strip(),
            max_score=(row.get("max_score") or "").strip(),
            status=row.get(STATUS) or GRADED,
            reason=_reason(row),
        )
        for row in rows
    ]


def _reason(row: Mapping[str, str]) -> str:
    if (row.get("score") or "").strip() == WITHHELD:
        return row.get(REVIEW) or ""
    if (row.get(STATUS) or GRADED) == GRADED and _number(row.get(PENDING)) == 0:
        return ""
    return row.get(STATUS_REASON) or ""


def _number(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


# ---------------------------------------------------------------------------- matching


def match_columns(
    columns: Sequence[Column], assignments: Iterable[str], chosen: Mapping[str, str]
) -> tuple[dict[str, Column], list[str]]:
    """(course assignment -> its Canvas column, assignments with none).

    ``chosen`` maps an assignment to a Canvas id or a whole header (``--column``);
    otherwise the column whose name is the assignment's, ignoring case.
    """
    found, without = {}, []
    for assignment in assignments:
        if assignment in chosen:
            want = chosen[assignment]
            hits = [c for c in columns if want in (c.canvas_id, c.header)]
            if not hits:
                raise CourseInputError(
                    f"--column {assignment}={want}: the Canvas export has no such column "
                    f"(its assignments: {', '.join(c.header for c in columns) or 'none'})"
                )
        else:
            hits = [c for c in columns if c.name.casefold() == assignment.casefold()]
        if len(hits) > 1:
            raise CourseInputError(
                f"{assignment} matches {len(hits)} Canvas columns "
                f"({', '.join(c.header for c in hits)}): choose one with "
                f"--column {assignment}=ID"
            )
        if hits:
            found[assignment] = hits[0]
        else:
            without.append(assignment)
    return found, without


def match_students(
    header: Sequence[str], rows: Sequence[list[str]], students: Iterable[str], match: str
) -> dict[str, int]:
    """Course student id -> index of their Canvas row (by login, then SIS user id)."""
    keys = [header.index(name) for name in MATCH_COLUMNS[match] if name in header]
    if not keys:
        raise CourseInputError(
            f"the Canvas export has no {' or '.join(MATCH_COLUMNS[match])} column to match "
            "students by (export with 'SIS Login ID' shown, or use --match)"
        )
    matched = {}
    for student in students:
        for key in keys:
            # Hub logins are lower case; Canvas keeps the SIS system's spelling.
            hits = [
                i for i, row in enumerate(rows) if row[key].strip().casefold() == student.casefold()
            ]
            if len(hits) > 1:
                names = "; ".join(rows[i][header.index("Student")] for i in hits)
                raise CourseInputError(
                    f"{student} is the {header[key]} of {len(hits)} Canvas rows ({names})"
                )
            if hits:
                matched[student] = hits[0]
                break
    return matched


# ---------------------------------------------------------------------------- filling


def fill(
    canvas_text: str,
    grades: Sequence[CourseGrade],
    *,
    chosen: Mapping[str, str] | None = None,
    match: str = "auto",
    missing_as_zero: bool = False,
) -> CanvasFill:
    """The Canvas export with the course's current scores in their columns."""
    header, special, rows = read_canvas(canvas_text)
    assignments = list(dict.fromkeys(g.assignment for g in grades))
    students = list(dict.fromkeys(g.student for g in grades))
    columns, without = match_columns(assignment_columns(header), assignments, chosen or {})
    matched = match_students(header, rows, students, match)
    result = CanvasFill(text="", columns=columns, without_column=without)
    result.not_in_canvas = [s for s in students if s not in matched]
    mine = set(matched.values())
    name_at, id_at = header.index("Student"), header.index("ID")
    result.not_in_course = [
        f"{row[name_at]} (Canvas ID {row[id_at]})" for i, row in enumerate(rows) if i not in mine
    ]
    result.points_differ = _points_differ(header, special, columns, grades)
    for grade in grades:
        column = columns.get(grade.assignment)
        if column is None or grade.student not in matched:
            continue
        row = rows[matched[grade.student]]
        reason, score = grade.blank_reason, ""
        if reason == NOT_SUBMITTED and missing_as_zero:
            reason, score = "", "0"
        elif not reason:
            score = _score_text(grade.score)
            reason = "" if score else f"the score in grades.csv is not a number: {grade.score!r}"
        if reason:
            row[column.index] = ""
            result.blanks.append(Blank(grade.student, row[name_at], grade.assignment, reason))
        else:
            row[column.index] = score
            result.filled += 1
    result.text = _write_csv([header, *special, *rows], bom=canvas_text.startswith(BOM))
    return result


def _score_text(score: str) -> str:
    """A score as Canvas reads it (``45`` not ``45.0``, at most 4 decimals); "" if none."""
    try:
        return f"{round(float(score), 4):g}"
    except ValueError:
        return ""


def _points_differ(
    header: Sequence[str],
    special: Sequence[list[str]],
    columns: Mapping[str, Column],
    grades: Sequence[CourseGrade],
) -> list[tuple[str, str, str]]:
    """(header, Canvas points, course points) where the Points Possible row disagrees."""
    possible = [row for row in special if row[header.index("Student")].strip() == "Points Possible"]
    if not possible:
        return []
    course_max = {g.assignment: g.max_score for g in grades if g.max_score}
    differ = []
    for assignment, column in columns.items():
        canvas_points, ours = possible[0][column.index].strip(), course_max.get(assignment)
        if canvas_points and ours and _number(canvas_points) != _number(ours):
            differ.append((column.header, canvas_points, _score_text(ours)))
    return differ


def _write_csv(rows: Sequence[Sequence[str]], *, bom: bool) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return (BOM if bom else "") + buffer.getvalue()


# ---------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "export",
        help="fill the course's grades into a Canvas gradebook export, ready to import",
        description="Read the gradebook CSV exported from Canvas (Grades -> Export) and the "
        "course's grades.csv, and write a copy of the export with every current score in "
        "its assignment's column, for Canvas's Grades -> Import. Withheld, ungraded and "
        "hand-grading work is left blank and listed; students and assignments on one side "
        "only are reported. The Canvas file given is not changed.",
    )
    parser.add_argument(
        "--canvas", required=True, type=Path, metavar="EXPORT.csv", help="Canvas's export"
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="where to write the filled copy (default: EXPORT-filled.csv beside it)",
    )
    parser.add_argument(
        "--grades",
        type=Path,
        metavar="CSV",
        help="the course's grades (default: grades.csv in the course root)",
    )
    parser.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="ASSIGNMENT=ID",
        help="put ASSIGNMENT in the Canvas column with this id (or whole header); "
        "default: the column named like the assignment",
    )
    parser.add_argument(
        "--match",
        choices=sorted(MATCH_COLUMNS),
        default="auto",
        help="match course students by Canvas's SIS Login ID, SIS User ID, or the login "
        "then the SIS id (auto, the default)",
    )
    parser.add_argument(
        "--missing-as-zero",
        action="store_true",
        help="give 0 for work never submitted (default: leave it blank)",
    )
    parser.set_defaults(func=run)


def _chosen(pairs: Sequence[str]) -> dict[str, str]:
    chosen = {}
    for pair in pairs:
        assignment, sep, target = pair.partition("=")
        if not sep or not assignment.strip() or not target.strip():
            raise CourseInputError(f"--column {pair}: write it as ASSIGNMENT=CANVAS-ID")
        chosen[assignment.strip()] = target.strip()
    return chosen


def run(args: argparse.Namespace) -> int:
    """Write the filled export and say what went in and what did not."""
    root = Path(args.course)
    source = Path(args.canvas)
    if not source.is_file():
        raise CourseInputError(f"no Canvas export at {source}")
    output = args.output or source.with_name(f"{source.stem}-filled.csv")
    if output.resolve() == source.resolve():
        raise CourseInputError("--output is the Canvas export itself: choose another path")
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CourseInputError(f"{source} is not UTF-8 text, as Canvas exports: {exc}") from exc
    grades = read_grades(args.grades or root / "grades.csv")
    if not grades:
        raise CourseInputError("grades.csv has no rows: nothing is graded yet")
    result = fill(
        text,
        grades,
        chosen=_chosen(args.column),
        match=args.match,
        missing_as_zero=args.missing_as_zero,
    )
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    temporary.write_text(result.text, encoding="utf-8", newline="")
    os.replace(temporary, output)
    print(summary(result, output))
    return 0


def summary(result: CanvasFill, output: Path) -> str:
    """What the instructor reads after ``export``."""
    lines = [f"wrote {output}: {result.filled} score(s) filled in, ready for Grades -> Import"]
    for assignment, column in result.columns.items():
        lines.append(f"  {assignment} -> column {column.header!r}")
    if result.blanks:
        lines.append(f"left blank, not 0 ({len(result.blanks)}):")
        lines += [
            f"  {b.student} ({b.canvas_name}), {b.assignment}: {b.reason}" for b in result.blanks
        ]
    if result.without_column:
        lines.append(
            "course assignments with no Canvas column (create the assignment in Canvas and "
            "export again, or name its column with --column ASSIGNMENT=ID): "
            + ", ".join(result.without_column)
        )
    for header, canvas_points, ours in result.points_differ:
        lines.append(
            f"points differ: Canvas grades {header!r} out of {canvas_points}, the course out "
            f"of {ours} (scores are written as the course gives them)"
        )
    if result.not_in_canvas:
        lines.append(
            f"course students with no Canvas row ({len(result.not_in_canvas)}): "
            + ", ".join(result.not_in_canvas)
        )
    if result.not_in_course:
        lines.append(
            f"Canvas students the course has no grades for ({len(result.not_in_course)}): "
            + "; ".join(result.not_in_course)
        )
    return "\n".join(lines)
