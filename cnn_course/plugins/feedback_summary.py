"""A summary at the top of every feedback page: per graded cell, points and what to change.

nbgrader's feedback page lists its graded cells as unnamed "Test cell (Score ...)" links;
a student has to scroll through the whole notebook to find what failed. This
preprocessor runs in ``GenerateFeedback`` after ``GetGrades`` (which puts each graded
cell's score in its metadata) and inserts one cell at the top: the notebook's score, then
a table with one row per graded cell, linked to the cell (nbgrader's anchors are the grade
ids), its points, and for a cell that lost points the first line of its verdict and the
named mistake ("Likely mistake: ..."), which say what to change. Cells that lost points
come first, so that they are on the page's first screen.

Everything shown comes from the cells' outputs, which may quote the student's code and
messages, so every piece of text is HTML-escaped (and ``$`` too, which MathJax would
typeset) inside an HTML table: nothing a student wrote is rendered as markup. The cell
also makes the page's output blocks wrap their lines.
"""

from __future__ import annotations

import html

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor

from cnn_course.grading import MISTAKE_PREFIX

SUMMARY_TAG = "cnn-course-summary"
LINE_CHARS = 300
# Long verdict lines (the advice after "Likely mistake") wrap instead of running past the
# page's right edge; on a phone too.
WRAP_STYLE = (
    "<style>.output_area pre { white-space: pre-wrap; word-break: break-word; } "
    ".cnn-course-summary td { vertical-align: top; padding: 2px 6px; "
    "overflow-wrap: anywhere; } "
    ".cnn-course-summary col.cell { width: 28%; } "
    ".cnn-course-summary col.points { width: 5.5em; }</style>"
)


def _escape(text: str) -> str:
    return html.escape(text[:LINE_CHARS]).replace("$", "&#36;")


def _failure_lines(cell: NotebookNode) -> list[str]:
    """The verdict's first line and its "Likely mistake" lines, from a cell's outputs."""
    lines: list[str] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = output.get("evalue", "") or "\n".join(output.get("traceback", []))
            rows = [r.strip() for r in str(text).splitlines() if r.strip()]
            if not rows:
                continue
            lines.append(rows[0])
            lines += [r for r in rows[1:] if r.startswith(MISTAKE_PREFIX)][:1]
    return lines


def _label(cell: NotebookNode) -> str:
    meta = cell.metadata["nbgrader"]
    if cell.cell_type == "markdown":
        return "written answer"
    return "your code" if meta.get("solution") else "test"


def summary_html(nb: NotebookNode, score: float | None, max_score: float | None) -> str:
    """The summary cell's HTML."""
    # Cells that lost points first, so that what to change is on the first screen; then
    # those waiting for hand grading, then full points; each group in notebook order.
    groups: dict[str, list[str]] = {"lost": [], "waiting": [], "full": []}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        grade_id = str(meta.get("grade_id", ""))
        points = meta.get("points")
        got = meta.get("score")
        if got is None:
            group, result = "waiting", "waits for hand grading"
            shown = f"? / {float(points or 0):g}"
        else:
            shown = f"{float(got):g} / {float(points or 0):g}"
            if float(got) >= float(points or 0):
                group, result = "full", "&#10003; full points"
            else:
                group = "lost"
                why = _failure_lines(cell) if cell.cell_type == "code" else []
                result = "<br>".join(_escape(line) for line in why) or "points lost"
        link = f'<a href="#{html.escape(grade_id, quote=True)}">{_escape(grade_id)}</a>'
        groups[group].append(
            f"<tr><td>{link} ({_label(cell)})</td><td>{shown}</td>"
            f'<td style="white-space: pre-wrap; word-break: break-word">{result}</td></tr>'
        )
    total = (
        f"{float(score):g} / {float(max_score):g} points"
        if score is not None and max_score is not None
        else "score not available"
    )
    head = f"<p><b>Summary: {total}.</b> "
    lost = len(groups["lost"])
    head += (
        f"{lost} graded cell(s) lost points, listed first; each links to its cell.</p>"
        if lost
        else ("Every automatically graded cell has full points.</p>")
    )
    table = (
        '<table style="table-layout: fixed; width: 100%">'
        '<colgroup><col class="cell"><col class="points"><col></colgroup>'
        "<tr><th>cell</th><th>points</th><th>what happened, what to change</th></tr>"
        + "".join(groups["lost"] + groups["waiting"] + groups["full"])
        + "</table>"
    )
    return f'<div class="{SUMMARY_TAG}">\n{WRAP_STYLE}\n{head}\n{table}\n</div>'


class FeedbackSummary(NbGraderPreprocessor):
    """Insert the summary cell at the top of the notebook (after ``GetGrades``)."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        grading = resources.get("nbgrader", {})
        text = summary_html(nb, grading.get("score"), grading.get("max_score"))
        cell = new_markdown_cell(text)
        cell.metadata["tags"] = [SUMMARY_TAG]
        nb.cells.insert(0, cell)
        return nb, resources
