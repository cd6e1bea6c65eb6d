"""Published code through the real nbgrader pipeline (issue #13).

:mod:`test_published` grades every published entry in process; here the same entries are
typed into student notebooks, submitted and autograded by nbgrader with the course's
judge, as a student's work is: random cases drawn per submission, the verdicts judged
outside the kernel, and the "Where it starts" note of a failing helper. Entries of
different functions share a submission when neither calls the other's function, beside
correct work for the rest; correct entries keep every mark, buggy ones lose marks and
their cells' feedback names the mistake, and the rest of each submission keeps its marks.
"""

from __future__ import annotations

import pytest
from assignment_helpers import pack

from cnn_course.classroom import StudentMistake, correct_work, fill_notebook, styles
from cnn_course.classroom.published import Published, feedback_lines, names, published
from cnn_course.course import CourseDir
from cnn_course.grading import aspects
from cnn_course.manifest import TOPICS

# 03's written answer: graded by hand, so it scores nothing after autograding.
HAND_GRADED = {"why_1x1"}


def _as_work(entry: Published) -> StudentMistake:
    return StudentMistake(entry.function, entry.source, entry.code, entry.mistake or "", ())


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[CourseDir, dict]]:
    """Per assignment: the course and student -> the entries in their submission."""
    course = CourseDir.create(tmp_path_factory.mktemp("published") / "course", TOPICS)
    rounds: dict[str, dict[str, list[Published]]] = {}
    for assignment in TOPICS:
        course.generate(assignment)
        release = course.release_notebook(assignment)
        base = correct_work(assignment, styles(assignment)[0]).code
        entries: dict[int, Published] = {}  # by the id of its packed work
        works = []
        for entry in published(assignment):
            work = _as_work(entry)
            entries[id(work)] = entry
            works.append(work)
        rounds[assignment] = {}
        for index, group in enumerate(pack(works, together=True)):
            student = f"published-{index:02d}"
            rounds[assignment][student] = [entries[id(w)] for w in group]
            code = {**base, **{w.function: w.code for w in group}}
            course.submit(student, assignment, fill_notebook(release, code))
        course.autograde(assignment)
    return {a: (course, rounds[a]) for a in TOPICS}


@pytest.mark.parametrize("assignment", TOPICS)
def test_published_code_graded_by_nbgrader(graded, assignment: str) -> None:
    course, rounds = graded[assignment]
    problems = []
    for student, entries in rounds.items():
        grades = course.grades(assignment, student)
        mine = {e.function for e in entries}
        for entry in entries:
            cells = [f"{entry.function}_{a}" for a in aspects(entry.function)]
            lost = [c for c in cells if grades[c].score < grades[c].max_score]
            texts = [course.cell_text(assignment, student, c) for c in lost]
            if entry.mistake is None and lost:
                problems.append(f"{entry.label} (correct) lost {lost}: {texts[0][:600]}")
            elif entry.mistake is not None and not lost:
                problems.append(f"{entry.label} ({entry.mistake}) kept every mark")
            elif entry.mistake is not None:
                lines = [line for text in texts for line in feedback_lines(text)]
                if not names(entry.mistake, texts, lines):
                    problems.append(f"{entry.label}: {entry.mistake!r} not named: {lines[:2]}")
        # The rest of the submission is correct work; it keeps its marks, unless an entry's
        # code defines that function too (its own helper, under the contract's name).
        defined = {name for e in entries for name in aspects_defined(e)}
        for cell, grade in grades.items():
            function = next((f for f in defined | mine if cell.startswith(f + "_")), None)
            if function is None and cell not in HAND_GRADED and grade.score < grade.max_score:
                problems.append(f"{student}: {cell} lost marks beside {sorted(mine)}")
    assert problems == []


def aspects_defined(entry: Published) -> set[str]:
    """The contract functions ``entry``'s code defines (its function and own helpers)."""
    return {
        name
        for name in (
            line.split("(")[0].removeprefix("def ").strip()
            for line in entry.code.splitlines()
            if line.startswith("def ")
        )
    }
