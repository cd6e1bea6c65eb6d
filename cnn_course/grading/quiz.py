"""Grading the quiz: each answer against the numbers of the student who submitted it.

In a hidden test cell::

    from cnn_course.grading.quiz import check_quiz
    check_quiz("q1", q1, globals().get("quiz"))

The notebook's ``quiz`` object is not trusted for the numbers: while nbgrader autogrades,
the submitter's id is read from the working directory ``autograded/<id>/<assignment>``
and the numbers are recomputed from it; the notebook's id only serves to tell the student
that the variant cell was changed. Elsewhere (validating, running the source notebook)
the notebook's id is used.

Expected answers come from the reference functions, and so do the typical wrong answers
that the feedback names.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from cnn_course.grading.check import AnswerMistake, AnswerSpec, judge_answer, mistake_lines
from cnn_course.grading.core import GradingFailure, compare
from cnn_course.grading.mistakes import (
    BIAS_FORGOTTEN,
    CEIL,
    CEIL_ADVICE,
    FLIPPED,
    FLIPPED_ADVICE,
    OFF_BY_ONE,
    ONE_SIDE,
    ONE_SIDE_ADVICE,
    PADDING_IGNORED,
    PADDING_IGNORED_ADVICE,
    STRIDE_IGNORED,
    STRIDE_IGNORED_ADVICE,
    TRANSPOSED,
    TRANSPOSED_ADVICE,
)
from cnn_probe import wire
from cnn_solutions.conv import conv2d
from cnn_solutions.conv1x1 import conv1x1, conv_mult_count
from cnn_solutions.layers import conv_backward, conv_forward
from cnn_solutions.pooling import gap_backward, maxpool_backward, maxpool_forward
from cnn_solutions.quiz import (
    QUESTIONS,
    Numbers,
    autograde_student_id,
    question,
    resolve_student_id,
)
from cnn_solutions.shapes import conv_output_size, conv_params, dense_params, pool_output_size

__all__ = [
    "check_quiz",
    "run_quiz_check",
    "quiz_answer_spec",
    "expected_answers",
    "grading_student",
    "WEIGHTS_ONLY",
]

WEIGHTS_ONLY = "counts weights only"
WEIGHTS_ONLY_ADVICE = "Every output unit or filter has one bias too: add one per output."
ROUNDED = "rounded value"
ROUNDED_ADVICE = "Give the exact value: write the fraction itself (e.g. 7 / 9), not 0.78."
# A float answer this close to the expected one, but not equal, was rounded by hand.
ROUNDING_TOLERANCE = 0.01

Mistakes = list[AnswerMistake]


def _m(name: str, advice: str, value: Any) -> AnswerMistake:
    return AnswerMistake(name, advice, value)


# --- expected answers and typical wrong answers, per question ------------------------


def _q1(v: Numbers) -> tuple[int, Mistakes]:
    n, f, s, p = v.n, v.f, v.stride, v.padding
    return conv_output_size(n, f, s, p), [
        _m(CEIL, CEIL_ADVICE, math.ceil((n + 2 * p - f) / s) + 1),
        _m(PADDING_IGNORED, PADDING_IGNORED_ADVICE, (n - f) // s + 1),
        _m(ONE_SIDE, ONE_SIDE_ADVICE, (n + p - f) // s + 1),
        _m(STRIDE_IGNORED, STRIDE_IGNORED_ADVICE, n + 2 * p - f + 1),
        _m(OFF_BY_ONE, "The first window counts too: floor(...) + 1.", (n + 2 * p - f) // s),
    ]


def _q2(v: Numbers) -> tuple[tuple[int, int, int], Mistakes]:
    def shape(size: Callable[[int], int]) -> tuple[int, int, int]:
        return (size(v.h), size(v.w), v.c)

    expected = shape(lambda n: pool_output_size(n, v.size, v.stride))
    return expected, [
        _m(CEIL, CEIL_ADVICE, shape(lambda n: math.ceil((n - v.size) / v.stride) + 1)),
        _m(STRIDE_IGNORED, STRIDE_IGNORED_ADVICE, shape(lambda n: n - v.size + 1)),
        _m(
            "window size used as the stride",
            f"The windows move {v.stride} at a time here, not one window width.",
            shape(lambda n: pool_output_size(n, v.size)),
        ),
        _m(
            "input divided by the window size",
            "Count window positions: floor((n - size) / stride) + 1.",
            shape(lambda n: n // v.size),
        ),
        _m(
            "'same' padding assumed",
            "Pooling here has no padding: floor((n - size) / stride) + 1.",
            shape(lambda n: math.ceil(n / v.stride)),
        ),
        _m(
            "channels left out",
            "Pooling keeps every channel: the shape is (height, width, channels).",
            expected[:2],
        ),
    ]


def _q3(v: Numbers) -> tuple[int, Mistakes]:
    f, c_in, k = v.f, v.c_in, v.k
    return conv_params(f, c_in, k), [
        _m(WEIGHTS_ONLY, WEIGHTS_ONLY_ADVICE, conv_params(f, c_in, k, bias=False)),
        _m(
            "input channels forgotten",
            "Each filter spans every input channel: f * f * c_in weights per filter.",
            conv_params(f, 1, k),
        ),
        _m(
            "filter area taken as f, not f * f",
            "An f x f filter has f * f weights per channel.",
            k * (f * c_in + 1),
        ),
    ]


def _q4(v: Numbers) -> tuple[int, Mistakes]:
    n_in = v.h * v.w * v.c
    return dense_params(n_in, v.units), [
        _m(WEIGHTS_ONLY, WEIGHTS_ONLY_ADVICE, dense_params(n_in, v.units, bias=False)),
        _m(
            "only the channels counted",
            "Flattening keeps every value: the input length is height * width * channels.",
            dense_params(v.c, v.units),
        ),
        _m(
            "one bias per input",
            "There is one bias per unit (output), not per input.",
            n_in * v.units + n_in,
        ),
    ]


def _q5(v: Numbers) -> tuple[int, Mistakes]:
    out = conv2d(v.image, v.kernel)
    i, j = v.i, v.j

    def at(array: np.ndarray, r: int, c: int) -> int:
        return int(round(array[r, c]))

    return at(out, i, j), [
        _m(FLIPPED, FLIPPED_ADVICE, at(conv2d(v.image, v.kernel[::-1, ::-1]), i, j)),
        _m(
            "window centred on the position",
            "output[r, c] uses the window whose top-left corner is image[r, c].",
            at(conv2d(v.image, v.kernel, padding=1), i, j),
        ),
        _m(TRANSPOSED, TRANSPOSED_ADVICE, at(out, j, i)),
        _m("positions counted from 1", "NumPy indices start at 0.", at(out, i - 1, j - 1)),
    ]


def _padded_by(image: np.ndarray, before: int, after: int) -> np.ndarray:
    return np.pad(np.asarray(image, dtype=np.float64), [(before, after)] * 2)


def _q6(v: Numbers) -> tuple[np.ndarray, Mistakes]:
    image, kernel, s, p = v.image, v.kernel, v.stride, v.padding
    expected = conv2d(image, kernel, s, p)
    n, f = image.shape[0], kernel.shape[0]
    # ceil: the last window runs past the padded edge and sees extra zeros.
    extra = (math.ceil((n + 2 * p - f) / s) * s + f) - (n + 2 * p)
    mistakes = [
        _m(PADDING_IGNORED, PADDING_IGNORED_ADVICE, conv2d(image, kernel, s)),
        _m(STRIDE_IGNORED, STRIDE_IGNORED_ADVICE, conv2d(image, kernel, 1, p)),
        _m(FLIPPED, FLIPPED_ADVICE, conv2d(image, kernel[::-1, ::-1], s, p)),
        _m(ONE_SIDE, ONE_SIDE_ADVICE, conv2d(_padded_by(image, p, 0), kernel, s)),
        _m(ONE_SIDE, ONE_SIDE_ADVICE, conv2d(_padded_by(image, 0, p), kernel, s)),
        _m(TRANSPOSED, TRANSPOSED_ADVICE, expected.T),
    ]
    if extra > 0:
        mistakes.append(_m(CEIL, CEIL_ADVICE, conv2d(_padded_by(image, p, p + extra), kernel, s)))
    return expected, mistakes


def _q7(v: Numbers) -> tuple[np.ndarray, Mistakes]:
    out = conv1x1(v.x, v.weights, v.bias)
    mistakes = [
        _m(
            BIAS_FORGOTTEN,
            "Add bias[k] to output channel k.",
            conv1x1(v.x, v.weights)[v.i, v.j],
        ),
        _m(TRANSPOSED, TRANSPOSED_ADVICE, out[v.j, v.i]),
    ]
    if v.weights.shape[0] == v.weights.shape[1]:
        mistakes.append(
            _m(
                "weights transposed",
                "weights[c, k] links input channel c to output channel k: use x[i, j] @ weights.",
                conv1x1(v.x, v.weights.T, v.bias)[v.i, v.j],
            )
        )
    return out[v.i, v.j], mistakes


def _q8(v: Numbers) -> tuple[int, Mistakes]:
    size, f, c_in, k = v.size, v.f, v.c_in, v.k
    valid = size - f + 1
    return conv_mult_count(size, size, f, c_in, k), [
        _m(
            "counted parameters instead",
            "Each of the size * size * k outputs costs f * f * c_in multiplications.",
            conv_params(f, c_in, k, bias=False),
        ),
        _m(
            "input channels forgotten",
            "Each output value is a dot product over f * f * c_in inputs.",
            conv_mult_count(size, size, f, 1, k),
        ),
        _m(
            "'valid' output size used",
            "'Same' padding keeps the output as large as the input.",
            conv_mult_count(valid, valid, f, c_in, k),
        ),
        _m(
            "filter area forgotten",
            "Each output value multiplies a whole f x f x c_in window.",
            size * size * c_in * k,
        ),
    ]


def _q9(v: Numbers) -> tuple[int, Mistakes]:
    size, f, c_in, k, b = v.size, v.f, v.c_in, v.k, v.bottleneck
    first = conv_mult_count(size, size, 1, c_in, b)
    second = conv_mult_count(size, size, f, b, k)
    direct = conv_mult_count(size, size, f, c_in, k)
    both = "Count both stages: the 1x1 reduction and the f x f convolution after it."
    return first + second, [
        _m("only the f x f stage counted", both, second),
        _m("only the 1x1 stage counted", both, first),
        _m("the direct cost (no bottleneck)", "The question is about the bottleneck.", direct),
        _m(
            "second stage given the original channels",
            "After the 1x1 reduction the f x f filters see only the bottleneck's channels.",
            first + direct,
        ),
    ]


def _gap_dx(X: np.ndarray, F: np.ndarray) -> np.ndarray:
    x = np.asarray(X, dtype=np.float64)[None, :, :, None]
    w = np.asarray(F, dtype=np.float64)[:, :, None, None]
    out, cache = conv_forward(x, w, np.zeros(1))
    dx, _, _ = conv_backward(gap_backward(np.ones((1, 1)), out.shape), cache)
    return dx[0, :, :, 0]


def _q10(v: Numbers) -> tuple[float, Mistakes]:
    n, f = v.X.shape[0], v.F.shape[0]
    outputs = (n - f + 1) ** 2
    value = float(_gap_dx(v.X, v.F)[v.i, v.j])
    return value, [
        _m(
            "the mean's 1 / (H_out * W_out) forgotten",
            f"y is the mean of {outputs} outputs, so each one carries a factor 1/{outputs}.",
            value * outputs,
        ),
        _m(
            "divided by the input size",
            f"The mean is over the {outputs} outputs of the convolution, not the {n * n} inputs.",
            value * outputs / (n * n),
        ),
        _m(FLIPPED, FLIPPED_ADVICE, float(_gap_dx(v.X, v.F[::-1, ::-1])[v.i, v.j])),
    ]


def _window_starts(n: int, size: int, stride: int) -> list[int]:
    return list(range(0, n - size + 1, stride))


def _pool_scatter(v: Numbers, place: Callable[[np.ndarray, tuple, float], None]) -> np.ndarray:
    """Loop over the windows, letting ``place`` write each window's gradient into dx."""
    n, size = v.X.shape[0], v.size
    dx = np.zeros((n, n))
    starts = _window_starts(n, size, v.stride)
    for a, r in enumerate(starts):
        for b, c in enumerate(starts):
            place(dx, (slice(r, r + size), slice(c, c + size)), float(v.G[a, b]))
    return dx


