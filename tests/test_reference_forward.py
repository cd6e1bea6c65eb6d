"""Forward operations of ``cnn_solutions`` against SciPy and the plain loops in ``loops.py``.

Cases are drawn from fixed seeds: every stride 1-3 is combined with every padding 0-3, with
random non-square kernels, 1-4 channels, integer images with float kernels, and sizes where
``n + 2p - f`` is not a multiple of the stride.
"""

from __future__ import annotations

import itertools

import loops
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage, signal

import cnn_solutions as cs

TOL = {"rtol": 1e-10, "atol": 1e-10}


def _spatial_case(rng: np.random.Generator, stride: int, padding: int) -> dict:
    """Random image and kernel sizes that fit: ``f <= n + 2p`` on both axes."""
    while True:
        h, w = (int(v) for v in rng.integers(1, 10, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        if kh <= h + 2 * padding and kw <= w + 2 * padding:
            return {"h": h, "w": w, "kh": kh, "kw": kw, "stride": stride, "padding": padding}


def _make_cases(seed: int) -> list[dict]:
    """One random case per (stride, padding) pair plus fixed awkward ones, all reproducible."""
    rng = np.random.default_rng(seed)
    cases = [_spatial_case(rng, s, p) for s, p in itertools.product((1, 2, 3), (0, 1, 2, 3))]
    # Hand-picked: remainders (n + 2p - f) % s != 0, kernel equal to the padded input, 1x1.
    cases += [
        {"h": 7, "w": 6, "kh": 2, "kw": 3, "stride": 2, "padding": 0},
        {"h": 8, "w": 5, "kh": 3, "kw": 2, "stride": 3, "padding": 1},
        {"h": 4, "w": 3, "kh": 6, "kw": 5, "stride": 1, "padding": 1},
        {"h": 5, "w": 9, "kh": 1, "kw": 1, "stride": 3, "padding": 2},
        {"h": 1, "w": 1, "kh": 3, "kw": 3, "stride": 2, "padding": 1},
    ]
    for i, case in enumerate(cases):
        case["seed"] = seed * 1000 + i
        case["int_image"] = i % 2 == 0
        case["channels"] = 1 + i % 4
        case["c_out"] = 1 + (i * 3) % 4
        case["batch"] = 1 + i % 3
    return cases


CASES = _make_cases(2024)
IDS = [f"{c['h']}x{c['w']}-k{c['kh']}x{c['kw']}-s{c['stride']}-p{c['padding']}" for c in CASES]


def test_cases_cover_the_required_space() -> None:
    """The generated cases really include what the issue asks for (guards the generator)."""
    assert {c["stride"] for c in CASES} == {1, 2, 3}
    assert {c["padding"] for c in CASES} == {0, 1, 2, 3}
    assert {c["channels"] for c in CASES} == {1, 2, 3, 4}
    assert any(c["kh"] != c["kw"] for c in CASES)
    assert any(c["int_image"] for c in CASES)
    assert any((c["h"] + 2 * c["padding"] - c["kh"]) % c["stride"] for c in CASES)
    assert any((c["w"] + 2 * c["padding"] - c["kw"]) % c["stride"] for c in CASES)


def _image(rng: np.random.Generator, shape: tuple[int, ...], integer: bool) -> np.ndarray:
    if integer:
        return rng.integers(-9, 10, size=shape)
    return rng.standard_normal(shape)


def _scipy_conv2d(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int) -> np.ndarray:
    padded = np.pad(image.astype(np.float64), padding)
    return signal.correlate2d(padded, kernel, mode="valid")[::stride, ::stride]


def _scipy_conv_multi(
    x: np.ndarray, filters: np.ndarray, bias: np.ndarray | None, stride: int, padding: int
) -> np.ndarray:
    """Multi-channel convolution as one N-d SciPy correlation per output channel."""
    padded = np.pad(x.astype(np.float64), ((padding, padding), (padding, padding), (0, 0)))
    maps = [
        signal.correlate(padded, filters[:, :, :, o], mode="valid", method="direct")[:, :, 0]
        for o in range(filters.shape[3])
    ]
    out = np.stack(maps, axis=-1)[::stride, ::stride]
    return out if bias is None else out + bias


@pytest.mark.parametrize("pad", [0, 1, 3])
@pytest.mark.parametrize("shape", [(4, 5), (3, 2, 3), (1, 1)])
@pytest.mark.parametrize("integer", [False, True])
def test_zero_pad_matches_loops_and_numpy(pad: int, shape: tuple, integer: bool) -> None:
    rng = np.random.default_rng(sum(shape) + 7 * pad)
    image = _image(rng, shape, integer)
    out = cs.zero_pad(image, pad)
    assert out.shape == (shape[0] + 2 * pad, shape[1] + 2 * pad) + shape[2:]
    assert_array_equal(out, loops.zero_pad(image, pad))
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (len(shape) - 2)
    assert_array_equal(out, np.pad(image, widths))
    assert not np.shares_memory(out, image)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_correlate2d_matches_scipy_and_loops(case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    # correlate2d has no padding, so grow the image until the kernel fits.
    h, w = max(case["h"], case["kh"]), max(case["w"], case["kw"])
    image = _image(rng, (h, w), case["int_image"])
    kernel = rng.standard_normal((case["kh"], case["kw"]))
    out = cs.correlate2d(image, kernel)
    assert out.shape == (h - case["kh"] + 1, w - case["kw"] + 1)
    assert out.dtype == np.float64
    assert_allclose(out, signal.correlate2d(image.astype(float), kernel, mode="valid"), **TOL)
    assert_allclose(out, loops.correlate2d(image, kernel), **TOL)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_matches_scipy_and_loops(case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    image = _image(rng, (case["h"], case["w"]), case["int_image"])
    kernel = rng.standard_normal((case["kh"], case["kw"]))
    s, p = case["stride"], case["padding"]
    out = cs.conv2d(image, kernel, stride=s, padding=p)
    expected_shape = (
        loops.out_size(case["h"], case["kh"], s, p),
        loops.out_size(case["w"], case["kw"], s, p),
    )
    assert out.shape == expected_shape
    assert out.dtype == np.float64
    assert_allclose(out, _scipy_conv2d(image, kernel, s, p), **TOL)
    assert_allclose(out, loops.conv2d(image, kernel, s, p), **TOL)


def test_conv2d_defaults_are_stride_1_padding_0() -> None:
    rng = np.random.default_rng(5)
    image, kernel = rng.standard_normal((6, 7)), rng.standard_normal((3, 2))
    assert_allclose(cs.conv2d(image, kernel), cs.conv2d(image, kernel, stride=1, padding=0))
    assert_allclose(cs.conv2d(image, kernel), loops.correlate2d(image, kernel), **TOL)


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_multi_matches_scipy_and_loops(case: dict, with_bias: bool) -> None:
    rng = np.random.default_rng(case["seed"] + 17)
    c_in, c_out = case["channels"], case["c_out"]
    x = _image(rng, (case["h"], case["w"], c_in), case["int_image"])
    filters = rng.standard_normal((case["kh"], case["kw"], c_in, c_out))
    bias = rng.standard_normal(c_out) if with_bias else None
    s, p = case["stride"], case["padding"]
    out = cs.conv2d_multi(x, filters, bias, stride=s, padding=p)
    assert out.dtype == np.float64
    assert_allclose(out, _scipy_conv_multi(x, filters, bias, s, p), **TOL)
    assert_allclose(out, loops.conv2d_multi(x, filters, bias, s, p), **TOL)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_forward_matches_scipy_and_loops(case: dict) -> None:
    rng = np.random.default_rng(case["seed"] + 31)
    n, c_in, c_out = case["batch"], case["channels"], case["c_out"]
    x = _image(rng, (n, case["h"], case["w"], c_in), case["int_image"])
    w = rng.standard_normal((case["kh"], case["kw"], c_in, c_out))
    b = rng.standard_normal(c_out)
    s, p = case["stride"], case["padding"]
    out, cache = cs.conv_forward(x, w, b, stride=s, padding=p)
    assert out.dtype == np.float64
    assert_allclose(out, loops.conv_forward(x, w, b, s, p), **TOL)
    for k in range(n):
        assert_allclose(out[k], _scipy_conv_multi(x[k], w, b, s, p), **TOL)
    # The contract fixes the cache layout: (x, w, b, stride, padding).
    assert len(cache) == 5
    assert_array_equal(cache[0], x)
    assert_array_equal(cache[1], w)
    assert_array_equal(cache[2], b)
    assert (cache[3], cache[4]) == (s, p)


@pytest.mark.parametrize("seed", range(6))
def test_conv1x1_matches_loops_and_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w, c_in, c_out = (int(v) for v in rng.integers(1, 6, size=4))
    x = _image(rng, (h, w, c_in), integer=seed % 2 == 0)
    weights = rng.standard_normal((c_in, c_out))
    bias = rng.standard_normal(c_out) if seed % 3 else None
    out = cs.conv1x1(x, weights, bias)
    assert out.shape == (h, w, c_out)
    assert out.dtype == np.float64
    assert_allclose(out, loops.conv1x1(x, weights, bias), **TOL)
    assert_allclose(out, _scipy_conv_multi(x, weights[None, None], bias, 1, 0), **TOL)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 5, 4), (3, 7, 2, 1)])
def test_gap_forward_matches_loops(shape: tuple) -> None:
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    out = cs.gap_forward(x)
    assert out.shape == (shape[0], shape[3])
    assert_allclose(out, loops.gap_forward(x), **TOL)


def _scipy_maxpool(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Max pooling read off SciPy's running maximum filter.

    SciPy centres a window of length ``size`` at ``c`` over ``c - size // 2`` ..
    ``c - size // 2 + size - 1``, so the window starting at ``i`` is centred at ``i + size // 2``.
    """
    full = ndimage.maximum_filter(x, size=(1, size, size, 1))
    h, w = x.shape[1:3]
    ho, wo = loops.out_size(h, size, stride, 0), loops.out_size(w, size, stride, 0)
    c = size // 2
    return full[:, c : c + (ho - 1) * stride + 1 : stride, c : c + (wo - 1) * stride + 1 : stride]


POOL_CASES = [
    ((1, 4, 4, 1), 2, 2),
    ((2, 5, 7, 3), 2, 2),
    ((2, 7, 6, 2), 3, 2),
    ((1, 6, 9, 4), 3, 3),
    ((3, 5, 5, 1), 2, 1),
    ((1, 3, 8, 2), 3, 1),
    ((2, 9, 4, 3), 1, 2),
]


@pytest.mark.parametrize(("shape", "size", "stride"), POOL_CASES)
def test_maxpool_forward_matches_loops_and_scipy(shape: tuple, size: int, stride: int) -> None:
    rng = np.random.default_rng(sum(shape) + size + 10 * stride)
    x = rng.standard_normal(shape)
    out, cache = cs.maxpool_forward(x, size, stride)
    assert_array_equal(out, loops.maxpool_forward(x, size, stride))
    assert_array_equal(out, _scipy_maxpool(x, size, stride))
    assert len(cache) == 3
    assert_array_equal(cache[0], x)
    assert (cache[1], cache[2]) == (size, stride)


GRID = list(itertools.product(range(1, 9), range(1, 6), (1, 2, 3), (0, 1, 2, 3)))


def test_conv_output_size_matches_window_count() -> None:
    checked = 0
    for n, f, s, p in GRID:
        if f <= n + 2 * p:
            got = cs.conv_output_size(n, f, stride=s, padding=p)
            assert got == loops.out_size(n, f, s, p), (n, f, s, p)
            assert isinstance(got, int | np.integer)
            checked += 1
    assert checked > 400


def test_pool_output_size_matches_window_count_and_defaults_stride_to_size() -> None:
    for n, f, s, _ in GRID:
        if f <= n:
            assert cs.pool_output_size(n, f, s) == loops.out_size(n, f, s, 0), (n, f, s)
            assert cs.pool_output_size(n, f) == loops.out_size(n, f, f, 0), (n, f)


@pytest.mark.parametrize(("f", "c_in", "k"), [(3, 1, 16), (5, 3, 7), (1, 256, 64), (2, 4, 1)])
def test_conv_params_counts_weight_and_bias_entries(f: int, c_in: int, k: int) -> None:
    assert cs.conv_params(f, c_in, k) == np.zeros((f, f, c_in, k)).size + k
    assert cs.conv_params(f, c_in, k, bias=True) == f * f * c_in * k + k
    assert cs.conv_params(f, c_in, k, bias=False) == f * f * c_in * k


@pytest.mark.parametrize(("n_in", "n_out"), [(3136, 32), (32, 5), (1, 1), (10, 3)])
def test_dense_params_counts_weight_and_bias_entries(n_in: int, n_out: int) -> None:
    assert cs.dense_params(n_in, n_out) == n_in * n_out + n_out
    assert cs.dense_params(n_in, n_out, bias=False) == n_in * n_out


@pytest.mark.parametrize(("h", "w", "f", "c_in", "c_out"), [(2, 3, 3, 4, 5), (1, 1, 1, 1, 1)])
def test_conv_mult_count_equals_multiplications_done_by_loops(
    h: int, w: int, f: int, c_in: int, c_out: int
) -> None:
    # Each output value is one dot product of length f * f * c_in.
    per_output = len(np.zeros((f, f, c_in)).ravel())
    assert cs.conv_mult_count(h, w, f, c_in, c_out) == h * w * c_out * per_output
