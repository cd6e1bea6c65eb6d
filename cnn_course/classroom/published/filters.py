"""Published implementations of filters's contract functions (see the package)."""

from __future__ import annotations

from cnn_course.classroom.published import Published
from cnn_course.grading.crashes import NUMPY_ALIASES as NP_FLOAT
from cnn_course.grading.crashes import SQUARE_FILTER as SQUARE
from cnn_course.grading.filters import MINUS_INDEX
from cnn_course.grading.mistakes import BIAS_EVERY_PRODUCT, FLIPPED, STRIDE_IGNORED

NO_VALUE_ERROR = "should raise ValueError"

_CONV_CHECKS = """
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    kh, kw = kernel.shape
    if kh > image.shape[0] + 2 * padding or kw > image.shape[1] + 2 * padding:
        raise ValueError("kernel larger than the padded image")
"""

_MULTI_CHECKS = """
    if x.shape[2] != filters.shape[2]:
        raise ValueError("x and filters have different channel counts")
    if bias is not None and np.shape(bias) != (filters.shape[3],):
        raise ValueError("bias needs one value per filter")
    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    if filters.shape[0] > x.shape[0] + 2 * padding or filters.shape[1] > x.shape[1] + 2 * padding:
        raise ValueError("filters larger than the padded input")
"""

# thiagobspy/recipes-ml's conv step, listed twice: with the contract's argument checks
# (for its square-filter assumption) and as published (for the missing checks).
_THIAGOBSPY_SIGNATURE = """
def conv2d_multi(x, filters, bias=None, stride=1, padding=0):
"""
_THIAGOBSPY_BODY = """
    (n_H_prev, n_W_prev, n_C_prev) = x.shape
    (f, f, n_C_prev, n_C) = filters.shape
    pad = padding
    n_H = int((n_H_prev + 2 * pad - f) / stride + 1)
    n_W = int((n_W_prev + 2 * pad - f) / stride + 1)
    Z = np.zeros((n_H, n_W, n_C))
    a_prev_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0)), 'constant', constant_values=(0, 0))
    for h in range(n_H):
        for w in range(n_W):
            for c in range(n_C):
                vert_start = h * stride
                vert_end = vert_start + f
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end]
                Z[h, w, c] = np.sum(a_slice_prev * filters[..., c])
                if bias is not None:
                    Z[h, w, c] += bias[c]
    return Z
"""

