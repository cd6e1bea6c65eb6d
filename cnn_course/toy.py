"""A tiny nbgrader course for testing and benchmarking the grading machinery.

The toy assignment has one notebook with a solution cell, a visible test cell and a
graded cell with hidden tests, so it exercises everything autograding does (restoring
hidden tests from the gradebook, executing, scoring) while running in well under a
second per notebook. Tests and ``benchmarks/bench_grading.py --toy`` build it in a
scratch directory; it never touches the real course.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

TOY_ASSIGNMENT = "toy"
TOY_NOTEBOOK = "squares"
TOY_COURSE_ID = "toy-course"

SOLUTION_ID = "square"
VISIBLE_TEST_ID = "test_square_visible"
HIDDEN_TEST_ID = "test_square_hidden"

_SOLUTION_SOURCE = """def square(x):
    \"\"\"Return x squared.\"\"\"
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION"""

_VISIBLE_TEST_SOURCE = "assert square(3) == 9"

_HIDDEN_TEST_SOURCE = """assert square(2) == 4
### BEGIN HIDDEN TESTS
assert square(-4) == 16
assert square(0.5) == 0.25
### END HIDDEN TESTS"""

# What a student's solution cell holds, per kind of submission. ``blank`` keeps the
# released stub; ``broken`` is not a notebook at all (invalid JSON).
STUDENT_SOLUTIONS: dict[str, str | None] = {
    "correct": "def square(x):\n    return x ** 2",
    "wrong": "def square(x):\n    return x + x",
    "hidden_fail": "def square(x):\n    return x * abs(x)",
    "blank": None,
    "broken": None,
}

# Points: visible test 1, hidden test 2. Expected auto scores per kind, for tests.
EXPECTED_SCORES: dict[str, dict[str, float]] = {
    "correct": {VISIBLE_TEST_ID: 1.0, HIDDEN_TEST_ID: 2.0},
    "wrong": {VISIBLE_TEST_ID: 0.0, HIDDEN_TEST_ID: 0.0},
    "hidden_fail": {VISIBLE_TEST_ID: 1.0, HIDDEN_TEST_ID: 0.0},
    "blank": {VISIBLE_TEST_ID: 0.0, HIDDEN_TEST_ID: 0.0},
}

_CONFIG_TEMPLATE = """c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
"""


def _nbgrader_meta(grade_id: str, *, grade: bool, solution: bool, points: float = 0) -> dict:
    """Return nbgrader schema-3 cell metadata for a source notebook cell."""
    meta = {
        "schema_version": 3,
        "grade": grade,
        "solution": solution,
        "locked": not solution,
        "grade_id": grade_id,
    }
    if grade:
        meta["points"] = points
    return meta


def toy_source_notebook() -> nbformat.NotebookNode:
    """Build the instructor version of the toy notebook.

    Returns
    -------
    nbformat.NotebookNode
        A v4 notebook: a markdown prompt, a solution cell, a visible test cell worth
        1 point and a test cell with hidden tests worth 2 points.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cells = [
        nbformat.v4.new_markdown_cell("Write `square(x)`, returning `x` squared."),
        nbformat.v4.new_code_cell(_SOLUTION_SOURCE),
        nbformat.v4.new_code_cell(_VISIBLE_TEST_SOURCE),
        nbformat.v4.new_code_cell(_HIDDEN_TEST_SOURCE),
    ]
    cells[1].metadata["nbgrader"] = _nbgrader_meta(SOLUTION_ID, grade=False, solution=True)
    cells[2].metadata["nbgrader"] = _nbgrader_meta(
        VISIBLE_TEST_ID, grade=True, solution=False, points=1
    )
    cells[3].metadata["nbgrader"] = _nbgrader_meta(
        HIDDEN_TEST_ID, grade=True, solution=False, points=2
    )
    nb.cells = cells
    return nb


def write_toy_course(root: Path, course_id: str = TOY_COURSE_ID) -> Path:
    """Create the toy course's source tree and ``nbgrader_config.py`` under ``root``.

    Parameters
    ----------
    root : Path
        Course directory to create (it may exist; existing files are overwritten).
    course_id : str
        ``CourseDirectory.course_id`` written to the course's config.

    Returns
    -------
    Path
        The course root.
    """
    root = Path(root)
    source = root / "source" / TOY_ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    nbformat.write(toy_source_notebook(), source / f"{TOY_NOTEBOOK}.ipynb")
    (root / "nbgrader_config.py").write_text(_CONFIG_TEMPLATE.format(course_id=course_id))
    return root


def student_notebook(release_nb: Path, kind: str) -> str:
    """Return the text of a student's submitted toy notebook.

    Parameters
    ----------
    release_nb : Path
        The released (student) version of the toy notebook.
    kind : str
        A key of :data:`STUDENT_SOLUTIONS`.

    Returns
    -------
    str
        Notebook JSON, or deliberately invalid JSON for ``kind="broken"``.
    """
    if kind not in STUDENT_SOLUTIONS:
        raise ValueError(
            f"unknown submission kind {kind!r}; expected one of {list(STUDENT_SOLUTIONS)}"
        )
    text = release_nb.read_text()
    if kind == "broken":
        # A truncated file, as left by a crashed save: not valid JSON.
        return text[: len(text) // 2]
    nb = json.loads(text)
    answer = STUDENT_SOLUTIONS[kind]
    if answer is not None:
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == SOLUTION_ID:
                cell["source"] = answer
    return json.dumps(nb, indent=1)


def write_submissions(
    root: Path, kinds: dict[str, str], assignment: str = TOY_ASSIGNMENT
) -> list[Path]:
    """Write submissions into ``submitted/<student>/<assignment>/``.

    Parameters
    ----------
    root : Path
        Course root whose ``release/<assignment>/`` already exists.
    kinds : dict of str to str
        Student id to submission kind (a key of :data:`STUDENT_SOLUTIONS`).
    assignment : str
        Assignment id.

    Returns
    -------
    list of Path
        The submitted notebook files, one per student.
    """
    release_nb = Path(root) / "release" / assignment / f"{TOY_NOTEBOOK}.ipynb"
    written = []
    for student, kind in kinds.items():
        folder = Path(root) / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{TOY_NOTEBOOK}.ipynb"
        path.write_text(student_notebook(release_nb, kind))
        written.append(path)
    return written


def class_kinds(n_students: int, broken: int = 0) -> dict[str, str]:
    """Return a class of ``n_students`` cycling through the gradable kinds.

    Parameters
    ----------
    n_students : int
        Class size.
    broken : int
        How many of them (the last ones) submit an invalid-JSON notebook.

    Returns
    -------
    dict of str to str
        Student id (``s000``, ``s001``, ...) to submission kind.
    """
    gradable = [k for k in STUDENT_SOLUTIONS if k != "broken"]
    kinds = {f"s{i:03d}": gradable[i % len(gradable)] for i in range(n_students)}
    for student in list(kinds)[n_students - broken :]:
        kinds[student] = "broken"
    return kinds
