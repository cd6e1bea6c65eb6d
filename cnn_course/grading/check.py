"""Verdicts: one aspect of one function from its call records, or one answer's value.

:func:`judge_function` and :func:`judge_answer` are what the course's ``JudgeResults``
preprocessor calls with the data a kernel sent. :func:`run_check` and
:func:`run_answer_check` do the same for a function or value at hand, in this process
(an instructor validating the source notebook; the test suite): the function is called
through the probe's own code and its records encoded and decoded as a kernel's would be,
so both ways judge alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cnn_course.grading.core import (
    Call,
    Case,
    FunctionSpec,
    GradingFailure,
    cases_for,
    compare,
    describe_case,
    labelled,
    matches,
    reference_result,
    show,
)
from cnn_course.grading.crashes import crash_causes
from cnn_probe import call as probe_call
from cnn_probe import wire

MISTAKE_PREFIX = "Likely mistake:"
# Parts of a result that hold a filter bank's gradient (kh, kw, C_in, C_out).
FILTER_GRADIENTS = frozenset({"dw"})


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
    part: str = ""  # of a result in parts (``spec.parts``), the first one that is wrong
    out_of_cpu: bool = False  # the probe's CPU-time limit stopped it, here or earlier


def mistake_lines(found: tuple[tuple[str, str], ...]) -> list[str]:
    """One "Likely mistake" line; when several mistakes give this very result, one line
    that says so ("one of ..."), then each one's advice: never two contradictory names."""
    if len(found) <= 1:
        return [f"  {MISTAKE_PREFIX} {name}. {advice}" for name, advice in found]
    names = " or ".join(name for name, _ in found)
    lines = [f"  {MISTAKE_PREFIX} one of: {names} (each gives exactly this result here)."]
    return lines + [f"    If {name}: {advice}" for name, advice in found]


