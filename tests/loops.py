"""Plain-loop reference implementations used only by the tests and the benchmark.

They are written independently of ``cnn_solutions`` (explicit loops over output positions,
no ``sliding_window_view``, no ``einsum``) so that agreement between the two is evidence,
not a tautology. Shapes follow the course contract: channels last, filters
``(kh, kw, C_in, C_out)``, batches ``(N, H, W, C)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def out_size(n: int, f: int, stride: int, padding: int) -> int:
    """Spatial output size ``floor((n + 2p - f) / s) + 1``, by counting window positions."""
    count = 0
    # Count start positions instead of using the formula so the tests compare two methods.
    while count * stride + f <= n + 2 * padding:
        count += 1
    return count


def zero_pad(image: np.ndarray, pad: int) -> np.ndarray:
    """Pad the first two axes of ``image`` with ``pad`` zeros on each side, element by element."""
    h, w = image.shape[:2]
    out = np.zeros((h + 2 * pad, w + 2 * pad) + image.shape[2:], dtype=np.float64)
    for i in range(h):
        for j in range(w):
            out[i + pad, j + pad] = image[i, j]
    return out


def correlate2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid cross-correlation of a 2-D ``image`` with a 2-D ``kernel``, fully scalar loops."""
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            total = 0.0
            for a in range(kh):
                for b in range(kw):
                    total += float(image[i + a, j + b]) * float(kernel[a, b])
            out[i, j] = total
    return out


def conv2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Single-channel cross-correlation with zero padding and stride, scalar loops."""
    padded = zero_pad(image, padding)
    kh, kw = kernel.shape
    ho = out_size(image.shape[0], kh, stride, padding)
    wo = out_size(image.shape[1], kw, stride, padding)
    out = np.zeros((ho, wo))
    for i in range(ho):
        for j in range(wo):
            total = 0.0
            for a in range(kh):
                for b in range(kw):
                    total += padded[i * stride + a, j * stride + b] * float(kernel[a, b])
            out[i, j] = total
    return out


def conv_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """Batched multi-channel convolution ``(N, H, W, C_in) -> (N, H_out, W_out, C_out)``.

    Loops over batch, output rows, output columns and output channels; each step multiplies
    one ``(kh, kw, C_in)`` window by one filter.
    """
    n, h, wd, _ = x.shape
    kh, kw, _, c_out = w.shape
    ho = out_size(h, kh, stride, padding)
    wo = out_size(wd, kw, stride, padding)
    out = np.zeros((n, ho, wo, c_out))
    for k in range(n):
        padded = zero_pad(x[k], padding)
        for i in range(ho):
            for j in range(wo):
                window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw, :]
                for c in range(c_out):
                    out[k, i, j, c] = np.sum(window * w[:, :, :, c])
                    if b is not None:
                        out[k, i, j, c] += b[c]
    return out


def conv2d_multi(
    x: np.ndarray,
    filters: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int = 1,
    padding: int = 0,
) -> np.ndarray:
    """One multi-channel image ``(H, W, C_in)`` -> ``(H_out, W_out, C_out)``."""
    return conv_forward(x[None], filters, bias, stride, padding)[0]


def conv_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dw, db)`` of ``sum(conv_forward(x, w, b) * dout)`` by scattering.

    Every output position sends ``w * dout`` back to the input window it was computed from,
    and ``window * dout`` to the filter.
    """
    n = x.shape[0]
    kh, kw, _, c_out = w.shape
    ho, wo = dout.shape[1:3]
    dw = np.zeros(w.shape)
    db = np.zeros(c_out)
    dx = np.zeros(x.shape)
    for k in range(n):
        padded = zero_pad(x[k], padding)
        dpadded = np.zeros(padded.shape)
        for i in range(ho):
            for j in range(wo):
                rows = slice(i * stride, i * stride + kh)
                cols = slice(j * stride, j * stride + kw)
                for c in range(c_out):
                    g = dout[k, i, j, c]
                    dpadded[rows, cols, :] += w[:, :, :, c] * g
                    dw[:, :, :, c] += padded[rows, cols, :] * g
                    db[c] += g
        dx[k] = dpadded[padding : padding + x.shape[1], padding : padding + x.shape[2], :]
    return dx, dw, db


def conv1x1(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Per-pixel channel mixing ``(H, W, C_in) -> (H, W, C_out)`` with explicit loops."""
    h, w, c_in = x.shape
    c_out = weights.shape[1]
    out = np.zeros((h, w, c_out))
    for i in range(h):
        for j in range(w):
            for o in range(c_out):
                total = 0.0 if bias is None else float(bias[o])
                for c in range(c_in):
                    total += float(x[i, j, c]) * float(weights[c, o])
                out[i, j, o] = total
    return out


def gap_forward(x: np.ndarray) -> np.ndarray:
    """Global average pooling ``(N, H, W, C) -> (N, C)`` by summing pixel by pixel."""
    n, h, w, c = x.shape
    out = np.zeros((n, c))
    for i in range(h):
        for j in range(w):
            out += x[:, i, j, :]
    return out / (h * w)


def gap_backward(dout: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """Gradient of global average pooling: every pixel gets ``dout / (H * W)``."""
    n, h, w, c = x_shape
    dx = np.zeros(x_shape)
    for i in range(h):
        for j in range(w):
            dx[:, i, j, :] = dout / (h * w)
    return dx


def _pool(x: np.ndarray, size: int, stride: int, reduce: Callable) -> np.ndarray:
    n, h, w, c = x.shape
    ho = out_size(h, size, stride, 0)
    wo = out_size(w, size, stride, 0)
    out = np.zeros((n, ho, wo, c))
    for k in range(n):
        for i in range(ho):
            rows = slice(i * stride, i * stride + size)
            for j in range(wo):
                cols = slice(j * stride, j * stride + size)
                for ch in range(c):
                    window = x[k, rows, cols, ch]
                    out[k, i, j, ch] = reduce(window)
    return out


def maxpool_forward(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Max pooling without padding ``(N, H, W, C) -> (N, H_out, W_out, C)``."""
    return _pool(x, size, stride, np.max)


def avgpool_forward(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Average pooling without padding ``(N, H, W, C) -> (N, H_out, W_out, C)``."""
    return _pool(x, size, stride, np.mean)


def maxpool_backward(dout: np.ndarray, x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Route each window's gradient to the position of its maximum (inputs are tie-free)."""
    dx = np.zeros(x.shape)
    n, ho, wo, c = dout.shape
    for k in range(n):
        for i in range(ho):
            rows = slice(i * stride, i * stride + size)
            for j in range(wo):
                cols = slice(j * stride, j * stride + size)
                for ch in range(c):
                    window = x[k, rows, cols, ch]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[k, i * stride + a, j * stride + b, ch] += dout[k, i, j, ch]
    return dx


def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    Works on a private float64 copy, so the caller's ``x`` is never touched. The two outputs
    are subtracted before the weighted sum: outputs that ``x[idx]`` does not affect then cancel
    exactly instead of leaving rounding noise of the size of the whole sum.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = np.asarray(f(x.copy()), dtype=np.float64)
        x[idx] = old - h
        minus = np.asarray(f(x.copy()), dtype=np.float64)
        x[idx] = old
        grad[idx] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """CS231n relative error: ``max |a - b| / max(1e-8, |a| + |b|)``, element-wise."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
