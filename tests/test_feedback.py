"""Feedback students learn from: points and diagnostics, never the hidden tests' code.

A toy course (two small assignments, the real grading engine, the repository's
``nbgrader_config.py``) is generated, submitted by a class of simulated students,
autograded and turned into feedback by nbgrader itself. ``tests/test_report.py`` reuses
the same graded course (:func:`toy_class_course`).
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_notebook

from cnn_course.classroom.toy import (
    ZERO_PAD_HIDDEN_LINES,
    ZERO_PAD_VISIBLE_TEST,
    hidden_tests,
    nbgrader_cell,
    python_notebook,
    zero_pad_source_notebook,
)
from cnn_course.course import REPO_ROOT, CourseDir, CourseError
from cnn_course.integrity.feedback import feedback_leaks, html_text
from cnn_course.plugins import HideHiddenTests
from cnn_course.plugins.hide_hidden_tests import strip_ansi

FILTERS, EXTRA = "01_filters", "02_extra"
NOTEBOOKS = {FILTERS: "filters", EXTRA: "extra"}
# Execute.timeout for the student whose code never returns: below the grading engine's own
# per-call limit, so nbgrader's cell timeout (and its traceback) is what this student gets.
TIMEOUT_S = 3

HIDDEN_LINES = {
    FILTERS: ZERO_PAD_HIDDEN_LINES,
    EXTRA: [
        'assert double(-3) == -6, "double must handle negative numbers"',
        "assert double(0.5) == 1.0",
    ],
}


def extra_notebook() -> nbformat.NotebookNode:
    """Plain asserts, no diagnostics: the tooling must work for any course."""
    return python_notebook(
        [
            nbgrader_cell(
                "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                "double",
                solution=True,
            ),
            nbgrader_cell("assert double(1) == 2", "double_visible", grade=True, points=1),
            nbgrader_cell(
                "assert double(2) == 4\n" + hidden_tests(HIDDEN_LINES[EXTRA]),
                "double_hidden",
                grade=True,
                points=2,
            ),
        ]
    )


@dataclass(frozen=True)
class Student:
    """A simulated student: the code they submit and what grading must make of it.

    ``cells`` maps grade id to (points, mistake names diagnosed); the expectations are
    worked out by hand from the checks, independently of nbgrader and the report.
    """

    code: str | None  # solution cell source; None keeps the released stub
    cells: dict[str, tuple[float, tuple[str, ...]]]


CHANNELS, ONE_SIDE = "channels padded too", "padding on one side only"

CLASS: dict[str, dict[str, Student]] = {
    FILTERS: {
        "correct": Student(
            "def zero_pad(image, pad):\n    image = np.asarray(image, dtype=float)\n"
            "    return np.pad(image, [(pad, pad), (pad, pad)] + [(0, 0)] * (image.ndim - 2))",
            {"zero_pad_basic": (2, ()), "zero_pad_channels": (3, ())},
        ),
        "pads_all_axes": Student(
            "def zero_pad(image, pad):\n    return np.pad(np.asarray(image, dtype=float), pad)",
            {"zero_pad_basic": (2, ()), "zero_pad_channels": (0, (CHANNELS,))},
        ),
        "pads_all_axes_too": Student(
            "def zero_pad(image, pad):\n    image = np.array(image, dtype=np.float64)\n"
            "    return np.pad(image, [(pad, pad)] * image.ndim, constant_values=0)",
            {"zero_pad_basic": (2, ()), "zero_pad_channels": (0, (CHANNELS,))},
        ),
        # The visible assert (3x3 expected) stops it before the hidden check can diagnose.
        "one_side": Student(
            "def zero_pad(image, pad):\n    image = np.asarray(image, dtype=float)\n"
            "    return np.pad(image, [(pad, 0), (pad, 0)] + [(0, 0)] * (image.ndim - 2))",
            {"zero_pad_basic": (0, ()), "zero_pad_channels": (0, (ONE_SIDE,))},
        ),
        "blank": Student(None, {"zero_pad_basic": (0, ()), "zero_pad_channels": (0, ())}),
        "raising": Student(
            "def zero_pad(image, pad):\n    secret_student_line = image[pad, pad, pad, pad]\n"
            "    return secret_student_line",
            {"zero_pad_basic": (0, ()), "zero_pad_channels": (0, ())},
        ),
        "renamed": Student(
            "def zeropad(image, pad):\n    return np.pad(image, pad)",
            {"zero_pad_basic": (0, ()), "zero_pad_channels": (0, ())},
        ),
        # Never returns on 2-D images of more than one pixel: the basic check times out
        # inside the grader, the channels check passes.
        "looping": Student(
            "def zero_pad(image, pad):\n    image = np.asarray(image, dtype=float)\n"
            "    while image.ndim == 2 and image.size > 1:\n        pass\n"
            "    return np.pad(image, [(pad, pad), (pad, pad)] + [(0, 0)] * (image.ndim - 2))",
            {"zero_pad_basic": (0, ()), "zero_pad_channels": (3, ())},
        ),
    },
    EXTRA: {
        "correct": Student(
            "def double(x):\n    return x + x",
            {"double_visible": (1, ()), "double_hidden": (2, ())},
        ),
        "blank": Student(None, {"double_visible": (0, ()), "double_hidden": (0, ())}),
    },
}
BROKEN = "broken"  # submits a truncated, invalid notebook for FILTERS
TIMED_OUT = "looping"


def submit(root: Path, assignment: str, student: str, code: str | None) -> None:
    """Place a submission where ``nbgrader collect`` would: ``submitted/<student>/<a>/``."""
    release = root / "release" / assignment / f"{NOTEBOOKS[assignment]}.ipynb"
    notebook = nbformat.read(release, as_version=4)
    if code is not None:
        solution = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))
        solution.source = code
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(copy.deepcopy(notebook), folder / release.name)


def build_toy_class(root: Path) -> CourseDir:
    """Generate, submit and autograde the toy course at ``root`` (nbgrader all the way)."""
    (root / "source").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    for assignment, notebook in ((FILTERS, zero_pad_source_notebook()), (EXTRA, extra_notebook())):
        (root / "source" / assignment).mkdir()
        nbformat.write(notebook, root / "source" / assignment / f"{NOTEBOOKS[assignment]}.ipynb")
    course = CourseDir(root)
    for assignment, students in CLASS.items():
        course.generate(assignment)
        for student, work in students.items():
            if student != TIMED_OUT:
                submit(root, assignment, student, work.code)
        course.autograde(assignment)
    # A truncated file: nbgrader cannot grade it and says so.
    release_text = (root / "release" / FILTERS / "filters.ipynb").read_text()
    (root / "submitted" / BROKEN / FILTERS).mkdir(parents=True)
    (root / "submitted" / BROKEN / FILTERS / "filters.ipynb").write_text(release_text[:400])
    with pytest.raises(CourseError, match=BROKEN):
        course.autograde(FILTERS, BROKEN)
    submit(root, FILTERS, TIMED_OUT, CLASS[FILTERS][TIMED_OUT].code)
    CourseDir(root, **{"Execute.timeout": TIMEOUT_S}).autograde(FILTERS, TIMED_OUT)
    return course


def toy_class_course(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    """The graded toy course, built once per test session (shared with test_report)."""
    root = tmp_path_factory.getbasetemp() / "toy-class-course"
    done = root / ".graded"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        build_toy_class(root)
        done.touch()
    return CourseDir(root)


# --- feedback ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    course = toy_class_course(tmp_path_factory)
    for assignment in CLASS:
        course.generate_feedback(assignment)
    return course


def feedback_text(course: CourseDir, assignment: str, student: str, folder: str = "feedback"):
    page = course.root / folder / student / assignment / f"{NOTEBOOKS[assignment]}.html"
    return html_text(page.read_text(encoding="utf-8"))


def every_feedback(course: CourseDir):
    for assignment, students in CLASS.items():
        for student in students:
            yield assignment, student, feedback_text(course, assignment, student)


def test_feedback_shows_no_hidden_test_code(course: CourseDir) -> None:
    pages = list(every_feedback(course))
    assert len(pages) == sum(len(s) for s in CLASS.values())
    for assignment, student, text in pages:
        where = f"{student}'s {assignment} feedback"
        assert 'check("zero_pad"' not in text, where
        assert "cnn_solutions" not in text, where
        assert "HIDDEN TESTS" not in text, where
        for line in HIDDEN_LINES[assignment]:
            assert line not in text, f"{where} shows {line!r}"
    assert feedback_leaks(course.root) == []


def test_plain_nbgrader_feedback_would_show_them(course: CourseDir) -> None:
    """The control: without HideHiddenTests, the same checks find the hidden code."""
    plain = {"HideHiddenTests.enabled": False, "CourseDirectory.feedback_directory": "plain"}
    CourseDir(course.root, **plain).generate_feedback(FILTERS, "correct")
    text = feedback_text(course, FILTERS, "correct", folder="plain")
    assert 'check("zero_pad", zero_pad, "basic")' in text
    assert "from cnn_probe import check" in text
    leaks = {leak.line for leak in feedback_leaks(course.root, **plain)}
    assert set(HIDDEN_LINES[FILTERS]) <= leaks


def test_feedback_shows_points_and_diagnostics(course: CourseDir) -> None:
    correct = feedback_text(course, FILTERS, "correct")
    assert "filters (Score: 5.0 / 5.0)" in correct
    assert "Score: 2.0 / 2.0" in correct and "Score: 3.0 / 3.0" in correct
    assert "✓ zero_pad · basic: all 5 cases match the reference" in correct
    assert ZERO_PAD_VISIBLE_TEST in correct  # visible asserts stay
    assert HideHiddenTests().placeholder in correct

    wrong = feedback_text(course, FILTERS, "pads_all_axes")
    assert "filters (Score: 2.0 / 5.0)" in wrong
    assert "Score: 0.0 / 3.0" in wrong
    assert "✗ zero_pad · channels: case 1 of 4 failed" in wrong
    assert "Likely mistake: channels padded too. Pad only the two spatial axes" in wrong
    assert "expected shape (5, 5, 2), got shape (5, 5, 4)" in wrong
    # The summary at the top says the same first: the score, the failing check, the mistake.
    assert "Summary: 2 / 5 points." in wrong
    summary = wrong[wrong.index("Summary: 2 / 5 points.") : wrong.index(ZERO_PAD_VISIBLE_TEST)]
    assert "✗ zero_pad · channels: case 1 of 4 failed" in summary
    assert "Likely mistake: channels padded too." in summary
    assert "Summary: 5 / 5 points. Every automatically graded cell has full points." in correct
    page = course.root / "feedback" / "pads_all_axes" / FILTERS / f"{NOTEBOOKS[FILTERS]}.html"
    assert ".output_area pre { white-space: pre-wrap" in page.read_text(encoding="utf-8")

    extra = feedback_text(course, EXTRA, "blank")
    assert "extra (Score: 0.0 / 3.0)" in extra and "NotImplementedError" in extra
    assert "assert double(2) == 4" in extra  # the visible line of the hidden-test cell


def test_tracebacks_keep_the_students_frames_only(course: CourseDir) -> None:
    """Errors show the student's own code; the hidden line or grader frame is cut out."""
    raising = feedback_text(course, FILTERS, "raising")
    assert "secret_student_line = image[pad, pad, pad, pad]" in raising
    assert "IndexError: too many indices for array" in raising

    # A test cell that stopped early says why, in the judge's words, with the kernel's error.
    renamed = feedback_text(course, FILTERS, "renamed")
    assert "no result: the cell did not run to the end" in renamed
    assert "The cell stopped with NameError: name 'zero_pad' is not defined" in renamed

    looping = feedback_text(course, FILTERS, TIMED_OUT)
    assert "The cell stopped with CellTimeoutError" in looping
    for grader_code in ("cnn_probe", "run_check", "grading/core.py", "Traceback"):
        assert grader_code not in looping


