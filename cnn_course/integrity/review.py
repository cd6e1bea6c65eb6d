"""Review one submission: its locked cells, its code and its files, as findings.

A :class:`Review` holds the :class:`Finding` list of one student's submission of one
assignment: locked cells edited or deleted (:func:`locked_cell_findings`), the static scan
of the student's own code (:func:`code_findings`), and files that notebook code could
import instead of the real module (:func:`file_findings`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from cnn_course.integrity.scan import import_aliases, scan_code

SOURCE_TAG = "cnn_course.integrity"  # marks the flags this module owns in flags.json
MAX_REASONS = 3  # findings spelled out in a flag's one-line reason; all are in "findings"


@dataclass(frozen=True)
class Finding:
    """One thing found in one place of one submission.

    ``withhold``: tampering, the score is withheld; else a note, the score stands.
    """

    where: str
    what: str
    withhold: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


# --- one submission --------------------------------------------------------------------


@dataclass
class Review:
    """What was found in one student's submission of one assignment."""

    student: str
    assignment: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.findings)

    @property
    def withheld(self) -> bool:
        return any(f.withhold for f in self.findings)

    def reason(self) -> str:
        """One line: what happens to the score, then the first findings (tampering first)."""
        ordered = sorted(self.findings, key=lambda f: not f.withhold)
        texts = list(dict.fromkeys(str(f) for f in ordered))
        more = len(texts) - MAX_REASONS
        head = (
            "score withheld until you look: "
            if self.withheld
            else "score stands (the grader undid this, so it gained nothing): "
        )
        return head + "; ".join(texts[:MAX_REASONS]) + (f"; and {more} more" if more > 0 else "")

    def as_flag(self) -> dict[str, object]:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "reason": self.reason(),
            "withheld": self.withheld,
            "findings": [str(f) for f in self.findings],
            "source": SOURCE_TAG,
        }


@dataclass(frozen=True)
class SourceCell:
    """A cell as the gradebook knows it."""

    name: str
    source: str  # the student's version: hidden tests removed
    locked: bool
    cell_type: str
    points: float | None


def _student_version(source: str) -> str:
    from nbformat.v4 import new_code_cell
    from nbgrader.preprocessors import ClearHiddenTests

    cell = new_code_cell(source)
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source


def gradebook_cells(gb: Gradebook, notebook: str, assignment: str) -> dict[str, SourceCell]:
    """The gradebook's cells of one notebook, by grade id, as released to students."""
    nb = gb.find_notebook(notebook, assignment)
    points = {cell.name: float(cell.max_score) for cell in nb.grade_cells}
    return {
        cell.name: SourceCell(
            cell.name,
            _student_version(cell.source) if cell.cell_type == "code" else cell.source,
            bool(cell.locked),
            cell.cell_type,
            points.get(cell.name),
        )
        for cell in nb.source_cells
    }


def _normalized(source: str) -> str:
    lines = source.replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _cell_label(index: int, cell: nbformat.NotebookNode) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")


def locked_cell_findings(
    nb: nbformat.NotebookNode, cells: dict[str, SourceCell], notebook: str
) -> list[Finding]:
    """Locked cells edited, re-flagged or deleted (nbgrader restores them before grading)."""
    found = []
    seen = set()
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        original = cells.get(meta.get("grade_id", ""))
        if original is None or not original.locked or original.name in seen:
            continue
        seen.add(original.name)
        where = f"{notebook}.ipynb {_cell_label(index, cell)}"
        if _normalized(cell.source) != _normalized(original.source):
            found.append(Finding(where, RESTORED_EDIT, withhold=False))
        changed = _changed_metadata(cell, meta, original)
        if changed:
            found.append(Finding(where, f"nbgrader metadata changed ({changed})", False))
    for name, original in cells.items():
        if original.locked and original.points is not None and name not in seen:
            what = f"test cell {name} deleted (nbgrader put it back)"
            found.append(Finding(f"{notebook}.ipynb", what, withhold=False))
    return found


