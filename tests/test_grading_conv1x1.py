"""03_conv1x1's grading specs against simulated students, in process (no nbgrader).

The checks every assignment passes are in :class:`assignment_helpers.GradingSpecChecks`;
here, the contract, the bottleneck arithmetic and the feedback of a forgotten bias.
"""

from __future__ import annotations

from assignment_helpers import CONV1X1, GradingSpecChecks

from cnn_course.grading.mistakes import BIAS_FORGOTTEN_ADVICE
from cnn_solutions import answers


class TestConv1x1Specs(GradingSpecChecks):
    assignment = CONV1X1
    functions = ["conv1x1", "conv_mult_count"]
    answers = ["direct_mults", "bottleneck_mults", "reduction_params"]


def test_the_bottleneck_answers_are_the_counts_of_the_issue() -> None:
    """Independent arithmetic: 28x28x32 outputs of 5x5x192, versus 1x1x192 then 5x5x16."""
    assert answers.direct_mults == 28 * 28 * 32 * 5 * 5 * 192
    assert answers.bottleneck_mults == 28 * 28 * 16 * 192 + 28 * 28 * 32 * 5 * 5 * 16
    assert answers.reduction_params == 256 * 64 + 64


def test_feedback_names_case_inputs_and_advice() -> None:
    bad = next(m for m in CONV1X1.mistakes if m.label == "bias forgotten")
    report = CONV1X1.failure_report(bad, "conv1x1_bias")
    assert report.startswith("✗ conv1x1 · bias: case 1 of 2 failed")
    for part in (
        "Inputs:",
        "bias = array(",
        "Problem: values differ",
        "Expected: array of shape (3, 3, 3)",
    ):
        assert part in report, report
    assert BIAS_FORGOTTEN_ADVICE in report
