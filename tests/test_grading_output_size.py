"""02_output_size's grading specs against simulated students, in process (no nbgrader).

The checks every assignment passes are in :class:`assignment_helpers.GradingSpecChecks`;
here, the contract, sizes as integers or integral floats, and shapes as tuples.
"""

from __future__ import annotations

import numpy as np
from assignment_helpers import OUTPUT_SIZE, GradingSpecChecks

from cnn_course.classroom import correct_work
from cnn_course.grading.output_size_common import TRUE_DIVISION, TRUE_DIVISION_ADVICE


class TestOutputSizeSpecs(GradingSpecChecks):
    assignment = OUTPUT_SIZE
    functions = [
        "conv_output_size",
        "pool_output_size",
        "conv_params",
        "dense_params",
        "trace_shapes",
    ]
    answers = [
        "conv_out_shape",
        "pool_out_shape",
        "flat_size",
        "conv_param_count",
        "dense1_param_count",
        "dense2_param_count",
    ]
    # Not yet: two models of the missing parentheses (`f // s`, `f / s`) both match the
    # stride cases, and the report gives their advice twice.
    names_each_mistake_once = False


def test_feedback_shows_inputs_expected_and_got() -> None:
    bad = next(m for m in OUTPUT_SIZE.mistakes if m.expected_mistake == TRUE_DIVISION)
    report = OUTPUT_SIZE.failure_report(bad, f"{bad.function}_stride")
    assert report.startswith(f"✗ {bad.function} · stride: case 1 of")
    for part in (
        "Inputs:",
        "    n = 7",
        "    stride = 2",
        "Problem: expected an int (3), got float 3.5",
    ):
        assert part in report, report
    assert TRUE_DIVISION_ADVICE in report


FLOOR_AS_FLOAT = {
    "conv_output_size": (
        "def conv_output_size(n, f, stride=1, padding=0):\n"
        "    if padding < 0 or stride < 1 or f > n + 2 * padding:\n"
        "        raise ValueError('invalid arguments')\n"
        "    return np.floor((n + 2 * padding - f) / stride) + 1\n"
    ),
    "pool_output_size": (
        "def pool_output_size(n, f, stride=None):\n"
        "    stride = f if stride is None else stride\n"
        "    if stride < 1 or f > n:\n"
        "        raise ValueError('invalid arguments')\n"
        "    return np.floor((n - f) / stride) + 1\n"
    ),
    "flat_size": "flat_size = np.prod(pool_out_shape) * 1.0\n",
}


def test_sizes_are_graded_by_value_so_integral_floats_pass() -> None:
    """np.floor(...) + 1 returns 14.0: the right size, accepted; `/` fails where it is wrong."""
    code = dict(correct_work(OUTPUT_SIZE.name, "counting").code) | FLOOR_AS_FLOAT
    namespace = OUTPUT_SIZE.run_cells(code)
    assert isinstance(namespace["conv_output_size"](28, 3, 1, 1), np.floating)
    assert isinstance(
        namespace["trace_shapes"]((8, 8, 1), [("conv", {"filters": 2, "size": 3})])[0][0][0],
        np.floating,
    )
    for cell in OUTPUT_SIZE.all_cells:
        OUTPUT_SIZE.check_cell(namespace, cell)


def test_list_shapes_are_named_in_every_cell_they_fail() -> None:
    bad = next(m for m in OUTPUT_SIZE.mistakes if m.label == "shapes as lists")
    report = OUTPUT_SIZE.failure_report(bad, "trace_shapes_conv")
    assert "Problem: [0][0]: expected a tuple (8, 8, 4), got list [8, 8, 4]" in report
