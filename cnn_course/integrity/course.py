"""Review a graded course: every submission in ``submitted/``, or the ones asked for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from cnn_course.course import course_directory
from cnn_course.integrity.review import (
    Finding,
    Review,
    code_findings,
    file_findings,
    gradebook_cells,
    locked_cell_findings,
)


def review_submission(coursedir: object, gb: Gradebook, student: str, assignment: str) -> Review:
    """Everything this module checks, for one student's submission of one assignment.

    Parameters
    ----------
    coursedir : nbgrader.coursedir.CourseDirectory
        The course's paths.
    gb : Gradebook
        The open gradebook.
    student, assignment : str
        Which submission.

    Returns
    -------
    Review
        The findings, empty for a clean submission. Nothing on disk is changed.
    """
    review = Review(student, assignment)

    def folder(step: str, who: str = student) -> Path:
        return Path(coursedir.format_path(step, who, assignment))

    submitted = folder(coursedir.submitted_directory)
    for notebook in gb.find_assignment(assignment).notebooks:
        cells = gradebook_cells(gb, notebook.name, assignment)
        path = submitted / f"{notebook.name}.ipynb"
        nb = _read(path)
        if nb is not None:
            review.findings += locked_cell_findings(nb, cells, notebook.name)
            review.findings += code_findings(nb, cells, notebook.name)
    if submitted.is_dir():
        release = folder(coursedir.release_directory, ".")
        source = folder(coursedir.source_directory, ".")
        review.findings += file_findings(submitted, release, source)
    return review


def _read(path: Path) -> nbformat.NotebookNode | None:
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 -- missing or unreadable: another tool reports that
        return None


def submitted_pairs(coursedir: object) -> list[tuple[str, str]]:
    """Every (student, assignment) with a folder in ``submitted/``."""
    root = Path(coursedir.root) / coursedir.submitted_directory
    if not root.is_dir():
        return []
    return sorted(
        (s.name, a.name) for s in root.iterdir() if s.is_dir() for a in s.iterdir() if a.is_dir()
    )


def review_course(
    root: Path | str,
    submissions: Sequence[tuple[str, str]] | None = None,
    db_url: str | None = None,
) -> list[Review]:
    """Review submissions (default: every one in ``submitted/``) of a graded course.

    Parameters
    ----------
    root : Path or str
        The course directory.
    submissions : sequence of (student, assignment), optional
        Which ones; each must be an assignment of the gradebook.
    db_url : str, optional
        Gradebook URL; default the course's.

    Returns
    -------
    list of Review
        One per submission, flagged or not.
    """
    overrides = {"CourseDirectory.db_url": db_url} if db_url else {}
    coursedir = course_directory(root, **overrides)
    pairs = list(submissions) if submissions is not None else submitted_pairs(coursedir)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        known = {a.name for a in gb.assignments}
        reviews = []
        for student, assignment in pairs:
            if assignment not in known:
                continue  # never generated: nothing to compare with (grading says so)
            try:
                reviews.append(review_submission(coursedir, gb, student, assignment))
            except MissingEntry:
                continue
            except Exception as error:  # noqa: BLE001 -- one odd submission must not stop it
                what = f"could not be reviewed ({type(error).__name__}: {error})"
                reviews.append(Review(student, assignment, [Finding("review", what, False)]))
    return reviews
