"""Simulated students for 03_conv1x1: correct work in several styles, and typical mistakes.

Every function here is what a student might type into the notebook (``np`` is imported
there); ``function_source`` renames it to the contract name.
"""

from __future__ import annotations

import numpy as np

from cnn_course.classroom import StudentMistake
from cnn_course.grading.conv1x1 import (
    MULTS_NO_CHANNELS,
    NOT_SQUARED,
    ONE_STAGE,
    OUTPUT_CHANNELS_FORGOTTEN,
)
from cnn_course.grading.mistakes import (
    BIAS_FORGOTTEN,
    BIAS_PER_CHANNEL,
    CHANNELS_AVERAGED,
    CHANNELS_NOT_SUMMED,
    TRANSPOSED,
    TRUNCATION,
)

# --- correct: conv1x1 -----------------------------------------------------------------


def conv1x1_loops(x, weights, bias=None):
    h, w, c_in = x.shape
    if weights.shape[0] != c_in:
        raise ValueError(f"weights expect {weights.shape[0]} channels, x has {c_in}")
    c_out = weights.shape[1]
    if bias is not None and len(bias) != c_out:
        raise ValueError(f"bias needs {c_out} values, got {len(bias)}")
    out = np.zeros((h, w, c_out))
    for i in range(h):
        for j in range(w):
            for k in range(c_out):
                total = 0.0
                for c in range(c_in):
                    total += x[i, j, c] * weights[c, k]
                if bias is not None:
                    total += bias[k]
                out[i, j, k] = total
    return out


def conv1x1_matmul(x, weights, bias=None):
    if x.shape[-1] != weights.shape[0]:
        raise ValueError("x and weights disagree on the number of input channels")
    out = x @ weights
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (weights.shape[1],):
            raise ValueError("bias must have one value per output channel")
        out = out + bias
    return out.astype(float)


def conv1x1_einsum(x, weights, bias=None):
    # einsum itself raises ValueError when the channel axes disagree.
    out = np.einsum("hwc,ck->hwk", x.astype(float), weights)
    if bias is not None:
        out = out + np.broadcast_to(bias, (weights.shape[1],))
    return out


def conv1x1_reshape(x, weights, bias=None):
    h, w, c_in = x.shape
    if weights.shape[0] != c_in:
        raise ValueError("channel mismatch between x and weights")
    pixels = x.reshape(h * w, c_in).astype(np.float64)  # one row per pixel: a dense layer
    out = pixels @ weights
    if bias is not None:
        if np.shape(bias) != (weights.shape[1],):
            raise ValueError("bias has the wrong size")
        out += bias
    return out.reshape(h, w, weights.shape[1])


# --- correct: conv_mult_count ---------------------------------------------------------


def conv_mult_count_stepwise(h_out, w_out, f, c_in, c_out):
    per_value = f * f * c_in  # one dot product over an f x f x c_in block
    values = h_out * w_out * c_out
    return per_value * values


def conv_mult_count_formula(h_out, w_out, f, c_in, c_out):
    return h_out * w_out * c_out * f**2 * c_in


def conv_mult_count_prod(h_out, w_out, f, c_in, c_out):
    import math

    return math.prod([h_out, w_out, f, f, c_in, c_out])


def conv_mult_count_loops(h_out, w_out, f, c_in, c_out):
    count = 0
    for _ in range(h_out * w_out * c_out):
        count += f * f * c_in
    return count


# --- correct: answers ------------------------------------------------------------------

ARITHMETIC_ANSWERS = {
    "direct_mults": "direct_mults = (28 * 28 * 32) * (5 * 5 * 192)",
    "bottleneck_mults": (
        "stage1 = (28 * 28 * 16) * (1 * 1 * 192)\n"
        "stage2 = (28 * 28 * 32) * (5 * 5 * 16)\n"
        "bottleneck_mults = stage1 + stage2"
    ),
    "reduction_params": "reduction_params = 256 * 64 + 64",
}

COMPUTED_ANSWERS = {
    "direct_mults": "direct_mults = conv_mult_count(28, 28, 5, 192, 32)",
    "bottleneck_mults": (
        "bottleneck_mults = conv_mult_count(28, 28, 1, 192, 16) + conv_mult_count(\n"
        "    28, 28, 5, 16, 32\n"
        ")"
    ),
    "reduction_params": "reduction_params = (1 * 1 * 256 + 1) * 64",
}

