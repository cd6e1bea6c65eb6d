"""The course manifest: its assignments, their notebooks, spec modules and the quiz.

The one list every part of the tooling reads (the grader, the report, the demo, the
simulated students, the tests). It imports nothing, so any module may depend on it
without reaching into another's job.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    """One assignment of the course.

    Parameters
    ----------
    name : str
        Its folder in ``source/``, ``release/`` and ``submitted/<student>/``.
    topic : str
        The module name of its grading spec (``cnn_course.grading.<topic>``) and of its
        simulated students (``cnn_course.classroom.<topic>``).
    notebook : str
        The notebook's file name inside the folder.
    """

    name: str
    topic: str
    notebook: str

    @property
    def is_quiz(self) -> bool:
        return self.topic == "quiz"

    @property
    def spec_module(self) -> str:
        """The module of its grading specs (for the quiz, its per-student grader)."""
        return f"cnn_course.grading.{self.topic}"


COURSE: tuple[Assignment, ...] = (
    Assignment("01_filters", "filters", "filters.ipynb"),
    Assignment("02_output_size", "output_size", "output_size.ipynb"),
    Assignment("03_conv1x1", "conv1x1", "conv1x1.ipynb"),
    Assignment("04_conv_backprop", "backprop", "conv_backprop.ipynb"),
    Assignment("05_quiz", "quiz", "quiz.ipynb"),
)

# assignment -> (topic module, notebook file name), in course order.
ASSIGNMENTS: dict[str, tuple[str, str]] = {a.name: (a.topic, a.notebook) for a in COURSE}
# The four topic assignments: every one but the quiz.
TOPICS: tuple[str, ...] = tuple(a.name for a in COURSE if not a.is_quiz)
# The per-student quiz.
QUIZ: Assignment = next(a for a in COURSE if a.is_quiz)
# The spec modules of the topic assignments, in course order.
TOPIC_MODULES: tuple[str, ...] = tuple(a.spec_module for a in COURSE if not a.is_quiz)


def assignment(name: str) -> Assignment:
    """The assignment called ``name``.

    Raises
    ------
    KeyError
        If the course has no such assignment; the message lists the ones it has.
    """
    for entry in COURSE:
        if entry.name == name:
            return entry
    raise KeyError(f"no assignment {name!r}; the course has {', '.join(ASSIGNMENTS)}")
