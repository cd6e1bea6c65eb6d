"""The pictures of assignment 01: how a filter slides over an image.

The notebook calls these functions; you do not need to read them to do the assignment,
but you may change them to draw other cases. Nothing here is graded. Each ``show_*``
function draws one figure and shows it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

PADDING_GREY = 0.85  # the shade of padding cells; the image's own cells are white
# Window numbers and outlines: a red dark enough to read on the grey padding.
WINDOW_RED = "#b2182b"


def draw_table(ax, values, title, shade=None, box=None):
    """Draw a 2-D array as a table of numbers.

    Parameters
    ----------
    ax : matplotlib Axes
    values : ndarray of shape (rows, cols)
    title : str
    shade : ndarray of bool, shape (rows, cols), optional
        Cells drawn grey (the padding).
    box : tuple (top, left, height, width), optional
        A window outlined in red.
    """
    rows, cols = values.shape
    colours = np.where(shade, PADDING_GREY, 1.0) if shade is not None else np.ones(values.shape)
    ax.imshow(colours, cmap="gray", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=9)
    if box is not None:
        top, left, height, width = box
        ax.add_patch(
            Rectangle((left - 0.5, top - 0.5), width, height, fill=False, lw=3, ec=WINDOW_RED)
        )
    _cell_grid(ax, rows, cols)
    ax.set_title(title, fontsize=10)


def show_window_products(image, kernel, row, col, pad=1):
    """The padded image with one window outlined, the kernel, and their products.

    Parameters
    ----------
    image : ndarray of shape (H, W)
    kernel : ndarray of shape (kh, kw)
    row, col : int
        The output position shown: its window starts at ``padded[row, col]``.
    pad : int, default 1
    """
    kh, kw = kernel.shape
    padded = np.pad(image, pad)
    is_padding = np.pad(np.zeros(image.shape, dtype=bool), pad, constant_values=True)
    products = padded[row : row + kh, col : col + kw] * kernel + 0.0  # + 0.0: no -0
    ratios = [padded.shape[1], kw, kw]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), gridspec_kw={"width_ratios": ratios})
    draw_table(axes[0], padded, f"image, padded by {pad}", is_padding, (row, col, kh, kw))
    draw_table(axes[1], kernel, "kernel")
    draw_table(axes[2], products, f"products: sum = {products.sum():g}\n= output[{row}, {col}]")
    fig.tight_layout()
    plt.show()


def draw_windows(ax, n, pad, f, stride):
    """The padded n x n grid with the first and last window of the first output row.

    Each window's top-left cell carries its number; grey cells are padding.
    """
    size = n + 2 * pad
    grid = np.full((size, size), PADDING_GREY)
    grid[pad : pad + n, pad : pad + n] = 1.0
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    out = (n + 2 * pad - f) // stride + 1
    for j in range(out):
        ax.text(j * stride, 0, str(j), ha="center", va="center", color=WINDOW_RED, fontsize=11)
    for j, style in ((0, "-"), (out - 1, "--")):
        corner = (j * stride - 0.45, -0.45)
        ax.add_patch(
            Rectangle(corner, f - 0.1, f - 0.1, fill=False, lw=2.5, ec=WINDOW_RED, ls=style)
        )
    _cell_grid(ax, size, size)
    formula = f"({n} + 2*{pad} - {f}) // {stride} + 1"
    ax.set_title(f"stride {stride}: {formula} = {out} windows", fontsize=9)


def show_strides(n, pad, f, strides=(1, 2)):
    """:func:`draw_windows` side by side, one per stride."""
    fig, axes = plt.subplots(1, len(strides), figsize=(4 * len(strides), 4), squeeze=False)
    for ax, stride in zip(axes[0], strides, strict=True):
        draw_windows(ax, n, pad, f, stride)
    fig.tight_layout()
    plt.show()


def show_images(*images):
    """Grey images side by side, each titled with its shape.

    Parameters
    ----------
    *images : tuple (title, ndarray of shape (H, W))
    """
    fig, axes = plt.subplots(1, len(images), figsize=(10 / 3 * len(images), 4), squeeze=False)
    for ax, (title, image) in zip(axes[0], images, strict=True):
        ax.imshow(image, cmap="gray")
        ax.set_title(f"{title}: {image.shape}")
        ax.axis("off")
    fig.tight_layout()
    plt.show()


def _cell_grid(ax, rows, cols):
    """Thin lines between the cells, and no ticks."""
    ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.6")
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