RESTORED_EDIT = "locked cell edited; nbgrader graded the original from the gradebook"


def _changed_metadata(cell: nbformat.NotebookNode, meta: dict, original: SourceCell) -> str:
    changes = []
    if cell.cell_type != original.cell_type:
        changes.append(f"cell type {cell.cell_type}")
    if not meta.get("locked", False):
        changes.append("unlocked")
    if original.points is not None and float(meta.get("points") or 0) != original.points:
        changes.append(f"points {meta.get('points')} instead of {original.points:g}")
    if original.points is not None and not meta.get("grade", False):
        changes.append("no longer graded")
    return ", ".join(changes)


def student_cells(
    nb: nbformat.NotebookNode, cells: dict[str, SourceCell]
) -> Iterator[tuple[int, nbformat.NotebookNode]]:
    """Code cells nbgrader runs as the student left them: all but the restored locked ones."""
    seen = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        original = cells.get(grade_id)
        if original is not None and original.locked and grade_id not in seen:
            seen.add(grade_id)
            continue
        yield index, cell


def code_findings(
    nb: nbformat.NotebookNode, cells: dict[str, SourceCell], notebook: str
) -> list[Finding]:
    """The static scan of every student-editable code cell."""
    aliases = import_aliases(c.source for c in nb.cells if c.cell_type == "code")
    found = []
    for index, cell in student_cells(nb, cells):
        for line, what in scan_code(cell.source, aliases):
            where = f"{notebook}.ipynb {_cell_label(index, cell)}, line {line}"
            found.append(Finding(where, what))
    return found


# Modules a file in the submission must never stand in for: the grader, and the kernel's
# own machinery (the grading kernel can import from the notebook's folder). Other module
# names (numpy.py, test.py) are usually accidents, reported as notes.
GRADER_MODULES = {
    "cnn_probe",
    "cnn_solutions",
    "cnn_course",
    "ipykernel",
    "IPython",
    "jupyter_client",
    "jupyter_core",
    "zmq",
    "traitlets",
    "tornado",
    "comm",
    "debugpy",
    "nbformat",
    "nbgrader",
}


def _module_names() -> set[str]:
    names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    names |= {
        "cnn_probe",
        "cnn_solutions",
        "cnn_course",
        "quiz_variant",
        "numpy",
        "matplotlib",
        "IPython",
    }
    names |= {"ipykernel", "scipy", "nbgrader", "traitlets", "zmq", "jupyter_client"}
    return names


def file_findings(submitted: Path, release: Path, source: Path) -> list[Finding]:
    """Files in the submission that notebook code could import, or that hide code."""
    shipped = {p.relative_to(release) for p in release.rglob("*") if p.is_file()}
    restored = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    modules = _module_names()
    found = []
    for path in sorted(p for p in submitted.rglob("*") if p.is_file()):
        relative = path.relative_to(submitted)
        if relative in restored or path.suffix == ".ipynb" or relative.name == "timestamp.txt":
            continue
        if ".ipynb_checkpoints" in relative.parts:
            continue
        found += _one_file(path, relative, relative in shipped, modules)
    return found


def _one_file(path: Path, relative: Path, shipped: bool, modules: set[str]) -> list[Finding]:
    where = f"file {relative.as_posix()}"
    top = relative.parts[0].removesuffix(".py")
    if path.suffix in (".pyc", ".pyo", ".pth", ".so", ".pyd") or "__pycache__" in relative.parts:
        return [Finding(where, "compiled code, which cannot be reviewed", withhold=False)]
    if path.suffix != ".py" or shipped:
        return []
    found = []
    if top in GRADER_MODULES:
        found.append(Finding(where, f"a fake {top}: would replace the grader's or kernel's own"))
    elif top in modules or top.startswith(("sitecustom", "usercustom")):
        what = f"named like the module {top} (the grading kernel does not import it from here)"
        found.append(Finding(where, what, withhold=False))
    text = path.read_text(encoding="utf-8", errors="replace")
    found += [Finding(f"{where}, line {line}", what) for line, what in scan_code(text)]
    return found
