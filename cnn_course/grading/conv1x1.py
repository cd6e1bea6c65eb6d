"""Grading specs for 03_conv1x1: conv1x1, conv_mult_count and the bottleneck answers."""

from __future__ import annotations

import numpy as np

from cnn_course.grading.check import AnswerMistake, AnswerSpec
from cnn_course.grading.core import Case, FunctionSpec, Mistake, case_rng
from cnn_course.grading.mistakes import (
    BIAS_FORGOTTEN,
    BIAS_FORGOTTEN_ADVICE,
    BIAS_PER_CHANNEL,
    BIAS_PER_CHANNEL_ADVICE,
    CHANNELS_AVERAGED,
    CHANNELS_AVERAGED_ADVICE,
    CHANNELS_NOT_SUMMED,
    ONE_CHANNEL_ADVICE,
    TRANSPOSED,
    TRUNCATION,
    TRUNCATION_ADVICE,
)
from cnn_solutions import answers
from cnn_solutions.conv1x1 import conv1x1, conv_mult_count

MULTS_NO_CHANNELS = "multiplication count without input channels"
MULTS_NO_CHANNELS_ADVICE = (
    "Each output value is a dot product over an f x f x C_in block: "
    "it costs f * f * c_in multiplications, not f * f."
)
NOT_SQUARED = "filter size not squared"
NOT_SQUARED_ADVICE = "An f x f filter has f * f weights per input channel, not f."
OUTPUT_CHANNELS_FORGOTTEN = "output channels forgotten"
OUTPUT_CHANNELS_FORGOTTEN_ADVICE = (
    "Every one of the c_out filters produces its own h_out x w_out map: multiply by c_out."
)
BIAS_COUNTED = "bias counted as a multiplication"
BIAS_COUNTED_ADVICE = "Adding the bias is an addition, not a multiplication: leave it out."
FLOPS_COUNTED = "FLOPs counted (a multiply and an add) instead of multiplications"
FLOPS_COUNTED_ADVICE = (
    "FLOP counters count 2 operations per multiply-add; here only the multiplications "
    "count: h_out * w_out * c_out * f * f * c_in, without the factor 2."
)
ONE_STAGE = "bottleneck counting only one stage"
ONE_STAGE_ADVICE = (
    "The bottleneck runs two convolutions, the 1x1 (192 -> 16 channels) and then the 5x5 "
    "(16 -> 32 channels): add the multiplications of both."
)

# --- conv1x1 --------------------------------------------------------------------------


def _conv1x1_cases(seed: int, combos: list[tuple[int, int, int, int]], **options) -> list[Case]:
    """Cases from (H, W, C_in, C_out) tuples; options: bias, integer."""
    rng = case_rng(seed)
    cases = []
    for h, w, c_in, c_out in combos:
        if options.get("integer"):
            x = rng.integers(0, 10, size=(h, w, c_in))
            weights = rng.normal(size=(c_in, c_out)).round(3)
        else:
            x = rng.integers(-4, 5, size=(h, w, c_in)).astype(np.float64)
            weights = rng.integers(-3, 4, size=(c_in, c_out)).astype(np.float64)
        bias = rng.integers(-5, 6, size=c_out).astype(np.float64) if options.get("bias") else None
        label = f"{h}x{w}x{c_in} input, {c_in} -> {c_out} channels"
        label += ", with bias" if bias is not None else ", no bias"
        label += ", integer x" if options.get("integer") else ""
        cases.append(Case(label, (x, weights, bias)))
    return cases


def _channel_slice(part: slice):
    def model(x, weights, bias=None):
        return conv1x1(np.asarray(x)[:, :, part], np.asarray(weights)[part], bias)

    return model


def _bias_per_input_channel(x, weights, bias=None):
    if bias is None:
        raise ValueError("no bias in this case")
    return conv1x1(x, weights) + np.shape(x)[2] * np.asarray(bias)


def _channels_averaged(x, weights, bias=None):
    out = conv1x1(x, weights) / np.shape(x)[2]
    return out if bias is None else out + bias


def _weights_transposed(x, weights, bias=None):
    return conv1x1(x, np.asarray(weights).T, bias)


def _truncated_conv1x1(x, weights, bias=None):
    if not np.issubdtype(np.asarray(x).dtype, np.integer):
        raise ValueError("x holds no integers in this case")
    return np.trunc(conv1x1(x, weights, bias))


conv1x1_spec = FunctionSpec(
    name="conv1x1",
    params=("x", "weights", "bias"),
    reference=conv1x1,
    suites={
        "basic": lambda: _conv1x1_cases(40, [(3, 3, 2, 1), (2, 4, 3, 2)]),
        "channels": lambda: _conv1x1_cases(41, [(2, 3, 3, 3), (3, 4, 4, 3), (4, 2, 1, 4)]),
        "bias": lambda: _conv1x1_cases(42, [(3, 3, 2, 3), (2, 5, 4, 2)], bias=True),
        "integer": lambda: _conv1x1_cases(43, [(3, 3, 2, 2), (2, 4, 3, 1)], integer=True),
        "errors": lambda: [
            Case(
                "channel mismatch: 3-channel input, weights for 2 channels",
                (np.ones((2, 2, 3)), np.ones((2, 4))),
                raises=ValueError,
            ),
            Case(
                "bias of the wrong size: 3 output channels, 2 biases",
                (np.ones((2, 2, 2)), np.ones((2, 3)), np.ones(2)),
                raises=ValueError,
            ),
        ],
    },
    mistakes=(
        Mistake(
            BIAS_FORGOTTEN, BIAS_FORGOTTEN_ADVICE, lambda x, weights, bias=None: conv1x1(x, weights)
        ),
        Mistake(BIAS_PER_CHANNEL, BIAS_PER_CHANNEL_ADVICE, _bias_per_input_channel),
        Mistake(CHANNELS_NOT_SUMMED, ONE_CHANNEL_ADVICE, _channel_slice(slice(0, 1))),
        Mistake(CHANNELS_NOT_SUMMED, ONE_CHANNEL_ADVICE, _channel_slice(slice(-1, None))),
        Mistake(CHANNELS_AVERAGED, CHANNELS_AVERAGED_ADVICE, _channels_averaged),
        Mistake(
            TRANSPOSED,
            "weights has shape (C_in, C_out): out[i, j, k] = sum over c of "
            "x[i, j, c] * weights[c, k], i.e. x[i, j] @ weights.",
            _weights_transposed,
        ),
        Mistake(
            TRUNCATION,
            TRUNCATION_ADVICE,
            _truncated_conv1x1,
        ),
    ),
)