PUBLISHED: list[Published] = [
    # --- zero_pad ------------------------------------------------------------------------
    Published(
        "zero_pad",
        "ilyarudyak/cs230-deep-learning: cs230_coursera/course4_cnn/week1_intro/step_by_step.py",
        """
def zero_pad(X, pad):
    widths = ((pad, pad), (pad, pad)) + ((0, 0),) * (X.ndim - 2)
    X_pad = np.pad(X, pad_width=widths, mode='constant', constant_values=(0, 0))
    return X_pad
""",
        adapted="one image, not a batch: the batch axis's (0, 0) dropped",
    ),
    Published(
        "zero_pad",
        "georgezouq/deep-learning-tutorial: DeepLearning/CNN/main.py",
        """
def zero_pad(X, pad):
    X_pad = np.pad(X, ((pad, pad), (pad, pad)) + ((0, 0),) * (X.ndim - 2), 'constant',
                   constant_values=(0))
    return X_pad
""",
        adapted="one image, not a batch",
    ),
    Published(
        "zero_pad",
        "Crlss123/evidencia-st: padding.py",
        """
def zero_pad(image, padding):
    filas, col = image.shape[:2]
    canales = image.shape[2:]
    output = np.zeros((filas + padding * 2, col + padding * 2, *canales), dtype=image.dtype)
    output[padding: padding + filas, padding:padding + col, ...] = image
    return output
""",
        adapted="(H, W) images accepted too: the channel count read as image.shape[2:]",
    ),
    # --- correlate2d ---------------------------------------------------------------------
    Published(
        "correlate2d",
        "dae4/Dive_2_DL: torch/Chapter6/func.py",
        """
def correlate2d(X, K):
    h, w = K.shape
    Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = np.sum((X[i:i + h, j:j + w] * K))
    return Y
""",
        adapted="torch -> numpy",
    ),
    Published(
        "correlate2d",
        "A01552594/Laboratorio_A01552594: convolucion.py",
        """
def conv_helper(fragment, kernel):
    f_row, f_col = fragment.shape
    result = 0
    for row in range(f_row):
        for col in range(f_col):
            result += fragment[row, col] * kernel[row, col]
    return result


def correlate2d(image, kernel):
    image_row, image_col = image.shape
    kernel_row, kernel_col = kernel.shape
    outputy = int(image_col - (kernel_col / 2) * 2 + 1)
    outputx = int(image_row - (kernel_row / 2) * 2 + 1)
    output = np.zeros((outputx, outputy))
    for row in range(outputx):
        for col in range(outputy):
            output[row, col] = conv_helper(
                image[row:row + kernel_row, col:col + kernel_col], kernel)
    return output
""",
        adapted="the script's body made a function of image and kernel",
    ),
    Published(
        "correlate2d",
        "keras-team/keras: issue #3179 (the naive loop of the report)",
        """
def correlate2d(X, w):
    kh, kw = w.shape
    y_hat = np.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1))
    for i in range(y_hat.shape[0]):
        for j in range(y_hat.shape[1]):
            y_hat[i, j] = (w * X[i:i+kh, j:j+kw]).sum()
    return y_hat
""",
        adapted="the 5x5 kernel size read from w.shape; no bias",
    ),
    Published(
        "correlate2d",
        "https://github.com/omar11205/torchDeepLearning",
        """
def correlate2d(image, kernel):
    image_height, image_width = image.shape
    kernel_height, kernel_width = kernel.shape
    output_height = image_height - kernel_height + 1
    output_width = image_width - kernel_width + 1
    flipped_kernel = np.flip(kernel)
    output = np.zeros((output_height, output_width))
    for i in range(output_height):
        for j in range(output_width):
            region = image[i:i+kernel_height, j:j+kernel_width]
            output[i, j] = np.sum(region * flipped_kernel)
    return output
""",
        mistake=FLIPPED,
        adapted="the notebook cell made a function",
    ),
    Published(
        "correlate2d",
        "jonnythebard/jonny_deep_learnings: extra_snippet/convolution.py",
        """
def correlate2d(input_image, kernel):
    INPUT_HEIGHT, INPUT_WIDTH = input_image.shape
    KERNEL_HEIGHT, KERNEL_WIDTH = kernel.shape
    output_height = INPUT_HEIGHT - KERNEL_HEIGHT + 1
    output_width = INPUT_WIDTH - KERNEL_WIDTH + 1
    output_image = np.zeros((output_height, output_width))
    for i in range(0, output_height):
        for j in range(0, output_width):
            for _i in range(0, KERNEL_HEIGHT):
                for _j in range(0, KERNEL_WIDTH):
                    output_image[i, j] += input_image[i-_i, j-_j] * kernel[_i, _j]
    return output_image
""",
        mistake=MINUS_INDEX,
        adapted="the script made a function; sizes read from the arrays",
    ),
    # --- conv2d --------------------------------------------------------------------------
    Published(
        "conv2d",
        "https://poon-ml-repo.vercel.app/problems/2d-conv",
        """
def conv2d(input_matrix, kernel, stride=1, padding=0):
    input_height, input_width = input_matrix.shape
    kernel_height, kernel_width = kernel.shape
    padded_input = np.pad(input_matrix, ((padding, padding), (padding, padding)), mode='constant')
    input_height_padded, input_width_padded = padded_input.shape
    output_height = (input_height_padded - kernel_height) // stride + 1
    output_width = (input_width_padded - kernel_width) // stride + 1
    output_matrix = np.zeros((output_height, output_width))
    for i in range(output_height):
        for j in range(output_width):
            region = padded_input[i*stride:i*stride+kernel_height, j*stride:j*stride+kernel_width]
            output_matrix[i, j] = np.sum(region * kernel)
    return output_matrix
""",
        mistake=NO_VALUE_ERROR,
        adapted="argument order (stride, padding)",
    ),
    Published(
        "conv2d",
        "https://github.com/kcyoon689/ML-Study",
        """
def conv2d(input_X, kernel, stride=1, padding=0):
"""
        + _CONV_CHECKS.replace("image", "input_X")
        + """
    padding_X = np.pad(input_X, ((padding, padding), (padding, padding)),
                       'constant', constant_values=0)
    kernel_height, kernel_width = kernel.shape
    input_height, input_width = input_X.shape
    output_height = (input_height - kernel_height + 2 * padding) // stride + 1
    output_width = (input_width - kernel_width + 2 * padding) // stride + 1
    output_X = np.zeros((output_height, output_width))
    for y in range(output_height):
        for x in range(output_width):
            output_X[y][x] = (kernel * padding_X[y*stride : y*stride + kernel_height,
                                                 x*stride : x*stride + kernel_width]).sum()
    return output_X
""",
        adapted="notebook cells made a function; no bias; argument checks added",
    ),
    Published(
        "conv2d",
        "https://github.com/hrhrkeee/ml-coding-practice-pytorch",
        """
def conv2d(x, kernel, stride=1, padding=0):
    if padding > 0:
        x = np.pad(x, ((padding, padding), (padding, padding)), mode='constant')
    H, W = x.shape
    kH, kW = kernel.shape
    out_H = (H - kH) // stride + 1
    out_W = (W - kW) // stride + 1
    out = np.zeros((out_H, out_W))
    for i in range(out_H):
        for j in range(out_W):
            h_start = i * stride
            w_start = j * stride
            x_slice = x[h_start:h_start+kH, w_start:w_start+kW]
            out[i, j] = np.sum(x_slice * kernel)
    return out
""",
        mistake=NO_VALUE_ERROR,
    ),
    Published(
        "conv2d",
        "https://github.com/Nikhil-Paleti/MLC",
        """
def conv2d(image, kernel, stride=1, padding=0):
    image = np.array(image)
    kernel = np.array(kernel)
    H, W = image.shape
    kH, kW = kernel.shape
"""
        + _CONV_CHECKS
        + """
    if padding > 0:
        image_padded = np.pad(image, ((padding, padding), (padding, padding)), mode='constant')
    else:
        image_padded = image
    out_H = (H + 2*padding - kH)//stride + 1
    out_W = (W + 2*padding - kW)//stride + 1
    output = np.zeros((out_H, out_W))
    kernel_flipped = np.flipud(np.fliplr(kernel))
    for i in range(out_H):
        for j in range(out_W):
            region = image_padded[i*stride : i*stride+kH, j*stride : j*stride+kW]
            output[i, j] = np.sum(region * kernel_flipped)
    return output
""",
        mistake=FLIPPED,
        adapted="argument checks added",
    ),
    Published(
        "conv2d",
        "SamratSahoo/UT-Arlington-Research: Week 6 - Convolutions & Wavelet Transforms/"
        "Convolutions.py",
        """
def conv2d(image, kernel, stride=1, padding=0):
    strides = stride
    kernel = np.flipud(np.fliplr(kernel))
    xKernShape = kernel.shape[0]
    yKernShape = kernel.shape[1]
    xImgShape = image.shape[0]
    yImgShape = image.shape[1]
    xOutput = int(((xImgShape - xKernShape + 2 * padding) / strides) + 1)
    yOutput = int(((yImgShape - yKernShape + 2 * padding) / strides) + 1)
    output = np.zeros((xOutput, yOutput))
    if padding != 0:
        imagePadded = np.zeros((image.shape[0] + padding*2, image.shape[1] + padding*2))
        imagePadded[int(padding):int(-1 * padding), int(padding):int(-1 * padding)] = image
    else:
        imagePadded = image
    for y in range(image.shape[1]):
        if y > image.shape[1] - yKernShape:
            break
        if y % strides == 0:
            for x in range(image.shape[0]):
                if x > image.shape[0] - xKernShape:
                    break
                try:
                    if x % strides == 0:
                        output[x, y] = (kernel * imagePadded[x: x + xKernShape,
                                                             y: y + yKernShape]).sum()
                except:  # noqa: E722
                    break
    return output
""",
        mistake=FLIPPED,
        adapted="argument named stride, not strides; argument order",
    ),
    Published(
        "conv2d",
        "https://huggingface.co/datasets/nvidia/Nemotron-CC-Math-v1 "
        "('Convolution from Scratch with Python and NumPy')",
        """
def conv2d(image, kernel, stride=1, padding=0):
    strides = stride
    i_height, i_width = image.shape
    k_height, k_width = kernel.shape
    o_height = int((i_height - k_height + 2 * padding) / strides) + 1
    o_width = int((i_width - k_width + 2 * padding) / strides) + 1
    output = np.zeros((o_height, o_width))
    if padding != 0:
        image_padded = np.pad(image, [(padding, padding), (padding, padding)], mode='constant')
    else:
        image_padded = image
    for y in range(o_height):
        for x in range(o_width):
            output[y, x] = np.sum(image_padded[y * strides:y * strides + k_height,
                                               x * strides:x * strides + k_width]
                                  * kernel).astype(np.float)
    return output
""",
        mistake=NP_FLOAT,
        adapted="argument named stride, not strides; argument order",
    ),
    # --- conv2d_multi --------------------------------------------------------------------
    Published(
        "conv2d_multi",
        "ddbourgin/numpy-ml: numpy_ml/neural_nets/utils/utils.py (conv2D_naive)",
        """
def conv2d_multi(x, filters, bias=None, stride=1, padding=0):
"""
        + _MULTI_CHECKS
        + """
    X = x[None]
    W = filters
    s, d = stride, 0
    X_pad = np.pad(X, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    pr1 = pr2 = pc1 = pc2 = padding
    fr, fc, in_ch, out_ch = W.shape
    n_ex, in_rows, in_cols, in_ch = X.shape
    fr, fc = fr * (d + 1) - d, fc * (d + 1) - d
    out_rows = int((in_rows + pr1 + pr2 - fr) / s + 1)
    out_cols = int((in_cols + pc1 + pc2 - fc) / s + 1)
    Z = np.zeros((n_ex, out_rows, out_cols, out_ch))
    for m in range(n_ex):
        for c in range(out_ch):
            for i in range(out_rows):
                for j in range(out_cols):
                    i0, i1 = i * s, (i * s) + fr
                    j0, j1 = j * s, (j * s) + fc
                    window = X_pad[m, i0 : i1 : (d + 1), j0 : j1 : (d + 1), :]
                    Z[m, i, j, c] = np.sum(window * W[:, :, :, c])
    if bias is not None:
        Z = Z + bias
    return Z[0]
""",
        adapted="one image; pad2D replaced by np.pad; no dilation; bias added; argument checks",
    ),
    Published(
        "conv2d_multi",
        "thiagobspy/recipes-ml: pure_neural/cnn/conv_step.py",
        _THIAGOBSPY_SIGNATURE + _MULTI_CHECKS + _THIAGOBSPY_BODY,
        mistake=SQUARE,
        adapted="one image; bias (C_out,) or None; argument checks added",
    ),
    Published(
        "conv2d_multi",
        "thiagobspy/recipes-ml: pure_neural/cnn/conv_step.py",
        _THIAGOBSPY_SIGNATURE + _THIAGOBSPY_BODY,
        mistake=NO_VALUE_ERROR,
        adapted="one image; bias (C_out,) or None; as published, no argument checks",
    ),
    Published(
        "conv2d_multi",
        "redman157/tensorflow-build-example: CNN-step-by-step.py",
        """
def conv_single_step(A_prev, W, b):
    s = np.multiply(A_prev, W) + b
    Z = np.sum(s)
    return Z


def conv2d_multi(x, filters, bias=None, stride=1, padding=0):
"""
        + _MULTI_CHECKS
        + """
    (n_H_prev, n_W_prev, n_C_prev) = x.shape
    (f, f, n_C_prev, n_C) = filters.shape
    pad = padding
    n_H = int((n_H_prev - f + 2 * pad) / stride) + 1
    n_W = int((n_W_prev - f + 2 * pad) / stride) + 1
    Z = np.zeros((n_H, n_W, n_C))
    a_prev_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0)), 'constant', constant_values=0)
    b = np.zeros(n_C) if bias is None else bias
    for h in range(n_H):
        for w in range(n_W):
            for c in range(n_C):
                vert_start = h * stride
                vert_end = vert_start + f
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                Z[h, w, c] = conv_single_step(a_slice_prev, filters[..., c], b[c])
    return Z
""",
        mistake=BIAS_EVERY_PRODUCT,
        adapted="one image; bias (C_out,) or None; argument checks added",
    ),
    Published(
        "conv2d_multi",
        "https://2.zoppoz.workers.dev/https/www.scribd.com/document/462428733/Convolve-forward",
        """
def conv2d_multi(x, filters, bias=None, stride=1, padding=0):
"""
        + _MULTI_CHECKS
        + """
    (n_H_prev, n_W_prev, n_C_prev) = x.shape
    (f, f, n_C_prev, n_C) = filters.shape
    pad = padding
    n_H = int((n_H_prev - f + 2*pad)/stride) + 1
    n_W = int((n_W_prev - f + 2*pad)/stride) + 1
    Z = np.zeros((n_H, n_W, n_C))
    a_prev_pad = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    for h in range(n_H):
        for w in range(n_W):
            for c in range(n_C):
                a_slice_prev = a_prev_pad[h:h+f, w:w+f, :]
                Z[h, w, c] = np.sum(a_slice_prev * filters[:, :, :, c])
                if bias is not None:
                    Z[h, w, c] += bias[c]
    return Z
""",
        mistake=STRIDE_IGNORED,
        adapted="one image; bias (C_out,) or None; argument checks added",
    ),
    Published(
        "conv2d_multi",
        "https://github.com/Nikhil-Paleti/MLC",
        """
def conv2d_multi(x, filters, bias=None, stride=1, padding=0):
"""
        + _MULTI_CHECKS
        + """
    H, W, C_in = x.shape
    kH, kW, _, C_out = filters.shape
    if padding > 0:
        image_padded = np.pad(x, ((padding, padding), (padding, padding), (0, 0)), mode='constant')
    else:
        image_padded = x
    out_H = (H + 2*padding - kH)//stride + 1
    out_W = (W + 2*padding - kW)//stride + 1
    output = np.zeros((out_H, out_W, C_out))
    for co in range(C_out):
        for ci in range(C_in):
            kernel_flipped = np.flip(filters[:, :, ci, co])
            for i in range(out_H):
                for j in range(out_W):
                    region = image_padded[i*stride : i*stride+kH, j*stride : j*stride+kW, ci]
                    output[i, j, co] += np.sum(region * kernel_flipped)
    if bias is not None:
        output = output + bias
    return output
""",
        mistake=FLIPPED,
        adapted="NCHW -> NHWC, one image; bias added; argument checks added",
    ),
]