def _at_arg(pick: Callable[[np.ndarray], int], X: np.ndarray, add: bool):
    def place(dx: np.ndarray, window: tuple, g: float) -> None:
        block = X[window]
        r, c = np.unravel_index(pick(block), block.shape)
        target = (window[0].start + r, window[1].start + c)
        dx[target] = dx[target] + g if add else g

    return place


def _q11(v: Numbers) -> tuple[np.ndarray, Mistakes]:
    x = np.asarray(v.X, dtype=np.float64)[None, :, :, None]
    _, cache = maxpool_forward(x, v.size, v.stride)
    expected = maxpool_backward(np.asarray(v.G, dtype=np.float64)[None, :, :, None], cache)
    area = v.size * v.size

    def spread(dx: np.ndarray, window: tuple, g: float) -> None:
        dx[window] += g / area

    def copied(dx: np.ndarray, window: tuple, g: float) -> None:
        dx[window] += g

    ones = Numbers(X=v.X, G=np.ones_like(v.G), size=v.size, stride=v.stride)
    return expected[0, :, :, 0], [
        _m(
            "gradient spread evenly over the window",
            "That is average pooling; in max pooling only the maximum receives the gradient.",
            _pool_scatter(v, spread),
        ),
        _m(
            "gradient copied to every position of the window",
            "Only the maximum of each window affects the output, so only it gets a gradient.",
            _pool_scatter(v, copied),
        ),
        _m(
            "overlapping windows overwrite instead of adding",
            "Where windows overlap, a maximum shared by two windows collects both gradients.",
            _pool_scatter(v, _at_arg(np.argmax, v.X, add=False)),
        ),
        _m(
            "gradient sent to the minimum",
            "The gradient goes to each window's largest value.",
            _pool_scatter(v, _at_arg(np.argmin, v.X, add=True)),
        ),
        _m(
            "upstream gradient G ignored",
            "Each maximum receives its window's value of G, not 1.",
            _pool_scatter(ones, _at_arg(np.argmax, v.X, add=True)),
        ),
    ]


