"""The grading engine: judge what a student's function returned on cases, and explain.

A check covers one *aspect* of one function (basic values, padding, stride, ...). The
student's function runs elsewhere: in the student's kernel, through :mod:`cnn_probe`,
which sends back one plain-data record per case (:mod:`cnn_probe.call`). Here, in the
grader's own process, each record becomes a :class:`Call` and is compared with the
reference. The first case whose result differs fails the check with a
:class:`GradingFailure`, whose message shows the inputs, expected against got, the first
position that differs and, where a known mistake reproduces the student's result exactly,
the mistake by name.

The cases' random inputs depend on a per-submission seed (:func:`cases_for`), so answers
looked up from an earlier submission's feedback do not fit a new one, while grading the
same submission again gives the same cases.
"""

from __future__ import annotations

import contextvars
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnn_probe import wire


class GradingFailure(AssertionError):
    """A check failed; ``report`` is the message the student sees, ``mistakes`` the names
    of the likely mistakes it gives and ``out_of_cpu`` whether the probe's CPU-time limit
    stopped the function (as data, for whoever reads the verdict next)."""

    def __init__(
        self, report: str, mistakes: tuple[str, ...] = (), out_of_cpu: bool = False
    ) -> None:
        super().__init__(report)
        self.report = report
        self.mistakes = mistakes
        self.out_of_cpu = out_of_cpu


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


@dataclass(frozen=True)
class StudentError:
    """An exception the student's code raised, as the kernel described it."""

    name: str
    classes: tuple[str, ...]  # the names of its class and base classes
    message: str
    where: str

    def is_a(self, kind: type[BaseException]) -> bool:
        return kind.__name__ in self.classes

    def is_a_named(self, name: str) -> bool:
        return name in self.classes


@dataclass
class Call:
    """The outcome of calling student code once, decoded from the kernel's record."""

    result: Any = None
    error: StudentError | None = None
    timeout: float | None = None
    skipped: str | None = None
    modified: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_record(cls, record: Any, params: Sequence[str], case: Case) -> Call:
        """Check and decode one record (untrusted data; see :mod:`cnn_probe.call`).

        Raises
        ------
        cnn_probe.wire.WireError
            If the record is not of the documented form.
        """
        if type(record) is not dict:
            raise wire.WireError("a call record must be an object")
        call = cls()
        outcomes = [key for key in ("result", "error", "timeout", "skipped") if key in record]
        if len(outcomes) != 1:
            raise wire.WireError("a call record needs exactly one outcome")
        if "result" in record:
            call.result = wire.decode(record["result"])
        elif "error" in record:
            call.error = _student_error(record["error"])
        elif "timeout" in record:
            call.timeout = _positive(record["timeout"])
        else:
            call.skipped = _text(record["skipped"])
        names = list(params[: len(case.args)])
        for where in record.get("modified", []):
            if type(where) is int and 0 <= where < len(names):
                call.modified.append(names[where])
            elif type(where) is str and where in case.kwargs:
                call.modified.append(where)
            else:
                raise wire.WireError("a modified argument that the case does not have")
        output = record.get("output", {})
        if type(output) is not dict:
            raise wire.WireError("malformed output")
        call.stdout = _text(output.get("stdout", ""))
        call.stderr = _text(output.get("stderr", ""))
        warned = output.get("warnings", [])
        if type(warned) is not list:
            raise wire.WireError("malformed warnings")
        call.warnings = [_text(w) for w in warned[:3]]
        return call


def _text(value: Any, limit: int = 4000) -> str:
    if type(value) is not str:
        raise wire.WireError("expected text")
    return value[:limit]


def _positive(value: Any) -> float:
    if type(value) not in (int, float) or not 0 < value < 1e6:
        raise wire.WireError("expected a positive number")
    return float(value)


def _student_error(data: Any) -> StudentError:
    if type(data) is not dict or type(data.get("mro")) is not list:
        raise wire.WireError("malformed error")
    return StudentError(
        name=_text(data.get("type"), 200),
        classes=tuple(_text(name, 200) for name in data["mro"][:64]),
        message=_text(data.get("message", "")),
        where=_text(data.get("where", "")),
    )


# --- cases -----------------------------------------------------------------------------

_submission_seed: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "submission_seed", default=None
)


def case_rng(seed: int) -> np.random.Generator:
    """The random generator for a suite's cases: ``seed``, mixed with the submission's.

    Outside autograding (no submission seed) the cases are the suite's fixed ones.
    """
    submission = _submission_seed.get()
    return np.random.default_rng(seed if submission is None else [seed, submission])


# How many draws a submission may need before its cases tell the mistakes apart as well
# as the fixed ones do. A draw fails rarely (a 2x2 kernel with equal diagonal values: its
# flip equals its transpose), so 16 draws in a row practically never all fail; if they do,
# the submission gets the fixed cases.
MAX_DRAWS = 16
# For each mistake model the cases catch (by index in ``spec.mistakes``), the names feedback
# would give a student whose code returns exactly that model's results: the names found on
# the first case that catches it, where the check stops.
_Profile = dict[int, frozenset[str]]
_GOLDEN = 0x9E3779B97F4A7C15  # an odd constant: attempt k shifts the seed by k * _GOLDEN


