"""Grading specs for 02_output_size: output sizes, parameter counts, shape traces.

Sizes and counts are graded by value: an integral float such as ``14.0`` is accepted (the
engine's ``compare`` does so for every int), because its value is right. Writing ``/``
instead of ``//`` is still caught, and named, where it matters: every stride suite holds
cases where the stride does not divide ``n + 2*padding - f``, so true division gives a
fraction (``3.5``) there. Shapes must be tuples, as the contract says.

The function specs are in :mod:`output_size_formulas` and :mod:`output_size_trace`, the
shared mistake names in :mod:`output_size_common`; this module lists them in order and
holds the answers' specs.
"""

from __future__ import annotations

from cnn_course.grading.check import AnswerMistake, AnswerSpec
from cnn_course.grading.mistakes import BIAS_FORGOTTEN, PADDING_IGNORED, SHEET_SLIP, STRIDE_IGNORED
from cnn_course.grading.output_size_common import (
    BIAS_COUNT_ADVICE,
    DENSE_BIAS_ADVICE,
    DENSE_BIAS_PER_INPUT,
    DENSE_BIAS_PER_INPUT_ADVICE,
    NOT_SQUARED,
    NOT_SQUARED_ADVICE,
    ONE_BIAS,
    ONE_BIAS_ADVICE,
)
from cnn_course.grading.output_size_formulas import (
    conv_output_size_spec,
    conv_params_spec,
    dense_params_spec,
    pool_output_size_spec,
)
from cnn_course.grading.output_size_trace import trace_shapes_spec
from cnn_solutions import answers
from cnn_solutions.shapes import conv_output_size, conv_params, dense_params, pool_output_size

FUNCTIONS = (
    conv_output_size_spec,
    pool_output_size_spec,
    conv_params_spec,
    dense_params_spec,
    trace_shapes_spec,
)

# --- the answers: the contract's network ----------------------------------------------

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
