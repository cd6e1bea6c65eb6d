"""Diagnostic grading used by the hidden tests.

In a hidden test cell::

    from cnn_solutions.grading import check, check_answer
    check("conv2d", conv2d, "stride")
    check_answer("laplacian_response", laplacian_response)

A passing check prints one line; a failing one raises :class:`GradingFailure`, whose
message names the failed case, the first difference and the likely mistake.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from cnn_solutions.grading import guard
from cnn_solutions.grading.check import (
    MISTAKE_PREFIX,
    AnswerMistake,
    AnswerSpec,
    run_answer_check,
    run_check,
)
from cnn_solutions.grading.core import Case, FunctionSpec, Mistake
from cnn_solutions.grading.guard import GradingFailure

__all__ = [
    "check",
    "check_answer",
    "aspects",
    "function_spec",
    "answer_spec",
    "function_names",
    "answer_names",
    "Case",
    "Mistake",
    "FunctionSpec",
    "AnswerSpec",
    "AnswerMistake",
    "GradingFailure",
    "MISTAKE_PREFIX",
]

# One module per assignment, each with FUNCTIONS and ANSWERS.
TOPIC_MODULES = (
    "cnn_solutions.grading.filters",
    "cnn_solutions.grading.output_size",
    "cnn_solutions.grading.conv1x1",
    "cnn_solutions.grading.backprop",
)


@cache
def _registry() -> tuple[dict[str, FunctionSpec], dict[str, AnswerSpec]]:
    functions: dict[str, FunctionSpec] = {}
    answers: dict[str, AnswerSpec] = {}
    for name in TOPIC_MODULES:
        module = importlib.import_module(name)
        functions.update({spec.name: spec for spec in module.FUNCTIONS})
        answers.update({spec.name: spec for spec in module.ANSWERS})
    return functions, answers


def function_spec(name: str) -> FunctionSpec:
    functions = _registry()[0]
    if name not in functions:
        raise KeyError(f"no grading spec for function {name!r}; known: {', '.join(functions)}")
    return functions[name]


def answer_spec(name: str) -> AnswerSpec:
    answers = _registry()[1]
    if name not in answers:
        raise KeyError(f"no grading spec for answer {name!r}; known: {', '.join(answers)}")
    return answers[name]


def function_names() -> list[str]:
    return list(_registry()[0])


def answer_names() -> list[str]:
    return list(_registry()[1])


def aspects(name: str) -> list[str]:
    """The aspects (groups of cases, one graded cell each) of a function."""
    return list(function_spec(name).suites)


def check(name: str, fn: Callable[..., Any], aspect: str) -> None:
    """Check one aspect of a student's function against the reference."""
    print(run_check(function_spec(name), fn, aspect))


def check_answer(name: str, value: Any) -> None:
    """Check an answer variable against the value computed by the reference."""
    # The value becomes plain data before its spec (and expected value) is even looked up,
    # so that none of its own methods runs while the expected value is reachable (guard.py).
    guard.begin_check(name)
    plain = guard.answer(value, name)
    spec = answer_spec(name)
    guard.report_answer_source(name, spec.expected, value)
    print(run_answer_check(spec, plain))