ANSWER_RULES: dict[str, Callable[[Numbers], tuple[Any, Mistakes]]] = {
    "q1": _q1,
    "q2": _q2,
    "q3": _q3,
    "q4": _q4,
    "q5": _q5,
    "q6": _q6,
    "q7": _q7,
    "q8": _q8,
    "q9": _q9,
    "q10": _q10,
    "q11": _q11,
}


def quiz_answer_spec(key: str, student_id: str) -> AnswerSpec:
    """The expected answer to one question for one student, and its typical wrong answers."""
    q = question(key)
    expected, mistakes = ANSWER_RULES[q.key](q.numbers(student_id))
    # A "mistake" that gives the right value here is no mistake: leave it out.
    distinct = tuple(m for m in mistakes if compare(expected, m.value) is not None)
    meaning = f"{q.answer_type}, {q.title[0].lower()}{q.title[1:]}"
    return AnswerSpec(name=q.key, expected=expected, meaning=meaning, mistakes=distinct)


def expected_answers(student_id: str) -> dict[str, Any]:
    """Every question's expected answer for one student, by question key."""
    return {q.key: quiz_answer_spec(q.key, student_id).expected for q in QUESTIONS}


# --- whose quiz is this --------------------------------------------------------------


def grading_student(shown_for: str | None, submitter: str | None) -> tuple[str, list[str]]:
    """The id to grade with, and notes for the student about the notebook's variant.

    Parameters
    ----------
    shown_for : str or None
        Whose questions the notebook's ``quiz`` shows, as the kernel reported it (not
        trusted: it only decides the note); None if the variant cells did not run.
    submitter : str or None
        Who submitted the notebook, from nbgrader (trusted); None outside autograding.

    Returns
    -------
    student_id : str
        The submitter's id while autograding, else the notebook's id.
    notes : list of str
        Lines for the feedback, e.g. that the variant cell was changed.
    """
    if submitter is None:
        if shown_for is None:
            return resolve_student_id()[0], []
        return shown_for, []
    if shown_for is None:
        return submitter, [
            "  Note: the notebook's variant cells did not run; graded with the numbers of "
            f"{submitter!r}, who submitted it."
        ]
    if shown_for != submitter:
        return submitter, [
            f"  Note: the variant cell was changed: this notebook shows the questions of "
            f"{shown_for!r}, but {submitter!r} submitted it, so it is graded with the "
            f"numbers of {submitter!r}."
        ]
    return submitter, []


