"""Correct work keeps full marks while the machine is busy starting other kernels.

The grader limits each student call to 5 s of CPU time (``cnn_probe/limit.py``), not wall
time, so a slow machine must not cost an honest student anything. Here every correct style
of ``01_filters`` and ``04_conv_backprop`` (loops, vectorised, SciPy imported inside the
function, im2col, ...) and the quiz (answers computed from ``quiz.numbers`` and answers
typed in) is graded by the real ``cnn-course grade --jobs 2`` in the course's sandbox
kernel, twice, while two processes per core keep re-importing SciPy and matplotlib in fresh
interpreters, as kernels starting next door do. Every automatic cell must get full marks
both times, with identical per-cell grades.
"""

from __future__ import annotations

import csv
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from course_helpers import VENV_BIN, tool_env
from load_helpers import LOAD_PER_CORE, Load, kernel_like_load

from cnn_course.classroom import correct_work, fill_notebook, styles
from cnn_course.classroom.quiz import ASSIGNMENT as QUIZ
from cnn_course.classroom.quiz import quiz_submission
from cnn_course.course import CourseDir
from cnn_course.gradebook import CellGrade, cell_grades

pytestmark = pytest.mark.load

TOPICS = ("01_filters", "04_conv_backprop")
ASSIGNMENTS = (*TOPICS, QUIZ)
GRADE_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Load]:
    """Two busy processes per core, started before grading and stopped (waited for) after."""
    with kernel_like_load(tmp_path_factory.mktemp("load")) as running:
        yield running


@dataclass
class Graded:
    course: CourseDir
    runs: list[subprocess.CompletedProcess]
    seconds: list[float]
    grades: list[dict[str, dict[tuple[str, str, str], CellGrade]]]
    rounds_during: list[int]  # import rounds the load finished during each grading run
    running_after: list[int]  # load workers still running when each grading run ended


def make_class(root: Path) -> tuple[CourseDir, dict[tuple[str, str], str]]:
    """Every correct style of each topic, and the quiz computed and typed; returns who is who."""
    course = CourseDir.create(root, ASSIGNMENTS)
    who = {}
    for assignment in ASSIGNMENTS:
        course.generate(assignment)
        release = course.release_notebook(assignment)
        if assignment == QUIZ:
            for style in styles(QUIZ):
                student = f"quiz-{style}"
                course.submit(student, QUIZ, fill_notebook(release, correct_work(QUIZ, style).code))
                who[(student, QUIZ)] = f"computed ({style})"
            course.submit("quiz-typed", QUIZ, quiz_submission(release, "quiz-typed"))
            who[("quiz-typed", QUIZ)] = "typed answers"
            continue
        for style in styles(assignment):
            course.submit(
                style, assignment, fill_notebook(release, correct_work(assignment, style).code)
            )
            who[(style, assignment)] = style
    return course, who


def grade_cli(root: Path, force: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "cnn-course"), "--course", str(root), "grade", "--jobs", "2"]
        + ["--no-progress", *(["--force"] if force else [])],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=GRADE_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, load: Load) -> Graded:
    base = tmp_path_factory.mktemp("under-load")
    base.chmod(0o755)  # as root, the sandbox user must reach autograded/<student>/<assignment>
    course, _ = make_class(base / "course")
    result = Graded(course, [], [], [], [], [])
    db_url = f"sqlite:///{course.root / 'gradebook.db'}"
    for force in (False, True):
        before = sum(map(len, load.rounds()))
        started = time.perf_counter()
        result.runs.append(grade_cli(course.root, force))
        result.seconds.append(time.perf_counter() - started)
        result.rounds_during.append(sum(map(len, load.rounds())) - before)
        result.running_after.append(load.running())
        result.grades.append({a: cell_grades(db_url, "cnn-course", a) for a in ASSIGNMENTS})
    print(f"grading under load: {result.seconds[0]:.1f} s, then {result.seconds[1]:.1f} s")
    return result


def expected_submissions() -> set[tuple[str, str]]:
    topics = {(style, a) for a in TOPICS for style in styles(a)}
    quiz = {(f"quiz-{style}", QUIZ) for style in styles(QUIZ)} | {("quiz-typed", QUIZ)}
    return topics | quiz


def test_the_load_ran_all_through_grading(graded: Graded, load: Load) -> None:
    count = LOAD_PER_CORE * (os.cpu_count() or 1)
    assert len(load.procs) == count >= 2
    assert graded.running_after == [count, count]  # none died or ran out of time
    rounds = load.rounds()
    assert all(rounds), rounds
    assert {code for worker in rounds for code in worker} == {"0"}  # the imports worked
    # A round takes about a second on an idle core: the workers kept busy while grading.
    for seconds, done in zip(graded.seconds, graded.rounds_during, strict=True):
        assert done >= count * seconds / 20, (seconds, done)


@pytest.mark.parametrize("run", [0, 1], ids=["first", "forced-regrade"])
def test_every_submission_is_graded(graded: Graded, run: int) -> None:
    done = graded.runs[run]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    total = len(expected_submissions())
    assert f"autograded {total} of {total} submissions (0 already graded, 0 failed)" in done.stdout
    assert "feedback: " in done.stdout and "grades exported to" in done.stdout
    graded_pairs = {(s, a) for a, cells in graded.grades[run].items() for (s, _, _) in cells}
    assert graded_pairs == expected_submissions()


@pytest.mark.parametrize("run", [0, 1], ids=["first", "forced-regrade"])
def test_every_correct_style_keeps_full_marks(graded: Graded, run: int) -> None:
    lost = {}
    for assignment, cells in graded.grades[run].items():
        assert cells, assignment
        for (student, _, cell), grade in cells.items():
            assert not grade.needs_manual_grade, (student, assignment, cell)
            assert grade.max_score > 0
            if grade.auto_score != grade.max_score:
                text = graded.course.cell_text(assignment, student, cell)
                lost[(student, assignment, cell)] = (grade.auto_score, text[-1500:])
    assert lost == {}


def test_grades_csv_shows_full_marks(graded: Graded) -> None:
    with open(graded.course.root / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    scored = {(r["student_id"], r["assignment"]): r for r in rows if r["student_id"]}
    assert expected_submissions() <= set(scored)
    for key in expected_submissions():
        row = scored[key]
        assert float(row["max_score"]) > 0, row
        assert float(row["score"]) == float(row["max_score"]), row


def test_grading_twice_under_load_gives_identical_grades(graded: Graded) -> None:
    first, second = graded.grades
    assert set(first) == set(second) == set(ASSIGNMENTS)
    for assignment in ASSIGNMENTS:
        assert first[assignment] == second[assignment], assignment
    cells = sum(len(c) for c in first.values())
    assert cells == sum(len(c) for c in second.values()) > 50
