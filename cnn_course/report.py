"""The instructor's report: scores, pass rates, diagnosed mistakes, flags and failures.

``cnn-course report [--course DIR] [--out DIR]`` (or :func:`build_report` from Python)
writes into ``<course>/reports/`` by default:

``report.html``
    One self-contained page (CSS and plots embedded) with every table below.
``scores.csv``
    Per assignment: maximum score, number of graded submissions ``n``, and the mean,
    sample standard deviation, minimum and maximum of their scores; ``waiting``: how many
    of them still have cells to grade by hand (their scores so far leave those points out).
``cells.csv``
    Per assignment and graded cell: ``n`` graded, ``full`` (students with full points),
    ``pass_rate = full / n``, the mean score and ``waiting`` (submissions whose cell no
    human has graded yet: pending, not failed, and not in ``n``).
``mistakes.csv``
    Per assignment, cell and mistake: how many students' outputs name it
    (``Likely mistake: NAME. advice``), that count as a share of ``n``, and who they are.
``students.csv``
    Per student (:mod:`cnn_course.student_table`): points of the graded submissions out of
    every assignment's maximum, what was not graded, points waiting for hand grading, the
    cells that lost points, the mistakes named, flags and suspected copying.
``submissions.csv``
    Per assignment and student: score, maximum, whether it was graded, and the
    ``pending_points`` still waiting for hand grading.
``flags.csv``, ``failures.csv``
    Submissions flagged for review, and notebooks that could not be graded.
``actions.csv``
    What to do next (:mod:`cnn_course.actions`), most urgent first: each submission not
    graded, cell that did not finish, flag and suspected copying, and hand grading per
    assignment, with what to run or open.
``copying.csv``
    Quiz work whose answers fit a classmate's variant better than the student's own
    (:mod:`cnn_course.copying`): the classmate (``source``), the questions whose answers
    differ between the two variants (``telling``), and how many of them the work answers as
    the classmate's (``matches``) and as its own (``own``) numbers want.
``scores.png``, ``pass_rates.png``
    The score distribution per assignment, and the pass rate per graded cell.

Everything is read from the gradebook (``nbgrader.api.Gradebook``) and from the autograded
notebooks; nothing from logs. Statistics cover graded submissions only: a submission whose
notebook could not be graded is listed under failures instead of counting as 0, with the
cause found in the submitted files (no notebook, a wrong name, invalid JSON, copied cells)
or else the one ``cnn-course grade`` recorded in ``<course>/reports/autograde_failures.json``
(e.g. the kernel died). Cells that ran out of time (nbgrader's cell timeout, or the
grading engine's per-call limit) and kernels that died are listed too.

Flags are an input written by other tooling: ``<course>/reports/flags.json``, a JSON list of
objects ``{"student": str, "assignment": str, "reason": str}`` (other keys are ignored).
The report shows them when the file exists.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import glob
import html
import io
import json
import math
import re
import statistics
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbgrader.api import Gradebook, SubmittedAssignment, SubmittedNotebook
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.engine import make_url

from cnn_course.actions import COLUMNS as ACTION_COLUMNS
from cnn_course.actions import CPU_LIMIT, KERNEL_LOST, WALL_CLOCK, actions
from cnn_course.copying import MIN_MATCHES, CopyingSuspicion, read_answers, suspected_copying
from cnn_course.errors import CourseInputError
from cnn_course.failures import recorded_failures
from cnn_course.feedback import course_directory
from cnn_course.judging import MISTAKES_KEY
from cnn_course.preprocessors.hide_hidden_tests import strip_ansi
from cnn_course.preprocessors.judge_results import STOPPED_WITH
from cnn_course.student_table import COLUMNS as STUDENT_COLUMNS
from cnn_course.student_table import student_rows
from cnn_solutions.grading import MISTAKE_PREFIX

if TYPE_CHECKING:  # matplotlib is imported only when a plot is drawn
    from matplotlib.figure import Figure

REPORT_DIR = "reports"
FLAGS_FILE = "flags.json"
HTML_FILE = "report.html"
SCORES_PNG = "scores.png"
PASS_RATES_PNG = "pass_rates.png"

# "  Likely mistake: channels padded too. Pad only the two spatial axes: ..."
MISTAKE_LINE = re.compile(rf"^\s*{re.escape(MISTAKE_PREFIX)}\s*(?P<name>.+?)\.(?:\s|$)", re.M)
# Errors nbgrader records when a cell did not finish: it was graded, but not on its merits.
UNFINISHED_ERRORS = {
    "CellTimeoutError": ("timed out", WALL_CLOCK),
    "DeadKernelError": ("killed the kernel", KERNEL_LOST),
}
# The judge's report on a student function the probe stopped (cnn_solutions.grading.check).
ENGINE_TIMEOUT = re.compile(r"did not finish within [\d.]+ s")
RAN_OUT_OF_CPU = "ran out of CPU time"
# Full points, allowing for float sums of partial credit.
FULL_POINTS_SLACK = 1e-9


# --- what was read -------------------------------------------------------------------


@dataclass(frozen=True)
class CellResult:
    """One graded cell of one student's notebook."""

    notebook: str
    grade_id: str
    score: float | None  # None: waiting for hand grading
    max_score: float

    @property
    def full(self) -> bool:
        return self.score is not None and self.score >= self.max_score - FULL_POINTS_SLACK

    @property
    def waiting(self) -> bool:
        return self.score is None