# --- conv_mult_count ------------------------------------------------------------------


def _count_cases(combos: list[tuple[int, int, int, int, int]]) -> list[Case]:
    return [
        Case(
            f"{h}x{w}x{c_out} output, {f}x{f} filters over {c_in} channels", (h, w, f, c_in, c_out)
        )
        for h, w, f, c_in, c_out in combos
    ]


conv_mult_count_spec = FunctionSpec(
    name="conv_mult_count",
    params=("h_out", "w_out", "f", "c_in", "c_out"),
    reference=conv_mult_count,
    suites={
        "basic": lambda: _count_cases([(4, 4, 3, 1, 1), (10, 8, 2, 1, 3), (5, 7, 1, 1, 2)]),
        "channels": lambda: _count_cases(
            [(28, 28, 3, 4, 8), (5, 7, 1, 16, 4), (14, 14, 5, 32, 64), (3, 2, 2, 6, 1)]
        ),
    },
    mistakes=(
        Mistake(
            MULTS_NO_CHANNELS,
            MULTS_NO_CHANNELS_ADVICE,
            lambda h, w, f, c_in, c_out: h * w * f * f * c_out,
        ),
        Mistake(
            NOT_SQUARED, NOT_SQUARED_ADVICE, lambda h, w, f, c_in, c_out: h * w * f * c_in * c_out
        ),
        Mistake(
            OUTPUT_CHANNELS_FORGOTTEN,
            OUTPUT_CHANNELS_FORGOTTEN_ADVICE,
            lambda h, w, f, c_in, c_out: h * w * f * f * c_in,
        ),
        Mistake(
            BIAS_COUNTED,
            BIAS_COUNTED_ADVICE,
            lambda h, w, f, c_in, c_out: h * w * c_out * (f * f * c_in + 1),
        ),
        Mistake(
            FLOPS_COUNTED,
            FLOPS_COUNTED_ADVICE,
            lambda h, w, f, c_in, c_out: 2 * h * w * f * f * c_in * c_out,
        ),
    ),
)

FUNCTIONS = (conv1x1_spec, conv_mult_count_spec)

# --- answers --------------------------------------------------------------------------

SIDE = 28  # "same" padding keeps 28x28 for both the 1x1 and the 5x5 stage

ANSWERS = (
    AnswerSpec(
        name="direct_mults",
        expected=answers.direct_mults,
        meaning='multiplications of 32 filters 5x5, "same" padding, on a 28x28x192 input',
        mistakes=(
            AnswerMistake(MULTS_NO_CHANNELS, MULTS_NO_CHANNELS_ADVICE, SIDE * SIDE * 32 * 25),
            AnswerMistake(
                '"valid" output size instead of "same"',
                '"same" padding keeps the output at 28x28; only without padding is it 24x24.',
                24 * 24 * 32 * 25 * 192,
            ),
            AnswerMistake(NOT_SQUARED, NOT_SQUARED_ADVICE, SIDE * SIDE * 32 * 5 * 192),
        ),
    ),
    AnswerSpec(
        name="bottleneck_mults",
        expected=answers.bottleneck_mults,
        meaning="multiplications of a 1x1 conv to 16 channels, then 32 filters 5x5, both counted",
        mistakes=(
            AnswerMistake(ONE_STAGE, ONE_STAGE_ADVICE, SIDE * SIDE * 32 * 25 * 16),
            AnswerMistake(ONE_STAGE, ONE_STAGE_ADVICE, SIDE * SIDE * 16 * 192),
            AnswerMistake(
                MULTS_NO_CHANNELS,
                MULTS_NO_CHANNELS_ADVICE,
                SIDE * SIDE * 16 + SIDE * SIDE * 32 * 25,
            ),
            AnswerMistake(
                "1x1 stage counted as a 5x5",
                "The first stage's filters are 1x1: each output value costs 1 * 1 * 192 "
                "multiplications.",
                SIDE * SIDE * 16 * 25 * 192 + SIDE * SIDE * 32 * 25 * 16,
            ),
        ),
    ),
    AnswerSpec(
        name="reduction_params",
        expected=answers.reduction_params,
        meaning="parameters of a 1x1 conv from 256 to 64 channels, biases included",
        mistakes=(
            AnswerMistake(
                "biases forgotten",
                "Each of the 64 filters has one bias besides its 256 weights.",
                256 * 64,
            ),
            AnswerMistake(
                "one bias per input channel",
                "There is one bias per filter (output channel), not per input channel.",
                256 * 64 + 256,
            ),
            AnswerMistake(
                "weights counted for one filter only",
                "There are 64 filters, each with 256 weights and a bias.",
                256 + 1,
            ),
        ),
    ),
)
