"""Invalid arguments, input mutation, result dtypes and silence of ``cnn_solutions``.

Every invalid-argument case named in the contract must raise ``ValueError`` with a message;
no function may modify its inputs; results are float64 and integer inputs are not truncated;
nothing is written to stdout/stderr and no warning is raised.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import cnn_solutions as cs

RNG = np.random.default_rng(0)
IMG = RNG.standard_normal((5, 5))
K3 = RNG.standard_normal((3, 3))
X3 = RNG.standard_normal((5, 5, 2))
FILT = RNG.standard_normal((3, 3, 2, 4))
BIAS = RNG.standard_normal(4)
XB = RNG.standard_normal((2, 5, 5, 2))
W1 = RNG.standard_normal((2, 4))

INVALID: dict[str, Callable[[], object]] = {
    # zero_pad
    "zero_pad negative pad": lambda: cs.zero_pad(IMG, -1),
    "zero_pad 1-D image": lambda: cs.zero_pad(np.ones(5), 1),
    "zero_pad 4-D image": lambda: cs.zero_pad(XB, 1),
    # correlate2d
    "correlate2d kernel taller than image": lambda: cs.correlate2d(IMG, np.ones((6, 1))),
    "correlate2d kernel wider than image": lambda: cs.correlate2d(IMG, np.ones((1, 6))),
    "correlate2d 3-D image": lambda: cs.correlate2d(X3, K3),
    "correlate2d 3-D kernel": lambda: cs.correlate2d(IMG, np.ones((3, 3, 1))),
    # conv2d
    "conv2d negative padding": lambda: cs.conv2d(IMG, K3, padding=-1),
    "conv2d stride 0": lambda: cs.conv2d(IMG, K3, stride=0),
    "conv2d negative stride": lambda: cs.conv2d(IMG, K3, stride=-2),
    "conv2d kernel larger than padded input": lambda: cs.conv2d(IMG, np.ones((8, 8)), padding=1),
    "conv2d 3-D image": lambda: cs.conv2d(X3, K3),
    # conv2d_multi
    "conv2d_multi channel mismatch": lambda: cs.conv2d_multi(X3, np.ones((3, 3, 3, 4))),
    "conv2d_multi bias of wrong size": lambda: cs.conv2d_multi(X3, FILT, np.ones(3)),
    # A bias that would silently broadcast is still the wrong size.
    "conv2d_multi bias of size 1": lambda: cs.conv2d_multi(X3, FILT, np.ones(1)),
    "conv2d_multi 2-D bias": lambda: cs.conv2d_multi(X3, FILT, np.ones((1, 4))),
    "conv2d_multi negative padding": lambda: cs.conv2d_multi(X3, FILT, BIAS, 1, -1),
    "conv2d_multi stride 0": lambda: cs.conv2d_multi(X3, FILT, BIAS, 0, 0),
    "conv2d_multi filter larger than padded input": lambda: cs.conv2d_multi(
        X3, np.ones((6, 6, 2, 4)), None, 1, 0
    ),
    "conv2d_multi 2-D input": lambda: cs.conv2d_multi(IMG, FILT),
    "conv2d_multi 3-D filters": lambda: cs.conv2d_multi(X3, np.ones((3, 3, 2))),
    # shapes
    "conv_output_size negative padding": lambda: cs.conv_output_size(5, 3, 1, -1),
    "conv_output_size stride 0": lambda: cs.conv_output_size(5, 3, 0, 0),
    "conv_output_size filter larger than padded input": lambda: cs.conv_output_size(5, 8, 1, 1),
    "pool_output_size stride 0": lambda: cs.pool_output_size(4, 2, 0),
    "pool_output_size window larger than input": lambda: cs.pool_output_size(4, 5),
    "trace_shapes dense on 3-D shape": lambda: cs.trace_shapes(
        (4, 4, 1), [("dense", {"units": 3})]
    ),
    "trace_shapes unknown kind": lambda: cs.trace_shapes((4, 4, 1), [("dropout", {})]),
    "trace_shapes conv filter larger than padded input": lambda: cs.trace_shapes(
        (4, 4, 1), [("conv", {"filters": 2, "size": 7, "padding": 1})]
    ),
    "trace_shapes conv negative padding": lambda: cs.trace_shapes(
        (4, 4, 1), [("conv", {"filters": 2, "size": 3, "padding": -1})]
    ),
    "trace_shapes pool stride 0": lambda: cs.trace_shapes(
        (4, 4, 1), [("maxpool", {"size": 2, "stride": 0})]
    ),
    # conv1x1
    "conv1x1 channel mismatch": lambda: cs.conv1x1(X3, np.ones((3, 4))),
    "conv1x1 bias of wrong size": lambda: cs.conv1x1(X3, W1, np.ones(5)),
    "conv1x1 bias of size 1": lambda: cs.conv1x1(X3, W1, np.ones(1)),
    "conv1x1 2-D input": lambda: cs.conv1x1(IMG, W1),
    # conv_forward
    "conv_forward channel mismatch": lambda: cs.conv_forward(XB, np.ones((3, 3, 1, 4)), BIAS),
    "conv_forward bias of wrong size": lambda: cs.conv_forward(XB, FILT, np.ones(2)),
    "conv_forward bias of size 1": lambda: cs.conv_forward(XB, FILT, np.ones(1)),
    "conv_forward scalar bias": lambda: cs.conv_forward(XB, FILT, np.float64(1.0)),
    "conv_forward negative padding": lambda: cs.conv_forward(XB, FILT, BIAS, 1, -2),
    "conv_forward stride 0": lambda: cs.conv_forward(XB, FILT, BIAS, 0, 1),
    "conv_forward filter larger than padded input": lambda: cs.conv_forward(
        XB, np.ones((8, 8, 2, 4)), BIAS, 1, 1
    ),
    "conv_forward 3-D input": lambda: cs.conv_forward(X3, FILT, BIAS),
    # pooling
    "gap_forward 3-D input": lambda: cs.gap_forward(X3),
    "maxpool_forward window larger than input": lambda: cs.maxpool_forward(XB, 6, 1),
    "maxpool_forward stride 0": lambda: cs.maxpool_forward(XB, 2, 0),
    "maxpool_forward 3-D input": lambda: cs.maxpool_forward(X3, 2, 2),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_arguments_raise_value_error_with_a_message(name: str) -> None:
    with pytest.raises(ValueError) as info:
        INVALID[name]()
    assert len(str(info.value)) >= 10, "the message should say what is wrong"


# ---- inputs are never modified ---------------------------------------------------------------


def _calls() -> list[tuple[str, Callable, tuple]]:
    """(name, function, args) for one valid call of every array function."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 5, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    b = rng.standard_normal(4)
    out, cache = cs.conv_forward(x.copy(), w.copy(), b.copy(), 2, 1)
    pooled, pcache = cs.maxpool_forward(x.copy(), 2, 2)
    return [
        ("zero_pad", cs.zero_pad, (x[0].copy(), 2)),
        ("correlate2d", cs.correlate2d, (x[0, :, :, 0].copy(), w[:, :, 0, 0].copy())),
        ("conv2d", cs.conv2d, (x[0, :, :, 0].copy(), w[:, :, 0, 0].copy(), 2, 1)),
        ("conv2d_multi", cs.conv2d_multi, (x[0].copy(), w.copy(), b.copy(), 2, 1)),
        ("conv1x1", cs.conv1x1, (x[0].copy(), w[0, 0].copy(), b.copy())),
        ("conv_forward", cs.conv_forward, (x.copy(), w.copy(), b.copy(), 2, 1)),
        ("conv_backward", cs.conv_backward, (rng.standard_normal(out.shape), cache)),
        ("gap_forward", cs.gap_forward, (x.copy(),)),
        ("gap_backward", cs.gap_backward, (rng.standard_normal((2, 3)), x.shape)),
        ("maxpool_forward", cs.maxpool_forward, (x.copy(), 2, 2)),
        ("maxpool_backward", cs.maxpool_backward, (rng.standard_normal(pooled.shape), pcache)),
    ]


