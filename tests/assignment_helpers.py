"""The four coding assignments as their tests see them, and the checks every one must pass.

Each topic has two test modules: ``test_grading_<topic>.py`` runs the grading specs in
process against simulated students (:class:`GradingSpecChecks`), and
``test_assignment_<topic>.py`` sends the same students through the real nbgrader apps
(:class:`PipelineChecks`). Both subclass the checks here with their :class:`Assignment`
and keep only what is particular to their topic.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import ClassVar

import nbformat
import numpy as np
import pytest

from cnn_course.classroom import (
    StudentMistake,
    as_source,
    correct_work,
    fill_notebook,
    mistake_work,
    mistakes,
    source_solutions,
    styles,
)
from cnn_course.classroom.backprop import CHANGED_INPUT
from cnn_course.course import CellGrade, CourseDir, outputs_text
from cnn_course.grading import (
    MISTAKE_PREFIX,
    GradingFailure,
    answer_spec,
    backprop,
    conv1x1,
    filters,
    function_spec,
    output_size,
)
from cnn_course.grading.check import run_answer_check, run_check
from cnn_course.grading.core import compare, reference_result
from cnn_solutions import answers

# Submission seeds the in-process checks run with: the suites' fixed cases (validating), and
# submissions' seeds as autograding draws them (64-bit HMAC values).
SEEDS = (None, 1, 0x9E3779B97F4A7C15)
# nbgrader's LimitOutput marks a shortened traceback so; the report itself is no traceback.
TRUNCATION_MARK = "... Traceback truncated ..."


@dataclass(frozen=True, eq=False)
class Assignment:
    """One coding assignment: its grading specs, its notebook's layout and its points.

    Parameters
    ----------
    name : str
        Assignment id, e.g. ``"01_filters"``.
    specs : ModuleType
        Its topic module of :mod:`cnn_course.grading` (``FUNCTIONS``, ``ANSWERS``).
    auto_points : int
        Points of the automatically graded cells.
    givens : mapping of str to object
        Variables the notebook defines before any student cell.
    answers_first : bool
        Whether the answer cells (a worked example) come before the functions.
    manual_points : mapping of str to int
        Grade id to points of the cells a human grades, which follow every automatic cell.
    written : mapping of str to str
        What a fully correct student writes in those cells.
    pack_mistakes : bool
        Whether the pipeline lets mistakes in *different* contract names share one
        submission (see :func:`pack`), to keep its nbgrader run short; the in-process
        tests still check every mistake alone.
    """

    name: str
    specs: ModuleType
    auto_points: int
    givens: Mapping[str, object] = field(default_factory=dict)
    answers_first: bool = False
    manual_points: Mapping[str, int] = field(default_factory=dict)
    written: Mapping[str, str] = field(default_factory=dict)
    pack_mistakes: bool = False
    _namespaces: dict[str, dict] = field(default_factory=dict, repr=False)

    @property
    def functions(self) -> list[str]:
        return [spec.name for spec in self.specs.FUNCTIONS]

    @property
    def answers(self) -> list[str]:
        return [spec.name for spec in self.specs.ANSWERS]

    @property
    def notebook_order(self) -> list[str]:
        """Contract names in the order of their cells in the notebook."""
        if self.answers_first:
            return self.answers + self.functions
        return self.functions + self.answers

    @property
    def styles(self) -> list[str]:
        return styles(self.name)

    @property
    def mistakes(self) -> list[StudentMistake]:
        return mistakes(self.name)

    def cells_of(self, name: str) -> list[str]:
        """Grade ids of the test cells that check one contract name."""
        if name in self.answers:
            return [f"{name}_check"]
        return [f"{name}_{aspect}" for aspect in function_spec(name).suites]

    @property
    def all_cells(self) -> list[str]:
        return [cell for name in self.functions + self.answers for cell in self.cells_of(name)]

    def run_cells(self, code: Mapping[str, str]) -> dict:
        """Execute a student's cells in notebook order, in one namespace."""
        namespace = {"np": np, **copy.deepcopy(dict(self.givens))}
        for name in self.notebook_order:
            if name in code:
                exec(compile(code[name], f"<{name}>", "exec"), namespace)
        return namespace

    def style_namespace(self, style: str) -> dict:
        """The namespace of correct work in one style, run once."""
        if style not in self._namespaces:
            self._namespaces[style] = self.run_cells(correct_work(self.name, style).code)
        return self._namespaces[style]

    def mistake_namespace(self, mistake: StudentMistake) -> dict:
        return self.run_cells(mistake_work(self.name, mistake).code)

    def check_cell(self, namespace: dict, grade_id: str, seed: int | None = None) -> str:
        """Run the hidden check of one graded cell; return its summary or raise GradingFailure.

        ``seed`` is the submission's seed (None: the suites' fixed cases).
        """
        if grade_id.endswith("_check"):
            name = grade_id.removesuffix("_check")
            return run_answer_check(answer_spec(name), namespace.get(name))
        name = max((f for f in self.functions if grade_id.startswith(f + "_")), key=len)
        aspect = grade_id.removeprefix(name + "_")
        return run_check(function_spec(name), namespace[name], aspect, submission_seed=seed)

    def failure_report(self, mistake: StudentMistake, grade_id: str) -> str:
        """The report of a cell that work with ``mistake`` must fail."""
        with pytest.raises(GradingFailure) as failure:
            self.check_cell(self.mistake_namespace(mistake), grade_id)
        return failure.value.report


