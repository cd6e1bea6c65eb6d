"""Argument checks shared by the reference functions.

Every check raises ``ValueError`` with a message that names the argument and says what
was expected, because students read these messages when they call the reference by
mistake and graders show them in feedback.
"""

from __future__ import annotations

import operator

import numpy as np


def check_int(value: object, name: str, minimum: int) -> int:
    """Return ``value`` as an int, or raise if it is not an integer ``>= minimum``."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be an integer, got a boolean ({value!r})")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(
            f"{name} must be an integer, got {value!r} of type {type(value).__name__}"
        ) from None
    if number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {number}")
    return number


def as_float_array(value: object, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a float64 array with one of the allowed numbers of axes.

    Integer input is converted, never truncated; the caller's array is not modified
    because every reference function only reads the result.
    """
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real, got complex values")
    if array.ndim not in ndims:
        allowed = " or ".join(str(n) for n in ndims)
        raise ValueError(f"{name} must have {allowed} dimensions, got shape {array.shape}")
    return array.astype(np.float64, copy=False)


def check_window_fits(size: int, kernel: int, axis: str, padding: int = 0) -> None:
    """Raise if a filter or pooling window does not fit the (padded) input."""
    if kernel > size + 2 * padding:
        padded = f" padded by {padding} on each side to {size + 2 * padding}" if padding else ""
        raise ValueError(
            f"the window of size {kernel} is larger than the input's {axis} size {size}{padded}"
        )


def check_channels(got: int, expected: int, what: str) -> None:
    """Raise if a filter's input channels do not match the input's channels."""
    if got != expected:
        raise ValueError(f"channel mismatch: {what} has {got} channels, the input has {expected}")
