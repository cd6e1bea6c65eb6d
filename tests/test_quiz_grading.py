"""Grading the quiz against the submitter's own numbers.

Fast checks run the grader in-process; the pipeline checks run the real nbgrader apps on
one course: 20 honest students, two who swap answers, one who changed the variant cell
and one blank submission, all autograded once.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cnn_course.classroom import correct_work, fill_notebook, source_solutions
from cnn_course.classroom.quiz import (
    CORRECT_STYLES,
    MISTAKES,
    quiz_submission,
    set_variant_cell,
    typed_answers,
)
from cnn_course.commands.cli import main as cnn_course_main
from cnn_course.commands.quiz_preview import preview_text, register, run
from cnn_course.course import REPO_ROOT, CourseDir
from cnn_course.grading import MISTAKE_PREFIX, GradingFailure
from cnn_course.grading.core import compare
from cnn_course.grading.quiz import (
    ROUNDED,
    expected_answers,
    grading_student,
    run_quiz_check,
)
from cnn_solutions.quiz import QUESTION_KEYS, Quiz, student_module_source

ASSIGNMENT = "05_quiz"
IDS = [f"student{i:02d}" for i in range(20)]
FAST_IDS = [f"s{i}" for i in range(40)]
VARIANT_NOTE = "the variant cell was changed"


def _run_answer(code: str, student_id: str) -> dict:
    """Run answer-cell code as the notebook would, with that student's quiz."""
    namespace = {"np": np, "quiz": Quiz(student_id)}
    exec(code, namespace)  # noqa: S102 -- simulated student code, written in this repo
    return namespace


def _differ(x: object, y: object) -> bool:
    return compare(x, y) is not None


def _all_differ(a: str, b: str) -> bool:
    x, y = expected_answers(a), expected_answers(b)
    return all(_differ(x[k], y[k]) for k in x)


# --- in-process -------------------------------------------------------------------------


@pytest.mark.parametrize("student", FAST_IDS[:10])
def test_typed_and_computed_answers_pass_in_process(student: str) -> None:
    for key in QUESTION_KEYS:
        for code in (typed_answers(student)[key], CORRECT_STYLES["numpy"][key]):
            namespace = _run_answer(code, student)
            assert run_quiz_check(key, namespace[key], namespace["quiz"]).startswith(f"✓ {key}")


def test_the_source_notebooks_solutions_are_right_for_every_student() -> None:
    notebook = nbformat.read(REPO_ROOT / "source" / ASSIGNMENT / "quiz.ipynb", as_version=4)
    solutions = source_solutions(notebook)
    assert set(solutions) == set(QUESTION_KEYS)
    for student in FAST_IDS:
        for key, code in solutions.items():
            namespace = _run_answer(code, student)
            run_quiz_check(key, namespace[key], namespace["quiz"])


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.function}-{m.label}")
def test_each_simulated_mistake_is_named_for_every_student(mistake) -> None:
    for student in FAST_IDS:
        namespace = _run_answer(mistake.code, student)
        with pytest.raises(GradingFailure) as failure:
            run_quiz_check(mistake.function, namespace[mistake.function], namespace["quiz"])
        # One "Likely mistake" line that names it: alone, or "one of" the mistakes that
        # give this student's numbers the same answer.
        named = [ln for ln in failure.value.report.splitlines() if MISTAKE_PREFIX in ln]
        assert len(named) == 1, failure.value.report
        line = named[0].strip()
        assert line.startswith(f"{MISTAKE_PREFIX} {mistake.expected_mistake}") or (
            line.startswith(f"{MISTAKE_PREFIX} one of:") and mistake.expected_mistake in line
        ), (student, failure.value.report)


