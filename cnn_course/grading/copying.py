"""Suspected copying in the quiz: answers that fit a classmate's numbers, not one's own.

Every student's quiz has numbers of their own (:mod:`cnn_solutions.quiz`), so answers
copied from a classmate are wrong for the copier, and right, one after another, for the
classmate's variant. While autograding, :class:`~cnn_course.plugins.JudgeResults`
records the answers the probe reported, as plain data, in the autograded notebook's
metadata (:data:`ANSWERS_KEY`, written by the grader: a key the student put there is
dropped). The report compares each submission's answers with the expected answers of every
student in the gradebook.

Only *telling* questions count: those whose answer differs between the submitter's
variant and the classmate's (a question with the same answer for both says nothing).
Work is suspected when it answers at least :data:`MIN_MATCHES` telling questions as the
classmate's variant wants, and more of them than its own variant wants. It is a lead for
the instructor to look at, not a verdict: nothing is withheld or changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cnn_course.grading.core import compare
from cnn_course.grading.quiz import expected_answers
from cnn_probe import wire

ANSWERS_KEY = "cnn_course_quiz_answers"
MIN_MATCHES = 3
# A recorded answer larger than this (as JSON) is left out: no quiz answer is near it.
MAX_ANSWER_CHARS = 4_000


@dataclass(frozen=True)
class CopyingSuspicion:
    """Quiz work whose answers fit ``source``'s variant better than the submitter's own.

    Attributes
    ----------
    student, assignment : str
        The submission.
    source : str
        The classmate whose variant the answers fit.
    telling : int
        Questions whose answers differ between the two variants (among those answered).
    matches : int
        Telling questions answered as ``source``'s variant wants.
    own : int
        Telling questions answered as the submitter's own variant wants.
    """

    student: str
    assignment: str
    source: str
    telling: int
    matches: int
    own: int

    @property
    def reason(self) -> str:
        return (
            f"{self.matches} of {self.telling} answers that differ between the two variants "
            f"are {self.source}'s, {self.own} the student's own"
        )

    @property
    def line(self) -> str:
        """One line for the terminal."""
        return (
            f"suspected copying: {self.student}'s {self.assignment} answers fit "
            f"{self.source}'s variant ({self.reason})"
        )


def recorded_answers(found: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """What :data:`ANSWERS_KEY` holds: ``(question, encoded value)`` pairs, small ones only.

    A question reported twice is left out (the cell's verdict says "more than one result").
    """
    answers: dict[str, Any] = {}
    seen: set[str] = set()
    for key, value in found:
        if key in seen:
            answers.pop(key, None)
            continue
        seen.add(key)
        if len(json.dumps(value)) <= MAX_ANSWER_CHARS:
            answers[key] = value
    return answers


def read_answers(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The answers recorded in an autograded notebook's metadata, decoded; {} if none."""
    recorded = metadata.get(ANSWERS_KEY)
    if not isinstance(recorded, dict):
        return {}
    # As JSON text and back: plain dicts and lists, not the NotebookNodes nbformat made.
    recorded = json.loads(json.dumps(recorded))
    answers = {}
    for key, value in recorded.items():
        try:
            answers[str(key)] = wire.decode(value)
        except (wire.WireError, ValueError, TypeError):
            continue
    return answers


def _agrees(expected: Any, value: Any) -> bool:
    try:
        return compare(expected, value) is None
    except (TypeError, ValueError):
        return False


def _compared(
    answers: Mapping[str, Any], own: Mapping[str, Any], other: Mapping[str, Any]
) -> tuple[int, int, int]:
    """(telling, matches, own) for one submission against one classmate's variant."""
    telling = [k for k in answers if k in own and k in other and not _agrees(own[k], other[k])]
    matches = sum(_agrees(other[k], answers[k]) for k in telling)
    mine = sum(_agrees(own[k], answers[k]) for k in telling)
    return len(telling), matches, mine


def suspected_copying(
    work: Iterable[tuple[str, str, Mapping[str, Any]]], roster: Iterable[str]
) -> list[CopyingSuspicion]:
    """Quiz submissions whose answers fit a classmate's variant (see the module doc).

    Parameters
    ----------
    work : iterable of (student, assignment, answers)
        Each submission's recorded answers (:func:`read_answers`); empty ones are skipped.
    roster : iterable of str
        The students whose variants answers are compared with (the gradebook's).

    Returns
    -------
    list of CopyingSuspicion
        One per suspected submission, for the classmate it fits best.
    """
    expected: dict[str, dict[str, Any]] = {}

    def variant(student: str) -> dict[str, Any]:
        if student not in expected:
            expected[student] = expected_answers(student)
        return expected[student]

    classmates = sorted(set(roster))
    found = []
    for student, assignment, answers in work:
        own = variant(student)
        wrong = sum(not _agrees(own[k], v) for k, v in answers.items() if k in own)
        if wrong < MIN_MATCHES:  # an answer right for one's own variant fits no other better
            continue
        best = None
        for other in classmates:
            if other == student:
                continue
            telling, matches, mine = _compared(answers, own, variant(other))
            if matches >= MIN_MATCHES and matches > mine and (best is None or matches > best[2]):
                best = (other, telling, matches, mine)
        if best is not None:
            found.append(CopyingSuspicion(student, assignment, *best))
    return sorted(found, key=lambda s: (s.assignment, s.student))
