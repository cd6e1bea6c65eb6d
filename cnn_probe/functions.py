"""Named test functions: the ``f`` a hidden check hands to a student's ``numerical_gradient``.

A function cannot cross between the grader and the kernel as data, so the few that the
checks need are named here and sent as a name with their fixed arguments (arrays,
numbers). None of them is a contract function: the kernel must hold nothing a student
could use as the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _scaled_tanh(scale: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: scale * np.tanh(x)


def _power(p: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: x**p


def _quadratic(a: float, b: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: a * x**2 + b * x


def _tanh_matmul(a: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.tanh(x @ a)


def _dense(w: np.ndarray, b: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: x.reshape(x.shape[0], -1) @ w + b


def _weighted_spatial_sum(m: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: (x * m).sum(axis=(1, 2))


FACTORIES: dict[str, Callable[..., Callable[[np.ndarray], np.ndarray]]] = {
    "scaled_tanh": _scaled_tanh,
    "power": _power,
    "quadratic": _quadratic,
    "tanh_matmul": _tanh_matmul,
    "dense": _dense,
    "weighted_spatial_sum": _weighted_spatial_sum,
}


class TestFunction:
    """A callable named in :data:`FACTORIES`, with its fixed arguments."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str, args: list[Any] | tuple[Any, ...]) -> None:
        if name not in FACTORIES:
            raise ValueError(f"unknown test function {name!r}")
        self.name = name
        self.args = tuple(args)
        self._fn = FACTORIES[name](*self.args)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._fn(x)

    def __repr__(self) -> str:
        return f"<test function {self.name}>"

    def __eq__(self, other: object) -> bool:
        # Equal when built alike: a copy of the function (the probe's pristine copy of the
        # arguments) is the same function.
        return (
            isinstance(other, TestFunction)
            and other.name == self.name
            and len(other.args) == len(self.args)
            and all(np.array_equal(a, b) for a, b in zip(self.args, other.args, strict=True))
        )

    __hash__ = None  # mutable arguments: not hashable


def build(name: Any, args: list[Any]) -> TestFunction:
    """The test function ``name`` with ``args``; ``ValueError`` for an unknown name."""
    if type(name) is not str:
        raise ValueError("a test function's name must be a string")
    try:
        return TestFunction(name, args)
    except TypeError as error:
        raise ValueError(f"bad arguments for {name}: {error}") from None
