"""The pictures of assignment 04: how gradients flow back through a convolution.

The notebook calls these functions; you do not need to read them to do the assignment,
but you may change them to draw other cases. Nothing here is graded. Each ``show_*``
function draws one figure and shows it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

WINDOW_COLOURS = ["tab:red", "tab:blue", "tab:orange", "tab:purple"]
FORWARD, BACKWARD = "#222222", "tab:red"


def text_colour(background) -> str:
    """Black on light colours, white on dark ones: numbers stay readable on any cell."""
    r, g, b = (
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(background)
    )
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Black and white give the same contrast at a relative luminance of about 0.18.
    return "black" if luminance > 0.18 else "white"


def draw_grid(ax, values, title, cmap="coolwarm", centred=True):
    """A 2-D array as coloured cells with its numbers written in.

    Parameters
    ----------
    ax : matplotlib Axes
    values : ndarray of shape (rows, cols)
    title : str
    cmap : str, default "coolwarm"
    centred : bool, default True
        Colour 0 as the middle of ``cmap`` (for signed values); else 0 is its bottom.
    """
    limit = np.abs(values).max() or 1.0
    image = ax.imshow(values, cmap=cmap, vmin=-limit if centred else 0, vmax=limit)
    for (row, col), value in np.ndenumerate(values):
        colour = text_colour(image.cmap(image.norm(value)))
        ax.text(col, row, f"{value:g}", ha="center", va="center", fontsize=11, color=colour)
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.set_title(title, fontsize=10)


def show_overlapping_windows(F, example_dX=None):
    """The 2x2 windows on a 3x3 input, one window's share ``F / 4``, and ``example_dX``.

    Parameters
    ----------
    F : ndarray of shape (2, 2)
        The filter of the worked example.
    example_dX : array_like of shape (3, 3), optional
        The student's answer; None draws a reminder instead.
    """
    coverage = np.zeros((3, 3))
    for i, j in np.ndindex(2, 2):
        coverage[i : i + 2, j : j + 2] += 1
    one_window = np.zeros((3, 3))
    one_window[0:2, 0:2] = F / 4
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    draw_grid(axes[0], coverage, "windows covering each X value", cmap="Greens", centred=False)
    for k, ((i, j), colour) in enumerate(zip(np.ndindex(2, 2), WINDOW_COLOURS, strict=True)):
        inset = 0.06 + 0.05 * k  # nest the outlines so all four windows stay visible
        corner = (j - 0.5 + inset, i - 0.5 + inset)
        axes[0].add_patch(
            Rectangle(corner, 2 - 2 * inset, 2 - 2 * inset, fill=False, lw=2, ec=colour)
        )
    draw_grid(axes[1], one_window, "window (0, 0) sends back F / 4")
    if example_dX is None:
        axes[2].set_axis_off()
        axes[2].text(0.5, 0.5, "compute example_dX above\nto see it here", ha="center")
    else:
        draw_grid(axes[2], np.asarray(example_dX, dtype=float), "your example_dX: all shares added")
    fig.tight_layout()
    plt.show()


def show_backprop_graph():
    """The worked example as a graph: forward left to right, gradients right to left."""
    fig, ax = plt.subplots(figsize=(10, 4))
    nodes = {
        "X": (0.1, 0.72, "X\n3x3 input"),
        "F": (0.1, 0.28, "F\n2x2 filter"),
        "O": (0.52, 0.5, "O = X ⋆ F\n2x2"),
        "y": (0.88, 0.5, "y = mean(O)\none number"),
    }
    for x, y, label in nodes.values():
        box = FancyBboxPatch(
            (x - 0.075, y - 0.1), 0.15, 0.2, boxstyle="round,pad=0.01", fc="#eef3fb", ec="0.3"
        )
        ax.add_patch(box)
        ax.text(x, y, label, ha="center", va="center", fontsize=10)
    for start, end in (("X", "O"), ("F", "O"), ("O", "y")):
        _arrow(ax, nodes[start], nodes[end], FORWARD, bend=0.0)
    # (from, to, bend, where the label goes, label): the gradients, from y back to X and F
    backward = [
        ("y", "O", 0.4, (0.7, 0.76), "dy/dO = 1/4\nfor each of the 4 values"),
        ("O", "X", 0.3, (0.3, 0.9), "dy/dX: each window sends dO[i, j] * F\nback; overlaps add"),
        ("O", "F", -0.3, (0.3, 0.1), "dy/dF = X ⋆ dO\n(a cross-correlation)"),
    ]
    for start, end, bend, where, label in backward:
        _arrow(ax, nodes[start], nodes[end], BACKWARD, bend=bend)
        ax.text(*where, label, ha="center", va="center", fontsize=9, color=BACKWARD)
    ax.set_title(
        "forward (black): left to right;  backward, by the chain rule (red): right to left",
        fontsize=10,
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.05, 1.05)
    ax.set_axis_off()
    fig.tight_layout()
    plt.show()


def _arrow(ax, start, end, colour, bend):
    """An arrow from one node's box to another's, straight or bent."""
    (x0, y0, _), (x1, y1, _) = start, end
    step = np.array([x1 - x0, y1 - y0])
    step /= np.linalg.norm(step)
    a = np.array([x0, y0]) + step * 0.09
    b = np.array([x1, y1]) - step * 0.09
    arrow = FancyArrowPatch(
        a,
        b,
        connectionstyle=f"arc3,rad={bend}",
        arrowstyle="-|>",
        mutation_scale=14,
        color=colour,
        lw=1.6,
    )
    ax.add_patch(arrow)


def show_maxpool_routing(x, size, stride, dout, yours=None):
    """Max pooling backward: each window's gradient goes to its largest value.

    Parameters
    ----------
    x : ndarray of shape (H, W)
        One channel of one example, without ties.
    size, stride : int
        The pooling window and its step.
    dout : ndarray of shape (H_out, W_out)
        The upstream gradient, one number per window.
    yours : ndarray of shape (H, W), optional
        The student's ``maxpool_backward`` for this case, drawn for comparison.
    """
    panels = 3 if yours is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(3.3 * panels, 3.6))
    _values(axes[0], x, "x: the windows, each maximum in bold")
    _values(axes[1], np.asarray(dout, dtype=float), "dout: one number per window")
    for k, (i, j) in enumerate(np.ndindex(*np.shape(dout))):
        colour = WINDOW_COLOURS[k % len(WINDOW_COLOURS)]
        inset = 0.05 + 0.04 * (k % 2)
        corner = (j * stride - 0.5 + inset, i * stride - 0.5 + inset)
        for ax in (axes[0], axes[2]) if yours is not None else (axes[0],):
            side = size - 2 * inset
            ax.add_patch(Rectangle(corner, side, side, fill=False, lw=2, ec=colour))
        axes[1].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=3, ec=colour))
        window = x[i * stride : i * stride + size, j * stride : j * stride + size]
        a, b = np.unravel_index(np.argmax(window), window.shape)
        axes[0].texts[(i * stride + a) * x.shape[1] + j * stride + b].set_fontweight("bold")
    if yours is not None:
        _values(axes[2], np.asarray(yours, dtype=float), "your dx: dout at each maximum?")
    fig.tight_layout()
    plt.show()


def _values(ax, values, title):
    """Numbers on white cells, with a thin grid between them."""
    rows, cols = values.shape
    ax.imshow(np.ones(values.shape), cmap="gray", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=11)
    ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.7")
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title, fontsize=10)
