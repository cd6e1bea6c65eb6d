"""Read a course for the report: the gradebook, the autograded notebooks and flags.json.

:func:`collect_report` reads everything into a :class:`~cnn_course.report.results.CourseReport`:
each graded cell's score, the mistakes its outputs name, cells that did not finish, and,
for a notebook that was not graded, the cause seen in the submitted files.
"""

from __future__ import annotations

import glob
import json
import re
import warnings
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import Gradebook, SubmittedAssignment, SubmittedNotebook
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.engine import make_url

from cnn_course.course import course_directory
from cnn_course.errors import CourseInputError
from cnn_course.failures import recorded_failures
from cnn_course.grading.copying import read_answers
from cnn_course.grading.judging import (
    CPU_LIMIT,
    KERNEL_LOST,
    MISTAKES_KEY,
    STOPPED_KEY,
    UNFINISHED_ERRORS,
    WALL_CLOCK,
)
from cnn_course.report.results import (
    FLAGS_FILE,
    REPORT_DIR,
    CellResult,
    CourseReport,
    Flag,
    GradingProblem,
    SubmissionResult,
)

# How the report words each reason a cell did not finish: it was graded, but not on its merits.
STOPPED_HOW = {
    WALL_CLOCK: "timed out",
    KERNEL_LOST: "killed the kernel",
    CPU_LIMIT: "ran out of CPU time",
}


def diagnosed_mistakes(cell: nbformat.NotebookNode) -> list[str]:
    """Names of the mistakes a graded cell's outputs diagnose, in order, without repeats.

    Parameters
    ----------
    cell : NotebookNode
        A cell of an autograded notebook.

    Returns
    -------
    list of str
        What the judge recorded in the cell's metadata (:data:`MISTAKES_KEY`); never the
        text a cell printed, which the student's code writes ("Likely mistake: ..."
        printed by a student's function names nothing).
    """
    recorded = cell.metadata.get(MISTAKES_KEY, [])
    if not isinstance(recorded, list):
        return []
    return [name for name in recorded if isinstance(name, str)]


def _gradebook_url(coursedir: CourseDirectory) -> str:
    """The course's database URL, after checking that a sqlite gradebook exists.

    Opening a missing sqlite file would create an empty gradebook, hiding the mistake.
    """
    url = make_url(coursedir.db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).is_file():
            raise CourseInputError(
                f"no gradebook at {url.database}: nothing in {coursedir.root} has been "
                "generated and autograded yet (run `cnn-course grade` first)"
            )
    return coursedir.db_url


def _notebook_path(
    coursedir: CourseDirectory, step: str, student: str, assignment: str, notebook: str
) -> Path:
    return Path(coursedir.format_path(step, student, assignment)) / f"{notebook}.ipynb"


