"""The instructor's report: scores, pass rates, diagnosed mistakes, flags and failures.

``cnn-course report [--course DIR] [--out DIR]`` (or :func:`build_report` from Python)
writes into ``<course>/reports/`` by default:

``report.html``
    One self-contained page (CSS and plots embedded) with every table below.
``scores.csv``
    Per assignment: maximum score, number of graded submissions ``n``, and the mean,
    sample standard deviation, minimum and maximum of their scores; ``waiting``: how many
    of them still have cells to grade by hand (their scores so far leave those points out).
``cells.csv``
    Per assignment and graded cell: ``n`` graded, ``full`` (students with full points),
    ``pass_rate = full / n``, the mean score and ``waiting`` (submissions whose cell no
    human has graded yet: pending, not failed, and not in ``n``).
``mistakes.csv``
    Per assignment, cell and mistake: how many students' outputs name it
    (``Likely mistake: NAME. advice``), that count as a share of ``n``, and who they are.
``students.csv``
    Per student (:mod:`cnn_course.report.student_table`): points of the graded submissions out of
    every assignment's maximum, what was not graded, points waiting for hand grading, the
    cells that lost points, the mistakes named, flags and suspected copying.
``submissions.csv``
    Per assignment and student: score, maximum, whether it was graded, and the
    ``pending_points`` still waiting for hand grading.
``flags.csv``, ``failures.csv``
    Submissions flagged for review, and notebooks that could not be graded.
``actions.csv``
    What to do next (:mod:`cnn_course.report.actions`), most urgent first: each submission not
    graded, cell that did not finish, flag and suspected copying, and hand grading per
    assignment, with what to run or open.
``copying.csv``
    Quiz work whose answers fit a classmate's variant better than the student's own
    (:mod:`cnn_course.grading.copying`): the classmate (``source``), the questions whose answers
    differ between the two variants (``telling``), and how many of them the work answers as
    the classmate's (``matches``) and as its own (``own``) numbers want.
``scores.png``, ``pass_rates.png``
    The score distribution per assignment, and the pass rate per graded cell.

Everything is read from the gradebook (``nbgrader.api.Gradebook``) and from the autograded
notebooks; nothing from logs. Statistics cover graded submissions only: a submission whose
notebook could not be graded is listed under failures instead of counting as 0, with the
cause found in the submitted files (no notebook, a wrong name, invalid JSON, copied cells)
or else the one ``cnn-course grade`` recorded in ``<course>/reports/autograde_failures.json``
(e.g. the kernel died). Cells that ran out of time (nbgrader's cell timeout, or the
grading engine's per-call limit) and kernels that died are listed too.

Flags are an input written by other tooling: ``<course>/reports/flags.json``, a JSON list of
objects ``{"student": str, "assignment": str, "reason": str}`` (other keys are ignored).
The report shows them when the file exists.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnn_course.report.page import (
    CSS,
    LONG_WORD,
    LOW_PASS_RATE,
    PERCENT_COLUMNS,
    render_html,
    table_html,
)
from cnn_course.report.plots import (
    ASSIGNMENT_COLOURS,
    LABEL_UNITS_PER_CHAR,
    pass_rate_figure,
    pass_rate_plot,
    score_plot,
)
from cnn_course.report.reading import collect_report, diagnosed_mistakes, read_flags
from cnn_course.report.results import (
    FLAGS_FILE,
    FULL_POINTS_SLACK,
    HTML_FILE,
    PASS_RATES_PNG,
    REPORT_DIR,
    SCORES_PNG,
    CellPassRate,
    CellResult,
    CourseReport,
    Flag,
    GradingProblem,
    MistakeCount,
    ScoreSummary,
    SubmissionResult,
)
from cnn_course.report.tables import Table, report_tables, write_csv
from cnn_course.report.writing import ReportFiles, build_report, write_report

__all__ = [
    "ASSIGNMENT_COLOURS",
    "CSS",
    "FLAGS_FILE",
    "FULL_POINTS_SLACK",
    "HTML_FILE",
    "LABEL_UNITS_PER_CHAR",
    "LONG_WORD",
    "LOW_PASS_RATE",
    "PASS_RATES_PNG",
    "PERCENT_COLUMNS",
    "REPORT_DIR",
    "SCORES_PNG",
    "CellPassRate",
    "CellResult",
    "CourseReport",
    "Flag",
    "GradingProblem",
    "MistakeCount",
    "ReportFiles",
    "ScoreSummary",
    "SubmissionResult",
    "Table",
    "build_report",
    "collect_report",
    "diagnosed_mistakes",
    "pass_rate_figure",
    "pass_rate_plot",
    "read_flags",
    "register",
    "render_html",
    "report_tables",
    "run",
    "score_plot",
    "summary_lines",
    "table_html",
    "write_csv",
    "write_report",
]

# --- command line --------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "report",
        help="write the instructor's report: scores, pass rates, mistakes, flags, failures",
        description="Read the gradebook and the autograded notebooks and write report.html "
        "(self-contained) with CSV files and PNG plots: score statistics per assignment, the "
        "pass rate of every graded cell, the most frequent diagnosed mistakes, submissions "
        f"flagged for review (from <course>/{REPORT_DIR}/{FLAGS_FILE}) and notebooks that "
        "could not be graded.",
        epilog="Exit codes: 0 report written; 1 report written, but flags.json could not be "
        "read; 2 usage or input error (no course, no gradebook, nothing submitted).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"folder for the report (default: <course>/{REPORT_DIR})",
    )
    parser.set_defaults(func=run)


def summary_lines(report: CourseReport, files: ReportFiles) -> list[str]:
    """A few lines for the terminal: where the report is and the headline numbers."""
    lines = [f"Report: {files.html}"]
    for s in report.scores():
        if s.n:
            spread = f", sd {s.std:.2f}" if s.std is not None else ""
            waiting = f"; {s.waiting} wait for hand grading" if s.waiting else ""
            lines.append(
                f"  {s.assignment}: {s.n} graded, mean {s.mean:.2f} / {s.max_score:g}{spread}"
                f"{waiting}"
            )
        else:
            lines.append(f"  {s.assignment}: nothing graded")
    flagged = "no flags.json" if report.flags is None else f"{len(report.flags)} flagged"
    lines.append(f"  {len(report.failures)} grading problem(s), {flagged}")
    lines += [f"  {suspicion.line}" for suspicion in report.copying()]
    lines.append(f"CSV and PNG files in {files.html.parent}")
    return lines


def run(args: argparse.Namespace) -> int:
    """``cnn-course report``: 0 written, 1 written but flags.json unreadable, 2 input error."""
    report, files = build_report(Path(getattr(args, "course", ".")), args.out)
    print("\n".join(summary_lines(report, files)))
    if report.flags_problem:
        print(f"cnn-course report: problem: {report.flags_problem}", file=sys.stderr)
        return 1
    return 0