NUMPY_ANSWERS = {
    "direct_mults": (
        "same = (28 + 2 * 2 - 5) // 1 + 1  # 'same' padding for 5x5 is 2\n"
        "direct_mults = int(np.prod([same, same, 32, 5, 5, 192]))"
    ),
    "bottleneck_mults": ("bottleneck_mults = np.int64(28 * 28) * (16 * 192 + 32 * 25 * 16)"),
    "reduction_params": "reduction_params = np.ones((256, 64)).size + np.ones(64).size",
}

CORRECT_STYLES = {
    "loops": {
        "conv1x1": conv1x1_loops,
        "conv_mult_count": conv_mult_count_loops,
        **ARITHMETIC_ANSWERS,
    },
    "matmul": {
        "conv1x1": conv1x1_matmul,
        "conv_mult_count": conv_mult_count_formula,
        **COMPUTED_ANSWERS,
    },
    "einsum": {
        "conv1x1": conv1x1_einsum,
        "conv_mult_count": conv_mult_count_prod,
        **NUMPY_ANSWERS,
    },
    "reshape": {
        "conv1x1": conv1x1_reshape,
        "conv_mult_count": conv_mult_count_stepwise,
        **COMPUTED_ANSWERS,
    },
}

# --- mistakes: conv1x1 ----------------------------------------------------------------


def conv1x1_bias_forgotten(x, weights, bias=None):
    if x.shape[2] != weights.shape[0]:
        raise ValueError("channel mismatch")
    out = np.zeros((x.shape[0], x.shape[1], weights.shape[1]))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = x[i, j] @ weights
    return out


def conv1x1_last_channel(x, weights, bias=None):
    h, w, c_in = x.shape
    if weights.shape[0] != c_in:
        raise ValueError("channel mismatch")
    out = np.zeros((h, w, weights.shape[1]))
    for i in range(h):
        for j in range(w):
            for k in range(weights.shape[1]):
                for c in range(c_in):
                    out[i, j, k] = x[i, j, c] * weights[c, k]  # = instead of +=
                if bias is not None:
                    out[i, j, k] += bias[k]
    return out


def conv1x1_int_output(x, weights, bias=None):
    if x.shape[2] != weights.shape[0]:
        raise ValueError("channel mismatch")
    if bias is not None and len(bias) != weights.shape[1]:
        raise ValueError("wrong bias size")
    out = np.zeros((x.shape[0], x.shape[1], weights.shape[1]), dtype=x.dtype)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = x[i, j] @ weights + (0 if bias is None else bias)
    return out


def conv1x1_weights_transposed(x, weights, bias=None):
    h, w, c_in = x.shape
    c_out = weights.shape[1]
    out = np.zeros((h, w, c_out))
    for i in range(h):
        for j in range(w):
            for k in range(c_out):
                out[i, j, k] = sum(x[i, j, c] * weights[k, c] for c in range(c_in))
    return out if bias is None else out + bias


def conv1x1_mean(x, weights, bias=None):
    if x.shape[2] != weights.shape[0]:
        raise ValueError("channel mismatch")
    out = np.mean(x[:, :, :, None] * weights[None, None], axis=2)
    return out if bias is None else out + bias


def conv1x1_bias_in_loop(x, weights, bias=None):
    h, w, c_in = x.shape
    if weights.shape[0] != c_in:
        raise ValueError("channel mismatch")
    c_out = weights.shape[1]
    if bias is not None and len(bias) != c_out:
        raise ValueError("wrong bias size")
    out = np.zeros((h, w, c_out))
    for i in range(h):
        for j in range(w):
            for k in range(c_out):
                for c in range(c_in):
                    out[i, j, k] += x[i, j, c] * weights[c, k]
                    if bias is not None:
                        out[i, j, k] += bias[k]
    return out


# --- mistakes: conv_mult_count --------------------------------------------------------


def conv_mult_count_no_channels(h_out, w_out, f, c_in, c_out):
    return h_out * w_out * c_out * f * f


def conv_mult_count_not_squared(h_out, w_out, f, c_in, c_out):
    return h_out * w_out * f * c_in * c_out


