"""Published implementations of output_size's contract functions (see the package)."""

from __future__ import annotations

from cnn_course.classroom.published import Published
from cnn_course.grading.mistakes import BIAS_FORGOTTEN, PADDING_IGNORED
from cnn_course.grading.output_size_common import POOL_DEFAULT_STRIDE, PRECEDENCE, TRUE_DIVISION

# None of the published helpers checks its arguments; the contract wants ValueError, so
# each gets the same three checks (noted in ``adapted``), and is judged on its formula.
_CHECKS = """
    if padding < 0 or stride < 1 or f > n + 2 * padding:
        raise ValueError(f"invalid arguments: n={n}, f={f}, stride={stride}, padding={padding}")
"""
_POOL_CHECKS = """
    if stride < 1 or f > n:
        raise ValueError(f"invalid arguments: n={n}, f={f}, stride={stride}")
"""
_VALIDATION = "ValueError checks added"

_TRACE_CODE = """import math


def size_after_conv(h, w, kernel_size, dilation=(1, 1), stride=(1, 1), padding=(0, 0)):
    if type(kernel_size) == int:
        kernel_size = (kernel_size, kernel_size)
    if type(dilation) == int:
        dilation = (dilation, dilation)
    if type(stride) == int:
        stride = (stride, stride)
    if type(padding) == int:
        padding = (padding, padding)

    new_h = h + (2 * padding[0]) - (dilation[0] * (kernel_size[0] - 1)) - 1
    new_h /= stride[0]
    new_h = math.floor(new_h + 1)

    new_w = w + (2 * padding[1]) - (dilation[1] * (kernel_size[1] - 1)) - 1
    new_w /= stride[1]
    new_w = math.floor(new_w + 1)

    return (new_h, new_w)


def size_after_pool(h, w, kernel_size, dilation=(1, 1), stride=False, padding=(0, 0)):
    if not stride:
        stride = kernel_size
    return size_after_conv(h, w, kernel_size, dilation, stride, padding)


def trace_shapes(input_shape, layers):
    h, w, last_outch = input_shape
    flat = None
    trace = []
    for kind, m in layers:
        if kind == "conv":
            c_in = last_outch
            h, w = size_after_conv(
                h, w, m["size"], stride=m.get("stride", 1), padding=m.get("padding", 0)
            )
            last_outch = m["filters"]
            trace.append(((h, w, last_outch), last_outch * (m["size"] ** 2 * c_in + 1)))
        elif kind in ("maxpool", "avgpool"):
            h, w = size_after_pool(h, w, m["size"], stride=m.get("stride", False))
            trace.append(((h, w, last_outch), 0))
        elif kind == "flatten":
            flat = h * w * last_outch
            trace.append(((flat,), 0))
        elif kind == "dense":
            if flat is None:
                raise ValueError("a dense layer needs a flat input: add a flatten first")
            trace.append(((m["units"],), (flat + 1) * m["units"]))
            flat = m["units"]
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
    return trace
"""

