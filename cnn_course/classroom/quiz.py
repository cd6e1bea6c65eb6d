"""Simulated students for 05_quiz: right answers for any student, and typical mistakes.

The quiz's answers depend on who submits, so work comes in two kinds:

* ``CORRECT_STYLES`` and ``MISTAKES`` are answer cells that compute from the notebook's
  ``quiz.numbers(k)``: right (or wrong in one way) for whoever submits them. The generic
  helpers of :mod:`cnn_course.classroom` (``correct_work``, ``mistake_work``) use them.
* :func:`typed_answers` gives one student's answers typed in as values, as a student who
  worked them out by hand would. They are right only for that student: handing them to
  someone else is copying, and :func:`quiz_work` does exactly that when asked.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import nbformat
import numpy as np

from cnn_course.classroom import StudentMistake, Work, fill_notebook
from cnn_course.grading.mistakes import BIAS_FORGOTTEN, CEIL, PADDING_IGNORED, STRIDE_IGNORED
from cnn_course.grading.quiz import WEIGHTS_ONLY, expected_answers
from cnn_course.manifest import QUIZ
from cnn_solutions.quiz import QUESTION_KEYS

ASSIGNMENT = QUIZ.name
VARIANT_LINE = re.compile(r"^STUDENT_ID\s*=.*$", re.MULTILINE)

# --- computed answers: right for every student -------------------------------------------

_NUMPY_STYLE = {
    "q1": "v = quiz.numbers(1)\nq1 = int(np.floor((v.n + 2 * v.padding - v.f) / v.stride)) + 1",
    "q2": (
        "v = quiz.numbers(2)\n"
        "h_out, w_out = (np.array([v.h, v.w]) - v.size) // v.stride + 1\n"
        "q2 = (int(h_out), int(w_out), v.c)"
    ),
    "q3": "v = quiz.numbers(3)\nweights = v.f**2 * v.c_in * v.k\nq3 = weights + v.k",
    "q4": "v = quiz.numbers(4)\nq4 = int(np.prod([v.h, v.w, v.c])) * v.units + v.units",
    "q5": (
        "v = quiz.numbers(5)\n"
        "windows = np.lib.stride_tricks.sliding_window_view(v.image, v.kernel.shape)\n"
        'q5 = int(np.einsum("ab,ab->", windows[v.i, v.j], v.kernel))'
    ),
    "q6": (
        "v = quiz.numbers(6)\n"
        "padded = np.pad(v.image, v.padding)\n"
        "windows = np.lib.stride_tricks.sliding_window_view(padded, v.kernel.shape)\n"
        "windows = windows[:: v.stride, :: v.stride]\n"
        'q6 = np.einsum("rcab,ab->rc", windows, v.kernel).astype(float)'
    ),
    "q7": 'v = quiz.numbers(7)\nq7 = np.einsum("c,ck->k", v.x[v.i, v.j], v.weights) + v.bias',
    "q8": "v = quiz.numbers(8)\nq8 = int(np.prod([v.size, v.size, v.k, v.f, v.f, v.c_in]))",
    "q9": (
        "v = quiz.numbers(9)\n"
        "pixels = v.size * v.size\n"
        "q9 = pixels * v.c_in * v.bottleneck + pixels * v.f * v.f * v.bottleneck * v.k"
    ),
    "q10": (
        "v = quiz.numbers(10)\n"
        "n, f = v.X.shape[0], v.F.shape[0]\n"
        "m = n - f + 1\n"
        "# the windows (a, b) that cover X[i, j], each weighting it by F[i - a, j - b]\n"
        "rows = range(max(0, v.i - f + 1), min(v.i, m - 1) + 1)\n"
        "cols = range(max(0, v.j - f + 1), min(v.j, m - 1) + 1)\n"
        "q10 = sum(v.F[v.i - a, v.j - b] for a in rows for b in cols) / m**2"
    ),
    "q11": (
        "v = quiz.numbers(11)\n"
        "k, s = v.size, v.stride\n"
        "windows = np.lib.stride_tricks.sliding_window_view(v.X, (k, k))[::s, ::s]\n"
        "best = windows.reshape(*windows.shape[:2], k * k).argmax(axis=-1)\n"
        "a, b = np.indices(best.shape)\n"
        "q11 = np.zeros(v.X.shape)\n"
        "np.add.at(q11, (a * s + best // k, b * s + best % k), v.G)"
    ),
}

CORRECT_STYLES: dict[str, dict[str, str]] = {"numpy": _NUMPY_STYLE}


def _mistake(key: str, label: str, code: str, name: str) -> StudentMistake:
    return StudentMistake(key, label, code, name, (f"{key}_check",))


# Each of these gives a wrong value for every student (the numbers are drawn so).
MISTAKES: list[StudentMistake] = [
    _mistake(
        "q1",
        "ceil",
        "import math\n\nv = quiz.numbers(1)\n"
        "q1 = math.ceil((v.n + 2 * v.padding - v.f) / v.stride) + 1",
        CEIL,
    ),
    _mistake(
        "q2",
        "stride 1",
        "v = quiz.numbers(2)\nq2 = (v.h - v.size + 1, v.w - v.size + 1, v.c)",
        STRIDE_IGNORED,
    ),
    _mistake("q3", "no biases", "v = quiz.numbers(3)\nq3 = v.f * v.f * v.c_in * v.k", WEIGHTS_ONLY),
    _mistake(
        "q4", "no biases", "v = quiz.numbers(4)\nq4 = v.h * v.w * v.c * v.units", WEIGHTS_ONLY
    ),
    _mistake(
        "q6",
        "no padding",
        "v = quiz.numbers(6)\n"
        "s, f = v.stride, v.kernel.shape[0]\n"
        "size = (v.image.shape[0] - f) // s + 1\n"
        "q6 = np.zeros((size, size))\n"
        "for r in range(size):\n"
        "    for c in range(size):\n"
        "        q6[r, c] = np.sum(v.image[r * s : r * s + f, c * s : c * s + f] * v.kernel)",
        PADDING_IGNORED,
    ),
    _mistake(
        "q7", "no bias", "v = quiz.numbers(7)\nq7 = v.x[v.i, v.j] @ v.weights", BIAS_FORGOTTEN
    ),
    _mistake(
        "q8",
        "input channels left out",
        "v = quiz.numbers(8)\nq8 = v.size * v.size * v.k * v.f * v.f",
        "input channels forgotten",
    ),
    _mistake(
        "q9",
        "second stage only",
        "v = quiz.numbers(9)\nq9 = v.size * v.size * v.k * v.f * v.f * v.bottleneck",
        "only the f x f stage counted",
    ),
    _mistake(
        "q10",
        "sum instead of mean",
        "v = quiz.numbers(10)\n"
        "n, f = v.X.shape[0], v.F.shape[0]\n"
        "dX = np.zeros((n, n))\n"
        "for a in range(n - f + 1):\n"
        "    for b in range(n - f + 1):\n"
        "        dX[a : a + f, b : b + f] += v.F\n"
        "q10 = float(dX[v.i, v.j])",
        "the mean's 1 / (H_out * W_out) forgotten",
    ),
    _mistake(
        "q11",
        "average-pool gradient",
        "v = quiz.numbers(11)\n"
        "k, s = v.size, v.stride\n"
        "q11 = np.zeros(v.X.shape)\n"
        "for a in range(v.G.shape[0]):\n"
        "    for b in range(v.G.shape[1]):\n"
        "        q11[a * s : a * s + k, b * s : b * s + k] += v.G[a, b] / (k * k)",
        "gradient spread evenly over the window",
    ),
]

# --- typed answers: right for one student --------------------------------------------


def literal(value: Any) -> str:
    """Python source that evaluates to ``value`` in the notebook (``np`` imported there)."""
    if isinstance(value, np.ndarray):
        as_ints = np.array_equal(value, np.round(value))
        items = value.astype(np.int64).tolist() if as_ints else value.tolist()
        return f"np.array({items})"
    if isinstance(value, float):
        return repr(value)  # repr round-trips a float exactly
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(int(value))


def typed_answers(student_id: str) -> dict[str, str]:
    """One student's correct answers typed in as values: ``{"q1": "q1 = 17", ...}``."""
    return {key: f"{key} = {literal(value)}" for key, value in expected_answers(student_id).items()}


