"""Backward passes of ``cnn_solutions`` against centred numerical gradients and plain loops.

All gradient checks are in float64 with the CS231n relative error
``max |a - b| / max(1e-8, |a| + |b|)`` required to be at most 1e-7. The numerical gradient
used here is the independent one in ``loops.py``; ``cnn_solutions.numerical_gradient`` is
itself checked against analytic gradients at the end of this file.
"""

from __future__ import annotations

import itertools

import loops
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import cnn_solutions as cs
from cnn_solutions import gradcheck

MAX_REL = 1e-7


def _conv_case(seed: int, stride: int, padding: int) -> dict:
    """Small random conv problem (numerical gradients cost two forwards per entry)."""
    rng = np.random.default_rng(seed)
    while True:
        h, w = (int(v) for v in rng.integers(2, 7, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        if kh <= h + 2 * padding and kw <= w + 2 * padding:
            break
    n, c_in, c_out = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return {
        "x": rng.standard_normal((n, h, w, c_in)),
        "w": rng.standard_normal((kh, kw, c_in, c_out)),
        "b": rng.standard_normal(c_out),
        "stride": stride,
        "padding": padding,
    }


CONV_CASES = [
    _conv_case(100 + i, s, p) for i, (s, p) in enumerate(itertools.product((1, 2, 3), range(4)))
]
# A stride that leaves the last rows/columns unused: those inputs must get exactly zero.
CONV_CASES.append(
    {
        "x": np.random.default_rng(7).standard_normal((2, 7, 7, 2)),
        "w": np.random.default_rng(8).standard_normal((2, 3, 2, 3)),
        "b": np.random.default_rng(9).standard_normal(3),
        "stride": 3,
        "padding": 0,
    }
)
CONV_IDS = [f"x{c['x'].shape}-w{c['w'].shape}-s{c['stride']}-p{c['padding']}" for c in CONV_CASES]


def _forward_out(case: dict) -> np.ndarray:
    return cs.conv_forward(case["x"], case["w"], case["b"], case["stride"], case["padding"])[0]


def _dout_for(case: dict, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(_forward_out(case).shape)


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_backward_matches_loops(case: dict) -> None:
    dout = _dout_for(case, 1)
    _, cache = cs.conv_forward(case["x"], case["w"], case["b"], case["stride"], case["padding"])
    dx, dw, db = cs.conv_backward(dout, cache)
    ldx, ldw, ldb = loops.conv_backward(dout, case["x"], case["w"], case["stride"], case["padding"])
    assert dx.shape == case["x"].shape and dw.shape == case["w"].shape
    assert db.shape == case["b"].shape
    assert_allclose(dx, ldx, rtol=1e-10, atol=1e-12)
    assert_allclose(dw, ldw, rtol=1e-10, atol=1e-12)
    assert_allclose(db, ldb, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_backward_matches_numerical_gradient(case: dict) -> None:
    x, w, b, s, p = case["x"], case["w"], case["b"], case["stride"], case["padding"]
    dout = _dout_for(case, 2)
    _, cache = cs.conv_forward(x, w, b, s, p)
    dx, dw, db = cs.conv_backward(dout, cache)

    num_dx = loops.numerical_gradient(lambda v: cs.conv_forward(v, w, b, s, p)[0], x, dout)
    num_dw = loops.numerical_gradient(lambda v: cs.conv_forward(x, v, b, s, p)[0], w, dout)
    num_db = loops.numerical_gradient(lambda v: cs.conv_forward(x, w, v, s, p)[0], b, dout)
    assert loops.rel_error(dx, num_dx) <= MAX_REL
    assert loops.rel_error(dw, num_dw) <= MAX_REL
    assert loops.rel_error(db, num_db) <= MAX_REL


def test_conv_backward_gives_zero_to_inputs_no_window_reads() -> None:
    # 7x7 input, 2x3 kernel, stride 3: rows 0-1 and 3-4, columns 0-2 and 3-5 are read.
    case = CONV_CASES[-1]
    dout = _dout_for(case, 3)
    _, cache = cs.conv_forward(case["x"], case["w"], case["b"], case["stride"], case["padding"])
    dx = cs.conv_backward(dout, cache)[0]
    assert np.all(dx[:, [2, 5, 6], :, :] == 0)
    assert np.all(dx[:, :, 6, :] == 0)
    assert np.all(dx[:, [0, 1, 3, 4], :6, :] != 0)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 4, 3), (3, 5, 2, 1)])
def test_gap_backward_matches_numerical_gradient_and_loops(shape: tuple) -> None:
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    dout = rng.standard_normal((shape[0], shape[3]))
    dx = cs.gap_backward(dout, x.shape)
    assert dx.shape == shape
    assert loops.rel_error(dx, loops.numerical_gradient(cs.gap_forward, x, dout)) <= MAX_REL
    assert_allclose(dx, loops.gap_backward(dout, shape), rtol=1e-12)


POOL_CASES = [
    ((1, 4, 4, 1), 2, 2),
    ((2, 5, 7, 3), 2, 2),
    ((2, 7, 6, 2), 3, 2),  # overlapping windows: one input can win two windows
    ((1, 6, 9, 2), 3, 3),
    ((2, 5, 5, 1), 2, 1),
    ((1, 3, 8, 2), 3, 1),
    ((2, 9, 4, 3), 1, 2),
]


def _tie_free(shape: tuple, seed: int) -> np.ndarray:
    """Distinct values 1 apart, so a step of 1e-5 never changes which input is the maximum."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) - 20.0


@pytest.mark.parametrize(("shape", "size", "stride"), POOL_CASES)
def test_maxpool_backward_matches_numerical_gradient_and_loops(
    shape: tuple, size: int, stride: int
) -> None:
    x = _tie_free(shape, sum(shape) + size)
    out, cache = cs.maxpool_forward(x, size, stride)
    dout = np.random.default_rng(size * stride).standard_normal(out.shape)
    dx = cs.maxpool_backward(dout, cache)
    assert dx.shape == shape
    num = loops.numerical_gradient(lambda v: cs.maxpool_forward(v, size, stride)[0], x, dout)
    assert loops.rel_error(dx, num) <= MAX_REL
    assert_allclose(dx, loops.maxpool_backward(dout, x, size, stride), rtol=1e-12, atol=0)


def test_maxpool_backward_accumulates_when_one_input_wins_overlapping_windows() -> None:
    # The 9 is the maximum of both 2x2 windows (stride 1) that contain it.
    x = np.array([[1.0, 9.0, 2.0], [3.0, 4.0, 5.0]]).reshape(1, 2, 3, 1)
    out, cache = cs.maxpool_forward(x, 2, 1)
    assert_array_equal(out.ravel(), [9.0, 9.0])
    dx = cs.maxpool_backward(np.array([0.25, 0.5]).reshape(1, 1, 2, 1), cache)
    assert_array_equal(dx.ravel(), [0, 0.75, 0, 0, 0, 0])


# ---- cnn_solutions.numerical_gradient and rel_error -----------------------------------------


def test_numerical_gradient_of_a_linear_map_uses_dout() -> None:
    rng = np.random.default_rng(11)
    a = rng.standard_normal((4, 3))
    x = rng.standard_normal((5, 4))
    dout = rng.standard_normal((5, 3))
    grad = cs.numerical_gradient(lambda v: v @ a, x, dout)
    assert grad.shape == x.shape
    assert grad.dtype == np.float64
    assert gradcheck.rel_error(grad, dout @ a.T) <= MAX_REL
    # A different upstream gradient must change the answer; a zero one must give zero.
    assert not np.allclose(cs.numerical_gradient(lambda v: v @ a, x, 2 * dout + 1), grad)
    assert_allclose(cs.numerical_gradient(lambda v: v @ a, x, np.zeros_like(dout)), 0, atol=0)


def test_numerical_gradient_is_centred_and_uses_h() -> None:
    # For x**3 the centred difference is exactly 3x^2 + h^2 (a forward one adds 3xh).
    x = np.array([[0.5, -1.25], [2.0, 0.75]])
    dout = np.array([[1.0, -2.0], [0.5, 3.0]])
    h = 1e-2
    grad = cs.numerical_gradient(lambda v: v**3, x, dout, h=h)
    assert_allclose(grad, (3 * x**2 + h**2) * dout, rtol=1e-9)
    default = cs.numerical_gradient(lambda v: v**3, x, dout)
    assert_allclose(default, (3 * x**2 + 1e-10) * dout, rtol=1e-7)


def test_numerical_gradient_leaves_x_exactly_as_it_was() -> None:
    # Values where x + h - 2h + h != x in floating point catch "restore by arithmetic".
    x = np.array([0.1, 0.7, 1e3 / 3, -123.456789, 2.0**-30, 1e8 + 0.3])
    before = x.copy()
    seen = []
    grad = cs.numerical_gradient(lambda v: seen.append(v.copy()) or np.sin(v), x, np.ones(6))
    assert_array_equal(x, before)
    assert x.dtype == before.dtype
    assert len(seen) >= 2 * x.size
    assert_allclose(grad[:5], np.cos(x[:5]), rtol=1e-6)


def test_numerical_gradient_does_not_truncate_integer_x() -> None:
    x = np.array([[1, 2], [3, -4]])
    before = x.copy()
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    grad = cs.numerical_gradient(lambda v: 2.5 * v, x, dout)
    assert_allclose(grad, 2.5 * dout, rtol=1e-7)
    assert_array_equal(x, before)


@pytest.mark.parametrize("case", CONV_CASES[:4], ids=CONV_IDS[:4])
def test_numerical_gradient_agrees_with_conv_backward(case: dict) -> None:
    x, w, b, s, p = case["x"], case["w"], case["b"], case["stride"], case["padding"]
    dout = _dout_for(case, 4)
    dx, dw, _ = cs.conv_backward(dout, cs.conv_forward(x, w, b, s, p)[1])
    num_dx = cs.numerical_gradient(lambda v: cs.conv_forward(v, w, b, s, p)[0], x, dout)
    num_dw = cs.numerical_gradient(lambda v: cs.conv_forward(x, v, b, s, p)[0], w, dout)
    assert gradcheck.rel_error(dx, num_dx) <= MAX_REL
    assert gradcheck.rel_error(dw, num_dw) <= MAX_REL


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (np.array([1.0, 2.0]), np.array([1.0, 2.0])),
        (np.array([1.0, -2.0, 0.0]), np.array([1.1, -2.0, 0.0])),
        (np.array([[1e-12, 3.0]]), np.array([[0.0, 3.0]])),
        (np.array([5.0]), np.array([-5.0])),
    ],
)
def test_rel_error_is_the_cs231n_definition(a: np.ndarray, b: np.ndarray) -> None:
    assert gradcheck.rel_error(a, b) == pytest.approx(loops.rel_error(a, b), rel=1e-12, abs=0)
