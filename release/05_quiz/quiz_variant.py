"""Your quiz numbers: every student gets their own, derived from their student id.

The numbers of each question come from a SHA-256 hash of the student id, so the same id
gives the same numbers on every computer, in every Python version, forever; and two
students almost never share a question's numbers. The grader recomputes the numbers of
the student who submitted the notebook, so an id typed into the notebook changes only
which questions you see, never what is checked.

This file only makes numbers and question texts; it does not know the answers.
Editing it changes nothing that is graded: the grader keeps its own copy.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Changing the edition gives every student new numbers (a new term, a leaked variant).
QUIZ_EDITION = "cnn-course quiz, edition 1"
# Enough attempts that a rejection loop never runs out for any id (checked for 200 ids).
MAX_ATTEMPTS = 1000
FALLBACK_ID = "student"


# --- who is the student ----------------------------------------------------------------


def autograde_student_id(cwd: Path | str | None = None) -> str | None:
    """The submitter's id while nbgrader autogrades, from ``autograded/<id>/<assignment>``.

    The folder is ``cwd``, else the one the grading kernel says nbgrader ran the notebook
    in (``CNN_NOTEBOOK_DIR``: it may work in a private copy elsewhere), else the working
    directory. Returns None outside autograding or when the folder does not have that form.
    """
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return None
    here = Path(cwd or os.environ.get("CNN_NOTEBOOK_DIR") or Path.cwd())
    if here.parent.parent.name != "autograded" or not here.parent.name:
        return None
    return here.parent.name


def login_name() -> tuple[str, str]:
    """The logged-in user's name and where it came from (JupyterHub first, then the OS)."""
    hub_user = os.environ.get("JUPYTERHUB_USER", "").strip()
    if hub_user:
        return hub_user, "your JupyterHub login"
    try:
        # getpass reads LOGNAME/USER/... and then the password database (pwd).
        return getpass.getuser(), "your computer's user name"
    except Exception:  # noqa: BLE001 -- no user name at all (some containers): still run
        return FALLBACK_ID, "a placeholder: set STUDENT_ID in the variant cell"


def resolve_student_id(override: object = None) -> tuple[str, str]:
    """The student id the quiz uses, and where it came from.

    Parameters
    ----------
    override : object, optional
        The variant cell's ``STUDENT_ID``; None or an empty string means "not set".

    Returns
    -------
    student_id, source : str, str
    """
    if override is not None and str(override).strip():
        return str(override).strip(), "the variant cell"
    submitter = autograde_student_id()
    if submitter is not None:
        return submitter, "the autograder (the id you submitted with)"
    return login_name()


# --- deterministic draws ---------------------------------------------------------------


class Draws:
    """Pseudo-random integers from SHA-256 of a key: identical everywhere, forever.

    NumPy's generators may change their streams between versions; a hash does not.
    """

    def __init__(self, *key: str) -> None:
        self._key = "\x1f".join(key)
        self._counter = 0

    def _word(self) -> int:
        data = f"{self._key}\x1f{self._counter}".encode()
        self._counter += 1
        return int.from_bytes(hashlib.sha256(data).digest()[:8], "big")

    def integer(self, low: int, high: int) -> int:
        """An int in ``[low, high]`` (both included); the modulo bias is below 1e-15."""
        return low + self._word() % (high - low + 1)

    def choice(self, options: tuple) -> Any:
        return options[self._word() % len(options)]

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> np.ndarray:
        count = int(np.prod(shape))
        values = [self.integer(low, high) for _ in range(count)]
        return np.array(values, dtype=np.int64).reshape(shape)

    def permutation(self, values: list[int]) -> list[int]:
        """A shuffled copy (Fisher-Yates)."""
        out = list(values)
        for i in range(len(out) - 1, 0, -1):
            j = self.integer(0, i)
            out[i], out[j] = out[j], out[i]
        return out


class Numbers(dict):
    """One question's numbers; read them as ``v["n"]`` or ``v.n``. Arrays are read-only."""

    def __init__(self, **values: Any) -> None:
        for value in values.values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        super().__init__(**values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"this question has no number {name!r}") from None


def _until(draws: Draws, make: Callable[[Draws], Numbers | None]) -> Numbers:
    """Draw until ``make`` accepts (returns Numbers rather than None)."""
    for _ in range(MAX_ATTEMPTS):
        numbers = make(draws)
        if numbers is not None:
            return numbers
    raise RuntimeError("no well-posed numbers found; change QUIZ_EDITION")


def _not_flip_symmetric(kernel: np.ndarray) -> bool:
    # A kernel equal to its 180-degree rotation cannot tell correlation from convolution.
    return bool(kernel.any()) and not np.array_equal(kernel, kernel[::-1, ::-1])


