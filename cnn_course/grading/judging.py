"""The trusted half of grading: which checks a test cell runs, their cases, their verdicts.

A hidden test cell calls :mod:`cnn_probe` (``check``, ``check_answer``, ``check_quiz``).
Before the notebook runs, :class:`~cnn_course.plugins.InjectCases` finds those calls
in the cell's source (nbgrader has just restored it from the gradebook, so it is the
instructor's, not the student's), draws this submission's cases and writes their inputs
into the call. After it ran, :class:`~cnn_course.plugins.JudgeResults` reads the
probe's outputs, and this module turns them into verdicts with the reference, in the
grader's own process.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_course.grading import answer_spec, function_spec
from cnn_course.grading.check import encode_cases, judge_answer, judge_function
from cnn_course.grading.core import Case, GradingFailure, cases_for
from cnn_course.grading.quiz import judge_quiz
from cnn_probe import MIME, wire

PROBE_CALLS = {"check": "function", "check_answer": "answer", "check_quiz": "quiz"}
# The likely mistakes a judged cell's failures name, as data in the autograded cell's
# metadata (the report reads them there; a key the student's notebook had is dropped).
MISTAKES_KEY = "cnn_course_mistakes"
# Why a judged cell did not finish, as data in its metadata beside the mistakes. The probe's
# limit counts the CPU time the student's code used, which a busy machine does not inflate:
# the code loops or is far too slow. nbgrader's cell timeout counts wall time: a loop, or a
# machine too busy.
STOPPED_KEY = "cnn_course_stopped"
CPU_LIMIT, WALL_CLOCK, KERNEL_LOST = "cpu limit", "wall clock", "kernel lost"
# nbgrader's own errors for a cell that did not finish.
UNFINISHED_ERRORS = {"CellTimeoutError": WALL_CLOCK, "DeadKernelError": KERNEL_LOST}
# What one test cell's probe outputs may hold, in all: far above any honest result.
MAX_PAYLOAD_CHARS = 8_000_000
SECRET_NAME = ".cnn-course-secret"


@dataclass(frozen=True)
class ProbeCall:
    """One probe call in a test cell's source: what it checks, and where the call ends."""

    kind: str  # "function", "answer" or "quiz"
    name: str
    aspect: str | None
    end: tuple[int, int]  # (line, column) just before the closing parenthesis


