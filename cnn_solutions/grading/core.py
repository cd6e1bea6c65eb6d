"""The grading engine: run a student's function on cases, compare, explain.

A check runs every case of one *aspect* of one function (basic values, padding,
stride, ...). The first case whose result differs from the reference fails the check with
a :class:`GradingFailure`, whose message shows the inputs, expected against got, the first
position that differs and, where a known mistake reproduces the student's result exactly,
the mistake by name. nbgrader sees the failure as an error in the test cell (0 points for
that cell); IPython shows only the message, never the grader's source.
"""

from __future__ import annotations

import contextlib
import copy
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnn_solutions.grading import guard
from cnn_solutions.grading.isolation import Captured, quiet

# Every case is small: a correct plain-loop solution needs milliseconds, so a call that
# runs for seconds is stuck, and the cell timeout need not be reached.
CALL_SECONDS = 5.0
RTOL = 1e-6
ATOL = 1e-8
MAX_SHOWN_ELEMENTS = 49
MAX_SHOWN_MAP_ELEMENTS = 96


@dataclass(frozen=True)
class Case:
    """One call of a student function.

    ``args``/``kwargs`` are passed as given (copied for each call). ``raises`` names the
    exception the call must raise instead of returning. ``shown`` overrides how an argument
    is displayed, for arguments such as callables whose repr says nothing.
    """

    label: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    raises: type[BaseException] | None = None
    shown: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A typical mistake, recognised when its ``model`` reproduces the student's result.

    ``model`` takes the case's arguments like the reference does and returns what the
    mistaken code would return; a model that raises simply does not match.
    """

    name: str
    advice: str
    model: Callable[..., Any]


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the grader knows about one contract function."""

    name: str
    params: tuple[str, ...]
    reference: Callable[..., Any]
    suites: dict[str, Callable[[], list[Case]]]
    mistakes: tuple[Mistake, ...] = ()
    parts: tuple[str, ...] = ()  # names of a tuple result's items, e.g. ("dx", "dw", "db")


@dataclass
class Call:
    """The outcome of calling student code once."""

    result: Any = None
    error: BaseException | None = None
    error_text: str = ""
    captured: Captured = field(default_factory=Captured)
    modified: list[str] = field(default_factory=list)


# --- showing values ------------------------------------------------------------------


def _grid(plane: np.ndarray) -> str:
    return np.array2string(plane, separator=", ", precision=4, suppress_small=True)


def _maps(value: np.ndarray) -> str:
    """A channels-last array as its 2-D spatial maps, which read like the notebook's pictures.

    Printed whole, an (H, W, C) or (N, H, W, C) array puts every value on its own line.
    """
    lines = [f"array of shape {value.shape}, dtype {value.dtype}, as 2-D maps:"]
    leading = value.shape[:-3] if value.ndim == 4 else ()
    for index in np.ndindex(*leading, value.shape[-1]):
        *batch, channel = index
        where = "[" + ", ".join([*map(str, batch), ":", ":", str(channel)]) + "]"
        lines.append(
            labelled(f"  {where} = ", _grid(value[(*batch, slice(None), slice(None), channel)]))
        )
    return "\n".join(lines)


def show(value: Any) -> str:
    """A compact, readable rendering of an argument or result."""
    if isinstance(value, np.ndarray):
        if value.ndim in (3, 4) and value.size <= MAX_SHOWN_MAP_ELEMENTS:
            return _maps(value)
        if value.size <= MAX_SHOWN_ELEMENTS:
            body = np.array2string(
                value, separator=", ", precision=4, suppress_small=True, prefix="array("
            )
            return f"array({body}, dtype={value.dtype})"
        return f"array of shape {value.shape}, dtype {value.dtype}"
    if isinstance(value, tuple | list) and any(isinstance(v, np.ndarray) for v in value):
        inner = ", ".join(show(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


def labelled(label: str, text: str) -> str:
    """``label`` followed by ``text``, continuation lines aligned under the text."""
    return label + text.replace("\n", "\n" + " " * len(label))


def describe_case(spec: FunctionSpec, case: Case) -> str:
    names = list(spec.params[: len(case.args)])
    pairs = list(zip(names, case.args, strict=True)) + list(case.kwargs.items())
    lines = [
        labelled(f"    {name} = ", case.shown.get(name) or show(value)) for name, value in pairs
    ]
    return "\n".join(lines)


# --- calling student code ------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
        except (TypeError, ValueError):
            return False
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):  # never let a student type's __eq__ decide (guard.py)
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _student_frames(error: BaseException) -> str:
    """The part of a traceback that lies in the student's own code."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "cnn_solutions" not in frame.filename
    ]
    lines = traceback.format_list(frames[-3:])
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip()


class StudentTimeout(BaseException):
    """Raised inside student code that runs too long (BaseException: ``except Exception``
    in the student's code must not swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` of wall time (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        if guard.in_profile_hook(frame):
            # Raising inside the hook would unset it, a false tampering report: raise in
            # the student's code instead, a millisecond later.
            signal.setitimer(signal.ITIMER_REAL, 0.001)
            return
        raise StudentTimeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Functions that already ran out of time: later checks fail them at once, so a looping
# function costs one time limit, not one per graded cell (bounded grading time).
_timed_out: dict[int, Any] = {}


def timed_out_before(fn: Callable[..., Any]) -> bool:
    code = guard.code_of(fn)
    return code is not None and _timed_out.get(id(code)) is code


def call_student(fn: Callable[..., Any], case: Case, params: Sequence[str]) -> Call:
    """Call ``fn`` on a copy of the case's arguments, quietly, noting inputs it changed."""
    args = copy.deepcopy(case.args)
    kwargs = copy.deepcopy(case.kwargs)
    call = Call()
    # guard.watch: the reference must not run inside the call, and the result becomes plain
    # data before the expected value exists (see guard.py).
    with quiet() as captured, guard.watch((*args, *kwargs.values())) as watch:
        try:
            with time_limit(CALL_SECONDS):
                call.result = guard.plain(fn(*args, **kwargs))
        except StudentTimeout as error:
            call.error = error
            call.error_text = f"{error} on these small inputs: is there an endless loop?"
            code = guard.code_of(fn)
            if code is not None:
                _timed_out[id(code)] = code
        except (Exception, SystemExit) as error:  # noqa: BLE001 -- any failure is the student's
            call.error = error
            call.error_text = _student_frames(error)
    guard.raise_if_tampered(watch, f"calling {guard.name_of(fn)}")
    call.captured = captured
    named = list(zip(params, args, strict=False)) + list(kwargs.items())
    originals = list(case.args) + list(case.kwargs.values())
    call.modified = [
        name
        for (name, now), before in zip(named, originals, strict=False)
        if not _same(now, before)
    ]
    return call


def reference_result(fn: Callable[..., Any], case: Case) -> Any:
    return fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))


