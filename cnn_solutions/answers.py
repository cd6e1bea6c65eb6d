"""Every answer named in the contract, computed from the reference functions.

Hidden tests and the notebooks' solutions both read these, so a value is never typed in
twice and can never drift from the functions that define it.
"""

from __future__ import annotations

import numpy as np

from cnn_solutions.conv import conv2d
from cnn_solutions.conv1x1 import conv_mult_count
from cnn_solutions.layers import conv_backward, conv_forward
from cnn_solutions.pooling import gap_backward, gap_forward
from cnn_solutions.shapes import conv_output_size, conv_params, trace_shapes

# --- 01_filters: the Laplacian on a vertical line -------------------------------------
line_image = np.zeros((5, 5))
line_image[:, 2] = 10.0
laplacian = np.array([[1.0, 1.0, 1.0], [1.0, -8.0, 1.0], [1.0, 1.0, 1.0]])
laplacian_response = conv2d(line_image, laplacian, padding=1)

# --- 02_output_size: the contract's network -------------------------------------------
NETWORK_INPUT = (28, 28, 1)
NETWORK = [
    ("conv", {"filters": 16, "size": 3, "stride": 1, "padding": 1}),
    ("maxpool", {"size": 2, "stride": 2}),
    ("flatten", {}),
    ("dense", {"units": 32}),
    ("dense", {"units": 5}),
]
_trace = trace_shapes(NETWORK_INPUT, NETWORK)
conv_out_shape = _trace[0][0]
pool_out_shape = _trace[1][0]
flat_size = _trace[2][0][0]
conv_param_count = _trace[0][1]
dense1_param_count = _trace[3][1]
dense2_param_count = _trace[4][1]

# --- 03_conv1x1: the bottleneck -------------------------------------------------------
_SAME_5x5 = conv_output_size(28, 5, 1, 2)  # "same" padding for a 5x5 filter is 2
direct_mults = conv_mult_count(_SAME_5x5, _SAME_5x5, 5, 192, 32)
bottleneck_mults = conv_mult_count(28, 28, 1, 192, 16) + conv_mult_count(
    _SAME_5x5, _SAME_5x5, 5, 16, 32
)
reduction_params = conv_params(1, 256, 64)

# --- 04_conv_backprop: the worked example ---------------------------------------------
X_example = np.array([[2.0, 3.0, 5.0], [3.0, 1.0, 5.0], [5.0, -1.0, -2.0]])
F_example = np.array([[0.0, 3.0], [1.0, -2.0]])


def _worked_example() -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    x = X_example[None, :, :, None]
    w = F_example[:, :, None, None]
    out, cache = conv_forward(x, w, np.zeros(1))
    y = gap_forward(out)[0, 0]
    dx, dw, _ = conv_backward(gap_backward(np.ones((1, 1)), out.shape), cache)
    return out[0, :, :, 0], float(y), dw[:, :, 0, 0], dx[0, :, :, 0]


example_output, example_y, example_dF, example_dX = _worked_example()

ANSWER_NAMES = (
    "laplacian_response",
    "conv_out_shape",
    "pool_out_shape",
    "flat_size",
    "conv_param_count",
    "dense1_param_count",
    "dense2_param_count",
    "direct_mults",
    "bottleneck_mults",
    "reduction_params",
    "example_output",
    "example_y",
    "example_dF",
    "example_dX",
)
