"""Grading specs for 02_output_size: output sizes, parameter counts, shape traces.

Sizes and counts are graded by value: an integral float such as ``14.0`` is accepted (the
engine's ``compare`` does so for every int), because its value is right. Writing ``/``
instead of ``//`` is still caught, and named, where it matters: every stride suite holds
cases where the stride does not divide ``n + 2*padding - f``, so true division gives a
fraction (``3.5``) there. Shapes must be tuples, as the contract says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cnn_course.grading.check import AnswerMistake, AnswerSpec
from cnn_course.grading.core import Case, FunctionSpec, Mistake, case_rng
from cnn_course.grading.filters import (
    BIAS_FORGOTTEN,
    CEIL,
    ONE_SIDE,
    PADDING_IGNORED,
    STRIDE_IGNORED,
)
from cnn_solutions import answers
from cnn_solutions.shapes import (
    conv_output_size,
    conv_params,
    dense_params,
    pool_output_size,
    trace_shapes,
)

# --- mistake names shared by several functions and answers -----------------------------

TRUE_DIVISION = "true division instead of floor division"
TRUE_DIVISION_ADVICE = (
    "`/` gives a float such as 3.5; sizes are whole numbers of window positions: "
    "use `//` (floor division), e.g. (n + 2*padding - f) // stride + 1."
)
FORGOT_PLUS_ONE = "output size off by one (the + 1 forgotten)"
FORGOT_PLUS_ONE_ADVICE = (
    "(n + 2*padding - f) // stride counts the steps the window takes; add 1 for the window "
    "at the start, outside the division: (n + 2*padding - f) // stride + 1."
)
# round() only ever errs upwards, like ceil, so one name covers both.
CEIL_SIZE_ADVICE = (
    "A window that would run past the edge is dropped, so sizes round DOWN: use `//`; "
    "math.ceil and round() count a window too many."
)
PRECEDENCE = "missing parentheses: only f divided by the stride"
PRECEDENCE_ADVICE = (
    "`//` binds tighter than `+` and `-`: write (n + 2*padding - f) // stride + 1 "
    "with the parentheses."
)
PADDING_ADVICE = "The padded input has n + 2*padding cells: padding is added on both sides."
ONE_SIDE_SIZE_ADVICE = "padding is added on EACH side, so it counts twice: n + 2*padding."
STRIDE_SIZE_ADVICE = "Divide the distance the window travels by the stride: (...) // stride + 1."
POOL_DEFAULT_STRIDE = "default pooling stride taken as 1"
POOL_DEFAULT_STRIDE_ADVICE = (
    "Without a stride, pooling windows do not overlap: the stride defaults to the window "
    "size f (`stride = f if stride is None else stride`)."
)
POOL_STRIDE_IGNORED = "pooling stride ignored (window size used instead)"
POOL_STRIDE_IGNORED_ADVICE = (
    "Use the given stride when there is one; only when it is None does it default to f."
)
BIAS_COUNT_ADVICE = "Counts weights only: add one bias per filter (n_filters biases)."
DENSE_BIAS_ADVICE = "Counts weights only: add one bias per output unit (n_out biases)."
BIAS_FLAG_IGNORED = "bias=False ignored"
BIAS_FLAG_ADVICE = "With bias=False the layer has weights only: count the biases only if bias."
NO_INPUT_CHANNELS = "input channels not counted"
NO_INPUT_CHANNELS_ADVICE = (
    "Each filter spans every input channel: it has f * f * c_in weights, not f * f."
)
BIAS_PER_INPUT_CHANNEL = "bias counted per input channel"
BIAS_PER_INPUT_CHANNEL_ADVICE = "A filter has one bias, however many input channels it spans."
ONE_BIAS = "one bias for the whole layer"
ONE_BIAS_ADVICE = "Every filter has its own bias: n_filters biases, not 1."
NOT_SQUARED = "filter area f instead of f * f"
NOT_SQUARED_ADVICE = "An f x f filter has f * f weights per input channel."
DENSE_BIAS_PER_INPUT = "biases counted per input instead of per output"
DENSE_BIAS_PER_INPUT_ADVICE = (
    "Each output unit has one bias: n_in * n_out weights plus n_out biases."
)


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

# --- trace_shapes ---------------------------------------------------------------------

Layer = tuple[str, Mapping[str, Any]]


def _conv(filters: int, size: int, **options: int) -> Layer:
    return ("conv", {"filters": filters, "size": size, **options})


def _pool(kind: str = "maxpool", **options: int) -> Layer:
    return (kind, dict(options))


def _dense(units: int) -> Layer:
    return ("dense", {"units": units})


FLATTEN: Layer = ("flatten", {})


def _describe_layers(layers: Sequence[Layer]) -> str:
    return "[\n" + "".join(f"  {layer!r},\n" for layer in layers) + "]"


def _trace_case(label: str, input_shape: tuple[int, ...], layers: list[Layer], **kw) -> Case:
    return Case(label, (input_shape, layers), shown={"layers": _describe_layers(layers)}, **kw)


def _trace_model(
    *,
    biases: bool = True,
    conv_channels: bool = True,
    pool_default: str = "size",
    pool_stride_used: bool = True,
    dense_input: str = "flat",
    flatten_channels: bool = True,
    container: type = tuple,
    flat_as_int: bool = False,
):
    """The trace a student gets with one slip; the keyword names the slip."""

    def step(shape, kind, options):
        if kind == "conv":
            h, w, c = shape
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            out = (conv_output_size(h, f, s, p), conv_output_size(w, f, s, p), k)
            return out, k * (f * f * (c if conv_channels else 1) + int(biases))
        if kind in ("maxpool", "avgpool"):
            h, w, c = shape
            f = options["size"]
            s = options.get("stride", f if pool_default == "size" else 1)
            s = s if pool_stride_used else f
            return (pool_output_size(h, f, s), pool_output_size(w, f, s), c), 0
        if kind == "flatten":
            h, w, c = shape
            return (h * w * (c if flatten_channels else 1),), 0
        if kind == "dense":
            if len(shape) != 1:
                raise ValueError("dense on a 3-D shape")
            units = options["units"]
            return (units,), dense_params(shape[0], units, biases)
        raise ValueError(f"unknown layer kind {kind!r}")

    def model(input_shape, layers):
        shape, trace, channels = tuple(input_shape), [], input_shape[-1]
        for kind, options in layers:
            if kind == "dense" and dense_input == "channels":
                shape = (channels,)  # the flatten never updated the running channel count
            shape, params = step(shape, kind, options)
            channels = shape[-1] if kind != "flatten" else channels
            shown = shape[0] if flat_as_int and len(shape) == 1 else container(shape)
            trace.append((shown, params))
        return trace

    return model


_NETWORK_LAYERS = [
    _conv(6, 5, padding=2),
    _pool(size=2),
    _conv(16, 5),
    _pool("avgpool", size=2, stride=2),
    FLATTEN,
    _dense(120),
    _dense(10),
]

trace_shapes_spec = FunctionSpec(
    name="trace_shapes",
    params=("input_shape", "layers"),
    reference=trace_shapes,
    suites={
        "conv": lambda: [
            _trace_case("one conv layer, default stride and padding", (10, 10, 1), [_conv(4, 3)]),
            _trace_case(
                "two conv layers, the second on 8 channels, stride 2 and padding 1",
                (32, 32, 3),
                [_conv(8, 3, padding=1), _conv(16, 3, stride=2, padding=1)],
            ),
        ],
        "pool": lambda: [
            _trace_case(
                "max pool with its default stride, then avg pool with stride 1",
                (12, 12, 4),
                [_pool(size=2), _pool("avgpool", size=3, stride=1)],
            ),
            _trace_case(
                "conv, then overlapping max pool 3x3 stride 2",
                (15, 15, 2),
                [_conv(6, 3), _pool(size=3, stride=2)],
            ),
        ],
        "flatten_dense": lambda: [
            _trace_case(
                "flatten and two dense layers",
                (6, 6, 3),
                [FLATTEN, _dense(20), _dense(4)],
            ),
            _trace_case(
                "conv, pool, flatten, dense",
                (9, 9, 2),
                [_conv(5, 3), _pool(size=2), FLATTEN, _dense(7)],
            ),
        ],
        "network": lambda: [
            _trace_case("a LeNet-style network on 28x28x1", (28, 28, 1), _NETWORK_LAYERS)
        ],
        "errors": lambda: [
            _trace_case(
                "dense on a 3-D shape (no flatten)", (8, 8, 3), [_dense(10)], raises=ValueError
            ),
            _trace_case(
                "unknown layer kind 'dropout'",
                (8, 8, 3),
                [_conv(4, 3), ("dropout", {"rate": 0.5})],
                raises=ValueError,
            ),
        ],
    },
    mistakes=(
        Mistake(
            "biases not counted",
            "Every conv filter and every dense unit has a bias: conv k * (f*f*c_in + 1), "
            "dense n_out * (n_in + 1).",
            _trace_model(biases=False),
        ),
        Mistake(NO_INPUT_CHANNELS, NO_INPUT_CHANNELS_ADVICE, _trace_model(conv_channels=False)),
        Mistake(POOL_DEFAULT_STRIDE, POOL_DEFAULT_STRIDE_ADVICE, _trace_model(pool_default="1")),
        Mistake(
            POOL_STRIDE_IGNORED, POOL_STRIDE_IGNORED_ADVICE, _trace_model(pool_stride_used=False)
        ),
        Mistake(
            "dense input size ignores the flatten",
            "A dense layer after a flatten takes all H*W*C values as input; track the shape "
            "through the flatten and use its length as n_in.",
            _trace_model(dense_input="channels"),
        ),
        Mistake(
            "channels left out of the flatten",
            "Flatten keeps every value: its length is H * W * C.",
            _trace_model(flatten_channels=False),
        ),
        Mistake(
            "shapes as lists instead of tuples",
            "Give each shape as a tuple, e.g. (h, w, c) or (n,), not a list.",
            _trace_model(container=list),
        ),
        Mistake(
            "flat shape as an int instead of a 1-tuple",
            "After flatten or dense the shape is a tuple of one item: (n,) - note the comma.",
            _trace_model(flat_as_int=True),
        ),
    ),
)

FUNCTIONS = (
    conv_output_size_spec,
    pool_output_size_spec,
    conv_params_spec,
    dense_params_spec,
    trace_shapes_spec,
)

# --- the answers: the contract's network ----------------------------------------------

# The worked answer sheet the course grew out of made these slips; a student who copies one
# is told which step it is.
SHEET_SLIP = "the worked answer sheet's slip"
_CONV = answers.conv_out_shape  # (H, W, filters) of the first layer
_POOL = answers.pool_out_shape
_NO_PAD = conv_output_size(28, 3)  # the conv's size had padding been forgotten
_NO_PAD_POOL = pool_output_size(_NO_PAD, 2)
_FILTERS = _CONV[2]
_CONV_WEIGHTS = conv_params(3, 1, _FILTERS, bias=False)

# This network's conv layer has c_in = 1, so a count "without input channels" is right
# here and cannot be told apart; conv_params' "channels" cases and trace_shapes' "conv"
# cases (c_in > 1) catch that slip. Forgotten biases, a single bias, f instead of f*f and
# sizes carried over from an unpadded conv all give distinct values, named below.
_CHANNELS_LAST = "Channels come last: (height, width, channels)."
_TUPLE_NOT_LIST = "the shape as a list"
_TUPLE_ADVICE = "The answer is a tuple: write it with round brackets, (h, w, c)."

ANSWERS = (
    AnswerSpec(
        name="conv_out_shape",
        expected=_CONV,
        meaning="the conv layer's output, a tuple (H, W, C)",
        mistakes=(
            AnswerMistake(
                PADDING_IGNORED,
                "With padding 1 a 3x3 filter keeps the 28x28 size: (28 + 2*1 - 3) // 1 + 1.",
                (_NO_PAD, _NO_PAD, _FILTERS),
            ),
            AnswerMistake("channels first", _CHANNELS_LAST, (_FILTERS, _CONV[0], _CONV[1])),
            AnswerMistake(
                SHEET_SLIP,
                "Step 1 went wrong: the conv keeps 28x28, as a 3x3 filter with padding 1 and "
                "stride 1 gives (28 + 2*1 - 3) // 1 + 1 = 28 per axis; 12x12 would need a "
                "larger filter or stride 2.",
                (12, 12, _FILTERS),
            ),
            AnswerMistake(
                "the input's channel count instead of the number of filters",
                "A conv layer outputs one channel per filter: C = 16.",
                (_CONV[0], _CONV[1], 1),
            ),
            AnswerMistake(
                "channel axis missing",
                "The output has a channel axis too: one channel per filter.",
                _CONV[:2],
            ),
            AnswerMistake(_TUPLE_NOT_LIST, _TUPLE_ADVICE, list(_CONV)),
        ),
    ),
    AnswerSpec(
        name="pool_out_shape",
        expected=_POOL,
        meaning="the max-pool layer's output, a tuple (H, W, C)",
        mistakes=(
            AnswerMistake(
                STRIDE_IGNORED,
                "The pool moves 2 cells at a time: (28 - 2) // 2 + 1 per axis.",
                (pool_output_size(28, 2, 1), pool_output_size(28, 2, 1), _FILTERS),
            ),
            AnswerMistake(
                "conv padding ignored before the pool",
                "Start from the conv's output, which padding 1 keeps at 28x28.",
                (_NO_PAD_POOL, _NO_PAD_POOL, _FILTERS),
            ),
            AnswerMistake("channels first", _CHANNELS_LAST, (_FILTERS, _POOL[0], _POOL[1])),
            AnswerMistake(
                SHEET_SLIP,
                "Step 2 went wrong: the 2x2 pool with stride 2 halves the conv's 28x28 once, "
                "to 14x14; 7x7 halves it twice (or starts from 14x14).",
                (7, 7, _FILTERS),
            ),
            AnswerMistake(
                "channel axis missing",
                "Pooling keeps the channels: the shape still has three entries.",
                _POOL[:2],
            ),
            AnswerMistake(_TUPLE_NOT_LIST, _TUPLE_ADVICE, list(_POOL)),
        ),
    ),
    AnswerSpec(
        name="flat_size",
        expected=answers.flat_size,
        meaning="the length after flatten, an int",
        mistakes=(
            AnswerMistake(
                "channels left out of the flatten",
                "Flatten keeps every value: H * W * C.",
                _POOL[0] * _POOL[1],
            ),
            AnswerMistake(
                "flattened the conv output instead of the pool output",
                "The flatten comes after the pool: use the pooled shape.",
                _CONV[0] * _CONV[1] * _CONV[2],
            ),
            AnswerMistake(
                "conv padding ignored before the pool",
                "Start from the conv's output, which padding 1 keeps at 28x28.",
                _NO_PAD_POOL * _NO_PAD_POOL * _FILTERS,
            ),
            AnswerMistake(
                SHEET_SLIP,
                "Step 3 went wrong: 1848 is not H * W * C of any shape in this network; the "
                "flatten multiplies the pooled shape out: 14 * 14 * 16.",
                1848,
            ),
            AnswerMistake(
                "a tuple instead of an int",
                "flat_size is a number, the length of the flat vector: write it without (,).",
                (answers.flat_size,),
            ),
        ),
    ),
    AnswerSpec(
        name="conv_param_count",
        expected=answers.conv_param_count,
        meaning="parameters of the conv layer, biases included, an int",
        mistakes=(
            AnswerMistake(BIAS_FORGOTTEN, BIAS_COUNT_ADVICE, _CONV_WEIGHTS),
            AnswerMistake(ONE_BIAS, ONE_BIAS_ADVICE, _CONV_WEIGHTS + 1),
            AnswerMistake(NOT_SQUARED, NOT_SQUARED_ADVICE, _FILTERS * (3 + 1)),
            AnswerMistake(
                "counted the output values instead of the parameters",
                "Parameters are the filters' weights and biases; they do not depend on the "
                "image size.",
                _CONV[0] * _CONV[1] * _CONV[2],
            ),
        ),
    ),
    AnswerSpec(
        name="dense1_param_count",
        expected=answers.dense1_param_count,
        meaning="parameters of the 32-unit dense layer, biases included, an int",
        mistakes=(
            AnswerMistake(
                BIAS_FORGOTTEN, DENSE_BIAS_ADVICE, dense_params(answers.flat_size, 32, False)
            ),
            AnswerMistake(
                DENSE_BIAS_PER_INPUT,
                DENSE_BIAS_PER_INPUT_ADVICE,
                answers.flat_size * (32 + 1),
            ),
            AnswerMistake(
                "flattened the conv output instead of the pool output",
                "The dense layer's inputs are the flattened POOL output.",
                dense_params(_CONV[0] * _CONV[1] * _CONV[2], 32),
            ),
            AnswerMistake(
                "channels left out of the flatten",
                "The dense layer sees all H * W * C flattened values.",
                dense_params(_POOL[0] * _POOL[1], 32),
            ),
            AnswerMistake(
                "conv padding ignored before the pool",
                "Start from the conv's output, which padding 1 keeps at 28x28.",
                dense_params(_NO_PAD_POOL * _NO_PAD_POOL * _FILTERS, 32),
            ),
        ),
    ),
    AnswerSpec(
        name="dense2_param_count",
        expected=answers.dense2_param_count,
        meaning="parameters of the 5-unit dense layer, biases included, an int",
        mistakes=(
            AnswerMistake(BIAS_FORGOTTEN, DENSE_BIAS_ADVICE, dense_params(32, 5, False)),
            AnswerMistake(DENSE_BIAS_PER_INPUT, DENSE_BIAS_PER_INPUT_ADVICE, 32 * (5 + 1)),
            AnswerMistake(
                "wrong input size: the flat vector instead of the 32 units before it",
                "Each dense layer's input is the previous layer's output: 32 units here.",
                dense_params(answers.flat_size, 5),
            ),
            AnswerMistake(
                "counted both dense layers",
                "Count only the 5-unit layer: 32 inputs, 5 outputs.",
                answers.dense1_param_count + answers.dense2_param_count,
            ),
        ),
    ),
)