# --- comparing -----------------------------------------------------------------------


def _as_float_array(value: Any) -> np.ndarray | None:
    if value is None or isinstance(value, str | bytes | dict):
        return None
    try:
        array = np.array(value, dtype=np.float64, copy=True, subok=False)
    except (TypeError, ValueError):
        return None
    return array


def _integral(value: Any) -> int | None:
    """The exact integer a student gave, trusting no overridden methods."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, np.integer):
        return int(np.int64(value))
    if isinstance(value, float | np.floating):
        number = float(np.float64(value))
        return int(number) if number.is_integer() else None
    return None


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"{type(value).__name__} {show(value)}"


def compare(expected: Any, got: Any, where: str = "") -> str | None:
    """Return ``None`` if ``got`` matches ``expected``, else what differs (one line)."""
    at = f"{where}: " if where else ""
    if isinstance(expected, np.ndarray):
        return _compare_arrays(expected, got, at)
    if isinstance(expected, bool):
        return None if got is expected else f"{at}expected {expected}, got {show(got)}"
    if isinstance(expected, int | np.integer):
        number = _integral(got)
        if number is None:
            return f"{at}expected an int ({int(expected)}), got {_kind(got)}"
        return None if number == int(expected) else f"{at}expected {int(expected)}, got {number}"
    if isinstance(expected, float | np.floating):
        array = _as_float_array(got)
        if array is None or array.shape != ():
            return f"{at}expected a float ({float(expected):g}), got {_kind(got)}"
        return _compare_arrays(np.float64(expected), array, at)
    if isinstance(expected, tuple | list):
        return _compare_sequences(expected, got, where)
    return None if _same(expected, got) else f"{at}expected {show(expected)}, got {show(got)}"


def _compare_sequences(expected: tuple | list, got: Any, where: str) -> str | None:
    at = f"{where}: " if where else ""
    kind = "tuple" if isinstance(expected, tuple) else "list"
    if isinstance(expected, tuple) and not isinstance(got, tuple):
        return f"{at}expected a tuple {show(expected)}, got {_kind(got)}"
    if isinstance(expected, list) and not isinstance(got, list | tuple):
        return f"{at}expected a list of {len(expected)} items, got {_kind(got)}"
    if len(got) != len(expected):
        return f"{at}expected a {kind} of length {len(expected)}, got length {len(got)}"
    for index, (e, g) in enumerate(zip(expected, got, strict=True)):
        problem = compare(e, g, f"{where}[{index}]")
        if problem:
            return problem
    return None


def _compare_arrays(expected: np.ndarray, got: Any, at: str) -> str | None:
    array = _as_float_array(got)
    if array is None:
        return f"{at}expected an array of shape {expected.shape}, got {_kind(got)}"
    if array.shape != expected.shape:
        return f"{at}expected shape {expected.shape}, got shape {array.shape}"
    bad = ~(np.abs(array - expected) <= ATOL + RTOL * np.abs(expected))
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    position = f" at {list(index)}" if index else ""
    return (
        f"{at}values differ{position}: expected {expected[index]:.6g}, got {array[index]:.6g}"
        f" ({int(bad.sum())} of {bad.size} values differ)"
    )


def matches(expected: Any, got: Any) -> bool:
    return compare(expected, got) is None
