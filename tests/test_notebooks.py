"""The instructor notebooks pass their own tests; the student versions run until the stubs."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.validator import Validator

from cnn_course.course import REPO_ROOT, CourseDir
from cnn_course.manifest import ASSIGNMENTS

ALL = list(ASSIGNMENTS)
RAISES = "raises-exception"  # the cell tag that lets Run All go on past its error


@pytest.mark.parametrize("assignment", ALL)
def test_source_notebook_passes_all_its_tests(generated_course: CourseDir, assignment: str) -> None:
    path = generated_course.root / "source" / assignment / ASSIGNMENTS[assignment][1]
    validator = Validator(config=generated_course.config)
    validator.validate_all = True
    result = validator.validate(str(path))
    assert set(result) <= {"passed"}, result


@pytest.mark.parametrize("assignment", ALL)
def test_release_notebook_runs_to_the_end_past_the_stubs(
    generated_course: CourseDir, assignment: str
) -> None:
    path = generated_course.root / "release" / assignment / ASSIGNMENTS[assignment][1]
    notebook = nbformat.read(path, as_version=4)
    # Without allow_errors nbclient stops at the first error of a cell that lacks the
    # raises-exception tag, as JupyterLab's Run All does: so this runs like Run All.
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "Run All stopped before the end"
    errors = [
        (cell.metadata.get("nbgrader", {}).get("grade_id"), out.ename, out.evalue)
        for cell in notebook.cells
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    ]
    assert errors, "the student version should fail its tests until the stubs are filled in"
    # An answer whose stub raised is then undefined: its check fails with NameError.
    unanswered = {
        cell.metadata["nbgrader"]["grade_id"].removesuffix("_answer")
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_answer")
    }
    unexpected = [
        error
        for error in errors
        if error[1] != "NotImplementedError"
        and not (error[1] == "NameError" and any(f"'{n}'" in error[2] for n in unanswered))
    ]
    assert not unexpected, unexpected
    assert any(ename == "NotImplementedError" for _, ename, _ in errors)
    stubs = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert all("NotImplementedError" in c.source or c.cell_type == "markdown" for c in stubs)


def test_release_holds_only_notebooks_students_need() -> None:
    for assignment, (_, notebook) in ASSIGNMENTS.items():
        folder = REPO_ROOT / "release" / assignment
        assert (folder / notebook).is_file(), f"{folder / notebook} missing: run cnn-course build"


@pytest.mark.parametrize("assignment", ALL)
def test_every_code_cell_lets_run_all_go_on(assignment: str) -> None:
    """A student's error in any cell (a bug, a stub, a failed test) must not stop Run All."""
    for folder in ("source", "release"):
        path = REPO_ROOT / folder / assignment / ASSIGNMENTS[assignment][1]
        cells = nbformat.read(path, as_version=4).cells
        untagged = [
            i
            for i, cell in enumerate(cells)
            if cell.cell_type == "code" and RAISES not in cell.metadata.get("tags", [])
        ]
        assert not untagged, f"{folder}/{assignment}: code cells {untagged} lack {RAISES!r}"


@pytest.mark.parametrize("assignment", ALL)
def test_each_passing_visible_test_prints_one_check_line(
    generated_course: CourseDir, assignment: str
) -> None:
    """With the solutions in, every cell runs cleanly and every visible test prints one
    "✓ name: ..." line."""
    path = generated_course.root / "source" / assignment / ASSIGNMENTS[assignment][1]
    notebook = nbformat.read(path, as_version=4)
    notebook, _ = ClearHiddenTests().preprocess(notebook, {})  # what a student's cells hold
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    # Every cell ran without an error: the pictures too (the tag would let one pass).
    failed = [
        (i, out.ename)
        for i, cell in enumerate(notebook.cells)
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    ]
    assert not failed, failed
    visible = [cell for cell in notebook.cells if visible_test(cell)]
    for cell in visible:
        grade_id = cell.metadata.nbgrader.grade_id
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        lines = [line for line in printed.splitlines() if line.startswith("✓ ")]
        assert len(lines) == 1, f"{grade_id}: printed {printed!r}"
        # It names what it checked: the function (or the answer) the cell is about.
        name = lines[0].removeprefix("✓ ").split()[0].rstrip(":")
        assert grade_id.startswith(name + "_"), f"{grade_id}: {lines[0]!r} names {name!r}"
    assert visible, "no visible tests found"


def visible_test(cell: nbformat.NotebookNode) -> bool:
    """A grade cell with code left once its hidden tests are cleared: asserts a student sees."""
    graded = cell.metadata.get("nbgrader", {}).get("grade", False)
    return graded and cell.cell_type == "code" and bool(cell.source.strip())
