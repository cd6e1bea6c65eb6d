"""Grading spec for 04_conv_backprop's numerical_gradient, the centred-difference check."""

from __future__ import annotations

import numpy as np

from cnn_course.grading.backprop_common import (
    DOUT_IGNORED,
    DOUT_IGNORED_ADVICE,
    NOT_UNDONE,
    NOT_UNDONE_ADVICE,
    ONE_SIDED,
    ONE_SIDED_ADVICE,
    UPPER_NOT_EVALUATED,
    UPPER_NOT_EVALUATED_ADVICE,
    integer_only,
    ints,
    named_once,
)
from cnn_course.grading.core import Case, FunctionSpec, Mistake, case_rng
from cnn_course.grading.mistakes import TRUNCATION, TRUNCATION_ADVICE
from cnn_probe.functions import TestFunction
from cnn_solutions.gradcheck import numerical_gradient

# --- numerical_gradient ---------------------------------------------------------------


def _gradient_case(label: str, f, shown: str, x, dout, **kwargs) -> Case:
    return Case(label, (f, x, dout), kwargs, shown={"f": shown})


def _basic_gradient_cases() -> list[Case]:
    rng = case_rng(100)
    x = rng.normal(size=(2, 3)).round(3)
    return [
        _gradient_case(
            "elementwise f, dout all ones",
            TestFunction("scaled_tanh", [3.0]),
            "a function computing 3 * np.tanh(x)",
            x,
            np.ones((2, 3)),
        ),
        _gradient_case(
            "f(x) = x ** 2, dout all ones",
            TestFunction("power", [2]),
            "a function computing x ** 2",
            np.array([1.0, -2.0, 0.5, 3.0]),
            np.ones(4),
        ),
    ]


def _dout_gradient_cases() -> list[Case]:
    rng = case_rng(101)
    a = rng.normal(size=(3, 4)).round(3)
    return [
        _gradient_case(
            "elementwise f, random dout",
            TestFunction("scaled_tanh", [3.0]),
            "a function computing 3 * np.tanh(x)",
            rng.normal(size=(2, 3)).round(3),
            ints(rng, 2, 3),
        ),
        _gradient_case(
            "f(x) = np.tanh(x @ A) with a fixed 3x4 A, output 2x4",
            TestFunction("tanh_matmul", [a]),
            f"a function computing np.tanh(x @ A) with A = {a.tolist()}",
            rng.normal(size=(2, 3)).round(3),
            ints(rng, 2, 4),
        ),
    ]


def _layer_gradient_cases() -> list[Case]:
    rng = case_rng(102)
    w = ints(rng, 18, 4)
    b = ints(rng, 4)
    m = ints(rng, 2, 2, 3)
    return [
        _gradient_case(
            "f = a dense layer on a flattened batch, x of shape (1, 3, 3, 2)",
            TestFunction("dense", [w, b]),
            f"a function computing x.reshape(len(x), -1) @ W + b with a fixed W of shape "
            f"{w.shape} and b = {b.tolist()}",
            ints(rng, 1, 3, 3, 2),
            ints(rng, 1, 4),
        ),
        _gradient_case(
            "f = a weighted sum over H and W, x of shape (2, 2, 2, 3)",
            TestFunction("weighted_spatial_sum", [m]),
            "a function computing (x * M).sum(axis=(1, 2)) with a fixed M of shape (2, 2, 3)",
            ints(rng, 2, 2, 2, 3),
            ints(rng, 2, 3),
        ),
    ]


def _step_gradient_cases() -> list[Case]:
    return [
        _gradient_case(
            "a coarse step h=0.1 on f(x) = x ** 3",
            TestFunction("power", [3]),
            "a function computing x ** 3",
            np.array([0.5, -1.0, 2.0]),
            np.array([1.0, 2.0, -1.0]),
            h=0.1,
        ),
    ]


def _integer_gradient_cases() -> list[Case]:
    return [
        _gradient_case(
            "integer x, f(x) = 0.5 * x ** 2 + 2.5 * x",
            TestFunction("quadratic", [0.5, 2.5]),
            "a function computing 0.5 * x ** 2 + 2.5 * x",
            np.array([[1, -2, 3], [0, 2, -3]]),
            np.ones((2, 3)),
        ),
    ]


