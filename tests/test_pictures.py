"""The notebooks' pictures (``source/<assignment>/pictures.py``) draw what they say, in
colours one can read, and give no answer away.

#15 asked for the drawing code to leave the student's notebook, for the pictures a
student would want (the 28x28x1 network as volumes, a 1x1 convolution as a dense layer
at each pixel, the bottleneck, the backpropagation graph, where max pooling sends the
gradient) and for readable numbers in 04 (black on dark cells). Each test draws with
matplotlib's Agg backend, in process; ``UPDATE_DOC_SCREENSHOTS=1`` also saves each
picture to ``docs/screenshots/pictures/`` (shown in ``docs/pictures.md``).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from types import ModuleType

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from cnn_course.course import REPO_ROOT  # noqa: E402
from cnn_solutions import answers  # noqa: E402
from cnn_solutions.pooling import maxpool_backward  # noqa: E402

pytestmark = pytest.mark.unit

DOC_PICTURES = REPO_ROOT / "docs" / "screenshots" / "pictures"
# WCAG 2's "AA" contrast for normal text: numbers written on coloured cells.
MIN_CONTRAST = 4.5
F = np.array([[0, 3], [1, -2]], dtype=float)  # the worked example's filter (04)
MAXPOOL_GRID = np.array([[1, 5, 2, 0], [3, 4, 8, 6], [0, 9, 1, 2], [7, 3, 4, 5]], dtype=float)
NETWORK = answers.NETWORK  # 02's small network


def pictures(assignment: str) -> ModuleType:
    """``source/<assignment>/pictures.py``, imported as the notebook imports it."""
    path = REPO_ROOT / "source" / assignment / "pictures.py"
    spec = importlib.util.spec_from_file_location(f"pictures_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def drawn(show: Callable[[], None], name: str) -> Figure:
    """The one figure ``show()`` draws (plt.show does nothing under Agg); a ``name`` that
    starts with ``_`` is no doc picture."""
    plt.close("all")
    show()
    assert plt.get_fignums() == [1], "each show_* function draws exactly one figure"
    figure = plt.figure(1)
    figure.canvas.draw()
    if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1" and not name.startswith("_"):
        DOC_PICTURES.mkdir(parents=True, exist_ok=True)
        figure.savefig(DOC_PICTURES / f"{name}.png", dpi=90)
    return figure


def texts(figure: Figure) -> list[str]:
    return [t.get_text() for ax in figure.axes for t in ax.texts] + [
        ax.get_title() for ax in figure.axes
    ]


def luminance(colour) -> float:
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in colour]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(a, b) -> float:
    light, dark = sorted((luminance(to_rgb(a)), luminance(to_rgb(b))), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def numbers_on_cells(figure: Figure) -> Iterator[tuple[str, float]]:
    """(text, contrast with the cell under it) for every text drawn on an image's cell."""
    for ax in figure.axes:
        images = [i for i in ax.get_children() if isinstance(i, AxesImage)]
        for image in images:
            values = image.get_array()
            for text in ax.texts:
                col, row = (round(v) for v in text.get_position())
                if 0 <= row < values.shape[0] and 0 <= col < values.shape[1]:
                    cell = image.cmap(image.norm(values[row, col]))
                    yield text.get_text(), contrast(text.get_color(), cell)


# ------------------------------------------------------------------------------ 01_filters
def test_filters_pictures_show_the_window_products_and_the_windows() -> None:
    p = pictures("01_filters")
    line = np.zeros((5, 5))
    line[:, 2] = 10.0
    laplacian = np.array([[1.0, 1.0, 1.0], [1.0, -8.0, 1.0], [1.0, 1.0, 1.0]])
    figure = drawn(lambda: p.show_window_products(line, laplacian, row=2, col=1), "01-products")
    # The window of output[2, 1] holds the line's 10s in its right column: 3 * 10 = 30.
    assert "products: sum = 30\n= output[2, 1]" in texts(figure)
    assert [t.get_text() for t in figure.axes[2].texts] == ["0", "0", "10"] * 3
    assert all(c >= MIN_CONTRAST for _, c in numbers_on_cells(figure))
    figure = drawn(lambda: p.show_strides(n=5, pad=1, f=3, strides=(1, 2)), "01-strides")
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["stride 1: (5 + 2*1 - 3) // 1 + 1 = 5 windows",
                      "stride 2: (5 + 2*1 - 3) // 2 + 1 = 3 windows"]  # fmt: skip
    assert [t.get_text() for t in figure.axes[1].texts] == ["0", "1", "2"]
    assert all(c >= MIN_CONTRAST for _, c in numbers_on_cells(figure))


