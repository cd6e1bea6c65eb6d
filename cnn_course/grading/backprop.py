"""Grading specs for 04_conv_backprop: layer forward/backward passes and the worked example."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_course.grading.check import AnswerMistake, AnswerSpec
from cnn_course.grading.conv1x1 import (
    BIAS_FORGOTTEN,
    BIAS_FORGOTTEN_ADVICE,
    BIAS_PER_CHANNEL,
    BIAS_PER_CHANNEL_ADVICE,
    CHANNELS_NOT_SUMMED,
    ONE_CHANNEL_ADVICE,
)
from cnn_course.grading.core import (
    Case,
    FunctionSpec,
    Mistake,
    case_rng,
    matches,
    show,
    show_maps,
)
from cnn_course.grading.crashes import CROPPED_EMPTY
from cnn_course.grading.filters import (
    BIAS_EVERY_PRODUCT,
    BIAS_EVERY_PRODUCT_ADVICE,
    FLIPPED,
    FLIPPED_ADVICE,
    OFF_BY_ONE,
    OFF_BY_ONE_ADVICE,
    PADDING_IGNORED,
    PADDING_IGNORED_ADVICE,
    STRIDE_IGNORED,
    STRIDE_IGNORED_ADVICE,
    TRANSPOSED,
    TRANSPOSED_ADVICE,
    TRUNCATION,
    TRUNCATION_ADVICE,
)
from cnn_probe.functions import TestFunction
from cnn_solutions import answers
from cnn_solutions.conv import conv2d
from cnn_solutions.gradcheck import numerical_gradient
from cnn_solutions.layers import conv_backward, conv_forward
from cnn_solutions.pooling import gap_backward, gap_forward, maxpool_backward, maxpool_forward

OVERWRITTEN = "overlapping gradients overwritten instead of accumulated"
OVERWRITTEN_ADVICE = (
    "An input value that lies in several windows receives gradient from each of them: "
    "add with `dx[...] += ...`; `dx[...] = ...` keeps only the last window's share."
)
NOT_CROPPED = "padding not cropped from dx"
NOT_CROPPED_ADVICE = (
    "The forward pass padded x, so the gradient you accumulate lives on the padded input: "
    "return dx_padded[:, p:p+H, p:p+W], the part that belongs to the real x."
)
CROPPED_EMPTY_ADVICE = (
    "With padding 0, dx_padded[:, p:-p, p:-p] is dx_padded[:, 0:0, 0:0], an empty array: "
    "crop with dx_padded[:, p:p+H, p:p+W] (H, W from x.shape), which works for every p."
)
AVERAGED_OVER_BATCH = "dw and db averaged over the batch instead of summed"
AVERAGED_OVER_BATCH_ADVICE = (
    "The loss adds up the examples' contributions, so the weights' gradients add up too: "
    "sum over the batch (and over positions); do not divide by N."
)
DW_ROTATED = "dw rotated by 180 degrees"
DW_ROTATED_ADVICE = (
    "The forward pass is a cross-correlation, so dw[a, b] = sum of x_padded[i*s+a, j*s+b] * "
    "dout[i, j]: no flip. (Only dx involves the kernel turned around.)"
)
DX_NEVER_FILLED = "dx never filled in"
DX_NEVER_FILLED_ADVICE = (
    "dx stayed the zeros you started from: after the loops copy the padded gradient into it, "
    "dx[i] = dx_padded[i, p:p+H, p:p+W] (assigning to a slice variable or to the padded array "
    "itself does not change dx), and do not hide a failing update in try/except."
)
DB_NOT_SUMMED = "db not summed over the batch"
DB_NOT_SUMMED_ADVICE = (
    "The same bias is used for every example and every position: "
    "db = dout.sum(axis=(0, 1, 2)), one value per output channel."
)
DB_WRONG_SIZE = "bias gradient of the wrong size"
DB_WRONG_SIZE_ADVICE = (
    "db has one value per output channel (shape (C_out,)): sum dout over N, H_out and W_out "
    "but not over the channels."
)
DX_ONE_CHANNEL = "gradient from only one output channel"
DX_ONE_CHANNEL_ADVICE = (
    "Every output channel k sends gradient back through its filter w[..., k]: "
    "sum the contributions over all k."
)
CACHE_INCOMPLETE = "cache incomplete"
CACHE_PADDED = "padded input cached"
GAP_SCALE_MISSING = "the 1/(H*W) of GAP backward missing"
GAP_SCALE_ADVICE = (
    "Each of the H*W positions contributes 1/(H*W) of the mean, so each receives dout / (H * W)."
)
GAP_WRONG_AXES = "averaged over the wrong axes"
GAP_WRONG_AXES_ADVICE = (
    "Channels last: average over axes 1 and 2 (H and W), keeping N and C: x.mean(axis=(1, 2))."
)
SPREAD = "max-pool gradient spread over the whole window"
SPREAD_ADVICE = (
    "Only the window's maximum influenced the output, so only that position gets the "
    "gradient; the others get 0."
)
DOUT_IGNORED = "dout ignored"
DOUT_IGNORED_ADVICE = (
    "Differentiate L(x) = np.sum(f(x) * dout), not np.sum(f(x)): dout weights every output."
)
GAP_EXTRA_AXIS = "an extra axis kept in the output"
GAP_EXTRA_AXIS_ADVICE = (
    "gap_forward returns shape (N, C): x.mean(axis=(1, 2)) already has it; do not reshape it "
    "to (N, 1, C) or keep the pooled axes with keepdims=True."
)
UPPER_NOT_EVALUATED = "f(x) used in place of f(x + h)"
UPPER_NOT_EVALUATED_ADVICE = (
    "Set x[i] = old + h before evaluating the first loss: (L(x) - L(x - h)) / (2h) is half "
    "the slope; the centred difference is (L(x + h) - L(x - h)) / (2h)."
)
ONE_SIDED = "one-sided difference instead of centred"
ONE_SIDED_ADVICE = (
    "Use (L(x + h) - L(x - h)) / (2h), which is far more accurate than (L(x + h) - L(x)) / h."
)
NOT_UNDONE = "perturbation not undone"
NOT_UNDONE_ADVICE = (
    "After evaluating L(x + h) and L(x - h) at one element, put that element back to its "
    "original value before moving on; otherwise later elements are differentiated at a "
    "shifted point."
)

# --- case generation ------------------------------------------------------------------


def _ints(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.integers(-4, 5, size=shape).astype(np.float64)


def _distinct(rng: np.random.Generator, shape: tuple[int, ...], overlap_at: int = 0) -> np.ndarray:
    """Values without ties; with ``overlap_at`` each map's maximum sits at (s, s).

    The position (s, s) lies in the first four windows whenever size > stride = s, so
    overlapping windows share a maximum and accumulation is tested.
    """
    x = (rng.permutation(int(np.prod(shape))).reshape(shape) - 20) / 2.0
    if overlap_at:
        for n in range(shape[0]):
            for c in range(shape[3]):
                plane = x[n, :, :, c]
                top = np.unravel_index(np.argmax(plane), plane.shape)
                s = overlap_at
                plane[top], plane[s, s] = plane[s, s], plane[top]
    return x


def _conv_args(rng: np.random.Generator, combo: tuple, bias: bool, integer: bool = False):
    n, h, w, c_in, kh, kw, c_out, stride, padding = combo
    x = rng.integers(0, 9, size=(n, h, w, c_in)) if integer else _ints(rng, n, h, w, c_in)
    weights = (
        rng.normal(size=(kh, kw, c_in, c_out)).round(3)
        if integer
        else _ints(rng, kh, kw, c_in, c_out)
    )
    b = _ints(rng, c_out) if bias else np.zeros(c_out)
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
        dout = _ints(rng, *out.shape)
        shown = {"dout": show_maps(dout), "cache": _show_cache(x, w, b, stride, padding)}
        cases.append(Case(label, (dout, (x, w, b, stride, padding)), shown=shown))
    return cases


def _named_once(*mistakes: Mistake) -> tuple[Mistake, ...]:
    """Variants of one mistake, each silent where an earlier variant gives the same result.

    Two ways of making the same slip often coincide on a case (one output channel, no
    overlap); the feedback should then name the mistake once, not once per variant.
    """
    kept: list[Mistake] = []
    for mistake in mistakes:
        earlier = tuple(m.model for m in kept if m.name == mistake.name)
        model = _unless_same(mistake.model, earlier) if earlier else mistake.model
        kept.append(Mistake(mistake.name, mistake.advice, model))
    return tuple(kept)


def _unless_same(model: Callable[..., object], earlier: tuple[Callable[..., object], ...]):
    def variant(*args, **kwargs):
        result = model(*args, **kwargs)
        for other in earlier:
            try:
                same = matches(other(*args, **kwargs), result)
            except Exception:  # noqa: BLE001 -- an earlier variant that cannot run differs
                same = False
            if same:
                raise ValueError("an earlier variant of this mistake already gives this result")
        return result

    return variant


def _integer_only(model: Callable[..., object], which: Callable[..., object]):
    """A truncation model that applies only when the input it names holds integers."""

    def guarded(*args, **kwargs):
        if not np.issubdtype(np.asarray(which(*args, **kwargs)).dtype, np.integer):
            raise ValueError("no integer input in this case")
        return model(*args, **kwargs)

    return guarded


# --- showing 4-D arrays ----------------------------------------------------------------


def _nested(text: str) -> str:
    return text.replace("\n", "\n  ")


def _show_cache(x, w, b, stride, padding) -> str:
    return (
        f"(x, w, b, stride={stride}, padding={padding}) with\n"
        f"  x {_nested(show_maps(x))}\n  w {_nested(show_maps(w, filters=True))}\n"
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
    mistakes=_named_once(
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
            _integer_only(
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
    mistakes=_named_once(
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

# --- global average pooling -----------------------------------------------------------


def _gap_cases(seed: int, shapes: list[tuple[int, ...]], integer: bool = False) -> list[Case]:
    rng = case_rng(seed)
    cases = []
    for shape in shapes:
        x = rng.integers(0, 10, size=shape) if integer else _ints(rng, *shape)
        label = f"x of shape {shape}" + (", integer" if integer else "")
        cases.append(Case(label, (x,), shown={"x": show_maps(x)}))
    return cases


def _gap_back_cases(seed: int, shapes: list[tuple[int, int, int, int]]) -> list[Case]:
    rng = case_rng(seed)
    return [Case(f"x_shape {shape}", (_ints(rng, shape[0], shape[3]), shape)) for shape in shapes]


def _gap_scaled(scale: Callable[[tuple[int, ...]], float], broadcast_batch: bool = True):
    def model(dout, x_shape):
        g = np.asarray(dout, dtype=np.float64)
        spread = g[:, None, None, :] if broadcast_batch else g
        return np.broadcast_to(spread, tuple(x_shape)) * scale(tuple(x_shape))

    return model


gap_forward_spec = FunctionSpec(
    name="gap_forward",
    params=("x",),
    reference=gap_forward,
    suites={
        "basic": lambda: _gap_cases(70, [(1, 3, 3, 1), (1, 2, 4, 2)]),
        "batch": lambda: _gap_cases(71, [(2, 3, 2, 3), (3, 2, 2, 1), (2, 4, 4, 4)]),
        "integer": lambda: _gap_cases(72, [(2, 3, 3, 2)], integer=True),
    },
    mistakes=_named_once(
        Mistake(
            "sum instead of mean",
            "Global AVERAGE pooling divides each channel's sum by H * W.",
            lambda x: np.asarray(x, dtype=np.float64).sum(axis=(1, 2)),
        ),
        *(
            Mistake(
                GAP_WRONG_AXES,
                GAP_WRONG_AXES_ADVICE,
                lambda x, axes=axes: np.asarray(x, dtype=np.float64).mean(axis=axes),
            )
            for axes in ((0, 1), (2, 3), (1, 2, 3), (0, 1, 2))
        ),
        Mistake(
            GAP_EXTRA_AXIS,
            GAP_EXTRA_AXIS_ADVICE,
            lambda x: np.asarray(x, dtype=np.float64).mean(axis=(1, 2))[:, None, :],
        ),
        Mistake(
            GAP_EXTRA_AXIS,
            GAP_EXTRA_AXIS_ADVICE,
            lambda x: np.asarray(x, dtype=np.float64).mean(axis=(1, 2), keepdims=True),
        ),
        Mistake(
            TRUNCATION,
            TRUNCATION_ADVICE,
            _integer_only(lambda x: np.trunc(gap_forward(x)), lambda x: x),
        ),
    ),
)

gap_backward_spec = FunctionSpec(
    name="gap_backward",
    params=("dout", "x_shape"),
    reference=gap_backward,
    suites={
        "basic": lambda: _gap_back_cases(73, [(1, 2, 2, 1), (1, 3, 4, 2)]),
        "batch": lambda: _gap_back_cases(74, [(2, 3, 2, 3), (3, 2, 3, 1), (2, 2, 4, 2)]),
    },
    mistakes=_named_once(
        Mistake(GAP_SCALE_MISSING, GAP_SCALE_ADVICE, _gap_scaled(lambda s: 1.0)),
        Mistake(
            "divided by the batch size too",
            "The mean is taken per example: divide by H * W only, not by N * H * W.",
            _gap_scaled(lambda s: 1.0 / (s[0] * s[1] * s[2])),
        ),
        Mistake(
            "divided by the channels too",
            "Each channel has its own mean over H * W positions: do not divide by C.",
            _gap_scaled(lambda s: 1.0 / (s[1] * s[2] * s[3])),
        ),
        Mistake(
            "batch axis broadcast onto the width",
            "dout has shape (N, C); give it the axes (N, 1, 1, C) before broadcasting, e.g. "
            "dout[:, None, None, :], or NumPy lines its N up with W.",
            _gap_scaled(lambda s: 1.0 / (s[1] * s[2]), broadcast_batch=False),
        ),
    ),
)

# --- max pooling ----------------------------------------------------------------------


def _pool_cases(seed: int, combos: list[tuple], overlap: bool = False) -> list[tuple]:
    """(label, x, size, stride) from (N, H, W, C, size, stride) tuples."""
    rng = case_rng(seed)
    made = []
    for n, h, w, c, size, stride in combos:
        x = _distinct(rng, (n, h, w, c), overlap_at=stride if overlap else 0)
        made.append((f"x {n}x{h}x{w}x{c}, window {size}, stride {stride}", x, size, stride))
    return made


def _maxpool_forward_cases(seed: int, combos: list[tuple], overlap: bool = False) -> list[Case]:
    return [
        Case(label, (x, size, stride), shown={"x": show_maps(x)})
        for label, x, size, stride in _pool_cases(seed, combos, overlap)
    ]


def _maxpool_backward_cases(
    seed: int, combos: list[tuple], overlap: bool = False, integer: bool = False
) -> list[Case]:
    rng = case_rng(seed + 1000)
    cases = []
    for label, x, size, stride in _pool_cases(seed, combos, overlap):
        if integer:
            x = (x * 2).astype(np.int64)
            label += ", integer x"
        out, _ = maxpool_forward(x, size, stride)
        dout = rng.integers(-6, 7, size=out.shape) + 0.5
        shown = {
            "dout": show_maps(dout),
            "cache": f"(x, size={size}, stride={stride}) with\n  x {_nested(show_maps(x))}",
        }
        cases.append(Case(label, (dout, (x, size, stride)), shown=shown))
    return cases


def _pool_model(
    reduce: Callable[[np.ndarray], np.ndarray],
    step: Callable[[int, int], int],
    size_from_step: bool = True,
):
    """Max pooling with another reduction or step, the cache kept correct.

    ``size_from_step=False`` keeps the output size of the real stride while the windows
    move by the wrong step (a window past the edge is cut short, as slicing does).
    """

    def model(x, size, stride):
        xa = np.asarray(x, dtype=np.float64)
        s = step(size, stride)
        by = s if size_from_step else stride
        ho, wo = (xa.shape[1] - size) // by + 1, (xa.shape[2] - size) // by + 1
        out = np.zeros((xa.shape[0], ho, wo, xa.shape[3]))
        for i, j in np.ndindex(ho, wo):
            out[:, i, j] = reduce(xa[:, i * s : i * s + size, j * s : j * s + size])
        return out, (x, size, stride)

    return model


def _pool_off_by_one(x, size, stride):
    out, cache = maxpool_forward(x, size, stride)
    if min(out.shape[1:3]) < 2:
        raise ValueError("too small to lose a row")
    return out[:, :-1, :-1], cache


maxpool_forward_spec = FunctionSpec(
    name="maxpool_forward",
    params=("x", "size", "stride"),
    reference=maxpool_forward,
    parts=("out", "cache"),
    suites={
        "basic": lambda: _maxpool_forward_cases(80, [(1, 4, 4, 1, 2, 2), (1, 4, 6, 2, 2, 2)]),
        "overlap": lambda: _maxpool_forward_cases(
            81, [(1, 7, 6, 1, 3, 2), (1, 3, 4, 2, 2, 1)], overlap=True
        ),
        "batch": lambda: _maxpool_forward_cases(82, [(2, 5, 5, 3, 2, 2), (3, 6, 4, 2, 3, 3)]),
        "errors": lambda: [
            Case("window larger than the input", (np.ones((1, 3, 3, 1)), 4, 1), raises=ValueError),
            Case("stride 0", (np.ones((1, 4, 4, 1)), 2, 0), raises=ValueError),
        ],
    },
    mistakes=_named_once(
        Mistake(
            "average instead of max",
            "Max pooling keeps each window's largest value, not its mean.",
            _pool_model(lambda win: win.mean(axis=(1, 2)), lambda size, stride: stride),
        ),
        Mistake(
            STRIDE_IGNORED,
            STRIDE_IGNORED_ADVICE,
            _pool_model(lambda win: win.max(axis=(1, 2)), lambda size, stride: size),
        ),
        Mistake(
            STRIDE_IGNORED,
            STRIDE_IGNORED_ADVICE,
            _pool_model(lambda win: win.max(axis=(1, 2)), lambda size, stride: 1),
        ),
        *(
            Mistake(
                STRIDE_IGNORED,
                STRIDE_IGNORED_ADVICE,
                _pool_model(lambda win: win.max(axis=(1, 2)), step, size_from_step=False),
            )
            for step in (lambda size, stride: size, lambda size, stride: 1)
        ),
        Mistake(
            "max taken over all channels",
            "Pool every channel separately: the window is size x size within one channel.",
            _pool_model(
                lambda win: np.broadcast_to(win.max(axis=(1, 2, 3))[:, None], win[:, 0, 0].shape),
                lambda size, stride: stride,
            ),
        ),
        Mistake(OFF_BY_ONE, OFF_BY_ONE_ADVICE, _pool_off_by_one),
        Mistake(
            CACHE_INCOMPLETE,
            "Return cache = (x, size, stride): maxpool_backward needs all three.",
            lambda x, size, stride: (maxpool_forward(x, size, stride)[0], (x,)),
        ),
    ),
)


def _loop_pool_backward(dout, cache, how: str):
    """Student-style max-pool backward loops, each with one slip named by ``how``."""
    x, size, stride = cache
    xa = np.asarray(x, dtype=np.float64)
    g = np.asarray(dout, dtype=np.float64)
    dx = np.zeros_like(xa)
    for n, i, j, c in np.ndindex(g.shape):
        rows, cols = slice(i * stride, i * stride + size), slice(j * stride, j * stride + size)
        window = xa[n, rows, cols, c]
        r, q = divmod(int(np.argmax(window)), size)
        if how == "step_size":  # windows placed by the window size, not the stride
            rows, cols = slice(i * size, i * size + size), slice(j * size, j * size + size)
            window = xa[n, rows, cols, c]
            r, q = divmod(int(np.argmax(window)), window.shape[1])
            dx[n, i * size + r, j * size + q, c] += g[n, i, j, c]
            continue
        if how == "transposed":
            r, q = q, r
        if how == "assign":
            dx[n, i * stride + r, j * stride + q, c] = g[n, i, j, c]
        elif how == "mask_assign":
            dx[n, rows, cols, c] = (window == window.max()) * g[n, i, j, c]
        elif how == "spread":
            dx[n, rows, cols, c] += g[n, i, j, c]
        elif how == "spread_mean":
            dx[n, rows, cols, c] += g[n, i, j, c] / size**2
        elif how == "first":
            dx[n, i * stride, j * stride, c] += g[n, i, j, c]
        else:
            dx[n, i * stride + r, j * stride + q, c] += g[n, i, j, c]
    return dx


def _pool_backward_model(how: str):
    return lambda dout, cache: _loop_pool_backward(dout, cache, how)


maxpool_backward_spec = FunctionSpec(
    name="maxpool_backward",
    params=("dout", "cache"),
    reference=maxpool_backward,
    suites={
        "basic": lambda: _maxpool_backward_cases(90, [(1, 4, 4, 1, 2, 2), (1, 4, 6, 2, 2, 2)]),
        "overlap": lambda: _maxpool_backward_cases(
            91,
            # the last: (6 - 3) % 2 == 1, windows overlap and the last row and column stay out
            [(1, 5, 5, 1, 3, 2), (1, 3, 4, 2, 2, 1), (1, 4, 4, 2, 2, 1), (1, 6, 6, 1, 3, 2)],
            overlap=True,
        ),
        "batch": lambda: _maxpool_backward_cases(92, [(2, 5, 5, 3, 2, 2), (3, 6, 4, 2, 3, 3)]),
        "integer": lambda: _maxpool_backward_cases(93, [(1, 4, 4, 2, 2, 2)], integer=True),
    },
    mistakes=_named_once(
        Mistake(SPREAD, SPREAD_ADVICE, _pool_backward_model("spread")),
        Mistake(SPREAD, SPREAD_ADVICE, _pool_backward_model("spread_mean")),
        Mistake(OVERWRITTEN, OVERWRITTEN_ADVICE, _pool_backward_model("assign")),
        Mistake(OVERWRITTEN, OVERWRITTEN_ADVICE, _pool_backward_model("mask_assign")),
        Mistake(
            "gradient sent to the window's corner",
            "Send each window's gradient to the position of its maximum (np.argmax), not to "
            "the window's first position.",
            _pool_backward_model("first"),
        ),
        Mistake(
            TRANSPOSED,
            TRANSPOSED_ADVICE + " A flat window index k is row k // size, column k % size.",
            _pool_backward_model("transposed"),
        ),
        Mistake(
            STRIDE_IGNORED,
            "Window (i, j) starts at row i*stride and column j*stride, as in the forward "
            "pass; with overlapping windows (stride < size) i*size puts them in the wrong place.",
            _pool_backward_model("step_size"),
        ),
        Mistake(
            TRUNCATION,
            TRUNCATION_ADVICE,
            _integer_only(
                lambda dout, cache: np.trunc(maxpool_backward(dout, cache)),
                lambda dout, cache: cache[0],
            ),
        ),
    ),
)

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
            _ints(rng, 2, 3),
        ),
        _gradient_case(
            "f(x) = np.tanh(x @ A) with a fixed 3x4 A, output 2x4",
            TestFunction("tanh_matmul", [a]),
            f"a function computing np.tanh(x @ A) with A = {a.tolist()}",
            rng.normal(size=(2, 3)).round(3),
            _ints(rng, 2, 4),
        ),
    ]


def _layer_gradient_cases() -> list[Case]:
    rng = case_rng(102)
    w = _ints(rng, 18, 4)
    b = _ints(rng, 4)
    m = _ints(rng, 2, 2, 3)
    return [
        _gradient_case(
            "f = a dense layer on a flattened batch, x of shape (1, 3, 3, 2)",
            TestFunction("dense", [w, b]),
            f"a function computing x.reshape(len(x), -1) @ W + b with a fixed W of shape "
            f"{w.shape} and b = {b.tolist()}",
            _ints(rng, 1, 3, 3, 2),
            _ints(rng, 1, 4),
        ),
        _gradient_case(
            "f = a weighted sum over H and W, x of shape (2, 2, 2, 3)",
            TestFunction("weighted_spatial_sum", [m]),
            "a function computing (x * M).sum(axis=(1, 2)) with a fixed M of shape (2, 2, 3)",
            _ints(rng, 2, 2, 2, 3),
            _ints(rng, 2, 3),
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
    mistakes=_named_once(
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
            _integer_only(_integer_copy, lambda f, x, *rest, **options: x),
        ),
        Mistake(
            TRUNCATION,
            "Work on a float copy of x, e.g. x.astype(float), and a float gradient array: "
            "np.zeros_like(x) of an integer x is an integer array, and x[i] = old + h on it "
            "stores old.",
            _integer_only(_integer_copy_integer_grad, lambda f, x, *rest, **options: x),
        ),
        Mistake(
            TRUNCATION,
            TRUNCATION_ADVICE,
            _integer_only(
                lambda f, x, dout, h=1e-5: np.trunc(numerical_gradient(f, x, dout, h)),
                lambda f, x, *rest, **options: x,
            ),
        ),
    ),
)

FUNCTIONS = (
    conv_forward_spec,
    conv_backward_spec,
    gap_forward_spec,
    gap_backward_spec,
    maxpool_forward_spec,
    maxpool_backward_spec,
    numerical_gradient_spec,
)

# --- the worked example ---------------------------------------------------------------

X, F = answers.X_example, answers.F_example
WINDOWS = F.shape[0] * F.shape[1]  # y averages 2x2 = 4 output values


def _window_gradients(overwrite: bool, kernel: np.ndarray) -> np.ndarray:
    """dy/dX by scattering each window's 1/4 * kernel, added or (wrongly) overwritten."""
    dx = np.zeros_like(X)
    for i, j in np.ndindex(2, 2):
        share = kernel / WINDOWS
        if overwrite:
            dx[i : i + 2, j : j + 2] = share
        else:
            dx[i : i + 2, j : j + 2] += share
    return dx


