"""1x1 convolutions: a dense layer applied at every pixel, and what it saves."""

from __future__ import annotations

import numpy as np

from cnn_solutions._validate import as_float_array, check_channels, check_int
from cnn_solutions.conv import check_bias

__all__ = ["conv1x1", "conv_mult_count"]


def conv1x1(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Apply a 1x1 convolution: the same dense layer at every pixel.

    Parameters
    ----------
    x : ndarray of shape (H, W, C_in)
    weights : ndarray of shape (C_in, C_out)
    bias : ndarray of shape (C_out,), optional

    Returns
    -------
    out : ndarray of shape (H, W, C_out)
        ``out[i, j] = x[i, j] @ weights + bias``.
    """
    xa = as_float_array(x, "x", (3,))
    w = as_float_array(weights, "weights", (2,))
    check_channels(w.shape[0], xa.shape[2], "weights")
    out = xa @ w
    if bias is not None:
        out += check_bias(bias, w.shape[1])
    return out


def conv_mult_count(h_out: int, w_out: int, f: int, c_in: int, c_out: int) -> int:
    """Multiplications of an ``f x f`` convolution producing ``h_out x w_out x c_out``.

    Every output value is one dot product of length ``f * f * c_in``.
    """
    named = {"h_out": h_out, "w_out": w_out, "f": f, "c_in": c_in, "c_out": c_out}
    h_out, w_out, f, c_in, c_out = (check_int(v, name, 1) for name, v in named.items())
    return h_out * w_out * c_out * f * f * c_in