def probe_calls(source: str) -> list[ProbeCall]:
    """The probe calls of a cell's source, in order; [] if there are none or it won't parse.

    Only calls of the documented form count: ``check("name", fn, "aspect")``,
    ``check_answer("name", value)``, ``check_quiz("q1", value, quiz)``, names as literals.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        kind = PROBE_CALLS.get(node.func.id)
        literals = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        if kind is None or not literals or type(literals[0]) is not str:
            continue
        aspect = None
        if kind == "function":
            if len(literals) != 3 or type(literals[2]) is not str:
                continue
            aspect = literals[2]
        found.append(ProbeCall(kind, literals[0], aspect, (node.end_lineno, node.end_col_offset)))
    return sorted(found, key=lambda call: call.end)


# The last line of an autograded test cell: a cell whose outputs the judge did not replace
# keeps this error and scores nothing (cnn_probe.sent).
CELL_END = '\n__import__("cnn_probe").sent()\n'


def with_remote(source: str, calls: list[ProbeCall], remotes: list[str]) -> str:
    """``source`` with ``remote=<literal>`` added to each call (the probe's input), ending
    with :data:`CELL_END`."""
    lines = source.splitlines(keepends=True)
    for call, remote in sorted(zip(calls, remotes, strict=True), key=lambda p: p[0].end)[::-1]:
        line, column = call.end[0] - 1, call.end[1] - 1  # the closing parenthesis
        text = lines[line]
        lines[line] = f"{text[:column]}, remote={remote!r}{text[column:]}"
    return "".join(lines).rstrip("\n") + CELL_END


# --------------------------------------------------------------------------- seeds


def course_secret(path: Path) -> bytes:
    """The course's grading secret (32 random bytes, mode 600), made on first use."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def submission_seed(secret: bytes, identity: list[str], sources: list[str]) -> int:
    """A seed for one submission: HMAC of who submitted what, under the course secret.

    The same submission always gets the same seed (regrading gives the same grades); a
    changed submission, another student or another course gets another one, and without
    the secret nobody can compute it.
    """
    content = hashlib.sha256("\0".join(sources).encode()).hexdigest()
    message = json.dumps([*identity, content]).encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big")


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Planned:
    """A probe call with what the grader sent for it."""

    call: ProbeCall
    cases: tuple[Case, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.call.name} · {self.call.aspect}" if self.call.aspect else self.call.name

    def remote(self) -> str:
        return encode_cases(self.cases) if self.call.kind == "function" else "{}"


def plan(call: ProbeCall, seed: int) -> Planned:
    """The cases the grader sends for ``call`` (none for an answer or a quiz question)."""
    if call.kind == "function":
        return Planned(call, tuple(cases_for(function_spec(call.name), call.aspect, seed)))
    return Planned(call)


@dataclass(frozen=True)
class Verdict:
    """What a test cell shows for one probe call."""

    title: str
    passed: bool
    text: str
    mistakes: tuple[str, ...] = ()  # the likely mistakes a failure names
    out_of_cpu: bool = False  # the probe's CPU-time limit stopped the student's function


def payloads(outputs: list[Any]) -> list[Any]:
    """The probe outputs among a cell's outputs, decoded from JSON text if need be.

    Raises
    ------
    cnn_probe.wire.WireError
        If they hold more than :data:`MAX_PAYLOAD_CHARS` in all.
    """
    found, size = [], 0
    for output in outputs:
        data = output.get("data") if output.get("output_type") == "display_data" else None
        if not isinstance(data, dict) or MIME not in data:
            continue
        # As JSON text and back: plain dicts, lists and numbers, whatever nbformat made.
        text = data[MIME] if isinstance(data[MIME], str) else json.dumps(data[MIME])
        size += len(text)
        if size > MAX_PAYLOAD_CHARS:
            raise wire.WireError("the results are larger than any honest one")
        found.append(json.loads(text))
    return found


def _matches(planned: Planned, payload: Any) -> bool:
    return (
        type(payload) is dict
        and payload.get("kind") == planned.call.kind
        and payload.get("name") == planned.call.name
        and payload.get("aspect") == planned.call.aspect
    )


def quiz_values(planned: list[Planned], found: list[Any]) -> list[tuple[str, Any]]:
    """``(question, value as sent)`` for each quiz call's results, to look for copying."""
    return [
        (p.call.name, payload.get("value"))
        for p in planned
        if p.call.kind == "quiz"
        for payload in found
        if _matches(p, payload)
    ]


def judge(planned: Planned, found: list[Any], submitter: str | None) -> Verdict:
    """The verdict on one probe call from the probe outputs of its cell."""
    mine = [p for p in found if _matches(planned, p)]
    if not mine:
        return Verdict(planned.title, False, f"✗ {planned.title}: no result")
    if len(mine) > 1:
        return Verdict(planned.title, False, f"✗ {planned.title}: more than one result")
    payload = mine[0]
    try:
        text = _judge_payload(planned, payload, submitter)
    except GradingFailure as failure:
        return Verdict(planned.title, False, failure.report, failure.mistakes, failure.out_of_cpu)
    except (wire.WireError, ValueError, TypeError, KeyError) as error:
        return Verdict(planned.title, False, f"✗ {planned.title}: malformed result ({error})")
    return Verdict(planned.title, True, text)


def _judge_payload(planned: Planned, payload: dict, submitter: str | None) -> str:
    call = planned.call
    if call.kind == "function":
        spec = function_spec(call.name)
        if "not_callable" in payload:
            kind = str(payload["not_callable"])[:100]
            raise GradingFailure(f"✗ {planned.title}: `{call.name}` is not a function ({kind})")
        return judge_function(spec, call.aspect, planned.cases, payload.get("calls"))
    value = wire.decode(payload.get("value"))
    if call.kind == "answer":
        return judge_answer(answer_spec(call.name), value)
    shown_for = payload.get("shown_for")
    shown_for = shown_for[:200] if type(shown_for) is str else None
    return judge_quiz(call.name, value, shown_for, submitter)


def stopped_cause(verdicts: list[Verdict], kernel_error: str | None) -> str | None:
    """What :data:`STOPPED_KEY` holds for a cell: why it did not finish, or None.

    ``kernel_error`` is the name of the error the kernel showed in the cell, if any. The
    probe's CPU-time limit comes first: a function it stopped also makes the cell's visible
    asserts, which call it again without that limit, run into nbgrader's timeout, and the
    loop, not a busy machine, is the cause.
    """
    if any(v.out_of_cpu for v in verdicts if not v.passed):
        return CPU_LIMIT
    return UNFINISHED_ERRORS.get(kernel_error or "")


def named_mistakes(verdicts: list[Verdict]) -> list[str]:
    """What :data:`MISTAKES_KEY` holds for a cell: each failure's likely mistake, in order
    and without repeats ("A or B" where several mistakes give that very result)."""
    names = [" or ".join(v.mistakes) for v in verdicts if not v.passed and v.mistakes]
    return list(dict.fromkeys(names))
