"""What the report reads from a course and what it reports, as plain data.

What was read: a graded cell (:class:`CellResult`), a student's graded work on one
assignment (:class:`SubmissionResult`), a flag (:class:`Flag`), a notebook or cell that
was not graded (:class:`GradingProblem`). What is reported: score statistics, pass rates
and mistake counts, worked out by :class:`CourseReport` from what was read. Also the
names of the report's folder and files.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_course.grading.copying import CopyingSuspicion, suspected_copying

REPORT_DIR = "reports"
FLAGS_FILE = "flags.json"
HTML_FILE = "report.html"
SCORES_PNG = "scores.png"
PASS_RATES_PNG = "pass_rates.png"

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
        """Quiz work whose answers fit a classmate's variant (:mod:`cnn_course.grading.copying`).

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
