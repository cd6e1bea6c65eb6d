"""01_filters' grading specs against simulated students, in process (no nbgrader).

The checks every assignment passes are in :class:`assignment_helpers.GradingSpecChecks`;
here, the contract and the feedback of a flipped kernel.
"""

from __future__ import annotations

import numpy as np
from assignment_helpers import FILTERS, GradingSpecChecks

from cnn_course.grading import function_spec
from cnn_course.grading.core import Case, describe_case
from cnn_course.grading.mistakes import FLIPPED, FLIPPED_ADVICE


class TestFiltersSpecs(GradingSpecChecks):
    assignment = FILTERS
    functions = ["zero_pad", "correlate2d", "conv2d", "conv2d_multi"]
    answers = ["laplacian_response"]


def test_feedback_shows_inputs_expected_and_got() -> None:
    bad = next(m for m in FILTERS.mistakes if m.expected_mistake == FLIPPED)
    report = FILTERS.failure_report(bad, f"{bad.function}_basic")
    assert report.startswith(f"✗ {bad.function} · basic: case 1 of")
    for part in ("Inputs:", "Problem: values differ", "Expected: array(", "Got:      array("):
        assert part in report, report
    assert FLIPPED_ADVICE in report


def test_a_filter_bank_is_shown_as_its_kernels() -> None:
    """``filters`` (kh, kw, C_in, C_out) reads as kh x kw kernels, not as images (N, H, W, C)."""
    filters = np.arange(8.0).reshape(2, 2, 1, 2)  # filters[a, b, 0, o] = 4a + 2b + o
    text = describe_case(
        function_spec("conv2d_multi"), Case("tiny", (np.zeros((3, 3, 1)), filters, None, 1, 0))
    )
    assert "filters = filters of shape (2, 2, 1, 2) (kh, kw, C_in, C_out), dtype float64:" in text
    assert "[:, :, 0, 0] = [[0., 2.]," in text and "[:, :, 0, 1] = [[1., 3.]," in text
    assert "x = array of shape (3, 3, 1), dtype float64, as 2-D maps:" in text
