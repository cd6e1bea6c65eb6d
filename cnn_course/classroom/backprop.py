"""Simulated students for 04_conv_backprop: correct work in several styles, and mistakes.

Every function is self-contained as a notebook cell would be (``np`` is imported there);
``function_source`` renames it to the contract name.
"""

from __future__ import annotations

import numpy as np

from cnn_course.classroom import StudentMistake
from cnn_course.grading.backprop import MEAN_SCALE
from cnn_course.grading.backprop_common import (
    AVERAGED_OVER_BATCH,
    DB_NOT_SUMMED,
    DB_WRONG_SIZE,
    DOUT_IGNORED,
    DW_ROTATED,
    DX_ONE_CHANNEL,
    GAP_SCALE_MISSING,
    GAP_WRONG_AXES,
    NOT_CROPPED,
    NOT_UNDONE,
    ONE_SIDED,
    OVERWRITTEN,
    SPREAD,
)
from cnn_course.grading.crashes import CROPPED_EMPTY
from cnn_course.grading.mistakes import (
    BIAS_EVERY_PRODUCT,
    BIAS_FORGOTTEN,
    CHANNELS_NOT_SUMMED,
    FLIPPED,
    OFF_BY_ONE,
    STRIDE_IGNORED,
    TRANSPOSED,
    TRUNCATION,
)

# Shown by the grader when a function changes its input (no "Likely mistake" line).
CHANGED_INPUT = "changed its input x in place"

# --- correct: conv_forward ------------------------------------------------------------


def conv_forward_loops(x, w, b, stride=1, padding=0):
    n, h, wd, c_in = x.shape
    kh, kw, c_in_w, c_out = w.shape
    if c_in_w != c_in:
        raise ValueError(f"w expects {c_in_w} input channels, x has {c_in}")
    if len(b) != c_out:
        raise ValueError(f"b needs {c_out} values, got {len(b)}")
    if stride < 1 or padding < 0:
        raise ValueError("stride must be >= 1 and padding >= 0")
    if kh > h + 2 * padding or kw > wd + 2 * padding:
        raise ValueError("the filter is larger than the padded input")
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, h_out, w_out, c_out))
    for i in range(n):
        for r in range(h_out):
            for c in range(w_out):
                window = xp[i, r * stride : r * stride + kh, c * stride : c * stride + kw, :]
                for k in range(c_out):
                    out[i, r, c, k] = np.sum(window * w[:, :, :, k]) + b[k]
    return out, (x, w, b, stride, padding)


def conv_forward_windows(x, w, b, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view

    kh, kw, c_in, c_out = w.shape
    if x.shape[3] != c_in or np.shape(b) != (c_out,):
        raise ValueError("x, w and b disagree on the number of channels")
    if stride < 1 or padding < 0:
        raise ValueError("stride must be >= 1, padding >= 0")
    xp = np.pad(x.astype(float), [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    if kh > xp.shape[1] or kw > xp.shape[2]:
        raise ValueError("filter does not fit the padded input")
    # windows: (N, H_out, W_out, C_in, kh, kw)
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    out = np.einsum("nijcab,abck->nijk", windows, w) + b
    return out, (x, w, b, stride, padding)


def conv_forward_im2col(x, w, b, stride=1, padding=0):
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    problems = [
        (w.shape[2] != c_in, "channel mismatch"),
        (np.shape(b) != (c_out,), "bias must have shape (C_out,)"),
        (stride < 1, "stride must be at least 1"),
        (padding < 0, "padding must not be negative"),
        (kh > h + 2 * padding or kw > wd + 2 * padding, "filter larger than padded input"),
    ]
    for bad, message in problems:
        if bad:
            raise ValueError(message)
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)]).astype(float)
    h_out = (xp.shape[1] - kh) // stride + 1
    w_out = (xp.shape[2] - kw) // stride + 1
    cols = np.empty((n, h_out, w_out, kh * kw * c_in))
    for r in range(h_out):
        for c in range(w_out):
            patch = xp[:, r * stride : r * stride + kh, c * stride : c * stride + kw, :]
            cols[:, r, c] = patch.reshape(n, -1)
    out = cols @ w.reshape(-1, c_out) + b
    return out, (x, w, b, stride, padding)


