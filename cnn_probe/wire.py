"""Plain data between the grader and the kernel: numbers, arrays, tuples, lists, text.

Both sides use this module: the grader encodes a check's inputs for the kernel, the kernel
encodes what the student's code returned, the grader decodes it. What crosses is JSON:

==========================  =============================================================
Python value                on the wire
==========================  =============================================================
None, bool, int, float      themselves (non-finite floats as ``{"x": "nan"}`` ...)
str                         ``{"s": text}``
tuple / list                ``{"t": [...]}`` / ``[...]``
dict with str keys          ``{"d": {key: value}}``
numpy scalar                ``{"n": [dtype, value]}``
ndarray                     ``{"a": [dtype, shape, base64 of the raw bytes]}``
a named test function       ``{"f": [name, [args]]}`` (:mod:`cnn_probe.functions`)
anything else               ``{"o": type name}`` (decodes to :class:`Opaque`)
==========================  =============================================================

Decoding never runs code and never builds anything but these types (no pickle, no object
arrays), and it enforces :class:`Limits`, so a hostile kernel can send only numbers.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnn_probe import functions

# Numeric dtypes only, little-endian or byte-order-free: nothing that holds objects.
DTYPES = frozenset("|b1 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 <f2 <f4 <f8 <c8 <c16".split())


class WireError(ValueError):
    """Data that is not well-formed plain data, or exceeds the limits."""


@dataclass(frozen=True)
class Limits:
    """How much one decoded value may hold."""

    elements: int = 2_000_000  # array elements, in all
    depth: int = 24  # nesting of tuples, lists and dicts
    items: int = 20_000  # tuple, list and dict entries, in all
    text: int = 20_000  # characters of one string


@dataclass(frozen=True)
class Opaque:
    """A value the kernel could not send as plain data: only its type name arrived."""

    type_name: str

    def __repr__(self) -> str:
        return f"<an object of type {self.type_name}>"


# --------------------------------------------------------------------------- encoding


def _float(value: float) -> Any:
    return value if math.isfinite(value) else {"x": repr(value)}


def encode(value: Any, limits: Limits = Limits()) -> Any:
    """``value`` as JSON-ready plain data; unknown objects become ``{"o": type name}``.

    The base types' own methods read the value (``int.__int__``, ``np.array(subok=False)``),
    so a subclass's overrides do not decide what is sent.
    """
    budget = {"elements": limits.elements, "items": limits.items}
    return _encode(value, limits, budget, 0)


def _encode(value: Any, limits: Limits, budget: dict, depth: int) -> Any:
    if depth > limits.depth:
        return {"o": "too deeply nested"}
    if value is None or type(value) is bool:
        return value
    if isinstance(value, np.ndarray):
        return _encode_array(value, budget)
    if isinstance(value, np.generic):
        return _encode_scalar(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return _float(float.__float__(value))
    if isinstance(value, str):
        return {"s": str.__str__(value)[: limits.text]}
    if isinstance(value, functions.TestFunction):
        return {"f": [value.name, [_encode(a, limits, budget, depth + 1) for a in value.args]]}
    if isinstance(value, tuple | list):
        budget["items"] -= len(value)
        if budget["items"] < 0:
            return {"o": "too many items"}
        items = [_encode(v, limits, budget, depth + 1) for v in tuple.__iter__(tuple(value))]
        return {"t": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(type(k) is str for k in dict.keys(value)):
        budget["items"] -= len(value)
        if budget["items"] < 0:
            return {"o": "too many items"}
        return {"d": {k: _encode(v, limits, budget, depth + 1) for k, v in dict.items(value)}}
    return {"o": type(value).__name__}


def _encode_scalar(value: np.generic) -> Any:
    array = np.asarray(value)
    if array.dtype.newbyteorder("<").str not in DTYPES:
        return {"o": f"numpy {array.dtype}"}
    item = array.item()
    if isinstance(item, complex):
        return {"n": [array.dtype.str, [_float(item.real), _float(item.imag)]]}
    return {"n": [array.dtype.str, _float(item) if isinstance(item, float) else item]}


def _encode_array(value: np.ndarray, budget: dict) -> Any:
    array = np.array(value, copy=True, subok=False)
    dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
    if dtype.str not in DTYPES:
        return {"o": f"ndarray of dtype {array.dtype}"}
    budget["elements"] -= array.size
    if budget["elements"] < 0:
        return {"o": f"ndarray of {array.size} elements (too large to send)"}
    data = np.ascontiguousarray(array, dtype=dtype).tobytes()
    return {"a": [dtype.str, list(array.shape), base64.b64encode(data).decode("ascii")]}


# --------------------------------------------------------------------------- decoding


def decode(data: Any, limits: Limits = Limits()) -> Any:
    """Plain data back into values, or :class:`WireError` if it is malformed or too big."""
    budget = {"elements": limits.elements, "items": limits.items}
    return _decode(data, limits, budget, 0)


def _decode(data: Any, limits: Limits, budget: dict, depth: int) -> Any:
    if depth > limits.depth:
        raise WireError("nested too deeply")
    if data is None or type(data) in (bool, int, float):
        return data
    if type(data) is list:
        _spend(budget, "items", len(data))
        return [_decode(item, limits, budget, depth + 1) for item in data]
    if type(data) is not dict or len(data) != 1:
        raise WireError(f"not plain data: {type(data).__name__}")
    ((tag, body),) = data.items()
    if tag == "s" and type(body) is str:
        if len(body) > limits.text:
            raise WireError("text too long")
        return body
    if tag == "t" and type(body) is list:
        _spend(budget, "items", len(body))
        return tuple(_decode(item, limits, budget, depth + 1) for item in body)
    if tag == "d" and type(body) is dict:
        _spend(budget, "items", len(body))
        return {str(k): _decode(v, limits, budget, depth + 1) for k, v in body.items()}
    if tag == "x" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "n":
        return _decode_scalar(body)
    if tag == "a":
        return _decode_array(body, budget)
    if tag == "f" and type(body) is list and len(body) == 2 and type(body[1]) is list:
        args = [_decode(a, limits, budget, depth + 1) for a in body[1]]
        try:
            return functions.build(body[0], args)
        except ValueError as error:
            raise WireError(str(error)) from None
    if tag == "o" and type(body) is str:
        return Opaque(body[:200])
    raise WireError(f"unknown tag {tag!r}")


def _spend(budget: dict, what: str, amount: int) -> None:
    budget[what] -= amount
    if budget[what] < 0:
        raise WireError(f"too many {what}")


def _dtype(name: Any) -> np.dtype:
    if type(name) is not str or name not in DTYPES:
        raise WireError(f"dtype {name!r} is not allowed")
    return np.dtype(name)


def _number(value: Any) -> Any:
    if type(value) is dict and set(value) == {"x"}:
        return _decode(value, Limits(), {"elements": 0, "items": 0}, 0)
    if type(value) not in (bool, int, float):
        raise WireError("not a number")
    return value


def _decode_scalar(body: Any) -> np.generic:
    if type(body) is not list or len(body) != 2:
        raise WireError("malformed numpy scalar")
    dtype = _dtype(body[0])
    value = body[1]
    if dtype.kind == "c":
        if type(value) is not list or len(value) != 2:
            raise WireError("malformed complex scalar")
        return dtype.type(complex(_number(value[0]), _number(value[1])))
    try:
        return dtype.type(_number(value))
    except (OverflowError, ValueError, TypeError) as error:
        raise WireError(f"bad numpy scalar: {error}") from None


def _decode_array(body: Any, budget: dict) -> np.ndarray:
    if type(body) is not list or len(body) != 3:
        raise WireError("malformed array")
    dtype = _dtype(body[0])
    shape, text = body[1], body[2]
    if (
        type(shape) is not list
        or len(shape) > 32
        or any(type(n) is not int or n < 0 for n in shape)
    ):
        raise WireError("malformed array shape")
    size = math.prod(shape)
    _spend(budget, "elements", size)
    if type(text) is not str or len(text) > 4 * (size * dtype.itemsize + 2) // 3 + 4:
        raise WireError("array data of the wrong length")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise WireError("array data is not base64") from None
    if len(raw) != size * dtype.itemsize:
        raise WireError("array data of the wrong length")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
