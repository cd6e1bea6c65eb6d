"""Grading specs for 01_filters: zero_pad, correlate2d, conv2d, conv2d_multi."""

from __future__ import annotations

import math

import numpy as np

from cnn_course.grading.check import AnswerMistake, AnswerSpec
from cnn_course.grading.core import Case, FunctionSpec, Mistake, case_rng
from cnn_course.grading.mistakes import (
    BIAS_EVERY_PRODUCT,
    BIAS_EVERY_PRODUCT_ADVICE,
    BIAS_FORGOTTEN,
    BIAS_FORGOTTEN_ADVICE,
    BIAS_PER_CHANNEL,
    BIAS_PER_CHANNEL_ADVICE,
    CEIL,
    CEIL_ADVICE,
    CHANNELS_AVERAGED,
    CHANNELS_AVERAGED_ADVICE,
    CHANNELS_NOT_SUMMED,
    FLIPPED,
    FLIPPED_ADVICE,
    OFF_BY_ONE,
    OFF_BY_ONE_ADVICE,
    ONE_SIDE,
    ONE_SIDE_ADVICE,
    PADDING_IGNORED,
    PADDING_IGNORED_ADVICE,
    STRIDE_IGNORED,
    STRIDE_IGNORED_ADVICE,
    TRANSPOSED,
    TRANSPOSED_ADVICE,
    TRUNCATION,
    TRUNCATION_ADVICE,
)
from cnn_solutions import answers
from cnn_solutions.conv import conv2d, conv2d_multi, correlate2d, zero_pad

# --- case generation ------------------------------------------------------------------


