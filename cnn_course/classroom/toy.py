"""A tiny nbgrader course for testing and benchmarking the grading machinery.

The toy assignment has one notebook with a solution cell, a visible test cell and a
graded cell with hidden tests, so it exercises everything autograding does (restoring
hidden tests from the gradebook, executing, scoring) while running in well under a
second per notebook. Tests and ``benchmarks/bench_grading.py --toy`` build it in a
scratch directory; it never touches the real course.

The cell and notebook builders (:func:`nbgrader_cell`, :func:`hidden_tests`,
:func:`python_notebook`) serve every toy notebook the tests write, among them
:func:`zero_pad_source_notebook`, a slice of ``01_filters`` graded by the real engine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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

# The zero_pad slice of 01_filters (:func:`zero_pad_source_notebook`): what a correct
# student types in its solution cell, and the lines of its test cells.
ZERO_PAD_SOLUTION = """def zero_pad(image, pad):
    image = np.asarray(image, dtype=float)
    widths = [(pad, pad)] * 2 + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, widths)"""
ZERO_PAD_VISIBLE_TEST = "assert zero_pad(np.ones((1, 1)), 1).shape == (3, 3)"
ZERO_PAD_HIDDEN_LINES = [
    "from cnn_probe import check",
    'check("zero_pad", zero_pad, "basic")',
    'check("zero_pad", zero_pad, "channels")',
]


def nbgrader_cell(
    source: str,
    grade_id: str,
    *,
    grade: bool = False,
    solution: bool = False,
    points: float = 0,
) -> nbformat.NotebookNode:
    """Return a code cell of a source notebook, with nbgrader schema-3 metadata.

    Parameters
    ----------
    source : str
        The cell's code, with ``### BEGIN SOLUTION`` or ``### BEGIN HIDDEN TESTS`` regions.
    grade_id : str
        nbgrader's id of the cell.
    grade, solution : bool
        Whether the cell is graded, and whether students write in it (else it is locked).
    points : float
        Points of a graded cell.

    Returns
    -------
    nbformat.NotebookNode
        A v4 code cell.
    """
    meta = {
        "schema_version": 3,
        "grade": grade,
        "solution": solution,
        "locked": not solution,
        "grade_id": grade_id,
    }
    if grade:
        meta["points"] = points
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def hidden_tests(lines: Sequence[str]) -> str:
    """Return ``lines`` as an nbgrader hidden-tests region (removed from the release)."""
    return "\n".join(["### BEGIN HIDDEN TESTS", *lines, "### END HIDDEN TESTS"])


def python_notebook(cells: Sequence[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """Return a v4 notebook of ``cells`` run by the ``python3`` kernel."""
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def toy_source_notebook() -> nbformat.NotebookNode:
    """Build the instructor version of the toy notebook.

    Returns
    -------
    nbformat.NotebookNode
        A v4 notebook: a markdown prompt, a solution cell, a visible test cell worth
        1 point and a test cell with hidden tests worth 2 points.
    """
    return python_notebook(
        [
            nbformat.v4.new_markdown_cell("Write `square(x)`, returning `x` squared."),
            nbgrader_cell(_SOLUTION_SOURCE, SOLUTION_ID, solution=True),
            nbgrader_cell(_VISIBLE_TEST_SOURCE, VISIBLE_TEST_ID, grade=True, points=1),
            nbgrader_cell(_HIDDEN_TEST_SOURCE, HIDDEN_TEST_ID, grade=True, points=2),
        ]
    )


def zero_pad_source_notebook() -> nbformat.NotebookNode:
    """Build a one-function slice of ``01_filters`` whose hidden tests call the real grader.

    Returns
    -------
    nbformat.NotebookNode
        A v4 notebook: a prompt, the imports, the ``zero_pad`` solution cell, a cell worth
        2 points (:data:`ZERO_PAD_VISIBLE_TEST`, then the hidden ``basic`` check) and one
        worth 3 points (the hidden ``channels`` check), as :data:`ZERO_PAD_HIDDEN_LINES`.
    """
    importer, check_basic, check_channels = ZERO_PAD_HIDDEN_LINES
    signature, body = ZERO_PAD_SOLUTION.split("\n", 1)
    solution = "\n".join(
        [signature, '    """Pad the two spatial axes with zeros."""', "    ### BEGIN SOLUTION"]
        + [body, "    ### END SOLUTION"]
    )
    return python_notebook(
        [
            nbformat.v4.new_markdown_cell("Write `zero_pad(image, pad)`."),
            nbgrader_cell("import numpy as np", "imports"),
            nbgrader_cell(solution, "zero_pad", solution=True),
            nbgrader_cell(
                ZERO_PAD_VISIBLE_TEST + "\n" + hidden_tests([importer, check_basic]),
                "zero_pad_basic",
                grade=True,
                points=2,
            ),
            nbgrader_cell(
                hidden_tests([importer, check_channels]), "zero_pad_channels", grade=True, points=3
            ),
        ]
    )


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
