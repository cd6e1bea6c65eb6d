"""Character budgets for each code cell's output, after nbgrader's line limit.

nbgrader's ``LimitOutput`` counts lines, so one enormous line (``print("x" * 10**7)``), a
huge value shown as a cell's result or a giant error message passes it whole, into the
graded notebook and the student's feedback page. This preprocessor
runs in ``Autograde`` right after ``LimitOutput`` and gives each code cell two budgets:

* ``max_chars`` of text: stream text, a result's ``text/plain``, an error's message and
  traceback. Text is cut where the budget runs out, with :data:`TRUNCATED` appended, and
  outputs after that are dropped, except errors: an error output is what makes a test
  cell fail, so it always stays (cut to a short head).
* ``max_data_chars`` of every other format (a plot's base64 PNG, an HTML table). A format
  that does not fit is dropped whole, since half an image shows nothing; a result left
  with no format at all gets the note alone, or once the text is spent, goes.

Grades do not change: ``SaveAutoGrades`` looks at whether a cell has an error output,
never at its text.

Registered by :func:`cnn_course.plugins.autograde_preprocessors`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

TRUNCATED = "... Output truncated (too many characters) ..."
# What an error keeps once the cell's text budget is spent: enough for its first line.
ERROR_MINIMUM_CHARS = 500


class LimitOutputSize(NbGraderPreprocessor):
    """Cut each code cell's output to a text budget and a budget for other formats."""

    max_chars = Integer(
        50_000,
        help=(
            "Characters of text output a code cell keeps in the graded notebook: streams, "
            "plain-text results, errors (-1: no limit). The default keeps 200 lines of 250 "
            "characters, and the grading engine's reports (a few thousand characters) whole."
        ),
    ).tag(config=True)

    max_data_chars = Integer(
        3_000_000,
        help=(
            "Characters of other output formats a code cell keeps (images as base64, HTML; "
            "-1: no limit); a format that does not fit is dropped whole. The course's own "
            "plots take 0.3 million each."
        ),
    ).tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type == "code":
            budget = Budget(_limit(self.max_chars), _limit(self.max_data_chars))
            cell.outputs = [out for out in cell.outputs if budget.fit(out)]
        return cell, resources


def _limit(value: int) -> float:
    return math.inf if value < 0 else value


@dataclass
class Budget:
    """Characters a cell's outputs may still use."""

    text: float
    data: float

    def fit(self, output: NotebookNode) -> bool:
        """Cut ``output`` in place to what is left; False: drop it."""
        kind = output.output_type
        if kind == "error":
            self.text -= _cut_error(output, max(self.text, ERROR_MINIMUM_CHARS))
            return True
        if kind in ("execute_result", "display_data"):
            return self._fit_data(output)
        if self.text <= 0:  # a stream, the only other kind
            return False
        output.text, used = _cut_text(output.text, self.text)
        self.text -= used
        return True

    def _fit_data(self, output: NotebookNode) -> bool:
        """A result keeps the formats that fit; once the text is spent, only a plot may."""
        spent = self.text <= 0
        for mime, value in list(output.data.items()):
            if mime == "text/plain":
                if spent:
                    del output.data[mime]
                else:
                    output.data[mime], used = _cut_text(value, self.text)
                    self.text -= used
                continue
            size = len(value) if isinstance(value, str) else len(json.dumps(value))
            if size <= self.data:
                self.data -= size
            else:
                del output.data[mime]
        if not output.data and not spent:
            output.data["text/plain"] = TRUNCATED
            self.text -= len(TRUNCATED)
        return bool(output.data)


def _cut_error(output: NotebookNode, budget: float) -> int:
    """Cut an error's message and traceback to ``budget``; returns the characters kept."""
    output.evalue, used = _cut_text(output.evalue, budget)
    lines = []
    for line in output.traceback:
        kept, size = _cut_text(line, budget - used)
        lines.append(kept)
        used += size
        if kept != line:  # this line's head and the note; the rest goes
            break
    output.traceback = lines
    return used


def _cut_text(text: str | list[str], budget: float) -> tuple[str, int]:
    """``text`` (a string, or nbformat's list of lines) cut to ``budget`` characters."""
    text = "".join(text) if isinstance(text, list) else text
    if len(text) <= budget:
        return text, len(text)
    cut = text[: max(int(budget), 0)] + "\n" + TRUNCATED + "\n"
    return cut, len(cut)
