"""Gradebook helpers around ``nbgrader.api.Gradebook`` for parallel grading.

Concurrent autograding writes to one gradebook from several processes. Two things make
that safe, for any database nbgrader supports:

* rows that several submissions share (the course, nbgrader's ``default_course``, each
  student) are created once in the parent before any worker starts, so workers never
  race to insert the same row (a unique-constraint error on PostgreSQL and sqlite alike);
* for sqlite, the URL gets a busy timeout (``?timeout=120``, passed by SQLAlchemy to
  ``sqlite3.connect``), so a writer waits for the lock instead of failing with
  "database is locked" after pysqlite's default 5 s. Every nbgrader transaction is
  short (milliseconds), so waits are short too; the long timeout only covers a slow disk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cnn_course.errors import CourseInputError

SQLITE_TIMEOUT_S = 120.0


def with_sqlite_timeout(db_url: str, timeout: float = SQLITE_TIMEOUT_S) -> str:
    """Return ``db_url`` with a sqlite busy timeout, unless it has one or is not sqlite.

    Parameters
    ----------
    db_url : str
        Any SQLAlchemy URL nbgrader accepts.
    timeout : float
        Seconds a sqlite connection waits for a lock before giving up.

    Returns
    -------
    str
        The URL, with ``timeout=<seconds>`` in its query for sqlite.
    """
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or "timeout" in url.query:
        return db_url
    return url.update_query_dict({"timeout": f"{timeout:g}"}).render_as_string(hide_password=False)


def prepare_gradebook(db_url: str, course_id: str, students: Iterable[str]) -> None:
    """Create the rows that concurrent autograde runs would otherwise race to insert.

    Parameters
    ----------
    db_url : str
        Gradebook URL.
    course_id : str
        ``CourseDirectory.course_id``.
    students : iterable of str
        Students about to be graded; each gets a row if it has none.
    """
    from nbgrader.api import Gradebook

    # Opening a Gradebook creates the tables and the course row if missing; nbgrader's
    # preprocessors open it without a course id, which creates "default_course".
    with Gradebook(db_url, course_id) as gb:
        for student in sorted(set(students)):
            gb.update_or_create_student(student)
    with Gradebook(db_url):
        pass


def known_assignments(db_url: str, course_id: str) -> list[str]:
    """Return the assignment ids the gradebook knows (those ever generated)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        return sorted(a.name for a in gb.assignments)


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of one submitted notebook, as stored in the gradebook."""

    student: str
    notebook: str
    cell: str
    auto_score: float | None
    max_score: float
    needs_manual_grade: bool


def cell_grades(
    db_url: str, course_id: str, assignment: str
) -> dict[tuple[str, str, str], CellGrade]:
    """Return every graded cell of every submission of ``assignment``.

    Parameters
    ----------
    db_url : str
        Gradebook URL.
    course_id : str
        ``CourseDirectory.course_id``.
    assignment : str
        Assignment id.

    Returns
    -------
    dict
        ``(student, notebook, cell grade_id)`` to :class:`CellGrade`.
    """
    from nbgrader.api import Gradebook

    grades = {}
    with Gradebook(db_url, course_id) as gb:
        for submission in gb.find_assignment(assignment).submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    key = (submission.student.id, notebook.name, grade.name)
                    grades[key] = CellGrade(
                        student=submission.student.id,
                        notebook=notebook.name,
                        cell=grade.name,
                        auto_score=grade.auto_score,
                        max_score=grade.max_score,
                        needs_manual_grade=grade.needs_manual_grade,
                    )
    return grades


def pending_hand_grading(db_url: str, course_id: str) -> dict[tuple[str, str], float]:
    """Points no human has graded yet, per submission.

    Parameters
    ----------
    db_url : str
        Gradebook URL.
    course_id : str
        ``CourseDirectory.course_id``.

    Returns
    -------
    dict
        ``(assignment, student)`` to the maximum points of its cells with neither an
        automatic nor a manual score (hand-graded answers before the formgrader); only
        submissions with some.
    """
    from nbgrader.api import Grade, Gradebook, SubmittedAssignment, SubmittedNotebook

    pending: dict[tuple[str, str], float] = {}
    with Gradebook(db_url, course_id) as gb:
        rows = (
            gb.db.query(SubmittedAssignment, Grade)
            .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Grade, Grade.notebook_id == SubmittedNotebook.id)
            .filter(Grade.auto_score.is_(None), Grade.manual_score.is_(None))
            .all()
        )
        for submission, grade in rows:
            key = (submission.assignment.name, submission.student.id)
            pending[key] = pending.get(key, 0.0) + float(grade.max_score)
    return pending


def check_gradebook(db_url: str, course_id: str, assignments: Iterable[str]) -> None:
    """Check that the gradebook can be opened and knows every assignment.

    Parameters
    ----------
    db_url : str
        Gradebook URL.
    course_id : str
        ``CourseDirectory.course_id``.
    assignments : iterable of str
        Assignments about to be graded.

    Raises
    ------
    CourseInputError
        If a sqlite gradebook file does not exist (opening it would create an empty
        one), the database cannot be reached, or an assignment was never generated.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    url = make_url(db_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        raise CourseInputError(
            f"no gradebook at {url.database}: run `cnn-course build` "
            "(nbgrader generate_assignment) first"
        )
    try:
        known = set(known_assignments(db_url, course_id))
    except ImportError as exc:
        raise CourseInputError(
            f"cannot open the gradebook {shown}: its database driver is not installed ({exc})"
        ) from None
    except SQLAlchemyError as exc:
        from cnn_course.failures import stopping_failure

        reason = str(exc).splitlines()[0]
        explained = stopping_failure(reason)
        reason += f" -- {explained}; nothing was graded" if explained else ""
        raise CourseInputError(f"cannot open the gradebook {shown}: {reason}") from None
    missing = sorted(set(assignments) - known)
    if missing:
        raise CourseInputError(
            f"assignment {', '.join(missing)} is not in the gradebook {shown}: run "
            f"`cnn-course build {' '.join(missing)}` (nbgrader generate_assignment) first"
        )
