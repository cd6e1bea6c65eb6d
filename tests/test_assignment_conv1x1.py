"""03_conv1x1 through the real nbgrader apps: generate, submit, autograde, read grades.

One course for the whole module: a fully correct submission (the instructor's solutions
typed into the student version), a blank one, one per correct style, and the typical
mistakes, all autograded in one run. Correct work gets every automatic point, blank work
none, the written answer waits for a human, and each mistake loses the cells it should,
is named in their output, and costs nothing elsewhere.

To keep the run short, mistakes in *different* contract names share a submission (each
name's cells only ever call that name); the in-process tests in
``test_grading_conv1x1.py`` check every mistake alone.
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
from cnn_course.course import CellGrade, CourseDir
from cnn_solutions.grading import MISTAKE_PREFIX
from cnn_solutions.grading import conv1x1 as spec_module

ASSIGNMENT = "03_conv1x1"
AUTO_POINTS = 45
MANUAL_CELLS = {"why_1x1": 5}
FUNCTIONS = [spec.name for spec in spec_module.FUNCTIONS]
ANSWERS = [spec.name for spec in spec_module.ANSWERS]
MISTAKES = mistakes(ASSIGNMENT)
WRITTEN_ANSWER = (
    "A 1x1 convolution is a dense layer at every pixel: it keeps H x W and mixes the "
    "channels, so it can shrink 192 channels to 16 before an expensive 5x5 convolution."
)


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
    course = CourseDir.create(tmp_path_factory.mktemp("assignment03") / "course", [ASSIGNMENT])
    course.generate(ASSIGNMENT)
    release = course.release_notebook(ASSIGNMENT)
    base = correct_work(ASSIGNMENT, styles(ASSIGNMENT)[0]).code
    work = {
        "correct": {
            **source_solutions(course.source_notebook(ASSIGNMENT)),
            "why_1x1": WRITTEN_ANSWER,
        },
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


def _auto(grades: dict[str, CellGrade]) -> dict[str, CellGrade]:
    return {k: g for k, g in grades.items() if k not in MANUAL_CELLS}


def test_graded_cells_and_points(graded: Graded) -> None:
    notebook = graded.course.source_notebook(ASSIGNMENT)
    meta = [c.metadata["nbgrader"] for c in notebook.cells if "nbgrader" in c.metadata]
    graded_ids = [m["grade_id"] for m in meta if m["grade"]]
    expected = [cell for name in FUNCTIONS + ANSWERS for cell in cells_of(name)]
    assert graded_ids == expected + list(MANUAL_CELLS)
    points = {m["grade_id"]: m["points"] for m in meta if m["grade"]}
    assert sum(points[c] for c in expected) == AUTO_POINTS
    assert {c: points[c] for c in MANUAL_CELLS} == MANUAL_CELLS


@pytest.mark.parametrize("student", ["correct", *(f"style-{s}" for s in styles(ASSIGNMENT))])
def test_correct_work_gets_every_automatic_point(graded: Graded, student: str) -> None:
    grades = _auto(graded.grades(student))
    assert sum(g.max_score for g in grades.values()) == AUTO_POINTS
    lost = {g.grade_id: g.score for g in grades.values() if g.score != g.max_score}
    assert lost == {}, {cell: graded.text(student, cell) for cell in lost}


def test_written_answer_waits_for_a_human(graded: Graded) -> None:
    with graded.course.gradebook() as gb:
        answered = gb.find_submission_notebook("conv1x1", ASSIGNMENT, "correct")
        written = next(g for g in answered.grades if g.name == "why_1x1")
        assert written.max_score == MANUAL_CELLS["why_1x1"]
        assert written.auto_score is None and written.needs_manual_grade
        # nbgrader scores an untouched answer 0 by itself: nothing for a human to read.
        blank = gb.find_submission_notebook("conv1x1", ASSIGNMENT, "blank")
        unanswered = next(g for g in blank.grades if g.name == "why_1x1")
        assert unanswered.auto_score == 0 and not unanswered.needs_manual_grade
    text = next(
        c.source
        for c in graded.course.autograded_notebook(ASSIGNMENT, "correct").cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "why_1x1"
    )
    assert text == WRITTEN_ANSWER


def test_blank_work_gets_nothing(graded: Graded) -> None:
    grades = _auto(graded.grades("blank"))
    assert {g.grade_id: g.score for g in grades.values() if g.score} == {}
    assert "NotImplementedError" in graded.text("blank", "conv1x1_basic")


@pytest.mark.parametrize("mistake", MISTAKES, ids=[f"{m.function}-{m.label}" for m in MISTAKES])
def test_mistake_loses_its_cells_and_is_named(graded: Graded, mistake: StudentMistake) -> None:
    student = STUDENT_OF[id(mistake)]
    grades = graded.grades(student)
    for cell in mistake.lost_cells:
        assert grades[cell].score == 0, f"{cell} kept its points"
        text = graded.text(student, cell)
        assert f"{MISTAKE_PREFIX} {mistake.expected_mistake}" in text, text
        # Students see the report, not the grader's code. (nbgrader may shorten a long
        # report to its first and last 50 lines, saying "... Traceback truncated ...".)
        assert "cnn_solutions" not in text and "most recent call last" not in text, text
    mistaken = {m.function for group in ROUNDS for m in group if STUDENT_OF[id(m)] == student}
    others = [c for name in FUNCTIONS + ANSWERS if name not in mistaken for c in cells_of(name)]
    assert {c: grades[c].score for c in others if grades[c].score != grades[c].max_score} == {}
