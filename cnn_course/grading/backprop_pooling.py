"""Grading specs for 04_conv_backprop's pooling: gap_forward, gap_backward,
maxpool_forward and maxpool_backward."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_course.grading.backprop_common import (
    CACHE_INCOMPLETE,
    GAP_EXTRA_AXIS,
    GAP_EXTRA_AXIS_ADVICE,
    GAP_SCALE_ADVICE,
    GAP_SCALE_MISSING,
    GAP_WRONG_AXES,
    GAP_WRONG_AXES_ADVICE,
    OVERWRITTEN,
    OVERWRITTEN_ADVICE,
    SPREAD,
    SPREAD_ADVICE,
    integer_only,
    ints,
    named_once,
    nested,
)
from cnn_course.grading.core import Case, FunctionSpec, Mistake, case_rng, show_maps
from cnn_course.grading.mistakes import (
    OFF_BY_ONE,
    OFF_BY_ONE_ADVICE,
    STRIDE_IGNORED,
    STRIDE_IGNORED_ADVICE,
    TRANSPOSED,
    TRANSPOSED_ADVICE,
    TRUNCATION,
    TRUNCATION_ADVICE,
)
from cnn_solutions.pooling import gap_backward, gap_forward, maxpool_backward, maxpool_forward

# --- global average pooling -----------------------------------------------------------


def _gap_cases(seed: int, shapes: list[tuple[int, ...]], integer: bool = False) -> list[Case]:
    rng = case_rng(seed)
    cases = []
    for shape in shapes:
        x = rng.integers(0, 10, size=shape) if integer else ints(rng, *shape)
        label = f"x of shape {shape}" + (", integer" if integer else "")
        cases.append(Case(label, (x,), shown={"x": show_maps(x)}))
    return cases


def _gap_back_cases(seed: int, shapes: list[tuple[int, int, int, int]]) -> list[Case]:
    rng = case_rng(seed)
    return [Case(f"x_shape {shape}", (ints(rng, shape[0], shape[3]), shape)) for shape in shapes]


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
    mistakes=named_once(
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
            integer_only(lambda x: np.trunc(gap_forward(x)), lambda x: x),
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
    mistakes=named_once(
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
            "cache": f"(x, size={size}, stride={stride}) with\n  x {nested(show_maps(x))}",
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
    mistakes=named_once(
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
    mistakes=named_once(
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
            integer_only(
                lambda dout, cache: np.trunc(maxpool_backward(dout, cache)),
                lambda dout, cache: cache[0],
            ),
        ),
    ),
)
