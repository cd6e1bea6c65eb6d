"""Finding submissions in a course directory, and checking the names a user gives.

nbgrader's layout (relative to the course root): instructor notebooks in
``source/<assignment>/``, student versions in ``release/<assignment>/``, collected work in
``submitted/<student>/<assignment>/`` and graded copies in
``autograded/<student>/<assignment>/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnn_course.errors import CourseInputError

__all__ = ["CourseInputError", "Submission", "find_submissions", "select_submissions"]


@dataclass(frozen=True, order=True)
class Submission:
    """One student's submitted work for one assignment."""

    assignment: str
    student: str

    def __str__(self) -> str:
        return f"{self.assignment}/{self.student}"


def check_course_root(root: Path | str) -> Path:
    """Return ``root`` resolved, or raise if it is not a directory.

    Raises
    ------
    CourseInputError
        If ``root`` does not exist or is not a directory.
    """
    path = Path(root)
    if not path.is_dir():
        raise CourseInputError(f"course directory {str(root)!r} does not exist")
    return path.resolve()


def source_assignments(root: Path) -> list[str]:
    """Return the assignments in ``source/``: sub-folders holding at least one notebook."""
    source = Path(root) / "source"
    if not source.is_dir():
        return []
    return sorted(d.name for d in source.iterdir() if d.is_dir() and any(d.glob("*.ipynb")))


def find_submissions(root: Path) -> list[Submission]:
    """Return every ``submitted/<student>/<assignment>/`` folder as a :class:`Submission`."""
    submitted = Path(root) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(
        Submission(assignment=a.name, student=s.name)
        for s in submitted.iterdir()
        if s.is_dir()
        for a in s.iterdir()
        if a.is_dir()
    )


def names(items: Iterable[str]) -> str:
    """Format names for an error message: sorted, comma-separated, or ``none``."""
    items = sorted(items)
    return ", ".join(items) if items else "none"


def check_assignments(wanted: Sequence[str], known: Iterable[str]) -> None:
    """Raise :class:`CourseInputError` for the first of ``wanted`` not in ``known``."""
    known = set(known)
    for name in wanted:
        if name not in known:
            raise CourseInputError(f"unknown assignment {name!r} (known: {names(known)})")


def select_submissions(
    root: Path,
    assignments: Sequence[str] = (),
    students: Sequence[str] = (),
    known: Iterable[str] = (),
) -> list[Submission]:
    """Return the submissions to grade, checking that the user's names make sense.

    Parameters
    ----------
    root : Path
        Course root.
    assignments : sequence of str
        Assignments asked for; empty means every assignment that has submissions.
    students : sequence of str
        Students asked for; empty means everyone who submitted.
    known : iterable of str
        Further assignment ids that exist (e.g. those in the gradebook) besides ``source/``.

    Returns
    -------
    list of Submission
        Sorted, without duplicates.

    Raises
    ------
    CourseInputError
        For an unknown assignment or student, or when there is nothing submitted yet.
    """
    everything = find_submissions(root)
    submitted_for = {s.assignment for s in everything}
    check_assignments(assignments, set(source_assignments(root)) | set(known) | submitted_for)
    for name in assignments:
        if name not in submitted_for:
            raise CourseInputError(
                f"no submissions yet for assignment {name!r} (nothing in submitted/*/{name}/)"
            )
    if not everything:
        raise CourseInputError("no submissions yet (submitted/ holds no student work)")
    wanted = set(assignments) or submitted_for
    selected = [s for s in everything if s.assignment in wanted]
    if students:
        submitters = {s.student for s in everything}
        for name in students:
            if name not in submitters:
                raise CourseInputError(f"unknown student {name!r} (nothing in submitted/{name}/)")
            if not any(s.student == name for s in selected):
                raise CourseInputError(f"student {name!r} has no submission for {names(wanted)}")
        selected = [s for s in selected if s.student in set(students)]
    return selected
