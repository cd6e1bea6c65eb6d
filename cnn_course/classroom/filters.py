"""Simulated students for 01_filters: correct work in three styles, and typical mistakes.

Functions here are written the way students write them and are placed into notebooks by
:func:`cnn_course.classroom.function_source`, which renames ``conv2d_loops`` to
``conv2d``. Each function is self-contained (numpy is imported by the notebook), so a
mistake in one function never changes the result of another.
"""

from __future__ import annotations

import numpy as np

from cnn_course.classroom import StudentMistake
from cnn_course.grading.filters import (
    CHANNELS_PADDED,
    EDGE_PADDED,
    FULL_CORRELATION,
    KERNEL_TRANSPOSED,
    RESULT_PADDED,
    WRONG_PAD_AMOUNT,
)
from cnn_course.grading.mistakes import (
    BIAS_FORGOTTEN,
    BIAS_PER_CHANNEL,
    CHANNELS_AVERAGED,
    CHANNELS_NOT_SUMMED,
    FLIPPED,
    OFF_BY_ONE,
    ONE_SIDE,
    PADDING_IGNORED,
    STRIDE_IGNORED,
    TRANSPOSED,
    TRUNCATION,
)

# --- style "loops": explicit loops over output positions ------------------------------


def zero_pad_loops(image, pad):
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    h, w = image.shape[:2]
    out = np.zeros((h + 2 * pad, w + 2 * pad) + image.shape[2:])
    for i in range(h):
        for j in range(w):
            out[i + pad, j + pad] = image[i, j]
    return out