@pytest.mark.parametrize(
    ("student", "hidden"),
    [
        ("renamed", 'check("zero_pad", zero_pad, "channels")'),  # the failing hidden line
        ("one_side", 'check("zero_pad", zero_pad, "basic")'),  # context of a visible assert
        (TIMED_OUT, "cnn_probe"),  # frames inside the probe
    ],
)
def test_autograded_outputs_quote_no_hidden_code(
    course: CourseDir, student: str, hidden: str
) -> None:
    """nbgrader's own tracebacks would quote hidden code; the judge replaces a test cell's
    outputs with its verdict, so the autograded notebook carries none, even before the
    feedback's redaction."""
    path = course.root / "autograded" / student / FILTERS / "filters.ipynb"
    notebook = nbformat.read(path, as_version=4)
    shown = _outputs_text(notebook)
    assert "✗ zero_pad" in shown
    assert hidden not in shown and "cnn_solutions" not in shown


def _outputs_text(notebook: nbformat.NotebookNode) -> str:
    """Every output's text, colour codes removed: streams, error messages and tracebacks."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts += [output.get("text", ""), output.get("evalue", "")]
            parts += output.get("traceback", [])
    return strip_ansi("\n".join(parts))


# --- the preprocessor on its own -----------------------------------------------------


def test_student_cells_quoting_the_delimiters_are_left_alone() -> None:
    student = nbgrader_cell(
        "# ### BEGIN HIDDEN TESTS (a student's joke)\nx = 1", "x", solution=True
    )
    notebook = new_notebook(cells=[student])
    HideHiddenTests().preprocess(notebook, {})
    assert notebook.cells[0].source == "# ### BEGIN HIDDEN TESTS (a student's joke)\nx = 1"


def test_unterminated_region_fails_rather_than_leaks() -> None:
    test_cell = nbgrader_cell(
        "assert f()\n### BEGIN HIDDEN TESTS\nassert g()", "x", grade=True, points=1
    )
    with pytest.raises(RuntimeError, match="No end hidden tests"):
        HideHiddenTests().preprocess(new_notebook(cells=[test_cell]), {})


def test_warning_from_hidden_code_loses_its_source_line() -> None:
    hider = HideHiddenTests()
    text = (
        "/x/site-packages/cnn_course/grading/core.py:12: UserWarning: careful\n"
        "  secret = reference(image)\n"
        "✓ zero_pad · basic: all 5 cases match the reference\n"
    )
    shown = hider.redact_text(text, set())
    assert "secret" not in shown and "cnn_course" not in shown
    assert "✓ zero_pad · basic" in shown
