"""The report's plots, as PNG: the score distribution and the pass rate per graded cell."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from cnn_course.report.results import CellPassRate, CourseReport

if TYPE_CHECKING:  # matplotlib is imported only when a plot is drawn
    from matplotlib.figure import Figure


def _png(figure: object) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def score_plot(report: CourseReport) -> bytes:
    """PNG: each assignment's scores (percent of the maximum), a box over the points."""
    from matplotlib.figure import Figure

    names = list(report.assignments)
    figure = Figure(figsize=(max(4.5, 1.6 * len(names) + 2), 3.6), dpi=110, layout="tight")
    axes = figure.add_subplot()
    for position, name in enumerate(names, start=1):
        maximum = report.assignments[name] or 1.0
        values = [100 * s.score / maximum for s in report.graded(name) if s.score is not None]
        if not values:
            continue
        axes.boxplot([values], positions=[position], widths=0.5, showfliers=False)
        # Spread equal scores sideways so that each student stays visible.
        offsets = (
            [0.0]
            if len(values) == 1
            else [-0.18 + 0.36 * i / (len(values) - 1) for i in range(len(values))]
        )
        axes.scatter([position + o for o in offsets], sorted(values), s=18, alpha=0.7, zorder=3)
    counts = [len(report.graded(name)) for name in names]
    axes.set_xticks(
        range(1, len(names) + 1), [f"{n}\n(n={c})" for n, c in zip(names, counts, strict=True)]
    )
    axes.set_xlim(0.4, len(names) + 0.6)
    axes.set_ylim(-5, 105)
    axes.set_ylabel("score (% of maximum)")
    axes.set_title("Score distribution per assignment")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def pass_rate_plot(report: CourseReport) -> bytes:
    """PNG of :func:`pass_rate_figure` for every graded cell of the course."""
    return _png(pass_rate_figure(report.pass_rates()))


# Bars of one assignment share a colour (dark enough for a white label on them).
ASSIGNMENT_COLOURS = ("#4c78a8", "#3b7d35", "#8e5a84", "#b8433f", "#3f7f7a", "#a35a12")
# Width of one label character in percent of the axis (8 pt on the figure's 7.5 in),
# with some margin: a label goes where it fits whole.
LABEL_UNITS_PER_CHAR = 1.35


def pass_rate_figure(rows: list[CellPassRate]) -> Figure:
    """One horizontal bar per graded cell: the share of students with full points.

    The axis holds the bars and nothing else (no empty band above or below them), and
    every label stays inside the axes: on its bar in white, or after a short bar.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 1.1 + 0.3 * max(len(rows), 1)), dpi=110, layout="tight")
    axes = figure.add_subplot()
    order = list(dict.fromkeys(r.assignment for r in rows))
    colours = [
        ASSIGNMENT_COLOURS[order.index(r.assignment) % len(ASSIGNMENT_COLOURS)] for r in rows
    ]
    rates = [100 * (r.pass_rate or 0.0) for r in rows]
    axes.barh(range(len(rows)), rates, color=colours, height=0.75)
    for y, (rate, row) in enumerate(zip(rates, rows, strict=True)):
        text = f"{rate:.0f}% of {row.n}" if row.n else ""
        if row.waiting:  # pending, not failed: say so instead of drawing a 0% bar
            text += ("; " if text else "") + f"{row.waiting} wait for hand grading"
        # After the bar if it fits there, else on it (a long bar has room for it).
        room = LABEL_UNITS_PER_CHAR * len(text) + 2
        inside = rate + room > 100 and rate >= room
        axes.text(
            rate - 1 if inside else rate + 1,
            y,
            text,
            ha="right" if inside else "left",
            va="center",
            fontsize=8,
            color="white" if inside else "#222222",
        )
    axes.set_yticks(range(len(rows)), [f"{r.assignment} · {r.grade_id}" for r in rows], fontsize=8)
    axes.set_ylim(len(rows) - 0.5, -0.5)  # first cell on top, no margin band
    axes.set_xlim(0, 100)
    axes.set_xlabel("students with full points (%)")
    axes.set_title("Pass rate per graded cell")
    axes.grid(axis="x", alpha=0.3)
    return figure
