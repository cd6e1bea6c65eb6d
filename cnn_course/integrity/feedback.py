"""Check generated feedback for hidden-test code, as :mod:`cnn_course.integrity.leaks`
checks releases.

:class:`~cnn_course.plugins.HideHiddenTests` keeps hidden tests out of feedback.
This module confirms it on the HTML students receive: it takes every hidden line from the
gradebook (where ``generate_assignment`` saved the test cells' full source) and looks for
it in the text a browser would show. Run it after ``generate_feedback`` and before
``release_feedback``.
"""

from __future__ import annotations

import glob
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory

from cnn_course.course import course_directory
from cnn_course.plugins import HideHiddenTests

# Shorter hidden lines (")", "x = 1") occur in ordinary text; they reveal nothing alone.
MIN_LEAK_CHARS = 12
_SPACES = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    """Collects the text a browser renders: no tags, no style or script contents."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._hidden_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def html_text(page: str) -> str:
    """The visible text of an HTML page, entities decoded, syntax-highlighting spans joined.

    Parameters
    ----------
    page : str
        An HTML document, such as nbgrader's feedback.

    Returns
    -------
    str
        Its text, with line breaks as in the page's ``<pre>`` blocks.
    """
    parser = _TextExtractor()
    parser.feed(page)
    parser.close()
    return html.unescape("".join(parser.parts))


@dataclass(frozen=True)
class FeedbackLeak:
    """A hidden-test line found in a feedback page."""

    path: Path
    line: str

    def __str__(self) -> str:
        return f"{self.path}: {self.line}"


def hidden_lines(coursedir: CourseDirectory) -> dict[tuple[str, str], set[str]]:
    """Every hidden-test line of every notebook, from the gradebook.

    Parameters
    ----------
    coursedir : CourseDirectory
        The course (its ``db_url`` and ``course_id`` are used).

    Returns
    -------
    dict of (assignment, notebook) to set of str
        Stripped, non-blank lines inside hidden-test regions, delimiters included.
    """
    hider = HideHiddenTests()
    found: dict[tuple[str, str], set[str]] = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for assignment in gb.assignments:
            for notebook in assignment.notebooks:
                lines: set[str] = set()
                for cell in notebook.source_cells:
                    lines |= hider.hide_regions(cell.source or "")[1]
                found[(assignment.name, notebook.name)] = lines
    return found


def feedback_leaks(
    root: Path | str, min_chars: int = MIN_LEAK_CHARS, **config_overrides: object
) -> list[FeedbackLeak]:
    """Hidden-test lines, and names of the hidden modules, visible in generated feedback.

    Parameters
    ----------
    root : Path or str
        Course directory whose ``feedback/`` was made by ``generate_feedback``.
    min_chars : int
        Hidden lines shorter than this are not searched for (too generic to reveal anything).
    **config_overrides
        ``"Section.name": value`` settings, e.g. another ``CourseDirectory.feedback_directory``.

    Returns
    -------
    list of FeedbackLeak
        Empty when no feedback page shows hidden-test code.
    """
    coursedir = course_directory(root, **config_overrides)
    modules = HideHiddenTests().hidden_modules
    leaks = []
    for (assignment, notebook), lines in sorted(hidden_lines(coursedir).items()):
        wanted = sorted(line for line in lines if len(line) >= min_chars) + list(modules)
        pattern = coursedir.format_path(coursedir.feedback_directory, "*", assignment)
        for page in sorted(glob.glob(str(Path(pattern) / f"{notebook}.html"))):
            text = html_text(Path(page).read_text(encoding="utf-8"))
            leaks += [FeedbackLeak(Path(page), line) for line in wanted if _shows(text, line)]
    return leaks


def _shows(text: str, line: str) -> bool:
    # The highlighter may split or collapse spaces; compare with runs of space as one.
    return _SPACES.sub(" ", line) in _SPACES.sub(" ", text)