@dataclass(frozen=True)
class SubmissionResult:
    """One student's work on one assignment, as graded.

    ``score`` is nbgrader's score less any late penalty, ``None`` unless every notebook was
    graded. ``cells`` lists graded cells of graded notebooks, those waiting for hand
    grading with no score; ``mistakes`` holds ``(notebook, grade_id, mistake name)`` once per
    cell and name.
    """

    assignment: str
    student: str
    score: float | None
    max_score: float
    cells: tuple[CellResult, ...] = ()
    mistakes: tuple[tuple[str, str, str], ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict, compare=False)  # quiz answers

    @property
    def graded(self) -> bool:
        return self.score is not None

    @property
    def pending_points(self) -> float:
        """Points of cells still waiting for a human grader (not in ``score`` yet)."""
        return sum(c.max_score for c in self.cells if c.waiting)


@dataclass(frozen=True)
class Flag:
    """A submission flagged for review (read from ``flags.json``)."""

    student: str
    assignment: str
    reason: str


@dataclass(frozen=True)
class GradingProblem:
    """A notebook that could not be graded, or (``unfinished``) a cell that did not finish
    in a notebook that was graded."""

    assignment: str
    student: str
    notebook: str
    reason: str
    unfinished: bool = False
    cause: str = ""  # for an unfinished cell: CPU_LIMIT, WALL_CLOCK or KERNEL_LOST


# --- what is reported ----------------------------------------------------------------


@dataclass(frozen=True)
class ScoreSummary:
    """Scores of one assignment's graded submissions (``std`` is the sample deviation).

    ``waiting`` counts the graded submissions with cells still to grade by hand: their
    scores so far leave those points out.
    """

    assignment: str
    max_score: float
    n: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    waiting: int = 0

    @property
    def mean_percent(self) -> float | None:
        """The mean as a share of the maximum score (0 to 1)."""
        return self.mean / self.max_score if self.mean is not None and self.max_score else None


@dataclass(frozen=True)
class CellPassRate:
    """How many graded students got full points on one cell.

    A hand-graded cell not graded yet counts in ``waiting``, not in ``n``: it has not
    failed, nobody has looked at it.
    """

    assignment: str
    notebook: str
    grade_id: str
    max_score: float
    n: int
    full: int
    mean_score: float | None
    waiting: int = 0

    @property
    def pass_rate(self) -> float | None:
        return self.full / self.n if self.n else None


@dataclass(frozen=True)
class MistakeCount:
    """How many students' outputs in one cell name one mistake."""

    assignment: str
    notebook: str
    grade_id: str
    mistake: str
    students: int
    n: int
    who: str = ""  # the students, space-separated

    @property
    def cell(self) -> tuple[str, str, str]:
        return (self.assignment, self.notebook, self.grade_id)

    @property
    def share(self) -> float | None:
        return self.students / self.n if self.n else None


