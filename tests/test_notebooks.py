"""The instructor notebooks pass their own tests; the student versions run until the stubs."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.validator import Validator

from cnn_course.classroom import ASSIGNMENTS
from cnn_course.course import REPO_ROOT, CourseDir

ALL = list(ASSIGNMENTS)


@pytest.mark.parametrize("assignment", ALL)
def test_source_notebook_passes_all_its_tests(generated_course: CourseDir, assignment: str) -> None:
    path = generated_course.root / "source" / assignment / ASSIGNMENTS[assignment][1]
    validator = Validator(config=generated_course.config)
    validator.validate_all = True
    result = validator.validate(str(path))
    assert set(result) <= {"passed"}, result


@pytest.mark.parametrize("assignment", ALL)
def test_release_notebook_runs_until_the_stubs(
    generated_course: CourseDir, assignment: str
) -> None:
    path = generated_course.root / "release" / assignment / ASSIGNMENTS[assignment][1]
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
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
