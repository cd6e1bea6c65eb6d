"""Write a course's report into a folder: the CSV tables, the PNG plots and the page.

:func:`build_report` reads the course and writes its report, as ``cnn-course report`` does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cnn_course.errors import CourseInputError
from cnn_course.report.page import render_html
from cnn_course.report.plots import pass_rate_plot, score_plot
from cnn_course.report.reading import collect_report
from cnn_course.report.results import (
    HTML_FILE,
    PASS_RATES_PNG,
    REPORT_DIR,
    SCORES_PNG,
    CourseReport,
)
from cnn_course.report.tables import report_tables, write_csv


@dataclass(frozen=True)
class ReportFiles:
    """Where a report was written."""

    html: Path
    csv: dict[str, Path]
    images: dict[str, Path]


def write_report(report: CourseReport, out_dir: Path) -> ReportFiles:
    """Write the HTML page, CSV files and PNG plots into ``out_dir`` (created if needed).

    Parameters
    ----------
    report : CourseReport
        What :func:`collect_report` read.
    out_dir : Path
        Output folder.

    Returns
    -------
    ReportFiles
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_paths = {}
    for name, table in report_tables(report).items():
        csv_paths[name] = out_dir / name
        write_csv(csv_paths[name], table)
    images = {SCORES_PNG: score_plot(report), PASS_RATES_PNG: pass_rate_plot(report)}
    image_paths = {}
    for name, png in images.items():
        image_paths[name] = out_dir / name
        image_paths[name].write_bytes(png)
    page = out_dir / HTML_FILE
    generated = dt.datetime.now(dt.UTC).astimezone()
    page.write_text(render_html(report, images, generated), encoding="utf-8")
    return ReportFiles(page, csv_paths, image_paths)


def build_report(
    root: Path | str, out_dir: Path | str | None = None, flags_path: Path | None = None
) -> tuple[CourseReport, ReportFiles]:
    """Read a course and write its report (what ``cnn-course report`` does).

    Parameters
    ----------
    root : Path or str
        The course directory.
    out_dir : Path, str or None
        Output folder; default ``<root>/reports``.
    flags_path : Path or None
        The flags file; default ``<root>/reports/flags.json``.

    Returns
    -------
    tuple of (CourseReport, ReportFiles)

    Raises
    ------
    CourseInputError
        See :func:`collect_report`; also if ``out_dir`` cannot be created.
    """
    report = collect_report(root, flags_path)
    out = Path(out_dir) if out_dir is not None else Path(root) / REPORT_DIR
    if out.exists() and not out.is_dir():
        raise CourseInputError(f"--out {str(out)!r} is a file, not a directory")
    try:
        files = write_report(report, out)
    except OSError as error:
        raise CourseInputError(f"cannot write the report to {str(out)!r}: {error}") from None
    return report, files
