"""Grading spec for 02_output_size's trace_shapes: the shape and parameter count after
each layer of a network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cnn_course.grading.core import Case, FunctionSpec, Mistake
from cnn_course.grading.output_size_common import (
    NO_INPUT_CHANNELS,
    NO_INPUT_CHANNELS_ADVICE,
    POOL_DEFAULT_STRIDE,
    POOL_DEFAULT_STRIDE_ADVICE,
    POOL_STRIDE_IGNORED,
    POOL_STRIDE_IGNORED_ADVICE,
)
from cnn_solutions.shapes import conv_output_size, dense_params, pool_output_size, trace_shapes

# --- trace_shapes ---------------------------------------------------------------------

Layer = tuple[str, Mapping[str, Any]]


def _conv(filters: int, size: int, **options: int) -> Layer:
    return ("conv", {"filters": filters, "size": size, **options})


def _pool(kind: str = "maxpool", **options: int) -> Layer:
    return (kind, dict(options))


def _dense(units: int) -> Layer:
    return ("dense", {"units": units})


FLATTEN: Layer = ("flatten", {})


def _describe_layers(layers: Sequence[Layer]) -> str:
    return "[\n" + "".join(f"  {layer!r},\n" for layer in layers) + "]"


def _trace_case(label: str, input_shape: tuple[int, ...], layers: list[Layer], **kw) -> Case:
    return Case(label, (input_shape, layers), shown={"layers": _describe_layers(layers)}, **kw)


def _trace_model(
    *,
    biases: bool = True,
    conv_channels: bool = True,
    pool_default: str = "size",
    pool_stride_used: bool = True,
    dense_input: str = "flat",
    flatten_channels: bool = True,
    container: type = tuple,
    flat_as_int: bool = False,
):
    """The trace a student gets with one slip; the keyword names the slip."""

    def step(shape, kind, options):
        if kind == "conv":
            h, w, c = shape
            f, k = options["size"], options["filters"]
            s, p = options.get("stride", 1), options.get("padding", 0)
            out = (conv_output_size(h, f, s, p), conv_output_size(w, f, s, p), k)
            return out, k * (f * f * (c if conv_channels else 1) + int(biases))
        if kind in ("maxpool", "avgpool"):
            h, w, c = shape
            f = options["size"]
            s = options.get("stride", f if pool_default == "size" else 1)
            s = s if pool_stride_used else f
            return (pool_output_size(h, f, s), pool_output_size(w, f, s), c), 0
        if kind == "flatten":
            h, w, c = shape
            return (h * w * (c if flatten_channels else 1),), 0
        if kind == "dense":
            if len(shape) != 1:
                raise ValueError("dense on a 3-D shape")
            units = options["units"]
            return (units,), dense_params(shape[0], units, biases)
        raise ValueError(f"unknown layer kind {kind!r}")

    def model(input_shape, layers):
        shape, trace, channels = tuple(input_shape), [], input_shape[-1]
        for kind, options in layers:
            if kind == "dense" and dense_input == "channels":
                shape = (channels,)  # the flatten never updated the running channel count
            shape, params = step(shape, kind, options)
            channels = shape[-1] if kind != "flatten" else channels
            shown = shape[0] if flat_as_int and len(shape) == 1 else container(shape)
            trace.append((shown, params))
        return trace

    return model


_NETWORK_LAYERS = [
    _conv(6, 5, padding=2),
    _pool(size=2),
    _conv(16, 5),
    _pool("avgpool", size=2, stride=2),
    FLATTEN,
    _dense(120),
    _dense(10),
]

trace_shapes_spec = FunctionSpec(
    name="trace_shapes",
    params=("input_shape", "layers"),
    reference=trace_shapes,
    suites={
        "conv": lambda: [
            _trace_case("one conv layer, default stride and padding", (10, 10, 1), [_conv(4, 3)]),
            _trace_case(
                "two conv layers, the second on 8 channels, stride 2 and padding 1",
                (32, 32, 3),
                [_conv(8, 3, padding=1), _conv(16, 3, stride=2, padding=1)],
            ),
        ],
        "pool": lambda: [
            _trace_case(
                "max pool with its default stride, then avg pool with stride 1",
                (12, 12, 4),
                [_pool(size=2), _pool("avgpool", size=3, stride=1)],
            ),
            _trace_case(
                "conv, then overlapping max pool 3x3 stride 2",
                (15, 15, 2),
                [_conv(6, 3), _pool(size=3, stride=2)],
            ),
        ],
        "flatten_dense": lambda: [
            _trace_case(
                "flatten and two dense layers",
                (6, 6, 3),
                [FLATTEN, _dense(20), _dense(4)],
            ),
            _trace_case(
                "conv, pool, flatten, dense",
                (9, 9, 2),
                [_conv(5, 3), _pool(size=2), FLATTEN, _dense(7)],
            ),
        ],
        "network": lambda: [
            _trace_case("a LeNet-style network on 28x28x1", (28, 28, 1), _NETWORK_LAYERS)
        ],
        "errors": lambda: [
            _trace_case(
                "dense on a 3-D shape (no flatten)", (8, 8, 3), [_dense(10)], raises=ValueError
            ),
            _trace_case(
                "unknown layer kind 'dropout'",
                (8, 8, 3),
                [_conv(4, 3), ("dropout", {"rate": 0.5})],
                raises=ValueError,
            ),
        ],
    },
    mistakes=(
        Mistake(
            "biases not counted",
            "Every conv filter and every dense unit has a bias: conv k * (f*f*c_in + 1), "
            "dense n_out * (n_in + 1).",
            _trace_model(biases=False),
        ),
        Mistake(NO_INPUT_CHANNELS, NO_INPUT_CHANNELS_ADVICE, _trace_model(conv_channels=False)),
        Mistake(POOL_DEFAULT_STRIDE, POOL_DEFAULT_STRIDE_ADVICE, _trace_model(pool_default="1")),
        Mistake(
            POOL_STRIDE_IGNORED, POOL_STRIDE_IGNORED_ADVICE, _trace_model(pool_stride_used=False)
        ),
        Mistake(
            "dense input size ignores the flatten",
            "A dense layer after a flatten takes all H*W*C values as input; track the shape "
            "through the flatten and use its length as n_in.",
            _trace_model(dense_input="channels"),
        ),
        Mistake(
            "channels left out of the flatten",
            "Flatten keeps every value: its length is H * W * C.",
            _trace_model(flatten_channels=False),
        ),
        Mistake(
            "shapes as lists instead of tuples",
            "Give each shape as a tuple, e.g. (h, w, c) or (n,), not a list.",
            _trace_model(container=list),
        ),
        Mistake(
            "flat shape as an int instead of a 1-tuple",
            "After flatten or dense the shape is a tuple of one item: (n,) - note the comma.",
            _trace_model(flat_as_int=True),
        ),
    ),
)
