"""Grading specs for 04_conv_backprop: layer forward/backward passes and the worked example.

The function specs are in :mod:`backprop_conv`, :mod:`backprop_pooling` and
:mod:`backprop_gradient`, with what they share in :mod:`backprop_common`; this module lists
them in order and holds the worked example's answer specs.
"""

from __future__ import annotations

import numpy as np

from cnn_course.grading.backprop_common import OVERWRITTEN, OVERWRITTEN_ADVICE
from cnn_course.grading.backprop_conv import conv_backward_spec, conv_forward_spec
from cnn_course.grading.backprop_gradient import numerical_gradient_spec
from cnn_course.grading.backprop_pooling import (
    gap_backward_spec,
    gap_forward_spec,
    maxpool_backward_spec,
    maxpool_forward_spec,
)
from cnn_course.grading.check import AnswerMistake, AnswerSpec
from cnn_course.grading.mistakes import (
    FLIPPED,
    FLIPPED_ADVICE,
    SHEET_SLIP,
    TRANSPOSED,
    TRANSPOSED_ADVICE,
)
from cnn_solutions import answers
from cnn_solutions.conv import conv2d

FUNCTIONS = (
    conv_forward_spec,
    conv_backward_spec,
    gap_forward_spec,
    gap_backward_spec,
    maxpool_forward_spec,
    maxpool_backward_spec,
    numerical_gradient_spec,
)

# --- the worked example ---------------------------------------------------------------

X, F = answers.X_example, answers.F_example
WINDOWS = F.shape[0] * F.shape[1]  # y averages 2x2 = 4 output values


def _window_gradients(overwrite: bool, kernel: np.ndarray) -> np.ndarray:
    """dy/dX by scattering each window's 1/4 * kernel, added or (wrongly) overwritten."""
    dx = np.zeros_like(X)
    for i, j in np.ndindex(2, 2):
        share = kernel / WINDOWS
        if overwrite:
            dx[i : i + 2, j : j + 2] = share
        else:
            dx[i : i + 2, j : j + 2] += share
    return dx


def _dF(x: np.ndarray) -> np.ndarray:
    return conv2d(x, np.ones((2, 2))) / WINDOWS


MEAN_SCALE = "the 1/4 of the mean missing"
MEAN_SCALE_ADVICE = (
    "y is the MEAN of the four outputs, so dy/dout = 1/4 for each of them; "
    "multiply every window's contribution by 1/4."
)

ANSWERS = (
    AnswerSpec(
        name="example_output",
        expected=answers.example_output,
        meaning="X cross-correlated with F, a 2x2 array",
        mistakes=(
            AnswerMistake(FLIPPED, FLIPPED_ADVICE, conv2d(X, F[::-1, ::-1])),
            AnswerMistake(TRANSPOSED, TRANSPOSED_ADVICE, conv2d(X, F.T)),
            AnswerMistake(TRANSPOSED, TRANSPOSED_ADVICE, conv2d(X, F).T),
            AnswerMistake(
                SHEET_SLIP,
                "Two entries are sums added up wrong (the worked answer sheet's slip): "
                "O[0, 1] = 3*5 + 1*1 + (-2)*5 = 6 and O[1, 0] = 3*1 + 1*5 + (-2)*(-1) = 10; "
                "add each window's four products again.",
                np.array([[10.0, 3.0], [9.0, 18.0]]),
            ),
        ),
    ),
    AnswerSpec(
        name="example_y",
        expected=answers.example_y,
        meaning="the mean of example_output, a float",
        mistakes=(
            AnswerMistake(
                "sum instead of mean",
                "y is the global AVERAGE of the four outputs: divide their sum by 4.",
                float(answers.example_output.sum()),
            ),
            AnswerMistake(FLIPPED, FLIPPED_ADVICE, float(conv2d(X, F[::-1, ::-1]).mean())),
            AnswerMistake(
                SHEET_SLIP,
                "10 is the mean of the answer sheet's O = [[10, 3], [9, 18]], whose O[0, 1] "
                "and O[1, 0] are added up wrong: the mean step is right, recompute O first.",
                10.0,
            ),
        ),
    ),
    AnswerSpec(
        name="example_dF",
        expected=answers.example_dF,
        meaning="dy/dF, a 2x2 array",
        mistakes=(
            AnswerMistake(MEAN_SCALE, MEAN_SCALE_ADVICE, _dF(X) * WINDOWS),
            AnswerMistake(
                FLIPPED,
                "dF[a, b] sums X[i + a, j + b] over the windows (i, j), weighted by dy/dout: "
                "the kernel position (a, b) meets those X values, no flip.",
                _dF(X)[::-1, ::-1],
            ),
            AnswerMistake(TRANSPOSED, TRANSPOSED_ADVICE, _dF(X).T),
        ),
    ),
    AnswerSpec(
        name="example_dX",
        expected=answers.example_dX,
        meaning="dy/dX, a 3x3 array",
        mistakes=(
            AnswerMistake(MEAN_SCALE, MEAN_SCALE_ADVICE, _window_gradients(False, F) * WINDOWS),
            AnswerMistake(OVERWRITTEN, OVERWRITTEN_ADVICE, _window_gradients(True, F)),
            AnswerMistake(
                FLIPPED,
                "Each window sends back (1/4) * F onto the X values it covered, F[a, b] onto "
                "X[i + a, j + b]: no flip.",
                _window_gradients(False, F[::-1, ::-1]),
            ),
        ),
    ),
)
