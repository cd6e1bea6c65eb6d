"""Hypothesis properties of ``cnn_solutions``: sizes, linearity, 1x1 convolution, trace_shapes.

Examples are derandomized (the same every run) and kept to 50 per property so the whole
file stays fast; arrays are drawn from a seeded NumPy generator rather than element by
element, which keeps shrinking cheap.
"""

from __future__ import annotations

import loops
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import cnn_solutions as cs

FAST = settings(max_examples=50, deadline=None, derandomize=True, database=None)

sizes = st.integers(1, 12)
kernels = st.integers(1, 6)
strides = st.integers(1, 3)
paddings = st.integers(0, 3)
channels = st.integers(1, 4)
seeds = st.integers(0, 2**32 - 1)
coefficients = st.floats(-3, 3, allow_nan=False)


def _formula(n: int, f: int, s: int, p: int) -> int:
    return (n + 2 * p - f) // s + 1


@FAST
@given(h=sizes, w=sizes, kh=kernels, kw=kernels, s=strides, p=paddings, c=channels, k=channels)
def test_output_size_formula_matches_every_conv_output_shape(
    h: int, w: int, kh: int, kw: int, s: int, p: int, c: int, k: int
) -> None:
    assume(kh <= h + 2 * p and kw <= w + 2 * p)
    ho, wo = cs.conv_output_size(h, kh, s, p), cs.conv_output_size(w, kw, s, p)
    assert (ho, wo) == (_formula(h, kh, s, p), _formula(w, kw, s, p))
    assert cs.conv2d(np.ones((h, w)), np.ones((kh, kw)), stride=s, padding=p).shape == (ho, wo)
    filters = np.ones((kh, kw, c, k))
    assert cs.conv2d_multi(np.ones((h, w, c)), filters, None, s, p).shape == (ho, wo, k)
    out, _ = cs.conv_forward(np.ones((2, h, w, c)), filters, np.zeros(k), s, p)
    assert out.shape == (2, ho, wo, k)


@FAST
@given(h=sizes, w=sizes, f=st.integers(1, 4), s=st.one_of(st.none(), strides), c=channels)
def test_pool_output_size_matches_maxpool_output_shape(
    h: int, w: int, f: int, s: int | None, c: int
) -> None:
    assume(f <= h and f <= w)
    stride = f if s is None else s
    ho = cs.pool_output_size(h, f, s) if s is not None else cs.pool_output_size(h, f)
    wo = cs.pool_output_size(w, f, stride)
    assert (ho, wo) == (_formula(h, f, stride, 0), _formula(w, f, stride, 0))
    out, _ = cs.maxpool_forward(np.ones((1, h, w, c)), f, stride)
    assert out.shape == (1, ho, wo, c)


@FAST
@given(
    h=sizes, w=sizes, kh=kernels, kw=kernels, s=strides, p=paddings, seed=seeds,
    a=coefficients, b=coefficients,
)  # fmt: skip
def test_conv2d_is_linear_in_image_and_in_kernel(
    h: int, w: int, kh: int, kw: int, s: int, p: int, seed: int, a: float, b: float
) -> None:
    assume(kh <= h + 2 * p and kw <= w + 2 * p)
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal((2, h, w))
    k1, k2 = rng.standard_normal((2, kh, kw))
    conv = cs.conv2d
    tol = {"rtol": 1e-9, "atol": 1e-9}
    assert_allclose(
        conv(a * x1 + b * x2, k1, s, p), a * conv(x1, k1, s, p) + b * conv(x2, k1, s, p), **tol
    )
    assert_allclose(
        conv(x1, a * k1 + b * k2, s, p), a * conv(x1, k1, s, p) + b * conv(x1, k2, s, p), **tol
    )


@FAST
@given(
    h=sizes, w=sizes, kh=kernels, kw=kernels, s=strides, p=paddings, c=channels, k=channels,
    seed=seeds, a=coefficients, b=coefficients,
)  # fmt: skip
def test_multichannel_convolution_is_linear_in_input_and_in_filters(
    h: int, w: int, kh: int, kw: int, s: int, p: int, c: int, k: int, seed: int, a: float, b: float
) -> None:
    assume(kh <= h + 2 * p and kw <= w + 2 * p)
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal((2, 2, h, w, c))
    w1, w2 = rng.standard_normal((2, kh, kw, c, k))
    zero = np.zeros(k)
    tol = {"rtol": 1e-9, "atol": 1e-9}

    def fwd(x: np.ndarray, f: np.ndarray) -> np.ndarray:
        return cs.conv_forward(x, f, zero, s, p)[0]

    assert_allclose(fwd(a * x1 + b * x2, w1), a * fwd(x1, w1) + b * fwd(x2, w1), **tol)
    assert_allclose(fwd(x1, a * w1 + b * w2), a * fwd(x1, w1) + b * fwd(x1, w2), **tol)
    multi = cs.conv2d_multi
    assert_allclose(
        multi(a * x1[0] + b * x2[0], w1, None, s, p),
        a * multi(x1[0], w1, None, s, p) + b * multi(x2[0], w1, None, s, p),
        **tol,
    )


