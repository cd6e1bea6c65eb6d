"""The quiz copying detector: answers that fit a classmate's variant, not one's own."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_notebook

from cnn_course.grading.copying import (
    ANSWERS_KEY,
    MAX_ANSWER_CHARS,
    MIN_MATCHES,
    read_answers,
    recorded_answers,
    suspected_copying,
)
from cnn_course.grading.quiz import expected_answers
from cnn_course.plugins import JudgeResults
from cnn_probe import wire

pytestmark = pytest.mark.unit

QUIZ = "05_quiz"
CLASS = ["ada", "bo", "cy", "dee", "eli"]


def as_recorded(answers: dict) -> dict:
    """Answers as the judge records them and the report reads them back (through a file)."""
    notebook = new_notebook()
    notebook.metadata[ANSWERS_KEY] = recorded_answers(
        (k, wire.encode(v)) for k, v in answers.items()
    )
    return read_answers(nbformat.reads(nbformat.writes(notebook), as_version=4).metadata)


def test_answers_copied_from_a_classmate_are_suspected_with_their_source() -> None:
    copied = as_recorded(expected_answers("ada"))
    work = [(s, QUIZ, as_recorded(expected_answers(s))) for s in CLASS if s != "eli"]
    found = suspected_copying([*work, ("eli", QUIZ, copied)], CLASS)
    assert len(found) == 1
    suspicion = found[0]
    assert (suspicion.student, suspicion.assignment, suspicion.source) == ("eli", QUIZ, "ada")
    assert suspicion.matches == suspicion.telling >= MIN_MATCHES and suspicion.own == 0
    assert suspicion.reason.startswith(f"{suspicion.telling} of {suspicion.telling} answers")


@pytest.mark.parametrize("copied", [2, 4, 6, 8])
def test_part_copied_work_is_suspected_once_most_answers_are_the_classmates(copied: int) -> None:
    own, theirs = expected_answers("bo"), expected_answers("cy")
    keys = list(own)[:copied]
    mixed = {k: (theirs[k] if k in keys else own[k]) for k in own}
    found = suspected_copying([("bo", QUIZ, as_recorded(mixed))], CLASS)
    telling = len(own)  # the two variants differ in every answer
    if copied < MIN_MATCHES or copied <= telling - copied:
        assert found == []
    else:
        assert [(s.source, s.telling, s.matches, s.own) for s in found] == [
            ("cy", telling, copied, telling - copied)
        ]


def test_honest_and_wrong_work_is_not_suspected() -> None:
    honest = [(s, QUIZ, as_recorded(expected_answers(s))) for s in CLASS]
    off_by_one = {
        k: (v + 1 if isinstance(v, int) else v) for k, v in expected_answers("dee").items()
    }
    nonsense = {k: 0 for k in expected_answers("eli")}
    work = [*honest, ("dee", QUIZ, as_recorded(off_by_one)), ("eli", QUIZ, nonsense)]
    assert suspected_copying(work, CLASS) == []


def test_a_classmate_outside_the_roster_is_not_compared() -> None:
    copied = as_recorded(expected_answers("zed"))
    assert suspected_copying([("ada", QUIZ, copied)], CLASS) == []
    assert [s.source for s in suspected_copying([("ada", QUIZ, copied)], [*CLASS, "zed"])] == [
        "zed"
    ]


def test_recorded_answers_leave_out_repeated_and_oversized_ones() -> None:
    big = wire.encode(np.zeros(MAX_ANSWER_CHARS))
    recorded = recorded_answers([("q1", 17), ("q2", [1, 2]), ("q1", 18), ("q6", big)])
    assert recorded == {"q2": [1, 2]}


@pytest.mark.parametrize(
    "metadata",
    [{}, {ANSWERS_KEY: "q1 = 3"}, {ANSWERS_KEY: [1, 2]}, {ANSWERS_KEY: {"q1": {"__nd": 7}}}],
    ids=["none", "text", "list", "malformed value"],
)
def test_malformed_records_read_as_no_answers(metadata: dict) -> None:
    assert read_answers(metadata) == {}


def test_the_judge_drops_answers_a_student_wrote_into_the_notebook() -> None:
    """A notebook's own metadata under the key is the student's: judged, it is gone."""
    forged = new_notebook()
    forged.metadata[ANSWERS_KEY] = {"q1": 31}
    judged, _ = JudgeResults().preprocess(nbformat.from_dict(forged), {})
    assert ANSWERS_KEY not in judged.metadata
