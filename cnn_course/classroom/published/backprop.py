"""Published implementations of backprop's contract functions (see the package).

Layout changes made to every entry: NCHW -> NHWC (N, H, W, C), CS231n's w (F, C, HH, WW) ->
(kh, kw, C_in, C_out), Coursera's b (1, 1, 1, C_out) -> (C_out,), the ``conv_param`` /
``hparameters`` dictionaries -> the contract's ``stride``, ``padding`` and ``size``
arguments, the cache -> the contract's tuple. Forward passes that do not check their
arguments get the contract's checks prepended (``_conv_checks``, ``_pool_checks``) so that
the entry is graded on what it computes.
"""

from __future__ import annotations

from cnn_course.classroom.published import Published
from cnn_course.grading.backprop_common import (
    DX_NEVER_FILLED,
    GAP_EXTRA_AXIS,
    OVERWRITTEN,
    UPPER_NOT_EVALUATED,
)
from cnn_course.grading.crashes import CROPPED_EMPTY, FLOAT_SIZE, WINDOWS_TILE
from cnn_course.grading.mistakes import BIAS_EVERY_PRODUCT, TRUNCATION

CONV_CHECKS = """
def _conv_checks(x, w, b, stride, padding):
    if x.shape[3] != w.shape[2] or len(b) != w.shape[3] or stride < 1 or padding < 0:
        raise ValueError("invalid arguments")
    if w.shape[0] > x.shape[1] + 2 * padding or w.shape[1] > x.shape[2] + 2 * padding:
        raise ValueError("filter larger than the padded input")
"""

POOL_CHECKS = """
def _pool_checks(x, size, stride):
    if stride < 1 or size > x.shape[1] or size > x.shape[2]:
        raise ValueError("invalid pooling")
"""

CHECKS_ADDED = "argument checks of the contract added"