def conv_forward_scipy(x, w, b, stride=1, padding=0):
    from scipy.signal import correlate

    kh, kw, c_in, c_out = w.shape
    if x.shape[3] != c_in:
        raise ValueError("channel mismatch between x and w")
    if len(b) != c_out:
        raise ValueError("one bias per filter expected")
    if stride < 1 or padding < 0:
        raise ValueError("invalid stride or padding")
    xp = np.pad(x.astype(float), [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    if kh > xp.shape[1] or kw > xp.shape[2]:
        raise ValueError("filter larger than the padded input")
    n = x.shape[0]
    full = np.zeros((n, xp.shape[1] - kh + 1, xp.shape[2] - kw + 1, c_out))
    for i in range(n):
        for k in range(c_out):
            for c in range(c_in):
                full[i, :, :, k] += correlate(xp[i, :, :, c], w[:, :, c, k], mode="valid")
    out = full[:, ::stride, ::stride] + b
    return out, (x, w, b, stride, padding)


# --- correct: conv_backward -----------------------------------------------------------


def conv_backward_loops(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw, c_in, c_out = w.shape
    xp = np.pad(x.astype(float), [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    n, h_out, w_out, _ = dout.shape
    for i in range(n):
        for r in range(h_out):
            for c in range(w_out):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(c * stride, c * stride + kw)
                for k in range(c_out):
                    # Windows overlap, so gradients must be added, never assigned.
                    dxp[i, rows, cols, :] += w[:, :, :, k] * dout[i, r, c, k]
                    dw[:, :, :, k] += xp[i, rows, cols, :] * dout[i, r, c, k]
    db = dout.sum(axis=(0, 1, 2))
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2], :]
    return dx, dw, db


def conv_backward_offsets(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    xp = np.pad(x.astype(float), [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    _, h_out, w_out, _ = dout.shape
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    # Kernel entry (a, b) meets x at rows a, a+s, a+2s, ... of the padded input.
    for a in range(kh):
        for c in range(kw):
            rows = slice(a, a + stride * h_out, stride)
            cols = slice(c, c + stride * w_out, stride)
            dxp[:, rows, cols, :] += np.einsum("nijk,ck->nijc", dout, w[a, c])
            dw[a, c] = np.einsum("nijc,nijk->ck", xp[:, rows, cols, :], dout)
    dx = dxp[:, padding : xp.shape[1] - padding, padding : xp.shape[2] - padding]
    return dx, dw, np.sum(dout, axis=(0, 1, 2))


def conv_backward_im2col(dout, cache):
    x, w, b, stride, padding = cache
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)]).astype(float)
    _, h_out, w_out, _ = dout.shape
    g = dout.reshape(-1, c_out)  # one row per output position
    cols = np.empty((n, h_out, w_out, kh * kw * c_in))
    for r in range(h_out):
        for c in range(w_out):
            patch = xp[:, r * stride : r * stride + kh, c * stride : c * stride + kw, :]
            cols[:, r, c] = patch.reshape(n, -1)
    dw = (cols.reshape(-1, kh * kw * c_in).T @ g).reshape(w.shape)
    dcols = (g @ w.reshape(-1, c_out).T).reshape(n, h_out, w_out, kh, kw, c_in)
    dxp = np.zeros(xp.shape)
    for r in range(h_out):
        for c in range(w_out):
            dxp[:, r * stride : r * stride + kh, c * stride : c * stride + kw, :] += dcols[:, r, c]
    dx = dxp[:, padding : padding + h, padding : padding + wd]
    return dx, dw, g.sum(axis=0)


def conv_backward_scipy(dout, cache):
    from scipy.signal import convolve, correlate

    x, w, b, stride, padding = cache
    kh, kw, c_in, c_out = w.shape
    xp = np.pad(x.astype(float), [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    n, h_out, w_out, _ = dout.shape
    # Undo the stride: put dout back on the stride-1 grid, zeros in between.
    dil = np.zeros((n, (h_out - 1) * stride + 1, (w_out - 1) * stride + 1, c_out))
    dil[:, ::stride, ::stride] = dout
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for i in range(n):
        for k in range(c_out):
            for c in range(c_in):
                full = convolve(dil[i, :, :, k], w[:, :, c, k], mode="full")
                dxp[i, : full.shape[0], : full.shape[1], c] += full
                grad = correlate(xp[i, :, :, c], dil[i, :, :, k], mode="valid")
                dw[:, :, c, k] += grad[:kh, :kw]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw, dout.sum(axis=(0, 1, 2))


# --- correct: global average pooling --------------------------------------------------


def gap_forward_mean(x):
    return x.mean(axis=(1, 2))


def gap_forward_loops(x):
    n, h, w, c = x.shape
    out = np.zeros((n, c))
    for i in range(n):
        for k in range(c):
            out[i, k] = x[i, :, :, k].sum() / (h * w)
    return out


def gap_forward_einsum(x):
    return np.einsum("nhwc->nc", x.astype(float)) / (x.shape[1] * x.shape[2])


def gap_backward_broadcast(dout, x_shape):
    n, h, w, c = x_shape
    return np.broadcast_to(dout[:, None, None, :] / (h * w), x_shape).copy()


def gap_backward_loops(dout, x_shape):
    n, h, w, c = x_shape
    dx = np.zeros(x_shape)
    for i in range(h):
        for j in range(w):
            dx[:, i, j, :] = dout / (h * w)
    return dx


def gap_backward_ones(dout, x_shape):
    _, h, w, _ = x_shape
    return np.ones(x_shape) * dout.reshape(dout.shape[0], 1, 1, dout.shape[1]) / (h * w)


# --- correct: max pooling -------------------------------------------------------------


def maxpool_forward_loops(x, size, stride):
    n, h, w, c = x.shape
    if stride < 1:
        raise ValueError("stride must be at least 1")
    if size > h or size > w:
        raise ValueError("the pooling window is larger than the input")
    h_out = (h - size) // stride + 1
    w_out = (w - size) // stride + 1
    out = np.zeros((n, h_out, w_out, c))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, i * stride : i * stride + size, j * stride : j * stride + size, :]
            out[:, i, j, :] = window.max(axis=(1, 2))
    return out, (x, size, stride)


def maxpool_forward_windows(x, size, stride):
    from numpy.lib.stride_tricks import sliding_window_view

    if stride < 1 or size > min(x.shape[1], x.shape[2]):
        raise ValueError("invalid pooling: window too large or stride < 1")
    view = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return view.max(axis=(4, 5)).astype(float), (x, size, stride)


def maxpool_forward_offsets(x, size, stride):
    if stride <= 0:
        raise ValueError(f"stride must be positive, got {stride}")
    if size > x.shape[1] or size > x.shape[2]:
        raise ValueError(f"window {size} does not fit the input {x.shape[1:3]}")
    h_out = (x.shape[1] - size) // stride + 1
    w_out = (x.shape[2] - size) // stride + 1
    out = np.full((x.shape[0], h_out, w_out, x.shape[3]), -np.inf)
    for a in range(size):
        for b in range(size):
            shifted = x[:, a : a + stride * h_out : stride, b : b + stride * w_out : stride]
            out = np.maximum(out, shifted)
    return out, (x, size, stride)


def maxpool_backward_loops(dout, cache):
    x, size, stride = cache
    dx = np.zeros(x.shape)
    n, h_out, w_out, c = dout.shape
    for i in range(n):
        for r in range(h_out):
            for q in range(w_out):
                for k in range(c):
                    window = x[i, r * stride : r * stride + size, q * stride : q * stride + size, k]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[i, r * stride + a, q * stride + b, k] += dout[i, r, q, k]
    return dx


def maxpool_backward_mask(dout, cache):
    x, size, stride = cache
    dx = np.zeros(x.shape)
    _, h_out, w_out, _ = dout.shape
    for r in range(h_out):
        for q in range(w_out):
            rows = slice(r * stride, r * stride + size)
            cols = slice(q * stride, q * stride + size)
            window = x[:, rows, cols, :]
            mask = window == window.max(axis=(1, 2), keepdims=True)
            dx[:, rows, cols, :] += mask * dout[:, r : r + 1, q : q + 1, :]
    return dx


def maxpool_backward_offsets(dout, cache):
    x, size, stride = cache
    _, h_out, w_out, _ = dout.shape
    out = np.full(dout.shape, -np.inf)
    for a in range(size):
        for b in range(size):
            out = np.maximum(
                out, x[:, a : a + stride * h_out : stride, b : b + stride * w_out : stride]
            )
    dx = np.zeros(x.shape)
    for a in range(size):
        for b in range(size):
            rows = slice(a, a + stride * h_out, stride)
            cols = slice(b, b + stride * w_out, stride)
            dx[:, rows, cols] += (x[:, rows, cols] == out) * dout
    return dx


# --- correct: numerical_gradient ------------------------------------------------------


def numerical_gradient_loops(f, x, dout, h=1e-5):
    x = x.astype(float)  # a float copy: the caller's x stays as it was
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = np.sum(f(x) * dout)
        x[index] = old - h
        minus = np.sum(f(x) * dout)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_nditer(f, x, dout, h=1e-5):
    point = np.array(x, dtype=float)
    grad = np.zeros(point.shape)
    it = np.nditer(point, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        saved = point[ix]
        point[ix] = saved + h
        fxph = (f(point) * dout).sum()
        point[ix] = saved - h
        fxmh = (f(point) * dout).sum()
        point[ix] = saved
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def numerical_gradient_basis(f, x, dout, h=1e-5):
    grad = np.zeros(np.shape(x))
    for i in range(grad.size):
        step = np.zeros(grad.shape)
        step.flat[i] = h
        loss_plus = np.sum(f(x + step) * dout)
        loss_minus = np.sum(f(x - step) * dout)
        grad.flat[i] = (loss_plus - loss_minus) / (2 * h)
    return grad


# --- correct: the worked example ------------------------------------------------------

ARITHMETIC_ANSWERS = {
    "example_output": (
        "example_output = np.zeros((2, 2))\n"
        "for i in range(2):\n"
        "    for j in range(2):\n"
        "        example_output[i, j] = np.sum(X[i:i + 2, j:j + 2] * F)"
    ),
    "example_y": (
        "windows = [np.sum(X[i:i + 2, j:j + 2] * F) for i in range(2) for j in range(2)]\n"
        "example_y = sum(windows) / 4"
    ),
    "example_dF": (
        "# dy/dF[a, b] = 1/4 * sum over windows (i, j) of X[i + a, j + b]\n"
        "example_dF = np.array([[X[a:a + 2, b:b + 2].sum() for b in range(2)]"
        " for a in range(2)]) / 4"
    ),
    "example_dX": (
        "example_dX = np.zeros((3, 3))\n"
        "for i in range(2):\n"
        "    for j in range(2):\n"
        "        example_dX[i:i + 2, j:j + 2] += F / 4"
    ),
}

# The worked example comes before the layer functions in the notebook, so these styles
# use NumPy and SciPy directly.
WINDOW_ANSWERS = {
    "example_output": (
        "from numpy.lib.stride_tricks import sliding_window_view\n\n"
        'example_output = np.einsum("ijab,ab->ij", sliding_window_view(X, (2, 2)), F)'
    ),
    "example_y": (
        "from numpy.lib.stride_tricks import sliding_window_view\n\n"
        'example_y = float(np.einsum("ijab,ab->", sliding_window_view(X, (2, 2)), F)) / 4'
    ),
    "example_dF": (
        "from numpy.lib.stride_tricks import sliding_window_view\n\n"
        "dout = np.full((2, 2), 0.25)\n"
        'example_dF = np.einsum("ijab,ij->ab", sliding_window_view(X, (2, 2)), dout)'
    ),
    "example_dX": (
        "example_dX = np.zeros((3, 3))\n"
        "for i, j in np.ndindex(2, 2):\n"
        "    example_dX[i:i + 2, j:j + 2] = example_dX[i:i + 2, j:j + 2] + 0.25 * F"
    ),
}

SCIPY_ANSWERS = {
    "example_output": (
        'from scipy.signal import correlate2d\n\nexample_output = correlate2d(X, F, mode="valid")'
    ),
    "example_y": (
        'from scipy.signal import correlate2d\n\nexample_y = correlate2d(X, F, mode="valid").mean()'
    ),
    "example_dF": (
        "from scipy.signal import correlate2d\n\n"
        'example_dF = correlate2d(X, np.full((2, 2), 1 / 4), mode="valid")'
    ),
    "example_dX": (
        "from scipy.signal import convolve2d\n\n"
        "# the full convolution of dy/dout with F scatters every window's share\n"
        "example_dX = convolve2d(np.full((2, 2), 1 / 4), F)"
    ),
}

TYPED_ANSWERS = {
    "example_output": "example_output = np.array([[10.0, 6.0], [10.0, 18.0]])",
    "example_y": "example_y = 44 / 4",
    "example_dF": "example_dF = np.array([[9, 14], [8, 3]]) / 4",
    "example_dX": "example_dX = np.array([[0, 3, 3], [1, 2, 1], [1, -1, -2]]) / 4",
}

CORRECT_STYLES = {
    "loops": {
        "conv_forward": conv_forward_loops,
        "conv_backward": conv_backward_loops,
        "gap_forward": gap_forward_loops,
        "gap_backward": gap_backward_loops,
        "maxpool_forward": maxpool_forward_loops,
        "maxpool_backward": maxpool_backward_loops,
        "numerical_gradient": numerical_gradient_loops,
        **ARITHMETIC_ANSWERS,
    },
    "vectorised": {
        "conv_forward": conv_forward_windows,
        "conv_backward": conv_backward_offsets,
        "gap_forward": gap_forward_mean,
        "gap_backward": gap_backward_broadcast,
        "maxpool_forward": maxpool_forward_windows,
        "maxpool_backward": maxpool_backward_offsets,
        "numerical_gradient": numerical_gradient_nditer,
        **WINDOW_ANSWERS,
    },
    "im2col": {
        "conv_forward": conv_forward_im2col,
        "conv_backward": conv_backward_im2col,
        "gap_forward": gap_forward_einsum,
        "gap_backward": gap_backward_ones,
        "maxpool_forward": maxpool_forward_offsets,
        "maxpool_backward": maxpool_backward_mask,
        "numerical_gradient": numerical_gradient_basis,
        **TYPED_ANSWERS,
    },
    "scipy": {
        "conv_forward": conv_forward_scipy,
        "conv_backward": conv_backward_scipy,
        "gap_forward": gap_forward_mean,
        "gap_backward": gap_backward_broadcast,
        "maxpool_forward": maxpool_forward_windows,
        "maxpool_backward": maxpool_backward_mask,
        "numerical_gradient": numerical_gradient_loops,
        **SCIPY_ANSWERS,
    },
}

# --- mistakes: conv_forward -----------------------------------------------------------


def conv_forward_no_bias(x, w, b, stride=1, padding=0):
    if x.shape[3] != w.shape[2] or len(b) != w.shape[3] or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    if w.shape[0] > x.shape[1] + 2 * padding:
        raise ValueError("filter too large")
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    kh, kw, _, c_out = w.shape
    h_out = (xp.shape[1] - kh) // stride + 1
    w_out = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], h_out, w_out, c_out))
    for r in range(h_out):
        for c in range(w_out):
            window = xp[:, r * stride : r * stride + kh, c * stride : c * stride + kw, :]
            out[:, r, c, :] = np.tensordot(window, w, axes=([1, 2, 3], [0, 1, 2]))
    return out, (x, w, b, stride, padding)


def conv_forward_flipped(x, w, b, stride=1, padding=0):
    from scipy.signal import convolve

    kh, kw, c_in, c_out = w.shape
    if x.shape[3] != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    xp = np.pad(x.astype(float), [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    if kh > xp.shape[1] or kw > xp.shape[2]:
        raise ValueError("filter too large")
    full = np.zeros((x.shape[0], xp.shape[1] - kh + 1, xp.shape[2] - kw + 1, c_out))
    for i in range(x.shape[0]):
        for k in range(c_out):
            for c in range(c_in):
                full[i, :, :, k] += convolve(xp[i, :, :, c], w[:, :, c, k], mode="valid")
    return full[:, ::stride, ::stride] + b, (x, w, b, stride, padding)


def conv_forward_last_channel(x, w, b, stride=1, padding=0):
    kh, kw, c_in, c_out = w.shape
    if x.shape[3] != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    if kh > x.shape[1] + 2 * padding:
        raise ValueError("filter too large")
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    h_out = (xp.shape[1] - kh) // stride + 1
    w_out = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], h_out, w_out, c_out))
    for n in range(x.shape[0]):
        for r in range(h_out):
            for q in range(w_out):
                for k in range(c_out):
                    for c in range(c_in):
                        patch = xp[n, r * stride : r * stride + kh, q * stride : q * stride + kw, c]
                        out[n, r, q, k] = np.sum(patch * w[:, :, c, k]) + b[k]
    return out, (x, w, b, stride, padding)


def conv_forward_stride_ignored(x, w, b, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view

    kh, kw, c_in, c_out = w.shape
    if x.shape[3] != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    if kh > xp.shape[1] or kw > xp.shape[2]:
        raise ValueError("filter too large")
    h_out = (xp.shape[1] - kh) // stride + 1
    w_out = (xp.shape[2] - kw) // stride + 1
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, :h_out, :w_out]
    return np.einsum("nijcab,abck->nijk", windows, w) + b, (x, w, b, stride, padding)


def conv_forward_caches_padded(x, w, b, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view

    kh, kw, c_in, c_out = w.shape
    if x.shape[3] != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    x = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    if kh > x.shape[1] or kw > x.shape[2]:
        raise ValueError("filter too large")
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abck->nijk", windows, w) + b, (x, w, b, stride, padding)


def conv_forward_int_output(x, w, b, stride=1, padding=0):
    kh, kw, c_in, c_out = w.shape
    if x.shape[3] != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    if kh > xp.shape[1] or kw > xp.shape[2]:
        raise ValueError("filter too large")
    h_out = (xp.shape[1] - kh) // stride + 1
    w_out = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], h_out, w_out, c_out), dtype=x.dtype)
    for r in range(h_out):
        for q in range(w_out):
            window = xp[:, r * stride : r * stride + kh, q * stride : q * stride + kw, :]
            out[:, r, q, :] = np.tensordot(window, w, axes=3) + b
    return out, (x, w, b, stride, padding)


