"""The report's HTML page: one self-contained file, with its CSS and plots inline."""

from __future__ import annotations

import base64
import datetime as dt
import html

from cnn_course.grading import MISTAKE_PREFIX
from cnn_course.grading.copying import MIN_MATCHES
from cnn_course.report.results import (
    FLAGS_FILE,
    PASS_RATES_PNG,
    REPORT_DIR,
    SCORES_PNG,
    CourseReport,
)
from cnn_course.report.tables import Table, report_tables

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 70em; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; font-size: 1.25em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.meta { color: #666; font-size: 0.9em; }
.summary { display: flex; gap: 1em; flex-wrap: wrap; margin: 1em 0; }
.summary div { background: #f3f5f8; border-radius: 6px; padding: 0.5em 1em; }
.summary b { display: block; font-size: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; max-width: 100%; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td.long { overflow-wrap: anywhere; }
@media (max-width: 700px) { body { margin: 0.5em auto; padding: 0 0.4em; }
  table { display: block; overflow-x: auto; } }
th { background: #f3f5f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.low td { background: #fff4f2; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #555; font-size: 0.9em; } .problem { color: #b00020; font-weight: bold; }
"""

# A table cell with a word longer than this may break inside its words (cell lists such
# as "01_filters/conv2d_multi_stride_padding,..."), so that the table fits the page.
LONG_WORD = 24
# Columns shown as percentages in the HTML page.
PERCENT_COLUMNS = {"pass_rate", "share", "mean_percent"}
# Cells passed by fewer than this share are highlighted.
LOW_PASS_RATE = 0.5


def _cell_html(column: str, value: object) -> str:
    if value is None:
        return '<td class="num">–</td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if column in PERCENT_COLUMNS and isinstance(value, float):
        return f'<td class="num">{100 * value:.0f}%</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:.2f}'.rstrip("0").rstrip(".") + "</td>"
    if isinstance(value, int):
        return f'<td class="num">{value}</td>'
    text = str(value)
    if any(len(word) > LONG_WORD for word in text.split()):  # may break inside its words
        return f'<td class="long">{html.escape(text)}</td>'
    return f"<td>{html.escape(text)}</td>"


def table_html(table: Table, empty: str, low_column: str | None = None) -> str:
    """An HTML table; rows whose ``low_column`` is under :data:`LOW_PASS_RATE` stand out."""
    header, rows = table
    if not rows:
        return f'<p class="note">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        value = row[header.index(low_column)] if low_column else None
        low = isinstance(value, float) and value < LOW_PASS_RATE
        cells = "".join(_cell_html(h, v) for h, v in zip(header, row, strict=True))
        body.append(f'<tr class="low">{cells}</tr>' if low else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _image_html(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _summary_html(report: CourseReport, tables: dict[str, Table]) -> str:
    graded = sum(s.graded for s in report.submissions)
    students = len({s.student for s in report.submissions})
    boxes = [
        ("students", students),
        ("assignments", len(report.assignments)),
        ("graded submissions", graded),
        ("waiting for hand grading", sum(s.pending_points > 0 for s in report.submissions)),
        ("grading problems", len(report.failures)),
        ("flagged", "–" if report.flags is None else len(report.flags)),
        ("suspected copying", len(tables["copying.csv"][1])),
    ]
    return (
        '<div class="summary">'
        + "".join(f"<div><b>{value}</b>{html.escape(label)}</div>" for label, value in boxes)
        + "</div>"
    )


def _flags_html(report: CourseReport, tables: dict[str, Table]) -> str:
    if report.flags_problem:
        return (
            f'<p class="problem">flags.json could not be read: '
            f"{html.escape(report.flags_problem)}</p>"
        )
    if report.flags is None:
        return (
            f'<p class="note">No {REPORT_DIR}/{FLAGS_FILE} in the course: nothing was flagged '
            "for review.</p>"
        )
    return table_html(tables["flags.csv"], "flags.json lists no submission.")


def _mistakes_html(tables: dict[str, Table], per_assignment: int = 15) -> str:
    header, rows = tables["mistakes.csv"]
    if not rows:
        return '<p class="note">No graded cell diagnosed a named mistake.</p>'
    parts = []
    for assignment in dict.fromkeys(row[0] for row in rows):
        mine = [row[1:] for row in rows if row[0] == assignment]
        parts.append(f"<h3>{html.escape(assignment)}</h3>")
        parts.append(table_html((header[1:], mine[:per_assignment]), ""))
        if len(mine) > per_assignment:
            parts.append(f'<p class="note">{len(mine) - per_assignment} more in mistakes.csv.</p>')
    return "".join(parts)


def render_html(report: CourseReport, images: dict[str, bytes], generated: dt.datetime) -> str:
    """The report page: CSS, tables and plots inline, so the file stands alone."""
    tables = report_tables(report)
    title = f"Course report: {report.course_id or report.root.name}"
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{html.escape(str(report.root))} · generated '
        f"{generated:%Y-%m-%d %H:%M %Z}</p>",
        _summary_html(report, tables),
        "<h2>What to do next</h2>",
        '<p class="note">Most urgent first: work that was not graded, cells that did not '
        "finish in graded work, flagged work, suspected copying, hand grading.</p>",
        table_html(tables["actions.csv"], "Nothing: every submission is graded and reviewed."),
        "<h2>Per student</h2>",
        '<p class="note">Points of graded submissions out of every assignment\'s maximum; '
        "<i>not_graded</i>: submitted but not graded (see the failures below); <i>lost</i>: "
        "automatically graded cells without full points; <i>notes</i>: flags and suspected "
        "copying.</p>",
        table_html(tables["students.csv"], "No student in the gradebook."),
        "<h2>Scores per assignment</h2>",
        '<p class="note">Graded submissions only; std is the sample standard deviation; '
        "<i>waiting</i>: submissions with hand-graded cells still to grade, whose scores so far "
        "leave those points out.</p>",
        table_html(tables["scores.csv"], "No assignment in the gradebook."),
        _image_html(images[SCORES_PNG], "score distribution per assignment"),
        "<h2>Pass rate per graded cell</h2>",
        '<p class="note">Share of graded students with full points; rows under '
        f"{LOW_PASS_RATE:.0%} are highlighted. <i>waiting</i>: hand-graded cells nobody has "
        "graded yet (pending, not counted as failures).</p>",
        table_html(tables["cells.csv"], "No graded cell yet.", low_column="pass_rate"),
        _image_html(images[PASS_RATES_PNG], "pass rate per graded cell"),
        "<h2>Most frequent diagnosed mistakes</h2>",
        f'<p class="note">Students whose output in a cell names the mistake '
        f"(<code>{html.escape(MISTAKE_PREFIX)} NAME.</code>); share of the cell's graded "
        "students.</p>",
        _mistakes_html(tables),
        "<h2>Flagged for review</h2>",
        _flags_html(report, tables),
        "<h2>Suspected copying</h2>",
        '<p class="note">Quiz work answering, of the questions whose answers differ between '
        "the two variants, at least "
        f"{MIN_MATCHES} as a classmate's (<i>source</i>) numbers want, and more than its own: "
        "a lead to look at, not a verdict. <i>telling</i>: such questions answered; "
        "<i>matches</i>: answered as the source's; <i>own</i>: as the student's own.</p>",
        table_html(tables["copying.csv"], "No quiz answers fit a classmate's variant."),
        "<h2>Grading failures and unfinished cells</h2>",
        table_html(tables["failures.csv"], "Every submitted notebook was graded."),
        f'<p class="note">The tables are also in CSV files next to this page: '
        f"{html.escape(', '.join(tables))}.</p>",
    ]
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
