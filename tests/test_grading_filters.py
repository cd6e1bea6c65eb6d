"""01_filters' grading specs against simulated students, in process (no nbgrader).

Each student's code is executed from source in one namespace, as in the notebook, so
functions that call each other do so here too. Correct work in every style passes every
aspect; every typical mistake fails the cells it should, with feedback that names it, and
leaves every other function's cells passing.
"""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import pytest

from cnn_course.classroom import (
    StudentMistake,
    correct_work,
    mistake_work,
    mistakes,
    styles,
)
from cnn_solutions import answers
from cnn_solutions.grading import MISTAKE_PREFIX, GradingFailure, answer_spec, function_spec
from cnn_solutions.grading import filters as spec_module
from cnn_solutions.grading.check import run_answer_check, run_check
from cnn_solutions.grading.core import compare, reference_result

ASSIGNMENT = "01_filters"
FUNCTIONS = [spec.name for spec in spec_module.FUNCTIONS]
ANSWERS = [spec.name for spec in spec_module.ANSWERS]
GIVENS = {"line_image": answers.line_image, "laplacian": answers.laplacian}


def run_cells(code: dict[str, str]) -> dict:
    """Execute a student's cells in notebook order, in one namespace."""
    namespace = {"np": np, **copy.deepcopy(GIVENS)}
    for name in FUNCTIONS + ANSWERS:
        if name in code:
            exec(compile(code[name], f"<{name}>", "exec"), namespace)
    return namespace


@cache
def style_namespace(style: str) -> dict:
    return run_cells(dict(correct_work(ASSIGNMENT, style).code))


def check_cell(namespace: dict, grade_id: str) -> str:
    """Run the hidden check of one graded cell; return its output or raise GradingFailure."""
    if grade_id.endswith("_check"):
        name = grade_id.removesuffix("_check")
        return run_answer_check(answer_spec(name), namespace.get(name))
    name = next(f for f in sorted(FUNCTIONS, key=len, reverse=True) if grade_id.startswith(f + "_"))
    return run_check(function_spec(name), namespace[name], grade_id.removeprefix(name + "_"))


def cells_of(name: str) -> list[str]:
    if name in ANSWERS:
        return [f"{name}_check"]
    return [f"{name}_{aspect}" for aspect in function_spec(name).suites]


ALL_CELLS = [cell for name in FUNCTIONS + ANSWERS for cell in cells_of(name)]


def test_every_contract_name_has_a_spec_and_three_styles() -> None:
    assert FUNCTIONS == ["zero_pad", "correlate2d", "conv2d", "conv2d_multi"]
    assert ANSWERS == ["laplacian_response"]
    assert len(styles(ASSIGNMENT)) >= 3
    for style in styles(ASSIGNMENT):
        assert set(correct_work(ASSIGNMENT, style).code) == set(FUNCTIONS + ANSWERS)


@pytest.mark.parametrize("style", styles(ASSIGNMENT))
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_correct_style_passes(style: str, cell: str) -> None:
    assert check_cell(style_namespace(style), cell).startswith("✓")


def _mistake_id(mistake: StudentMistake) -> str:
    return f"{mistake.function}-{mistake.label}"


@pytest.mark.parametrize("mistake", mistakes(ASSIGNMENT), ids=_mistake_id)
def test_mistake_loses_its_cells_and_is_named(mistake: StudentMistake) -> None:
    namespace = run_cells(dict(mistake_work(ASSIGNMENT, mistake).code))
    for cell in mistake.lost_cells:
        with pytest.raises(GradingFailure) as failure:
            check_cell(namespace, cell)
        assert f"{MISTAKE_PREFIX} {mistake.expected_mistake}" in failure.value.report, (
            failure.value.report
        )
    for name in FUNCTIONS + ANSWERS:
        if name != mistake.function:
            for cell in cells_of(name):
                check_cell(namespace, cell)


def test_mistakes_cover_every_function_and_answer() -> None:
    for name in FUNCTIONS:
        assert sum(m.function == name for m in mistakes(ASSIGNMENT)) >= 3, name
    assert sum(m.function in ANSWERS for m in mistakes(ASSIGNMENT)) >= 3
    for mistake in mistakes(ASSIGNMENT):
        assert set(mistake.lost_cells) <= set(cells_of(mistake.function)), mistake


@pytest.mark.parametrize("spec", spec_module.FUNCTIONS, ids=lambda s: s.name)
def test_every_modelled_mistake_shows_in_some_case(spec) -> None:
    """A mistake model the cases cannot tell from the reference would never be named."""
    cases = [case for suite in spec.suites.values() for case in suite() if case.raises is None]
    for mistake in spec.mistakes:
        shown = 0
        for case in cases:
            try:
                wrong = reference_result(mistake.model, case)
            except Exception:  # noqa: BLE001 -- the model does not apply to this case
                continue
            shown += compare(reference_result(spec.reference, case), wrong) is not None
        assert shown, f"{spec.name}: no case reveals {mistake.name!r}"


def test_answer_mistakes_differ_from_the_answer() -> None:
    for spec in spec_module.ANSWERS:
        for mistake in spec.mistakes:
            assert compare(spec.expected, mistake.value) is not None, mistake.name


def test_feedback_shows_inputs_expected_and_got() -> None:
    bad = next(m for m in mistakes(ASSIGNMENT) if m.expected_mistake == spec_module.FLIPPED)
    namespace = run_cells(dict(mistake_work(ASSIGNMENT, bad).code))
    with pytest.raises(GradingFailure) as failure:
        check_cell(namespace, f"{bad.function}_basic")
    report = failure.value.report
    assert report.startswith(f"✗ {bad.function} · basic: case 1 of")
    for part in ("Inputs:", "Problem: values differ", "Expected: array(", "Got:      array("):
        assert part in report, report
    assert spec_module.FLIPPED_ADVICE in report