def _read_quietly(path: Path) -> nbformat.NotebookNode:
    """Read a notebook; nbformat's warnings about it (e.g. repeated cell ids) stay silent."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nbformat.read(path, as_version=4)


def _copied_ids(notebook: nbformat.NotebookNode) -> list[str]:
    """nbgrader ids that more than one cell carries (a cell copied with its metadata)."""
    ids = [
        meta.get("grade_id")
        for meta in (cell.metadata.get("nbgrader", {}) for cell in notebook.cells)
        if meta.get("grade") or meta.get("solution") or meta.get("locked")
    ]
    return sorted({i for i in ids if i and ids.count(i) > 1})


def _why_not_graded(
    coursedir: CourseDirectory,
    assignment: str,
    student: str,
    notebook: str,
    recorded: str | None = None,
) -> str:
    """The cause, seen in the submitted files, else ``recorded`` by ``cnn-course grade``."""
    submitted = _notebook_path(
        coursedir, coursedir.submitted_directory, student, assignment, notebook
    )
    if not submitted.is_file():
        others = sorted(p.name for p in submitted.parent.glob("*.ipynb"))
        if others:
            return (
                f"no {notebook}.ipynb was submitted, only {', '.join(others)} (nbgrader "
                "grades a notebook only under its released name)"
            )
        return f"no {notebook}.ipynb was submitted"
    try:
        content = _read_quietly(submitted)
    except Exception as error:  # noqa: BLE001 -- any unreadable file is the same finding
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        return f"the submitted notebook is not valid ({type(error).__name__}: {first_line})"
    copied = _copied_ids(content)
    if copied:
        return (
            f"copied cells: the nbgrader id(s) {', '.join(copied)} appear more than once, "
            "which nbgrader cannot grade (nbgrader issue #1083)"
        )
    if recorded:
        return f"autograding failed: {recorded}"
    return "autograding failed for this notebook (no autograded copy; autograde it again)"


def _unfinished(cell: nbformat.NotebookNode) -> tuple[str, str] | None:
    """How a cell did not finish and why: ``(what, cause)``, or None if it finished.

    What the judge recorded in a test cell's metadata (:data:`STOPPED_KEY`: nbgrader's
    timeout, a dead kernel, or the probe's CPU-time limit on a student function); for any
    other cell, nbgrader's own error in its outputs. Never the text a cell printed, which
    the student's code writes.
    """
    cause = cell.metadata.get(STOPPED_KEY)
    if cause is None:
        errors = (o.get("ename") for o in cell.get("outputs", []))
        cause = next((UNFINISHED_ERRORS[e] for e in errors if e in UNFINISHED_ERRORS), None)
    return (STOPPED_HOW[cause], cause) if cause in STOPPED_HOW else None


def _read_notebook_results(
    coursedir: CourseDirectory,
    assignment: str,
    student: str,
    submitted_notebook: SubmittedNotebook,
    cell_order: dict[tuple[str, str, str], int],
) -> tuple[list[CellResult], list[tuple[str, str, str]], list[GradingProblem], dict] | None:
    """Cells, mistakes, unfinished cells and quiz answers of a graded notebook, or None."""
    name = submitted_notebook.name
    path = _notebook_path(coursedir, coursedir.autograded_directory, student, assignment, name)
    if not path.is_file():
        return None
    notebook = nbformat.read(path, as_version=4)
    cells, mistakes, problems = [], [], []
    by_id = {}
    for index, cell in enumerate(notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            by_id[grade_id] = cell
            cell_order.setdefault((assignment, name, grade_id), index)
    scored = {}
    for grade in submitted_notebook.grades:
        if grade.auto_score is None and grade.manual_score is None:  # waiting for a human
            cells.append(CellResult(name, grade.name, None, float(grade.max_score)))
            continue
        cells.append(CellResult(name, grade.name, float(grade.score), float(grade.max_score)))
        scored[grade.name] = float(grade.score)
        cell = by_id.get(grade.name)
        if cell is not None:
            mistakes += [(name, grade.name, m) for m in diagnosed_mistakes(cell)]
    # Every cell: a solution cell stuck in a loop costs points only in later cells.
    for index, cell in enumerate(notebook.cells):
        stopped = _unfinished(cell)
        if stopped is None:
            continue
        what, cause = stopped
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in scored:
            reason = f"cell {grade_id} {what} (graded, scored {scored[grade_id]:g})"
        else:
            reason = f"cell {grade_id or f'#{index}'} {what} (not graded itself)"
        problems.append(GradingProblem(assignment, student, name, reason, True, cause))
    return cells, mistakes, problems, read_answers(notebook.metadata)


def _read_submission(
    coursedir: CourseDirectory,
    submission: SubmittedAssignment,
    cell_order: dict[tuple[str, str, str], int],
    recorded: dict[tuple[str, str], str] | None = None,
) -> tuple[SubmissionResult, list[GradingProblem]]:
    assignment, student = submission.assignment.name, submission.student.id
    cells: list[CellResult] = []
    mistakes: list[tuple[str, str, str]] = []
    problems: list[GradingProblem] = []
    answers: dict[str, Any] = {}
    all_graded = True
    for notebook in submission.notebooks:
        found = _read_notebook_results(coursedir, assignment, student, notebook, cell_order)
        if found is None:
            all_graded = False
            reason = _why_not_graded(
                coursedir,
                assignment,
                student,
                notebook.name,
                (recorded or {}).get((assignment, student)),
            )
            problems.append(GradingProblem(assignment, student, notebook.name, reason))
            continue
        cells += found[0]
        mistakes += found[1]
        problems += found[2]
        answers.update(found[3])
    penalty = float(submission.late_submission_penalty or 0.0)
    score = float(submission.score) - penalty if all_graded else None
    result = SubmissionResult(
        assignment,
        student,
        score,
        float(submission.max_score),
        tuple(cells),
        tuple(mistakes),
        answers,
    )
    return result, problems


def _ungraded_submissions(
    coursedir: CourseDirectory,
    known: set[tuple[str, str]],
    recorded: dict[tuple[str, str], str] | None = None,
) -> list[GradingProblem]:
    """Submitted folders the gradebook knows nothing about: never (successfully) autograded."""
    pattern = coursedir.format_path(
        coursedir.submitted_directory, "(?P<student>[^/]+)", "(?P<assignment>[^/]+)", escape=True
    )
    problems = []
    for folder in sorted(glob.glob(coursedir.format_path(coursedir.submitted_directory, "*", "*"))):
        match = re.fullmatch(pattern, folder)
        if match is None or not Path(folder).is_dir():
            continue
        key = (match["assignment"], match["student"])
        if key in known:
            continue
        reason = "submitted but not autograded yet"
        if not any(Path(folder).glob("*.ipynb")):
            held = sorted(p.name for p in Path(folder).iterdir())
            reason = f"no notebook was submitted (the folder holds: {', '.join(held) or 'nothing'})"
        elif key in (recorded or {}):
            reason = f"autograding failed: {(recorded or {})[key]}"
        problems.append(GradingProblem(*key, "*", reason))
    return problems


def read_flags(path: Path) -> list[Flag] | None:
    """Submissions flagged for review, from ``flags.json``; None if the file does not exist.

    Parameters
    ----------
    path : Path
        A JSON file holding a list of ``{"student", "assignment", "reason"}`` objects.

    Returns
    -------
    list of Flag or None

    Raises
    ------
    ValueError
        If the file is not such a list.
    """
    if not path.is_file():
        return None
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(entries, list):
        raise ValueError(f"{path} must hold a JSON list of flags, not {type(entries).__name__}")
    flags = []
    for number, entry in enumerate(entries, start=1):
        keys = ("student", "assignment", "reason")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in keys):
            raise ValueError(
                f"{path}: flag {number} must be an object with string fields "
                f"student, assignment and reason; got {entry!r}"[:300]
            )
        flags.append(Flag(entry["student"], entry["assignment"], entry["reason"]))
    return flags


def collect_report(root: Path | str, flags_path: Path | None = None) -> CourseReport:
    """Read a course's gradebook, autograded notebooks and flags.

    Parameters
    ----------
    root : Path or str
        The course directory (its ``nbgrader_config.py`` gives the database and layout).
    flags_path : Path or None
        The flags file; default ``<root>/reports/flags.json``.

    Returns
    -------
    CourseReport

    Raises
    ------
    CourseInputError
        If ``root`` is not a directory, has no gradebook, or nothing was submitted.
    """
    root = Path(root)
    if not root.is_dir():
        raise CourseInputError(f"course directory {str(root)!r} does not exist")
    coursedir = course_directory(root)
    db_url = _gradebook_url(coursedir)
    submissions, failures, known = [], [], set()
    recorded = recorded_failures(root)
    cell_order: dict[tuple[str, str, str], int] = {}
    assignments: dict[str, float] = {}
    with Gradebook(db_url, coursedir.course_id) as gb:
        students = sorted(student.id for student in gb.students)
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            assignments[assignment.name] = float(assignment.max_score)
            for submission in sorted(
                gb.assignment_submissions(assignment.name), key=lambda s: s.student.id
            ):
                result, problems = _read_submission(coursedir, submission, cell_order, recorded)
                submissions.append(result)
                failures += problems
                known.add((result.assignment, result.student))
    failures += _ungraded_submissions(coursedir, known, recorded)
    if not submissions and not failures:
        raise CourseInputError(
            f"no submissions in {root.resolve()}: the gradebook has none and submitted/ is "
            "empty (collect and grade submissions first)"
        )
    report = CourseReport(
        root.resolve(),
        coursedir.course_id,
        assignments,
        submissions,
        failures,
        None,
        cell_order=cell_order,
        students=students,
    )
    try:
        report.flags = read_flags(flags_path or root / REPORT_DIR / FLAGS_FILE)
    except ValueError as error:
        report.flags_problem = str(error)
    return report