FILTERS = Assignment(
    "01_filters",
    filters,
    auto_points=50,
    givens={"line_image": answers.line_image, "laplacian": answers.laplacian},
    pack_mistakes=True,
)
OUTPUT_SIZE = Assignment(
    "02_output_size",
    output_size,
    auto_points=50,
    givens={"network_input": answers.NETWORK_INPUT, "network": answers.NETWORK},
    pack_mistakes=True,
)
CONV1X1 = Assignment(
    "03_conv1x1",
    conv1x1,
    auto_points=45,
    manual_points={"why_1x1": 5},
    written={
        "why_1x1": (
            "A 1x1 convolution is a dense layer at every pixel: it keeps H x W and mixes the "
            "channels, so it can shrink 192 channels to 16 before an expensive 5x5 convolution."
        )
    },
    pack_mistakes=True,
)
BACKPROP = Assignment(
    "04_conv_backprop",
    backprop,
    auto_points=100,
    givens={"X": answers.X_example, "F": answers.F_example},
    answers_first=True,
    pack_mistakes=True,
)


def mistake_id(mistake: StudentMistake) -> str:
    return f"{mistake.function}-{mistake.label}"


def named_in_feedback(mistake: StudentMistake) -> str:
    """What the failing cells' feedback must say of ``mistake``."""
    # Changing an input is reported by the engine itself, as the problem of the case.
    if mistake.expected_mistake == CHANGED_INPUT:
        return CHANGED_INPUT
    return f"{MISTAKE_PREFIX} {mistake.expected_mistake}"


def _parametrize(metafunc: pytest.Metafunc, values: Mapping[str, tuple[list, object]]) -> None:
    """Parametrize each argument of ``values`` (name -> (values, ids)) a test asks for."""
    for arg, (params, ids) in values.items():
        if arg in metafunc.fixturenames:
            metafunc.parametrize(arg, params, ids=ids)


# --- the grading specs, in process --------------------------------------------------------