@dataclass
class CourseReport:
    """Everything the report shows, read from one course directory."""

    root: Path
    course_id: str
    assignments: dict[str, float]  # assignment -> maximum score, in order
    submissions: list[SubmissionResult]
    failures: list[GradingProblem]
    flags: list[Flag] | None  # None: no flags.json
    flags_problem: str | None = None
    cell_order: dict[tuple[str, str, str], int] = field(default_factory=dict)
    students: list[str] = field(default_factory=list)  # the gradebook's
    _copying: list[CopyingSuspicion] | None = field(default=None, init=False, repr=False)

    def copying(self) -> list[CopyingSuspicion]:
        """Quiz work whose answers fit a classmate's variant (:mod:`cnn_course.copying`).

        Worked out once per report (it compares every pair of quiz takers): the tables,
        the page, the command's summary and the demo all ask for it.
        """
        if self._copying is None:
            work = [(s.student, s.assignment, s.answers) for s in self.submissions if s.answers]
            roster = self.students or {s.student for s in self.submissions}
            self._copying = suspected_copying(work, roster)
        return list(self._copying)

    def graded(self, assignment: str) -> list[SubmissionResult]:
        return [s for s in self.submissions if s.assignment == assignment and s.graded]

    def scores(self) -> list[ScoreSummary]:
        """Score statistics per assignment."""
        rows = []
        for assignment, max_score in self.assignments.items():
            graded = self.graded(assignment)
            values = [s.score for s in graded if s.score is not None]
            rows.append(
                ScoreSummary(
                    assignment,
                    max_score,
                    len(values),
                    statistics.fmean(values) if values else None,
                    statistics.stdev(values) if len(values) > 1 else None,
                    min(values, default=None),
                    max(values, default=None),
                    waiting=sum(s.pending_points > 0 for s in graded),
                )
            )
        return rows

    def pass_rates(self) -> list[CellPassRate]:
        """Pass rate of every graded cell, in notebook order."""
        results: dict[tuple[str, str, str], list[CellResult]] = defaultdict(list)
        max_scores: dict[tuple[str, str, str], float] = {}
        for submission in self.submissions:
            for cell in submission.cells:
                key = (submission.assignment, cell.notebook, cell.grade_id)
                results[key].append(cell)
                max_scores[key] = cell.max_score
        rows = []
        for key in sorted(results, key=self._cell_sort_key):
            scores = [c.score for c in results[key] if c.score is not None]
            rows.append(
                CellPassRate(
                    *key,
                    max_score=max_scores[key],
                    n=len(scores),
                    full=sum(c.full for c in results[key]),
                    mean_score=statistics.fmean(scores) if scores else None,
                    waiting=sum(c.waiting for c in results[key]),
                )
            )
        return rows

    def mistakes(self) -> list[MistakeCount]:
        """Diagnosed mistakes, most frequent first."""
        graded_per_cell = {(r.assignment, r.notebook, r.grade_id): r.n for r in self.pass_rates()}
        made: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
        for submission in self.submissions:
            for notebook, grade_id, name in submission.mistakes:
                made[(submission.assignment, notebook, grade_id, name)].add(submission.student)
        rows = [
            MistakeCount(
                *key,
                students=len(who),
                n=graded_per_cell.get(key[:3], 0),
                who=" ".join(sorted(who)),
            )
            for key, who in made.items()
        ]
        return sorted(rows, key=lambda m: (-m.students, self._cell_sort_key(m.cell), m.mistake))

    def _cell_sort_key(self, key: tuple[str, str, str]) -> tuple:
        assignments = list(self.assignments)
        position = assignments.index(key[0]) if key[0] in assignments else len(assignments)
        return (position, key[1], self.cell_order.get(key, math.inf), key[2])


# --- reading the course --------------------------------------------------------------


def diagnosed_mistakes(cell: nbformat.NotebookNode) -> list[str]:
    """Names of the mistakes a graded cell's outputs diagnose, in order, without repeats.

    Parameters
    ----------
    cell : NotebookNode
        A cell of an autograded notebook.

    Returns
    -------
    list of str
        What the judge recorded in the cell's metadata (:data:`MISTAKES_KEY`); for a
        notebook graded before the judge recorded them, ``NAME`` of every
        ``Likely mistake: NAME. advice`` line in its outputs.
    """
    recorded = cell.metadata.get(MISTAKES_KEY)
    if isinstance(recorded, list):
        return [name for name in recorded if isinstance(name, str)]
    names: list[str] = []
    for match in MISTAKE_LINE.finditer(outputs_text(cell)):
        if match["name"] not in names:
            names.append(match["name"])
    return names