PUBLISHED: list[Published] = [
    # --- conv_output_size ------------------------------------------------------------
    Published(
        "conv_output_size",
        "srijanduggal17/2048-Playing-Agent: DQN.py",
        "def conv_output_size(n, f, stride=1, padding=0):"
        + _CHECKS
        + "    return (n + 2 * padding - (f - 1) - 1) // stride + 1\n",
        adapted="nested conv2d_size_out lifted out; its default padding 1 made the "
        "contract's 0; " + _VALIDATION,
    ),
    Published(
        "conv_output_size",
        "Taku345/deep-learning-from-scratch-3: self_codes/step55.py",
        "def conv_output_size(n, f, stride=1, padding=0):"
        + _CHECKS
        + "    return (n + padding * 2 - f) // stride + 1\n",
        adapted="get_conv_outsize renamed, defaults added; " + _VALIDATION,
    ),
    Published(
        "conv_output_size",
        "JerryLiuMY/VAE: params/params.py",
        "import math\n\n\ndef conv_output_size(n, f, stride=1, padding=0):"
        + _CHECKS
        + "    dilation = 1\n"
        "    num = n + 2 * padding - dilation * (f - 1) - 1\n"
        "    den = stride\n"
        "    return math.floor(num / den + 1)\n",
        adapted="params_dict entries made arguments (dilation 1); " + _VALIDATION,
    ),
    Published(
        "conv_output_size",
        "francidellungo/Minigrid_HCI-project: utils.py",
        "def conv_output_size(n, f, stride=1, padding=0):"
        + _CHECKS
        + "    return (n - f + 2 * padding) // stride + 1\n",
        adapted=_VALIDATION,
    ),
    Published(
        "conv_output_size",
        "timaeus4/DominionAI: src/DQN/DQN.py",
        "def conv_output_size(n, f, stride=1, padding=0):"
        + _CHECKS
        + "    return (n - (f - 1) - 1) // stride + 1\n",
        mistake=PADDING_IGNORED,
        adapted="nested conv2d_size_out (no padding argument) given the contract's "
        "signature; " + _VALIDATION,
    ),
    Published(
        "conv_output_size",
        "ndey96/deep-generator-network: conv_dim.py",
        "def conv_output_size(n, f, stride=1, padding=0):" + _CHECKS + "    dilation = 1\n"
        "    return (n + 2 * padding - dilation * (f - 1) - 1) / stride + 1\n",
        mistake=TRUE_DIVISION,
        adapted="module-level script made a function; " + _VALIDATION,
    ),
    Published(
        "conv_output_size",
        "inisis/doc: pytorch/README.md",
        "def conv_output_size(n, f, stride=1, padding=0):"
        + _CHECKS
        + "    return (n - f + 2 * padding) / stride + 1\n",
        mistake=TRUE_DIVISION,
        adapted="the README's formula line made a function; " + _VALIDATION,
    ),
    Published(
        "conv_output_size",
        "NYU-CDS-Capstone-Project/HydroGAN: mmd_gan/utils/conv_utils.py",
        "def conv_output_size(n, f, stride=1, padding=0):"
        + _CHECKS
        + "    D, K, P, S = n, f, padding, stride\n"
        "    out_dim = (D - K + 2 * P) / S + 1\n"
        "    return int(out_dim)\n",
        adapted="calculate_conv_output_dim's arguments renamed; " + _VALIDATION,
    ),
    # --- pool_output_size ------------------------------------------------------------
    Published(
        "pool_output_size",
        "Ckhanoyan/deep-learning-from-scratch: CNNs/code_samples/pool_forward_usingmaxmean.py",
        "def pool_output_size(n, f, stride=None):\n"
        "    if stride is None:\n"
        "        stride = f" + _POOL_CHECKS + "    return int(1 + (n - f) / stride)\n",
        adapted="n_H line of pool_forward made a function; hparameters' stride made "
        "optional (default f); " + _VALIDATION,
    ),
    Published(
        "pool_output_size",
        "calvinfeng/machine-learning-notebook: "
        "convolutional_neural_network/conv_net/layer/max_pool.py",
        "def pool_output_size(n, f, stride=None):\n"
        "    if stride is None:\n"
        "        stride = 1  # MaxPool.__init__: kwargs.get('stride', 1)"
        + _POOL_CHECKS
        + "    return int(1 + (n - f) / stride)\n",
        mistake=POOL_DEFAULT_STRIDE,
        adapted="MaxPool's kwargs default and its H_out line made a function; " + _VALIDATION,
    ),
    Published(
        "pool_output_size",
        "yacinemebarki/model_from_scratch: cnn/maxpool.py",
        "def pool_output_size(n, f, stride=None):\n"
        "    if stride is None:\n"
        "        stride = f" + _POOL_CHECKS + "    return (n - f) // stride + 1\n",
        adapted="maxpool.forward's H line made a function; stride made optional "
        "(default f); " + _VALIDATION,
    ),
    Published(
        "pool_output_size",
        "sichun233746/Crude-NN: Layers/Maxpool2d.py",
        "def pool_output_size(n, f, stride=None):\n"
        "    if stride is None:\n"
        "        stride = f  # Maxpool2d's stride=None (it never sets a default)"
        + _POOL_CHECKS
        + "    padding = 0\n"
        "    padded_height = n + padding * 2\n"
        "    return (padded_height - f // stride) + 1\n",
        mistake=PRECEDENCE,
        adapted="Maxpool2d.forward's height line made a function, padding 0; "
        "stride None given the contract's default f; " + _VALIDATION,
    ),
    Published(
        "pool_output_size",
        "NYU-CDS-Capstone-Project/HydroGAN: mmd_gan/utils/conv_utils.py",
        "def pool_output_size(n, f, stride=None):\n"
        "    if stride is None:\n"
        "        stride = f" + _POOL_CHECKS + "    D, K, S = n, f, stride\n"
        "    out_dim = (D - K) / S + 1\n"
        "    return out_dim\n",
        mistake=TRUE_DIVISION,
        adapted="calculate_pool_output_dim's arguments renamed, stride made optional "
        "(default f); " + _VALIDATION,
    ),
    # --- conv_params -----------------------------------------------------------------
    Published(
        "conv_params",
        "faiabolll/kc-startml-e-tarasov: dl_3/task8.py",
        "def conv_params(f, c_in, n_filters, bias=True):\n"
        "    return (c_in * f**2 + int(bias)) * n_filters\n",
        adapted="count_parameters_conv's arguments reordered",
    ),
    Published(
        "conv_params",
        "inisis/doc: pytorch/README.md",
        "def conv_params(f, c_in, n_filters, bias=True):\n    return c_in * n_filters * f * f\n",
        mistake=BIAS_FORGOTTEN,
        adapted="the README's params line made a function",
    ),
    # --- trace_shapes ----------------------------------------------------------------
    Published(
        "trace_shapes",
        "chroteus/NEAT-ConvRL: helpers.py",
        _TRACE_CODE,
        adapted="flat_size_after_conv's loop over torch modules made a loop over the "
        "contract's (kind, options) pairs, one (shape, params) entry per layer; the channel "
        "count starts from input_shape (not -1); parameter counts (k * (f*f*c + 1), "
        "n_out * (n_in + 1)), dense layers and the ValueError checks added",
    ),
]