class GradingSpecChecks:
    """One assignment's grading specs against simulated students, in process (no nbgrader).

    Each student's cells run from source in one namespace, as in the notebook, so
    functions that call each other do so here too. Correct work in every style passes
    every aspect; every typical mistake fails the cells it should, with feedback that names
    it, and leaves every other function's and answer's cells passing.
    """

    assignment: ClassVar[Assignment]
    functions: ClassVar[list[str]]  # the contract, as the notebook asks for it
    answers: ClassVar[list[str]]
    # Whether a report names each likely mistake once, however many of its models match.
    names_each_mistake_once: ClassVar[bool] = True

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        a = self.assignment
        _parametrize(
            metafunc,
            {
                "cell": (a.all_cells, None),
                "style": (a.styles, None),
                "mistake": (a.mistakes, mistake_id),
                "spec": (a.specs.FUNCTIONS, lambda spec: spec.name),
                "seed": (list(SEEDS), lambda seed: f"seed-{seed}"),
            },
        )

    def test_contract_names_and_styles(self) -> None:
        a = self.assignment
        assert a.functions == self.functions
        assert a.answers == self.answers
        assert len(a.styles) >= 3
        for style in a.styles:
            assert set(correct_work(a.name, style).code) == set(a.functions + a.answers)
        for name in a.functions:
            implementations = {correct_work(a.name, s).code[name] for s in a.styles}
            assert len(implementations) >= 3, f"fewer than three distinct correct styles of {name}"

    def test_correct_style_passes(self, style: str, cell: str, seed: int | None) -> None:
        a = self.assignment
        assert a.check_cell(a.style_namespace(style), cell, seed).startswith("✓")

    def test_mistake_loses_its_cells_and_is_named(
        self, mistake: StudentMistake, seed: int | None
    ) -> None:
        a = self.assignment
        namespace = a.mistake_namespace(mistake)
        for cell in mistake.lost_cells:
            with pytest.raises(GradingFailure) as failure:
                a.check_cell(namespace, cell, seed)
            report = failure.value.report
            assert named_in_feedback(mistake) in report, report
            if self.names_each_mistake_once:
                named = [line for line in report.splitlines() if MISTAKE_PREFIX in line]
                assert len(named) == len(set(named)), report
        for name in a.functions + a.answers:
            if name != mistake.function:
                for cell in a.cells_of(name):
                    a.check_cell(namespace, cell, seed)

    def test_mistakes_cover_every_function_and_answer(self) -> None:
        a = self.assignment
        for name in a.functions:
            assert sum(m.function == name for m in a.mistakes) >= 3, name
        assert sum(m.function in a.answers for m in a.mistakes) >= 3
        for name in a.answers:
            assert any(m.function == name for m in a.mistakes), name
        for mistake in a.mistakes:
            assert mistake.lost_cells, mistake
            assert set(mistake.lost_cells) <= set(a.cells_of(mistake.function)), mistake

    def test_every_modelled_mistake_shows_in_some_case(self, spec) -> None:
        """A mistake model the cases cannot tell from the reference would never be named."""
        cases = [case for suite in spec.suites.values() for case in suite() if case.raises is None]
        for mistake in spec.mistakes:
            shown = 0
            for case in cases:
                try:
                    wrong = reference_result(mistake.model, case)
                except Exception:  # noqa: BLE001 -- the model does not apply to this case
                    continue
                expected = reference_result(spec.reference, case)
                # A function returning several parts is wrong if any part is.
                pairs = zip(expected, wrong, strict=True) if spec.parts else [(expected, wrong)]
                shown += any(compare(e, w) is not None for e, w in pairs)
            assert shown, f"{spec.name}: no case reveals {mistake.name!r}"

    def test_answer_mistakes_differ_from_the_answer(self) -> None:
        for spec in self.assignment.specs.ANSWERS:
            assert compare(spec.expected, getattr(answers, spec.name)) is None
            for mistake in spec.mistakes:
                assert compare(spec.expected, mistake.value) is not None, mistake.name


# --- the real nbgrader pipeline -----------------------------------------------------------


def _calls(mistake: StudentMistake, other: StudentMistake) -> bool:
    """Whether ``mistake``'s code calls ``other``'s function by name."""
    code = as_source(mistake.code, mistake.function)
    return re.search(rf"\b{re.escape(other.function)}\s*\(", code) is not None


def pack(all_mistakes: list[StudentMistake], together: bool) -> list[list[StudentMistake]]:
    """Group mistakes into submissions: one each, or ``together`` at most one per name.

    Two mistakes share a submission only if neither one's code calls the other's function
    (a worked answer computed with the student's own function would fail for the wrong
    reason), so each keeps the feedback it has alone.
    """
    rounds: list[list[StudentMistake]] = []
    for mistake in all_mistakes:
        free = None
        if together:
            free = next(
                (
                    r
                    for r in rounds
                    if all(
                        m.function != mistake.function
                        and not _calls(m, mistake)
                        and not _calls(mistake, m)
                        for m in r
                    )
                ),
                None,
            )
        if free is None:
            rounds.append(free := [])
        free.append(mistake)
    return rounds


@dataclass
class Graded:
    """An autograded class: correct, blank, one per style, and the mistakes' submissions."""

    course: CourseDir
    assignment: Assignment
    rounds: dict[str, list[StudentMistake]]  # student -> the mistakes in their work

    def grades(self, student: str) -> dict[str, CellGrade]:
        return self.course.grades(self.assignment.name, student)

    def text(self, student: str, grade_id: str) -> str:
        return self.course.cell_text(self.assignment.name, student, grade_id)

    def student_of(self, mistake: StudentMistake) -> str:
        return next(s for s, group in self.rounds.items() if any(m is mistake for m in group))


def autograde_class(assignment: Assignment, root: Path) -> Graded:
    """Generate ``assignment`` in a fresh course at ``root``, submit the class, autograde."""
    name = assignment.name
    course = CourseDir.create(root, [name])
    course.generate(name)
    release = course.release_notebook(name)
    base = correct_work(name, assignment.styles[0]).code
    rounds = {
        f"mistakes-{index:02d}": group
        for index, group in enumerate(pack(assignment.mistakes, assignment.pack_mistakes))
    }
    work = {
        "correct": {**source_solutions(course.source_notebook(name)), **assignment.written},
        "blank": {},
        **{f"style-{s}": correct_work(name, s).code for s in assignment.styles},
        **{
            student: {**base, **{m.function: as_source(m.code, m.function) for m in group}}
            for student, group in rounds.items()
        },
    }
    for student, code in work.items():
        course.submit(student, name, fill_notebook(release, code))
    course.autograde(name)
    return Graded(course, assignment, rounds)