def outputs_text(cell: nbformat.NotebookNode) -> str:
    """What a cell showed: streams, error tracebacks (without colours) and plain results."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            shown = "\n".join(output.get("traceback", [])) or output.get("evalue", "")
            parts.append(strip_ansi(shown))
        elif "data" in output:
            parts.append(str(output.data.get("text/plain", "")))
    return "\n".join(parts)


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

    nbgrader's timeout or a dead kernel (recorded by nbgrader, or named in the judge's
    verdict on the cell), else the probe's CPU-time limit on a student function.
    """
    for output in cell.get("outputs", []):
        if output.get("ename") in UNFINISHED_ERRORS:
            return UNFINISHED_ERRORS[output.ename]
    text = outputs_text(cell)
    for ename, found in UNFINISHED_ERRORS.items():
        if f"{STOPPED_WITH}{ename}" in text:  # the judge's verdict on a cell that stopped
            return found
    if ENGINE_TIMEOUT.search(text):
        return RAN_OUT_OF_CPU, CPU_LIMIT
    return None


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


# --- writing -------------------------------------------------------------------------

Table = tuple[list[str], list[list[object]]]


@dataclass(frozen=True)
class ReportFiles:
    """Where a report was written."""

    html: Path
    csv: dict[str, Path]
    images: dict[str, Path]


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


def _png(figure: object) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def score_plot(report: CourseReport) -> bytes:
    """PNG: each assignment's scores (percent of the maximum), a box over the points."""
    from matplotlib.figure import Figure

    names = list(report.assignments)
    figure = Figure(figsize=(max(4.5, 1.6 * len(names) + 2), 3.6), dpi=110, layout="tight")
    axes = figure.add_subplot()
    for position, name in enumerate(names, start=1):
        maximum = report.assignments[name] or 1.0
        values = [100 * s.score / maximum for s in report.graded(name) if s.score is not None]
        if not values:
            continue
        axes.boxplot([values], positions=[position], widths=0.5, showfliers=False)
        # Spread equal scores sideways so that each student stays visible.
        offsets = (
            [0.0]
            if len(values) == 1
            else [-0.18 + 0.36 * i / (len(values) - 1) for i in range(len(values))]
        )
        axes.scatter([position + o for o in offsets], sorted(values), s=18, alpha=0.7, zorder=3)
    counts = [len(report.graded(name)) for name in names]
    axes.set_xticks(
        range(1, len(names) + 1), [f"{n}\n(n={c})" for n, c in zip(names, counts, strict=True)]
    )
    axes.set_xlim(0.4, len(names) + 0.6)
    axes.set_ylim(-5, 105)
    axes.set_ylabel("score (% of maximum)")
    axes.set_title("Score distribution per assignment")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def pass_rate_plot(report: CourseReport) -> bytes:
    """PNG of :func:`pass_rate_figure` for every graded cell of the course."""
    return _png(pass_rate_figure(report.pass_rates()))


# Bars of one assignment share a colour (dark enough for a white label on them).
ASSIGNMENT_COLOURS = ("#4c78a8", "#3b7d35", "#8e5a84", "#b8433f", "#3f7f7a", "#a35a12")
# Width of one label character in percent of the axis (8 pt on the figure's 7.5 in),
# with some margin: a label goes where it fits whole.
LABEL_UNITS_PER_CHAR = 1.35