# --- the questions' numbers ------------------------------------------------------------


def _conv_size(d: Draws) -> Numbers | None:
    n, f = d.integer(32, 227), d.choice((3, 5, 7, 11))
    stride, padding = d.choice((2, 3, 4)), d.integer(0, 3)
    # The division must leave a remainder, so that rounding down matters.
    if (n + 2 * padding - f) % stride == 0 or padding >= f:
        return None
    return Numbers(n=n, f=f, stride=stride, padding=padding)


def _pool_shape(d: Draws) -> Numbers | None:
    h, w = d.integer(20, 120), d.integer(20, 120)
    size, stride = d.choice(((2, 2), (3, 2), (3, 3), (4, 2), (5, 3)))
    c = d.choice((16, 24, 32, 48, 64, 96, 128, 192, 256))
    if h == w or ((h - size) % stride == 0 and (w - size) % stride == 0):
        return None
    return Numbers(h=h, w=w, c=c, size=size, stride=stride)


def _conv_params(d: Draws) -> Numbers:
    f = d.choice((3, 5, 7))
    c_in = d.choice((1, 3, 16, 24, 32, 48, 64, 96, 128))
    k = d.choice((8, 16, 32, 48, 64, 96, 128, 256))
    return Numbers(f=f, c_in=c_in, k=k)


def _dense_params(d: Draws) -> Numbers:
    h, w = d.integer(2, 12), d.integer(2, 12)
    c = d.choice((8, 16, 32, 64, 128, 256))
    units = d.choice((10, 16, 32, 64, 100, 128, 256, 512))
    return Numbers(h=h, w=w, c=c, units=units)


def _filter_value(d: Draws) -> Numbers | None:
    image = d.integers(0, 9, (6, 6))
    kernel = d.integers(-3, 3, (3, 3))
    i, j = d.integer(1, 3), d.integer(1, 3)
    if i == j or not _not_flip_symmetric(kernel):
        return None
    return Numbers(image=image, kernel=kernel, i=i, j=j)


# (image size, kernel size, stride, padding): small enough to do by hand.
_STRIDED_CONFIGS = (
    (5, 3, 2, 1),
    (6, 3, 2, 1),
    (7, 3, 2, 1),
    (5, 2, 2, 1),
    (6, 2, 2, 1),
    (6, 3, 3, 1),
    (7, 3, 3, 1),
    (7, 2, 3, 1),
)


def _strided_conv(d: Draws) -> Numbers | None:
    n, f, stride, padding = d.choice(_STRIDED_CONFIGS)
    image = d.integers(0, 9, (n, n))
    kernel = d.integers(-2, 2, (f, f))
    if not _not_flip_symmetric(kernel):
        return None
    return Numbers(image=image, kernel=kernel, stride=stride, padding=padding)


def _pointwise(d: Draws) -> Numbers | None:
    c_out = d.choice((2, 3))
    x = d.integers(0, 5, (3, 3, 3))
    weights = d.integers(-3, 3, (3, c_out))
    bias = np.array([d.choice((-5, -4, -3, -2, -1, 1, 2, 3, 4, 5)) for _ in range(c_out)])
    i, j = d.integer(0, 2), d.integer(0, 2)
    if i == j or not weights.any():
        return None
    return Numbers(x=x, weights=weights, bias=bias, i=i, j=j)


def _layer(d: Draws) -> Numbers | None:
    size, f = d.integer(8, 64), d.choice((3, 5))
    c_in = d.choice((32, 64, 96, 128, 192, 256, 384, 512))
    k = d.choice((16, 32, 48, 64, 96, 128))
    bottleneck = d.choice((8, 16, 24, 32, 48, 64))
    if 4 * bottleneck > c_in:
        return None
    return Numbers(size=size, c_in=c_in, k=k, f=f, bottleneck=bottleneck)


def _direct_layer(d: Draws) -> Numbers | None:
    layer = _layer(d)
    if layer is None:
        return None
    return Numbers(**{key: v for key, v in layer.items() if key != "bottleneck"})


def _gap_gradient(d: Draws) -> Numbers:
    n, f = d.choice(((3, 2), (4, 2), (4, 3), (5, 2), (5, 3)))
    X = d.integers(0, 9, (n, n))
    F = d.integers(1, 9, (f, f))
    return Numbers(X=X, F=F, i=d.integer(0, n - 1), j=d.integer(0, n - 1))


