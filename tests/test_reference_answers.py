"""The computed answers in ``cnn_solutions.answers`` against textbook values and hand work.

Expected values are written out here (or recomputed with plain loops), never read back from
the package, so a wrong reference answer fails.
"""

from __future__ import annotations

import loops
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import cnn_solutions as cs
from cnn_solutions import answers

X = np.array([[2, 3, 5], [3, 1, 5], [5, -1, -2]])
F = np.array([[0, 3], [1, -2]])

NETWORK = [
    ("conv", {"filters": 16, "size": 3, "stride": 1, "padding": 1}),
    ("maxpool", {"size": 2, "stride": 2}),
    ("flatten", {}),
    ("dense", {"units": 32}),
    ("dense", {"units": 5}),
]


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def test_givens_are_the_contract_arrays() -> None:
    line = np.zeros((5, 5))
    line[:, 2] = 10
    assert_array_equal(answers.line_image, line)
    assert_array_equal(answers.laplacian, [[1, 1, 1], [1, -8, 1], [1, 1, 1]])
    assert_array_equal(answers.X_example, X)
    assert_array_equal(answers.F_example, F)


def test_laplacian_response_equals_a_loop_computation() -> None:
    line = np.zeros((5, 5))
    line[:, 2] = 10
    expected = loops.conv2d(line, np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]]), 1, 1)
    # Written out as well: -60 on the line, +30 beside it; the padded top row sees one
    # neighbour less (-70 and +20).
    assert_array_equal(expected[0], [0, 20, -70, 20, 0])
    assert_array_equal(expected[2], [0, 30, -60, 30, 0])
    assert np.shape(answers.laplacian_response) == (5, 5)
    assert_allclose(answers.laplacian_response, expected, rtol=0, atol=1e-12)


def test_network_shapes_and_parameter_counts() -> None:
    assert answers.conv_out_shape == (28, 28, 16)
    assert isinstance(answers.conv_out_shape, tuple)
    assert answers.pool_out_shape == (14, 14, 16)
    assert isinstance(answers.pool_out_shape, tuple)
    assert answers.flat_size == 3136
    assert answers.conv_param_count == 160
    assert answers.dense1_param_count == 100384
    assert answers.dense2_param_count == 165
    for name in ("flat_size", "conv_param_count", "dense1_param_count", "dense2_param_count"):
        assert _is_int(getattr(answers, name)), name


def test_trace_shapes_reproduces_the_textbook_network() -> None:
    traced = cs.trace_shapes((28, 28, 1), NETWORK)
    assert [tuple(s) for s, _ in traced] == [(28, 28, 16), (14, 14, 16), (3136,), (32,), (5,)]
    assert [p for _, p in traced] == [160, 0, 0, 100384, 165]


def test_multiplication_counts_for_the_inception_bottleneck() -> None:
    assert answers.direct_mults == 120_422_400
    assert answers.bottleneck_mults == 12_443_648
    assert answers.reduction_params == 16448
    for name in ("direct_mults", "bottleneck_mults", "reduction_params"):
        assert _is_int(getattr(answers, name)), name
    # The same figures from the functions: 5x5 "same" conv, and 1x1 to 16 then 5x5 to 32.
    assert cs.conv_mult_count(28, 28, 5, 192, 32) == 120_422_400
    first = cs.conv_mult_count(28, 28, 1, 192, 16)
    assert first == 2_408_448
    assert first + cs.conv_mult_count(28, 28, 5, 16, 32) == 12_443_648
    assert cs.conv_params(1, 256, 64) == 16448


def test_worked_backprop_example() -> None:
    assert_allclose(answers.example_output, [[10, 6], [10, 18]], rtol=0, atol=1e-12)
    assert answers.example_y == pytest.approx(11.0, abs=1e-12)
    assert isinstance(answers.example_y, float | np.floating)
    assert_allclose(answers.example_dF, [[2.25, 3.5], [2, 0.75]], rtol=0, atol=1e-12)

    # dy/dX by hand: each of the 4 outputs contributes F / 4 to the window it read.
    dx = np.zeros((3, 3))
    for i in range(2):
        for j in range(2):
            dx[i : i + 2, j : j + 2] += F / 4
    assert_array_equal(dx, [[0, 0.75, 0.75], [0.25, 0.5, 0.25], [0.25, -0.25, -0.5]])
    assert_allclose(answers.example_dX, dx, rtol=0, atol=1e-12)


def test_worked_example_agrees_with_the_layer_functions() -> None:
    # y = mean(out) is GAP over a 1x1-channel map, so the layers give the same numbers.
    out, cache = cs.conv_forward(X[None, :, :, None], F[:, :, None, None], np.zeros(1))
    y = cs.gap_forward(out)
    assert y.shape == (1, 1)
    assert y[0, 0] == pytest.approx(11.0)
    dx, dw, db = cs.conv_backward(cs.gap_backward(np.ones((1, 1)), out.shape), cache)
    assert_allclose(dw[:, :, 0, 0], [[2.25, 3.5], [2, 0.75]], atol=1e-12)
    assert_allclose(dx[0, :, :, 0], answers.example_dX, atol=1e-12)
    assert_allclose(db, [1.0], atol=1e-12)