PUBLISHED: list[Published] = [
    # --- conv_forward ------------------------------------------------------------------
    Published(
        "conv_forward",
        "kaiweihuang/CS231n: assignment2/cs231n/layers.py",
        CONV_CHECKS
        + """
def conv_forward(x, w, b, stride=1, padding=0):
    _conv_checks(x, w, b, stride, padding)
    N, H, W, C = x.shape
    HH, WW, _, F = w.shape
    pad = padding
    H_prime = int(((H - HH + 2 * pad) / stride) + 1)
    W_prime = int(((W - WW + 2 * pad) / stride) + 1)
    out = np.zeros((N, H_prime, W_prime, F))
    x_pad = np.zeros((N, H + 2 * pad, W + 2 * pad, C))
    for n in range(N):
        for c in range(C):
            x_pad[n, :, :, c] = np.pad(x[n, :, :, c], (pad, pad), "constant",
                                       constant_values=(0, 0))
    for n in range(N):
        for h_prime in range(H_prime):
            for w_prime in range(W_prime):
                for f in range(F):
                    current_x = x_pad[n, h_prime * stride:h_prime * stride + HH,
                                      w_prime * stride:w_prime * stride + WW, :]
                    current_w = w[:, :, :, f]
                    out[n, h_prime, w_prime, f] = np.sum(current_x * current_w)
                out[n, h_prime, w_prime, :] += b
    cache = (x, w, b, stride, padding)
    return out, cache
""",
        adapted=CHECKS_ADDED,
    ),
    Published(
        "conv_forward",
        "redman157/tensorflow-build-example: CNN-step-by-step.py",
        CONV_CHECKS
        + """
def zero_pad(X, pad):
    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), "constant", constant_values=0)
    return X_pad

def conv_single_step(A_prev, W, b):
    s = np.multiply(A_prev, W) + b
    Z = np.sum(s)
    return Z

def conv_forward(x, w, b, stride=1, padding=0):
    _conv_checks(x, w, b, stride, padding)
    A_prev, W, pad = x, w, padding
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    n_H = int((n_H_prev - f + 2 * pad) / stride) + 1
    n_W = int((n_W_prev - f + 2 * pad) / stride) + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            for w_ in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w_ * stride
                    horiz_end = horiz_start + f
                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    Z[i, h, w_, c] = conv_single_step(a_slice_prev, W[..., c], b[..., c])
    cache = (x, w, b, stride, padding)
    return Z, cache
""",
        mistake=BIAS_EVERY_PRODUCT,
        adapted=CHECKS_ADDED,
    ),
    Published(
        "conv_forward",
        "Clarence-G/learngit: cs231n/assignment2/conv1.py",
        CONV_CHECKS
        + """
def conv_forward(x, w, b, stride=1, padding=0):
    _conv_checks(x, w, b, stride, padding)
    pad = padding
    N, H, W, C = x.shape
    HH, WW, C, F = w.shape
    x_padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant")
    H_new = 1 + (H + 2 * pad - HH) / stride
    W_new = 1 + (W + 2 * pad - WW) / stride
    s = stride
    out = np.zeros((N, H_new, W_new, F))
    for i in range(N):
        for f in range(F):
            for j in range(H_new):
                for k in range(W_new):
                    out[i, j, k, f] = np.sum(
                        x_padded[i, j * s:HH + j * s, k * s:WW + k * s, :] * w[:, :, :, f]
                    ) + b[f]
    cache = (x, w, b, stride, padding)
    return out, cache
""",
        mistake=FLOAT_SIZE,
        adapted=CHECKS_ADDED + "; Python 2's xrange -> range (so / is true division)",
    ),
    # --- conv_backward -----------------------------------------------------------------
    Published(
        "conv_backward",
        "kaiweihuang/CS231n: assignment2/cs231n/layers.py",
        """
def conv_backward(dout, cache):
    x, w, b, stride, pad = cache
    N, H, W, C = x.shape
    _, H_prime, W_prime, F = dout.shape
    HH, WW, _, _ = w.shape
    db = np.zeros((F))
    dw = np.zeros((HH, WW, C, F))
    dx_pad = np.zeros((N, H + 2 * pad, W + 2 * pad, C))
    x_pad = np.zeros((N, H + 2 * pad, W + 2 * pad, C))
    for n in range(N):
        for c in range(C):
            x_pad[n, :, :, c] = np.pad(x[n, :, :, c], (pad, pad), "constant",
                                       constant_values=(0, 0))
    for n in range(N):
        for h_prime in range(H_prime):
            for w_prime in range(W_prime):
                db += dout[n, h_prime, w_prime, :]
    for n in range(N):
        for f in range(F):
            for h_prime in range(H_prime):
                for w_prime in range(W_prime):
                    current_x = x_pad[n, h_prime * stride:h_prime * stride + HH,
                                      w_prime * stride:w_prime * stride + WW, :]
                    dw[:, :, :, f] += dout[n, h_prime, w_prime, f] * current_x
                    dx_pad[n, h_prime * stride:h_prime * stride + HH,
                           w_prime * stride:w_prime * stride + WW, :] += (
                        dout[n, h_prime, w_prime, f] * w[:, :, :, f])
    dx = dx_pad[:, pad:H + pad, pad:W + pad, :]
    return dx, dw, db
""",
    ),
    Published(
        "conv_backward",
        "Clarence-G/learngit: cs231n/assignment2/conv1.py",
        """
def conv_backward(dout, cache):
    x, w, b, stride, pad = cache
    HH, WW, C, F = w.shape
    N, H, W, C = x.shape
    H_new = 1 + (H + 2 * pad - HH) / stride
    W_new = 1 + (W + 2 * pad - WW) / stride
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    s = stride
    x_padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), "constant")
    dx_padded = np.pad(dx, ((0, 0), (pad, pad), (pad, pad), (0, 0)), "constant")
    for i in range(N):
        for f in range(F):
            for j in range(H_new):
                for k in range(W_new):
                    window = x_padded[i, j * s:HH + j * s, k * s:WW + k * s, :]
                    db[f] += dout[i, j, k, f]
                    dw[:, :, :, f] += window * dout[i, j, k, f]
                    dx_padded[i, j * s:HH + j * s, k * s:WW + k * s, :] += (
                        w[:, :, :, f] * dout[i, j, k, f])
    dx = dx_padded[:, pad:pad + H, pad:pad + W, :]
    return dx, dw, db
""",
        mistake=FLOAT_SIZE,
        adapted="Python 2's xrange -> range (so / is true division)",
    ),
    Published(
        "conv_backward",
        "DmrfCoder/CourseraAi: ConvolutionModel/Convolution_model-Step_by_Step.md",
        """
def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), "constant")

def conv_backward(dZ, cache):
    (A_prev, W, b, stride, pad) = cache
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    (m, n_H, n_W, n_C) = dZ.shape
    dA_prev = np.zeros(shape=(m, n_H_prev, n_W_prev, n_C_prev))
    dW = np.zeros(shape=(f, f, n_C_prev, n_C))
    db = np.zeros(shape=(n_C,))
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = h * stride + f
                    horiz_start = w * stride
                    horiz_end = w * stride + f
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    try:
                        da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += (
                            W[:, :, :, c] * dZ[i, h, w, c])
                    except Exception:
                        a = 0
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[c] += dZ[i, h, w, c]
        dA_prev_pad[i, :, :, :] = da_prev_pad
    return dA_prev, dW, db
""",
        mistake=DX_NEVER_FILLED,
    ),
    Published(
        "conv_backward",
        "redman157/tensorflow-build-example: CNN-step-by-step.py",
        """
def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), "constant", constant_values=0)

def conv_backward(dZ, cache):
    (A_prev, W, b, stride, pad) = cache
    (f, f, n_C_prev, n_C) = W.shape
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (m, n_H, n_W, n_C) = dZ.shape
    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))
    dW = np.zeros((f, f, n_C_prev, n_C))
    db = np.zeros((n_C,))
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    vert_start = h * stride
                    vert_end = vert_start + f
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += (
                        W[:, :, :, c] * dZ[i, h, w, c])
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[c] += dZ[i, h, w, c]
        dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]
    return dA_prev, dW, db
""",
        mistake=CROPPED_EMPTY,
        adapted="its syntax slips fixed (`for i range(m)`, the return indented into the loop)",
    ),
    Published(
        "conv_backward",
        "Enzo949494/holbertonschool-machine_learning: supervised_learning/cnn/2-conv_backward.py",
        """
def conv_backward(dZ, cache):
    A_prev, W, b, stride, padding = cache
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
    m, h_new, w_new, c_new = dZ.shape
    sh, sw = stride, stride
    pad_h, pad_w = padding, padding
    dA_prev = np.zeros_like(A_prev, dtype=float)
    dW = np.zeros_like(W, dtype=float)
    db = np.zeros_like(b, dtype=float)
    A_prev_pad = np.pad(A_prev, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)),
                        mode="constant")
    dA_prev_pad = np.pad(dA_prev, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)),
                         mode="constant")
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(h_new):
            for w in range(w_new):
                for c in range(c_new):
                    vert_start = h * sh
                    vert_end = vert_start + kh
                    horiz_start = w * sw
                    horiz_end = horiz_start + kw
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += (
                        W[:, :, :, c] * dZ[i, h, w, c])
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[c] += dZ[i, h, w, c]
        if padding > 0:
            dA_prev[i, :, :, :] = da_prev_pad[pad_h:-pad_h, pad_w:-pad_w, :]
        else:
            dA_prev[i, :, :, :] = da_prev_pad
    return dA_prev, dW, db
""",
        adapted="padding 'same'/'valid' -> the explicit padding (cropped only when > 0); "
        "dtype=float on the zeros_like",
    ),
    # --- maxpool_forward ---------------------------------------------------------------
    Published(
        "maxpool_forward",
        "kaiweihuang/CS231n: assignment2/cs231n/layers.py",
        POOL_CHECKS
        + """
def maxpool_forward(x, size, stride):
    _pool_checks(x, size, stride)
    N, H, W, C = x.shape
    pool_height = pool_width = size
    H_out = int(((H - pool_height) / stride) + 1)
    W_out = int(((W - pool_width) / stride) + 1)
    out = np.zeros((N, H_out, W_out, C))
    for n in range(N):
        for c in range(C):
            for h in range(H_out):
                for w in range(W_out):
                    current_x = x[n, h * stride:h * stride + pool_height,
                                  w * stride:w * stride + pool_width, c]
                    out[n, h, w, c] = np.max(current_x)
    cache = (x, size, stride)
    return out, cache
""",
        adapted=CHECKS_ADDED,
    ),
    Published(
        "maxpool_forward",
        "DameDollaForThree/CS231n-assignment2: cs231n/layers.py",
        POOL_CHECKS
        + """
def maxpool_forward(x, size, stride):
    _pool_checks(x, size, stride)
    pool_height = pool_width = size
    N, H, W, C = x.shape
    H_ = int(1 + (H - pool_height) / stride)
    W_ = int(1 + (W - pool_width) / stride)
    out = np.zeros((N, H_, W_, C))
    i = 0
    for image in x.transpose(0, 3, 1, 2):
        curr_out = np.zeros((C, H_, W_))
        j = 0
        for channel in image:
            curr_out_channel = np.zeros((H_, W_))
            a, c = 0, 0
            while a + pool_height <= H:
                b, d = 0, 0
                while b + pool_width <= W:
                    curr_data = channel[a:a + pool_height, b:b + pool_width]
                    curr_out_channel[c][d] = np.max(curr_data)
                    b += stride
                    d += 1
                a += stride
                c += 1
            curr_out[j] = curr_out_channel
            j += 1
        out[i] = curr_out.transpose(1, 2, 0)
        i += 1
    cache = (x, size, stride)
    return out, cache
""",
        adapted=CHECKS_ADDED,
    ),
    Published(
        "maxpool_forward",
        "nazimshoikot/LENS: CNN/utils/max_pooling_functions.py",
        POOL_CHECKS
        + """
def maxpool_forward(x, size, stride):
    _pool_checks(x, size, stride)
    A_prev, f = x, size
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    n_H = int(1 + (n_H_prev - f) / stride)
    n_W = int(1 + (n_W_prev - f) / stride)
    n_C = n_C_prev
    A = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            A_prev_slice = A_prev[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
            A[:, h, w, :] = np.max(A_prev_slice, axis=(1, 2))
    cache = (x, size, stride)
    return A, cache
""",
        adapted=CHECKS_ADDED,
    ),
    Published(
        "maxpool_forward",
        "yanyan0207/DL_STUDY_PYTHON: layer/pooling.py",
        POOL_CHECKS
        + """
def maxpool_forward(x, size, stride):
    _pool_checks(x, size, stride)
    row = col = size
    out = x.copy().reshape(x.shape[0], x.shape[1] // row, row, x.shape[2] // col, col,
                           x.shape[3])
    out = out.transpose(0, 1, 3, 5, 2, 4)
    out = out.reshape(-1, row * col)
    maxpos = np.argmax(out, axis=1)
    out = out[np.arange(maxpos.size), maxpos]
    out = out.reshape(x.shape[0], x.shape[1] // row, x.shape[2] // col, x.shape[3])
    return out, (x, size, stride)
""",
        mistake=WINDOWS_TILE,
        adapted=CHECKS_ADDED + "; the layer's (row, col) shape -> size",
    ),
    # --- maxpool_backward --------------------------------------------------------------
    Published(
        "maxpool_backward",
        "kaiweihuang/CS231n: assignment2/cs231n/layers.py",
        """
def maxpool_backward(dout, cache):
    x, size, stride = cache
    N, H_out, W_out, C = dout.shape
    pool_height = pool_width = size
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for h in range(H_out):
                for w in range(W_out):
                    current_x = x[n, h * stride:h * stride + pool_height,
                                  w * stride:w * stride + pool_width, c]
                    argmax_indices = np.unravel_index(current_x.argmax(), current_x.shape)
                    dx[n, h * stride + argmax_indices[0], w * stride + argmax_indices[1],
                       c] += dout[n, h, w, c]
    return dx
""",
    ),
    Published(
        "maxpool_backward",
        "DameDollaForThree/CS231n-assignment2: cs231n/layers.py",
        """
def maxpool_backward(dout, cache):
    x, size, stride = cache
    pool_height = pool_width = size
    N, H, W, C = x.shape
    dx = np.zeros((N, C, H, W))
    dout = dout.transpose(0, 3, 1, 2)
    i = 0
    for image in x.transpose(0, 3, 1, 2):
        curr_dout = dout[i]
        curr_dx = np.zeros((C, H, W))
        j = 0
        for channel in image:
            curr_dout_channel = curr_dout[j]
            curr_dx_channel = np.zeros((H, W))
            a, c = 0, 0
            while a + pool_height <= H:
                b, d = 0, 0
                while b + pool_width <= W:
                    curr_data = channel[a:a + pool_height, b:b + pool_width]
                    max_data = np.max(curr_data)
                    index = np.where(curr_data == max_data)
                    curr_dx_channel[a:a + pool_height, b:b + pool_width][index[0][0]][
                        index[1][0]] = curr_dout_channel[c][d]
                    b += stride
                    d += 1
                a += stride
                c += 1
            curr_dx[j] = curr_dx_channel
            j += 1
        dx[i] = curr_dx
        i += 1
    return dx.transpose(0, 2, 3, 1)
""",
        mistake=OVERWRITTEN,
    ),
    Published(
        "maxpool_backward",
        "DmrfCoder/CourseraAi: ConvolutionModel/Convolution_model-Step_by_Step.md",
        """
def create_mask_from_window(x):
    mask = x == np.max(x)
    return mask

def maxpool_backward(dA, cache):
    (A_prev, f, stride) = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(shape=(m, n_H_prev, n_W_prev, n_C_prev))
    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = h * stride + f
                    horiz_start = w * stride
                    horiz_end = w * stride + f
                    a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                    mask = create_mask_from_window(a_prev_slice)
                    dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += (
                        mask * dA[i, h, w, c])
    return dA_prev
""",
        adapted="the max mode only",
    ),
    Published(
        "maxpool_backward",
        "MariumAZ/holbertonschool-machine_learning: "
        "supervised_learning/0x07-cnn/3-pool_backward.py",
        """
def maxpool_backward(dA, cache):
    A_prev, size, stride_ = cache
    kernel_shape, stride = (size, size), (stride_, stride_)
    m, h_new, w_new, c_new = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    kh, kw = kernel_shape[0], kernel_shape[1]
    sh, sw = stride[0], stride[1]
    for i in range(m):
        for h in range(h_new):
            for w in range(w_new):
                for c in range(c_new):
                    A_prev_mini = A_prev[i, h * sh:h * sh + kh, w * sw:w * sw + kw, c]
                    mask = (A_prev_mini == np.max(A_prev_mini))
                    dA_prev[i, h * sh:h * sh + kh, w * sw:w * sw + kw, c] += mask * dA[i, h, w, c]
    return dA_prev
""",
        adapted="the max mode only; its debugging prints dropped",
    ),
    Published(
        "maxpool_backward",
        "nazimshoikot/LENS: CNN/utils/max_pooling_functions.py",
        """
def maxpool_backward(dA, cache):
    (A_prev, f, stride) = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))
    for h in range(n_H):
        for w in range(n_W):
            vert_start, horiz_start = h * stride, w * stride
            vert_end, horiz_end = vert_start + f, horiz_start + f
            A_prev_slice = A_prev[:, vert_start:vert_end, horiz_start:horiz_end, :]
            A_prev_slice = np.transpose(A_prev_slice, (1, 2, 3, 0))
            mask = A_prev_slice == A_prev_slice.max((0, 1))
            mask = np.transpose(mask, (3, 2, 0, 1))
            dA_prev[:, vert_start:vert_end, horiz_start:horiz_end, :] += np.transpose(
                np.multiply(dA[:, h, w, :][:, :, np.newaxis, np.newaxis], mask), (0, 2, 3, 1))
    return dA_prev
""",
    ),
    Published(
        "maxpool_backward",
        "yanyan0207/DL_STUDY_PYTHON: layer/pooling.py",
        """
def maxpool_backward(dout, cache):
    x, size, stride = cache
    row = col = size
    blocks = x.reshape(x.shape[0], x.shape[1] // row, row, x.shape[2] // col, col, x.shape[3])
    maxpos = np.argmax(blocks.transpose(0, 1, 3, 5, 2, 4).reshape(-1, row * col), axis=1)
    out = dout
    grad = np.zeros((out.size, row * col))
    grad[np.arange(maxpos.size), maxpos] = out.reshape(-1)
    grad = grad.reshape(out.shape[0], out.shape[1], out.shape[2], out.shape[3], row, col)
    grad = grad.transpose(0, 1, 4, 2, 5, 3)
    grad = grad.reshape(x.shape)
    return grad
""",
        mistake=WINDOWS_TILE,
        adapted="maxpos, which the layer keeps from its forward pass, recomputed from x",
    ),
    # --- gap_forward / gap_backward -------------------------------------------------------
    Published(
        "gap_forward",
        "ecjiang016/Hazelnut: modules/Pooling.py",
        """
def gap_forward(x):
    HW = x.shape[1] * x.shape[2]
    return x.sum(axis=(1, 2)) / HW
""",
        adapted="the layer's Build/Forward in one function",
    ),
    Published(
        "gap_backward",
        "ecjiang016/Hazelnut: modules/Pooling.py",
        """
def gap_backward(dout, x_shape):
    _, H, W, C = x_shape
    HW = H * W
    ones = np.ones((H, W, C))
    return dout[:, None, None, :] * ones[None, :, :, :] / HW
""",
        adapted="the layer's Build/Backward in one function",
    ),
    Published(
        "gap_forward",
        "alyraafat/Deep-Learning-Fundamentals: with_autograd/layers/gap.py",
        """
def gap_forward(x):
    output = x.mean(axis=(1, 2))
    output = output.reshape(output.shape[0], 1, output.shape[1])
    return output
""",
        mistake=GAP_EXTRA_AXIS,
        adapted="a NumPy array instead of its autograd Tensor",
    ),
    # --- numerical_gradient ---------------------------------------------------------------
    Published(
        "numerical_gradient",
        "aliweiya/code: machine_learning/deep_learning/cs231n/assignment2/cs231n/gradient_check.py",
        """
def numerical_gradient(f, x, dout, h=1e-5):
    df = dout
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        pos = f(x).copy()
        x[ix] = oldval - h
        neg = f(x).copy()
        x[ix] = oldval
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad
""",
        mistake=TRUNCATION,
    ),
    Published(
        "numerical_gradient",
        "warmsirius/code-evolution: Ai/deep_learning_scratch/common/gradient.py",
        """
def numerical_gradient(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp_val = x[idx]
        fxh1 = np.sum(f(x) * dout)
        x[idx] = tmp_val - h
        fxh2 = np.sum(f(x) * dout)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad
""",
        mistake=UPPER_NOT_EVALUATED,
        adapted="_numerical_gradient_1d: the loss sum(f(x) * dout) and the given h instead of "
        "f(x) and a fixed 1e-4; np.ndindex instead of range(x.size)",
    ),
]
