"""An ``nbgrader export`` plugin that withholds the scores of submissions flagged for review.

``cnn-course grade`` withholds flagged scores in ``grades.csv`` itself. For a course that
exports with plain ``nbgrader export``, this plugin does the same::

    # nbgrader_config.py
    c.ExportApp.plugin_class = "cnn_course.integrity.export.ReviewedCsvExportPlugin"

It writes nbgrader's CSV, then marks every submission listed in
``<course>/reports/flags.json`` (written by :mod:`cnn_course.integrity`) as ``withheld``,
with the reason in a ``review`` column. The gradebook is not changed.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin

from cnn_course.integrity import read_withheld, withhold_scores


class ReviewedCsvExportPlugin(CsvExportPlugin):
    """nbgrader's CSV export, with flagged submissions' scores withheld."""

    def export(self, gradebook: Gradebook) -> None:
        """Write the CSV (``--to``, default ``grades.csv``), then withhold flagged scores."""
        super().export(gradebook)
        dest = Path(self.to or "grades.csv")
        root = Path(CourseDirectory(config=self.config).root)
        withheld = withhold_scores(dest, read_withheld(root))
        if withheld:
            self.log.warning("Scores of %d flagged submission(s) withheld in %s", withheld, dest)
