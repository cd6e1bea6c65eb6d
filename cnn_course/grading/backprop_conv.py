"""Grading specs for 04_conv_backprop's conv layer: conv_forward and conv_backward."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_course.grading.backprop_common import (
    AVERAGED_OVER_BATCH,
    AVERAGED_OVER_BATCH_ADVICE,
    CACHE_INCOMPLETE,
    CACHE_PADDED,
    CROPPED_EMPTY_ADVICE,
    DB_NOT_SUMMED,
    DB_NOT_SUMMED_ADVICE,
    DB_WRONG_SIZE,
    DB_WRONG_SIZE_ADVICE,
    DW_ROTATED,
    DW_ROTATED_ADVICE,
    DX_NEVER_FILLED,
    DX_NEVER_FILLED_ADVICE,
    DX_ONE_CHANNEL,
    DX_ONE_CHANNEL_ADVICE,
    NOT_CROPPED,
    NOT_CROPPED_ADVICE,
    OVERWRITTEN,
    OVERWRITTEN_ADVICE,
    integer_only,
    ints,
    named_once,
    nested,
)
from cnn_course.grading.core import Case, FunctionSpec, Mistake, case_rng, show, show_maps
from cnn_course.grading.crashes import CROPPED_EMPTY
from cnn_course.grading.mistakes import (
    BIAS_EVERY_PRODUCT,
    BIAS_EVERY_PRODUCT_ADVICE,
    BIAS_FORGOTTEN,
    BIAS_FORGOTTEN_ADVICE,
    BIAS_PER_CHANNEL,
    BIAS_PER_CHANNEL_ADVICE,
    CHANNELS_NOT_SUMMED,
    FLIPPED,
    FLIPPED_ADVICE,
    ONE_CHANNEL_ADVICE,
    PADDING_IGNORED,
    PADDING_IGNORED_ADVICE,
    STRIDE_IGNORED,
    STRIDE_IGNORED_ADVICE,
    TRANSPOSED,
    TRANSPOSED_ADVICE,
    TRUNCATION,
    TRUNCATION_ADVICE,
)
from cnn_solutions.layers import conv_backward, conv_forward

# --- case generation ------------------------------------------------------------------


def _conv_args(rng: np.random.Generator, combo: tuple, bias: bool, integer: bool = False):
    n, h, w, c_in, kh, kw, c_out, stride, padding = combo
    x = rng.integers(0, 9, size=(n, h, w, c_in)) if integer else ints(rng, n, h, w, c_in)
    weights = (
        rng.normal(size=(kh, kw, c_in, c_out)).round(3)
        if integer
        else ints(rng, kh, kw, c_in, c_out)
    )
    b = ints(rng, c_out) if bias else np.zeros(c_out)
    label = (
        f"x {n}x{h}x{w}x{c_in}, {c_out} filters {kh}x{kw}, stride {stride}, padding {padding}"
        + (", with bias" if bias else ", zero bias")
        + (", integer x" if integer else "")
    )
    return label, x, weights, b, stride, padding


def _forward_cases(seed: int, combos: list[tuple], bias: bool, integer: bool = False):
    """conv_forward cases from (N, H, W, C_in, kh, kw, C_out, stride, padding) tuples."""
    rng = case_rng(seed)
    cases = []
    for combo in combos:
        label, x, w, b, stride, padding = _conv_args(rng, combo, bias, integer)
        shown = {"x": show_maps(x), "w": show_maps(w, filters=True)}
        cases.append(Case(label, (x, w, b), {"stride": stride, "padding": padding}, shown=shown))
    return cases


def _backward_cases(seed: int, combos: list[tuple]) -> list[Case]:
    """conv_backward cases: a random upstream gradient and the forward cache."""
    rng = case_rng(seed)
    cases = []
    for combo in combos:
        label, x, w, b, stride, padding = _conv_args(rng, combo, bias=True)
        out, _ = conv_forward(x, w, b, stride, padding)
        dout = ints(rng, *out.shape)
        shown = {"dout": show_maps(dout), "cache": _show_cache(x, w, b, stride, padding)}
        cases.append(Case(label, (dout, (x, w, b, stride, padding)), shown=shown))
    return cases


# --- showing 4-D arrays ----------------------------------------------------------------


def _show_cache(x, w, b, stride, padding) -> str:
    return (
        f"(x, w, b, stride={stride}, padding={padding}) with\n"
        f"  x {nested(show_maps(x))}\n  w {nested(show_maps(w, filters=True))}\n"
        f"  b = {show(np.asarray(b))}"
    )


# --- conv_forward ---------------------------------------------------------------------


def _forward_model(out_fn: Callable[..., np.ndarray]):
    """A conv_forward mistake that gets ``out`` wrong but caches correctly."""

    def model(x, w, b, stride=1, padding=0):
        return out_fn(x, w, b, stride, padding), (x, w, b, stride, padding)

    return model


def _out(x, w, b, stride=1, padding=0):
    return conv_forward(x, w, b, stride, padding)[0]


def _one_in_channel(part: slice):
    def out(x, w, b, stride, padding):
        return _out(np.asarray(x)[..., part], np.asarray(w)[:, :, part], b, stride, padding)

    return out


def _stride_one_cropped(x, w, b, stride, padding):
    """Windows at stride-1 positions, only as many as the strided output has."""
    right = _out(x, w, b, stride, padding)
    return _out(x, w, b, 1, padding)[:, : right.shape[1], : right.shape[2]]


def _kernel_transposed(x, w, b, stride, padding):
    return _out(x, np.asarray(w).transpose(1, 0, 2, 3), b, stride, padding)


def _padded_cache(x, w, b, stride=1, padding=0):
    if padding == 0:
        raise ValueError("nothing padded in this case")
    xp = np.pad(np.asarray(x, dtype=np.float64), [(0, 0), (padding,) * 2, (padding,) * 2, (0, 0)])
    return _out(x, w, b, stride, padding), (xp, w, b, stride, padding)


conv_forward_spec = FunctionSpec(
    name="conv_forward",
    params=("x", "w", "b", "stride", "padding"),
    reference=conv_forward,
    parts=("out", "cache"),
    suites={
        "basic": lambda: _forward_cases(
            50, [(1, 3, 3, 1, 2, 2, 1, 1, 0), (1, 4, 5, 1, 3, 2, 1, 1, 0)], bias=False
        ),
        "channels": lambda: _forward_cases(
            51, [(1, 4, 4, 3, 2, 2, 2, 1, 0), (2, 3, 4, 2, 2, 3, 3, 1, 0)], bias=False
        ),
        "bias": lambda: _forward_cases(
            52, [(1, 3, 3, 2, 2, 2, 3, 1, 0), (2, 4, 3, 3, 2, 2, 2, 1, 0)], bias=True
        ),
        "stride_padding": lambda: _forward_cases(
            53,
            [
                (1, 4, 4, 1, 3, 3, 1, 1, 1),
                (2, 5, 5, 2, 3, 3, 2, 2, 0),
                (1, 5, 4, 2, 3, 2, 2, 2, 1),
                # does not tile: (6 - 3) and (5 - 2) are odd, the last row and column stay out
                (1, 6, 5, 2, 3, 2, 2, 2, 0),
            ],
            bias=True,
        ),
        "integer": lambda: _forward_cases(54, [(1, 4, 4, 2, 2, 2, 2, 1, 0)], False, True),
        "errors": lambda: _conv_forward_errors(),
    },
    mistakes=named_once(
        Mistake(
            BIAS_FORGOTTEN,
            BIAS_FORGOTTEN_ADVICE,
            _forward_model(lambda x, w, b, s, p: _out(x, w, np.zeros(np.shape(w)[3]), s, p)),
        ),
        Mistake(
            BIAS_PER_CHANNEL,
            BIAS_PER_CHANNEL_ADVICE,
            _forward_model(lambda x, w, b, s, p: _out(x, w, np.asarray(b) * np.shape(x)[3], s, p)),
        ),
        Mistake(
            BIAS_EVERY_PRODUCT,
            BIAS_EVERY_PRODUCT_ADVICE,
            _forward_model(
                lambda x, w, b, s, p: _out(x, w, np.asarray(b) * np.prod(np.shape(w)[:3]), s, p)
            ),
        ),
        Mistake(
            CHANNELS_NOT_SUMMED, ONE_CHANNEL_ADVICE, _forward_model(_one_in_channel(slice(0, 1)))
        ),
        Mistake(
            CHANNELS_NOT_SUMMED,
            ONE_CHANNEL_ADVICE,
            _forward_model(_one_in_channel(slice(-1, None))),
        ),
        Mistake(
            FLIPPED,
            FLIPPED_ADVICE,
            _forward_model(lambda x, w, b, s, p: _out(x, np.asarray(w)[::-1, ::-1], b, s, p)),
        ),
        Mistake(
            PADDING_IGNORED,
            PADDING_IGNORED_ADVICE,
            _forward_model(lambda x, w, b, s, p: _out(x, w, b, s, 0)),
        ),
        Mistake(
            STRIDE_IGNORED,
            STRIDE_IGNORED_ADVICE,
            _forward_model(lambda x, w, b, s, p: _out(x, w, b, 1, p)),
        ),
        Mistake(STRIDE_IGNORED, STRIDE_IGNORED_ADVICE, _forward_model(_stride_one_cropped)),
        Mistake(TRANSPOSED, TRANSPOSED_ADVICE, _forward_model(_kernel_transposed)),
        Mistake(
            TRUNCATION,
            TRUNCATION_ADVICE,
            integer_only(
                _forward_model(lambda x, w, b, s, p: np.trunc(_out(x, w, b, s, p))),
                lambda x, *rest, **options: x,
            ),
        ),
        Mistake(
            CACHE_INCOMPLETE,
            "Return cache = (x, w, b, stride, padding): conv_backward needs all five.",
            lambda x, w, b, stride=1, padding=0: (_out(x, w, b, stride, padding), (x, w, b)),
        ),
        Mistake(
            CACHE_PADDED,
            "Cache the input as it was given, not padded: cache = (x, w, b, stride, padding).",
            _padded_cache,
        ),
    ),
)


def _conv_forward_errors() -> list[Case]:
    x, w, b = np.ones((1, 4, 4, 2)), np.ones((2, 2, 2, 3)), np.zeros(3)
    return [
        Case(
            "channel mismatch: 3-channel x, 2-channel filters",
            (np.ones((1, 4, 4, 3)), w, b),
            raises=ValueError,
        ),
        Case("negative padding", (x, w, b), {"padding": -1}, raises=ValueError),
        Case("stride 0", (x, w, b), {"stride": 0}, raises=ValueError),
        Case(
            "filter larger than the padded input",
            (np.ones((1, 2, 2, 2)), np.ones((5, 5, 2, 3)), b),
            {"padding": 1},
            raises=ValueError,
        ),
        Case("bias of the wrong size: 3 filters, 2 biases", (x, w, np.zeros(2)), raises=ValueError),
    ]


# --- conv_backward --------------------------------------------------------------------


def _loop_backward(dout, cache, *, assign: str = "", step_one: bool = False, only_k=None):
    """A student-style loop backward pass with one deliberate slip.

    ``assign`` "window" overwrites each window's dx (summed over k), "each_k" overwrites
    per output channel; ``step_one`` places windows as if the stride were 1;
    ``only_k`` sends back the gradient of one output channel only.
    """
    x, w, _, stride, padding = cache
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    g = np.asarray(dout, dtype=np.float64)
    kh, kw = w.shape[:2]
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    step = 1 if step_one else stride
    for n, i, j in np.ndindex(g.shape[:3]):
        rows, cols = slice(i * step, i * step + kh), slice(j * step, j * step + kw)
        dw += xp[n, rows, cols, :, None] * g[n, i, j]
        if assign == "each_k":
            for k in range(w.shape[3]):
                dxp[n, rows, cols] = w[..., k] * g[n, i, j, k]
            continue
        ks = range(w.shape[3]) if only_k is None else [range(w.shape[3])[only_k]]
        contribution = sum(w[..., k] * g[n, i, j, k] for k in ks)
        if assign == "window":
            dxp[n, rows, cols] = contribution
        else:
            dxp[n, rows, cols] += contribution
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw, g.sum(axis=(0, 1, 2))


def _backward_variant(dx=None, dw=None, db=None):
    """A conv_backward mistake: the reference result with some parts replaced."""

    def model(dout, cache):
        right = conv_backward(dout, cache)
        changed = [part(dout, cache) if part else None for part in (dx, dw, db)]
        return tuple(c if c is not None else r for c, r in zip(changed, right, strict=True))

    return model


def _dx_not_cropped(dout, cache):
    x, w, b, stride, padding = cache
    if padding == 0:
        raise ValueError("nothing to crop in this case")
    xp = np.pad(np.asarray(x, dtype=np.float64), [(0, 0), (padding,) * 2, (padding,) * 2, (0, 0)])
    return conv_backward(dout, (xp, w, b, stride, 0))[0]


def _dx_cropped_empty(dout, cache):
    x, w, b, stride, padding = cache
    xp = np.pad(np.asarray(x, dtype=np.float64), [(0, 0), (padding,) * 2, (padding,) * 2, (0, 0)])
    dxp = conv_backward(dout, (xp, w, b, stride, 0))[0]
    return dxp[:, padding:-padding, padding:-padding]


def _averaged_over_batch(part: int):
    def model(dout, cache):
        return conv_backward(dout, cache)[part] / np.shape(dout)[0]

    return model


def _dx_flipped(dout, cache):
    x, w, b, stride, padding = cache
    return conv_backward(dout, (x, np.asarray(w)[::-1, ::-1], b, stride, padding))[0]


def _dw_transposed(dout, cache):
    return conv_backward(dout, cache)[1].transpose(0, 1, 3, 2)


conv_backward_spec = FunctionSpec(
    name="conv_backward",
    params=("dout", "cache"),
    reference=conv_backward,
    parts=("dx", "dw", "db"),
    suites={
        "basic": lambda: _backward_cases(
            60, [(1, 3, 3, 1, 2, 2, 1, 1, 0), (1, 4, 4, 1, 3, 3, 1, 1, 0)]
        ),
        "channels": lambda: _backward_cases(
            61, [(1, 4, 4, 2, 2, 2, 3, 1, 0), (1, 3, 4, 3, 2, 3, 2, 1, 0)]
        ),
        "batch": lambda: _backward_cases(
            62, [(2, 3, 3, 2, 2, 2, 2, 1, 0), (3, 4, 3, 1, 2, 2, 2, 1, 0)]
        ),
        "padding": lambda: _backward_cases(
            63, [(1, 3, 3, 1, 2, 2, 1, 1, 1), (2, 4, 3, 2, 3, 3, 2, 1, 2)]
        ),
        "stride": lambda: _backward_cases(
            64,
            [
                (1, 5, 5, 1, 3, 3, 1, 2, 0),
                (1, 6, 5, 2, 2, 2, 2, 3, 0),
                (2, 5, 5, 2, 3, 3, 2, 2, 1),
                # does not tile: (6 + 2 - 3) and (5 + 2 - 2) are odd, the last row and column
                # of the padded input reach no window, so their dx is 0 (a non-square filter)
                (1, 6, 5, 2, 3, 2, 2, 2, 1),
            ],
        ),
    },
    mistakes=named_once(
        Mistake(
            OVERWRITTEN,
            OVERWRITTEN_ADVICE,
            _backward_variant(dx=lambda d, c: _loop_backward(d, c, assign="window")[0]),
        ),
        Mistake(
            OVERWRITTEN,
            OVERWRITTEN_ADVICE,
            _backward_variant(dx=lambda d, c: _loop_backward(d, c, assign="each_k")[0]),
        ),
        Mistake(NOT_CROPPED, NOT_CROPPED_ADVICE, _backward_variant(dx=_dx_not_cropped)),
        Mistake(
            DX_NEVER_FILLED,
            DX_NEVER_FILLED_ADVICE,
            _backward_variant(dx=lambda d, c: np.zeros(np.shape(c[0]))),
        ),
        Mistake(CROPPED_EMPTY, CROPPED_EMPTY_ADVICE, _backward_variant(dx=_dx_cropped_empty)),
        Mistake(
            AVERAGED_OVER_BATCH,
            AVERAGED_OVER_BATCH_ADVICE,
            _backward_variant(dw=_averaged_over_batch(1), db=_averaged_over_batch(2)),
        ),
        Mistake(
            DW_ROTATED,
            DW_ROTATED_ADVICE,
            _backward_variant(dw=lambda d, c: conv_backward(d, c)[1][::-1, ::-1]),
        ),
        Mistake(
            DB_NOT_SUMMED,
            DB_NOT_SUMMED_ADVICE,
            _backward_variant(db=lambda d, c: np.asarray(d, dtype=np.float64).sum(axis=(1, 2))),
        ),
        Mistake(
            DB_NOT_SUMMED,
            DB_NOT_SUMMED_ADVICE,
            _backward_variant(db=lambda d, c: np.asarray(d, dtype=np.float64)[0].sum(axis=(0, 1))),
        ),
        Mistake(
            DB_NOT_SUMMED,
            DB_NOT_SUMMED_ADVICE,
            _backward_variant(db=lambda d, c: np.asarray(d, dtype=np.float64)[-1].sum(axis=(0, 1))),
        ),
        Mistake(
            DB_WRONG_SIZE,
            DB_WRONG_SIZE_ADVICE,
            _backward_variant(db=lambda d, c: np.float64(np.sum(d))),
        ),
        Mistake(FLIPPED, FLIPPED_ADVICE, _backward_variant(dx=_dx_flipped)),
        Mistake(
            STRIDE_IGNORED,
            STRIDE_IGNORED_ADVICE,
            lambda dout, cache: _loop_backward(dout, cache, step_one=True),
        ),
        Mistake(
            DX_ONE_CHANNEL,
            DX_ONE_CHANNEL_ADVICE,
            _backward_variant(dx=lambda d, c: _loop_backward(d, c, only_k=0)[0]),
        ),
        Mistake(
            DX_ONE_CHANNEL,
            DX_ONE_CHANNEL_ADVICE,
            _backward_variant(dx=lambda d, c: _loop_backward(d, c, only_k=-1)[0]),
        ),
        Mistake(
            TRANSPOSED,
            TRANSPOSED_ADVICE + " dw has the shape of w, (kh, kw, C_in, C_out).",
            _backward_variant(dw=_dw_transposed),
        ),
    ),
)