def _captured_lines(call: Call) -> list[str]:
    lines = []
    if call.warnings:
        lines.append("  Your code warned (ignored for grading): " + "; ".join(call.warnings[:3]))
    if call.stderr.strip():
        lines.append(
            "  Your code wrote to stderr (ignored for grading): " + call.stderr.strip()[:300]
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


def _judge(spec: FunctionSpec, case: Case, call: Call) -> Verdict | None:
    # The probe skips a function only after it ran out of CPU time in an earlier case.
    if call.skipped is not None:
        return Verdict(f"not run: {call.skipped}", call, out_of_cpu=True)
    if call.timeout is not None:
        return Verdict(
            f"did not finish within {call.timeout:g} s of CPU time on these small inputs: "
            "is there an endless loop?",
            call,
            out_of_cpu=True,
        )
    if case.raises is not None:
        return _judge_raise(case, call)
    if call.error is not None:
        if call.error.is_a(NotImplementedError):
            return Verdict("not implemented yet (it raises NotImplementedError)", call)
        found = crash_causes(spec, case, call.error)
        return Verdict("raised an error:\n" + _indent(call.error.where, 6), call, mistakes=found)
    if call.modified:
        names = ", ".join(call.modified)
        return Verdict(f"changed its input {names} in place; work on a copy instead", call)
    expected = reference_result(spec.reference, case)
    problem = _check_shape_of_parts(spec, call.result)
    part = ""
    if problem is None:
        for where, e in _split(spec, expected):
            index = spec.parts.index(where) if spec.parts else 0
            problem = compare(e, _part(spec, call.result, index), where)
            if problem:
                part = where
                break
    if problem is None:
        return None
    found = (
        ()
        if _check_shape_of_parts(spec, call.result)
        else _diagnose(spec, case, expected, call.result)
    )
    return Verdict(problem, call, expected, found, part)


def _judge_raise(case: Case, call: Call) -> Verdict | None:
    wanted = case.raises.__name__
    if call.error is None:
        return Verdict(
            f"should raise {wanted} ({case.label}), but returned {show(call.result)}", call
        )
    if not call.error.is_a(case.raises):
        return Verdict(f"should raise {wanted} ({case.label}), but raised {call.error.where}", call)
    if not call.error.message.strip():
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
    if v.expected is not None and v.part:
        # Of a result in parts, the wrong one (a gradient of filters shown as kernels).
        index, filters = spec.parts.index(v.part), v.part in FILTER_GRADIENTS
        expected, got = f"  Expected {v.part}: ", f"  Got {v.part}: "
        got = got.ljust(len(expected))
        lines.append(labelled(expected, show(v.expected[index], filters)))
        lines.append(labelled(got, show(v.call.result[index], filters)))
    elif v.expected is not None:
        lines.append(labelled("  Expected: ", show(v.expected)))
        lines.append(labelled("  Got:      ", show(v.call.result)))
    lines += mistake_lines(v.mistakes) + _captured_lines(v.call)
    return "\n".join(lines)


def encode_cases(cases: Sequence[Case]) -> str:
    """The cases' inputs as the probe receives them (JSON of :mod:`cnn_probe.wire` data)."""
    return json.dumps(wire.encode([(case.args, case.kwargs) for case in cases]))


def judge_function(spec: FunctionSpec, aspect: str, cases: Sequence[Case], records: Any) -> str:
    """Judge the kernel's records of one aspect's cases; return a summary or raise.

    Raises
    ------
    GradingFailure
        For the first case that failed, or records that are not one per case of the
        documented form.
    """
    title = f"{spec.name} · {aspect}"
    if type(records) is not list or len(records) != len(cases):
        raise GradingFailure(f"✗ {title}: the results sent do not match the cases")
    for number, (case, record) in enumerate(zip(cases, records, strict=True), start=1):
        try:
            call = Call.from_record(record, spec.params, case)
        except (wire.WireError, ValueError) as error:
            raise GradingFailure(f"✗ {title}: case {number}: malformed result ({error})") from None
        verdict = _judge(spec, case, call)
        if verdict is not None:
            raise GradingFailure(
                _report(spec, aspect, number, len(cases), case, verdict),
                tuple(name for name, _ in verdict.mistakes),
                verdict.out_of_cpu,
            )
    return f"✓ {title}: all {len(cases)} cases match the reference"


def probe_here(fn: Callable[..., Any], cases: Sequence[Case]) -> list[dict[str, Any]]:
    """Call ``fn`` on each case through the probe's code, in this process; the records
    go through the wire format both ways, as a kernel's would."""
    inputs = wire.decode(json.loads(encode_cases(cases)))
    records = [probe_call.call(fn, args, kwargs) for args, kwargs in inputs]
    return json.loads(json.dumps(records))


def run_check(
    spec: FunctionSpec, fn: Callable[..., Any], aspect: str, submission_seed: int | None = None
) -> str:
    """Run every case of ``aspect`` on ``fn`` here; return a summary or raise GradingFailure."""
    cases = cases_for(spec, aspect, submission_seed)
    if not callable(fn):
        raise GradingFailure(f"✗ {spec.name} · {aspect}: `{spec.name}` is not a function")
    return judge_function(spec, aspect, cases, probe_here(fn, cases))


def judge_answer(spec: AnswerSpec, value: Any) -> str:
    """Compare an answer (plain data, as decoded) with the reference; summary or raise."""
    problem = compare(spec.expected, value)
    if problem is None:
        return f"✓ {spec.name}: correct"
    found = tuple((m.name, m.advice) for m in spec.mistakes if matches(m.value, value))
    lines = [
        f"✗ {spec.name} ({spec.meaning}): {problem}",
        labelled("  Expected: ", show(spec.expected)),
        labelled("  Got:      ", show(value)),
        *mistake_lines(found),
    ]
    raise GradingFailure("\n".join(lines), tuple(name for name, _ in found))


def run_answer_check(spec: AnswerSpec, value: Any) -> str:
    """:func:`judge_answer` on a value at hand, after the wire format's round trip."""
    return judge_answer(spec, wire.decode(json.loads(json.dumps(wire.encode(value)))))
