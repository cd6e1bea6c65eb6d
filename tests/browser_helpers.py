"""Helpers for the browser tests: a throw-away course, nbgrader runs, notebook queries,
Chromium, screenshots and the JupyterLab / formgrader pages.

The course is built from the repository's real ``source/<assignment>/`` when it exists, and
otherwise from small toy notebooks written here with the same nbgrader structure (a
``zero_pad`` solution cell and its tests; a manually graded written answer).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from cnn_course.commands import lab

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "browser"
DOC_SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking switches Chromium's first connections fail here.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_REASON = "chromium not installed: apt-get install -y chromium"
UI_TIMEOUT_MS = 60_000  # two shared cores: the first lab load can take a while
NBGRADER_TIMEOUT = 600

FILTERS = ("01_filters", "filters.ipynb")
CONV1X1 = ("03_conv1x1", "conv1x1.ipynb")
CONTRACT_FUNCTIONS = ("zero_pad", "correlate2d", "conv2d", "conv2d_multi")
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


# --------------------------------------------------------------------------- Chromium
def require_chromium() -> Path:
    """Chromium's path; outside CI skip when it is missing, in CI fail."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the browser tests, but {SKIP_REASON}")
    pytest.skip(SKIP_REASON)


# ---------------------------------------------------------------------- toy notebooks
def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _solution(grade_id: str, source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        source, metadata=_meta(grade_id, grade=False, solution=True, locked=False)
    )


def _test(grade_id: str, points: float, source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        source, metadata=_meta(grade_id, grade=True, solution=False, locked=True, points=points)
    )


def toy_filters() -> nbformat.NotebookNode:
    """A small 01_filters: zero_pad (tests worth 1 + 2 points) and correlate2d (2 points)."""
    md = nbformat.v4.new_markdown_cell
    return _notebook(
        [
            md("# Applying a filter (toy)\nImplement `zero_pad`, then `correlate2d`."),
            nbformat.v4.new_code_cell("import numpy as np"),
            # Prose before the first exercise, as in the real notebook: the exercise cell
            # starts below the fold, so the test must find and scroll to it.
            *[md(f"Background, part {i}.\n\n" + "Some explanation. " * 40) for i in range(12)],
            _solution(
                "zero_pad_solution",
                "def zero_pad(image, pad):\n"
                '    """Pad both spatial axes with `pad` zeros on each side.\n\n'
                "    image: (H, W) or (H, W, C); returns (H + 2 pad, W + 2 pad[, C]).\n"
                '    """\n'
                "    ### BEGIN SOLUTION\n"
                "    if pad < 0:\n"
                '        raise ValueError(f"pad must be >= 0, got {pad}")\n'
                "    image = np.asarray(image, dtype=float)\n"
                "    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (image.ndim - 2)\n"
                "    return np.pad(image, widths)\n"
                "    ### END SOLUTION",
            ),
            _test(
                "zero_pad_shape",
                1,
                "assert zero_pad(np.ones((2, 3)), 1).shape == (4, 5)",
            ),
            _test(
                "zero_pad_values",
                2,
                "img = np.arange(6.0).reshape(2, 3)\n"
                "out = zero_pad(img, 2)\n"
                "assert np.array_equal(out[2:4, 2:5], img) and out.sum() == img.sum()\n"
                "### BEGIN HIDDEN TESTS\n"
                "assert zero_pad(np.ones((2, 2, 3)), 1).shape == (4, 4, 3)\n"
                "### END HIDDEN TESTS",
            ),
            _solution(
                "correlate2d_solution",
                "def correlate2d(image, kernel):\n"
                '    """Valid cross-correlation of a 2-D image with a 2-D kernel."""\n'
                "    ### BEGIN SOLUTION\n"
                "    kh, kw = kernel.shape\n"
                "    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))\n"
                "    for i in range(out.shape[0]):\n"
                "        for j in range(out.shape[1]):\n"
                "            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)\n"
                "    return out\n"
                "    ### END SOLUTION",
            ),
            _test(
                "correlate2d_valid",
                2,
                "assert correlate2d(np.ones((4, 4)), np.ones((3, 3))).tolist() == [[9.0, 9.0]] * 2",
            ),
        ]
    )


