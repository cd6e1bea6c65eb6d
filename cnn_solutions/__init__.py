"""Reference implementation of the CNN course: what the hidden tests compare against.

Every function named in the course contract is importable from here.
"""

from cnn_solutions.conv import conv2d, conv2d_multi, correlate2d, zero_pad
from cnn_solutions.conv1x1 import conv1x1, conv_mult_count
from cnn_solutions.gradcheck import numerical_gradient, rel_error
from cnn_solutions.layers import conv_backward, conv_forward
from cnn_solutions.pooling import gap_backward, gap_forward, maxpool_backward, maxpool_forward
from cnn_solutions.shapes import (
    conv_output_size,
    conv_params,
    dense_params,
    pool_output_size,
    trace_shapes,
)

__all__ = [
    "zero_pad",
    "correlate2d",
    "conv2d",
    "conv2d_multi",
    "conv_output_size",
    "pool_output_size",
    "conv_params",
    "dense_params",
    "trace_shapes",
    "conv1x1",
    "conv_mult_count",
    "conv_forward",
    "conv_backward",
    "gap_forward",
    "gap_backward",
    "maxpool_forward",
    "maxpool_backward",
    "numerical_gradient",
    "rel_error",
]
