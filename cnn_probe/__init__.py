"""The probe: the only grading code that runs in a student's kernel.

A hidden test cell reads, in the instructor's notebook::

    from cnn_probe import check
    check("conv2d", conv2d, "stride")

While nbgrader autogrades, the course's ``InjectCases`` preprocessor (in the grader's
process) adds the inputs of this submission's cases to the call, as plain data
(``remote=...``), and ends the cell with :func:`sent`, an error. The probe calls the
student's function on each case and emits what came back as a cell output of its own
media type (:data:`MIME`); it never sees an expected value or a verdict. The course's
``JudgeResults`` preprocessor, again in the grader's process, reads that output, computes
the expected values with the reference, and replaces the cell's outputs with the verdict;
a cell whose outputs it does not replace keeps the error and scores nothing.

Without ``remote`` (an instructor validating the source notebook, a trusted process) the
probe judges in the same process, through :mod:`cnn_course.grading`.

This package holds no reference, expected value or grading rule: only the wire format
(:mod:`cnn_probe.wire`), the test functions a check hands to student code
(:mod:`cnn_probe.functions`) and the way student code is called (:mod:`cnn_probe.call`).
"""

from __future__ import annotations

import json
from typing import Any

from cnn_probe import wire
from cnn_probe.call import call as run_case

__all__ = ["MIME", "ProbeSent", "check", "check_answer", "check_quiz", "sent"]

MIME = "application/vnd.cnn-course.probe.v1+json"


class ProbeSent(Exception):
    """Ends a hidden test cell once its results are sent: only the grader awards points."""


def _emit(payload: dict[str, Any], what: str) -> None:
    from IPython.display import publish_display_data

    publish_display_data({MIME: payload, "text/plain": f"results of {what}, for the grader"})


def sent() -> None:
    """The last line of an autograded test cell: only the grader's verdict gives points."""
    raise ProbeSent("this cell's results went to the grader, which judges them")


def check(name: str, fn: Any, aspect: str, remote: str | None = None) -> None:
    """Run one aspect's cases on the student's function ``fn`` (see the module doc)."""
    if remote is None:
        from cnn_course.grading import check as judge_here

        judge_here(name, fn, aspect)
        return
    cases = wire.decode(json.loads(remote))
    payload: dict[str, Any] = {"kind": "function", "name": name, "aspect": aspect}
    if not callable(fn):
        payload["not_callable"] = type(fn).__name__
    else:
        payload["calls"] = [run_case(fn, args, kwargs) for args, kwargs in cases]
    _emit(payload, f"{name} · {aspect}")


def check_answer(name: str, value: Any, remote: str | None = None) -> None:
    """Send an answer variable's value to the grader (or judge it here, see the module doc)."""
    if remote is None:
        from cnn_course.grading import check_answer as judge_here

        judge_here(name, value)
        return
    _emit({"kind": "answer", "name": name, "value": wire.encode(value)}, name)


def check_quiz(key: str, value: Any, quiz: object = None, remote: str | None = None) -> None:
    """Send a quiz answer, and whose questions the notebook shows, to the grader."""
    shown_for = getattr(quiz, "student_id", None)
    shown_for = None if shown_for is None else str(shown_for)[:200]
    if remote is None:
        from cnn_course.grading.quiz import check_quiz as judge_here

        judge_here(key, value, shown_for)
        return
    payload = {"kind": "quiz", "name": key, "value": wire.encode(value), "shown_for": shown_for}
    _emit(payload, key)
