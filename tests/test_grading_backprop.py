"""04_conv_backprop's grading specs against simulated students, in process (no nbgrader).

Each student's cells run from source in one namespace with the notebook's givens ``X`` and
``F``. Correct work in every style passes every aspect; every typical mistake fails the
cells it should, with feedback that names it, and leaves every other cell passing.
"""

from __future__ import annotations

import copy
import time
from functools import cache

import numpy as np
import pytest

from cnn_course.classroom import StudentMistake, correct_work, mistake_work, mistakes, styles
from cnn_course.classroom.backprop import CHANGED_INPUT
from cnn_solutions import answers
from cnn_solutions.grading import MISTAKE_PREFIX, GradingFailure, answer_spec, function_spec
from cnn_solutions.grading import backprop as spec_module
from cnn_solutions.grading.check import run_answer_check, run_check
from cnn_solutions.grading.core import compare, reference_result

ASSIGNMENT = "04_conv_backprop"
FUNCTIONS = [spec.name for spec in spec_module.FUNCTIONS]
ANSWERS = [spec.name for spec in spec_module.ANSWERS]
GIVENS = {"X": answers.X_example, "F": answers.F_example}
# A hidden cell must stay far below nbgrader's 30 s timeout even for plain loops.
CELL_BUDGET_SECONDS = 2.0


def run_cells(code: dict[str, str]) -> dict:
    """Execute a student's cells in notebook order, in one namespace."""
    namespace = {"np": np, **copy.deepcopy(GIVENS)}
    for name in ANSWERS + FUNCTIONS:  # notebook order: the worked example first
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
    assert FUNCTIONS == [
        "conv_forward",
        "conv_backward",
        "gap_forward",
        "gap_backward",
        "maxpool_forward",
        "maxpool_backward",
        "numerical_gradient",
    ]
    assert ANSWERS == ["example_output", "example_y", "example_dF", "example_dX"]
    assert len(styles(ASSIGNMENT)) >= 3
    for style in styles(ASSIGNMENT):
        assert set(correct_work(ASSIGNMENT, style).code) == set(FUNCTIONS + ANSWERS)
    for name in FUNCTIONS:
        implementations = {correct_work(ASSIGNMENT, s).code[name] for s in styles(ASSIGNMENT)}
        assert len(implementations) >= 3, f"fewer than three distinct correct styles of {name}"


@pytest.mark.parametrize("style", styles(ASSIGNMENT))
@pytest.mark.parametrize("cell", ALL_CELLS)
def test_correct_style_passes(style: str, cell: str) -> None:
    assert check_cell(style_namespace(style), cell).startswith("✓")


def _expected_text(mistake: StudentMistake) -> str:
    # Changing an input is reported by the engine itself, as the problem of the case.
    if mistake.expected_mistake == CHANGED_INPUT:
        return CHANGED_INPUT
    return f"{MISTAKE_PREFIX} {mistake.expected_mistake}"


@pytest.mark.parametrize("mistake", mistakes(ASSIGNMENT), ids=lambda m: f"{m.function}-{m.label}")
def test_mistake_loses_its_cells_and_is_named(mistake: StudentMistake) -> None:
    namespace = run_cells(dict(mistake_work(ASSIGNMENT, mistake).code))
    for cell in mistake.lost_cells:
        with pytest.raises(GradingFailure) as failure:
            check_cell(namespace, cell)
        report = failure.value.report
        assert _expected_text(mistake) in report, report
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
            expected = reference_result(spec.reference, case)
            shown += any(
                compare(e, w) is not None
                for e, w in (
                    zip(expected, wrong, strict=True) if spec.parts else [(expected, wrong)]
                )
            )
        assert shown, f"{spec.name}: no case reveals {mistake.name!r}"


def test_answer_mistakes_differ_from_the_answer() -> None:
    for spec in spec_module.ANSWERS:
        for mistake in spec.mistakes:
            assert compare(spec.expected, mistake.value) is not None, mistake.name


def test_worked_example_by_hand() -> None:
    """The answers, derived independently of the reference layers."""
    assert np.array_equal(answers.example_output, [[10, 6], [10, 18]])
    assert answers.example_y == 11.0
    assert np.array_equal(answers.example_dF, np.array([[9, 14], [8, 3]]) / 4)
    assert np.array_equal(answers.example_dX, np.array([[0, 3, 3], [1, 2, 1], [1, -1, -2]]) / 4)


def test_numerical_gradient_cases_are_small_and_described() -> None:
    spec = function_spec("numerical_gradient")
    for aspect, suite in spec.suites.items():
        for case in suite():
            f, x, dout = case.args
            assert np.size(x) <= 30, (aspect, case.label)
            assert callable(f) and case.shown.get("f", "").startswith("a function"), case.label
            assert np.shape(f(np.asarray(x, dtype=float))) == np.shape(dout), case.label


def test_dout_matters_in_the_dout_aspect() -> None:
    """A gradient that ignores dout passes only where dout is all ones."""
    spec = function_spec("numerical_gradient")
    cases = spec.suites["dout"]()
    assert all(not np.all(case.args[2] == 1) for case in cases)


def test_pool_cases_have_no_ties_and_overlaps_share_a_maximum() -> None:
    spec = function_spec("maxpool_backward")
    shared = 0
    for aspect, suite in spec.suites.items():
        for case in suite():
            x, size, stride = case.args[1]
            for n, c in np.ndindex(x.shape[0], x.shape[3]):
                assert len(np.unique(x[n, :, :, c])) == x[n, :, :, c].size, case.label
            dx = reference_result(spec.reference, case)
            hits = reference_result(
                spec.reference, type(case)(case.label, (np.ones_like(case.args[0]), case.args[1]))
            )
            shared += aspect == "overlap" and bool((hits > 1).any())
            assert dx.shape == x.shape
    overlap_cases = len(spec.suites["overlap"]())
    assert shared == overlap_cases, (
        "every overlap case needs a value that is the max of two windows"
    )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_hidden_cells_are_fast_for_loop_students(name: str) -> None:
    namespace = style_namespace("loops")
    for cell in cells_of(name):
        start = time.perf_counter()
        check_cell(namespace, cell)
        assert time.perf_counter() - start < CELL_BUDGET_SECONDS, cell


def test_feedback_for_tuple_results_names_the_part() -> None:
    bad = next(m for m in mistakes(ASSIGNMENT) if m.label == "padding not cropped")
    namespace = run_cells(dict(mistake_work(ASSIGNMENT, bad).code))
    with pytest.raises(GradingFailure) as failure:
        check_cell(namespace, "conv_backward_padding")
    report = failure.value.report
    assert "Problem: dx: expected shape" in report, report
    assert spec_module.NOT_CROPPED_ADVICE in report


def test_feedback_shows_the_function_argument_readably() -> None:
    bad = next(m for m in mistakes(ASSIGNMENT) if m.label == "dout ignored")
    namespace = run_cells(dict(mistake_work(ASSIGNMENT, bad).code))
    with pytest.raises(GradingFailure) as failure:
        check_cell(namespace, "numerical_gradient_dout")
    report = failure.value.report
    assert "f = a function computing 3 * np.tanh(x)" in report, report
    assert "<lambda>" not in report and "<function" not in report


def test_input_changed_in_place_is_reported() -> None:
    bad = next(m for m in mistakes(ASSIGNMENT) if m.expected_mistake == CHANGED_INPUT)
    namespace = run_cells(dict(mistake_work(ASSIGNMENT, bad).code))
    with pytest.raises(GradingFailure) as failure:
        check_cell(namespace, "numerical_gradient_basic")
    assert "changed its input x in place" in failure.value.report
