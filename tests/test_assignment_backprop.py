"""04_conv_backprop through the real nbgrader apps: generate, submit, autograde, read grades.

One course for the whole module: a fully correct submission (the instructor's solutions
typed into the student version), a blank one, one per correct style, and the typical
mistakes, all autograded in one run. Correct work gets every point, blank work none, and
each mistake loses the cells it should, is named in their output, and costs nothing
elsewhere.

To keep the run short, mistakes in *different* contract names share a submission (each
name's cells only ever call that name); the in-process tests in
``test_grading_backprop.py`` check every mistake alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cnn_course.classroom import (
    StudentMistake,
    as_source,
    correct_work,
    fill_notebook,
    mistakes,
    source_solutions,
    styles,
)
from cnn_course.classroom.backprop import CHANGED_INPUT
from cnn_course.course import CellGrade, CourseDir
from cnn_solutions.grading import MISTAKE_PREFIX
from cnn_solutions.grading import backprop as spec_module

ASSIGNMENT = "04_conv_backprop"
TOTAL_POINTS = 100
FUNCTIONS = [spec.name for spec in spec_module.FUNCTIONS]
ANSWERS = [spec.name for spec in spec_module.ANSWERS]
MISTAKES = mistakes(ASSIGNMENT)


def cells_of(name: str) -> list[str]:
    """Grade ids of the test cells that check one contract name."""
    if name in ANSWERS:
        return [f"{name}_check"]
    spec = next(spec for spec in spec_module.FUNCTIONS if spec.name == name)
    return [f"{name}_{aspect}" for aspect in spec.suites]


def pack(all_mistakes: list[StudentMistake]) -> list[list[StudentMistake]]:
    """Group mistakes into submissions holding at most one mistake per contract name."""
    rounds: list[list[StudentMistake]] = []
    for mistake in all_mistakes:
        free = next((r for r in rounds if all(m.function != mistake.function for m in r)), None)
        if free is None:
            rounds.append(free := [])
        free.append(mistake)
    return rounds


ROUNDS = pack(MISTAKES)
STUDENT_OF = {id(m): f"mistakes-{i}" for i, r in enumerate(ROUNDS) for m in r}


@dataclass
class Graded:
    course: CourseDir

    def grades(self, student: str) -> dict[str, CellGrade]:
        return self.course.grades(ASSIGNMENT, student)

    def text(self, student: str, grade_id: str) -> str:
        return self.course.cell_text(ASSIGNMENT, student, grade_id)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    course = CourseDir.create(tmp_path_factory.mktemp("assignment04") / "course", [ASSIGNMENT])
    course.generate(ASSIGNMENT)
    release = course.release_notebook(ASSIGNMENT)
    base = correct_work(ASSIGNMENT, styles(ASSIGNMENT)[0]).code
    work = {
        "correct": source_solutions(course.source_notebook(ASSIGNMENT)),
        "blank": {},
        **{f"style-{s}": correct_work(ASSIGNMENT, s).code for s in styles(ASSIGNMENT)},
    }
    for index, group in enumerate(ROUNDS):
        work[f"mistakes-{index}"] = {
            **base,
            **{m.function: as_source(m.code, m.function) for m in group},
        }
    for student, code in work.items():
        course.submit(student, ASSIGNMENT, fill_notebook(release, code))
    course.autograde(ASSIGNMENT)
    return Graded(course)


def test_graded_cells_and_points(graded: Graded) -> None:
    notebook = graded.course.source_notebook(ASSIGNMENT)
    meta = [c.metadata["nbgrader"] for c in notebook.cells if "nbgrader" in c.metadata]
    graded_ids = [m["grade_id"] for m in meta if m["grade"]]
    # The worked example comes first in the notebook, then the functions.
    assert graded_ids == [cell for name in ANSWERS + FUNCTIONS for cell in cells_of(name)]
    assert sum(m["points"] for m in meta if m["grade"]) == TOTAL_POINTS


@pytest.mark.parametrize("student", ["correct", *(f"style-{s}" for s in styles(ASSIGNMENT))])
def test_correct_work_gets_every_point(graded: Graded, student: str) -> None:
    grades = graded.grades(student)
    assert sum(g.max_score for g in grades.values()) == TOTAL_POINTS
    lost = {g.grade_id: g.score for g in grades.values() if g.score != g.max_score}
    assert lost == {}, {cell: graded.text(student, cell) for cell in lost}


def test_blank_work_gets_nothing(graded: Graded) -> None:
    grades = graded.grades("blank")
    assert {g.grade_id: g.score for g in grades.values() if g.score} == {}
    assert "NotImplementedError" in graded.text("blank", "conv_backward_basic")


def _named(mistake: StudentMistake) -> str:
    # Changing an input is reported by the engine itself, as the problem of the case.
    if mistake.expected_mistake == CHANGED_INPUT:
        return CHANGED_INPUT
    return f"{MISTAKE_PREFIX} {mistake.expected_mistake}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[f"{m.function}-{m.label}" for m in MISTAKES])
def test_mistake_loses_its_cells_and_is_named(graded: Graded, mistake: StudentMistake) -> None:
    student = STUDENT_OF[id(mistake)]
    grades = graded.grades(student)
    for cell in mistake.lost_cells:
        assert grades[cell].score == 0, f"{cell} kept its points"
        text = graded.text(student, cell)
        assert _named(mistake) in text, text
        # Students see the report, not the grader's code. (nbgrader may shorten a long
        # report to its first and last 50 lines, saying "... Traceback truncated ...".)
        assert "cnn_solutions" not in text and "most recent call last" not in text, text
    mistaken = {m.function for group in ROUNDS for m in group if STUDENT_OF[id(m)] == student}
    others = [c for name in FUNCTIONS + ANSWERS if name not in mistaken for c in cells_of(name)]
    assert {c: grades[c].score for c in others if grades[c].score != grades[c].max_score} == {}