def _one_sided(f, x, dout, h=1e-5):
    point = np.array(x, dtype=np.float64)
    weights = np.asarray(dout, dtype=np.float64)
    base = np.sum(f(point) * weights)
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        point[index] += h
        grad[index] = (np.sum(f(point) * weights) - base) / h
        point[index] -= h
    return grad


def _not_undone(f, x, dout, h=1e-5):
    point = np.array(x, dtype=np.float64)
    weights = np.asarray(dout, dtype=np.float64)
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        point[index] += h
        plus = np.sum(f(point) * weights)
        point[index] -= 2 * h
        grad[index] = (plus - np.sum(f(point) * weights)) / (2 * h)
    return grad


def _integer_copy(f, x, dout, h=1e-5):
    """Central differences on an integer copy of x: every perturbation is truncated.

    ``x[i] = old + h`` stores ``old`` (or ``old - 1`` for ``old - h`` when old > 0); an
    in-place ``+= h`` / ``-= 2 * h`` on the copy gives the same numbers for an
    elementwise ``f``, the only kind the integer cases use.
    """
    point = np.array(x)
    grad = np.zeros(point.shape)
    for index in np.ndindex(point.shape):
        old = point[index]
        point[index] = old + h
        plus = np.sum(f(point) * dout)
        point[index] = old - h
        minus = np.sum(f(point) * dout)
        point[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def _integer_copy_integer_grad(f, x, dout, h=1e-5):
    """As :func:`_integer_copy`, the gradient stored in ``np.zeros_like(x)`` (integers)."""
    return np.trunc(_integer_copy(f, x, dout, h)).astype(np.asarray(x).dtype)


def _upper_not_evaluated(f, x, dout, h=1e-5):
    point = np.array(x, dtype=np.float64)
    weights = np.asarray(dout, dtype=np.float64)
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        old = point[index]
        plus = np.sum(f(point) * weights)
        point[index] = old - h
        grad[index] = (plus - np.sum(f(point) * weights)) / (2 * h)
        point[index] = old
    return grad


def _h_ignored(f, x, dout, h=1e-5):
    if h == 1e-5:
        raise ValueError("the default step in this case")
    return numerical_gradient(f, x, dout)


numerical_gradient_spec = FunctionSpec(
    name="numerical_gradient",
    params=("f", "x", "dout", "h"),
    reference=numerical_gradient,
    suites={
        "basic": _basic_gradient_cases,
        "dout": _dout_gradient_cases,
        "layers": _layer_gradient_cases,
        "step": _step_gradient_cases,
        "integer": _integer_gradient_cases,
    },
    mistakes=named_once(
        Mistake(
            DOUT_IGNORED,
            DOUT_IGNORED_ADVICE,
            lambda f, x, dout, h=1e-5: numerical_gradient(f, x, np.ones(np.shape(dout)), h),
        ),
        Mistake(ONE_SIDED, ONE_SIDED_ADVICE, _one_sided),
        Mistake(UPPER_NOT_EVALUATED, UPPER_NOT_EVALUATED_ADVICE, _upper_not_evaluated),
        Mistake(
            "divided by h instead of 2h",
            "The two evaluations are 2h apart: divide their difference by 2 * h.",
            lambda f, x, dout, h=1e-5: 2 * numerical_gradient(f, x, dout, h),
        ),
        Mistake(NOT_UNDONE, NOT_UNDONE_ADVICE, _not_undone),
        Mistake(
            "step h ignored",
            "Use the h you are given instead of a fixed number.",
            _h_ignored,
        ),
        Mistake(
            TRUNCATION,
            "Work on a float copy of x, e.g. x.astype(float): adding h to an integer array "
            "is truncated away, and an integer gradient array truncates the result.",
            integer_only(_integer_copy, lambda f, x, *rest, **options: x),
        ),
        Mistake(
            TRUNCATION,
            "Work on a float copy of x, e.g. x.astype(float), and a float gradient array: "
            "np.zeros_like(x) of an integer x is an integer array, and x[i] = old + h on it "
            "stores old.",
            integer_only(_integer_copy_integer_grad, lambda f, x, *rest, **options: x),
        ),
        Mistake(
            TRUNCATION,
            TRUNCATION_ADVICE,
            integer_only(
                lambda f, x, dout, h=1e-5: np.trunc(numerical_gradient(f, x, dout, h)),
                lambda f, x, *rest, **options: x,
            ),
        ),
    ),
)
