"""The pictures of assignment 03: a 1x1 convolution, and what a bottleneck saves.

The notebook calls these functions; you do not need to read them to do the assignment,
but you may change them to draw other cases. Nothing here is graded. Each ``show_*``
function draws one figure and shows it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

PIXEL_COLOURS = ["tab:red", "tab:blue"]


def show_pixel_dense(weights, height=3, width=4, pixels=((0, 1), (2, 3))):
    """A 1x1 convolution as one dense layer, applied to each pixel's channel vector.

    Parameters
    ----------
    weights : ndarray of shape (C_in, C_out)
        The layer's weights, written on the connections.
    height, width : int
        The size of the image drawn.
    pixels : sequence of (row, col)
        Pixels highlighted in the input and the output: the same weights serve each.
    """
    c_in, c_out = weights.shape
    fig, axes = plt.subplots(
        1, 3, figsize=(10, 3.8), gridspec_kw={"width_ratios": [width, 5, width]}
    )
    _pixel_grid(
        axes[0], height, width, pixels, f"input x: (H, W, C_in) = ({height}, {width}, {c_in})"
    )
    _pixel_grid(
        axes[2], height, width, pixels, f"output: (H, W, C_out) = ({height}, {width}, {c_out})"
    )
    ax = axes[1]
    left = np.linspace(0.8, 0.2, c_in)
    right = np.linspace(0.75, 0.25, c_out)
    for c, y0 in enumerate(left):
        for k, y1 in enumerate(right):
            ax.plot([0.15, 0.85], [y0, y1], color="0.55", lw=1, zorder=1)
            t = 0.3 if k % 2 == 0 else 0.65  # labels staggered so they do not collide
            x, y = 0.15 + 0.7 * t, y0 + (y1 - y0) * t
            ax.text(
                x,
                y,
                f"{weights[c, k]:g}",
                fontsize=8,
                ha="center",
                va="center",
                bbox={"fc": "white", "ec": "none", "pad": 0.5},
                zorder=2,
            )
    for c, y in enumerate(left):
        ax.add_patch(Circle((0.15, y), 0.045, fc="#eef3fb", ec="0.3", zorder=3))
        ax.text(0.15, y, f"c={c}", fontsize=8, ha="center", va="center", zorder=4)
    for k, y in enumerate(right):
        ax.add_patch(Circle((0.85, y), 0.045, fc="#eef6ee", ec="0.3", zorder=3))
        ax.text(0.85, y, f"k={k}", fontsize=8, ha="center", va="center", zorder=4)
    for x, (y0, y1), text in (
        (0.04, (left[-1], left[0]), "x[i, j]"),
        (0.96, (right[-1], right[0]), "out[i, j]"),
    ):
        ax.plot([x, x], [y0 - 0.06, y1 + 0.06], color="0.2", lw=2)  # the pixel's vector
        ax.text(x, y1 + 0.1, text, ha="center", fontsize=9, family="monospace")
    ax.set_title(
        f"one dense layer: weights ({c_in}, {c_out}),\nthe same at every pixel", fontsize=10
    )
    ax.text(0.5, 0.02, "x[i, j] @ weights + bias", ha="center", fontsize=10, family="monospace")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    fig.tight_layout()
    for (row, col), colour in zip(pixels, PIXEL_COLOURS, strict=False):  # pixel -> layer -> pixel
        for start, end, a, b in (
            (axes[0], ax, (col, row), (0.03, 0.5)),
            (ax, axes[2], (0.97, 0.5), (col, row)),
        ):
            fig.add_artist(
                FancyArrowPatch(
                    fig.transFigure.inverted().transform(start.transData.transform(a)),
                    fig.transFigure.inverted().transform(end.transData.transform(b)),
                    transform=fig.transFigure,
                    arrowstyle="-|>",
                    mutation_scale=12,
                    color=colour,
                    lw=1.4,
                    alpha=0.8,
                    connectionstyle="arc3,rad=0.15",
                )
            )
    plt.show()


def _pixel_grid(ax, height, width, pixels, title):
    """An image as a grid of pixels, some of them highlighted."""
    ax.imshow(np.ones((height, width)), cmap="gray", vmin=0, vmax=1)
    for (row, col), colour in zip(pixels, PIXEL_COLOURS, strict=False):
        ax.add_patch(
            Rectangle((col - 0.5, row - 0.5), 1, 1, fc=colour, alpha=0.35, ec=colour, lw=2)
        )
    ax.set_xticks(np.arange(width + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(height + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.6")
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title, fontsize=10)


def show_mixed_channels(photo, mixed):
    """A colour photo and the two channels a 1x1 convolution made of it."""
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.4))
    axes[0].imshow(photo)
    axes[0].set_title("input: 3 channels")
    axes[1].imshow(mixed[:, :, 0], cmap="gray")
    axes[1].set_title("output channel 0: luminance")
    axes[2].imshow(mixed[:, :, 1], cmap="coolwarm")
    axes[2].set_title("output channel 1: red - blue")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    plt.show()


def show_bottleneck(size=28, c_in=192, c_mid=16, c_out=32, f=5):
    """The direct f x f convolution and the bottleneck (1x1 first), as stacks of channels.

    Each stack is a feature map, one sheet per 8 channels; each arrow is a layer.
    """
    fig, ax = plt.subplots(figsize=(10, 4.2))
    # (row, x where a stack starts, channels) and (row, from x, to x, label) for the layers
    direct, bottleneck = 2.8, 0.3
    stacks = [
        (direct, 0.3, c_in),
        (direct, 7.2, c_out),
        (bottleneck, 0.3, c_in),
        (bottleneck, 4.7, c_mid),
        (bottleneck, 7.2, c_out),
    ]
    layers = [
        (direct, 3.6, 7.0, f"{f}x{f} conv, {c_out} filters\nspanning {c_in} channels each"),
        (bottleneck, 3.6, 4.6, f"1x1 conv,\n{c_mid} filters"),
        (bottleneck, 5.9, 7.0, f"{f}x{f} conv, {c_out}\nfilters, spanning\n{c_mid} channels"),
    ]
    for row, x, channels in stacks:
        _stack(ax, x, row, channels, f"{size}x{size}x{channels}")
    for row, x0, x1, label in layers:
        _layer_arrow(ax, x0, x1, row + 0.45, label)
    for row, name in ((direct, "direct"), (bottleneck, "bottleneck")):
        ax.text(-0.2, row + 0.45, name, ha="right", va="center", fontsize=11, weight="bold")
    ax.set_title("same input, same output shape: which costs fewer multiplications?", fontsize=10)
    ax.set_xlim(-2.0, 8.8)
    ax.set_ylim(-0.4, 5.3)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.tight_layout()
    plt.show()


def _stack(ax, x, y, channels, label, per_sheet=8, gap=0.09, side=0.9):
    """A feature map as a stack of H x W sheets, one per ``per_sheet`` channels."""
    sheets = max(1, round(channels / per_sheet))
    for s in range(sheets):  # back to front, so the front sheet is drawn last
        corner = (x + (sheets - 1 - s) * gap, y + (sheets - 1 - s) * gap * 0.6)
        ax.add_patch(Rectangle(corner, side, side, fc="#cfe0f3", ec="0.35", lw=0.8))
    ax.text(x + (sheets * gap + side) / 2, y - 0.12, label, ha="center", va="top", fontsize=9)


def _layer_arrow(ax, x0, x1, y, label):
    ax.add_patch(
        FancyArrowPatch((x0, y), (x1, y), arrowstyle="-|>", mutation_scale=14, color="0.2")
    )
    ax.text((x0 + x1) / 2, y + 0.15, label, ha="center", va="bottom", fontsize=9)


def show_costs(costs):
    """Two multiplication counts as bars, in millions.

    Parameters
    ----------
    costs : dict of str to int
        ``{"direct 5x5": ..., "1x1 to 16, then 5x5": ...}``, the student's two counts.
    """
    fig, ax = plt.subplots(figsize=(5, 3.2))
    millions = [value / 1e6 for value in costs.values()]
    ax.bar(list(costs), millions, color=["tab:red", "tab:green"])
    for position, value in enumerate(millions):
        ax.text(position, value, f"{value:.1f} M", ha="center", va="bottom")
    ax.set_ylim(0, 1.2 * max(millions))
    ax.set_ylabel("multiplications (millions)")
    direct, bottleneck = costs.values()
    ax.set_title(f"the bottleneck needs {direct / bottleneck:.1f}x fewer multiplications")
    fig.tight_layout()
    plt.show()
