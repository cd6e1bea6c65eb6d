"""The report's pass-rate plot reads well: no empty band, every label inside the axes.

#15 found both on the demo's plot: five empty rows above and below the bars, and labels
such as "100% of 9" drawn black on the blue bar and past the axis.
"""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex

from cnn_course.report import CellPassRate, pass_rate_figure

pytestmark = pytest.mark.unit


def cell(assignment: str, grade_id: str, n: int, full: int, waiting: int = 0) -> CellPassRate:
    return CellPassRate(assignment, "nb", grade_id, 2.0, n, full, None, waiting)


ROWS = [
    cell("01_filters", "zero_pad_basic", 9, 9),  # 100 %
    cell("01_filters", "conv2d_stride", 9, 7),  # 78 %
    cell("01_filters", "conv2d_errors", 9, 1),  # 11 %: the label after the bar
    cell("02_output_size", "trace_shapes", 9, 0),  # 0 %
    cell("03_conv1x1", "why_1x1", 1, 0, waiting=8),  # pending: a long label, no bar
    cell("03_conv1x1", "why_again", 3, 3, waiting=6),  # a long label on a full bar
]


def drawn(rows: list[CellPassRate]):
    figure = pass_rate_figure(rows)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return figure.axes[0], canvas.get_renderer()


def test_the_bars_fill_the_axis_without_empty_bands() -> None:
    axes, _ = drawn(ROWS)
    assert axes.get_ylim() == (len(ROWS) - 0.5, -0.5)  # first cell on top, no margin
    labels = [t.get_text() for t in axes.get_yticklabels()]
    assert labels == [f"{r.assignment} · {r.grade_id}" for r in ROWS]


def test_every_label_stays_inside_the_axes_and_says_the_rate() -> None:
    axes, renderer = drawn(ROWS)
    box = axes.get_window_extent(renderer)
    texts = axes.texts
    assert [t.get_text() for t in texts] == [
        "100% of 9",
        "78% of 9",
        "11% of 9",
        "0% of 9",
        "0% of 1; 8 wait for hand grading",
        "100% of 3; 6 wait for hand grading",
    ]
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1, text.get_text()


def test_a_label_on_a_bar_is_white_and_one_after_it_dark() -> None:
    axes, renderer = drawn(ROWS)
    bars = axes.patches
    for text, bar in zip(axes.texts, bars, strict=True):
        extent = text.get_window_extent(renderer)
        on_bar = extent.x1 <= bar.get_window_extent(renderer).x1 + 1
        colour = to_hex(text.get_color())
        assert colour == ("#ffffff" if on_bar else "#222222"), (text.get_text(), colour)
    # A full bar has room for its label; a short one does not.
    assert to_hex(axes.texts[0].get_color()) == "#ffffff"
    assert to_hex(axes.texts[2].get_color()) == "#222222"


def test_bars_of_one_assignment_share_a_colour() -> None:
    axes, _ = drawn(ROWS)
    colours = [to_hex(bar.get_facecolor()) for bar in axes.patches]
    assert colours[0] == colours[1] == colours[2]
    assert colours[4] == colours[5]
    assert len({colours[0], colours[3], colours[4]}) == 3
