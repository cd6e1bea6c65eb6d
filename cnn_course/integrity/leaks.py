"""Check that student versions give nothing away.

A release must hold no solution code, no hidden test, no reference import and none of
the answers' values; nbgrader strips marked regions, and this confirms nothing slipped
around the markers (a solution typed outside them, an answer quoted in prose).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np

from cnn_solutions import answers

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
# Lines this short or generic ("return out") say nothing about the solution.
MIN_SOLUTION_LINE = 24


def _int_forms(value: int) -> list[str]:
    return [str(value), f"{value:,}", f"{value:_}"]


def answer_forms(value: object) -> tuple[list[str], bool]:
    """Textual forms of an answer's value, and whether to look for them with spaces removed."""
    if isinstance(value, tuple):
        return [str(value), str(list(value))], False
    if isinstance(value, int) and value >= 100:
        return _int_forms(value), False
    if isinstance(value, np.ndarray):
        integral = np.array_equal(value, np.round(value))
        forms = [_compact(value.tolist())]
        return forms + ([_compact(value.astype(int).tolist())] if integral else []), True
    # Small scalars (y = 11) are ordinary numbers in prose; the hidden tests check them.
    return [], False


def _compact(nested: list) -> str:
    return re.sub(r"\s+", "", str(nested))


def _cell_texts(notebook: nbformat.NotebookNode) -> Iterator[tuple[int, str]]:
    for index, cell in enumerate(notebook.cells):
        yield index, cell.source


def notebook_leaks(
    release: nbformat.NotebookNode, source: nbformat.NotebookNode | None
) -> list[str]:
    """Problems found in one release notebook (with its source, to spot copied solutions)."""
    problems = []
    text = "\n".join(cell.source for cell in release.cells)
    compact = re.sub(r"\s+", "", text)
    for index, cell_text in _cell_texts(release):
        for marker in MARKERS:
            if marker in cell_text:
                problems.append(f"cell {index} still contains '### {marker}'")
        if "cnn_solutions" in cell_text:
            problems.append(f"cell {index} mentions cnn_solutions, which students do not have")
    for name in answers.ANSWER_NAMES:
        forms, spaceless = answer_forms(getattr(answers, name))
        haystack = compact if spaceless else text
        if any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d.])", haystack) for f in forms):
            problems.append(f"the value of answer {name} appears in the release")
    if source is not None:
        solution_lines = {
            line.strip()
            for block in SOLUTION_BLOCK.findall("\n".join(c.source for c in source.cells))
            for line in block.splitlines()
            if len(line.strip()) >= MIN_SOLUTION_LINE and not line.strip().startswith("#")
        }
        release_lines = {line.strip() for line in text.splitlines()}
        for line in sorted(solution_lines & release_lines):
            problems.append(f"solution line leaked: {line!r}")
    return problems


def check_release_leaks(course_root: Path | str) -> list[str]:
    """Every leak in ``release/``, as ``path: problem`` lines; empty when clean."""
    root = Path(course_root)
    problems = []
    for path in sorted((root / "release").rglob("*")):
        if path.is_dir() or ".ipynb_checkpoints" in path.parts:
            continue
        relative = path.relative_to(root / "release")
        if path.suffix != ".ipynb":
            if "cnn_solutions" in path.read_text(errors="replace"):
                problems.append(f"{relative}: mentions cnn_solutions")
            continue
        source_path = root / "source" / relative
        source = nbformat.read(source_path, as_version=4) if source_path.exists() else None
        release = nbformat.read(path, as_version=4)
        problems += [f"{relative}: {p}" for p in notebook_leaks(release, source)]
    return problems