def toy_conv1x1() -> nbformat.NotebookNode:
    """A small 03_conv1x1: conv1x1 (1 point) and a manually graded written answer (2)."""
    md = nbformat.v4.new_markdown_cell
    answer = md(
        "A 1x1 convolution mixes the channels at every pixel: it changes their number "
        "cheaply (a bottleneck) without looking at neighbours.",
        metadata=_meta("why_1x1", grade=True, solution=True, locked=False, points=2),
    )
    return _notebook(
        [
            md("# 1x1 convolution (toy)"),
            nbformat.v4.new_code_cell("import numpy as np"),
            _solution(
                "conv1x1_solution",
                "def conv1x1(x, weights, bias=None):\n"
                '    """(H, W, C_in) x (C_in, C_out) -> (H, W, C_out)."""\n'
                "    ### BEGIN SOLUTION\n"
                "    out = np.tensordot(x, weights, axes=([2], [0]))\n"
                "    return out if bias is None else out + bias\n"
                "    ### END SOLUTION",
            ),
            _test(
                "conv1x1_shape",
                1,
                "assert conv1x1(np.ones((2, 3, 4)), np.ones((4, 5))).shape == (2, 3, 5)",
            ),
            md("**Question.** Why would a network use a 1x1 convolution?"),
            answer,
        ]
    )


TOYS = {FILTERS[0]: (FILTERS[1], toy_filters), CONV1X1[0]: (CONV1X1[1], toy_conv1x1)}


# ----------------------------------------------------------------------------- course
def default_source_root() -> Path | None:
    """The repository's ``source/``, or None (toys only) when ``BROWSER_TESTS_TOY=1``."""
    return None if os.environ.get("BROWSER_TESTS_TOY") == "1" else REPO / "source"


def build_course(root: Path, assignments: list[str], source_root: Path | None) -> Path:
    """A course directory under ``root`` with the repository's nbgrader config.

    Each assignment comes from ``source_root/<assignment>/`` when its notebook exists
    there, else from the toy notebook above.

    Returns
    -------
    Path
        The course directory.
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / lab.COURSE_CONFIG, root / lab.COURSE_CONFIG)
    for assignment in assignments:
        notebook, make_toy = TOYS[assignment]
        real = source_root / assignment if source_root else None
        if real and (real / notebook).is_file():
            shutil.copytree(real, root / "source" / assignment)
        else:
            (root / "source" / assignment).mkdir(parents=True)
            nbformat.write(make_toy(), root / "source" / assignment / notebook)
    return root


def clean_env(tmp: Path) -> dict[str, str]:
    """os.environ with Jupyter's own state redirected under ``tmp``.

    The tests then neither read nor change the machine's ~/.jupyter (workspaces,
    settings, kernels).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    env["JUPYTER_CONFIG_DIR"] = str(tmp / "jupyter-config")
    env["JUPYTER_DATA_DIR"] = str(tmp / "jupyter-data")
    env["IPYTHONDIR"] = str(tmp / "ipython")
    return env


def nbgrader(course: Path, env: dict[str, str], *args: str) -> str:
    """Run ``nbgrader ARGS`` in the course directory; return its output, raise on failure."""
    exchange = lab.read_course(course).exchange
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}"]
    done = subprocess.run(
        cmd, cwd=course, env=env, capture_output=True, text=True, timeout=NBGRADER_TIMEOUT
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{output}"
    return output


def read_grades_csv(path: Path) -> list[dict[str, str]]:
    """Rows of the ``grades.csv`` that ``nbgrader export`` writes."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# -------------------------------------------------------------------- notebook queries
def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell) -> bool:
    """An autograded test: a graded code cell that students do not write."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def zero_pad_solution_cell(nb) -> nbformat.NotebookNode:
    """The solution cell that defines ``zero_pad``."""
    cells = [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and nbgrader_meta(c).get("solution")
        and "def zero_pad(" in c.source
    ]
    assert len(cells) == 1, f"expected one solution cell defining zero_pad, found {len(cells)}"
    return cells[0]


def is_zero_pad_test(cell) -> bool:
    """A test cell for ``zero_pad``: by grade_id, else by calling zero_pad and nothing else."""
    if not is_test_cell(cell):
        return False
    if "zero_pad" in nbgrader_meta(cell).get("grade_id", ""):
        return True
    called = {f for f in CONTRACT_FUNCTIONS if re.search(rf"\b{f}\s*\(", cell.source)}
    return called == {"zero_pad"}


def points(cells) -> float:
    return sum(float(nbgrader_meta(c).get("points", 0)) for c in cells)


def without_solution_markers(source: str) -> str:
    """The instructor's solution as a student would type it (no nbgrader markers)."""
    kept = [line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS]
    return "\n".join(kept)


def manual_answer_cell(nb) -> nbformat.NotebookNode:
    """The first manually graded written answer (a graded solution cell, markdown first)."""
    cells = [
        c for c in nb.cells if nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")
    ]
    cells.sort(key=lambda c: c.cell_type != "markdown")
    assert cells, "no manually graded answer cell"
    return cells[0]


# ------------------------------------------------------------------------ screenshots
class Shots:
    """Numbered screenshots of one test in ``test-artifacts/browser/<test>/``."""

    def __init__(self, page, name: str) -> None:
        self.page = page
        self.dir = ARTIFACTS / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.count = 0

    def __call__(self, step: str, doc: str | None = None) -> Path:
        """Save the next screenshot; with ``UPDATE_DOC_SCREENSHOTS=1`` also as a doc image.

        ``doc`` names the copy in ``docs/screenshots/`` that ``docs/lab.md`` shows.
        """
        self.count += 1
        path = self.dir / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path))
        if doc and os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1":
            DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOC_SCREENSHOTS / f"{doc}.png")
        return path

    @contextmanager
    def on_failure(self) -> Iterator[None]:
        """Save a ``FAILED`` screenshot if the block raises, then re-raise."""
        try:
            yield
        except BaseException:
            try:
                self("FAILED")
            except Exception:  # the page may be gone; the original error matters more
                pass
            raise


