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

from cnn_course.grading.core import Case, FunctionSpec, StudentError

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


def _padding_zero(spec: FunctionSpec, case: Case) -> bool:
    """A conv_backward case whose cache says padding 0."""
    cache = _argument(spec, case, ("cache",))
    return spec.name == "conv_backward" and isinstance(cache, tuple) and cache[-1] == 0


def _windows_do_not_tile(spec: FunctionSpec, case: Case) -> bool:
    """A pooling case whose windows overlap, leave gaps or do not fit the input exactly."""
    if spec.name == "maxpool_forward":
        x, size, stride = (_argument(spec, case, (name,)) for name in ("x", "size", "stride"))
    elif spec.name == "maxpool_backward":
        cache = _argument(spec, case, ("cache",))
        if not (isinstance(cache, tuple) and len(cache) == 3):
            return False
        x, size, stride = cache
    else:
        return False
    shape = np.shape(x)
    return len(shape) == 4 and (stride != size or shape[1] % size != 0 or shape[2] % size != 0)


# Names of the causes, for the specs and the published code that expect them.
NUMPY2_SCALAR = "float() or int() of an array (NumPy 2 refuses it)"
NUMPY_ALIASES = "np.int / np.float used (removed in NumPy 1.24)"
FLOAT_SIZE = "a size or position computed with / (a float)"
SQUARE_FILTER = "a square filter assumed (one f for both kernel sides)"
# Also the name of conv_backward's model (cnn_course.grading.backprop) for the same slip.
CROPPED_EMPTY = "padding cropped with p:-p, which is empty when padding is 0"
WINDOWS_TILE = "windows assumed to tile the input (a reshape into size x size blocks)"


CAUSES = (
    CrashCause(
        NUMPY2_SCALAR,
        "Since NumPy 2, float(a) and int(a) need a 0-dimensional array: take the value with "
        "a.item(), or keep it a NumPy scalar (np.sum(...) returns one); b[k] is a scalar, "
        "b[k:k+1] or a (1, 1, 1) slice is not.",
        ("TypeError",),
        r"only (0-dimensional|length-1|size-1) arrays can be converted",
    ),
    CrashCause(
        NUMPY_ALIASES,
        "np.int, np.float, np.bool and np.object were aliases of the builtins and are gone: "
        "write int, float (or np.int64, np.float64 for a NumPy type).",
        ("AttributeError",),
        r"module 'numpy' has no attribute '(int|float|bool|object|complex|str)'",
    ),
    CrashCause(
        FLOAT_SIZE,
        "Sizes, indices and range() bounds must be integers: use // (floor division), as in "
        "(n + 2 * padding - f) // stride + 1, not / or int() around a product of floats.",
        ("TypeError", "IndexError"),
        r"'(numpy\.)?float(64)?' object cannot be interpreted as an integer"
        r"|only integers, slices .* are valid indices"
        r"|slice indices must be integers",
    ),
    CrashCause(
        SQUARE_FILTER,
        "This filter is not square: read both sides, kh, kw = w.shape[:2], and take windows "
        "of kh rows and kw columns (the output width uses kw).",
        ("ValueError", "IndexError"),
        r"could not be broadcast|out of bounds|shapes .* not aligned",
        _non_square_kernel,
    ),
    CrashCause(
        CROPPED_EMPTY,
        "With padding 0, dx_padded[p:-p, p:-p] is dx_padded[0:0, 0:0], an empty array that "
        "cannot fill dx: crop with dx_padded[p:p+H, p:p+W] (H, W from x.shape), which works "
        "for every p.",
        ("ValueError",),
        r"could not broadcast input array from shape \((\d+,)?0,0",
        _padding_zero,
    ),
    CrashCause(
        WINDOWS_TILE,
        "Reshaping x into (H // size, size, W // size, size) blocks works only when the "
        "stride equals the size and both divide H and W exactly; here they do not. Loop over "
        "the output positions instead: window (i, j) is x[:, i*stride:i*stride+size, "
        "j*stride:j*stride+size], and the output has (H - size) // stride + 1 rows.",
        ("ValueError",),
        r"cannot reshape array of size \d+ into shape",
        _windows_do_not_tile,
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
