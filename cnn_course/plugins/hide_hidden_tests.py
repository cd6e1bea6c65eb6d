"""Feedback without the hidden tests' code (nbgrader issues #917 and #1363).

Autograde restores every test cell's full source from the gradebook, hidden tests
included, and ``nbgrader generate_feedback`` renders the notebook as it is. This
preprocessor runs in ``GenerateFeedback`` after ``GetGrades`` and removes what students
must not see, keeping what they learn from:

* in every autograder test cell, each ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN
  TESTS`` region becomes one placeholder comment; the visible asserts stay;
* in the outputs of every code cell, lines that quote hidden-test code are removed.
  IPython tracebacks show context lines around the failing line (a failing visible assert
  shows the hidden lines below it; a ``NameError`` in a hidden test shows that line), and
  Python's warnings print the line that warned;
* traceback frames inside the grading packages (``hidden_modules``) are removed whole, so
  an error raised inside the grader cannot show the grader's or the reference's code.

What stays: the scores ``GetGrades`` adds, what passing checks print, the diagnostic
message of a failed check (``GradingFailure`` renders as its report alone, without
source) and the student's own frames in tracebacks.

Register it in ``nbgrader_config.py`` (classes, not dotted names: nbgrader's converter
reads ``class_traits`` of each entry)::

    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades
    from cnn_course.plugins import HideHiddenTests

    c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

The delimiters are ``ClearHiddenTests``'s: this class inherits that section's config, so
a course that changes them once changes them for both (``ClearHiddenTests.enabled`` too).

Not covered: what student code itself prints while it is graded is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import List, Unicode

from cnn_course.course import strip_ansi

# IPython's context lines start with a gutter: "----> 4 code" or "      3 code".
GUTTER = re.compile(r"^\s*(?:-*>)?\s*\d+ ?")
# A traceback frame: IPython's "File /path/x.py:12, in f()", Python's 'File "x.py", line 12'.
FRAME_HEADER = re.compile(r"^\s*File\s")
# Python's warning format, "path:12: UserWarning: message", is followed by the source line.
WARNING_HEADER = re.compile(r":\d+: \w*(?:Warning|Error)\b")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class HideHiddenTests(ClearHiddenTests):
    """Remove hidden tests' code from feedback; keep their results and messages."""

    placeholder = Unicode(
        "# Hidden tests ran here. Their code is not shown; their messages are in the output.",
        help="Line that replaces each hidden-test region in a test cell ('' for none).",
    ).tag(config=True)

    note = Unicode(
        "[hidden test code not shown]",
        help="Line that replaces output lines quoting hidden-test or grader code.",
    ).tag(config=True)

    hidden_modules = List(
        Unicode(),
        default_value=["cnn_solutions", "cnn_course"],
        help=(
            "Top-level packages the hidden tests reach (the reference solutions, and the "
            "course tooling that holds the judge). Traceback frames in them are removed "
            "whole, and output lines naming them are removed."
        ),
    ).tag(config=True)

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Hide every hidden-test region, then redact all code cells' outputs.

        Parameters
        ----------
        nb : NotebookNode
            An autograded notebook (test cells hold their hidden tests again).
        resources : ResourcesDict
            nbconvert resources, passed through.

        Returns
        -------
        tuple of (NotebookNode, ResourcesDict)
            The notebook, changed in place, and the resources.
        """
        hidden: set[str] = set()
        # Regions first: a traceback in any cell may quote any test cell's hidden lines.
        for cell in nb.cells:
            if self._holds_hidden_tests(cell):
                cell.source, lines = self.hide_regions(cell.source)
                hidden.update(lines)
        for cell in nb.cells:
            if cell.cell_type == "code":
                for output in cell.get("outputs", []):
                    self._redact_output(output, hidden)
        return nb, resources

    @staticmethod
    def _holds_hidden_tests(cell: NotebookNode) -> bool:
        # Only autograder test cells may hold hidden tests (generate_assignment enforces
        # it), and only their source comes from the gradebook. A student's cell quoting
        # the delimiters is left alone rather than breaking feedback.
        return utils.is_grade(cell) and not utils.is_solution(cell)

    def hide_regions(self, source: str) -> tuple[str, set[str]]:
        """Replace each hidden-test region of ``source`` by the placeholder.

        Parameters
        ----------
        source : str
            A test cell's source.

        Returns
        -------
        tuple of (str, set of str)
            The new source, and the stripped non-blank lines removed (delimiters included).

        Raises
        ------
        RuntimeError
            For a nested or unterminated region: better no feedback than a leak.
        """
        kept: list[str] = []
        hidden: set[str] = set()
        inside = False
        for line in source.split("\n"):
            if self.begin_test_delimeter in line:
                if inside:
                    raise RuntimeError("Encountered nested begin hidden tests statements")
                inside = True
                if self.placeholder:
                    kept.append(line[: _indent(line)] + self.placeholder)
            elif self.end_test_delimeter in line:
                inside = False
            elif not inside:
                kept.append(line)
                continue
            hidden.add(line.strip())
        if inside:
            raise RuntimeError("No end hidden tests statement found")
        hidden.discard("")
        return "\n".join(kept), hidden

    def _redact_output(self, output: NotebookNode, hidden: set[str]) -> None:
        if output.get("output_type") == "stream":
            output.text = self.redact_text(output.text, hidden)
        elif output.get("output_type") == "error":
            output.evalue = self.redact_text(output.get("evalue", ""), hidden)
            output.traceback = self.redact_traceback(output.get("traceback", []), hidden)

    def redact_traceback(self, entries: Iterable[str], hidden: set[str]) -> list[str]:
        """An IPython traceback without frames in hidden modules or lines of hidden code.

        Parameters
        ----------
        entries : iterable of str
            ``output.traceback``: one string per frame (IPython), possibly coloured.
        hidden : set of str
            Stripped lines of hidden-test code.

        Returns
        -------
        list of str
            Untouched entries keep their colours; changed ones are plain text.
        """
        result: list[str] = []
        for entry in entries:
            plain = strip_ansi(entry)
            first = next((line for line in plain.split("\n") if line.strip()), "")
            if FRAME_HEADER.match(first) and self._names_hidden_module(first):
                if not result or result[-1] != self.note:
                    result.append(self.note)
                continue
            result.append(self.redact_text(entry, hidden))
        return result

    def redact_text(self, text: str, hidden: set[str]) -> str:
        """``text`` with lines of hidden code, and frames or warnings from hidden modules, removed.

        Parameters
        ----------
        text : str
            Output text (a stream, an exception message or one traceback entry).
        hidden : set of str
            Stripped lines of hidden-test code.

        Returns
        -------
        str
            The text; each run of removed lines is replaced by one ``note`` line.
        """
        out: list[str] = []
        skip_below: int | None = None  # indentation of a removed frame or warning header
        in_removed_run = changed = False
        for line in strip_ansi(text).split("\n"):
            if skip_below is not None and line.strip() and _indent(line) > skip_below:
                continue  # the source line (and carets) printed under a removed header
            skip_below = None
            if not self._is_hidden_line(line, hidden):
                out.append(line)
                in_removed_run = False
                continue
            changed = True
            if FRAME_HEADER.match(line) or WARNING_HEADER.search(line):
                skip_below = _indent(line)
            if not in_removed_run:
                out.append(line[: _indent(line)] + self.note)
                in_removed_run = True
        # Unchanged text keeps its colours.
        return "\n".join(out) if changed else text

    def _is_hidden_line(self, line: str, hidden: set[str]) -> bool:
        stripped = line.strip()
        if not stripped:
            return False
        code = GUTTER.sub("", line, count=1).strip()
        return stripped in hidden or code in hidden or self._names_hidden_module(line)

    def _names_hidden_module(self, line: str) -> bool:
        return any(
            re.search(rf"(?<![\w.]){re.escape(module)}(?!\w)", line)
            for module in self.hidden_modules
        )
