"""Diagnostic grading: the specs of every contract function and answer, and the verdicts.

This package runs in the grader's process only, never in a student's kernel (the
kernel gets :mod:`cnn_probe`). :func:`check` and :func:`check_answer` judge a function or
value at hand in this process, as the probe does for an instructor validating the source
notebook: a passing check prints one line; a failing one raises :class:`GradingFailure`,
whose message names the failed case, the first difference and the likely mistake.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from cnn_course.grading.check import (
    MISTAKE_PREFIX,
    AnswerMistake,
    AnswerSpec,
    run_answer_check,
    run_check,
)
from cnn_course.grading.core import Case, FunctionSpec, GradingFailure, Mistake
from cnn_course.manifest import TOPIC_MODULES

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


@cache
def _registry() -> tuple[dict[str, FunctionSpec], dict[str, AnswerSpec]]:
    functions: dict[str, FunctionSpec] = {}
    answers: dict[str, AnswerSpec] = {}
    # One module per topic assignment (the manifest's), each with FUNCTIONS and ANSWERS.
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
    print(run_answer_check(answer_spec(name), value))