@FAST
@given(h=sizes, w=sizes, c_in=channels, c_out=channels, seed=seeds, with_bias=st.booleans())
def test_conv1x1_is_conv2d_multi_with_1x1_filters_and_a_per_pixel_dense_layer(
    h: int, w: int, c_in: int, c_out: int, seed: int, with_bias: bool
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((h, w, c_in))
    weights = rng.standard_normal((c_in, c_out))
    bias = rng.standard_normal(c_out) if with_bias else None
    out = cs.conv1x1(x, weights, bias)
    assert out.shape == (h, w, c_out)
    assert_allclose(out, cs.conv2d_multi(x, weights[None, None], bias), rtol=1e-10, atol=1e-12)
    dense = x.reshape(-1, c_in) @ weights + (0 if bias is None else bias)
    assert_allclose(out, dense.reshape(h, w, c_out), rtol=1e-10, atol=1e-12)


# ---- trace_shapes against shapes produced by running the layers ----------------------------


@st.composite
def networks(draw: st.DrawFn) -> tuple[tuple[int, int, int], list]:
    """A random valid network: up to 3 conv/pool layers, then maybe flatten and dense layers.

    Layer choices come from a NumPy generator seeded by Hypothesis: drawing them one by one
    from Hypothesis skewed the mix heavily towards pooling layers with explicit strides.
    """
    h, w, c = draw(st.integers(3, 14)), draw(st.integers(3, 14)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(seeds))
    shape_hw, layers = [h, w], []
    for _ in range(rng.integers(0, 4)):
        kind = str(rng.choice(["conv", "maxpool", "avgpool"]))
        options: dict = {}
        pad, stride = 0, int(rng.integers(1, 4))
        if kind == "conv":
            options["filters"] = int(rng.integers(1, 5))
            # Stride and padding are optional keys; omitting them must mean 1 and 0.
            if rng.random() < 0.5:
                pad = options["padding"] = int(rng.integers(0, 3))
            if rng.random() < 0.5:
                options["stride"] = stride
            else:
                stride = 1
            options["size"] = int(rng.integers(1, min(5, *(n + 2 * pad for n in shape_hw)) + 1))
        else:
            options["size"] = int(rng.integers(1, min(3, *shape_hw) + 1))
            # Omitting the stride must mean stride == size.
            if rng.random() < 0.5:
                options["stride"] = stride
            else:
                stride = options["size"]
        shape_hw = [(n + 2 * pad - options["size"]) // stride + 1 for n in shape_hw]
        layers.append((kind, options))
    if rng.random() < 0.5:
        layers.append(("flatten", {}))
        for _ in range(rng.integers(0, 3)):
            layers.append(("dense", {"units": int(rng.integers(1, 6))}))
    return (h, w, c), layers


def _avgpool(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Average pooling: by reshape when windows tile the image, else by the loop version."""
    if stride != size:
        return loops.avgpool_forward(x, size, stride)
    n, h, w, c = x.shape
    ho, wo = h // size, w // size
    tiles = x[:, : ho * size, : wo * size, :].reshape(n, ho, size, wo, size, c)
    return tiles.mean(axis=(2, 4))


def _run_network(x: np.ndarray, layers: list, rng: np.random.Generator) -> list:
    """Apply each layer with the reference ops; return (shape without batch, params) per layer."""
    results = []
    for kind, opt in layers:
        params = 0
        if kind == "conv":
            w = rng.standard_normal((opt["size"], opt["size"], x.shape[-1], opt["filters"]))
            b = rng.standard_normal(opt["filters"])
            x, _ = cs.conv_forward(x, w, b, opt.get("stride", 1), opt.get("padding", 0))
            params = w.size + b.size
        elif kind == "maxpool":
            x, _ = cs.maxpool_forward(x, opt["size"], opt.get("stride", opt["size"]))
        elif kind == "avgpool":
            x = _avgpool(x, opt["size"], opt.get("stride", opt["size"]))
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        else:
            w = rng.standard_normal((x.shape[1], opt["units"]))
            b = rng.standard_normal(opt["units"])
            x = x @ w + b
            params = w.size + b.size
        results.append((x.shape[1:], params))
    return results


@FAST
@given(net=networks(), seed=seeds)
def test_trace_shapes_agrees_with_running_the_layers(net: tuple, seed: int) -> None:
    input_shape, layers = net
    rng = np.random.default_rng(seed)
    traced = cs.trace_shapes(input_shape, layers)
    actual = _run_network(rng.standard_normal((1, *input_shape)), layers, rng)
    assert len(traced) == len(layers)
    for (shape, params), (real_shape, real_params) in zip(traced, actual, strict=True):
        assert tuple(shape) == real_shape
        assert isinstance(shape, tuple)
        assert params == real_params
        assert isinstance(params, int | np.integer)
