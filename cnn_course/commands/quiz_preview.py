"""``cnn-course quiz-preview --student ID``: one student's quiz, as the grader sees it.

Shows every question with that student's numbers, the expected answer and the typical
wrong answers the feedback would name. In a course directory that holds the student's
submission (``submitted/<id>/05_quiz``), the submitted answer cells are shown too, with
the autograder's verdict once the submission is graded. It also warns when the course's
``source/05_quiz/quiz_variant.py`` (what students see) differs from the generator the
grader uses.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import nbformat

from cnn_course.course import outputs_text
from cnn_course.errors import CourseInputError
from cnn_course.grading.core import labelled, show
from cnn_course.grading.quiz import quiz_answer_spec
from cnn_course.manifest import QUIZ
from cnn_solutions.quiz import QUESTIONS, STUDENT_MODULE_NAME, Quiz, student_module_source

ASSIGNMENT = QUIZ.name
NOTEBOOK = QUIZ.notebook


def register(subparsers: Any) -> None:
    """Add the ``quiz-preview`` subcommand."""
    parser = subparsers.add_parser(
        "quiz-preview",
        help="show one student's quiz: questions with their numbers, and the answers",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--student", required=True, metavar="ID", help="the student id")
    parser.set_defaults(func=run)


def _cells_by_grade_id(path: Path) -> dict[str, nbformat.NotebookNode]:
    if not path.is_file():
        return {}
    notebook = nbformat.read(path, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in notebook.cells
        if "grade_id" in cell.metadata.get("nbgrader", {})
    }


def _indented(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _stale_variant_module(course: Path) -> bool:
    path = course / "source" / ASSIGNMENT / STUDENT_MODULE_NAME
    return path.is_file() and path.read_text(encoding="utf-8") != student_module_source()


def preview_text(student_id: str, course: Path | None = None) -> str:
    """The preview of one student's quiz; ``course`` adds their submission, if any."""
    quiz = Quiz(student_id)
    submitted: dict[str, nbformat.NotebookNode] = {}
    graded: dict[str, nbformat.NotebookNode] = {}
    if course is not None:
        submitted = _cells_by_grade_id(course / "submitted" / student_id / ASSIGNMENT / NOTEBOOK)
        graded = _cells_by_grade_id(course / "autograded" / student_id / ASSIGNMENT / NOTEBOOK)
    lines = [f"Quiz {ASSIGNMENT} for student {student_id!r}: {len(QUESTIONS)} questions", ""]
    for q in QUESTIONS:
        spec = quiz_answer_spec(q.key, student_id)
        lines += [quiz.text(q.key), labelled("  Answer: ", show(spec.expected))]
        # Mistakes that give the same number for this student share one line: the grader
        # cannot tell them apart here, and names them together ("one of").
        by_value: dict[str, list[str]] = {}
        for mistake in spec.mistakes:
            by_value.setdefault(show(mistake.value), []).append(mistake.name)
        for value, names in by_value.items():
            label = names[0] if len(names) == 1 else "one of: " + " or ".join(names)
            lines.append(labelled(f"  Wrong, {label}: ", value))
        if q.key + "_answer" in submitted:
            lines.append("  Submitted:")
            lines.append(_indented(submitted[q.key + "_answer"].source))
        if q.key + "_check" in graded:
            verdict = outputs_text(graded[q.key + "_check"]).strip().splitlines()
            lines.append(f"  Autograder: {verdict[0] if verdict else '(no output: passed)'}")
        lines.append("")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the preview; 1 if the course ships a stale ``quiz_variant.py``."""
    student_id = str(args.student).strip()
    if not student_id:
        raise CourseInputError("--student needs a non-empty student id")
    course = Path(getattr(args, "course", None) or ".").resolve()
    if not course.is_dir():
        raise CourseInputError(f"course directory {course} does not exist")
    print(preview_text(student_id, course))
    if _stale_variant_module(course):
        print(
            f"WARNING: {course / 'source' / ASSIGNMENT / STUDENT_MODULE_NAME} differs from the "
            "grader's generator: students see other numbers than the ones graded. Rewrite it "
            "with cnn_solutions.quiz.write_student_module and regenerate the release."
        )
        return 1
    return 0
