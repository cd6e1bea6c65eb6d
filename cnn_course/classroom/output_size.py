"""Simulated students for 02_output_size: correct work in three styles, and typical mistakes.

Functions are renamed to their contract names when placed in a notebook
(:func:`cnn_course.classroom.function_source`). The first style's functions are
self-contained, so a mistake in one function never changes another's result; the other
styles reuse the notebook's functions the way the instructor's solution does.
"""

from __future__ import annotations

import numpy as np

from cnn_course.classroom import StudentMistake
from cnn_course.grading.mistakes import BIAS_FORGOTTEN, CEIL, PADDING_IGNORED, STRIDE_IGNORED
from cnn_course.grading.output_size_common import (
    BIAS_FLAG_IGNORED,
    BIAS_PER_INPUT_CHANNEL,
    DENSE_BIAS_PER_INPUT,
    FORGOT_PLUS_ONE,
    NO_INPUT_CHANNELS,
    ONE_BIAS,
    POOL_DEFAULT_STRIDE,
    POOL_STRIDE_IGNORED,
    PRECEDENCE,
    TRUE_DIVISION,
)

# --- style "formula": the size formula, written out --------------------------------------


def conv_output_size_formula(n, f, stride=1, padding=0):
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if f > n + 2 * padding:
        raise ValueError(f"filter size {f} exceeds the padded input {n + 2 * padding}")
    return (n + 2 * padding - f) // stride + 1


def pool_output_size_formula(n, f, stride=None):
    if stride is None:
        stride = f
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if f > n:
        raise ValueError("pooling window larger than the input")
    return (n - f) // stride + 1


def conv_params_formula(f, c_in, n_filters, bias=True):
    weights = f * f * c_in * n_filters
    biases = n_filters if bias else 0
    return weights + biases