def test_failure_shows_numbers_expected_got_and_diagnosis() -> None:
    quiz = Quiz("alice")
    v = quiz.numbers(1)
    ceil = -(-(v.n + 2 * v.padding - v.f) // v.stride) + 1
    with pytest.raises(GradingFailure) as failure:
        run_quiz_check("q1", ceil, quiz)
    report = failure.value.report
    expected = expected_answers("alice")["q1"]
    assert report.splitlines()[0].startswith("✗ q1 (int, output size")
    assert f"Your numbers (student 'alice'): n = {v.n}, f = {v.f}" in report
    assert f"Expected: {expected}" in report and f"Got:      {ceil}" in report
    assert f"{MISTAKE_PREFIX} ceil instead of floor" in report


def test_a_rounded_float_is_diagnosed() -> None:
    student = next(s for s in FAST_IDS if not float(expected_answers(s)["q10"]).is_integer())
    value = round(expected_answers(student)["q10"], 2)
    with pytest.raises(GradingFailure) as failure:
        run_quiz_check("q10", value, Quiz(student))
    assert f"{MISTAKE_PREFIX} {ROUNDED}" in failure.value.report


def test_wrong_types_fail_with_a_message() -> None:
    quiz = Quiz("alice")
    answers = expected_answers("alice")
    with pytest.raises(GradingFailure, match="expected a tuple"):
        run_quiz_check("q2", list(answers["q2"]), quiz)
    with pytest.raises(GradingFailure, match="expected shape"):
        run_quiz_check("q6", answers["q6"][:-1], quiz)
    with pytest.raises(GradingFailure, match="expected an int"):
        run_quiz_check("q3", "25120", quiz)


def test_autograding_ignores_the_notebooks_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "autograded" / "alice" / ASSIGNMENT
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    alice = expected_answers("alice")
    assert grading_student("alice", "alice") == ("alice", [])
    assert grading_student("bob", "alice")[0] == "alice"
    summary = run_quiz_check("q4", alice["q4"], Quiz("bob"))
    assert summary.startswith("✓ q4") and VARIANT_NOTE in summary
    with pytest.raises(GradingFailure) as failure:
        run_quiz_check("q4", expected_answers("bob")["q4"], Quiz("bob"))
    assert VARIANT_NOTE in failure.value.report
    assert "did not run" in run_quiz_check("q4", alice["q4"], None)
    # Outside autograding the notebook's id is what the student sees, so it is used.
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert grading_student("bob", None) == ("bob", [])


def test_preview_shows_questions_and_answers() -> None:
    text = preview_text("alice")
    answers = expected_answers("alice")
    assert Quiz("alice").text(1) in text
    assert f"  Answer: {answers['q3']}" in text
    assert "Wrong, counts weights only" in text
    # Within a question, each wrong value is listed once, with every mistake giving it.
    for block in text.split("\n\n")[1:]:
        lines = [line for line in block.splitlines() if line.startswith("  Wrong, ")]
        values = [v for v in (line.rsplit(": ", 1)[1] for line in lines) if "[" not in v]
        assert len(values) == len(set(values)), block
    assert "Wrong, one of: " in text


def test_cnn_course_quiz_preview_command(capsys: pytest.CaptureFixture) -> None:
    assert cnn_course_main(["quiz-preview", "--student", "alice", "--course", str(REPO_ROOT)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Quiz 05_quiz for student 'alice': 11 questions")
    assert Quiz("alice").text(11) in out
    assert cnn_course_main(["quiz-preview", "--student", " "]) == 2


def test_preview_warns_about_a_stale_student_module(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    (tmp_path / "source" / ASSIGNMENT).mkdir(parents=True)
    module = tmp_path / "source" / ASSIGNMENT / "quiz_variant.py"
    module.write_text(student_module_source())
    args = parser.parse_args(["quiz-preview", "--student", "alice"])
    args.course = tmp_path
    assert args.func(args) == 0
    module.write_text(student_module_source() + "# edited\n")
    assert run(args) == 1
    assert "WARNING" in capsys.readouterr().out


# --- through nbgrader --------------------------------------------------------------------

SWAP = next(
    pair
    for pair in itertools.combinations([f"swap{i}" for i in range(30)], 2)
    if _all_differ(*pair)
)
CHANGED_VARIANT = ("carol", "dave")  # carol submits with the variant cell set to dave


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    course = CourseDir.create(tmp_path_factory.mktemp("quiz") / "course", [ASSIGNMENT])
    course.generate(ASSIGNMENT)
    release = course.release_notebook(ASSIGNMENT)
    for number, student in enumerate(IDS):
        if number % 2:  # half compute from quiz.numbers, half type the values
            work = fill_notebook(release, correct_work(ASSIGNMENT, "numpy").code)
        else:
            work = quiz_submission(release, student)
        course.submit(student, ASSIGNMENT, work)
    first, second = SWAP
    course.submit(first, ASSIGNMENT, quiz_submission(release, first, answers_of=second))
    course.submit(second, ASSIGNMENT, quiz_submission(release, second, answers_of=first))
    carol, dave = CHANGED_VARIANT
    course.submit(carol, ASSIGNMENT, quiz_submission(release, carol, variant_id=dave))
    course.submit("blank", ASSIGNMENT, release)
    course.autograde(ASSIGNMENT)
    return course


def _scores(course: CourseDir, student: str) -> dict[str, tuple[float, float]]:
    grades = course.grades(ASSIGNMENT, student)
    return {g.grade_id: (g.score, g.max_score) for g in grades.values()}


def test_the_quiz_has_its_points(course: CourseDir) -> None:
    scores = _scores(course, IDS[0])
    assert set(scores) == {f"{k}_check" for k in QUESTION_KEYS}
    assert sum(m for _, m in scores.values()) == 30


@pytest.mark.parametrize("student", IDS)
def test_correct_answers_get_full_marks(course: CourseDir, student: str) -> None:
    scores = _scores(course, student)
    assert {k: s for k, (s, m) in scores.items() if s != m} == {}
    assert VARIANT_NOTE not in course.cell_text(ASSIGNMENT, student, "q1_check")


def test_swapped_answers_score_nothing_where_the_numbers_differ(course: CourseDir) -> None:
    for student, other in (SWAP, SWAP[::-1]):
        scores = _scores(course, student)
        mine, theirs = expected_answers(student), expected_answers(other)
        for key in QUESTION_KEYS:
            score, _ = scores[f"{key}_check"]
            assert _differ(mine[key], theirs[key])
            assert score == 0, f"{student} scored on {key} with {other}'s answer"
        text = course.cell_text(ASSIGNMENT, student, "q3_check")
        assert f"Your numbers (student {student!r})" in text


def test_changing_the_variant_cell_changes_nothing_but_is_reported(course: CourseDir) -> None:
    carol, dave = CHANGED_VARIANT
    scores = _scores(course, carol)
    assert all(s == m for s, m in scores.values()), scores
    assert "'dave'" in course.cell_text(ASSIGNMENT, carol, "variant")
    for key in QUESTION_KEYS:
        assert VARIANT_NOTE in course.cell_text(ASSIGNMENT, carol, f"{key}_check")
    course.generate_feedback(ASSIGNMENT, carol)
    html = (course.root / "feedback" / carol / ASSIGNMENT / "quiz.html").read_text()
    assert VARIANT_NOTE in html


def test_a_blank_submission_scores_zero(course: CourseDir) -> None:
    assert all(s == 0 for s, _ in _scores(course, "blank").values())


def test_preview_shows_a_graded_submission(course: CourseDir) -> None:
    first, second = SWAP
    text = preview_text(first, course.root)
    assert typed_answers(second)["q1"] in text  # what was submitted
    assert "Autograder: ✗ q1" in text


def test_variant_cell_helper_edits_only_the_variant_cell(course: CourseDir) -> None:
    release = course.release_notebook(ASSIGNMENT)
    changed = set_variant_cell(release, "zed")
    differing = [
        (a.source, b.source)
        for a, b in zip(release.cells, changed.cells, strict=True)
        if a.source != b.source
    ]
    assert len(differing) == 1 and "STUDENT_ID = 'zed'" in differing[0][1]
    with pytest.raises(KeyError):
        set_variant_cell(nbformat.v4.new_notebook(), "zed")