def _maxpool_gradient(d: Draws) -> Numbers:
    n, size, stride = d.choice(((4, 2, 2), (6, 2, 2), (5, 3, 2), (6, 3, 3), (4, 3, 1)))
    # Distinct values: every window has exactly one maximum.
    X = np.array(d.permutation(list(range(1, n * n + 1))), dtype=np.int64).reshape(n, n)
    out = (n - size) // stride + 1
    G = d.integers(1, 9, (out, out))
    return Numbers(X=X, G=G, size=size, stride=stride)


# --- the questions' texts --------------------------------------------------------------


def _a(number: int) -> str:
    """ "a" or "an" before a number as it is read aloud: an 8x8, an 11x11, a 5x5, a 180."""
    spoken_with_vowel = str(number).startswith("8") or number in (11, 18)
    return "an" if spoken_with_vowel else "a"


def _array(a: np.ndarray, indent: str = "    ") -> str:
    body = np.array2string(np.asarray(a), separator=", ")
    return indent + body.replace("\n", "\n" + indent)


def _ask_conv_size(v: Numbers) -> str:
    return (
        f"A convolution layer slides {_a(v.f)} {v.f}x{v.f} filter over {_a(v.n)} {v.n}x{v.n} "
        f"input with stride {v.stride} and padding {v.padding} (zeros on each side).\n"
        "What is the width of its output?\n"
        f"    n = {v.n}, f = {v.f}, stride = {v.stride}, padding = {v.padding}"
    )


def _ask_pool_shape(v: Numbers) -> str:
    return (
        f"Max pooling with {_a(v.size)} {v.size}x{v.size} window and stride {v.stride} "
        f"(no padding) is applied to a feature map of shape ({v.h}, {v.w}, {v.c}) "
        "(height, width, channels).\n"
        "What is the shape of its output, as a tuple (height, width, channels)?"
    )


def _ask_conv_params(v: Numbers) -> str:
    return (
        f"A convolution layer has {v.k} filters of size {v.f}x{v.f} and its input has "
        f"{v.c_in} channel{'s' if v.c_in > 1 else ''}.\n"
        "How many trainable parameters does it have, biases included?"
    )


def _ask_dense_params(v: Numbers) -> str:
    return (
        f"A feature map of shape ({v.h}, {v.w}, {v.c}) is flattened and fed to a dense layer "
        f"with {v.units} units.\n"
        "How many trainable parameters does that dense layer have, biases included?"
    )


def _ask_filter_value(v: Numbers) -> str:
    return (
        "The kernel below is slid over the image below (cross-correlation as in every deep "
        "learning framework, stride 1, no padding).\n"
        f"What is the output value at row {v.i}, column {v.j}? (Indices start at 0: "
        "output[r, c] comes from the window whose top-left corner is image[r, c].)\n"
        f"  image =\n{_array(v.image)}\n  kernel =\n{_array(v.kernel)}"
    )


def _ask_strided_conv(v: Numbers) -> str:
    return (
        f"The kernel below is slid over the image below with stride {v.stride} and "
        f"padding {v.padding} (zeros on each side), as cross-correlation.\n"
        "What is the whole output? Give a 2-D NumPy array.\n"
        f"  image =\n{_array(v.image)}\n  kernel =\n{_array(v.kernel)}"
    )


def _ask_pointwise(v: Numbers) -> str:
    c_out = v.weights.shape[1]
    channels = "\n".join(f"  x[:, :, {c}] =\n{_array(v.x[:, :, c])}" for c in range(v.x.shape[2]))
    return (
        f"A 1x1 convolution with weights of shape {v.weights.shape} (C_in, C_out) and a bias "
        f"of shape ({c_out},) is applied to the 3x3x3 input x, shown channel by channel.\n"
        f"What is the output at row {v.i}, column {v.j}? Give a NumPy array of shape "
        f"({c_out},), one value per output channel.\n"
        f"{channels}\n  weights =\n{_array(v.weights)}\n  bias = {v.bias.tolist()}"
    )


def _ask_direct(v: Numbers) -> str:
    return (
        f"A convolution layer maps {_a(v.size)} {v.size}x{v.size}x{v.c_in} input to "
        f"{v.size}x{v.size}x{v.k} with {v.k} filters of size {v.f}x{v.f} "
        "('same' padding, stride 1).\n"
        "How many multiplications does it perform?"
    )


def _ask_bottleneck(v: Numbers) -> str:
    return (
        f"The same kind of layer ({v.size}x{v.size}x{v.c_in} input, {v.k} filters "
        f"{v.f}x{v.f}, 'same' padding, stride 1) is built as a bottleneck: first a 1x1 "
        f"convolution down to {v.bottleneck} channels, then the {v.f}x{v.f} convolution to "
        f"{v.k} channels.\n"
        "How many multiplications do the two stages perform together?"
    )


