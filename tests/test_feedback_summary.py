"""The summary at the top of feedback pages (cnn_course.plugins.FeedbackSummary)."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cnn_course.plugins import FeedbackSummary

pytestmark = pytest.mark.unit


def graded(cell, grade_id: str, score: float | None, points: float, solution: bool = False):
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": solution,
        "grade_id": grade_id,
        "points": points,
        "score": score,
    }
    return cell


def test_the_summary_lists_every_graded_cell_and_names_the_mistake() -> None:
    report = (
        "✗ conv2d · stride: case 1 of 3 failed (6x6 image)\n  Inputs: ...\n"
        "  Problem: values differ at [0, 0]\n"
        "  Likely mistake: flipped kernel (a true convolution). Do not flip the kernel."
    )
    hostile = "✗ zero_pad · basic: raised <script>alert(1)</script> $x$ | **bold**"
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Filters"),
            graded(new_code_cell("check(...)"), "conv2d_stride", 0.0, 3.0),
            graded(new_code_cell("check(...)"), "zero_pad_basic", 0.0, 2.0),
            graded(new_code_cell("check(...)"), "zero_pad_zero", 2.0, 2.0),
            graded(new_markdown_cell("my answer"), "why_1x1", None, 5.0, solution=True),
        ]
    )
    nb.cells[1].outputs = [new_output("error", ename="GradingFailure", evalue=report)]
    nb.cells[2].outputs = [new_output("error", ename="GradingFailure", evalue=hostile)]
    resources = {"nbgrader": {"score": 2.0, "max_score": 12.0}}
    nb, _ = FeedbackSummary().preprocess(nb, resources)
    summary = nb.cells[0]
    assert summary.cell_type == "markdown" and len(nb.cells) == 6
    text = summary.source
    assert "Summary: 2 / 12 points." in text and "2 graded cell(s) lost points" in text
    assert '<a href="#conv2d_stride">conv2d_stride</a>' in text
    assert "Likely mistake: flipped kernel (a true convolution)" in text
    assert "Inputs" not in text  # the first line and the named mistake only
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "$x$" not in text and "&#36;x&#36;" in text
    assert "2 / 2</td><td" in text and "full points" in text
    assert "? / 5</td><td" in text and "waits for hand grading" in text
    # What lost points comes first (on the first screen), then what waits, then full points.
    order = [text.index(f'href="#{g}"') for g in ("conv2d_stride", "zero_pad_basic")]
    order += [text.index(f'href="#{g}"') for g in ("why_1x1", "zero_pad_zero")]
    assert order == sorted(order), order
