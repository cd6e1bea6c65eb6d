"""Output sizes and parameter counts of convolutional networks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cnn_solutions._validate import check_int, check_window_fits

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "conv_params",
    "dense_params",
    "trace_shapes",
    "LAYER_KINDS",
]

LAYER_KINDS = ("conv", "maxpool", "avgpool", "flatten", "dense")

Shape = tuple[int, ...]


def conv_output_size(n: int, f: int, stride: int = 1, padding: int = 0) -> int:
    """Spatial output size of a convolution layer.

    Parameters
    ----------
    n : int
        Input size along one spatial axis.
    f : int
        Filter size along that axis.
    stride : int, default 1
    padding : int, default 0
        Zeros added on each side.

    Returns
    -------
    size : int
        ``floor((n + 2*padding - f) / stride) + 1``.
    """
    n = check_int(n, "n", 1)
    f = check_int(f, "f", 1)
    stride = check_int(stride, "stride", 1)
    padding = check_int(padding, "padding", 0)
    check_window_fits(n, f, "spatial", padding)
    return (n + 2 * padding - f) // stride + 1


def pool_output_size(n: int, f: int, stride: int | None = None) -> int:
    """Spatial output size of a pooling layer (no padding).

    Parameters
    ----------
    n : int
        Input size along one spatial axis.
    f : int
        Window size.
    stride : int, optional
        Defaults to ``f`` (non-overlapping windows).

    Returns
    -------
    size : int
        ``floor((n - f) / stride) + 1``.
    """
    return conv_output_size(n, f, f if stride is None else stride, 0)


def conv_params(f: int, c_in: int, n_filters: int, bias: bool = True) -> int:
    """Trainable parameters of an ``f x f`` convolution layer.

    Each filter has ``f * f * c_in`` weights (it spans every input channel) and one bias.
    """
    f = check_int(f, "f", 1)
    c_in = check_int(c_in, "c_in", 1)
    n_filters = check_int(n_filters, "n_filters", 1)
    return n_filters * (f * f * c_in + int(bool(bias)))


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Trainable parameters of a dense layer: a weight per input-output pair, a bias per output."""
    n_in = check_int(n_in, "n_in", 1)
    n_out = check_int(n_out, "n_out", 1)
    return n_out * (n_in + int(bool(bias)))


def _option(options: Mapping[str, object], key: str, default: object = None) -> object:
    if key in options:
        return options[key]
    if default is None:
        raise ValueError(f"layer options are missing {key!r}")
    return default


def _trace_one(shape: Shape, kind: str, options: Mapping[str, object]) -> tuple[Shape, int]:
    if kind == "conv":
        if len(shape) != 3:
            raise ValueError(f"a conv layer needs an (H, W, C) input, got shape {shape}")
        h, w, c = shape
        k = check_int(_option(options, "filters"), "filters", 1)
        f = check_int(_option(options, "size"), "size", 1)
        s, p = _option(options, "stride", 1), _option(options, "padding", 0)
        out = (conv_output_size(h, f, s, p), conv_output_size(w, f, s, p), k)
        return out, conv_params(f, c, k)
    if kind in ("maxpool", "avgpool"):
        if len(shape) != 3:
            raise ValueError(f"a {kind} layer needs an (H, W, C) input, got shape {shape}")
        h, w, c = shape
        f = check_int(_option(options, "size"), "size", 1)
        s = options.get("stride")
        return (pool_output_size(h, f, s), pool_output_size(w, f, s), c), 0
    if kind == "flatten":
        size = 1
        for n in shape:
            size *= n
        return (size,), 0
    if kind == "dense":
        if len(shape) != 1:
            raise ValueError(f"a dense layer needs a flat input (add a flatten), got {shape}")
        units = check_int(_option(options, "units"), "units", 1)
        return (units,), dense_params(shape[0], units)
    raise ValueError(f"unknown layer kind {kind!r}; expected one of {', '.join(LAYER_KINDS)}")


def trace_shapes(
    input_shape: Sequence[int], layers: Sequence[tuple[str, Mapping[str, object]]]
) -> list[tuple[Shape, int]]:
    """Trace shapes and parameter counts through a stack of layers.

    Parameters
    ----------
    input_shape : tuple of int of length 3
        ``(H, W, C)``.
    layers : list of (str, dict)
        ``(kind, options)`` pairs; kinds are ``conv`` (filters, size, stride=1, padding=0),
        ``maxpool`` / ``avgpool`` (size, stride=size), ``flatten`` and ``dense`` (units).

    Returns
    -------
    trace : list of (tuple of int, int)
        Per layer, the output shape and its trainable parameters, biases included.
    """
    shape = tuple(check_int(n, "input_shape entry", 1) for n in input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (H, W, C), got {tuple(input_shape)}")
    trace = []
    for layer in layers:
        try:
            kind, options = layer
        except (TypeError, ValueError):
            raise ValueError(f"each layer must be a (kind, options) pair, got {layer!r}") from None
        shape, params = _trace_one(shape, kind, options)
        trace.append((shape, params))
    return trace
