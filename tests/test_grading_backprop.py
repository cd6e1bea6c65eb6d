"""04_conv_backprop's grading specs against simulated students, in process (no nbgrader).

The checks every assignment passes are in :class:`assignment_helpers.GradingSpecChecks`
(students' cells run with the notebook's givens ``X`` and ``F``); here, the contract, the
worked example, the cases of the gradient check and pooling, speed for plain loops, and
the feedback of tuple results, function arguments and inputs changed in place.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from assignment_helpers import BACKPROP, GradingSpecChecks

from cnn_course.classroom.backprop import CHANGED_INPUT
from cnn_course.grading import function_spec
from cnn_course.grading.backprop_common import NOT_CROPPED_ADVICE
from cnn_course.grading.core import reference_result
from cnn_solutions import answers

# A hidden cell must stay far below nbgrader's 30 s timeout even for plain loops.
CELL_BUDGET_SECONDS = 2.0


class TestBackpropSpecs(GradingSpecChecks):
    assignment = BACKPROP
    functions = [
        "conv_forward",
        "conv_backward",
        "gap_forward",
        "gap_backward",
        "maxpool_forward",
        "maxpool_backward",
        "numerical_gradient",
    ]
    answers = ["example_output", "example_y", "example_dF", "example_dX"]


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


@pytest.mark.parametrize("name", BACKPROP.functions)
def test_hidden_cells_are_fast_for_loop_students(name: str) -> None:
    namespace = BACKPROP.style_namespace("loops")
    for cell in BACKPROP.cells_of(name):
        start = time.perf_counter()
        BACKPROP.check_cell(namespace, cell)
        assert time.perf_counter() - start < CELL_BUDGET_SECONDS, cell


def test_feedback_for_tuple_results_names_the_part() -> None:
    bad = next(m for m in BACKPROP.mistakes if m.label == "padding not cropped")
    report = BACKPROP.failure_report(bad, "conv_backward_padding")
    assert "Problem: dx: expected shape" in report, report
    assert NOT_CROPPED_ADVICE in report


def test_feedback_shows_the_function_argument_readably() -> None:
    bad = next(m for m in BACKPROP.mistakes if m.label == "dout ignored")
    report = BACKPROP.failure_report(bad, "numerical_gradient_dout")
    assert "f = a function computing 3 * np.tanh(x)" in report, report
    assert "<lambda>" not in report and "<function" not in report


def test_input_changed_in_place_is_reported() -> None:
    bad = next(m for m in BACKPROP.mistakes if m.expected_mistake == CHANGED_INPUT)
    assert "changed its input x in place" in BACKPROP.failure_report(
        bad, "numerical_gradient_basic"
    )


def test_a_wrong_part_is_shown_alone_and_dw_as_kernels() -> None:
    """Of conv_backward's (dx, dw, db), the feedback shows the part that is wrong, by name;
    a filter gradient reads as its kernels ``[:, :, c_in, c_out]``."""
    bad = next(m for m in BACKPROP.mistakes if m.label == "dw and db divided by the batch size")
    report = BACKPROP.failure_report(bad, "conv_backward_batch")
    assert "Problem: dw: values differ" in report
    assert "  Expected dw: filters of shape" in report
    assert "  Got dw:      filters of shape" in report
    assert "Expected: (" not in report and "[:, :, 0, 0] = " in report
