"""Sliding a filter over an image: padding, cross-correlation, stride and channels.

"Convolution" here is cross-correlation (the kernel is not flipped), as in every deep
learning framework. All functions return new float64 arrays and never modify inputs.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnn_solutions._validate import as_float_array, check_channels, check_int, check_window_fits

__all__ = [
    "zero_pad",
    "correlate2d",
    "conv2d",
    "conv2d_multi",
    "correlate_batch",
    "im2col",
    "windows",
]


def zero_pad(image: np.ndarray, pad: int) -> np.ndarray:
    """Add ``pad`` rows/columns of zeros on each side of the two spatial axes.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        The image; channels, if any, are not padded.
    pad : int
        Zeros added on each side, ``>= 0``.

    Returns
    -------
    padded : ndarray of shape (H + 2*pad, W + 2*pad) or (H + 2*pad, W + 2*pad, C)
        A new float64 array.
    """
    array = as_float_array(image, "image", (2, 3))
    pad = check_int(pad, "pad", 0)
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, widths)


def windows(x: np.ndarray, size: tuple[int, int], stride: int) -> np.ndarray:
    """Strided view of every window of a batch, without copying.

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
    size : tuple of int
        Window height and width.
    stride : int

    Returns
    -------
    view : ndarray of shape (N, H_out, W_out, C, kh, kw)
        Read-only view; ``H_out = (H - kh) // stride + 1``.
    """
    return sliding_window_view(x, size, axis=(1, 2))[:, ::stride, ::stride]


def kernel_offsets(
    kernel: tuple[int, int], out_hw: tuple[int, int], stride: int
) -> Iterator[tuple[int, int, tuple[slice, ...]]]:
    """For each kernel offset ``(a, b)``, the slice of a padded batch that it multiplies.

    Offset ``(a, b)`` of every window lands on ``x[:, a + i*stride, b + j*stride]``: one
    strided slice covers the whole batch and every output position at once.
    """
    (kh, kw), (ho, wo) = kernel, out_hw
    for a in range(kh):
        for b in range(kw):
            rows = slice(a, a + (ho - 1) * stride + 1, stride)
            cols = slice(b, b + (wo - 1) * stride + 1, stride)
            yield a, b, (slice(None), rows, cols)


def output_hw(padded_hw: tuple[int, ...], kernel: tuple[int, ...], stride: int) -> tuple[int, int]:
    return ((padded_hw[0] - kernel[0]) // stride + 1, (padded_hw[1] - kernel[1]) // stride + 1)


def pad_batch(x: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)]) if padding else x


def im2col(xp: np.ndarray, kernel: tuple[int, ...], stride: int) -> np.ndarray:
    """Every window of a padded batch as one row of a matrix (one contiguous copy).

    Parameters
    ----------
    xp : ndarray of shape (N, H, W, C)
        The batch, already padded.
    kernel : tuple of int
        ``(kh, kw, ...)``; only the window height and width are used.
    stride : int

    Returns
    -------
    cols : ndarray of shape (N * H_out * W_out, kh * kw * C)
        Row ``(n, i, j)`` holds window ``(i, j)`` of image ``n`` in ``(kh, kw, C)`` order,
        the order of ``w.reshape(kh * kw * C, C_out)``.
    """
    kh, kw = kernel[0], kernel[1]
    view = windows(xp, (kh, kw), stride).transpose(0, 1, 2, 4, 5, 3)
    return view.reshape(-1, kh * kw * xp.shape[3])


def correlate_batch(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Cross-correlate a batch with a filter bank (validated float64 inputs).

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C_in)
    w : ndarray of shape (kh, kw, C_in, C_out)
    stride, padding : int

    Returns
    -------
    out : ndarray of shape (N, H_out, W_out, C_out)
    """
    xp = pad_batch(x, padding)
    ho, wo = output_hw(xp.shape[1:3], w.shape, stride)
    # im2col and one matrix product: measured faster than one product per kernel offset
    # (small strided products) and than tensordot on the window view, at 1 and 2 threads
    # (benchmarks/bench_reference.py).
    out = im2col(xp, w.shape, stride) @ w.reshape(-1, w.shape[3])
    return out.reshape(x.shape[0], ho, wo, w.shape[3])


def _check_geometry(shape: tuple[int, ...], kernel: tuple[int, ...], stride, padding):
    stride = check_int(stride, "stride", 1)
    padding = check_int(padding, "padding", 0)
    check_window_fits(shape[0], kernel[0], "height", padding)
    check_window_fits(shape[1], kernel[1], "width", padding)
    return stride, padding


def correlate2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slide ``kernel`` over a single-channel image: no padding, stride 1 ("valid").

    Parameters
    ----------
    image : ndarray of shape (H, W)
    kernel : ndarray of shape (kh, kw)

    Returns
    -------
    out : ndarray of shape (H - kh + 1, W - kw + 1)
        ``out[i, j] = sum(image[i:i+kh, j:j+kw] * kernel)``.
    """
    return conv2d(image, kernel)


def conv2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Single-channel cross-correlation with zero padding and stride.

    Parameters
    ----------
    image : ndarray of shape (H, W)
    kernel : ndarray of shape (kh, kw)
    stride : int, default 1
        Step between windows, on both spatial axes.
    padding : int, default 0
        Zeros added on each side of both spatial axes.

    Returns
    -------
    out : ndarray of shape (H_out, W_out)
        ``H_out = (H + 2*padding - kh) // stride + 1``, likewise ``W_out``.
    """
    img = as_float_array(image, "image", (2,))
    k = as_float_array(kernel, "kernel", (2,))
    stride, padding = _check_geometry(img.shape, k.shape, stride, padding)
    return correlate_batch(img[None, :, :, None], k[:, :, None, None], stride, padding)[0, :, :, 0]


def conv2d_multi(
    x: np.ndarray,
    filters: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int = 1,
    padding: int = 0,
) -> np.ndarray:
    """Multi-channel convolution layer on one image.

    Parameters
    ----------
    x : ndarray of shape (H, W, C_in)
    filters : ndarray of shape (kh, kw, C_in, C_out)
    bias : ndarray of shape (C_out,), optional
    stride : int, default 1
    padding : int, default 0

    Returns
    -------
    out : ndarray of shape (H_out, W_out, C_out)
        Each output channel sums the products over all input channels, plus its bias.
    """
    xa = as_float_array(x, "x", (3,))
    w = as_float_array(filters, "filters", (4,))
    check_channels(w.shape[2], xa.shape[2], "filters")
    stride, padding = _check_geometry(xa.shape, w.shape, stride, padding)
    out = correlate_batch(xa[None], w, stride, padding)[0]
    if bias is not None:
        out += check_bias(bias, w.shape[3])
    return out


def check_bias(bias: np.ndarray, c_out: int) -> np.ndarray:
    """Return ``bias`` as float64 of shape ``(c_out,)``, or raise."""
    b = as_float_array(bias, "bias", (1,))
    if b.shape != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},), one value per filter, got {b.shape}")
    return b