# -------------------------------------------------------------------------- 02_output_size
def test_the_network_picture_asks_for_the_shapes_before_they_are_found() -> None:
    p = pictures("02_output_size")
    figure = drawn(lambda: p.show_network((28, 28, 1), NETWORK), "02-network")
    labels = texts(figure)
    assert "input\n28x28x1" in labels
    assert labels.count("?") == len(NETWORK)
    # Nothing the questions ask for is on the picture: no shape and no count.
    for key in ("conv_out_shape", "pool_out_shape", "flat_size", "conv_param_count"):
        answer = getattr(answers, key)
        shown = "x".join(map(str, answer)) if isinstance(answer, tuple) else str(answer)
        assert not any(shown in label for label in labels), key


def test_the_network_picture_shows_the_students_shapes_even_malformed_ones() -> None:
    p = pictures("02_output_size")
    yours = [(28, 28, 16), (14, 14, 16), (3136,), (32,), (5,)]
    figure = drawn(lambda: p.show_network((28, 28, 1), NETWORK, yours), "02-network-yours")
    labels = texts(figure)
    assert ["28x28x16", "14x14x16", "3136", "32", "5"] == [
        t for t in labels if t in {"28x28x16", "14x14x16", "3136", "32", "5"}
    ]
    # An answer that is not a shape is shown as written, not drawn as one, and no crash.
    figure = drawn(lambda: p.show_network((28, 28, 1), NETWORK, [28, *yours[1:]]), "_bad")
    assert "28" in texts(figure) and "28x28x16" not in texts(figure)


def test_the_trace_table_adds_up_the_parameters() -> None:
    p = pictures("02_output_size")
    layers = [("conv", {"filters": 6, "size": 5}), ("flatten", {}), ("dense", {"units": 10})]
    trace = [((28, 28, 6), 156), ((4704,), 0), ((10,), 47050)]
    figure = drawn(lambda: p.show_trace_table((32, 32, 1), layers, trace), "02-trace")
    table = figure.axes[0].tables[0]
    cells = {(r, c): cell.get_text().get_text() for (r, c), cell in table.get_celld().items()}
    assert cells[(1, 2)] == "(32, 32, 1)" and cells[(2, 1)] == "filters=6, size=5"
    assert cells[(5, 0)] == "total" and cells[(5, 3)] == "47,206"


# ----------------------------------------------------------------------------- 03_conv1x1
def test_a_1x1_convolution_is_drawn_as_one_dense_layer_per_pixel() -> None:
    p = pictures("03_conv1x1")
    weights = np.array([[0.5, -1.0], [2.0, 0.0], [1.0, 0.25]])
    figure = drawn(lambda: p.show_pixel_dense(weights), "03-pixel-dense")
    labels = texts(figure)
    # Every weight is written on its connection, once; 3 inputs and 2 outputs.
    assert sorted(t for t in labels if t in {"0.5", "-1", "2", "0", "1", "0.25"}) == sorted(
        f"{w:g}" for w in weights.ravel()
    )
    assert {"c=0", "c=1", "c=2", "k=0", "k=1"} <= set(labels)
    assert "input x: (H, W, C_in) = (3, 4, 3)" in labels
    assert "output: (H, W, C_out) = (3, 4, 2)" in labels
    assert len(figure.artists) == 4  # each highlighted pixel: into the layer and out of it


def test_the_bottleneck_picture_shows_the_shapes_and_not_the_answers() -> None:
    p = pictures("03_conv1x1")
    figure = drawn(lambda: p.show_bottleneck(), "03-bottleneck")
    labels = texts(figure)
    assert labels.count("28x28x192") == 2 and labels.count("28x28x32") == 2
    assert "28x28x16" in labels and "1x1 conv,\n16 filters" in labels
    for key in ("direct_mults", "bottleneck_mults"):
        assert not any(str(getattr(answers, key))[:3] in label for label in labels), key


def test_the_cost_bars_use_the_students_counts() -> None:
    p = pictures("03_conv1x1")
    costs = {"direct 5x5": 120_000_000, "1x1 to 16, then 5x5": 12_000_000}
    figure = drawn(lambda: p.show_costs(costs), "_costs")
    assert figure.axes[0].get_title() == "the bottleneck needs 10.0x fewer multiplications"
    assert [t.get_text() for t in figure.axes[0].texts] == ["120.0 M", "12.0 M"]


