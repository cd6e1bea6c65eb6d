"""The pictures of assignment 02: windows along one axis, and a network's shapes.

The notebook calls these functions; you do not need to read them to do the assignment,
but you may change them to draw other cases. Nothing here is graded. Each ``show_*``
function draws one figure and shows it.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle


def show_windows_1d(n, f, stride, padding):
    """One axis of ``n`` cells, padded (grey), and every window of size ``f``."""
    cells = n + 2 * padding
    starts = range(0, cells - f + 1, stride)
    fig, ax = plt.subplots(figsize=(8, 2.6))
    for x in range(cells):
        grey = x < padding or x >= padding + n
        ax.add_patch(Rectangle((x, 0), 1, 1, fc="0.85" if grey else "white", ec="0.4"))
    for row, start in enumerate(starts, start=1):
        corner = (start + 0.05, -0.6 * row)
        ax.add_patch(Rectangle(corner, f - 0.1, 0.45, fc=f"C{row - 1}", alpha=0.8))
        label = f"window {row - 1}"
        ax.text(start - 0.15, -0.6 * row + 0.22, label, ha="right", va="center", fontsize=9)
    ax.set_xlim(-1.8, cells + 0.2)
    ax.set_ylim(-0.6 * len(starts) - 0.3, 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"n={n}, padding={padding}, f={f}, stride={stride}: {len(starts)} windows")
    plt.show()


def show_trace_table(input_shape, layers, trace):
    """A shape trace as the table deep-learning libraries print for a model.

    Parameters
    ----------
    input_shape : tuple of int
    layers : list of (kind, options)
    trace : list of (shape, params)
        What ``trace_shapes(input_shape, layers)`` returned.
    """
    rows = [["input", "", str(tuple(input_shape)), ""]]
    for (kind, options), (shape, params) in zip(layers, trace, strict=False):
        settings = ", ".join(f"{key}={value}" for key, value in options.items())
        rows.append([kind, settings, str(shape), f"{params:,}"])
    rows.append(["total", "", "", f"{sum(params for _, params in trace):,}"])
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 0.3))
    ax.axis("off")
    table = ax.table(
        cellText=rows,
        colLabels=["layer", "options", "output shape", "parameters"],
        cellLoc="center",
        loc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.3)
    plt.show()


def show_network(input_shape, layers, shapes=None):
    """A network as volumes: each feature map a box, each vector a bar, each layer an arrow.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``.
    layers : list of (kind, options)
        As for ``trace_shapes``.
    shapes : list of tuple, optional
        Each layer's output shape (yours); None labels the outputs "?", to be found.
    """
    fig, ax = plt.subplots(figsize=(10, 3.0))
    x = 0.0
    x = _block(ax, x, tuple(input_shape), "input\n" + _shape_text(input_shape))
    for index, (kind, options) in enumerate(layers):
        shape = shapes[index] if shapes is not None else None
        settings = ", ".join(f"{key}={value}" for key, value in options.items())
        label = kind + ("\n" + settings.replace(", ", "\n") if settings else "")
        ax.add_patch(
            FancyArrowPatch((x + 0.1, 0), (x + 1.2, 0), arrowstyle="-|>", mutation_scale=12)
        )
        ax.text(x + 0.65, 0.15, label, ha="center", va="bottom", fontsize=8)
        drawn = _as_shape(shape) or _guess(kind, options)
        text = "?" if shape is None else _shape_text(shape)
        x = _block(ax, x + 1.3, drawn, text)
    ax.set_xlim(-0.2, x + 0.2)
    ax.set_ylim(-1.2, 1.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    title = "your shapes" if shapes is not None else "the shapes you will find below: ?"
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    plt.show()


def _as_shape(shape):
    """``shape`` as a tuple of 1 or 3 positive ints, or None if it is not one."""
    try:
        sizes = tuple(int(size) for size in shape)
    except (TypeError, ValueError):
        return None
    ok = len(sizes) in (1, 3) and all(s > 0 for s in sizes) and sizes == tuple(shape)
    return sizes if ok else None


def _shape_text(shape):
    sizes = _as_shape(shape)
    return "x".join(map(str, sizes)) if sizes else repr(shape)[:20]


def _guess(kind, options):
    """A drawing size for an output not found yet: a map for conv/pool, a bar otherwise."""
    if kind in ("conv", "maxpool", "avgpool"):
        return (14, 14, options.get("filters", 8))
    return (options.get("units", 400),)


def _block(ax, x, shape, label):
    """Draw one output at ``x``: a box for (H, W, C), a bar for a vector; return its end."""
    if len(shape) == 3:
        height = 0.4 + 0.8 * min(shape[0], 64) / 64  # H, drawn up
        width = 0.08 + 0.12 * math.log2(max(shape[2], 1))  # channels, drawn across
        depth = 0.6 * height  # W, drawn receding
        y = -height / 2
        dx = dy = depth * 0.5
        front = [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]
        top = [
            (x, y + height),
            (x + width, y + height),
            (x + width + dx, y + height + dy),
            (x + dx, y + height + dy),
        ]
        side = [
            (x + width, y),
            (x + width + dx, y + dy),
            (x + width + dx, y + height + dy),
            (x + width, y + height),
        ]
        for corners, shade in ((front, "#cfe0f3"), (top, "#e6eef8"), (side, "#b3cbe6")):
            ax.add_patch(Polygon(corners, closed=True, fc=shade, ec="0.3", lw=1))
        end = x + width + dx
    else:
        height = 0.3 + 0.25 * math.log10(max(shape[0], 1))
        y = -height / 2
        ax.add_patch(Rectangle((x, y), 0.12, height, fc="#f3dfc8", ec="0.3"))
        end = x + 0.12
    ax.text((x + end) / 2, y - 0.1, label, ha="center", va="top", fontsize=8)
    return end