def pass_rate_figure(rows: list[CellPassRate]) -> Figure:
    """One horizontal bar per graded cell: the share of students with full points.

    The axis holds the bars and nothing else (no empty band above or below them), and
    every label stays inside the axes: on its bar in white, or after a short bar.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 1.1 + 0.3 * max(len(rows), 1)), dpi=110, layout="tight")
    axes = figure.add_subplot()
    order = list(dict.fromkeys(r.assignment for r in rows))
    colours = [
        ASSIGNMENT_COLOURS[order.index(r.assignment) % len(ASSIGNMENT_COLOURS)] for r in rows
    ]
    rates = [100 * (r.pass_rate or 0.0) for r in rows]
    axes.barh(range(len(rows)), rates, color=colours, height=0.75)
    for y, (rate, row) in enumerate(zip(rates, rows, strict=True)):
        text = f"{rate:.0f}% of {row.n}" if row.n else ""
        if row.waiting:  # pending, not failed: say so instead of drawing a 0% bar
            text += ("; " if text else "") + f"{row.waiting} wait for hand grading"
        # After the bar if it fits there, else on it (a long bar has room for it).
        room = LABEL_UNITS_PER_CHAR * len(text) + 2
        inside = rate + room > 100 and rate >= room
        axes.text(
            rate - 1 if inside else rate + 1,
            y,
            text,
            ha="right" if inside else "left",
            va="center",
            fontsize=8,
            color="white" if inside else "#222222",
        )
    axes.set_yticks(range(len(rows)), [f"{r.assignment} · {r.grade_id}" for r in rows], fontsize=8)
    axes.set_ylim(len(rows) - 0.5, -0.5)  # first cell on top, no margin band
    axes.set_xlim(0, 100)
    axes.set_xlabel("students with full points (%)")
    axes.set_title("Pass rate per graded cell")
    axes.grid(axis="x", alpha=0.3)
    return figure


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 70em; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; font-size: 1.25em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.meta { color: #666; font-size: 0.9em; }
.summary { display: flex; gap: 1em; flex-wrap: wrap; margin: 1em 0; }
.summary div { background: #f3f5f8; border-radius: 6px; padding: 0.5em 1em; }
.summary b { display: block; font-size: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; max-width: 100%; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td.long { overflow-wrap: anywhere; }
@media (max-width: 700px) { body { margin: 0.5em auto; padding: 0 0.4em; }
  table { display: block; overflow-x: auto; } }
th { background: #f3f5f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.low td { background: #fff4f2; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #555; font-size: 0.9em; } .problem { color: #b00020; font-weight: bold; }
"""

# A table cell with a word longer than this may break inside its words (cell lists such
# as "01_filters/conv2d_multi_stride_padding,..."), so that the table fits the page.
LONG_WORD = 24
# Columns shown as percentages in the HTML page.
PERCENT_COLUMNS = {"pass_rate", "share", "mean_percent"}
# Cells passed by fewer than this share are highlighted.
LOW_PASS_RATE = 0.5


def _cell_html(column: str, value: object) -> str:
    if value is None:
        return '<td class="num">–</td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if column in PERCENT_COLUMNS and isinstance(value, float):
        return f'<td class="num">{100 * value:.0f}%</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:.2f}'.rstrip("0").rstrip(".") + "</td>"
    if isinstance(value, int):
        return f'<td class="num">{value}</td>'
    text = str(value)
    if any(len(word) > LONG_WORD for word in text.split()):  # may break inside its words
        return f'<td class="long">{html.escape(text)}</td>'
    return f"<td>{html.escape(text)}</td>"


