"""Pooling layers: global average pooling and max pooling, forward and backward."""

from __future__ import annotations

import numpy as np

from cnn_solutions._validate import as_float_array, check_int, check_window_fits
from cnn_solutions.conv import windows

__all__ = ["gap_forward", "gap_backward", "maxpool_forward", "maxpool_backward"]

PoolCache = tuple[np.ndarray, int, int]


def gap_forward(x: np.ndarray) -> np.ndarray:
    """Global average pooling.

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)

    Returns
    -------
    out : ndarray of shape (N, C)
        The mean of each channel over all ``H * W`` positions.
    """
    return as_float_array(x, "x", (4,)).mean(axis=(1, 2))


def gap_backward(dout: np.ndarray, x_shape: tuple[int, int, int, int]) -> np.ndarray:
    """Backward pass of global average pooling.

    Parameters
    ----------
    dout : ndarray of shape (N, C)
    x_shape : tuple of int
        ``(N, H, W, C)``, the forward input's shape.

    Returns
    -------
    dx : ndarray of shape x_shape
        Every position receives ``dout / (H * W)``: each one contributed that share of the mean.
    """
    g = as_float_array(dout, "dout", (2,))
    shape = tuple(check_int(n, "x_shape entry", 1) for n in x_shape)
    if len(shape) != 4 or g.shape != (shape[0], shape[3]):
        raise ValueError(f"dout of shape {g.shape} does not match x_shape {tuple(x_shape)}")
    n, h, w, c = shape
    return np.broadcast_to(g[:, None, None, :] / (h * w), shape).copy()


def maxpool_forward(x: np.ndarray, size: int, stride: int) -> tuple[np.ndarray, PoolCache]:
    """Max pooling without padding.

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
    size : int
        Window height and width.
    stride : int

    Returns
    -------
    out : ndarray of shape (N, H_out, W_out, C)
        ``H_out = (H - size) // stride + 1``.
    cache : tuple
        ``(x, size, stride)``.
    """
    xa = as_float_array(x, "x", (4,))
    size = check_int(size, "size", 1)
    stride = check_int(stride, "stride", 1)
    check_window_fits(xa.shape[1], size, "height")
    check_window_fits(xa.shape[2], size, "width")
    return windows(xa, (size, size), stride).max(axis=(4, 5)), (x, size, stride)


def maxpool_backward(dout: np.ndarray, cache: PoolCache) -> np.ndarray:
    """Backward pass of max pooling: each window's gradient goes to its maximum.

    Parameters
    ----------
    dout : ndarray of shape (N, H_out, W_out, C)
    cache : tuple
        ``(x, size, stride)`` from :func:`maxpool_forward`.

    Returns
    -------
    dx : ndarray of shape (N, H, W, C)
        Where windows overlap, a position that is the maximum of several collects the sum.
    """
    x, size, stride = cache
    xa = as_float_array(x, "x", (4,))
    g = as_float_array(dout, "dout", (4,))
    cols = windows(xa, (size, size), stride)
    if g.shape != cols.shape[:4]:
        expected = cols.shape[:4]
        raise ValueError(f"dout must have the forward output's shape {expected}, got {g.shape}")
    flat = cols.reshape(*cols.shape[:4], size * size).argmax(axis=-1)
    n, ho, wo, c = np.indices(g.shape, sparse=True)
    rows = ho * stride + flat // size
    columns = wo * stride + flat % size
    dx = np.zeros(xa.shape)
    # add.at accumulates where overlapping windows share a maximum; plain indexing would not.
    np.add.at(dx, (n, rows, columns, c), g)
    return dx