def _arrays(obj: object) -> list[np.ndarray]:
    """Every array inside ``obj`` (arrays, or tuples of them such as caches)."""
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, tuple | list):
        return [a for item in obj for a in _arrays(item)]
    return []


@pytest.mark.parametrize(("name", "func", "args"), _calls(), ids=[c[0] for c in _calls()])
def test_functions_do_not_modify_their_inputs(name: str, func: Callable, args: tuple) -> None:
    inputs = _arrays(args)
    before = [a.copy() for a in inputs]
    result = func(*args)
    for a, old in zip(inputs, before, strict=True):
        assert_array_equal(a, old, err_msg=name)
    # Writing into a result must not reach back into an input either (caches hold inputs).
    results = [result[0]] if name.endswith("_forward") and name != "gap_forward" else result
    for r in _arrays(results):
        assert not any(np.shares_memory(r, a) for a in inputs), name


def test_zero_pad_returns_a_new_array_even_without_padding() -> None:
    image = np.arange(6.0).reshape(2, 3)
    out = cs.zero_pad(image, 0)
    assert_array_equal(out, image)
    assert not np.shares_memory(out, image)


def test_numerical_gradient_does_not_modify_dout() -> None:
    x = np.array([1.0, 2.0, 3.0])
    dout = np.array([0.5, -1.0, 2.0])
    before = dout.copy()
    cs.numerical_gradient(lambda v: v * 2.0, x, dout)
    assert_array_equal(dout, before)