def table_html(table: Table, empty: str, low_column: str | None = None) -> str:
    """An HTML table; rows whose ``low_column`` is under :data:`LOW_PASS_RATE` stand out."""
    header, rows = table
    if not rows:
        return f'<p class="note">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        value = row[header.index(low_column)] if low_column else None
        low = isinstance(value, float) and value < LOW_PASS_RATE
        cells = "".join(_cell_html(h, v) for h, v in zip(header, row, strict=True))
        body.append(f'<tr class="low">{cells}</tr>' if low else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _image_html(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _summary_html(report: CourseReport, tables: dict[str, Table]) -> str:
    graded = sum(s.graded for s in report.submissions)
    students = len({s.student for s in report.submissions})
    boxes = [
        ("students", students),
        ("assignments", len(report.assignments)),
        ("graded submissions", graded),
        ("waiting for hand grading", sum(s.pending_points > 0 for s in report.submissions)),
        ("grading problems", len(report.failures)),
        ("flagged", "–" if report.flags is None else len(report.flags)),
        ("suspected copying", len(tables["copying.csv"][1])),
    ]
    return (
        '<div class="summary">'
        + "".join(f"<div><b>{value}</b>{html.escape(label)}</div>" for label, value in boxes)
        + "</div>"
    )


def _flags_html(report: CourseReport, tables: dict[str, Table]) -> str:
    if report.flags_problem:
        return (
            f'<p class="problem">flags.json could not be read: '
            f"{html.escape(report.flags_problem)}</p>"
        )
    if report.flags is None:
        return (
            f'<p class="note">No {REPORT_DIR}/{FLAGS_FILE} in the course: nothing was flagged '
            "for review.</p>"
        )
    return table_html(tables["flags.csv"], "flags.json lists no submission.")


def _mistakes_html(tables: dict[str, Table], per_assignment: int = 15) -> str:
    header, rows = tables["mistakes.csv"]
    if not rows:
        return '<p class="note">No graded cell diagnosed a named mistake.</p>'
    parts = []
    for assignment in dict.fromkeys(row[0] for row in rows):
        mine = [row[1:] for row in rows if row[0] == assignment]
        parts.append(f"<h3>{html.escape(assignment)}</h3>")
        parts.append(table_html((header[1:], mine[:per_assignment]), ""))
        if len(mine) > per_assignment:
            parts.append(f'<p class="note">{len(mine) - per_assignment} more in mistakes.csv.</p>')
    return "".join(parts)


def render_html(report: CourseReport, images: dict[str, bytes], generated: dt.datetime) -> str:
    """The report page: CSS, tables and plots inline, so the file stands alone."""
    tables = report_tables(report)
    title = f"Course report: {report.course_id or report.root.name}"
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{html.escape(str(report.root))} · generated '
        f"{generated:%Y-%m-%d %H:%M %Z}</p>",
        _summary_html(report, tables),
        "<h2>What to do next</h2>",
        '<p class="note">Most urgent first: work that was not graded, cells that did not '
        "finish in graded work, flagged work, suspected copying, hand grading.</p>",
        table_html(tables["actions.csv"], "Nothing: every submission is graded and reviewed."),
        "<h2>Per student</h2>",
        '<p class="note">Points of graded submissions out of every assignment\'s maximum; '
        "<i>not_graded</i>: submitted but not graded (see the failures below); <i>lost</i>: "
        "automatically graded cells without full points; <i>notes</i>: flags and suspected "
        "copying.</p>",
        table_html(tables["students.csv"], "No student in the gradebook."),
        "<h2>Scores per assignment</h2>",
        '<p class="note">Graded submissions only; std is the sample standard deviation; '
        "<i>waiting</i>: submissions with hand-graded cells still to grade, whose scores so far "
        "leave those points out.</p>",
        table_html(tables["scores.csv"], "No assignment in the gradebook."),
        _image_html(images[SCORES_PNG], "score distribution per assignment"),
        "<h2>Pass rate per graded cell</h2>",
        '<p class="note">Share of graded students with full points; rows under '
        f"{LOW_PASS_RATE:.0%} are highlighted. <i>waiting</i>: hand-graded cells nobody has "
        "graded yet (pending, not counted as failures).</p>",
        table_html(tables["cells.csv"], "No graded cell yet.", low_column="pass_rate"),
        _image_html(images[PASS_RATES_PNG], "pass rate per graded cell"),
        "<h2>Most frequent diagnosed mistakes</h2>",
        f'<p class="note">Students whose output in a cell names the mistake '
        f"(<code>{html.escape(MISTAKE_PREFIX)} NAME.</code>); share of the cell's graded "
        "students.</p>",
        _mistakes_html(tables),
        "<h2>Flagged for review</h2>",
        _flags_html(report, tables),
        "<h2>Suspected copying</h2>",
        '<p class="note">Quiz work answering, of the questions whose answers differ between '
        "the two variants, at least "
        f"{MIN_MATCHES} as a classmate's (<i>source</i>) numbers want, and more than its own: "
        "a lead to look at, not a verdict. <i>telling</i>: such questions answered; "
        "<i>matches</i>: answered as the source's; <i>own</i>: as the student's own.</p>",
        table_html(tables["copying.csv"], "No quiz answers fit a classmate's variant."),
        "<h2>Grading failures and unfinished cells</h2>",
        table_html(tables["failures.csv"], "Every submitted notebook was graded."),
        f'<p class="note">The tables are also in CSV files next to this page: '
        f"{html.escape(', '.join(tables))}.</p>",
    ]
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write_report(report: CourseReport, out_dir: Path) -> ReportFiles:
    """Write the HTML page, CSV files and PNG plots into ``out_dir`` (created if needed).

    Parameters
    ----------
    report : CourseReport
        What :func:`collect_report` read.
    out_dir : Path
        Output folder.

    Returns
    -------
    ReportFiles
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_paths = {}
    for name, table in report_tables(report).items():
        csv_paths[name] = out_dir / name
        write_csv(csv_paths[name], table)
    images = {SCORES_PNG: score_plot(report), PASS_RATES_PNG: pass_rate_plot(report)}
    image_paths = {}
    for name, png in images.items():
        image_paths[name] = out_dir / name
        image_paths[name].write_bytes(png)
    page = out_dir / HTML_FILE
    generated = dt.datetime.now(dt.UTC).astimezone()
    page.write_text(render_html(report, images, generated), encoding="utf-8")
    return ReportFiles(page, csv_paths, image_paths)


def build_report(
    root: Path | str, out_dir: Path | str | None = None, flags_path: Path | None = None
) -> tuple[CourseReport, ReportFiles]:
    """Read a course and write its report (what ``cnn-course report`` does).

    Parameters
    ----------
    root : Path or str
        The course directory.
    out_dir : Path, str or None
        Output folder; default ``<root>/reports``.
    flags_path : Path or None
        The flags file; default ``<root>/reports/flags.json``.

    Returns
    -------
    tuple of (CourseReport, ReportFiles)

    Raises
    ------
    CourseInputError
        See :func:`collect_report`; also if ``out_dir`` cannot be created.
    """
    report = collect_report(root, flags_path)
    out = Path(out_dir) if out_dir is not None else Path(root) / REPORT_DIR
    if out.exists() and not out.is_dir():
        raise CourseInputError(f"--out {str(out)!r} is a file, not a directory")
    try:
        files = write_report(report, out)
    except OSError as error:
        raise CourseInputError(f"cannot write the report to {str(out)!r}: {error}") from None
    return report, files


# --- command line --------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report`` to the ``cnn-course`` parser (see :mod:`cnn_course.cli`)."""
    parser = subparsers.add_parser(
        "report",
        help="write the instructor's report: scores, pass rates, mistakes, flags, failures",
        description="Read the gradebook and the autograded notebooks and write report.html "
        "(self-contained) with CSV files and PNG plots: score statistics per assignment, the "
        "pass rate of every graded cell, the most frequent diagnosed mistakes, submissions "
        f"flagged for review (from <course>/{REPORT_DIR}/{FLAGS_FILE}) and notebooks that "
        "could not be graded.",
        epilog="Exit codes: 0 report written; 1 report written, but flags.json could not be "
        "read; 2 usage or input error (no course, no gradebook, nothing submitted).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"folder for the report (default: <course>/{REPORT_DIR})",
    )
    parser.set_defaults(func=run)


def summary_lines(report: CourseReport, files: ReportFiles) -> list[str]:
    """A few lines for the terminal: where the report is and the headline numbers."""
    lines = [f"Report: {files.html}"]
    for s in report.scores():
        if s.n:
            spread = f", sd {s.std:.2f}" if s.std is not None else ""
            waiting = f"; {s.waiting} wait for hand grading" if s.waiting else ""
            lines.append(
                f"  {s.assignment}: {s.n} graded, mean {s.mean:.2f} / {s.max_score:g}{spread}"
                f"{waiting}"
            )
        else:
            lines.append(f"  {s.assignment}: nothing graded")
    flagged = "no flags.json" if report.flags is None else f"{len(report.flags)} flagged"
    lines.append(f"  {len(report.failures)} grading problem(s), {flagged}")
    lines += [f"  {suspicion.line}" for suspicion in report.copying()]
    lines.append(f"CSV and PNG files in {files.html.parent}")
    return lines


def run(args: argparse.Namespace) -> int:
    """``cnn-course report``: 0 written, 1 written but flags.json unreadable, 2 input error."""
    report, files = build_report(Path(getattr(args, "course", ".")), args.out)
    print("\n".join(summary_lines(report, files)))
    if report.flags_problem:
        print(f"cnn-course report: problem: {report.flags_problem}", file=sys.stderr)
        return 1
    return 0