def quiz_work(student_id: str, answers_of: str | None = None) -> Work:
    """A submission by ``student_id`` holding the typed answers of ``answers_of``.

    ``answers_of`` defaults to ``student_id`` (honest work); another id makes a copier.
    """
    source = answers_of or student_id
    label = "own answers" if source == student_id else f"answers copied from {source}"
    return Work(ASSIGNMENT, label, typed_answers(source))


def set_variant_cell(notebook: nbformat.NotebookNode, student_id: str) -> nbformat.NotebookNode:
    """A copy of the notebook whose variant cell reads ``STUDENT_ID = "<student_id>"``."""
    changed = copy.deepcopy(notebook)
    for cell in changed.cells:
        meta = cell.metadata.get("nbgrader", {})
        editable = not (meta.get("locked") or meta.get("solution") or meta.get("grade"))
        if cell.cell_type == "code" and editable and VARIANT_LINE.search(cell.source):
            cell.source = VARIANT_LINE.sub(f"STUDENT_ID = {student_id!r}", cell.source, count=1)
            return changed
    raise KeyError("the notebook has no variant cell (a code cell setting STUDENT_ID)")


def quiz_submission(
    release_notebook: nbformat.NotebookNode,
    student_id: str,
    answers_of: str | None = None,
    variant_id: str | None = None,
) -> nbformat.NotebookNode:
    """The release notebook filled in with typed answers, the variant cell optionally set."""
    filled = fill_notebook(release_notebook, quiz_work(student_id, answers_of).code)
    return set_variant_cell(filled, variant_id) if variant_id is not None else filled


__all__ = [
    "ASSIGNMENT",
    "CORRECT_STYLES",
    "MISTAKES",
    "QUESTION_KEYS",
    "literal",
    "typed_answers",
    "quiz_work",
    "set_variant_cell",
    "quiz_submission",
]