def cases_for(spec: FunctionSpec, aspect: str, submission_seed: int | None = None) -> list[Case]:
    """The cases of one aspect, for one submission (``None``: the fixed ones).

    A submission's cases are drawn again (deterministically: the same seed gives the same
    cases) until they are as telling as the fixed ones: every mistake the fixed cases catch
    is caught, and every two mistakes they tell apart give different results. A random
    draw could otherwise let a mistake keep its points, or name two mistakes where the
    fixed cases name one.
    """
    if aspect not in spec.suites:
        raise KeyError(f"{spec.name} has no aspect {aspect!r}; known: {', '.join(spec.suites)}")
    if submission_seed is None:
        return _draw(spec, aspect, None)
    # The grader asks twice per submission (planning the calls, judging them): keep the
    # last few answers. Cases are copied out, so nothing can change the kept ones.
    key = (id(spec), aspect, submission_seed)
    if key not in _drawn:
        _drawn[key] = (spec, _telling_draw(spec, aspect, submission_seed))
        while len(_drawn) > _KEPT:
            del _drawn[next(iter(_drawn))]
    return copy.deepcopy(_drawn[key][1])


_KEPT = 256
_drawn: dict[tuple[int, str, int], tuple[FunctionSpec, list[Case]]] = {}
_fixed_profiles: dict[tuple[int, str], tuple[FunctionSpec, _Profile]] = {}


def _telling_draw(spec: FunctionSpec, aspect: str, submission_seed: int) -> list[Case]:
    key = (id(spec), aspect)
    if key not in _fixed_profiles:  # the spec is kept with it, so its id stays its own
        _fixed_profiles[key] = (spec, _profile(spec, _draw(spec, aspect, None)))
    wanted = _fixed_profiles[key][1]
    for attempt in range(MAX_DRAWS):
        cases = _draw(spec, aspect, (submission_seed + attempt * _GOLDEN) % 2**64)
        if _as_telling(_profile(spec, cases), wanted):
            return cases
    return _draw(spec, aspect, None)


def _draw(spec: FunctionSpec, aspect: str, submission_seed: int | None) -> list[Case]:
    token = _submission_seed.set(submission_seed)
    try:
        return spec.suites[aspect]()
    finally:
        _submission_seed.reset(token)


_NONE = object()


def _profile(spec: FunctionSpec, cases: list[Case]) -> _Profile:
    profile: _Profile = {}
    for case in cases:
        for i, names in _case_profile(spec, case).items():
            profile.setdefault(i, names)
    return profile


def _case_profile(spec: FunctionSpec, case: Case) -> dict[int, frozenset[str]]:
    try:
        expected = reference_result(spec.reference, case) if case.raises is None else _NONE
    except Exception:  # noqa: BLE001 -- a case the reference rejects is judged elsewhere
        expected = _NONE
    if expected is _NONE:
        return {}
    results = {}
    for i, mistake in enumerate(spec.mistakes):
        try:
            results[i] = _parts(spec, reference_result(mistake.model, case))
        except Exception:  # noqa: BLE001 -- a model that cannot run here catches nothing
            continue
    want = _parts(spec, expected)
    named = {}
    for i, parts in results.items():
        wrong = [k for k, part in enumerate(parts) if not matches(want[k], part)]
        if wrong:
            named[i] = frozenset(
                spec.mistakes[j].name
                for j, other in results.items()
                if all(matches(other[k], parts[k]) for k in wrong)
            )
    return named


def _parts(spec: FunctionSpec, value: Any) -> tuple:
    if not spec.parts:
        return (value,)
    if not isinstance(value, tuple | list) or len(value) != len(spec.parts):
        raise ValueError("not one value per part")
    return tuple(value)


def _as_telling(profile: _Profile, wanted: _Profile) -> bool:
    """Whether every model ``wanted`` catches is caught and named with no more company."""
    return all(i in profile and profile[i] <= names for i, names in wanted.items())


# --- showing values ------------------------------------------------------------------


def _grid(plane: np.ndarray) -> str:
    return np.array2string(plane, separator=", ", precision=4, suppress_small=True)


# Arguments that hold a filter bank (kh, kw, C_in, C_out), not images (N, H, W, C).
FILTER_BANKS = frozenset({"filters", "w"})


def _kernels(value: np.ndarray) -> str:
    """A filter bank (kh, kw, C_in, C_out) as its kh x kw kernels, one per (C_in, C_out)."""
    lines = [f"filters of shape {value.shape} (kh, kw, C_in, C_out), dtype {value.dtype}:"]
    for c_in, c_out in np.ndindex(*value.shape[2:]):
        lines.append(labelled(f"  [:, :, {c_in}, {c_out}] = ", _grid(value[:, :, c_in, c_out])))
    return "\n".join(lines)


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


def show_maps(value: np.ndarray, filters: bool = False) -> str:
    """A 3-D or 4-D array as its 2-D maps, or a filter bank as its kernels, whatever its size."""
    value = np.asarray(value)
    return _kernels(value) if filters else _maps(value)


def show(value: Any, filters: bool = False) -> str:
    """A compact, readable rendering of an argument or result (``filters``: a filter bank)."""
    if isinstance(value, np.ndarray):
        if filters and value.ndim == 4 and value.size <= MAX_SHOWN_MAP_ELEMENTS:
            return _kernels(value)
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
        labelled(f"    {name} = ", case.shown.get(name) or show(value, name in FILTER_BANKS))
        for name, value in pairs
    ]
    return "\n".join(lines)


# --- reference values ---------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
        except (TypeError, ValueError):
            return False
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


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