# ---- float64 results, integer inputs not truncated ------------------------------------------

I_IMG = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 10]])
I_X = np.arange(1, 1 + 2 * 3 * 3 * 2).reshape(2, 3, 3, 2)


def test_integer_images_give_float64_results_that_are_not_truncated() -> None:
    half = np.full((2, 2), 0.25)
    assert cs.correlate2d(I_IMG, np.ones((2, 2), dtype=int)).dtype == np.float64
    out = cs.correlate2d(I_IMG, half)
    assert out.dtype == np.float64
    assert_allclose(out, [[3.0, 4.0], [6.0, 7.25]])
    out = cs.conv2d(I_IMG, half, stride=2, padding=1)
    assert out.dtype == np.float64
    assert_allclose(out, [[0.25, 1.25], [2.75, 7.25]])

    w = np.full((2, 2, 2, 1), 0.125)
    multi = cs.conv2d_multi(I_X[0], w)
    assert multi.dtype == np.float64
    assert_allclose(multi[0, 0, 0], 0.125 * I_X[0, :2, :2, :].sum())
    fwd, _ = cs.conv_forward(I_X, w, np.zeros(1, dtype=int))
    assert fwd.dtype == np.float64
    assert_allclose(fwd[1, 1, 1, 0], 0.125 * I_X[1, 1:3, 1:3, :].sum())
    mixed = cs.conv1x1(I_X[0], np.array([[0.5], [0.25]]))
    assert mixed.dtype == np.float64
    assert_allclose(mixed[..., 0], 0.5 * I_X[0, ..., 0] + 0.25 * I_X[0, ..., 1])
    assert cs.conv1x1(I_X[0], np.ones((2, 1), dtype=int)).dtype == np.float64


def test_integer_inputs_to_pooling_and_backward_give_float64() -> None:
    gap = cs.gap_forward(np.array([1, 2]).reshape(1, 1, 2, 1))
    assert gap.dtype == np.float64
    assert_allclose(gap, [[1.5]])
    dx = cs.gap_backward(np.array([[3]]), (1, 2, 2, 1))
    assert dx.dtype == np.float64
    assert_allclose(dx, np.full((1, 2, 2, 1), 0.75))

    pooled, pcache = cs.maxpool_forward(I_X, 2, 1)
    assert pooled.dtype == np.float64
    dpool = cs.maxpool_backward(np.ones(pooled.shape, dtype=int), pcache)
    assert dpool.dtype == np.float64

    out, cache = cs.conv_forward(I_X, np.ones((2, 2, 2, 1), dtype=int), np.zeros(1, dtype=int))
    assert out.dtype == np.float64
    for grad in cs.conv_backward(np.ones(out.shape, dtype=int), cache):
        assert grad.dtype == np.float64


# ---- silence: no output, no warnings ----------------------------------------------------------


def test_functions_write_nothing_and_raise_no_warnings(capfd: pytest.CaptureFixture) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _, func, args in _calls():
            func(*args)
        for name in ("conv_output_size", "pool_output_size"):
            getattr(cs, name)(9, 3, 2)
        cs.conv_params(3, 2, 4)
        cs.dense_params(10, 3)
        cs.conv_mult_count(4, 4, 3, 2, 5)
        cs.trace_shapes((8, 8, 1), [("conv", {"filters": 2, "size": 3}), ("flatten", {})])
        cs.numerical_gradient(np.tanh, np.array([0.5, -0.25]), np.ones(2))
        for call in INVALID.values():
            with pytest.raises(ValueError):
                call()
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_importing_the_package_is_silent_under_warnings_as_errors() -> None:
    code = "import cnn_solutions, cnn_solutions.answers, cnn_solutions.gradcheck"
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == ""