def correlate2d_loops(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            total = 0.0
            for a in range(kh):
                for b in range(kw):
                    total += image[i + a, j + b] * kernel[a, b]
            out[i, j] = total
    return out


def conv2d_loops(image, kernel, stride=1, padding=0):
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    h, w = image.shape
    kh, kw = kernel.shape
    if kh > h + 2 * padding or kw > w + 2 * padding:
        raise ValueError("the kernel is larger than the padded image")
    padded = np.zeros((h + 2 * padding, w + 2 * padding))
    padded[padding : padding + h, padding : padding + w] = image
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    out = np.zeros((h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = np.sum(window * kernel)
    return out


def conv2d_multi_loops(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in:
        raise ValueError(f"filters have {f_in} input channels, x has {c_in}")
    if bias is not None and np.shape(bias) != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},), got {np.shape(bias)}")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    if kh > h + 2 * padding or kw > w + 2 * padding:
        raise ValueError("the filters are larger than the padded input")
    padded = np.zeros((h + 2 * padding, w + 2 * padding, c_in))
    padded[padding : padding + h, padding : padding + w, :] = x
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * filters[:, :, :, k])
                if bias is not None:
                    out[i, j, k] += bias[k]
    return out


LAPLACIAN_BY_HAND = """padded = np.zeros((7, 7))
padded[1:6, 1:6] = line_image
laplacian_response = np.zeros((5, 5))
for i in range(5):
    for j in range(5):
        laplacian_response[i, j] = np.sum(padded[i : i + 3, j : j + 3] * laplacian)
"""

# --- style "vectorised": np.pad, sliding windows and einsum ----------------------------


def zero_pad_vectorised(image, pad):
    if pad < 0:
        raise ValueError("pad must not be negative")
    image = np.asarray(image, dtype=float)
    return np.pad(image, [(pad, pad), (pad, pad)] + [(0, 0)] * (image.ndim - 2))


def correlate2d_vectorised(image, kernel):
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(np.asarray(image, dtype=float), kernel.shape)
    return np.einsum("ijab,ab->ij", windows, kernel)


def conv2d_vectorised(image, kernel, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view

    if padding < 0 or stride < 1:
        raise ValueError(f"need padding >= 0 and stride >= 1, got {padding} and {stride}")
    padded = np.pad(np.asarray(image, dtype=float), padding)
    if kernel.shape[0] > padded.shape[0] or kernel.shape[1] > padded.shape[1]:
        raise ValueError("kernel larger than the padded image")
    windows = sliding_window_view(padded, kernel.shape)[::stride, ::stride]
    return np.einsum("ijab,ab->ij", windows, kernel)


def conv2d_multi_vectorised(x, filters, bias=None, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view

    kh, kw, c_in, c_out = filters.shape
    if x.shape[2] != c_in:
        raise ValueError("channel mismatch between x and filters")
    if padding < 0 or stride < 1:
        raise ValueError("invalid padding or stride")
    padded = np.pad(np.asarray(x, dtype=float), [(padding, padding), (padding, padding), (0, 0)])
    if kh > padded.shape[0] or kw > padded.shape[1]:
        raise ValueError("filters larger than the padded input")
    windows = sliding_window_view(padded, (kh, kw), axis=(0, 1))[::stride, ::stride]
    out = np.einsum("ijcab,abck->ijk", windows, filters)
    if bias is not None:
        if np.shape(bias) != (c_out,):
            raise ValueError("bias needs one value per filter")
        out = out + bias
    return out


# --- style "scipy": scipy.signal does the sliding ---------------------------------------


def zero_pad_scipy(image, pad):
    if pad < 0:
        raise ValueError("negative pad")
    h, w = image.shape[:2]
    out = np.zeros((h + 2 * pad, w + 2 * pad, *image.shape[2:]))
    out[pad : pad + h, pad : pad + w, ...] = image
    return out


def correlate2d_scipy(image, kernel):
    from scipy import signal

    return signal.correlate2d(image, kernel, mode="valid").astype(float)


def conv2d_scipy(image, kernel, stride=1, padding=0):
    from scipy import signal

    if padding < 0:
        raise ValueError("padding must be >= 0")
    if stride < 1:
        raise ValueError("stride must be >= 1")
    padded = np.pad(image.astype(float), padding)
    if any(k > n for k, n in zip(kernel.shape, padded.shape, strict=True)):
        raise ValueError("kernel does not fit in the padded image")
    return signal.correlate2d(padded, kernel, mode="valid")[::stride, ::stride]


def conv2d_multi_scipy(x, filters, bias=None, stride=1, padding=0):
    from scipy import signal

    if filters.shape[2] != x.shape[2]:
        raise ValueError("filters and x have different channel counts")
    if bias is not None and len(bias) != filters.shape[3]:
        raise ValueError("one bias per filter expected")
    if padding < 0 or stride < 1:
        raise ValueError("bad padding or stride")
    padded = np.pad(x.astype(float), ((padding, padding), (padding, padding), (0, 0)))
    if filters.shape[0] > padded.shape[0] or filters.shape[1] > padded.shape[1]:
        raise ValueError("filters larger than the padded input")
    maps = []
    for k in range(filters.shape[3]):
        total = sum(
            signal.correlate2d(padded[:, :, c], filters[:, :, c, k], mode="valid")
            for c in range(x.shape[2])
        )
        maps.append(total[::stride, ::stride] + (0 if bias is None else bias[k]))
    return np.stack(maps, axis=-1)


CORRECT_STYLES = {
    "loops": {
        "zero_pad": zero_pad_loops,
        "correlate2d": correlate2d_loops,
        "conv2d": conv2d_loops,
        "conv2d_multi": conv2d_multi_loops,
        "laplacian_response": LAPLACIAN_BY_HAND,
    },
    "vectorised": {
        "zero_pad": zero_pad_vectorised,
        "correlate2d": correlate2d_vectorised,
        "conv2d": conv2d_vectorised,
        "conv2d_multi": conv2d_multi_vectorised,
        "laplacian_response": "laplacian_response = conv2d(line_image, laplacian, padding=1)\n",
    },
    "scipy": {
        "zero_pad": zero_pad_scipy,
        "correlate2d": correlate2d_scipy,
        "conv2d": conv2d_scipy,
        "conv2d_multi": conv2d_multi_scipy,
        "laplacian_response": (
            "from scipy.signal import correlate2d as scipy_correlate2d\n\n"
            "laplacian_response = scipy_correlate2d(line_image, laplacian, mode='same')\n"
        ),
    },
}

# --- mistakes -----------------------------------------------------------------------


def zero_pad_all_axes(image, pad):
    return np.pad(image.astype(float), pad)


def zero_pad_one_side(image, pad):
    h, w = image.shape[:2]
    out = np.zeros((h + pad, w + pad) + image.shape[2:])
    out[pad:, pad:] = image
    return out


def zero_pad_half(image, pad):
    half = pad // 2  # read `pad` as the total added to each axis
    widths = [(half, half), (half, half)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image.astype(float), widths)


def correlate2d_flipped(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            for a in range(kh):
                for b in range(kw):
                    out[i, j] += image[i + a, j + b] * kernel[kh - 1 - a, kw - 1 - b]
    return out


def correlate2d_off_by_one(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh, w - kw))
    for i in range(h - kh):
        for j in range(w - kw):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def correlate2d_int_output(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1), dtype=image.dtype)
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def correlate2d_transposed(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    out = np.zeros((w - kw + 1, h - kh + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            out[j, i] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def conv2d_no_padding(image, kernel, stride=1, padding=0):
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    kh, kw = kernel.shape
    if kh > image.shape[0] + 2 * padding or kw > image.shape[1] + 2 * padding:
        raise ValueError("kernel larger than the padded image")
    h_out = (image.shape[0] - kh) // stride + 1
    w_out = (image.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = np.sum(
                image[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel
            )
    return out


def conv2d_pad_one_side(image, kernel, stride=1, padding=0):
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    h, w = image.shape
    kh, kw = kernel.shape
    if kh > h + 2 * padding or kw > w + 2 * padding:
        raise ValueError("kernel larger than the padded image")
    padded = np.zeros((h + padding, w + padding))
    padded[padding:, padding:] = image
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = np.sum(
                padded[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel
            )
    return out


def conv2d_windows_not_strided(image, kernel, stride=1, padding=0):
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    kh, kw = kernel.shape
    padded = np.pad(image.astype(float), padding)
    if kh > padded.shape[0] or kw > padded.shape[1]:
        raise ValueError("kernel larger than the padded image")
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = np.sum(padded[i : i + kh, j : j + kw] * kernel)
    return out


def conv2d_int_output(image, kernel, stride=1, padding=0):
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    kh, kw = kernel.shape
    padded = np.pad(image, padding)
    if kh > padded.shape[0] or kw > padded.shape[1]:
        raise ValueError("kernel larger than the padded image")
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out), dtype=image.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = np.sum(window * kernel)
    return out


def conv2d_flipped(image, kernel, stride=1, padding=0):
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    kh, kw = kernel.shape
    padded = np.pad(image.astype(float), padding)
    if kh > padded.shape[0] or kw > padded.shape[1]:
        raise ValueError("kernel larger than the padded image")
    flipped = kernel[::-1, ::-1]  # "convolution" as in a signals course
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = np.sum(window * flipped)
    return out


def conv2d_multi_no_bias(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in or (bias is not None and len(bias) != c_out):
        raise ValueError("filters or bias do not match x")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    padded = np.pad(x.astype(float), [(padding, padding), (padding, padding), (0, 0)])
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * filters[:, :, :, k])
    return out


def conv2d_multi_first_channel(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in or (bias is not None and len(bias) != c_out):
        raise ValueError("filters or bias do not match x")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    padded = np.pad(x[:, :, 0].astype(float), padding)
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for k in range(c_out):
        for i in range(h_out):
            for j in range(w_out):
                window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
                out[i, j, k] = np.sum(window * filters[:, :, 0, k])
        if bias is not None:
            out[:, :, k] += bias[k]
    return out


def conv2d_multi_bias_per_channel(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in or (bias is not None and len(bias) != c_out):
        raise ValueError("filters or bias do not match x")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    padded = np.pad(x.astype(float), [(padding, padding), (padding, padding), (0, 0)])
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for k in range(c_out):
        for c in range(c_in):
            for i in range(h_out):
                for j in range(w_out):
                    window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw, c]
                    out[i, j, k] += np.sum(window * filters[:, :, c, k])
            if bias is not None:
                out[:, :, k] += bias[k]
    return out


def conv2d_multi_channel_mean(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in or (bias is not None and len(bias) != c_out):
        raise ValueError("filters or bias do not match x")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    padded = np.pad(x.astype(float), [(padding, padding), (padding, padding), (0, 0)])
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            for k in range(c_out):
                per_channel = np.sum(window * filters[:, :, :, k], axis=(0, 1))
                out[i, j, k] = per_channel.mean()
                if bias is not None:
                    out[i, j, k] += bias[k]
    return out


def conv2d_multi_int_output(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in or (bias is not None and len(bias) != c_out):
        raise ValueError("filters or bias do not match x")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    padded = np.pad(x, [(padding, padding), (padding, padding), (0, 0)])
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * filters[:, :, :, k]) + (
                    0 if bias is None else bias[k]
                )
    return out


def conv2d_multi_kernel_transposed(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in or (bias is not None and np.shape(bias) != (c_out,)):
        raise ValueError("filters or bias do not fit x")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    padded = np.pad(x, [(padding, padding), (padding, padding), (0, 0)])
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            for k in range(c_out):
                total = 0.0
                for a in range(kh):
                    for b in range(kw):
                        pixel = padded[
                            i * stride + b, j * stride + a, :
                        ]  # rows and columns mixed up
                        total += np.sum(pixel * filters[a, b, :, k])
                out[i, j, k] = total + (bias[k] if bias is not None else 0)
    return out


def conv2d_multi_filter_axes(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in or (bias is not None and len(bias) != c_out):
        raise ValueError("filters or bias do not match x")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    padded = np.pad(x.astype(float), [(padding, padding), (padding, padding), (0, 0)])
    h_out = (padded.shape[0] - kh) // stride + 1
    w_out = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * filters[:, :, k])  # indexes C_in, not C_out
                if bias is not None:
                    out[i, j, k] += bias[k]
    return out


def _cells(function: str, *aspects: str) -> tuple[str, ...]:
    return tuple(f"{function}_{aspect}" for aspect in aspects)


MISTAKES = [
    StudentMistake(
        "zero_pad",
        "pads the channel axis too",
        zero_pad_all_axes,
        CHANNELS_PADDED,
        _cells("zero_pad", "channels"),
    ),
    StudentMistake(
        "zero_pad",
        "pads only before the first row and column",
        zero_pad_one_side,
        ONE_SIDE,
        _cells("zero_pad", "basic", "channels"),
    ),
    StudentMistake(
        "zero_pad",
        "reads pad as the total, half on each side",
        zero_pad_half,
        WRONG_PAD_AMOUNT,
        _cells("zero_pad", "basic", "channels"),
    ),
    StudentMistake(
        "correlate2d",
        "flips the kernel",
        correlate2d_flipped,
        FLIPPED,
        _cells("correlate2d", "basic", "nonsquare", "integer"),
    ),
    StudentMistake(
        "correlate2d",
        "loops to H - kh instead of H - kh + 1",
        correlate2d_off_by_one,
        OFF_BY_ONE,
        _cells("correlate2d", "basic", "nonsquare", "integer"),
    ),
    StudentMistake(
        "correlate2d",
        "output array with the image's integer dtype",
        correlate2d_int_output,
        TRUNCATION,
        _cells("correlate2d", "integer"),
    ),
    StudentMistake(
        "correlate2d",
        "output laid out (W, H)",
        correlate2d_transposed,
        TRANSPOSED,
        _cells("correlate2d", "basic"),
    ),
    StudentMistake(
        "conv2d",
        "never pads",
        conv2d_no_padding,
        PADDING_IGNORED,
        _cells("conv2d", "padding", "stride_padding"),
    ),
    StudentMistake(
        "conv2d",
        "pads only before the first row and column",
        conv2d_pad_one_side,
        ONE_SIDE,
        _cells("conv2d", "padding", "stride_padding"),
    ),
    StudentMistake(
        "conv2d",
        "strided output size, but windows move one cell at a time",
        conv2d_windows_not_strided,
        STRIDE_IGNORED,
        _cells("conv2d", "stride", "stride_padding"),
    ),
    StudentMistake(
        "conv2d",
        "output array with the image's integer dtype",
        conv2d_int_output,
        TRUNCATION,
        _cells("conv2d", "integer"),
    ),
    StudentMistake(
        "conv2d",
        "flips the kernel",
        conv2d_flipped,
        FLIPPED,
        _cells("conv2d", "basic", "padding", "stride", "stride_padding", "integer"),
    ),
    StudentMistake(
        "conv2d_multi",
        "never adds the bias",
        conv2d_multi_no_bias,
        BIAS_FORGOTTEN,
        _cells("conv2d_multi", "bias", "stride_padding", "integer"),
    ),
    StudentMistake(
        "conv2d_multi",
        "kernel rows and columns swapped",
        conv2d_multi_kernel_transposed,
        KERNEL_TRANSPOSED,
        _cells("conv2d_multi", "basic", "channels", "bias", "stride_padding", "integer"),
    ),
    StudentMistake(
        "conv2d_multi",
        "uses only the first input channel",
        conv2d_multi_first_channel,
        CHANNELS_NOT_SUMMED,
        _cells("conv2d_multi", "channels"),
    ),
    StudentMistake(
        "conv2d_multi",
        "adds the bias once per input channel",
        conv2d_multi_bias_per_channel,
        BIAS_PER_CHANNEL,
        _cells("conv2d_multi", "bias"),
    ),
    StudentMistake(
        "conv2d_multi",
        "averages over the input channels",
        conv2d_multi_channel_mean,
        CHANNELS_AVERAGED,
        _cells("conv2d_multi", "channels"),
    ),
    StudentMistake(
        "conv2d_multi",
        "output array with the input's integer dtype",
        conv2d_multi_int_output,
        TRUNCATION,
        _cells("conv2d_multi", "integer"),
    ),
    StudentMistake(
        "conv2d_multi",
        "filters[:, :, k] instead of filters[:, :, :, k]",
        conv2d_multi_filter_axes,
        TRANSPOSED,
        _cells("conv2d_multi", "bias"),
    ),
    StudentMistake(
        "laplacian_response",
        "no padding",
        "laplacian_response = correlate2d(line_image, laplacian)\n",
        PADDING_IGNORED,
        ("laplacian_response_check",),
    ),
    StudentMistake(
        "laplacian_response",
        "scipy's default mode='full'",
        "from scipy.signal import correlate2d as full_correlate\n\n"
        "laplacian_response = full_correlate(line_image, laplacian)\n",
        FULL_CORRELATION,
        ("laplacian_response_check",),
    ),
    StudentMistake(
        "laplacian_response",
        "scipy.ndimage's default reflecting edge",
        "from scipy import ndimage\n\n"
        "laplacian_response = ndimage.correlate(line_image, laplacian)\n",
        EDGE_PADDED,
        ("laplacian_response_check",),
    ),
    StudentMistake(
        "laplacian_response",
        "pads the result instead of the image",
        "laplacian_response = zero_pad(correlate2d(line_image, laplacian), 1)\n",
        RESULT_PADDED,
        ("laplacian_response_check",),
    ),
]


# --- an endless loop: not in MISTAKES, whose every entry names a diagnosable mistake --------


def conv2d_multi_while(x, filters, bias=None, stride=1, padding=0):
    h, w, c_in = x.shape
    kh, kw, f_in, c_out = filters.shape
    if f_in != c_in:
        raise ValueError(f"filters have {f_in} input channels, x has {c_in}")
    padded = np.pad(x.astype(float), ((padding, padding), (padding, padding), (0, 0)))
    out = np.zeros(
        ((h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1, c_out)
    )
    i = 0
    while i < out.shape[0]:
        j = 0
        while j < out.shape[1]:
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * filters[:, :, :, k])
            j += 1
        # i += 1 is missing: the first row is computed again and again
    return out + (0 if bias is None else bias)


ENDLESS_LOOP = StudentMistake(
    "conv2d_multi",
    "while loop whose row counter never advances",
    conv2d_multi_while,
    "endless loop",
    _cells("conv2d_multi", "basic", "channels", "bias", "stride_padding", "integer", "errors"),
)
