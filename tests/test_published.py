"""Code other people published, graded as a student's (issue #13).

Each entry of :mod:`cnn_course.classroom.published` is an implementation from a public
solution, tutorial or book, adapted to the contract. Correct ones keep every mark; buggy
ones lose marks and the feedback names their mistake, on the fixed cases and on a
submission's random draw alike, with never two contradictory names in one report.
"""

from __future__ import annotations

import pytest

from cnn_course.classroom.published import Published, examine, published
from cnn_course.manifest import TOPICS

pytestmark = pytest.mark.unit

SEEDS = (None, 0x9E3779B97F4A7C15)
CORRECT = [e for e in published() if e.mistake is None]
BUGGY = [e for e in published() if e.mistake is not None]


def label(entry: Published) -> str:
    return f"{entry.function}-{entry.source}-{(entry.mistake or 'correct')[:40]}"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed-{s}")
@pytest.mark.parametrize("entry", CORRECT, ids=label)
def test_published_correct_code_keeps_every_mark(entry: Published, seed: int | None) -> None:
    examined = examine(entry, seed)
    assert examined.failed == {}, examined.failed
    assert examined.others_failed == {}, examined.others_failed


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed-{s}")
@pytest.mark.parametrize("entry", BUGGY, ids=label)
def test_published_mistake_loses_marks_and_is_named(entry: Published, seed: int | None) -> None:
    examined = examine(entry, seed)
    assert examined.lost_marks, f"{entry.label} kept every mark"
    assert examined.named, (entry.mistake, examined.failed)
    for report in examined.failed.values():
        names = [line for line in report.splitlines() if line.strip().startswith("Likely")]
        assert len(names) <= 1, report


@pytest.mark.parametrize("assignment", TOPICS)
def test_every_assignment_has_published_code_correct_and_buggy(assignment: str) -> None:
    entries = published(assignment)
    assert sum(e.mistake is None for e in entries) >= 2, assignment
    assert sum(e.mistake is not None for e in entries) >= 3, assignment
    for entry in entries:
        assert entry.source.strip() and entry.source != "simulated", entry
    codes = [e.code for e in entries]
    assert len(codes) == len(set(codes)), "an entry is listed twice"