def record_timing(label: str, seconds: float) -> None:
    """Add a wall time to ``test-artifacts/browser/timings.json``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[label] = round(seconds, 1)
    path.write_text(json.dumps(timings, indent=1) + "\n")


# ------------------------------------------------------------------------ lab actions
def open_lab(page, spec: lab.LabSpec) -> None:
    """Load JupyterLab and wait until nbgrader's menu is there."""
    page.goto(spec.url)
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for()


def open_nbgrader_menu(page):
    """Open the Nbgrader main menu; return its locator."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    menu = page.locator(".lm-Menu").filter(has=page.locator('li[data-command^="nbgrader:"]'))
    menu.wait_for()
    return menu


def assignment_rows(page, status: str):
    """Rows of the assignment list section ``released``, ``fetched`` or ``submitted``."""
    return page.locator(f"#{status}_assignments_list > .list_item")


def set_cell_source(page, cell, text: str) -> None:
    """Replace a cell's text the way a user pastes: select all, insert."""
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    # insert_text sends the text as one input, so the editor adds no indentation or
    # closing brackets of its own, as it would for typed keys.
    page.keyboard.insert_text(text)


def editor_text(cell) -> str:
    """The text shown in a cell's editor, line by line."""
    lines = cell.locator(".cm-content .cm-line").all_inner_texts()
    # An empty line renders as a <br>, which inner text reports as a newline of its own.
    return "\n".join(line.replace("\u200b", "").rstrip("\n") for line in lines)


# ------------------------------------------------------------------ static pages offline
# What a page looks like once loaded: its width, text cut at a box's edge, the feedback
# summary's first row, the formulas and any TeX left as text. Text is cut when it is wider
# than its box, or reaches past the window's right edge, unless a box that scrolls
# sideways (a wide table on a phone) holds it: the reader can scroll to it.
PAGE_LAYOUT = """() => {
    const width = window.innerWidth;
    const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
    const inScroller = e => {
        for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
            if (scrolls(a)) return true;
        return false;
    };
    const clipped = [];
    for (const e of document.querySelectorAll('pre, p, li, td, th, h1, h2, h3, h4, table')) {
        const box = e.getBoundingClientRect();
        if (box.width === 0) continue;
        const wider = !scrolls(e) && e.scrollWidth > e.clientWidth + 1;
        if (wider || (box.right > width + 1 && !inScroller(e)))
            clipped.push(`${e.tagName} ${Math.round(box.right)}px: ${e.innerText.slice(0, 60)}`);
    }
    const row = document.querySelector('.cnn-course-summary tr:nth-child(2)');
    const formulas = [...document.querySelectorAll('math')].map(m => {
        const box = m.getBoundingClientRect();
        return [box.width, box.height];
    });
    return {
        pageWidth: document.documentElement.scrollWidth,
        clipped,
        firstRow: row && {bottom: row.getBoundingClientRect().bottom, text: row.innerText},
        formulas,
        tex: document.body.innerText.includes('$$'),
    };
}"""


@contextmanager
def offline_page(browser, width: int, height: int) -> Iterator[tuple[object, list[str]]]:
    """A page at ``width`` x ``height`` that may load files only: every other request is
    refused and listed (the list is yielded with the page)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    refused: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith("file:"):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    try:
        page = context.new_page()
        page.route("**/*", route)
        yield page, refused
    finally:
        context.close()
