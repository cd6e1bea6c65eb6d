"""01_filters' grading specs against simulated students, in process (no nbgrader).

The checks every assignment passes are in :class:`assignment_helpers.GradingSpecChecks`;
here, the contract and the feedback of a flipped kernel.
"""

from __future__ import annotations

from assignment_helpers import FILTERS, GradingSpecChecks

from cnn_solutions.grading import filters as spec_module


class TestFiltersSpecs(GradingSpecChecks):
    assignment = FILTERS
    functions = ["zero_pad", "correlate2d", "conv2d", "conv2d_multi"]
    answers = ["laplacian_response"]


def test_feedback_shows_inputs_expected_and_got() -> None:
    bad = next(m for m in FILTERS.mistakes if m.expected_mistake == spec_module.FLIPPED)
    report = FILTERS.failure_report(bad, f"{bad.function}_basic")
    assert report.startswith(f"✗ {bad.function} · basic: case 1 of")
    for part in ("Inputs:", "Problem: values differ", "Expected: array(", "Got:      array("):
        assert part in report, report
    assert spec_module.FLIPPED_ADVICE in report