def _ints(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.integers(-4, 5, size=shape).astype(np.float64)


def _floats(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape).round(3)


def _image_kernel_cases(seed: int, combos: list[tuple], integer: bool = False) -> list[Case]:
    """Cases for conv2d from (H, W, kh, kw, stride, padding) tuples."""
    rng = case_rng(seed)
    cases = []
    for h, w, kh, kw, stride, padding in combos:
        image = rng.integers(0, 10, size=(h, w)) if integer else _ints(rng, h, w)
        kernel = _floats(rng, kh, kw) if integer else _ints(rng, kh, kw)
        label = f"{h}x{w} image, {kh}x{kw} kernel, stride {stride}, padding {padding}"
        if integer:
            label += ", integer image"
        cases.append(Case(label, (image, kernel), {"stride": stride, "padding": padding}))
    return cases


# --- mistake models -------------------------------------------------------------------


def _flip(kernel: np.ndarray) -> np.ndarray:
    return np.asarray(kernel)[::-1, ::-1]


def _pad_one_side(image: np.ndarray, pad: int, before: bool) -> np.ndarray:
    widths = [(pad, 0) if before else (0, pad)] * 2 + [(0, 0)] * (np.ndim(image) - 2)
    return np.pad(np.asarray(image, dtype=np.float64), widths)


def _ceil_conv2d(image, kernel, stride=1, padding=0):
    h, w = np.shape(image)
    kh, kw = np.shape(kernel)
    # ceil instead of floor: the last window runs past the edge and sees implicit zeros.
    extra_h = (math.ceil((h + 2 * padding - kh) / stride) * stride + kh) - (h + 2 * padding)
    extra_w = (math.ceil((w + 2 * padding - kw) / stride) * stride + kw) - (w + 2 * padding)
    if extra_h <= 0 and extra_w <= 0:
        raise ValueError("floor and ceil agree on this case")
    padded = np.pad(zero_pad(image, padding), [(0, max(extra_h, 0)), (0, max(extra_w, 0))])
    return conv2d(padded, kernel, stride)


def _one_side_conv2d(before: bool, factor: int):
    def model(image, kernel, stride=1, padding=0):
        if padding == 0:
            raise ValueError("no padding in this case")
        return conv2d(_pad_one_side(image, factor * padding, before), kernel, stride)

    return model


def _off_by_one(fn):
    def model(*args, **kwargs):
        out = fn(*args, **kwargs)
        if min(out.shape[:2]) < 2:
            raise ValueError("too small to lose a row")
        return out[:-1, :-1]

    return model


def _truncated(fn):
    def model(*args, **kwargs):
        return np.trunc(fn(*args, **kwargs))

    return model


def _windows_not_strided(image, kernel, stride=1, padding=0):
    # The output has the strided size, but window (i, j) starts at (i, j), not (i*s, j*s).
    if stride == 1:
        raise ValueError("no stride in this case")
    h_out, w_out = np.shape(conv2d(image, kernel, stride, padding))
    return conv2d(image, kernel, 1, padding)[:h_out, :w_out]


def _transposed_conv2d(image, kernel, stride=1, padding=0):
    # The output laid out (W_out, H_out): out[j, i] filled with the value of window (i, j).
    return conv2d(image, kernel, stride, padding).T


CHANNELS_PADDED = "channels padded too"
WRONG_PAD_AMOUNT = "padded with the wrong amount"
FULL_CORRELATION = "padding 2 (a 'full' correlation) instead of 1"
EDGE_PADDED = "padded with edge values instead of zeros"
RESULT_PADDED = "result padded instead of the input"
KERNEL_TRANSPOSED = "kernel rows and columns swapped"
KERNEL_TRANSPOSED_ADVICE = (
    "filters[a, b, c, k] multiplies the input at row i*stride + a and column j*stride + b "
    "(a runs over kh, b over kw): the window's rows go with the kernel's rows."
)
MINUS_INDEX = "image indexed at i - a instead of i + a"
MINUS_INDEX_ADVICE = (
    "Window (i, j) covers image[i + a, j + b] for a < kh, b < kw: index with i + a, not "
    "i - a (a negative index wraps around to the far edge of the image)."
)


def _minus_index_correlate2d(image, kernel):
    """out[i, j] = sum of image[i - a, j - b] * kernel[a, b], negative indices wrapping."""
    image, kernel = np.asarray(image, dtype=np.float64), np.asarray(kernel)
    kh, kw = kernel.shape
    h_out, w_out = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((h_out, w_out))
    for i, j, a, b in np.ndindex(h_out, w_out, kh, kw):
        out[i, j] += image[i - a, j - b] * kernel[a, b]
    return out


_conv2d_mistakes = (
    Mistake(
        FLIPPED,
        FLIPPED_ADVICE,
        lambda i, k, stride=1, padding=0: conv2d(i, _flip(k), stride, padding),
    ),
    Mistake(
        PADDING_IGNORED,
        PADDING_IGNORED_ADVICE,
        lambda i, k, stride=1, padding=0: conv2d(i, k, stride),
    ),
    *(
        Mistake(ONE_SIDE, ONE_SIDE_ADVICE, _one_side_conv2d(before, factor))
        for before in (True, False)
        for factor in (1, 2)
    ),
    Mistake(
        STRIDE_IGNORED,
        STRIDE_IGNORED_ADVICE,
        lambda i, k, stride=1, padding=0: conv2d(i, k, 1, padding),
    ),
    Mistake(STRIDE_IGNORED, STRIDE_IGNORED_ADVICE, _windows_not_strided),
    Mistake(CEIL, CEIL_ADVICE, _ceil_conv2d),
    Mistake(OFF_BY_ONE, OFF_BY_ONE_ADVICE, _off_by_one(conv2d)),
    Mistake(TRUNCATION, TRUNCATION_ADVICE, _truncated(conv2d)),
    Mistake(TRANSPOSED, TRANSPOSED_ADVICE, _transposed_conv2d),
)

# --- zero_pad -------------------------------------------------------------------------


def _zero_pad_cases(seed: int, channels: bool) -> list[Case]:
    rng = case_rng(seed)
    shapes = [(3, 3), (2, 4), (4, 3), (1, 1)] if not channels else [(3, 3, 2), (2, 4, 3), (3, 2, 1)]
    cases = []
    for shape, pad in zip(shapes, [1, 2, 1, 3], strict=False):
        image = rng.integers(1, 9, size=shape).astype(np.float64)
        cases.append(Case(f"image of shape {shape}, pad {pad}", (image, pad)))
    int_image = rng.integers(1, 9, size=shapes[0])
    cases.append(Case(f"integer image of shape {shapes[0]}, pad 2", (int_image, 2)))
    return cases


def _zero_pad_zero_cases(seed: int) -> list[Case]:
    rng = case_rng(seed)
    return [
        Case("pad 0 returns an equal array", (_ints(rng, 2, 3), 0)),
        Case("pad 0 on a 3-D image", (_ints(rng, 2, 3, 2), 0)),
    ]


def _zero_pad_all_axes(image, pad):
    return np.pad(np.asarray(image, dtype=np.float64), pad)


zero_pad_spec = FunctionSpec(
    name="zero_pad",
    params=("image", "pad"),
    reference=zero_pad,
    suites={
        "basic": lambda: _zero_pad_cases(1, channels=False),
        "channels": lambda: _zero_pad_cases(2, channels=True),
        "zero": lambda: _zero_pad_zero_cases(3),
    },
    mistakes=(
        Mistake(
            CHANNELS_PADDED,
            "Pad only the two spatial axes: use (0, 0) for the channel axis.",
            _zero_pad_all_axes,
        ),
        Mistake(ONE_SIDE, ONE_SIDE_ADVICE, lambda image, pad: _pad_one_side(image, pad, True)),
        Mistake(ONE_SIDE, ONE_SIDE_ADVICE, lambda image, pad: _pad_one_side(image, pad, False)),
        Mistake(
            WRONG_PAD_AMOUNT,
            "`pad` is the number of zeros on EACH side, so each padded axis grows by 2*pad.",
            lambda image, pad: zero_pad(image, 2 * pad),
        ),
        Mistake(
            WRONG_PAD_AMOUNT,
            "`pad` is the number of zeros on EACH side, so each padded axis grows by 2*pad.",
            lambda image, pad: zero_pad(image, pad // 2),
        ),
    ),
)

# --- correlate2d ----------------------------------------------------------------------

correlate2d_spec = FunctionSpec(
    name="correlate2d",
    params=("image", "kernel"),
    reference=correlate2d,
    suites={
        "basic": lambda: [
            Case(c.label.split(", stride")[0], c.args)
            for c in _image_kernel_cases(
                10, [(3, 3, 2, 2, 1, 0), (5, 5, 3, 3, 1, 0), (4, 4, 1, 1, 1, 0)]
            )
        ],
        "nonsquare": lambda: [
            Case(c.label.split(", stride")[0], c.args)
            for c in _image_kernel_cases(
                11, [(4, 6, 2, 3, 1, 0), (6, 4, 3, 1, 1, 0), (5, 7, 2, 4, 1, 0)]
            )
        ],
        "integer": lambda: [
            Case(c.label.replace(", stride 1, padding 0", ""), c.args)
            for c in _image_kernel_cases(12, [(4, 4, 2, 2, 1, 0), (5, 6, 3, 2, 1, 0)], integer=True)
        ],
    },
    mistakes=(
        Mistake(FLIPPED, FLIPPED_ADVICE, lambda image, kernel: correlate2d(image, _flip(kernel))),
        Mistake(OFF_BY_ONE, OFF_BY_ONE_ADVICE, _off_by_one(correlate2d)),
        Mistake(TRUNCATION, TRUNCATION_ADVICE, _truncated(correlate2d)),
        Mistake(
            TRANSPOSED,
            TRANSPOSED_ADVICE,
            lambda image, kernel: correlate2d(image, kernel).T,
        ),
        Mistake(
            TRANSPOSED,
            TRANSPOSED_ADVICE,
            lambda image, kernel: correlate2d(image, np.asarray(kernel).T),
        ),
        Mistake(MINUS_INDEX, MINUS_INDEX_ADVICE, _minus_index_correlate2d),
    ),
)

# --- conv2d ---------------------------------------------------------------------------

conv2d_spec = FunctionSpec(
    name="conv2d",
    params=("image", "kernel", "stride", "padding"),
    reference=conv2d,
    suites={
        "basic": lambda: _image_kernel_cases(20, [(4, 4, 3, 3, 1, 0), (5, 6, 2, 3, 1, 0)]),
        # Padding 2 comes first: with padding 1 and stride 1, padding one side only gives
        # exactly the output of an off-by-one loop, and feedback names the first failure.
        "padding": lambda: _image_kernel_cases(
            21, [(5, 4, 3, 2, 1, 2), (4, 4, 3, 3, 1, 1), (3, 5, 2, 2, 1, 3)]
        ),
        "stride": lambda: _image_kernel_cases(
            22, [(6, 6, 2, 2, 2, 0), (7, 7, 3, 3, 2, 0), (8, 7, 3, 2, 3, 0)]
        ),
        "stride_padding": lambda: _image_kernel_cases(
            23, [(7, 6, 3, 3, 3, 2), (5, 5, 3, 3, 2, 1), (6, 8, 4, 3, 2, 1)]
        ),
        "integer": lambda: _image_kernel_cases(
            24, [(6, 5, 2, 2, 2, 0), (5, 5, 3, 3, 1, 2)], integer=True
        ),
        "errors": lambda: [
            Case(
                "negative padding",
                (np.ones((4, 4)), np.ones((2, 2))),
                {"padding": -1},
                raises=ValueError,
            ),
            Case("stride 0", (np.ones((4, 4)), np.ones((2, 2))), {"stride": 0}, raises=ValueError),
            Case(
                "kernel larger than the padded image",
                (np.ones((3, 3)), np.ones((6, 6))),
                {"padding": 1},
                raises=ValueError,
            ),
        ],
    },
    mistakes=_conv2d_mistakes,
)

# --- conv2d_multi ---------------------------------------------------------------------


def _multi_cases(seed: int, combos: list[tuple], bias: bool, integer: bool = False) -> list[Case]:
    """Cases from (H, W, C_in, kh, kw, C_out, stride, padding) tuples."""
    rng = case_rng(seed)
    cases = []
    for h, w, c_in, kh, kw, c_out, stride, padding in combos:
        x = rng.integers(0, 10, size=(h, w, c_in)) if integer else _ints(rng, h, w, c_in)
        filters = (_floats if integer else _ints)(rng, kh, kw, c_in, c_out)
        b = _ints(rng, c_out) if bias else None
        label = (
            f"{h}x{w}x{c_in} input, {c_out} filters {kh}x{kw}, stride {stride}, padding {padding}"
            + (", with bias" if bias else ", no bias")
            + (", integer input" if integer else "")
        )
        cases.append(Case(label, (x, filters, b), {"stride": stride, "padding": padding}))
    return cases


def _first_channel_only(x, filters, bias=None, stride=1, padding=0):
    return conv2d_multi(
        np.asarray(x)[:, :, :1], np.asarray(filters)[:, :, :1], bias, stride, padding
    )


def _channels_averaged(x, filters, bias=None, stride=1, padding=0):
    c_in = np.shape(x)[2]
    out = conv2d_multi(x, filters, None, stride, padding) / c_in
    return out if bias is None else out + bias


def _bias_per_input_channel(x, filters, bias=None, stride=1, padding=0):
    if bias is None:
        raise ValueError("no bias in this case")
    return conv2d_multi(x, filters, None, stride, padding) + np.shape(x)[2] * np.asarray(bias)


def _per_channel(conv2d_model):
    """conv2d_multi built from a single-channel conv2d model, channel by channel."""

    def model(x, filters, bias=None, stride=1, padding=0):
        x, filters = np.asarray(x, dtype=np.float64), np.asarray(filters)
        out = sum(
            np.stack(
                [
                    conv2d_model(x[:, :, c], filters[:, :, c, k], stride, padding)
                    for k in range(filters.shape[3])
                ],
                axis=-1,
            )
            for c in range(x.shape[2])
        )
        return out if bias is None else out + np.asarray(bias)

    return model


def _filter_axes_swapped(x, filters, bias=None, stride=1, padding=0):
    # filters[:, :, k, c] read as filter k, channel c: only runs when C_in == C_out.
    f = np.asarray(filters)
    if f.shape[2] != f.shape[3]:
        raise ValueError("C_in != C_out: the swapped indexing would fail")
    return conv2d_multi(x, f.transpose(0, 1, 3, 2), bias, stride, padding)


def _kernel_rows_columns_swapped(x, filters, bias=None, stride=1, padding=0):
    """Kernel row a, column b multiplied with the window's row b, column a."""
    f = np.asarray(filters, dtype=np.float64)
    kh, kw, _, c_out = f.shape
    xp = np.pad(np.asarray(x, dtype=np.float64), [(padding, padding), (padding, padding), (0, 0)])
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i, j, a, b in np.ndindex(h_out, w_out, kh, kw):
        row, col = i * stride + b, j * stride + a
        if row >= xp.shape[0] or col >= xp.shape[1]:
            raise IndexError("outside the input: this slip crashes here")
        out[i, j] += xp[row, col] @ f[a, b]
    return out if bias is None else out + np.asarray(bias)


def _bias_per_product(x, filters, bias=None, stride=1, padding=0):
    # np.sum(window * w + b): the bias is added to each of the kh*kw*C_in products.
    if bias is None:
        raise ValueError("no bias in this case")
    kh, kw, c_in, _ = np.shape(filters)
    out = conv2d_multi(x, filters, None, stride, padding)
    return out + kh * kw * c_in * np.asarray(bias)


def _multi_variant(**changes):
    def model(x, filters, bias=None, stride=1, padding=0):
        args = {"bias": bias, "stride": stride, "padding": padding} | changes
        return conv2d_multi(x, filters, **args)

    return model


conv2d_multi_spec = FunctionSpec(
    name="conv2d_multi",
    params=("x", "filters", "bias", "stride", "padding"),
    reference=conv2d_multi,
    suites={
        "basic": lambda: _multi_cases(
            30, [(4, 4, 1, 3, 3, 1, 1, 0), (5, 4, 2, 2, 2, 1, 1, 0)], False
        ),
        "channels": lambda: _multi_cases(
            31,
            [(4, 5, 3, 2, 2, 2, 1, 0), (5, 5, 4, 3, 3, 3, 1, 0), (3, 3, 2, 1, 1, 4, 1, 0)],
            False,
        ),
        "bias": lambda: _multi_cases(
            32, [(4, 4, 2, 3, 3, 2, 1, 0), (5, 5, 3, 2, 2, 3, 1, 0)], True
        ),
        "stride_padding": lambda: _multi_cases(
            33, [(7, 6, 2, 2, 3, 2, 2, 1), (6, 7, 3, 3, 2, 2, 3, 2), (4, 4, 1, 2, 2, 3, 2, 0)], True
        ),
        "integer": lambda: _multi_cases(
            34, [(4, 4, 2, 2, 2, 2, 1, 0), (5, 5, 3, 3, 3, 2, 2, 2)], True, integer=True
        ),
        "errors": lambda: [
            Case(
                "channel mismatch: 3-channel input, 2-channel filters",
                (np.ones((4, 4, 3)), np.ones((2, 2, 2, 1))),
                raises=ValueError,
            ),
            Case(
                "bias of the wrong size",
                (np.ones((4, 4, 2)), np.ones((2, 2, 2, 3)), np.ones(2)),
                raises=ValueError,
            ),
            Case(
                "negative padding",
                (np.ones((4, 4, 1)), np.ones((2, 2, 1, 1))),
                {"padding": -1},
                raises=ValueError,
            ),
        ],
    },
    mistakes=(
        Mistake(
            BIAS_FORGOTTEN,
            BIAS_FORGOTTEN_ADVICE,
            _multi_variant(bias=None),
        ),
        Mistake(
            CHANNELS_NOT_SUMMED,
            "Each filter spans all input channels: sum the products over every channel.",
            _first_channel_only,
        ),
        Mistake(
            CHANNELS_AVERAGED,
            CHANNELS_AVERAGED_ADVICE,
            _channels_averaged,
        ),
        Mistake(
            BIAS_PER_CHANNEL,
            BIAS_PER_CHANNEL_ADVICE,
            _bias_per_input_channel,
        ),
        Mistake(BIAS_EVERY_PRODUCT, BIAS_EVERY_PRODUCT_ADVICE, _bias_per_product),
        Mistake(
            FLIPPED,
            FLIPPED_ADVICE,
            lambda x, f, bias=None, stride=1, padding=0: conv2d_multi(
                x, np.asarray(f)[::-1, ::-1], bias, stride, padding
            ),
        ),
        Mistake(PADDING_IGNORED, PADDING_IGNORED_ADVICE, _multi_variant(padding=0)),
        Mistake(STRIDE_IGNORED, STRIDE_IGNORED_ADVICE, _multi_variant(stride=1)),
        *(
            Mistake(name, advice, _per_channel(model))
            for name, advice, model in (
                (STRIDE_IGNORED, STRIDE_IGNORED_ADVICE, _windows_not_strided),
                (ONE_SIDE, ONE_SIDE_ADVICE, _one_side_conv2d(True, 1)),
                (ONE_SIDE, ONE_SIDE_ADVICE, _one_side_conv2d(False, 1)),
                (OFF_BY_ONE, OFF_BY_ONE_ADVICE, _off_by_one(conv2d)),
            )
        ),
        Mistake(TRUNCATION, TRUNCATION_ADVICE, _truncated(conv2d_multi)),
        Mistake(
            TRANSPOSED,
            "filters has shape (kh, kw, C_in, C_out): channel c of filter k is "
            "filters[:, :, c, k].",
            _filter_axes_swapped,
        ),
        Mistake(
            KERNEL_TRANSPOSED,
            KERNEL_TRANSPOSED_ADVICE,
            _kernel_rows_columns_swapped,
        ),
    ),
)

FUNCTIONS = (zero_pad_spec, correlate2d_spec, conv2d_spec, conv2d_multi_spec)

# --- the answer -----------------------------------------------------------------------

ANSWERS = (
    AnswerSpec(
        name="laplacian_response",
        expected=answers.laplacian_response,
        meaning="laplacian slid over line_image with padding 1, a 5x5 array",
        mistakes=(
            AnswerMistake(
                PADDING_IGNORED,
                "With padding 1 a 3x3 filter keeps the 5x5 size: pad line_image first.",
                conv2d(answers.line_image, answers.laplacian),
            ),
            AnswerMistake(
                RESULT_PADDED,
                "Pad the image before sliding the filter; zeros around the result are not that.",
                zero_pad(conv2d(answers.line_image, answers.laplacian), 1),
            ),
            AnswerMistake(
                FULL_CORRELATION,
                "Pad by 1 for a 3x3 filter; scipy's correlate2d defaults to mode='full', "
                "which pads by 2 and returns 7x7.",
                conv2d(answers.line_image, answers.laplacian, padding=2),
            ),
            AnswerMistake(
                EDGE_PADDED,
                "Padding adds zeros. scipy.ndimage.correlate reflects the edge unless you pass "
                "mode='constant'; zero_pad does it right.",
                conv2d(np.pad(answers.line_image, 1, mode="edge"), answers.laplacian),
            ),
        ),
    ),
)
