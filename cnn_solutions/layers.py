"""A convolution layer on a batch, as pure ``forward -> (out, cache)`` / ``backward`` functions."""

from __future__ import annotations

import numpy as np

from cnn_solutions._validate import as_float_array, check_channels, check_int, check_window_fits
from cnn_solutions.conv import check_bias, correlate_batch, windows

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


def _dilate(dout: np.ndarray, stride: int) -> np.ndarray:
    """Insert ``stride - 1`` zeros between output positions, so stride becomes 1."""
    if stride == 1:
        return dout
    n, ho, wo, c = dout.shape
    dilated = np.zeros((n, (ho - 1) * stride + 1, (wo - 1) * stride + 1, c))
    dilated[:, ::stride, ::stride] = dout
    return dilated


def _input_gradient(dout: np.ndarray, w: np.ndarray, padded_hw: tuple[int, int], stride: int):
    """Scatter-add every window's gradient back onto the padded input.

    Overlapping windows must add up, which a full correlation of the (dilated) upstream
    gradient with the rotated kernel does in one vectorised pass.
    """
    kh, kw = w.shape[:2]
    d = _dilate(dout, stride)
    # Rows and columns that no window reached (floor in the size formula) get zero gradient.
    extra_h = padded_hw[0] - (d.shape[1] + kh - 1)
    extra_w = padded_hw[1] - (d.shape[2] + kw - 1)
    d = np.pad(d, [(0, 0), (kh - 1, kh - 1 + extra_h), (kw - 1, kw - 1 + extra_w), (0, 0)])
    rotated = w[::-1, ::-1].transpose(0, 1, 3, 2)
    return correlate_batch(d, rotated, 1, 0)


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
    kh, kw = wa.shape[:2]
    pads = [(0, 0), (padding, padding), (padding, padding), (0, 0)]
    xp = np.pad(xa, pads) if padding else xa
    out_hw = [(xp.shape[i] - wa.shape[i - 1]) // stride + 1 for i in (1, 2)]
    expected = (xa.shape[0], *out_hw, wa.shape[3])
    if g.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {g.shape}")
    cols = windows(xp, (kh, kw), stride)
    dw = np.tensordot(cols, g, axes=([0, 1, 2], [0, 1, 2])).transpose(1, 2, 0, 3)
    db = g.sum(axis=(0, 1, 2))
    dxp = _input_gradient(g, wa, xp.shape[1:3], stride)
    dx = dxp[:, padding : padding + xa.shape[1], padding : padding + xa.shape[2]]
    return np.ascontiguousarray(dx), np.ascontiguousarray(dw), db
