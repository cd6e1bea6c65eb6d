"""Faulty submissions for ``tests/test_faults.py``: what students get wrong by accident.

Each fault is written the way it happens: an endless loop, a crash, a memory or output
flood, a broken or misnamed file, cells deleted, moved, copied or changed in type, edited
cell metadata. Builders take the release notebook of ``03_conv1x1`` and the instructor's
solutions (as a student would type them) and return what the student hands in.
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cnn_course.classroom import fill_notebook

ASSIGNMENT = "03_conv1x1"
NOTEBOOK = "conv1x1.ipynb"
VENV_BIN = Path(sys.executable).parent

# Points of every autograded cell (why_1x1, 5 points, is graded by hand).
POINTS = {
    "conv1x1_basic": 4.0,
    "conv1x1_channels": 5.0,
    "conv1x1_bias": 4.0,
    "conv1x1_integer": 3.0,
    "conv1x1_errors": 4.0,
    "conv_mult_count_basic": 5.0,
    "conv_mult_count_channels": 5.0,
    "direct_mults_check": 5.0,
    "bottleneck_mults_check": 5.0,
    "reduction_params_check": 5.0,
}
CONV1X1_CELLS = tuple(c for c in POINTS if c.startswith("conv1x1_"))
# Cells that call conv_mult_count: its checks, and the answers computed with it.
MULT_COUNT_CELLS = (
    "conv_mult_count_basic",
    "conv_mult_count_channels",
    "direct_mults_check",
    "bottleneck_mults_check",
)


def code(source: str) -> str:
    return textwrap.dedent(source).strip() + "\n"


# --- faulty code, as students write it --------------------------------------------------

LOOP_FOREVER = code(
    """
    def conv1x1(x, weights, bias=None):
        out = np.zeros(x.shape[:2] + (weights.shape[1],))
        i = 0
        while i < x.shape[0]:  # i is never incremented
            out[i] = x[i] @ weights
        return out
    """
)
# At top level of an answer cell, not in a function the grader calls.
LOOP_AT_TOP_LEVEL = code(
    """
    total = 0
    k = 0
    while k < 5:  # k is never incremented
        total += 28 * 28
    direct_mults = conv_mult_count(28, 28, 5, 192, 32)
    """
)
# Counted by summing a range, with ``**`` typed for ``*``: 10**13 terms added up inside
# one C call of ``sum``, which never checks for signals, so that neither the grading
# engine's alarm nor nbgrader's interrupt gets through (a huge ``**`` alone would:
# CPython's big-integer arithmetic does check).
C_LOOP = code(
    """
    direct_mults = sum(range(28 * 28 * 32 ** 5 * 5 * 192))
    """
)
EXIT_PROCESS = code(
    """
    import os

    def conv_mult_count(h_out, w_out, f, c_in, c_out):
        count = h_out * w_out * c_out * f * f * c_in
        print(count)
        os._exit(0)  # left over from a script: "stop here"; in a kernel it ends the process
    """
)
# After the function, "so that the rest does not run": the kernel stops 0.1 s later.
QUIT = code(
    """
    def conv1x1(x, weights, bias=None):
        out = np.asarray(x, dtype=float) @ weights
        return out if bias is None else out + bias

    quit()
    """
)
# Pixels as rows of a strided view, with ``**`` typed for ``*`` in the row stride: the view
# reaches terabytes past the array, and reading it is a segmentation fault.
SEGFAULT = code(
    """
    def conv1x1(x, weights, bias=None):
        h, w, c_in = x.shape
        pixels = np.lib.stride_tricks.as_strided(
            x, shape=(h * w, c_in), strides=(x.strides[1] ** 8, x.strides[2])
        )
        out = (pixels @ weights).reshape(h, w, -1)
        return out if bias is None else out + bias
    """
)
MEMORY_BOMB = code(
    """
    def conv_mult_count(h_out, w_out, f, c_in, c_out):
        cache = []
        count = 0
        while count != h_out * w_out * f * f * c_in * c_out:
            cache.append(np.ones(10**8))  # meant to cache one small table
            count += 1
        return count
    """
)
RECURSION_ERROR = code(
    """
    def conv_mult_count(h_out, w_out, f, c_in, c_out):
        if h_out == 0:
            return 0
        return f * f * c_in * w_out * c_out + conv_mult_count(h_out, w_out, f, c_in, c_out)
    """
)
# A raised recursion limit and recursion through a generator: each level costs C stack, so
# the process overflows its stack instead of raising RecursionError.
STACK_OVERFLOW = code(
    """
    import sys

    sys.setrecursionlimit(10**7)

    def conv_mult_count(h_out, w_out, f, c_in, c_out):
        if h_out == 0:
            return 0
        rows = (conv_mult_count(h_out, w_out, f, c_in, c_out) for _ in range(1))
        return f * f * c_in * w_out * c_out + sum(rows)
    """
)
PRINT_FLOOD_LINES = 200_000
PRINT_FLOOD = code(
    f"""
    for step in range({PRINT_FLOOD_LINES}):
        print("debug step", step)
    direct_mults = conv_mult_count(28, 28, 5, 192, 32)
    """
)
LINE_FLOOD_CHARS = 4_000_000
# One enormous printed line, and an enormous value as the cell's result: two outputs that
# nbgrader's line limit lets through whole.
LINE_FLOOD = code(
    f"""
    print("debug " * {LINE_FLOOD_CHARS // 6})
    direct_mults = conv_mult_count(28, 28, 5, 192, 32)
    "x" * {LINE_FLOOD_CHARS}
    """
)
# Correct, but noisy on stderr in all three ways, when defined and when called.
STDERR_NOISE = code(
    """
    import os
    import sys
    import warnings

    warnings.warn("defining conv_mult_count")
    print("debug: defining conv_mult_count", file=sys.stderr)
    os.write(2, b"C-level: defining conv_mult_count\\n")

    def conv_mult_count(h_out, w_out, f, c_in, c_out):
        warnings.warn("counting multiplications")
        print("debug: counting", file=sys.stderr)
        os.write(2, b"C-level: counting\\n")
        return h_out * w_out * c_out * f * f * c_in
    """
)
# Wrong only in one place, so that only conv1x1_bias fails.
BIAS_FORGOTTEN = code(
    """
    def conv1x1(x, weights, bias=None):
        x = np.asarray(x, dtype=float)
        if x.shape[-1] != weights.shape[0]:
            raise ValueError("x and weights disagree on the number of channels")
        if bias is not None and np.shape(bias) != (weights.shape[1],):
            raise ValueError("one bias per output channel")
        return x @ weights  # the bias is checked, then never added
    """
)
BIAS_CELLS = ("conv1x1_bias",)
# Extra files next to the notebook; each leaves a marker in the working directory if it
# is ever imported or executed.
SHADOW_MODULE = 'open("{name}_was_executed.txt", "w").close()\n'
EXTRA_FILES = {
    "numpy.py": SHADOW_MODULE.format(name="numpy"),
    "matplotlib.py": SHADOW_MODULE.format(name="matplotlib"),
    "helper.py": SHADOW_MODULE.format(name="helper"),
    "notes.txt": "remember: channels last\n",
    "weights.npy": "\x93NUMPY not really\n",
}
SCRATCH_CELL = 'open("scratch_was_executed.txt", "w").close()'
# A cell the student added: works only with the real numpy and matplotlib imported.
MODULE_PROBE = 'print("MODULES", np.ones(2).sum(), callable(plt.subplots))'


# --- notebook surgery -------------------------------------------------------------------


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def index_of(notebook: nbformat.NotebookNode, wanted: str) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if grade_id(cell) == wanted)


def without_cells(notebook: nbformat.NotebookNode, ids: set[str]) -> nbformat.NotebookNode:
    """The notebook with the cells of these grade ids deleted."""
    changed = copy.deepcopy(notebook)
    changed.cells = [cell for cell in changed.cells if grade_id(cell) not in ids]
    return changed


def moved_before(
    notebook: nbformat.NotebookNode, moving: str, anchor: str
) -> nbformat.NotebookNode:
    """The notebook with cell ``moving`` dragged above cell ``anchor``."""
    changed = copy.deepcopy(notebook)
    cell = changed.cells.pop(index_of(changed, moving))
    changed.cells.insert(index_of(changed, anchor), cell)
    return changed


def with_copied_cell(notebook: nbformat.NotebookNode, wanted: str) -> nbformat.NotebookNode:
    """The notebook with a cell copied and pasted below itself, metadata and all.

    The copy gets its own cell id, as JupyterLab gives it; the nbgrader metadata is the
    same, as JupyterLab's copy and paste keeps it.
    """
    changed = copy.deepcopy(notebook)
    position = index_of(changed, wanted)
    pasted = copy.deepcopy(changed.cells[position])
    pasted["id"] = f"{pasted.get('id', 'cell')}-copy"
    changed.cells.insert(position + 1, pasted)
    return changed


def with_markdown_cell(notebook: nbformat.NotebookNode, wanted: str) -> nbformat.NotebookNode:
    """The notebook with a code cell's type switched to Markdown (key ``m`` in Jupyter)."""
    changed = copy.deepcopy(notebook)
    position = index_of(changed, wanted)
    cell = changed.cells[position]
    markdown = new_markdown_cell(cell.source, metadata=cell.metadata)
    markdown["id"] = cell.get("id", markdown["id"])
    changed.cells[position] = markdown
    return changed


def with_metadata(
    notebook: nbformat.NotebookNode, changes: Mapping[str, Mapping[str, object]]
) -> nbformat.NotebookNode:
    """The notebook with some cells' nbgrader metadata edited (grade id -> new values)."""
    changed = copy.deepcopy(notebook)
    for cell in changed.cells:
        if grade_id(cell) in changes:
            cell.metadata.nbgrader.update(changes[grade_id(cell)])
    return changed


def with_added_cell(notebook: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """The notebook with a cell of the student's own appended."""
    changed = copy.deepcopy(notebook)
    changed.cells.append(new_code_cell(source))
    return changed


def filled(
    release: nbformat.NotebookNode, solutions: Mapping[str, str], **replaced: str
) -> nbformat.NotebookNode:
    """The release notebook with the solutions typed in, some of them replaced."""
    return fill_notebook(release, {**solutions, **replaced})


def scratch_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(SCRATCH_CELL)])


# --- checking ---------------------------------------------------------------------------


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder``, by relative path (symlinks not followed)."""
    digests = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digests[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def tool_env(**extra: str) -> dict[str, str]:
    """This venv's tools first on ``PATH``, plus ``extra`` variables."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def run_tool(
    args: list[str], cwd: Path, timeout: float = 900, **env: str
) -> subprocess.CompletedProcess:
    """Run one of this venv's console tools (``cnn-course``, ``nbgrader``) and capture it."""
    return subprocess.run(
        [str(VENV_BIN / args[0]), *args[1:]],
        cwd=cwd,
        env=tool_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def traversable_dir(prefix: str) -> Iterator[Path]:
    """A fresh folder the sandbox user may enter, removed afterwards.

    pytest's own temporary folders are private to their owner (mode 700), and the grading
    kernel, run as an unprivileged user, must reach ``autograded/<student>/<assignment>``.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_as_autograding(tmp_path: Path, source: str) -> str:
    """Run ``source`` as a script in a fresh process that grades as autograding does.

    With ``NBGRADER_EXECUTION=autograde``, as nbgrader sets it for the kernel. Returns the
    script's stdout.
    """
    script = tmp_path / "autograding.py"
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "NBGRADER_EXECUTION": "autograde"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
