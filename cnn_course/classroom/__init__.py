"""Simulated students: correct work in several styles, and typical mistakes.

The demo class and the grading tests both draw on these, so a style or a mistake is
written once. Each topic module (``filters``, ``output_size``, ``conv1x1``, ``backprop``)
defines ``CORRECT_STYLES`` (style -> contract name -> function or source) and
``MISTAKES`` (a list of :class:`StudentMistake`), written the way students really err.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType

import nbformat

from cnn_course.manifest import ASSIGNMENTS

Code = str | Callable[..., object]


@dataclass(frozen=True)
class StudentMistake:
    """A plausible bug in one contract function or answer.

    Parameters
    ----------
    function : str
        Contract name the buggy code replaces.
    label : str
        Short description, used in test ids and in the demo class list.
    code : str or callable
        The buggy implementation (renamed to ``function`` when placed in a notebook).
    expected_mistake : str
        The mistake name the feedback must contain.
    lost_cells : tuple of str
        Grade ids that must lose their points.
    """

    function: str
    label: str
    code: Code
    expected_mistake: str
    lost_cells: tuple[str, ...]


@dataclass(frozen=True)
class Work:
    """What one simulated student writes for one assignment: cell source per contract name."""

    assignment: str
    label: str
    code: Mapping[str, str] = field(default_factory=dict)


def function_source(fn: Callable[..., object], name: str | None = None) -> str:
    """Source of ``fn`` as a student would type it, its ``def`` renamed to ``name``."""
    source = textwrap.dedent(inspect.getsource(fn))
    if name is not None:
        source = re.sub(rf"\bdef {re.escape(fn.__name__)}\(", f"def {name}(", source, count=1)
    return source


def as_source(code: Code, name: str) -> str:
    return code if isinstance(code, str) else function_source(code, name)


def topic(assignment: str) -> ModuleType:
    """The classroom module of an assignment."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"cnn_course.classroom.{ASSIGNMENTS[assignment][0]}")


def styles(assignment: str) -> list[str]:
    return list(topic(assignment).CORRECT_STYLES)


def mistakes(assignment: str) -> list[StudentMistake]:
    return list(topic(assignment).MISTAKES)


def correct_work(assignment: str, style: str) -> Work:
    """A fully correct submission in one coding style."""
    chosen = topic(assignment).CORRECT_STYLES[style]
    return Work(assignment, style, {name: as_source(code, name) for name, code in chosen.items()})


def mistake_work(assignment: str, mistake: StudentMistake, base_style: str | None = None) -> Work:
    """Correct work except for one buggy function or answer."""
    base = correct_work(assignment, base_style or styles(assignment)[0])
    code = dict(base.code)
    code[mistake.function] = as_source(mistake.code, mistake.function)
    return Work(assignment, f"{mistake.function}: {mistake.label}", code)


def solution_cell_ids(name: str) -> tuple[str, str]:
    """Grade ids a contract name's solution cell may have: functions, then answers."""
    return name, f"{name}_answer"


def fill_notebook(
    notebook: nbformat.NotebookNode, code: Mapping[str, str]
) -> nbformat.NotebookNode:
    """Return a copy of a release notebook with the given solution cells written in.

    Cells for names not in ``code`` keep their stub, as a half-done student leaves them.
    """
    filled = copy.deepcopy(notebook)
    wanted = {grade_id: name for name in code for grade_id in solution_cell_ids(name)}
    placed = set()
    for cell in filled.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in wanted and cell.metadata["nbgrader"].get("solution"):
            cell.source = code[wanted[grade_id]]
            placed.add(wanted[grade_id])
    missing = set(code) - placed
    if missing:
        raise KeyError(f"no solution cell for {', '.join(sorted(missing))}")
    return filled


SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def source_solutions(source_notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The instructor's solutions, by contract name, as a student would have typed them."""
    solutions = {}
    for cell in source_notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            name = meta["grade_id"].removesuffix("_answer")
            solutions[name] = SOLUTION_MARKERS.sub("", cell.source)
    return solutions
