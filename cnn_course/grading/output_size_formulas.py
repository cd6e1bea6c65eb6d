"""Grading specs for 02_output_size's formulas: conv_output_size, pool_output_size,
conv_params and dense_params."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from cnn_course.grading.core import Case, FunctionSpec, Mistake, case_rng
from cnn_course.grading.mistakes import (
    BIAS_FORGOTTEN,
    CEIL,
    ONE_SIDE,
    PADDING_IGNORED,
    STRIDE_IGNORED,
)
from cnn_course.grading.output_size_common import (
    BIAS_COUNT_ADVICE,
    BIAS_FLAG_ADVICE,
    BIAS_FLAG_IGNORED,
    BIAS_PER_INPUT_CHANNEL,
    BIAS_PER_INPUT_CHANNEL_ADVICE,
    CEIL_SIZE_ADVICE,
    DENSE_BIAS_ADVICE,
    DENSE_BIAS_PER_INPUT,
    DENSE_BIAS_PER_INPUT_ADVICE,
    FORGOT_PLUS_ONE,
    FORGOT_PLUS_ONE_ADVICE,
    NO_INPUT_CHANNELS,
    NO_INPUT_CHANNELS_ADVICE,
    NOT_SQUARED,
    NOT_SQUARED_ADVICE,
    ONE_BIAS,
    ONE_BIAS_ADVICE,
    ONE_SIDE_SIZE_ADVICE,
    PADDING_ADVICE,
    POOL_DEFAULT_STRIDE,
    POOL_DEFAULT_STRIDE_ADVICE,
    POOL_STRIDE_IGNORED,
    POOL_STRIDE_IGNORED_ADVICE,
    PRECEDENCE,
    PRECEDENCE_ADVICE,
    STRIDE_SIZE_ADVICE,
    TRUE_DIVISION,
    TRUE_DIVISION_ADVICE,
)
from cnn_solutions.shapes import conv_output_size, conv_params, dense_params, pool_output_size

# --- conv_output_size -----------------------------------------------------------------


def _sizes(rows: Sequence[tuple[int, ...]], names: tuple[str, ...]) -> list[Case]:
    cases = []
    for row in rows:
        args, kwargs = row[:2], dict(zip(names, row[2:], strict=False))
        text = ", ".join(f"{k} {v}" for k, v in kwargs.items())
        cases.append(
            Case(f"n {args[0]}, f {args[1]}" + (f", {text}" if text else ""), args, kwargs)
        )
    return cases


def _draw(seed: int, low_pad: int, high_pad: int, stride: int | None = None, padding=True):
    """One ``(n, f, stride, padding)`` row drawn for the submission: a looked-up table of
    earlier answers does not cover it. The stride is drawn in 2..4 unless given."""
    rng = case_rng(seed)
    n = int(rng.integers(9, 65))
    f = int(rng.integers(1, 8))
    s = int(rng.integers(2, 5)) if stride is None else stride
    p = int(rng.integers(low_pad, high_pad + 1)) if padding else 0
    return (n, f, s, p)


def _draw_counts(seed: int, arity: int, bias: bool | None) -> tuple:
    """A drawn row of layer sizes for a parameter count, like :func:`_draw`."""
    rng = case_rng(seed)
    sizes = [int(rng.integers(1, 6)) * 2 + 1, int(rng.integers(2, 65)), int(rng.integers(2, 129))]
    return (*sizes[3 - arity :], bias)


def _conv_cases(rows: Sequence[tuple[int, ...]]) -> list[Case]:
    return _sizes(rows, ("stride", "padding"))


def _size_model(formula: Callable[[int, int, int, int], float]) -> Callable[..., float]:
    def model(n, f, stride=1, padding=0):
        return formula(n, f, stride, padding)

    return model


def _only_with(condition: Callable[[int, int], bool], formula):
    """A model that applies only when the case has the feature it gets wrong."""

    def model(n, f, stride=1, padding=0):
        if not condition(stride, padding):
            raise ValueError("the case does not exercise this mistake")
        return formula(n, f, stride, padding)

    return model


_CONV_SIZE_MISTAKES = (
    Mistake(
        PADDING_IGNORED,
        PADDING_ADVICE,
        _only_with(lambda s, p: p > 0, lambda n, f, s, p: (n - f) // s + 1),
    ),
    Mistake(
        ONE_SIDE,
        ONE_SIDE_SIZE_ADVICE,
        _only_with(lambda s, p: p > 0, lambda n, f, s, p: (n + p - f) // s + 1),
    ),
    Mistake(
        STRIDE_IGNORED,
        STRIDE_SIZE_ADVICE,
        _only_with(lambda s, p: s > 1, lambda n, f, s, p: n + 2 * p - f + 1),
    ),
    Mistake(
        TRUE_DIVISION, TRUE_DIVISION_ADVICE, _size_model(lambda n, f, s, p: (n + 2 * p - f) / s + 1)
    ),
    Mistake(
        CEIL, CEIL_SIZE_ADVICE, _size_model(lambda n, f, s, p: math.ceil((n + 2 * p - f) / s) + 1)
    ),
    Mistake(
        FORGOT_PLUS_ONE,
        FORGOT_PLUS_ONE_ADVICE,
        _size_model(lambda n, f, s, p: (n + 2 * p - f) // s),
    ),
    Mistake(PRECEDENCE, PRECEDENCE_ADVICE, _size_model(lambda n, f, s, p: n + 2 * p - f // s + 1)),
    Mistake(PRECEDENCE, PRECEDENCE_ADVICE, _size_model(lambda n, f, s, p: n + 2 * p - f / s + 1)),
)

_SIZE_ERRORS = [
    Case("negative padding", (8, 3), {"padding": -1}, raises=ValueError),
    Case("stride 0", (8, 3), {"stride": 0}, raises=ValueError),
    Case(
        "filter 6 larger than the padded input 3 + 2*1", (3, 6), {"padding": 1}, raises=ValueError
    ),
]

conv_output_size_spec = FunctionSpec(
    name="conv_output_size",
    params=("n", "f", "stride", "padding"),
    reference=conv_output_size,
    suites={
        "basic": lambda: _conv_cases([(28, 3), (32, 5), (7, 7), (10, 1), _draw(1, 0, 0)[:2]]),
        # Feedback names the mistakes that reproduce the FIRST failing case, so each suite
        # starts with a case on which the typical slips all give different sizes.
        "padding": lambda: _conv_cases(
            [(32, 5, 1, 2), (28, 3, 1, 1), (7, 3, 1, 2), (5, 4, 1, 3), _draw(2, 1, 3, stride=1)]
        ),
        # Most of these strides do not divide n - f: floor, ceil and / all differ there.
        "stride": lambda: _conv_cases(
            [(7, 2, 2), (28, 2, 2), (10, 3, 3), (11, 3, 4), _draw(3, 0, 0, padding=False)]
        ),
        "stride_padding": lambda: _conv_cases(
            [(20, 4, 2, 3), (28, 3, 2, 1), (224, 7, 2, 3), (13, 3, 3, 1), _draw(4, 1, 3)]
        ),
        "errors": lambda: list(_SIZE_ERRORS),
    },
    mistakes=_CONV_SIZE_MISTAKES,
)

# --- pool_output_size -----------------------------------------------------------------


def _pool_model(formula, when: Callable[[int, int | None], bool] = lambda f, s: True):
    def model(n, f, stride=None):
        if not when(f, stride):
            raise ValueError("the case does not exercise this mistake")
        return formula(n, f, f if stride is None else stride)

    return model


_POOL_SIZE_MISTAKES = (
    Mistake(
        POOL_DEFAULT_STRIDE,
        POOL_DEFAULT_STRIDE_ADVICE,
        lambda n, f, stride=None: pool_output_size(n, f, 1 if stride is None else stride),
    ),
    Mistake(
        POOL_STRIDE_IGNORED,
        POOL_STRIDE_IGNORED_ADVICE,
        _pool_model(lambda n, f, s: (n - f) // f + 1, lambda f, s: s is not None and s != f),
    ),
    Mistake(TRUE_DIVISION, TRUE_DIVISION_ADVICE, _pool_model(lambda n, f, s: (n - f) / s + 1)),
    Mistake(CEIL, CEIL_SIZE_ADVICE, _pool_model(lambda n, f, s: math.ceil((n - f) / s) + 1)),
    Mistake(FORGOT_PLUS_ONE, FORGOT_PLUS_ONE_ADVICE, _pool_model(lambda n, f, s: (n - f) // s)),
    Mistake(PRECEDENCE, PRECEDENCE_ADVICE, _pool_model(lambda n, f, s: n - f // s + 1)),
    Mistake(
        "size as n // stride",
        "n // stride counts the windows only when the stride equals the window size; "
        "use (n - f) // stride + 1.",
        _pool_model(lambda n, f, s: n // s, lambda f, s: s is not None and s != f),
    ),
)

pool_output_size_spec = FunctionSpec(
    name="pool_output_size",
    params=("n", "f", "stride"),
    reference=pool_output_size,
    suites={
        "basic": lambda: _sizes(
            [(28, 2), (32, 4), (6, 3), (10, 5), _draw(5, 0, 0)[:2]], ("stride",)
        ),
        # The stride defaults to f, and f does not divide n here.
        "default_stride": lambda: _sizes([(7, 2), (9, 2), (13, 3), (5, 5)], ("stride",)),
        "stride": lambda: _sizes(
            [(28, 2, 2), (11, 3, 2), (10, 3, 1), (13, 3, 2), (12, 2, 3), _draw(6, 0, 0)[:3]],
            ("stride",),
        ),
        "errors": lambda: [
            Case("window 4 larger than the input 3", (3, 4), raises=ValueError),
            Case("stride 0", (8, 2), {"stride": 0}, raises=ValueError),
        ],
    },
    mistakes=_POOL_SIZE_MISTAKES,
)

# --- conv_params and dense_params ------------------------------------------------------


def _count_cases(rows: Sequence[tuple], names: tuple[str, ...]) -> list[Case]:
    cases = []
    for row in rows:
        *args, bias = row
        label = ", ".join(f"{n} {v}" for n, v in zip(names, args, strict=True))
        kwargs = {} if bias is None else {"bias": bias}
        cases.append(Case(label + ("" if bias is None else f", bias={bias}"), tuple(args), kwargs))
    return cases


def _conv_count(formula, when: Callable[[int, bool], bool] = lambda c_in, bias: True):
    def model(f, c_in, n_filters, bias=True):
        if not when(c_in, bias):
            raise ValueError("the case does not exercise this mistake")
        return formula(f, c_in, n_filters, bias)

    return model


_CONV_PARAM_NAMES = ("f", "c_in", "n_filters")

conv_params_spec = FunctionSpec(
    name="conv_params",
    params=("f", "c_in", "n_filters", "bias"),
    reference=conv_params,
    suites={
        "basic": lambda: _count_cases(
            [(3, 1, 8, None), (5, 1, 6, None), (1, 1, 4, None)], _CONV_PARAM_NAMES
        ),
        "channels": lambda: _count_cases(
            [
                (5, 16, 32, None),
                (3, 3, 8, None),
                (1, 32, 8, None),
                (3, 64, 128, None),
                _draw_counts(7, 3, None),
            ],
            _CONV_PARAM_NAMES,
        ),
        "no_bias": lambda: _count_cases(
            [(3, 1, 8, False), (3, 4, 10, False), (5, 2, 3, True), _draw_counts(8, 3, False)],
            _CONV_PARAM_NAMES,
        ),
    },
    mistakes=(
        Mistake(
            BIAS_FORGOTTEN,
            BIAS_COUNT_ADVICE,
            _conv_count(lambda f, c, k, b: f * f * c * k, lambda c, b: b),
        ),
        Mistake(
            BIAS_FLAG_IGNORED,
            BIAS_FLAG_ADVICE,
            _conv_count(lambda f, c, k, b: k * (f * f * c + 1), lambda c, b: not b),
        ),
        Mistake(
            NO_INPUT_CHANNELS,
            NO_INPUT_CHANNELS_ADVICE,
            _conv_count(lambda f, c, k, b: k * (f * f + int(b)), lambda c, b: c > 1),
        ),
        Mistake(
            BIAS_PER_INPUT_CHANNEL,
            BIAS_PER_INPUT_CHANNEL_ADVICE,
            _conv_count(lambda f, c, k, b: k * c * (f * f + int(b)), lambda c, b: c > 1 and b),
        ),
        Mistake(
            ONE_BIAS,
            ONE_BIAS_ADVICE,
            _conv_count(lambda f, c, k, b: f * f * c * k + 1, lambda c, b: b),
        ),
        Mistake(
            NOT_SQUARED, NOT_SQUARED_ADVICE, _conv_count(lambda f, c, k, b: k * (f * c + int(b)))
        ),
    ),
)


def _dense_count(formula, when: Callable[[bool], bool] = lambda bias: True):
    def model(n_in, n_out, bias=True):
        if not when(bias):
            raise ValueError("the case does not exercise this mistake")
        return formula(n_in, n_out, bias)

    return model


dense_params_spec = FunctionSpec(
    name="dense_params",
    params=("n_in", "n_out", "bias"),
    reference=dense_params,
    suites={
        "basic": lambda: _count_cases(
            [
                (10, 5, None),
                (784, 128, None),
                (64, 10, None),
                (1, 1, None),
                _draw_counts(9, 2, None),
            ],
            ("n_in", "n_out"),
        ),
        "no_bias": lambda: _count_cases(
            [(10, 5, False), (784, 128, False), (7, 3, True), _draw_counts(10, 2, False)],
            ("n_in", "n_out"),
        ),
    },
    mistakes=(
        Mistake(
            BIAS_FORGOTTEN,
            DENSE_BIAS_ADVICE,
            _dense_count(lambda i, o, b: i * o, lambda b: b),
        ),
        Mistake(
            BIAS_FLAG_IGNORED,
            BIAS_FLAG_ADVICE,
            _dense_count(lambda i, o, b: o * (i + 1), lambda b: not b),
        ),
        Mistake(
            DENSE_BIAS_PER_INPUT,
            DENSE_BIAS_PER_INPUT_ADVICE,
            _dense_count(lambda i, o, b: i * (o + int(b)), lambda b: b),
        ),
        Mistake(
            ONE_BIAS,
            "Every output unit has its own bias: n_out biases, not 1.",
            _dense_count(lambda i, o, b: i * o + 1, lambda b: b),
        ),
    ),
)