class PipelineChecks:
    """One assignment through the real nbgrader apps: generate, submit, autograde, grades.

    One course per assignment: a fully correct submission (the instructor's solutions typed
    into the student version), a blank one, one per correct style and the typical mistakes,
    all autograded in one run. Correct work gets every automatic point, blank work none,
    and each mistake loses the cells it should, is named in their output, and costs
    nothing elsewhere.
    """

    assignment: ClassVar[Assignment]

    @pytest.fixture(scope="class")
    def graded(self, tmp_path_factory: pytest.TempPathFactory) -> Graded:
        folder = tmp_path_factory.mktemp(f"assignment-{self.assignment.name}")
        return autograde_class(self.assignment, folder / "course")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        a = self.assignment
        correct = ["correct", *(f"style-{s}" for s in a.styles)]
        _parametrize(metafunc, {"student": (correct, None), "mistake": (a.mistakes, mistake_id)})

    def test_graded_cells_and_points(self, graded: Graded) -> None:
        a = self.assignment
        notebook = graded.course.source_notebook(a.name)
        meta = [c.metadata["nbgrader"] for c in notebook.cells if "nbgrader" in c.metadata]
        automatic = [cell for name in a.notebook_order for cell in a.cells_of(name)]
        assert [m["grade_id"] for m in meta if m.get("grade")] == automatic + list(a.manual_points)
        points = {m["grade_id"]: m["points"] for m in meta if "points" in m}
        assert sum(points[c] for c in automatic) == a.auto_points
        assert {c: points[c] for c in a.manual_points} == a.manual_points
        assert sum(points.values()) == a.auto_points + sum(a.manual_points.values())

    def test_correct_work_gets_every_automatic_point(self, graded: Graded, student: str) -> None:
        grades = graded.grades(student)
        automatic = {k: g for k, g in grades.items() if k not in self.assignment.manual_points}
        assert sum(g.max_score for g in automatic.values()) == self.assignment.auto_points
        lost = {g.grade_id: g.score for g in automatic.values() if g.score != g.max_score}
        assert lost == {}, {cell: graded.text(student, cell) for cell in lost}

    def test_blank_work_gets_nothing(self, graded: Graded) -> None:
        a = self.assignment
        grades = graded.grades("blank")
        assert {g.grade_id: g.score for g in grades.values() if g.score} == {}
        shown = {
            cell.metadata["nbgrader"]["grade_id"]: outputs_text(cell)
            for cell in graded.course.autograded_notebook(a.name, "blank").cells
            if cell.metadata.get("nbgrader", {}).get("grade")
        }
        for name in a.functions:
            for cell in a.cells_of(name):
                assert "NotImplementedError" in shown[cell], (cell, shown[cell])

    def test_mistake_loses_its_cells_and_is_named(
        self, graded: Graded, mistake: StudentMistake
    ) -> None:
        student = graded.student_of(mistake)
        grades = graded.grades(student)
        for cell in mistake.lost_cells:
            assert grades[cell].score == 0, f"{cell} kept its points"
            text = graded.text(student, cell)
            assert named_in_feedback(mistake) in text, text
            # Students see the report, not the grader's code (nbgrader may shorten a long
            # report to its first and last 50 lines, saying so).
            assert "cnn_solutions" not in text and "most recent call last" not in text, text
            assert "Traceback" not in text.replace(TRUNCATION_MARK, ""), text
        mistaken = {m.function for m in graded.rounds[student]}
        a = self.assignment
        others = [c for n in a.functions + a.answers if n not in mistaken for c in a.cells_of(n)]
        assert {c: grades[c].score for c in others if grades[c].score != grades[c].max_score} == {}

    def test_submissions_are_the_release_with_only_solution_cells_changed(
        self, graded: Graded
    ) -> None:
        a = self.assignment
        release = graded.course.release_notebook(a.name)
        submitted = graded.course.root / "submitted" / "correct" / a.name
        notebook = nbformat.read(submitted / graded.course.notebook_name(a.name), as_version=4)
        changed = [
            cell.metadata.get("nbgrader", {}).get("grade_id")
            for cell, original in zip(notebook.cells, release.cells, strict=True)
            if cell.source != original.source
        ]
        solution_ids = [n if n in a.functions else f"{n}_answer" for n in a.notebook_order]
        assert changed == solution_ids + list(a.manual_points)
