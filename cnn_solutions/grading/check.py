"""Checks used by hidden test cells: one aspect of one function, or one answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnn_solutions.grading import guard
from cnn_solutions.grading.core import (
    CALL_SECONDS,
    Call,
    Case,
    FunctionSpec,
    StudentTimeout,
    call_student,
    compare,
    describe_case,
    labelled,
    matches,
    reference_result,
    show,
    timed_out_before,
)
from cnn_solutions.grading.guard import GradingFailure

MISTAKE_PREFIX = "Likely mistake:"


@dataclass(frozen=True)
class AnswerMistake:
    """A wrong value a student typically gives for an answer, and why."""

    name: str
    advice: str
    value: Any


@dataclass(frozen=True)
class AnswerSpec:
    """What the grader knows about one answer variable."""

    name: str
    expected: Any
    meaning: str
    mistakes: tuple[AnswerMistake, ...] = ()


@dataclass
class Verdict:
    """Why one case failed, and which known mistakes reproduce the student's result."""

    problem: str
    call: Call
    expected: Any = None
    mistakes: tuple[tuple[str, str], ...] = ()


def mistake_lines(found: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"  {MISTAKE_PREFIX} {name}. {advice}" for name, advice in found]


def _captured_lines(call: Call) -> list[str]:
    lines = []
    if call.captured.warnings:
        lines.append(
            "  Your code warned (ignored for grading): " + "; ".join(call.captured.warnings[:3])
        )
    if call.captured.stderr.strip():
        lines.append(
            "  Your code wrote to stderr (ignored for grading): "
            + call.captured.stderr.strip()[:300]
        )
    return lines


def _split(spec: FunctionSpec, value: Any) -> list[tuple[str, Any]]:
    return list(zip(spec.parts, value, strict=True)) if spec.parts else [("", value)]


def _diagnose(
    spec: FunctionSpec, case: Case, expected: Any, got: Any
) -> tuple[tuple[str, str], ...]:
    """Name every known mistake whose model reproduces the student's wrong parts exactly."""
    wrong = [
        i
        for i, (where, e) in enumerate(_split(spec, expected))
        if compare(e, _part(spec, got, i), where)
    ]
    found = []
    for mistake in spec.mistakes:
        try:
            mistaken = reference_result(mistake.model, case)
        except Exception:  # noqa: BLE001 -- a model that cannot run on this case does not match
            continue
        parts = _split(spec, mistaken)
        if wrong and all(matches(parts[i][1], _part(spec, got, i)) for i in wrong):
            found.append((mistake.name, mistake.advice))
    # Several models may stand for one mistake (e.g. // and / after a missing parenthesis):
    # name it once.
    return tuple(dict.fromkeys(found))


def _part(spec: FunctionSpec, got: Any, index: int) -> Any:
    return got[index] if spec.parts else got


def _check_shape_of_parts(spec: FunctionSpec, got: Any) -> str | None:
    if not spec.parts:
        return None
    if not isinstance(got, tuple | list) or len(got) != len(spec.parts):
        return f"expected a tuple ({', '.join(spec.parts)}), got {show(got)}"
    return None


def _judge(spec: FunctionSpec, fn: Callable[..., Any], case: Case) -> Verdict | None:
    if timed_out_before(fn):
        problem = f"did not finish within {CALL_SECONDS:g} s in an earlier check; not run again"
        return Verdict(problem, Call())
    call = call_student(fn, case, spec.params)
    if case.raises is not None:
        return _judge_raise(case, call)
    if call.error is not None:
        if isinstance(call.error, StudentTimeout):
            return Verdict(call.error_text, call)
        if isinstance(call.error, NotImplementedError):
            return Verdict("not implemented yet (it raises NotImplementedError)", call)
        return Verdict("raised an error:\n" + _indent(call.error_text, 6), call)
    if call.modified:
        names = ", ".join(call.modified)
        return Verdict(f"changed its input {names} in place; work on a copy instead", call)
    expected = reference_result(spec.reference, case)
    problem = _check_shape_of_parts(spec, call.result)
    if problem is None:
        for where, e in _split(spec, expected):
            index = spec.parts.index(where) if spec.parts else 0
            problem = compare(e, _part(spec, call.result, index), where)
            if problem:
                break
    if problem is None:
        return None
    found = (
        ()
        if _check_shape_of_parts(spec, call.result)
        else _diagnose(spec, case, expected, call.result)
    )
    return Verdict(problem, call, expected, found)


def _judge_raise(case: Case, call: Call) -> Verdict | None:
    wanted = case.raises.__name__
    if call.error is None:
        return Verdict(
            f"should raise {wanted} ({case.label}), but returned {show(call.result)}", call
        )
    if not isinstance(call.error, case.raises):
        return Verdict(f"should raise {wanted} ({case.label}), but raised {call.error_text}", call)
    if not str(call.error).strip():
        return Verdict(f"raised {wanted} without a message; say what is wrong", call)
    return None


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.splitlines())


def _report(
    spec: FunctionSpec, aspect: str, number: int, total: int, case: Case, v: Verdict
) -> str:
    lines = [
        f"✗ {spec.name} · {aspect}: case {number} of {total} failed ({case.label})",
        "  Inputs:",
        describe_case(spec, case),
        f"  Problem: {v.problem}",
    ]
    if v.expected is not None:
        lines.append(labelled("  Expected: ", show(v.expected)))
        lines.append(labelled("  Got:      ", show(v.call.result)))
    lines += mistake_lines(v.mistakes) + _captured_lines(v.call)
    return "\n".join(lines)


def run_check(spec: FunctionSpec, fn: Callable[..., Any], aspect: str) -> str:
    """Run every case of ``aspect``; return a one-line summary or raise GradingFailure."""
    if aspect not in spec.suites:
        raise KeyError(f"{spec.name} has no aspect {aspect!r}; known: {', '.join(spec.suites)}")
    if not callable(fn):
        raise GradingFailure(f"✗ {spec.name} · {aspect}: `{spec.name}` is not a function")
    guard.begin_check(f"{spec.name} · {aspect}", fn, spec.name)  # restores what was tampered
    cases = spec.suites[aspect]()
    for number, case in enumerate(cases, start=1):
        verdict = _judge(spec, fn, case)
        if verdict is not None:
            raise GradingFailure(_report(spec, aspect, number, len(cases), case, verdict))
    guard.end_check(f"{spec.name} · {aspect}")  # a pass only counts on untouched state
    return f"✓ {spec.name} · {aspect}: all {len(cases)} cases match the reference"


def run_answer_check(spec: AnswerSpec, value: Any) -> str:
    """Compare an answer variable with the reference; return a summary or raise."""
    guard.begin_check(spec.name)
    problem = compare(spec.expected, value)
    if problem is None:
        guard.end_check(spec.name)
        return f"✓ {spec.name}: correct"
    found = tuple((m.name, m.advice) for m in spec.mistakes if matches(m.value, value))
    lines = [
        f"✗ {spec.name} ({spec.meaning}): {problem}",
        labelled("  Expected: ", show(spec.expected)),
        labelled("  Got:      ", show(value)),
        *mistake_lines(found),
    ]
    raise GradingFailure("\n".join(lines))