def conv_mult_count_one_map(h_out, w_out, f, c_in, c_out):
    return h_out * w_out * f * f * c_in


def conv_mult_count_with_bias(h_out, w_out, f, c_in, c_out):
    return h_out * w_out * c_out * (f * f * c_in + 1)


# What students write in the hand-graded cells (by grade id): the autograder leaves these
# for the instructor, so their points wait for hand grading.
WRITTEN_ANSWERS = {
    "why_1x1": (
        "A 1x1 convolution keeps the height and width and changes only the number of "
        "channels: each output pixel is a weighted sum of that pixel's input channels. "
        "Putting one before a 5x5 layer to shrink the channels first cuts the "
        "multiplications several times over (see the bottleneck numbers above). It also "
        "adds a non-linearity after it, so the network gets deeper at little cost."
    ),
}

MISTAKES = [
    StudentMistake(
        "conv1x1", "bias forgotten", conv1x1_bias_forgotten, BIAS_FORGOTTEN, ("conv1x1_bias",)
    ),
    StudentMistake(
        "conv1x1",
        "= instead of += over channels",
        conv1x1_last_channel,
        CHANNELS_NOT_SUMMED,
        ("conv1x1_basic", "conv1x1_channels", "conv1x1_bias", "conv1x1_integer"),
    ),
    StudentMistake(
        "conv1x1",
        "output array with x's integer dtype",
        conv1x1_int_output,
        TRUNCATION,
        ("conv1x1_integer",),
    ),
    StudentMistake(
        "conv1x1",
        "weights indexed [k, c]",
        conv1x1_weights_transposed,
        TRANSPOSED,
        ("conv1x1_channels",),
    ),
    StudentMistake(
        "conv1x1",
        "mean over channels",
        conv1x1_mean,
        CHANNELS_AVERAGED,
        ("conv1x1_basic", "conv1x1_channels", "conv1x1_bias"),
    ),
    StudentMistake(
        "conv1x1",
        "bias added inside the channel loop",
        conv1x1_bias_in_loop,
        BIAS_PER_CHANNEL,
        ("conv1x1_bias",),
    ),
    StudentMistake(
        "conv_mult_count",
        "input channels left out",
        conv_mult_count_no_channels,
        MULTS_NO_CHANNELS,
        ("conv_mult_count_channels",),
    ),
    StudentMistake(
        "conv_mult_count",
        "f instead of f * f",
        conv_mult_count_not_squared,
        NOT_SQUARED,
        ("conv_mult_count_basic", "conv_mult_count_channels"),
    ),
    StudentMistake(
        "conv_mult_count",
        "c_out left out",
        conv_mult_count_one_map,
        OUTPUT_CHANNELS_FORGOTTEN,
        ("conv_mult_count_basic", "conv_mult_count_channels"),
    ),
    StudentMistake(
        "conv_mult_count",
        "bias counted",
        conv_mult_count_with_bias,
        "bias counted as a multiplication",
        ("conv_mult_count_basic", "conv_mult_count_channels"),
    ),
    StudentMistake(
        "direct_mults",
        "input channels left out",
        "direct_mults = 28 * 28 * 32 * 5 * 5",
        MULTS_NO_CHANNELS,
        ("direct_mults_check",),
    ),
    StudentMistake(
        "direct_mults",
        "valid output size",
        "direct_mults = 24 * 24 * 32 * 5 * 5 * 192",
        '"valid" output size instead of "same"',
        ("direct_mults_check",),
    ),
    StudentMistake(
        "bottleneck_mults",
        "only the 5x5 stage",
        "bottleneck_mults = 28 * 28 * 32 * 5 * 5 * 16",
        ONE_STAGE,
        ("bottleneck_mults_check",),
    ),
    StudentMistake(
        "bottleneck_mults",
        "only the 1x1 stage",
        "bottleneck_mults = 28 * 28 * 16 * 192",
        ONE_STAGE,
        ("bottleneck_mults_check",),
    ),
    StudentMistake(
        "reduction_params",
        "biases forgotten",
        "reduction_params = 256 * 64",
        "biases forgotten",
        ("reduction_params_check",),
    ),
    StudentMistake(
        "reduction_params",
        "a bias per input channel",
        "reduction_params = 256 * 64 + 256",
        "one bias per input channel",
        ("reduction_params_check",),
    ),
]