def _numbers_lines(student_id: str, numbers: Numbers) -> list[str]:
    scalars = ", ".join(f"{k} = {v}" for k, v in numbers.items() if not isinstance(v, np.ndarray))
    lines = [f"  Your numbers (student {student_id!r}): {scalars}".rstrip(": ")]
    lines += [f"    {k} = {v.tolist()}" for k, v in numbers.items() if isinstance(v, np.ndarray)]
    return lines


def _rounded(expected: Any, value: Any) -> bool:
    if not isinstance(expected, float) or isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return abs(number - expected) <= ROUNDING_TOLERANCE * max(1.0, abs(expected))


def judge_quiz(
    key: str, value: Any, shown_for: str | None = None, submitter: str | None = None
) -> str:
    """Check one answer (plain data) against the grading student's numbers; summary or raise.

    Raises
    ------
    GradingFailure
        With the student's numbers, the expected answer, the answer given, the likely
        mistake where one is recognised, and any note about the variant cell.
    """
    student_id, notes = grading_student(shown_for, submitter)
    spec = quiz_answer_spec(key, student_id)
    try:
        summary = judge_answer(spec, value)
    except GradingFailure as failure:
        first, *rest = failure.report.splitlines()
        extra = []
        if _rounded(spec.expected, value):
            extra = mistake_lines(((ROUNDED, ROUNDED_ADVICE),))
        numbers = _numbers_lines(student_id, question(key).numbers(student_id))
        report = "\n".join([first, *numbers, *rest, *extra, *notes])
        raise GradingFailure(report) from None
    return "\n".join([f"{summary} (student {student_id!r})", *notes])


def _shown_for(notebook_quiz: object) -> str | None:
    if notebook_quiz is None or isinstance(notebook_quiz, str):
        return notebook_quiz
    shown = getattr(notebook_quiz, "student_id", None)
    return None if shown is None else str(shown)


def run_quiz_check(key: str, value: Any, notebook_quiz: object = None) -> str:
    """:func:`judge_quiz` on a value at hand, after the wire format's round trip.

    ``notebook_quiz`` is the notebook's ``quiz`` (or its student id): whose questions the
    notebook shows.
    """
    plain = wire.decode(json.loads(json.dumps(wire.encode(value))))
    return judge_quiz(key, plain, _shown_for(notebook_quiz), autograde_student_id())


def check_quiz(key: str, value: Any, notebook_quiz: object = None) -> None:
    """Judge one quiz answer here and print the verdict, or raise (see :mod:`cnn_probe`)."""
    print(run_quiz_check(key, value, notebook_quiz))
