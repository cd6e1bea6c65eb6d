"""Causes of the raw crashes students hit, in the "Likely mistake" form (issue #13).

A student's function that raises is otherwise shown only with its traceback. These rules
recognise the exception by its class and message (what the kernel sent as plain data) and,
where it matters, by the case that made it happen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnn_solutions.grading.core import Case, FunctionSpec, StudentError

KERNEL_PARAMS = ("kernel", "filters", "w")


@dataclass(frozen=True)
class CrashCause:
    """An exception that a known mistake produces."""

    name: str
    advice: str
    classes: tuple[str, ...]  # any of these exception class names
    message: str  # a regular expression the message matches
    applies: Callable[[FunctionSpec, Case], bool] = lambda spec, case: True


def _argument(spec: FunctionSpec, case: Case, names: tuple[str, ...]) -> Any:
    for name in names:
        if name in case.kwargs:
            return case.kwargs[name]
        if name in spec.params and spec.params.index(name) < len(case.args):
            return case.args[spec.params.index(name)]
    return None


def _non_square_kernel(spec: FunctionSpec, case: Case) -> bool:
    kernel = _argument(spec, case, KERNEL_PARAMS)
    shape = np.shape(kernel) if kernel is not None else ()
    return len(shape) >= 2 and shape[0] != shape[1]


CAUSES = (
    CrashCause(
        "float() or int() of an array (NumPy 2 refuses it)",
        "Since NumPy 2, float(a) and int(a) need a 0-dimensional array: take the value with "
        "a.item(), or keep it a NumPy scalar (np.sum(...) returns one); b[k] is a scalar, "
        "b[k:k+1] or a (1, 1, 1) slice is not.",
        ("TypeError",),
        r"only (0-dimensional|length-1|size-1) arrays can be converted",
    ),
    CrashCause(
        "np.int / np.float used (removed in NumPy 1.24)",
        "np.int, np.float, np.bool and np.object were aliases of the builtins and are gone: "
        "write int, float (or np.int64, np.float64 for a NumPy type).",
        ("AttributeError",),
        r"module 'numpy' has no attribute '(int|float|bool|object|complex|str)'",
    ),
    CrashCause(
        "a size or position computed with / (a float)",
        "Sizes, indices and range() bounds must be integers: use // (floor division), as in "
        "(n + 2 * padding - f) // stride + 1, not / or int() around a product of floats.",
        ("TypeError", "IndexError"),
        r"'(numpy\.)?float(64)?' object cannot be interpreted as an integer"
        r"|only integers, slices .* are valid indices"
        r"|slice indices must be integers",
    ),
    CrashCause(
        "a square filter assumed (one f for both kernel sides)",
        "This filter is not square: read both sides, kh, kw = w.shape[:2], and take windows "
        "of kh rows and kw columns (the output width uses kw).",
        ("ValueError", "IndexError"),
        r"could not be broadcast|out of bounds|shapes .* not aligned",
        _non_square_kernel,
    ),
)


def crash_causes(
    spec: FunctionSpec, case: Case, error: StudentError
) -> tuple[tuple[str, str], ...]:
    """The (name, advice) of every cause that explains ``error`` on ``case``."""
    return tuple(
        (cause.name, cause.advice)
        for cause in CAUSES
        if any(error.is_a_named(c) for c in cause.classes)
        and re.search(cause.message, error.message)
        and cause.applies(spec, case)
    )
