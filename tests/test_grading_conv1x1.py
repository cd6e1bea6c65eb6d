"""03_conv1x1's grading specs against simulated students, in process (no nbgrader).

Each student's cells run from source in one namespace, as in the notebook. Correct work in
every style passes every aspect; every typical mistake fails the cells it should, with
feedback that names it, and leaves every other function's and answer's cells passing.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from cnn_course.classroom import StudentMistake, correct_work, mistake_work, mistakes, styles
from cnn_solutions import answers
from cnn_solutions.grading import MISTAKE_PREFIX, GradingFailure, answer_spec, function_spec
from cnn_solutions.grading import conv1x1 as spec_module
from cnn_solutions.grading.check import run_answer_check, run_check
from cnn_solutions.grading.core import compare, reference_result

ASSIGNMENT = "03_conv1x1"
FUNCTIONS = [spec.name for spec in spec_module.FUNCTIONS]
ANSWERS = [spec.name for spec in spec_module.ANSWERS]


def run_cells(code: dict[str, str]) -> dict:
    """Execute a student's cells in notebook order, in one namespace."""
    namespace: dict = {"np": np}
    for name in FUNCTIONS + ANSWERS:
        if name in code:
            exec(compile(code[name], f"<{name}>", "exec"), namespace)
    return namespace


@cache
def style_namespace(style: str) -> dict:
    return run_cells(dict(correct_work(ASSIGNMENT, style).code))


def cells_of(name: str) -> list[str]:
    if name in ANSWERS:
        return [f"{name}_check"]
    return [f"{name}_{aspect}" for aspect in function_spec(name).suites]


def check_cell(namespace: dict, grade_id: str) -> str:
    """Run the hidden check of one graded cell; return its summary or raise GradingFailure."""
    if grade_id.endswith("_check"):
        name = grade_id.removesuffix("_check")
        return run_answer_check(answer_spec(name), namespace.get(name))
    name = max((f for f in FUNCTIONS if grade_id.startswith(f + "_")), key=len)
    return run_check(function_spec(name), namespace[name], grade_id.removeprefix(name + "_"))


ALL_CELLS = [cell for name in FUNCTIONS + ANSWERS for cell in cells_of(name)]


def test_contract_names_and_styles() -> None:
    assert FUNCTIONS == ["conv1x1", "conv_mult_count"]
    assert ANSWERS == ["direct_mults", "bottleneck_mults", "reduction_params"]
    assert len(styles(ASSIGNMENT)) >= 3
    for style in styles(ASSIGNMENT):
        assert set(correct_work(ASSIGNMENT, style).code) == set(FUNCTIONS + ANSWERS)


@pytest.mark.parametrize("style", styles(ASSIGNMENT))
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_correct_style_passes(style: str, cell: str) -> None:
    assert check_cell(style_namespace(style), cell).startswith("✓")


@pytest.mark.parametrize("mistake", mistakes(ASSIGNMENT), ids=lambda m: f"{m.function}-{m.label}")
def test_mistake_loses_its_cells_and_is_named(mistake: StudentMistake) -> None:
    namespace = run_cells(dict(mistake_work(ASSIGNMENT, mistake).code))
    for cell in mistake.lost_cells:
        with pytest.raises(GradingFailure) as failure:
            check_cell(namespace, cell)
        report = failure.value.report
        assert f"{MISTAKE_PREFIX} {mistake.expected_mistake}" in report, report
        named = [line for line in report.splitlines() if MISTAKE_PREFIX in line]
        assert len(named) == len(set(named)), report
    for name in FUNCTIONS + ANSWERS:
        if name != mistake.function:
            for cell in cells_of(name):
                check_cell(namespace, cell)


def test_mistakes_cover_every_function_and_answer() -> None:
    for name in FUNCTIONS:
        assert sum(m.function == name for m in mistakes(ASSIGNMENT)) >= 3, name
    assert sum(m.function in ANSWERS for m in mistakes(ASSIGNMENT)) >= 3
    for name in ANSWERS:
        assert any(m.function == name for m in mistakes(ASSIGNMENT)), name
    for mistake in mistakes(ASSIGNMENT):
        assert mistake.lost_cells, mistake
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
        assert compare(spec.expected, getattr(answers, spec.name)) is None
        for mistake in spec.mistakes:
            assert compare(spec.expected, mistake.value) is not None, mistake.name


def test_the_bottleneck_answers_are_the_counts_of_the_issue() -> None:
    """Independent arithmetic: 28x28x32 outputs of 5x5x192, versus 1x1x192 then 5x5x16."""
    assert answers.direct_mults == 28 * 28 * 32 * 5 * 5 * 192
    assert answers.bottleneck_mults == 28 * 28 * 16 * 192 + 28 * 28 * 32 * 5 * 5 * 16
    assert answers.reduction_params == 256 * 64 + 64


def test_feedback_names_case_inputs_and_advice() -> None:
    bad = next(m for m in mistakes(ASSIGNMENT) if m.label == "bias forgotten")
    namespace = run_cells(dict(mistake_work(ASSIGNMENT, bad).code))
    with pytest.raises(GradingFailure) as failure:
        check_cell(namespace, "conv1x1_bias")
    report = failure.value.report
    assert report.startswith("✗ conv1x1 · bias: case 1 of 2 failed")
    for part in (
        "Inputs:",
        "bias = array(",
        "Problem: values differ",
        "Expected: array of shape (3, 3, 3)",
    ):
        assert part in report, report
    assert spec_module.BIAS_FORGOTTEN_ADVICE in report
