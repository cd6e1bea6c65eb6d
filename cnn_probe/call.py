"""Call a student's function on one case and describe what happened, as plain data.

A record is a dict with exactly one outcome key:

* ``"result"``: what the call returned (:func:`cnn_probe.wire.encode`d);
* ``"error"``: ``{"type", "mro", "message", "where"}`` of the exception it raised;
* ``"timeout"``: the CPU seconds after which it was stopped;
* ``"skipped"``: why it was not called (it timed out in an earlier case or cell);

and ``"modified"`` (the positions and keywords of arguments it changed in place) and
``"output"`` (what it printed or warned, cut short), for the feedback.
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnn_probe import wire
from cnn_probe.capture import quiet
from cnn_probe.limit import StudentTimeout, cpu_limit

# Every hidden case is small: a correct plain-loop solution needs milliseconds.
CALL_SECONDS = 5.0
MESSAGE_CHARS = 2000
_HERE = str(Path(__file__).resolve().parent)

# Functions that ran out of time: later calls skip them, so that a looping function
# costs one time limit, not one per case and graded cell.
_timed_out: dict[int, Any] = {}


def _code_of(fn: Any) -> Any:
    return getattr(getattr(fn, "__func__", fn), "__code__", None)


def _same(a: Any, b: Any) -> bool:
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return (
                isinstance(a, np.ndarray)
                and isinstance(b, np.ndarray)
                and a.shape == b.shape
                and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
            )
        if isinstance(a, tuple | list) and isinstance(b, tuple | list):
            return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
        return bool(a == b)
    except Exception:  # noqa: BLE001 -- an argument that cannot be compared counts as changed
        return False


def _student_frames(error: BaseException) -> str:
    """The end of the traceback that lies in the student's code, and the error itself."""
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(_HERE)
    ]
    lines = traceback.format_list(frames[-3:])
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip()[-MESSAGE_CHARS:]


def describe_error(error: BaseException) -> dict[str, Any]:
    """An exception as plain data: its type, the names of its classes, message, place."""
    try:
        message = str(error)[:MESSAGE_CHARS]
        where = _student_frames(error)
    except Exception:  # noqa: BLE001 -- a student exception whose __str__ fails
        message, where = "", type(error).__name__
    return {
        "type": type(error).__name__,
        "mro": [klass.__name__ for klass in type(error).__mro__],
        "message": message,
        "where": where,
    }


def call(
    fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any], seconds: float = CALL_SECONDS
) -> dict[str, Any]:
    """Call ``fn(*args, **kwargs)`` quietly under a CPU limit; return the record."""
    code = _code_of(fn)
    if code is not None and _timed_out.get(id(code)) is code:
        return {"skipped": f"it did not finish within {seconds:g} s in an earlier case"}
    pristine = copy.deepcopy((args, kwargs))
    record: dict[str, Any]
    with quiet() as captured:
        try:
            with cpu_limit(seconds):
                record = {"result": wire.encode(fn(*args, **kwargs))}
        except StudentTimeout:
            record = {"timeout": seconds}
            if code is not None:
                _timed_out[id(code)] = code
        except (Exception, SystemExit) as error:  # noqa: BLE001 -- any failure is the student's
            record = {"error": describe_error(error)}
    record["modified"] = [
        *(
            i
            for i, (now, before) in enumerate(zip(args, pristine[0], strict=True))
            if not _same(now, before)
        ),
        *(k for k in kwargs if not _same(kwargs[k], pristine[1][k])),
    ]
    record["output"] = {
        "stdout": captured.stdout[-MESSAGE_CHARS:],
        "stderr": captured.stderr[-MESSAGE_CHARS:],
        "warnings": captured.warnings[:3],
    }
    return record
