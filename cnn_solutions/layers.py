"""A convolution layer on a batch, as pure ``forward -> (out, cache)`` / ``backward`` functions."""

from __future__ import annotations

import numpy as np

from cnn_solutions._validate import as_float_array, check_channels, check_int, check_window_fits
from cnn_solutions.conv import (
    check_bias,
    correlate_batch,
    im2col,
    kernel_offsets,
    output_hw,
    pad_batch,
)

__all__ = ["conv_forward", "conv_backward"]

ConvCache = tuple[np.ndarray, np.ndarray, np.ndarray, int, int]


def conv_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, ConvCache]:
    """Forward pass of a convolution layer.

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C_in)
    w : ndarray of shape (kh, kw, C_in, C_out)
    b : ndarray of shape (C_out,)
    stride : int, default 1
    padding : int, default 0

    Returns
    -------
    out : ndarray of shape (N, H_out, W_out, C_out)
    cache : tuple
        ``(x, w, b, stride, padding)``, the inputs as given, for :func:`conv_backward`.
    """
    xa = as_float_array(x, "x", (4,))
    wa = as_float_array(w, "w", (4,))
    check_channels(wa.shape[2], xa.shape[3], "w")
    ba = check_bias(b, wa.shape[3])
    stride = check_int(stride, "stride", 1)
    padding = check_int(padding, "padding", 0)
    check_window_fits(xa.shape[1], wa.shape[0], "height", padding)
    check_window_fits(xa.shape[2], wa.shape[1], "width", padding)
    out = correlate_batch(xa, wa, stride, padding)
    out += ba
    return out, (x, w, b, stride, padding)


def conv_backward(dout: np.ndarray, cache: ConvCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of a convolution layer.

    Parameters
    ----------
    dout : ndarray of shape (N, H_out, W_out, C_out)
        Upstream gradient dL/dout.
    cache : tuple
        ``(x, w, b, stride, padding)`` from :func:`conv_forward`.

    Returns
    -------
    dx : ndarray of shape (N, H, W, C_in)
    dw : ndarray of shape (kh, kw, C_in, C_out)
    db : ndarray of shape (C_out,)
    """
    x, w, b, stride, padding = cache
    xa = as_float_array(x, "x", (4,))
    wa = as_float_array(w, "w", (4,))
    g = as_float_array(dout, "dout", (4,))
    xp = pad_batch(xa, padding)
    out_hw = output_hw(xp.shape[1:3], wa.shape, stride)
    expected = (xa.shape[0], *out_hw, wa.shape[3])
    if g.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {g.shape}")
    kh, kw, c_in, c_out = wa.shape
    flat_dout = g.reshape(-1, c_out)
    dw = (im2col(xp, wa.shape, stride).T @ flat_dout).reshape(wa.shape)
    # col2im with channels first: the gradient of every window as one product, laid out
    # (kh, kw, C_in, N, H_out, W_out) so that each kernel offset's += below reads one
    # contiguous block and writes whole rows (measured faster than channels last).
    dcols = (wa.reshape(-1, c_out) @ flat_dout.T).reshape(kh, kw, c_in, *g.shape[:3])
    dxp = np.zeros((c_in, *xp.shape[:3]))
    for a, b, at in kernel_offsets((kh, kw), out_hw, stride):
        dxp[(slice(None), *at)] += dcols[a, b]  # overlapping windows accumulate
    db = np.ones(len(flat_dout)) @ flat_dout  # BLAS sums the rows faster than np.sum
    dx = dxp[:, :, padding : padding + xa.shape[1], padding : padding + xa.shape[2]]
    return np.ascontiguousarray(dx.transpose(1, 2, 3, 0)), dw, db