def _ask_gap_gradient(v: Numbers) -> str:
    return (
        "X is cross-correlated with F (stride 1, no padding, no bias) and global average "
        "pooling takes the mean of the result: y = mean(correlate(X, F)). The loss is L = y.\n"
        f"What is dL/dX[{v.i}, {v.j}]? Give a float (an exact value such as 7 / 9, "
        "not a rounded one).\n"
        f"  X =\n{_array(v.X)}\n  F =\n{_array(v.F)}"
    )


def _ask_maxpool_gradient(v: Numbers) -> str:
    n = v.X.shape[0]
    return (
        f"Max pooling with {_a(v.size)} {v.size}x{v.size} window and stride {v.stride} is "
        "applied to X (every window has a single maximum). The gradient of the loss with "
        "respect to the pooled output is G.\n"
        f"What is dL/dX? Give {_a(n)} {n}x{n} NumPy array.\n"
        f"  X =\n{_array(v.X)}\n  G =\n{_array(v.G)}"
    )


@dataclass(frozen=True)
class Question:
    """One quiz question: how its numbers are drawn and how it is asked."""

    key: str
    title: str
    answer_type: str
    make: Callable[[Draws], Numbers | None]
    ask: Callable[[Numbers], str]
    stream: str = ""  # questions sharing a stream share their numbers' draws

    def numbers(self, student_id: str) -> Numbers:
        return _until(Draws(QUIZ_EDITION, self.stream or self.key, student_id), self.make)


QUESTIONS: tuple[Question, ...] = (
    Question("q1", "Output size of a strided convolution", "int", _conv_size, _ask_conv_size),
    Question("q2", "Output shape of max pooling", "tuple", _pool_shape, _ask_pool_shape),
    Question("q3", "Parameters of a convolution layer", "int", _conv_params, _ask_conv_params),
    Question("q4", "Parameters of a dense layer", "int", _dense_params, _ask_dense_params),
    Question("q5", "One output value of a filter", "int", _filter_value, _ask_filter_value),
    Question("q6", "A strided, padded convolution", "array", _strided_conv, _ask_strided_conv),
    Question("q7", "A 1x1 convolution at one pixel", "array", _pointwise, _ask_pointwise),
    Question("q8", "Multiplications of a convolution", "int", _direct_layer, _ask_direct, "layer"),
    Question("q9", "Multiplications of a 1x1 bottleneck", "int", _layer, _ask_bottleneck, "layer"),
    Question("q10", "Gradient through a conv and GAP", "float", _gap_gradient, _ask_gap_gradient),
    Question(
        "q11", "Gradient through max pooling", "array", _maxpool_gradient, _ask_maxpool_gradient
    ),
)
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)


def question(which: int | str) -> Question:
    """A question by number (1) or key ("q1")."""
    key = f"q{which}" if isinstance(which, int) else str(which)
    for q in QUESTIONS:
        if q.key == key:
            return q
    raise KeyError(f"no question {which!r}; the quiz has {', '.join(QUESTION_KEYS)}")


def make_numbers(student_id: str) -> dict[str, Numbers]:
    """Every question's numbers for one student id, by question key."""
    return {q.key: q.numbers(str(student_id)) for q in QUESTIONS}


def numbers_text(numbers: Mapping[str, Any]) -> str:
    """A one-line rendering of a question's numbers, arrays as nested lists."""
    shown = (
        f"{name} = {v.tolist() if isinstance(v, np.ndarray) else v}" for name, v in numbers.items()
    )
    return ", ".join(shown)


class Quiz:
    """The quiz of one student: ``Quiz(STUDENT_ID)`` in the notebook.

    Parameters
    ----------
    student_id : object, optional
        The variant cell's value; None uses the logged-in user.
    """

    def __init__(self, student_id: object = None) -> None:
        self.student_id, self.id_source = resolve_student_id(student_id)
        self._numbers = make_numbers(self.student_id)

    def numbers(self, which: int | str) -> Numbers:
        """The numbers of one question, e.g. ``quiz.numbers(1).n``."""
        return self._numbers[question(which).key]

    def text(self, which: int | str) -> str:
        q = question(which)
        header = f"{q.key.upper()} ({q.answer_type}) {q.title}"
        return f"{header}\n{q.ask(self._numbers[q.key])}"

    def show(self, which: int | str) -> None:
        """Print one question with your numbers."""
        print(self.text(which))

    def __repr__(self) -> str:
        return (
            f"Quiz for student {self.student_id!r} (id from {self.id_source}): "
            f"{len(QUESTIONS)} questions, {', '.join(QUESTION_KEYS)}"
        )