# --- mistakes: conv_backward ----------------------------------------------------------


def conv_forward_bias_in_every_product(x, w, b, stride=1, padding=0):
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    if w.shape[2] != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    if kh > h + 2 * padding or kw > wd + 2 * padding:
        raise ValueError("filter too large")
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, h_out, w_out, c_out))
    for i in range(n):
        for r in range(h_out):
            for c in range(w_out):
                window = xp[i, r * stride : r * stride + kh, c * stride : c * stride + kw, :]
                for k in range(c_out):
                    out[i, r, c, k] = np.sum(window * w[:, :, :, k] + b[k])
    return out, (x, w, b, stride, padding)


def conv_forward_float_of_slice(x, w, b, stride=1, padding=0):
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    if w.shape[2] != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    if kh > h + 2 * padding or kw > wd + 2 * padding:
        raise ValueError("filter too large")
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    out = np.zeros(
        (n, (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1, c_out)
    )
    for i, r, c, k in np.ndindex(out.shape):
        window = xp[i, r * stride : r * stride + kh, c * stride : c * stride + kw, :]
        # The Coursera template's conv_single_step: Z = float(Z + b), b of shape (1, 1, 1)
        out[i, r, c, k] = float(np.sum(window * w[:, :, :, k]) + b[k : k + 1])
    return out, (x, w, b, stride, padding)


def conv_forward_square_filter(x, w, b, stride=1, padding=0):
    n, h, wd, c_in = x.shape
    f, f, c_in_w, c_out = w.shape  # (f, f, n_C_prev, n_C) = W.shape, as in the template
    if c_in_w != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    if f > h + 2 * padding or f > wd + 2 * padding:
        raise ValueError("filter too large")
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    h_out = (h + 2 * padding - f) // stride + 1
    w_out = (wd + 2 * padding - f) // stride + 1
    out = np.zeros((n, h_out, w_out, c_out))
    for i, r, c, k in np.ndindex(out.shape):
        window = xp[i, r * stride : r * stride + f, c * stride : c * stride + f, :]
        out[i, r, c, k] = np.sum(window * w[:, :, :, k]) + b[k]
    return out, (x, w, b, stride, padding)


def conv_forward_true_division(x, w, b, stride=1, padding=0):
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    if w.shape[2] != c_in or len(b) != c_out or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    if kh > h + 2 * padding or kw > wd + 2 * padding:
        raise ValueError("filter too large")
    h_out = (h + 2 * padding - kh) / stride + 1  # / where // was meant
    w_out = (wd + 2 * padding - kw) / stride + 1
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    out = np.zeros((n, h_out, w_out, c_out))
    for i, r, c, k in np.ndindex(out.shape):
        window = xp[i, r * stride : r * stride + kh, c * stride : c * stride + kw, :]
        out[i, r, c, k] = np.sum(window * w[:, :, :, k]) + b[k]
    return out, (x, w, b, stride, padding)


def numerical_gradient_np_float(f, x, dout, h=1e-5):
    point = x.astype(np.float)  # noqa: NPY001 -- the alias NumPy removed, as students wrote it
    grad = np.zeros(point.shape)
    for index in np.ndindex(point.shape):
        old = point[index]
        point[index] = old + h
        plus = np.sum(f(point) * dout)
        point[index] = old - h
        minus = np.sum(f(point) * dout)
        point[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def conv_backward_crop_minus_p(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw, c_in, c_out = w.shape
    p = padding
    xp = np.pad(x.astype(float), [(0, 0), (p, p), (p, p), (0, 0)])
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    n, h_out, w_out, _ = dout.shape
    for i in range(n):
        for r in range(h_out):
            for c in range(w_out):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(c * stride, c * stride + kw)
                for k in range(c_out):
                    dxp[i, rows, cols, :] += w[:, :, :, k] * dout[i, r, c, k]
                    dw[:, :, :, k] += xp[i, rows, cols, :] * dout[i, r, c, k]
    db = dout.sum(axis=(0, 1, 2))
    return dxp[:, p:-p, p:-p, :], dw, db  # the Coursera hint: empty when p == 0


def conv_backward_averaged(dout, cache):
    x, w, b, stride, padding = cache
    m = x.shape[0]
    kh, kw = w.shape[:2]
    xp = np.pad(x.astype(float), [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp, dw = np.zeros_like(xp), np.zeros(w.shape)
    for i in range(m):
        for r in range(dout.shape[1]):
            for c in range(dout.shape[2]):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(c * stride, c * stride + kw)
                dxp[i, rows, cols] += np.tensordot(w, dout[i, r, c], axes=([3], [0]))
                dw += xp[i, rows, cols, :, None] * dout[i, r, c]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw / m, dout.sum(axis=(0, 1, 2)) / m  # "mean over the batch", as for a loss


def conv_backward_dw_rotated(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    xp = np.pad(x.astype(float), [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp, dw = np.zeros_like(xp), np.zeros(w.shape)
    for i, r, c in np.ndindex(dout.shape[:3]):
        rows = slice(r * stride, r * stride + kh)
        cols = slice(c * stride, c * stride + kw)
        dxp[i, rows, cols] += np.tensordot(w, dout[i, r, c], axes=([3], [0]))
        dw += xp[i, rows, cols, :, None] * dout[i, r, c]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    # "backpropagation through a convolution is a flipped convolution" (for dx, not dw)
    return dx, np.rot90(dw, 2, axes=(0, 1)), dout.sum(axis=(0, 1, 2))


def maxpool_backward_steps_by_size(dout, cache):
    x, size, stride = cache
    dx = np.zeros(x.shape)
    n, h_out, w_out, c = dout.shape
    for i in range(n):
        for r in range(h_out):
            for q in range(w_out):
                for k in range(c):
                    top, left = r * size, q * size  # the stride forgotten
                    window = x[i, top : top + size, left : left + size, k]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[i, top + a, left + b, k] += dout[i, r, q, k]
    return dx


def conv_backward_assigned(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for n in range(dout.shape[0]):
        for r in range(dout.shape[1]):
            for q in range(dout.shape[2]):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(q * stride, q * stride + kw)
                dxp[n, rows, cols, :] = w @ dout[n, r, q]  # overwrites the window before
                dw += xp[n, rows, cols, :, None] * dout[n, r, q]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw, dout.sum(axis=(0, 1, 2))


def conv_backward_uncropped(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dx = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for n in range(dout.shape[0]):
        for r in range(dout.shape[1]):
            for q in range(dout.shape[2]):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(q * stride, q * stride + kw)
                dx[n, rows, cols, :] += w @ dout[n, r, q]
                dw += xp[n, rows, cols, :, None] * dout[n, r, q]
    return dx, dw, dout.sum(axis=(0, 1, 2))


def conv_backward_db_last_example(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for n in range(dout.shape[0]):
        db = dout[n].sum(axis=(0, 1))  # reset for every example
        for r in range(dout.shape[1]):
            for q in range(dout.shape[2]):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(q * stride, q * stride + kw)
                dxp[n, rows, cols, :] += w @ dout[n, r, q]
                dw += xp[n, rows, cols, :, None] * dout[n, r, q]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw, db


def conv_backward_db_total(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for n in range(dout.shape[0]):
        for r in range(dout.shape[1]):
            for q in range(dout.shape[2]):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(q * stride, q * stride + kw)
                dxp[n, rows, cols, :] += w @ dout[n, r, q]
                dw += xp[n, rows, cols, :, None] * dout[n, r, q]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw, np.sum(dout)  # one number for all filters


def conv_backward_flipped(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    flipped = w[::-1, ::-1]  # "backprop is a convolution with the flipped kernel"
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for n in range(dout.shape[0]):
        for r in range(dout.shape[1]):
            for q in range(dout.shape[2]):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(q * stride, q * stride + kw)
                dxp[n, rows, cols, :] += flipped @ dout[n, r, q]
                dw += xp[n, rows, cols, :, None] * dout[n, r, q]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw, dout.sum(axis=(0, 1, 2))


def conv_backward_stride_ignored(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for n in range(dout.shape[0]):
        for r in range(dout.shape[1]):
            for q in range(dout.shape[2]):
                dxp[n, r : r + kh, q : q + kw, :] += w @ dout[n, r, q]
                dw += xp[n, r : r + kh, q : q + kw, :, None] * dout[n, r, q]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw, dout.sum(axis=(0, 1, 2))


def conv_backward_first_filter(dout, cache):
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    xp = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)])
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for n in range(dout.shape[0]):
        for r in range(dout.shape[1]):
            for q in range(dout.shape[2]):
                rows = slice(r * stride, r * stride + kh)
                cols = slice(q * stride, q * stride + kw)
                dxp[n, rows, cols, :] += w[:, :, :, 0] * dout[n, r, q, 0]
                dw += xp[n, rows, cols, :, None] * dout[n, r, q]
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
    return dx, dw, dout.sum(axis=(0, 1, 2))


# --- mistakes: pooling ----------------------------------------------------------------


def gap_forward_sum(x):
    return x.sum(axis=(1, 2)).astype(float)


def gap_forward_channels_first(x):
    return x.mean(axis=(2, 3))


def gap_forward_int_output(x):
    n, h, w, c = x.shape
    out = np.zeros((n, c), dtype=x.dtype)
    for i in range(n):
        for k in range(c):
            out[i, k] = np.mean(x[i, :, :, k])
    return out


def gap_backward_unscaled(dout, x_shape):
    return np.broadcast_to(dout[:, None, None, :], x_shape).astype(float)


def gap_backward_batch_mean(dout, x_shape):
    n, h, w, c = x_shape
    return np.broadcast_to(dout[:, None, None, :], x_shape) / (n * h * w)


def gap_backward_plain_broadcast(dout, x_shape):
    n, h, w, c = x_shape
    return np.broadcast_to(dout / (h * w), x_shape).copy()


def maxpool_forward_average(x, size, stride):
    if stride < 1 or size > x.shape[1] or size > x.shape[2]:
        raise ValueError("invalid pooling")
    h_out = (x.shape[1] - size) // stride + 1
    w_out = (x.shape[2] - size) // stride + 1
    out = np.zeros((x.shape[0], h_out, w_out, x.shape[3]))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, i * stride : i * stride + size, j * stride : j * stride + size]
            out[:, i, j] = window.mean(axis=(1, 2))
    return out, (x, size, stride)


def maxpool_forward_step_is_size(x, size, stride):
    if stride < 1 or size > x.shape[1] or size > x.shape[2]:
        raise ValueError("invalid pooling")
    h_out = (x.shape[1] - size) // stride + 1
    w_out = (x.shape[2] - size) // stride + 1
    out = np.zeros((x.shape[0], h_out, w_out, x.shape[3]))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, i * size : i * size + size, j * size : j * size + size]
            out[:, i, j] = window.max(axis=(1, 2))
    return out, (x, size, stride)


def maxpool_forward_short(x, size, stride):
    if stride < 1 or size > x.shape[1] or size > x.shape[2]:
        raise ValueError("invalid pooling")
    h_out = (x.shape[1] - size) // stride  # + 1 forgotten
    w_out = (x.shape[2] - size) // stride
    out = np.zeros((x.shape[0], h_out, w_out, x.shape[3]))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, i * stride : i * stride + size, j * stride : j * stride + size]
            out[:, i, j] = window.max(axis=(1, 2))
    return out, (x, size, stride)


def maxpool_backward_spread(dout, cache):
    x, size, stride = cache
    dx = np.zeros(x.shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            rows = slice(i * stride, i * stride + size)
            cols = slice(j * stride, j * stride + size)
            dx[:, rows, cols, :] += dout[:, i : i + 1, j : j + 1, :]
    return dx


def maxpool_backward_mask_assigned(dout, cache):
    x, size, stride = cache
    dx = np.zeros(x.shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            rows = slice(i * stride, i * stride + size)
            cols = slice(j * stride, j * stride + size)
            window = x[:, rows, cols, :]
            mask = window == window.max(axis=(1, 2), keepdims=True)
            dx[:, rows, cols, :] = mask * dout[:, i : i + 1, j : j + 1, :]
    return dx


def maxpool_backward_col_row(dout, cache):
    x, size, stride = cache
    dx = np.zeros(x.shape)
    for n, i, j, c in np.ndindex(dout.shape):
        window = x[n, i * stride : i * stride + size, j * stride : j * stride + size, c]
        k = np.argmax(window)
        dx[n, i * stride + k % size, j * stride + k // size, c] += dout[n, i, j, c]
    return dx


def maxpool_backward_int_dx(dout, cache):
    x, size, stride = cache
    dx = np.zeros_like(x)
    for n, i, j, c in np.ndindex(dout.shape):
        window = x[n, i * stride : i * stride + size, j * stride : j * stride + size, c]
        a, b = np.unravel_index(np.argmax(window), window.shape)
        dx[n, i * stride + a, j * stride + b, c] += dout[n, i, j, c]
    return dx


# --- mistakes: numerical_gradient -----------------------------------------------------


def numerical_gradient_no_dout(f, x, dout, h=1e-5):
    x = x.astype(float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = np.sum(f(x))
        x[index] = old - h
        minus = np.sum(f(x))
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_forward(f, x, dout, h=1e-5):
    x = x.astype(float)
    base = np.sum(f(x) * dout)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        grad[index] = (np.sum(f(x) * dout) - base) / h
        x[index] = old
    return grad


def numerical_gradient_in_place(f, x, dout, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = np.sum(f(x) * dout)
        x[index] -= 2 * h
        minus = np.sum(f(x) * dout)
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_not_restored(f, x, dout, h=1e-5):
    x = x.astype(float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = np.sum(f(x) * dout)
        x[index] -= 2 * h
        minus = np.sum(f(x) * dout)
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_int_copy(f, x, dout, h=1e-5):
    x = x.copy()
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = np.sum(f(x) * dout)
        x[index] = old - h
        minus = np.sum(f(x) * dout)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_fixed_step(f, x, dout, h=1e-5):
    step = 1e-5
    x = x.astype(float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + step
        plus = np.sum(f(x) * dout)
        x[index] = old - step
        minus = np.sum(f(x) * dout)
        x[index] = old
        grad[index] = (plus - minus) / (2 * step)
    return grad


def _lost(function: str, *aspects: str) -> tuple[str, ...]:
    return tuple(f"{function}_{aspect}" for aspect in aspects)


CONV_FORWARD_ALL = ("basic", "channels", "bias", "stride_padding", "integer")
CONV_BACKWARD_ALL = ("basic", "channels", "batch", "padding", "stride")

MISTAKES = [
    StudentMistake(
        "conv_forward",
        "bias forgotten",
        conv_forward_no_bias,
        BIAS_FORGOTTEN,
        _lost("conv_forward", "bias", "stride_padding"),
    ),
    StudentMistake(
        "conv_forward",
        "float() of a bias slice (NumPy 2)",
        conv_forward_float_of_slice,
        "float() or int() of an array",
        _lost("conv_forward", *CONV_FORWARD_ALL),
    ),
    StudentMistake(
        "conv_forward",
        "one f for both filter sides",
        conv_forward_square_filter,
        "a square filter assumed",
        _lost("conv_forward", "basic", "channels", "stride_padding"),
    ),
    StudentMistake(
        "conv_forward",
        "output size with /",
        conv_forward_true_division,
        "a size or position computed with /",
        _lost("conv_forward", *CONV_FORWARD_ALL),
    ),
    StudentMistake(
        "conv_forward",
        "bias inside the sum",
        conv_forward_bias_in_every_product,
        BIAS_EVERY_PRODUCT,
        _lost("conv_forward", "bias", "stride_padding"),
    ),
    StudentMistake(
        "conv_forward",
        "scipy convolve (flips)",
        conv_forward_flipped,
        FLIPPED,
        _lost("conv_forward", *CONV_FORWARD_ALL),
    ),
    StudentMistake(
        "conv_forward",
        "= instead of += over channels",
        conv_forward_last_channel,
        CHANNELS_NOT_SUMMED,
        _lost("conv_forward", "channels", "bias"),
    ),
    StudentMistake(
        "conv_forward",
        "stride ignored",
        conv_forward_stride_ignored,
        STRIDE_IGNORED,
        _lost("conv_forward", "stride_padding"),
    ),
    StudentMistake(
        "conv_forward",
        "padded x cached",
        conv_forward_caches_padded,
        "padded input cached",
        _lost("conv_forward", "stride_padding"),
    ),
    StudentMistake(
        "conv_forward",
        "output with x's integer dtype",
        conv_forward_int_output,
        TRUNCATION,
        _lost("conv_forward", "integer"),
    ),
    StudentMistake(
        "conv_backward",
        "dx assigned, not accumulated",
        conv_backward_assigned,
        OVERWRITTEN,
        _lost("conv_backward", *CONV_BACKWARD_ALL),
    ),
    StudentMistake(
        "conv_backward",
        "padding cropped with p:-p",
        conv_backward_crop_minus_p,
        CROPPED_EMPTY,
        _lost("conv_backward", "basic", "channels", "batch", "stride"),
    ),
    StudentMistake(
        "conv_backward",
        "dw and db divided by the batch size",
        conv_backward_averaged,
        AVERAGED_OVER_BATCH,
        _lost("conv_backward", "batch", "padding", "stride"),
    ),
    StudentMistake(
        "conv_backward",
        "dw rotated by 180 degrees",
        conv_backward_dw_rotated,
        DW_ROTATED,
        _lost("conv_backward", *CONV_BACKWARD_ALL),
    ),
    StudentMistake(
        "conv_backward",
        "padding not cropped",
        conv_backward_uncropped,
        NOT_CROPPED,
        _lost("conv_backward", "padding", "stride"),
    ),
    StudentMistake(
        "conv_backward",
        "db from the last example only",
        conv_backward_db_last_example,
        DB_NOT_SUMMED,
        _lost("conv_backward", "batch", "padding", "stride"),
    ),
    StudentMistake(
        "conv_backward",
        "db summed over the channels too",
        conv_backward_db_total,
        DB_WRONG_SIZE,
        _lost("conv_backward", *CONV_BACKWARD_ALL),
    ),
    StudentMistake(
        "conv_backward",
        "kernel flipped for dx",
        conv_backward_flipped,
        FLIPPED,
        _lost("conv_backward", *CONV_BACKWARD_ALL),
    ),
    StudentMistake(
        "conv_backward",
        "stride ignored",
        conv_backward_stride_ignored,
        STRIDE_IGNORED,
        _lost("conv_backward", "stride"),
    ),
    StudentMistake(
        "conv_backward",
        "dx from the first filter only",
        conv_backward_first_filter,
        DX_ONE_CHANNEL,
        _lost("conv_backward", "channels", "batch"),
    ),
    StudentMistake(
        "gap_forward",
        "sum instead of mean",
        gap_forward_sum,
        "sum instead of mean",
        _lost("gap_forward", "basic", "batch", "integer"),
    ),
    StudentMistake(
        "gap_forward",
        "channels-first axes",
        gap_forward_channels_first,
        GAP_WRONG_AXES,
        _lost("gap_forward", "basic", "batch", "integer"),
    ),
    StudentMistake(
        "gap_forward",
        "output with x's integer dtype",
        gap_forward_int_output,
        TRUNCATION,
        _lost("gap_forward", "integer"),
    ),
    StudentMistake(
        "gap_backward",
        "1/(H*W) forgotten",
        gap_backward_unscaled,
        GAP_SCALE_MISSING,
        _lost("gap_backward", "basic", "batch"),
    ),
    StudentMistake(
        "gap_backward",
        "divided by N*H*W",
        gap_backward_batch_mean,
        "divided by the batch size too",
        _lost("gap_backward", "batch"),
    ),
    StudentMistake(
        "gap_backward",
        "dout broadcast without new axes",
        gap_backward_plain_broadcast,
        "batch axis broadcast onto the width",
        _lost("gap_backward", "batch"),
    ),
    StudentMistake(
        "maxpool_forward",
        "average pooling",
        maxpool_forward_average,
        "average instead of max",
        _lost("maxpool_forward", "basic", "overlap", "batch"),
    ),
    StudentMistake(
        "maxpool_forward",
        "window steps by size",
        maxpool_forward_step_is_size,
        STRIDE_IGNORED,
        _lost("maxpool_forward", "overlap"),
    ),
    StudentMistake(
        "maxpool_forward",
        "+ 1 forgotten in the size",
        maxpool_forward_short,
        OFF_BY_ONE,
        _lost("maxpool_forward", "basic", "overlap", "batch"),
    ),
    StudentMistake(
        "maxpool_backward",
        "gradient to every window position",
        maxpool_backward_spread,
        SPREAD,
        _lost("maxpool_backward", "basic", "overlap", "batch", "integer"),
    ),
    StudentMistake(
        "maxpool_backward",
        "window mask assigned",
        maxpool_backward_mask_assigned,
        OVERWRITTEN,
        _lost("maxpool_backward", "overlap"),
    ),
    StudentMistake(
        "maxpool_backward",
        "argmax unravelled as (col, row)",
        maxpool_backward_col_row,
        TRANSPOSED,
        _lost("maxpool_backward", "basic", "overlap", "batch", "integer"),
    ),
    StudentMistake(
        "maxpool_backward",
        "windows placed by the size, not the stride",
        maxpool_backward_steps_by_size,
        STRIDE_IGNORED,
        _lost("maxpool_backward", "overlap"),
    ),
    StudentMistake(
        "maxpool_backward",
        "dx with x's integer dtype",
        maxpool_backward_int_dx,
        TRUNCATION,
        _lost("maxpool_backward", "integer"),
    ),
    StudentMistake(
        "numerical_gradient",
        "np.float (removed from NumPy)",
        numerical_gradient_np_float,
        "np.int / np.float used",
        _lost("numerical_gradient", "basic", "dout", "layers", "step", "integer"),
    ),
    StudentMistake(
        "numerical_gradient",
        "dout ignored",
        numerical_gradient_no_dout,
        DOUT_IGNORED,
        _lost("numerical_gradient", "dout", "layers", "step"),
    ),
    StudentMistake(
        "numerical_gradient",
        "forward difference",
        numerical_gradient_forward,
        ONE_SIDED,
        _lost("numerical_gradient", "basic", "dout", "step"),
    ),
    StudentMistake(
        "numerical_gradient",
        "x perturbed in place",
        numerical_gradient_in_place,
        CHANGED_INPUT,
        _lost("numerical_gradient", "basic", "dout", "layers", "step", "integer"),
    ),
    StudentMistake(
        "numerical_gradient",
        "perturbation never undone",
        numerical_gradient_not_restored,
        NOT_UNDONE,
        _lost("numerical_gradient", "dout"),
    ),
    StudentMistake(
        "numerical_gradient",
        "integer copy of x",
        numerical_gradient_int_copy,
        TRUNCATION,
        _lost("numerical_gradient", "integer"),
    ),
    StudentMistake(
        "numerical_gradient",
        "h hard-coded",
        numerical_gradient_fixed_step,
        "step h ignored",
        _lost("numerical_gradient", "step"),
    ),
    StudentMistake(
        "example_output",
        "kernel flipped",
        "example_output = np.array([[np.sum(X[i:i+2, j:j+2] * F[::-1, ::-1])"
        " for j in range(2)] for i in range(2)])",
        FLIPPED,
        ("example_output_check",),
    ),
    StudentMistake(
        "example_output",
        "the answer sheet's O",
        "example_output = np.array([[10.0, 3.0], [9.0, 18.0]])",
        "the worked answer sheet's slip",
        ("example_output_check",),
    ),
    StudentMistake(
        "example_y",
        "the answer sheet's y",
        "example_y = 10.0",
        "the worked answer sheet's slip",
        ("example_y_check",),
    ),
    StudentMistake(
        "example_y",
        "sum instead of mean",
        "example_y = float(sum(np.sum(X[i:i+2, j:j+2] * F) for i in range(2) for j in range(2)))",
        "sum instead of mean",
        ("example_y_check",),
    ),
    StudentMistake(
        "example_dF",
        "1/4 forgotten",
        "example_dF = np.array([[X[a:a+2, b:b+2].sum() for b in range(2)] for a in range(2)])",
        MEAN_SCALE,
        ("example_dF_check",),
    ),
    StudentMistake(
        "example_dX",
        "windows assigned, not added",
        "example_dX = np.zeros((3, 3))\n"
        "for i in range(2):\n"
        "    for j in range(2):\n"
        "        example_dX[i:i+2, j:j+2] = F / 4",
        OVERWRITTEN,
        ("example_dX_check",),
    ),
    StudentMistake(
        "example_dX",
        "1/4 forgotten",
        "example_dX = np.zeros((3, 3))\n"
        "for i in range(2):\n"
        "    for j in range(2):\n"
        "        example_dX[i:i+2, j:j+2] += F",
        MEAN_SCALE,
        ("example_dX_check",),
    ),
]
