"""Implementations other people published, adapted to the course contract (issue #13).

Each topic module here (``filters``, ``output_size``, ``conv1x1``, ``backprop``) lists
``PUBLISHED``: code from public solutions of the well-known exercises (Coursera's
"Convolution model - Step by Step", CS231n's ``layers.py``, numpy-ml, tutorials), changed
only in layout (names, argument order, NHWC) so that it answers the contract, each with
where it comes from and the mistake its feedback must name (``None`` for correct code).

:func:`examine` grades one entry as the hidden tests do, in this process, and says whether
it lost marks and whether the feedback named its mistake in the grader's own words; the
tests hold every entry to that, and ``benchmarks/named_mistakes.py`` prints the figure
named/total per assignment.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from cnn_course.classroom import correct_work, styles
from cnn_course.grading import MISTAKE_PREFIX, GradingFailure, aspects, function_spec
from cnn_course.grading.check import run_check
from cnn_course.manifest import ASSIGNMENTS, TOPICS
from cnn_course.plugins.judge_results import HELPERS, WHERE_IT_STARTS

# Mistakes the engine reports as the problem of the case itself, not as a model's name.
PROBLEM_NAMES = ("should raise ValueError", "changed its input")


@dataclass(frozen=True)
class Published:
    """One published implementation of a contract function.

    Parameters
    ----------
    function : str
        The contract function graded.
    source : str
        Where it was published: ``owner/repository: path`` or an address.
    code : str
        Source that defines ``function`` and any helper of its own that it calls.
    mistake : str or None
        The name the feedback must give (a mistake model's name, or one of
        :data:`PROBLEM_NAMES`); ``None`` for correct code, which must keep every mark.
    adapted : str
        What was changed besides layout, if anything.
    """

    function: str
    source: str
    code: str
    mistake: str | None = None
    adapted: str = ""

    @property
    def label(self) -> str:
        return f"{self.function} from {self.source}"


@dataclass(frozen=True)
class Examined:
    """What the hidden tests made of one published implementation."""

    entry: Published
    assignment: str
    failed: dict[str, str] = field(default_factory=dict)  # the function's cells -> report
    others_failed: dict[str, str] = field(default_factory=dict)  # its helpers' cells

    @property
    def lost_marks(self) -> bool:
        return bool(self.failed)

    @property
    def mistake_lines(self) -> list[str]:
        """The "Likely mistake" lines of the function's failed cells; where the function
        calls a helper of the contract whose own cells fail, the feedback's "Where it
        starts" note names the helper's mistakes too (``JudgeResults``), and so do these."""
        reports = list(self.failed.values())
        if self.failed:
            cells = {f"{h}_{a}" for h in _called_helpers(self.entry) for a in aspects(h)}
            reports += [r for cell, r in self.others_failed.items() if cell in cells]
        return [
            line.strip()
            for report in reports
            for line in report.splitlines()
            if MISTAKE_PREFIX in line
        ]

    @property
    def named(self) -> bool:
        """Whether the feedback names the entry's mistake in the grader's own words."""
        if self.entry.mistake is None or not self.failed:
            return False
        return names(self.entry.mistake, list(self.failed.values()), self.mistake_lines)


def names(mistake: str, reports: list[str], lines: list[str]) -> bool:
    """Whether feedback ``reports`` (with their "Likely mistake" and "Where it starts"
    ``lines``) name ``mistake``: in those lines, or for the problems the engine states
    itself (:data:`PROBLEM_NAMES`) anywhere in the reports."""
    if mistake.startswith(PROBLEM_NAMES):
        return any(mistake in report for report in reports)
    return any(mistake in line for line in lines)


def feedback_lines(text: str) -> list[str]:
    """The lines of a graded cell's feedback that name mistakes: "Likely mistake" lines and
    the "Where it starts" note, which names a failing helper's mistake."""
    return [
        line.strip()
        for line in text.splitlines()
        if MISTAKE_PREFIX in line or WHERE_IT_STARTS in line
    ]


def _called_helpers(entry: Published) -> set[str]:
    """The contract helpers that ``entry``'s function calls by name, as JudgeResults sees."""
    tree = ast.parse(entry.code)
    function = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry.function),
        tree,
    )
    calls = {
        n.func.id
        for n in ast.walk(function)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    return calls & set(HELPERS.get(entry.function, ()))


@cache
def _assignment_of() -> dict[str, str]:
    return {
        name: assignment
        for assignment in TOPICS
        for name in correct_work(assignment, styles(assignment)[0]).code
    }


def assignment_of(function: str) -> str:
    return _assignment_of()[function]


def _defined(code: str) -> set[str]:
    namespace: dict = {"np": np}
    exec(compile(code, "<published>", "exec"), namespace)
    return {name for name, value in namespace.items() if callable(value) and name != "np"}


def examine(entry: Published, seed: int | None = None) -> Examined:
    """Grade ``entry`` on every hidden case of its function (and of the contract functions
    its code also defines), beside correct work for the rest of the assignment.

    ``seed`` is a submission's seed (None: the suites' fixed cases).
    """
    assignment = assignment_of(entry.function)
    base = correct_work(assignment, styles(assignment)[0]).code
    namespace: dict = {"np": np}
    for name, code in base.items():
        if name in _defined_functions(assignment):
            exec(compile(code, f"<{name}>", "exec"), namespace)
    exec(compile(entry.code, f"<{entry.label}>", "exec"), namespace)
    checked = (_defined(entry.code) & _defined_functions(assignment)) | {entry.function}
    failed: dict[str, str] = {}
    others: dict[str, str] = {}
    for name in sorted(checked):
        for aspect in aspects(name):
            try:
                run_check(function_spec(name), namespace[name], aspect, submission_seed=seed)
            except GradingFailure as failure:
                (failed if name == entry.function else others)[f"{name}_{aspect}"] = failure.report
    return Examined(entry, assignment, failed, others)


@cache
def _defined_functions(assignment: str) -> frozenset[str]:
    module = importlib.import_module(f"cnn_course.grading.{ASSIGNMENTS[assignment][0]}")
    return frozenset(spec.name for spec in module.FUNCTIONS)


def published(assignment: str | None = None) -> list[Published]:
    """Every published entry, or an assignment's."""
    chosen = TOPICS if assignment is None else (assignment,)
    return [
        entry
        for a in chosen
        for entry in importlib.import_module(
            f"cnn_course.classroom.published.{ASSIGNMENTS[a][0]}"
        ).PUBLISHED
    ]
