"""01_filters through the real nbgrader apps: generate, submit, autograde, read grades.

One course for the whole module: a fully correct submission (the instructor's solutions
typed into the student version), a blank one, one per correct style and one per typical
mistake, all autograded in one run. Correct work gets every point, blank work none, and
each mistake loses the cells it should, keeps every other function's cells, and is named
in the failing cell's output.
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat
import pytest

from cnn_course.classroom import (
    StudentMistake,
    correct_work,
    fill_notebook,
    mistake_work,
    mistakes,
    source_solutions,
    styles,
)
from cnn_course.course import CellGrade, CourseDir
from cnn_solutions.grading import MISTAKE_PREFIX
from cnn_solutions.grading import filters as spec_module

ASSIGNMENT = "01_filters"
TOTAL_POINTS = 50
FUNCTIONS = [spec.name for spec in spec_module.FUNCTIONS]
ANSWERS = [spec.name for spec in spec_module.ANSWERS]
MISTAKES = mistakes(ASSIGNMENT)


def cells_of(name: str) -> list[str]:
    """Grade ids of the test cells that check one contract name."""
    if name in ANSWERS:
        return [f"{name}_check"]
    spec = next(spec for spec in spec_module.FUNCTIONS if spec.name == name)
    return [f"{name}_{aspect}" for aspect in spec.suites]


@dataclass
class Graded:
    course: CourseDir
    students: list[str]

    def grades(self, student: str) -> dict[str, CellGrade]:
        return self.course.grades(ASSIGNMENT, student)

    def text(self, student: str, grade_id: str) -> str:
        return self.course.cell_text(ASSIGNMENT, student, grade_id)


def _mistake_student(index: int) -> str:
    return f"mistake-{index:02d}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    course = CourseDir.create(tmp_path_factory.mktemp("assignment01") / "course", [ASSIGNMENT])
    course.generate(ASSIGNMENT)
    release = course.release_notebook(ASSIGNMENT)
    work = {
        "correct": source_solutions(course.source_notebook(ASSIGNMENT)),
        "blank": {},
        **{f"style-{s}": correct_work(ASSIGNMENT, s).code for s in styles(ASSIGNMENT)},
        **{_mistake_student(i): mistake_work(ASSIGNMENT, m).code for i, m in enumerate(MISTAKES)},
    }
    for student, code in work.items():
        course.submit(student, ASSIGNMENT, fill_notebook(release, code))
    course.autograde(ASSIGNMENT)
    return Graded(course, list(work))


def test_graded_cells_are_the_specs_aspects_and_answers(graded: Graded) -> None:
    notebook = graded.course.source_notebook(ASSIGNMENT)
    graded_ids = [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    ]
    assert graded_ids == [cell for name in FUNCTIONS + ANSWERS for cell in cells_of(name)]
    points = sum(
        c.metadata["nbgrader"]["points"]
        for c in notebook.cells
        if "points" in c.metadata.get("nbgrader", {})
    )
    assert points == TOTAL_POINTS


@pytest.mark.parametrize("student", ["correct", *(f"style-{s}" for s in styles(ASSIGNMENT))])
def test_correct_work_gets_every_point(graded: Graded, student: str) -> None:
    grades = graded.grades(student)
    assert sum(g.max_score for g in grades.values()) == TOTAL_POINTS
    lost = {g.grade_id: g.score for g in grades.values() if g.score != g.max_score}
    assert lost == {}, {cell: graded.text(student, cell) for cell in lost}


def test_blank_work_gets_nothing(graded: Graded) -> None:
    grades = graded.grades("blank")
    assert {g.grade_id: g.score for g in grades.values() if g.score} == {}
    assert "NotImplementedError" in graded.text("blank", "zero_pad_basic")


@pytest.mark.parametrize(
    ("index", "mistake"),
    list(enumerate(MISTAKES)),
    ids=[f"{m.function}-{m.label}" for m in MISTAKES],
)
def test_mistake_loses_its_cells_and_is_named(
    graded: Graded, index: int, mistake: StudentMistake
) -> None:
    student = _mistake_student(index)
    grades = graded.grades(student)
    for cell in mistake.lost_cells:
        assert grades[cell].score == 0, f"{cell} kept its points"
        text = graded.text(student, cell)
        assert f"{MISTAKE_PREFIX} {mistake.expected_mistake}" in text, text
        # Students see the report, not the grader's code.
        assert "cnn_solutions" not in text and "Traceback" not in text, text
    others = [c for name in FUNCTIONS + ANSWERS if name != mistake.function for c in cells_of(name)]
    assert {c: grades[c].score for c in others if grades[c].score != grades[c].max_score} == {}


def test_submissions_are_the_release_with_only_solution_cells_changed(graded: Graded) -> None:
    release = graded.course.release_notebook(ASSIGNMENT)
    submitted = graded.course.root / "submitted" / "correct" / ASSIGNMENT / "filters.ipynb"
    notebook = nbformat.read(submitted, as_version=4)
    changed = [
        cell.metadata.get("nbgrader", {}).get("grade_id")
        for cell, original in zip(notebook.cells, release.cells, strict=True)
        if cell.source != original.source
    ]
    solution_ids = FUNCTIONS + [f"{name}_answer" for name in ANSWERS]
    assert changed == solution_ids
