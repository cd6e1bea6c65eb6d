"""The report's action list: one action per thing to do, most urgent first."""

from __future__ import annotations

import pytest

from cnn_course.grading.copying import CopyingSuspicion
from cnn_course.grading.judging import CPU_LIMIT, KERNEL_LOST, WALL_CLOCK
from cnn_course.report import CellResult, Flag, GradingProblem, SubmissionResult
from cnn_course.report.actions import (
    COPYING,
    FLAGGED,
    HAND_GRADING,
    NOT_GRADED,
    UNFINISHED,
    actions,
)

pytestmark = pytest.mark.unit


def test_actions_come_most_urgent_first_one_per_submission_and_kind() -> None:
    waiting = CellResult("conv1x1", "why_1x1", None, 5.0)
    submissions = [
        SubmissionResult("03_conv1x1", "ada", 40.0, 50.0, (waiting,)),
        SubmissionResult("03_conv1x1", "bo", 45.0, 50.0, (waiting,)),
        SubmissionResult("01_filters", "cy", 50.0, 50.0),
    ]
    failures = [
        GradingProblem(
            "01_filters", "ivy", "filters", "cell conv2d_basic timed out", True, WALL_CLOCK
        ),
        GradingProblem(
            "01_filters", "ivy", "filters", "cell conv2d_bias timed out", True, WALL_CLOCK
        ),
        GradingProblem("02_output_size", "dee", "*", "no notebook was submitted"),
    ]
    flags = [Flag("eli", "01_filters", "locked cell edited")]
    copying = [CopyingSuspicion("ivy", "05_quiz", "ada", 11, 11, 0)]
    found = actions(submissions, failures, flags, copying)
    assert [(a.kind, a.assignment, a.student) for a in found] == [
        (NOT_GRADED, "02_output_size", "dee"),
        (UNFINISHED, "01_filters", "ivy"),
        (FLAGGED, "01_filters", "eli"),
        (COPYING, "05_quiz", "ivy"),
        (HAND_GRADING, "03_conv1x1", ""),
    ]
    assert found[0].todo.endswith("`cnn-course grade 02_output_size --student dee`")
    assert found[1].what == "cell conv2d_basic timed out; cell conv2d_bias timed out"
    assert found[1].todo.endswith("--force`")
    assert found[3].what == copying[0].reason and "--student ada" in found[3].todo
    assert found[4].what == "2 submission(s) wait, 10 points in all"


def test_nothing_to_do_is_an_empty_list() -> None:
    assert actions([SubmissionResult("01_filters", "cy", 50.0, 50.0)], []) == []


def unfinished(*causes: str) -> list[GradingProblem]:
    return [
        GradingProblem("01_filters", "ivy", "filters", f"cell c{i} stopped", True, cause)
        for i, cause in enumerate(causes)
    ]


def test_code_that_ran_out_of_cpu_time_is_not_sent_to_a_regrade() -> None:
    """CPU time does not grow on a busy machine: the code loops, and a regrade would stop it
    again. A wall-clock timeout or a lost kernel may be the machine: regrade to tell."""
    (loop,) = actions([], unfinished(CPU_LIMIT))
    assert "does not finish" in loop.todo and "--force" not in loop.todo
    for cause in (WALL_CLOCK, KERNEL_LOST):
        (maybe_load,) = actions([], unfinished(cause))
        assert maybe_load.todo.endswith("`cnn-course grade 01_filters --student ivy --force`")
    # One loop stops every cell that calls the function, the demo cell's wall clock too.
    (both,) = actions([], unfinished(WALL_CLOCK, CPU_LIMIT))
    assert both.todo == loop.todo and both.what == "cell c0 stopped; cell c1 stopped"
