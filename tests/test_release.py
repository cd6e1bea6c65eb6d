"""release/ is nbgrader's output for source/, committed in sync, and gives nothing away."""

from __future__ import annotations

import json

import nbformat
import pytest

from cnn_course.course import REPO_ROOT, CourseDir
from cnn_course.integrity.leaks import check_release_leaks, notebook_leaks
from cnn_course.manifest import ASSIGNMENTS
from cnn_solutions import answers

ALL = list(ASSIGNMENTS)


def _normalised(path) -> dict:
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        cell.pop("execution_count", None)
        cell.pop("outputs", None)
    return notebook


@pytest.mark.parametrize("assignment", ALL)
def test_every_assignment_has_a_source_notebook(assignment: str) -> None:
    assert (REPO_ROOT / "source" / assignment / ASSIGNMENTS[assignment][1]).is_file()


@pytest.mark.parametrize("assignment", ALL)
def test_committed_release_matches_regenerated(
    generated_course: CourseDir, assignment: str
) -> None:
    committed_dir = REPO_ROOT / "release" / assignment
    fresh_dir = generated_course.root / "release" / assignment
    committed = sorted(
        p.relative_to(committed_dir) for p in committed_dir.rglob("*") if p.is_file()
    )
    fresh = sorted(p.relative_to(fresh_dir) for p in fresh_dir.rglob("*") if p.is_file())
    assert committed == fresh, "release/ files differ from what generate_assignment writes"
    for relative in fresh:
        if relative.suffix == ".ipynb":
            assert _normalised(committed_dir / relative) == _normalised(fresh_dir / relative), (
                f"release/{assignment}/{relative} is stale: regenerate it with "
                f"`nbgrader generate_assignment {assignment} --force`"
            )
        else:
            assert (committed_dir / relative).read_bytes() == (fresh_dir / relative).read_bytes()


def test_committed_release_has_no_leaks() -> None:
    assert check_release_leaks(REPO_ROOT) == []


def test_source_notebooks_are_committed_without_outputs() -> None:
    for path in sorted((REPO_ROOT / "source").rglob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path} has outputs"


# The leak check itself must catch what it promises to catch.


def _release_with(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("### BEGIN HIDDEN TESTS\ncheck()\n", "BEGIN HIDDEN TESTS"),
        ("from cnn_solutions import conv2d", "cnn_solutions"),
        (f"# the answer is {answers.dense1_param_count:,}", "dense1_param_count"),
        (f"expected = {answers.conv_out_shape}", "conv_out_shape"),
        (f"y = np.array({answers.example_output.astype(int).tolist()})", "example_output"),
    ],
)
def test_leak_check_catches(text: str, what: str) -> None:
    problems = notebook_leaks(_release_with(text), None)
    assert any(what in p for p in problems), problems


def test_leak_check_catches_solution_lines_outside_markers() -> None:
    line = "    return np.pad(image, [(pad, pad), (pad, pad)])"
    source = _release_with(
        f"def f(image, pad):\n    ### BEGIN SOLUTION\n{line}\n    ### END SOLUTION"
    )
    assert any("solution line leaked" in p for p in notebook_leaks(_release_with(line), source))
    assert (
        notebook_leaks(_release_with("def f(image, pad):\n    raise NotImplementedError()"), source)
        == []
    )