def dense_params_formula(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


def trace_shapes_loops(input_shape, layers):
    shape = tuple(input_shape)
    trace = []
    for kind, options in layers:
        if kind == "conv":
            h, w, c = shape
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            shape = ((h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1, k)
            params = k * (f * f * c + 1)
        elif kind in ("maxpool", "avgpool"):
            h, w, c = shape
            f = options["size"]
            s = options.get("stride", f)
            shape = ((h - f) // s + 1, (w - f) // s + 1, c)
            params = 0
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
            params = 0
        elif kind == "dense":
            if len(shape) != 1:
                raise ValueError(f"dense layer needs a flat input, got shape {shape}")
            units = options["units"]
            params = shape[0] * units + units
            shape = (units,)
        else:
            raise ValueError(f"unknown layer kind: {kind}")
        trace.append((shape, params))
    return trace


# --- style "counting": count window positions, reuse the helpers -------------------------


def conv_output_size_counting(n, f, stride=1, padding=0):
    if padding < 0 or stride < 1 or f > n + 2 * padding:
        raise ValueError("need padding >= 0, stride >= 1 and a filter that fits")
    count, start = 0, 0
    while start + f <= n + 2 * padding:  # one more window fits
        count += 1
        start += stride
    return count


def pool_output_size_counting(n, f, stride=None):
    stride = f if stride is None else stride
    if stride < 1 or f > n:
        raise ValueError("invalid pooling window or stride")
    return len(range(0, n - f + 1, stride))


def conv_params_counting(f, c_in, n_filters, bias=True):
    per_filter = f * f * c_in + int(bias)
    return n_filters * per_filter


def dense_params_counting(n_in, n_out, bias=True):
    return (n_in + int(bias)) * n_out


def trace_shapes_helpers(input_shape, layers):
    import math

    shape, out = tuple(input_shape), []
    for kind, opts in layers:
        if kind == "conv":
            f, s, p = opts["size"], opts.get("stride", 1), opts.get("padding", 0)
            params = conv_params(f, shape[2], opts["filters"])
            h, w = conv_output_size(shape[0], f, s, p), conv_output_size(shape[1], f, s, p)
            shape = (h, w, opts["filters"])
        elif kind == "maxpool" or kind == "avgpool":
            f, s = opts["size"], opts.get("stride")
            shape = (pool_output_size(shape[0], f, s), pool_output_size(shape[1], f, s), shape[2])
            params = 0
        elif kind == "flatten":
            shape, params = (math.prod(shape),), 0
        elif kind == "dense" and len(shape) == 1:
            params = dense_params(shape[0], opts["units"])
            shape = (opts["units"],)
        else:
            raise ValueError(f"cannot apply a {kind!r} layer to shape {shape}")
        out.append((shape, params))
    return out


# --- style "floor": math.floor and structural pattern matching --------------------------


def conv_output_size_floor(n, f, stride=1, padding=0):
    import math

    if padding < 0 or stride < 1:
        raise ValueError("padding must be >= 0 and stride >= 1")
    if n + 2 * padding < f:
        raise ValueError("the filter does not fit")
    return math.floor((n + 2 * padding - f) / stride) + 1


def pool_output_size_floor(n, f, stride=None):
    import math

    stride = f if stride is None else stride
    if stride < 1 or f > n:
        raise ValueError("bad pooling arguments")
    return math.floor((n - f) / stride) + 1


def conv_params_floor(f, c_in, n_filters, bias=True):
    return int(np.prod([f, f, c_in, n_filters])) + (n_filters if bias else 0)


def dense_params_floor(n_in, n_out, bias=True):
    total = n_in * n_out
    if bias:
        total += n_out
    return total


def trace_shapes_match(input_shape, layers):
    shape, trace = tuple(input_shape), []
    for layer in layers:
        match layer:
            case ("conv", {"filters": k, "size": f, **rest}):
                s, p = rest.get("stride", 1), rest.get("padding", 0)
                params = conv_params(f, shape[2], k)
                shape = tuple(conv_output_size(n, f, s, p) for n in shape[:2]) + (k,)
            case ("maxpool" | "avgpool", {"size": f, **rest}):
                s = rest.get("stride", f)
                shape = tuple(pool_output_size(n, f, s) for n in shape[:2]) + shape[2:]
                params = 0
            case ("flatten", _):
                shape, params = (shape[0] * shape[1] * shape[2],), 0
            case ("dense", {"units": units}) if len(shape) == 1:
                shape, params = (units,), dense_params(shape[0], units)
            case _:
                raise ValueError(f"unsupported layer {layer!r} on shape {shape}")
        trace.append((shape, params))
    return trace


# In a notebook these names are the student's own functions, defined in earlier cells; here
# they point at the first style, so that the functions that reuse them also run when
# imported.
conv_output_size = conv_output_size_formula
pool_output_size = pool_output_size_formula
conv_params = conv_params_formula
dense_params = dense_params_formula

LITERAL_ANSWERS = {
    "conv_out_shape": "conv_out_shape = (28, 28, 16)\n",
    "pool_out_shape": "pool_out_shape = (14, 14, 16)\n",
    "flat_size": "flat_size = 14 * 14 * 16\n",
    "conv_param_count": "conv_param_count = 16 * (3 * 3 * 1 + 1)\n",
    "dense1_param_count": "dense1_param_count = 3136 * 32 + 32\n",
    "dense2_param_count": "dense2_param_count = 32 * 5 + 5\n",
}

COMPUTED_ANSWERS = {
    "conv_out_shape": "conv_out_shape = (conv_output_size(28, 3, padding=1),) * 2 + (16,)\n",
    "pool_out_shape": (
        "side = pool_output_size(conv_out_shape[0], 2, 2)\n"
        "pool_out_shape = (side, side, conv_out_shape[2])\n"
    ),
    "flat_size": "flat_size = int(np.prod(pool_out_shape))\n",
    "conv_param_count": "conv_param_count = conv_params(3, 1, 16)\n",
    "dense1_param_count": "dense1_param_count = dense_params(flat_size, 32)\n",
    "dense2_param_count": "dense2_param_count = dense_params(32, 5)\n",
}

TRACED_ANSWERS = {
    "conv_out_shape": "conv_out_shape = trace_shapes(network_input, network)[0][0]\n",
    "pool_out_shape": "pool_out_shape = trace_shapes(network_input, network)[1][0]\n",
    "flat_size": "(flat_size,) = trace_shapes(network_input, network)[2][0]\n",
    "conv_param_count": "conv_param_count = trace_shapes(network_input, network)[0][1]\n",
    "dense1_param_count": "dense1_param_count = trace_shapes(network_input, network)[3][1]\n",
    "dense2_param_count": "dense2_param_count = trace_shapes(network_input, network)[4][1]\n",
}

CORRECT_STYLES = {
    "formula": {
        "conv_output_size": conv_output_size_formula,
        "pool_output_size": pool_output_size_formula,
        "conv_params": conv_params_formula,
        "dense_params": dense_params_formula,
        "trace_shapes": trace_shapes_loops,
        **LITERAL_ANSWERS,
    },
    "counting": {
        "conv_output_size": conv_output_size_counting,
        "pool_output_size": pool_output_size_counting,
        "conv_params": conv_params_counting,
        "dense_params": dense_params_counting,
        "trace_shapes": trace_shapes_helpers,
        **COMPUTED_ANSWERS,
    },
    "floor": {
        "conv_output_size": conv_output_size_floor,
        "pool_output_size": pool_output_size_floor,
        "conv_params": conv_params_floor,
        "dense_params": dense_params_floor,
        "trace_shapes": trace_shapes_match,
        **TRACED_ANSWERS,
    },
}

# --- mistakes -------------------------------------------------------------------------


def conv_output_size_no_padding(n, f, stride=1, padding=0):
    if padding < 0 or stride < 1 or f > n + 2 * padding:
        raise ValueError("invalid arguments")
    return (n - f) // stride + 1


def conv_output_size_true_division(n, f, stride=1, padding=0):
    if padding < 0 or stride < 1 or f > n + 2 * padding:
        raise ValueError("invalid arguments")
    return (n + 2 * padding - f) / stride + 1


def conv_output_size_ceil(n, f, stride=1, padding=0):
    import math

    if padding < 0 or stride < 1 or f > n + 2 * padding:
        raise ValueError("invalid arguments")
    return math.ceil((n + 2 * padding - f) / stride) + 1


def conv_output_size_precedence(n, f, stride=1, padding=0):
    if padding < 0 or stride < 1 or f > n + 2 * padding:
        raise ValueError("invalid arguments")
    return n + 2 * padding - f // stride + 1


def conv_output_size_no_plus_one(n, f, stride=1, padding=0):
    if padding < 0 or stride < 1 or f > n + 2 * padding:
        raise ValueError("invalid arguments")
    return (n + 2 * padding - f) // stride


def pool_output_size_default_one(n, f, stride=None):
    if stride is None:
        stride = 1
    if stride < 1 or f > n:
        raise ValueError("invalid arguments")
    return (n - f) // stride + 1


def pool_output_size_ignores_stride(n, f, stride=None):
    if (stride is not None and stride < 1) or f > n:
        raise ValueError("invalid arguments")
    return (n - f) // f + 1


def pool_output_size_true_division(n, f, stride=None):
    stride = f if stride is None else stride
    if stride < 1 or f > n:
        raise ValueError("invalid arguments")
    return (n - f) / stride + 1


def pool_output_size_n_over_stride(n, f, stride=None):
    stride = f if stride is None else stride
    if stride < 1 or f > n:
        raise ValueError("invalid arguments")
    return n // stride


def conv_params_weights_only(f, c_in, n_filters, bias=True):
    return f * f * c_in * n_filters


def conv_params_no_channels(f, c_in, n_filters, bias=True):
    return n_filters * (f * f + (1 if bias else 0))


def conv_params_bias_per_channel(f, c_in, n_filters, bias=True):
    per_channel = f * f + (1 if bias else 0)
    return n_filters * c_in * per_channel


def conv_params_always_bias(f, c_in, n_filters, bias=True):
    return n_filters * (f * f * c_in + 1)


def conv_params_one_bias(f, c_in, n_filters, bias=True):
    return f * f * c_in * n_filters + (1 if bias else 0)


def dense_params_weights_only(n_in, n_out, bias=True):
    return n_in * n_out


def dense_params_bias_per_input(n_in, n_out, bias=True):
    return n_in * n_out + (n_in if bias else 0)


def dense_params_always_bias(n_in, n_out, bias=True):
    return (n_in + 1) * n_out


def trace_shapes_no_biases(input_shape, layers):
    shape, trace = tuple(input_shape), []
    for kind, options in layers:
        params = 0
        if kind == "conv":
            h, w, c = shape
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            shape = ((h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1, k)
            params = f * f * c * k
        elif kind in ("maxpool", "avgpool"):
            h, w, c = shape
            f = options["size"]
            s = options.get("stride", f)
            shape = ((h - f) // s + 1, (w - f) // s + 1, c)
        elif kind == "flatten":
            shape = (shape[0] * shape[1] * shape[2],)
        elif kind == "dense" and len(shape) == 1:
            params = shape[0] * options["units"]
            shape = (options["units"],)
        else:
            raise ValueError(f"bad layer {kind}")
        trace.append((shape, params))
    return trace


def trace_shapes_pool_stride_one(input_shape, layers):
    shape, trace = tuple(input_shape), []
    for kind, options in layers:
        params = 0
        if kind == "conv":
            h, w, c = shape
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            shape = ((h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1, k)
            params = k * (f * f * c + 1)
        elif kind in ("maxpool", "avgpool"):
            h, w, c = shape
            f = options["size"]
            s = options.get("stride", 1)
            shape = ((h - f) // s + 1, (w - f) // s + 1, c)
        elif kind == "flatten":
            shape = (shape[0] * shape[1] * shape[2],)
        elif kind == "dense" and len(shape) == 1:
            params = (shape[0] + 1) * options["units"]
            shape = (options["units"],)
        else:
            raise ValueError(f"bad layer {kind}")
        trace.append((shape, params))
    return trace


def trace_shapes_dense_from_channels(input_shape, layers):
    h, w, c = input_shape
    trace = []
    flat = False
    for kind, options in layers:
        if kind == "conv":
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            params = k * (f * f * c + 1)
            h, w, c = (h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1, k
            trace.append(((h, w, c), params))
        elif kind in ("maxpool", "avgpool"):
            f = options["size"]
            s = options.get("stride", f)
            h, w = (h - f) // s + 1, (w - f) // s + 1
            trace.append(((h, w, c), 0))
        elif kind == "flatten":
            flat = True
            trace.append(((h * w * c,), 0))
        elif kind == "dense" and flat:
            units = options["units"]
            trace.append(((units,), (c + 1) * units))  # c: still the channel count
            c = units
        else:
            raise ValueError(f"bad layer {kind}")
    return trace


def trace_shapes_lists(input_shape, layers):
    shape, trace = list(input_shape), []
    for kind, options in layers:
        params = 0
        if kind == "conv":
            h, w, c = shape
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            shape = [(h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1, k]
            params = k * (f * f * c + 1)
        elif kind in ("maxpool", "avgpool"):
            h, w, c = shape
            f = options["size"]
            s = options.get("stride", f)
            shape = [(h - f) // s + 1, (w - f) // s + 1, c]
        elif kind == "flatten":
            shape = [shape[0] * shape[1] * shape[2]]
        elif kind == "dense" and len(shape) == 1:
            params = (shape[0] + 1) * options["units"]
            shape = [options["units"]]
        else:
            raise ValueError(f"bad layer {kind}")
        trace.append((shape, params))
    return trace


def trace_shapes_flat_int(input_shape, layers):
    shape, trace = tuple(input_shape), []
    for kind, options in layers:
        params = 0
        if kind == "conv":
            h, w, c = shape
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            shape = ((h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1, k)
            params = k * (f * f * c + 1)
        elif kind in ("maxpool", "avgpool"):
            h, w, c = shape
            f = options["size"]
            s = options.get("stride", f)
            shape = ((h - f) // s + 1, (w - f) // s + 1, c)
        elif kind == "flatten":
            shape = shape[0] * shape[1] * shape[2]
        elif kind == "dense" and isinstance(shape, int):
            params = (shape + 1) * options["units"]
            shape = options["units"]
        else:
            raise ValueError(f"bad layer {kind}")
        trace.append((shape, params))
    return trace


def trace_shapes_conv_single_channel(input_shape, layers):
    shape, trace = tuple(input_shape), []
    for kind, options in layers:
        params = 0
        if kind == "conv":
            h, w, _ = shape
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            shape = ((h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1, k)
            params = k * (f * f + 1)
        elif kind in ("maxpool", "avgpool"):
            h, w, c = shape
            f = options["size"]
            s = options.get("stride", f)
            shape = ((h - f) // s + 1, (w - f) // s + 1, c)
        elif kind == "flatten":
            shape = (shape[0] * shape[1] * shape[2],)
        elif kind == "dense" and len(shape) == 1:
            params = (shape[0] + 1) * options["units"]
            shape = (options["units"],)
        else:
            raise ValueError(f"bad layer {kind}")
        trace.append((shape, params))
    return trace


def _cells(function: str, *aspects: str) -> tuple[str, ...]:
    return tuple(f"{function}_{aspect}" for aspect in aspects)


def _answer(name: str, label: str, code: str, expected: str) -> StudentMistake:
    return StudentMistake(name, label, code, expected, (f"{name}_check",))


MISTAKES = [
    StudentMistake(
        "conv_output_size",
        "leaves out the padding",
        conv_output_size_no_padding,
        PADDING_IGNORED,
        _cells("conv_output_size", "padding", "stride_padding"),
    ),
    StudentMistake(
        "conv_output_size",
        "/ instead of //",
        conv_output_size_true_division,
        TRUE_DIVISION,
        _cells("conv_output_size", "stride", "stride_padding"),
    ),
    StudentMistake(
        "conv_output_size",
        "rounds up with math.ceil",
        conv_output_size_ceil,
        CEIL,
        _cells("conv_output_size", "stride", "stride_padding"),
    ),
    StudentMistake(
        "conv_output_size",
        "no parentheses around n + 2p - f",
        conv_output_size_precedence,
        PRECEDENCE,
        _cells("conv_output_size", "stride", "stride_padding"),
    ),
    StudentMistake(
        "conv_output_size",
        "forgets the + 1",
        conv_output_size_no_plus_one,
        FORGOT_PLUS_ONE,
        _cells("conv_output_size", "basic", "padding", "stride", "stride_padding"),
    ),
    StudentMistake(
        "pool_output_size",
        "default stride 1",
        pool_output_size_default_one,
        POOL_DEFAULT_STRIDE,
        _cells("pool_output_size", "basic", "default_stride"),
    ),
    StudentMistake(
        "pool_output_size",
        "always steps by the window size",
        pool_output_size_ignores_stride,
        POOL_STRIDE_IGNORED,
        _cells("pool_output_size", "stride"),
    ),
    StudentMistake(
        "pool_output_size",
        "/ instead of //",
        pool_output_size_true_division,
        TRUE_DIVISION,
        _cells("pool_output_size", "default_stride", "stride"),
    ),
    StudentMistake(
        "pool_output_size",
        "n // stride",
        pool_output_size_n_over_stride,
        "size as n // stride",
        _cells("pool_output_size", "stride"),
    ),
    StudentMistake(
        "conv_params",
        "counts weights only",
        conv_params_weights_only,
        BIAS_FORGOTTEN,
        _cells("conv_params", "basic", "channels"),
    ),
    StudentMistake(
        "conv_params",
        "leaves out the input channels",
        conv_params_no_channels,
        NO_INPUT_CHANNELS,
        _cells("conv_params", "channels"),
    ),
    StudentMistake(
        "conv_params",
        "one bias per input channel",
        conv_params_bias_per_channel,
        BIAS_PER_INPUT_CHANNEL,
        _cells("conv_params", "channels"),
    ),
    StudentMistake(
        "conv_params",
        "counts biases even with bias=False",
        conv_params_always_bias,
        BIAS_FLAG_IGNORED,
        _cells("conv_params", "no_bias"),
    ),
    StudentMistake(
        "conv_params",
        "a single bias for the layer",
        conv_params_one_bias,
        ONE_BIAS,
        _cells("conv_params", "basic", "channels"),
    ),
    StudentMistake(
        "dense_params",
        "counts weights only",
        dense_params_weights_only,
        BIAS_FORGOTTEN,
        _cells("dense_params", "basic"),
    ),
    StudentMistake(
        "dense_params",
        "one bias per input",
        dense_params_bias_per_input,
        DENSE_BIAS_PER_INPUT,
        _cells("dense_params", "basic"),
    ),
    StudentMistake(
        "dense_params",
        "counts biases even with bias=False",
        dense_params_always_bias,
        BIAS_FLAG_IGNORED,
        _cells("dense_params", "no_bias"),
    ),
    StudentMistake(
        "trace_shapes",
        "no biases in the parameter counts",
        trace_shapes_no_biases,
        "biases not counted",
        _cells("trace_shapes", "conv", "flatten_dense", "network"),
    ),
    StudentMistake(
        "trace_shapes",
        "pooling stride defaults to 1",
        trace_shapes_pool_stride_one,
        POOL_DEFAULT_STRIDE,
        _cells("trace_shapes", "pool", "network"),
    ),
    StudentMistake(
        "trace_shapes",
        "dense n_in from the channel count, not the flatten",
        trace_shapes_dense_from_channels,
        "dense input size ignores the flatten",
        _cells("trace_shapes", "flatten_dense", "network"),
    ),
    StudentMistake(
        "trace_shapes",
        "shapes as lists",
        trace_shapes_lists,
        "shapes as lists instead of tuples",
        _cells("trace_shapes", "conv", "pool", "flatten_dense", "network"),
    ),
    StudentMistake(
        "trace_shapes",
        "flat shape as a bare int",
        trace_shapes_flat_int,
        "flat shape as an int instead of a 1-tuple",
        _cells("trace_shapes", "flatten_dense", "network"),
    ),
    StudentMistake(
        "trace_shapes",
        "conv parameters without the input channels",
        trace_shapes_conv_single_channel,
        NO_INPUT_CHANNELS,
        _cells("trace_shapes", "conv", "network"),
    ),
    _answer("conv_out_shape", "no padding", "conv_out_shape = (26, 26, 16)\n", PADDING_IGNORED),
    _answer(
        "conv_out_shape", "channels first", "conv_out_shape = (16, 28, 28)\n", "channels first"
    ),
    _answer(
        "pool_out_shape",
        "pool with stride 1",
        "pool_out_shape = (28 - 2 + 1, 28 - 2 + 1, 16)\n",
        STRIDE_IGNORED,
    ),
    _answer("pool_out_shape", "a list", "pool_out_shape = [14, 14, 16]\n", "the shape as a list"),
    _answer(
        "flat_size",
        "copies the answer sheet's 1848",
        "flat_size = 1848\n",
        "the worked answer sheet's slip",
    ),
    _answer(
        "conv_out_shape",
        "copies the answer sheet's 12x12x16",
        "conv_out_shape = (12, 12, 16)\n",
        "the worked answer sheet's slip",
    ),
    _answer(
        "flat_size",
        "forgets the channels",
        "flat_size = 14 * 14\n",
        "channels left out of the flatten",
    ),
    _answer(
        "conv_param_count",
        "weights only",
        "conv_param_count = 3 * 3 * 1 * 16\n",
        BIAS_FORGOTTEN,
    ),
    _answer(
        "dense1_param_count",
        "flattens before pooling",
        "dense1_param_count = 28 * 28 * 16 * 32 + 32\n",
        "flattened the conv output instead of the pool output",
    ),
    _answer(
        "dense2_param_count",
        "one bias per input",
        "dense2_param_count = 32 * 5 + 32\n",
        DENSE_BIAS_PER_INPUT,
    ),
]