def _dF(x: np.ndarray) -> np.ndarray:
    return conv2d(x, np.ones((2, 2))) / WINDOWS


SHEET_SLIP = "the worked answer sheet's slip"
MEAN_SCALE = "the 1/4 of the mean missing"
MEAN_SCALE_ADVICE = (
    "y is the MEAN of the four outputs, so dy/dout = 1/4 for each of them; "
    "multiply every window's contribution by 1/4."
)

ANSWERS = (
    AnswerSpec(
        name="example_output",
        expected=answers.example_output,
        meaning="X cross-correlated with F, a 2x2 array",
        mistakes=(
            AnswerMistake(FLIPPED, FLIPPED_ADVICE, conv2d(X, F[::-1, ::-1])),
            AnswerMistake(TRANSPOSED, TRANSPOSED_ADVICE, conv2d(X, F.T)),
            AnswerMistake(TRANSPOSED, TRANSPOSED_ADVICE, conv2d(X, F).T),
            AnswerMistake(
                SHEET_SLIP,
                "Two entries are sums added up wrong (the worked answer sheet's slip): "
                "O[0, 1] = 3*5 + 1*1 + (-2)*5 = 6 and O[1, 0] = 3*1 + 1*5 + (-2)*(-1) = 10; "
                "add each window's four products again.",
                np.array([[10.0, 3.0], [9.0, 18.0]]),
            ),
        ),
    ),
    AnswerSpec(
        name="example_y",
        expected=answers.example_y,
        meaning="the mean of example_output, a float",
        mistakes=(
            AnswerMistake(
                "sum instead of mean",
                "y is the global AVERAGE of the four outputs: divide their sum by 4.",
                float(answers.example_output.sum()),
            ),
            AnswerMistake(FLIPPED, FLIPPED_ADVICE, float(conv2d(X, F[::-1, ::-1]).mean())),
            AnswerMistake(
                SHEET_SLIP,
                "10 is the mean of the answer sheet's O = [[10, 3], [9, 18]], whose O[0, 1] "
                "and O[1, 0] are added up wrong: the mean step is right, recompute O first.",
                10.0,
            ),
        ),
    ),
    AnswerSpec(
        name="example_dF",
        expected=answers.example_dF,
        meaning="dy/dF, a 2x2 array",
        mistakes=(
            AnswerMistake(MEAN_SCALE, MEAN_SCALE_ADVICE, _dF(X) * WINDOWS),
            AnswerMistake(
                FLIPPED,
                "dF[a, b] sums X[i + a, j + b] over the windows (i, j), weighted by dy/dout: "
                "the kernel position (a, b) meets those X values, no flip.",
                _dF(X)[::-1, ::-1],
            ),
            AnswerMistake(TRANSPOSED, TRANSPOSED_ADVICE, _dF(X).T),
        ),
    ),
    AnswerSpec(
        name="example_dX",
        expected=answers.example_dX,
        meaning="dy/dX, a 3x3 array",
        mistakes=(
            AnswerMistake(MEAN_SCALE, MEAN_SCALE_ADVICE, _window_gradients(False, F) * WINDOWS),
            AnswerMistake(OVERWRITTEN, OVERWRITTEN_ADVICE, _window_gradients(True, F)),
            AnswerMistake(
                FLIPPED,
                "Each window sends back (1/4) * F onto the X values it covered, F[a, b] onto "
                "X[i + a, j + b]: no flip.",
                _window_gradients(False, F[::-1, ::-1]),
            ),
        ),
    ),
)