# ------------------------------------------------------------------------ 04_conv_backprop
def test_numbers_on_dark_cells_are_white_and_every_number_is_readable() -> None:
    p = pictures("04_conv_backprop")
    dx = np.zeros((3, 3))
    for i, j in np.ndindex(2, 2):
        dx[i : i + 2, j : j + 2] += F / 4
    figure = drawn(lambda: p.show_overlapping_windows(F, dx), "04-overlapping-windows")
    found = list(numbers_on_cells(figure))
    assert len(found) == 27  # three 3x3 grids
    unreadable = [(text, round(c, 2)) for text, c in found if c < MIN_CONTRAST]
    assert not unreadable
    # The 4 at the centre of the coverage grid sits on the darkest green: white.
    centre = figure.axes[0].texts[4]
    assert centre.get_text() == "4" and centre.get_color() == "white"


def test_the_old_black_numbers_would_fail_the_contrast_check() -> None:
    """The check above can fail: black on the darkest cells of 04's colour maps."""
    for cmap, value in (("Greens", 1.0), ("coolwarm", 1.0)):
        assert contrast("black", plt.get_cmap(cmap)(value)) < MIN_CONTRAST


def test_the_backprop_graph_has_the_forward_and_the_backward_edges() -> None:
    p = pictures("04_conv_backprop")
    figure = drawn(p.show_backprop_graph, "04-backprop-graph")
    labels = texts(figure)
    assert {"X\n3x3 input", "F\n2x2 filter", "O = X ⋆ F\n2x2", "y = mean(O)\none number"} <= set(
        labels
    )
    assert any(label.startswith("dy/dO = 1/4") for label in labels)
    assert any(label.startswith("dy/dF = X ⋆ dO") for label in labels)
    assert any(label.startswith("dy/dX") for label in labels)
    arrows = figure.axes[0].patches[4:]  # after the four boxes
    assert len(arrows) == 6  # three forward, three backward


def test_the_maxpool_picture_marks_each_windows_maximum() -> None:
    p = pictures("04_conv_backprop")
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = MAXPOOL_GRID.reshape(1, 4, 4, 1)
    yours = maxpool_backward(dout.reshape(1, 2, 2, 1), (x, 2, 2))[0, :, :, 0]
    figure = drawn(
        lambda: p.show_maxpool_routing(MAXPOOL_GRID, 2, 2, dout, yours), "04-maxpool-routing"
    )
    bold = [
        (round(t.get_position()[1]), round(t.get_position()[0]))
        for t in figure.axes[0].texts
        if t.get_fontweight() == "bold"
    ]
    assert sorted(bold) == [(0, 1), (1, 2), (2, 1), (3, 3)]  # 5, 8, 9 and 5
    assert len(figure.axes) == 3 and figure.axes[2].get_title().startswith("your dx")
    # Each window's number on its maximum: 1 on the 5, 2 on the 8, 3 on the 9, 4 on the 5.
    assert [t.get_text() for t in figure.axes[2].texts if t.get_text() != "0"] == list("1234")
    figure = drawn(lambda: p.show_maxpool_routing(MAXPOOL_GRID, 2, 2, dout), "_maxpool")
    assert len(figure.axes) == 2


# ------------------------------------------------------------------------ the notebooks
@pytest.mark.parametrize(
    "assignment", ["01_filters", "02_output_size", "03_conv1x1", "04_conv_backprop"]
)
def test_the_notebook_uses_every_picture_and_draws_none_itself(assignment: str) -> None:
    """The drawing code lives in pictures.py: the notebook only calls it. (The release copy
    of pictures.py is checked with the rest of release/ by test_release.)"""
    import nbformat

    from cnn_course.manifest import ASSIGNMENTS

    path = REPO_ROOT / "source" / assignment / ASSIGNMENTS[assignment][1]
    code = "\n".join(
        c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
    )
    module = pictures(assignment)
    shown = [name for name in dir(module) if name.startswith("show_")]
    assert shown and all(f"{name}(" in code for name in shown)
    for drawing in ("plt.subplots(", "add_patch(", "imshow(", ".set_title("):
        assert drawing not in code, f"{assignment}: the notebook still draws ({drawing})"
