"""Published implementations of conv1x1's contract functions (see the package)."""

from __future__ import annotations

from cnn_course.classroom.published import Published
from cnn_course.grading.conv1x1 import FLOPS_COUNTED
from cnn_course.grading.mistakes import BIAS_FORGOTTEN, TRANSPOSED

# None of the published code checks its arguments; the contract wants ValueError for a
# channel mismatch or a bias of the wrong size, so each gets the same checks.
_CHECKS = """
    x = np.asarray(x)
    weights = np.asarray(weights)
    if x.ndim != 3 or weights.ndim != 2 or weights.shape[0] != x.shape[2]:
        raise ValueError(f"weights {weights.shape} do not fit x {x.shape}: need (C_in, C_out)")
    if bias is not None and np.shape(bias) != (weights.shape[1],):
        raise ValueError(f"bias {np.shape(bias)} should have shape ({weights.shape[1]},)")
"""
_VALIDATION = "ValueError checks added"

PUBLISHED: list[Published] = [
    # --- conv1x1 ---------------------------------------------------------------------
    Published(
        "conv1x1",
        "https://github.com/aleozlx/numpy-ipynb",
        "def conv1x1(x, weights, bias=None):" + _CHECKS + "    h, w, c = x.shape\n"
        "    A = x.reshape(h * w, c).T  # one column per pixel, as in the notebook\n"
        "    out = np.dot(weights.T, A)\n"
        "    if bias is not None:\n"
        "        out = out + np.asarray(bias)[..., np.newaxis]\n"
        "    return out.T.reshape(h, w, weights.shape[1])\n",
        adapted="the notebook's np.dot(F.T, A) + B[..., np.newaxis] on an (H, W, C) image; "
        "bias optional; " + _VALIDATION,
    ),
    Published(
        "conv1x1",
        "lweitkamp/transformer_parallelisms: numpy_sequential/linear.py",
        "def conv1x1(x, weights, bias=None):" + _CHECKS + "    out = x @ weights\n"
        "    return out if bias is None else out + bias\n",
        adapted="Linear.forward (inputs_ @ self.weight + self.bias) on an (H, W, C_in) "
        "image; bias optional; " + _VALIDATION,
    ),
    Published(
        "conv1x1",
        "jtpils/FixedCNN: +nn/private/PointwiseConv2d.m",
        "def conv1x1(x, weights, bias=None):" + _CHECKS + "    im_h, im_w, im_d = x.shape\n"
        "    k_in, k_out = weights.shape\n"
        "    im_mat = x.reshape(im_h * im_w, im_d)\n"
        "    ker_mat = weights.reshape(k_in, k_out)\n"
        "    res_mat = im_mat @ ker_mat\n"
        "    return res_mat.reshape(im_h, im_w, k_out)\n",
        mistake=BIAS_FORGOTTEN,
        adapted="MATLAB to NumPy (reshape, GEMM, reshape); the function takes no bias; "
        + _VALIDATION,
    ),
    Published(
        "conv1x1",
        "https://click4ai.perfionixai.com/problems/1x1-convolution",
        "def conv1x1(x, weights, bias=None):" + _CHECKS + "    h, w, c_in = x.shape\n"
        "    c_out = weights.shape[1]\n"
        "    out = np.zeros((h, w, c_out))\n"
        "    for k in range(c_out):\n"
        "        for c in range(c_in):\n"
        "            # output[c_out, i, j] = sum(kernel[c_out, c_in] * input[c_in, i, j])\n"
        "            out[:, :, k] += weights[k, c] * x[:, :, c]\n"
        "    if bias is not None:\n"
        "        out += bias\n"
        "    return out\n",
        mistake=TRANSPOSED,
        adapted="the page's formula (kernel indexed [c_out, c_in]) written as loops over "
        "an (H, W, C) image; bias added; " + _VALIDATION,
    ),
    # --- conv_mult_count -------------------------------------------------------------
    Published(
        "conv_mult_count",
        "josefinekrohn/aoe-4414-a05-q47: conv_ops.py",
        "def conv_mult_count(h_out, w_out, f, c_in, c_out):\n"
        "    n_filt, h_filt, w_filt = c_out, f, f\n"
        "    muls = n_filt * h_out * w_out * c_in * h_filt * w_filt\n"
        "    return int(muls)\n",
        adapted="script's muls line made a function of the output size",
    ),
    Published(
        "conv_mult_count",
        "manuel-suarez/pytorch-cv-code-examples: segnet/eval_parameters.py",
        "def conv_mult_count(h_out, w_out, f, c_in, c_out):\n"
        "    dk, m, n, h, w = f, c_in, c_out, h_out, w_out\n"
        "    return m * dk * dk * h * w * n\n",
        adapted="the printed 'Expected total multiplies' made a function",
    ),
    Published(
        "conv_mult_count",
        "inisis/doc: pytorch/README.md",
        "def conv_mult_count(h_out, w_out, f, c_in, c_out):\n"
        "    channel_in, channel_out, kernel_size = c_in, c_out, f\n"
        "    return 2 * channel_in * channel_out * kernel_size * kernel_size * h_out * w_out\n",
        mistake=FLOPS_COUNTED,
        adapted="the README's flops line made a function",
    ),
]
