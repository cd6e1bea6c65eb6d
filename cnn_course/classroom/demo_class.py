"""The demo's simulated class: who hands in what (:data:`CLASS`), and the notebooks they hand in.

A :class:`Plan` says what one student does with one assignment (a coding style, classroom
mistakes, a blank, half-done, late or copied submission, edited tests);
:func:`student_notebook` turns a fetched notebook into the one that student submits. The
work itself comes from :mod:`cnn_course.classroom`. The demo is :mod:`cnn_course.commands.demo`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

    from cnn_course.classroom import StudentMistake

# ------------------------------------------------------------------------------ the class


@dataclass(frozen=True)
class Plan:
    """What one simulated student hands in for one assignment.

    Attributes
    ----------
    style : str or None
        Coding style of the correct work (``classroom.styles(assignment)``); None: the
        first style, or for the quiz, the student's own answers typed in as values.
    mistakes : tuple of str
        Classroom mistakes made, each ``"<function>: <label>"``.
    blank : bool
        Submits the fetched notebook untouched.
    half : bool
        Fills in only the first half of the solution cells.
    late : bool
        Submits after the due date.
    endless_loop : bool
        The topic's ``ENDLESS_LOOP`` function (a loop that never ends) replaces the correct one.
    edited_tests : tuple of str
        Grade ids of visible test cells whose assertions the student comments out.
    answers_of : str or None
        Quiz only: types in this classmate's answers (copying) instead of their own.
    """

    style: str | None = None
    mistakes: tuple[str, ...] = ()
    blank: bool = False
    half: bool = False
    late: bool = False
    endless_loop: bool = False
    edited_tests: tuple[str, ...] = ()
    answers_of: str | None = None

    def describe(self) -> str:
        """A few words for the class list."""
        if self.blank:
            return "blank"
        parts = [self.style or "own answers"] if not self.mistakes else []
        parts += [f"mistake {m}" for m in self.mistakes]
        flags = {
            "half done": self.half,
            "late": self.late,
            "endless loop": self.endless_loop,
            f"edits tests {', '.join(self.edited_tests)}": bool(self.edited_tests),
            f"copies {self.answers_of}'s answers": bool(self.answers_of),
        }
        return "; ".join(parts + [text for text, on in flags.items() if on])


P = Plan
# Student id -> assignment -> plan. Full marks in three styles (ada, bo, cy); typical
# mistakes (dee, eli, ivy); eli repeats dee's filters bugs and comments out the failing
# tests; a half-done (fay) and a blank (gus) submission; a late one (hal); an endless loop
# and a copied quiz (ivy). Everyone takes the quiz with their own variant.
CLASS: dict[str, dict[str, Plan]] = {
    "ada": {
        "01_filters": P("loops"),
        "02_output_size": P("formula"),
        "03_conv1x1": P("loops"),
        "04_conv_backprop": P("loops"),
        "05_quiz": P(),
    },
    "bo": {
        "01_filters": P("vectorised"),
        "02_output_size": P("counting"),
        "03_conv1x1": P("matmul"),
        "04_conv_backprop": P("vectorised"),
        "05_quiz": P("numpy"),
    },
    "cy": {
        "01_filters": P("scipy"),
        "02_output_size": P("floor"),
        "03_conv1x1": P("einsum"),
        "04_conv_backprop": P("im2col"),
        "05_quiz": P(),
    },
    "dee": {
        "01_filters": P("loops", ("zero_pad: pads the channel axis too", "conv2d: never pads")),
        "02_output_size": P("formula", ("conv_output_size: rounds up with math.ceil",)),
        "03_conv1x1": P("matmul", ("conv1x1: bias forgotten",)),
        "04_conv_backprop": P(
            "loops",
            (
                "gap_backward: 1/(H*W) forgotten",
                "maxpool_backward: gradient to every window position",
            ),
        ),
        "05_quiz": P("numpy", ("q3: no biases",)),
    },
    "eli": {
        "01_filters": P(
            "loops",
            ("zero_pad: pads the channel axis too", "conv2d: never pads"),
            edited_tests=("zero_pad_channels", "conv2d_padding"),
        ),
        "02_output_size": P("counting", ("pool_output_size: default stride 1",)),
        "03_conv1x1": P("reshape", ("conv_mult_count: input channels left out",)),
        "04_conv_backprop": P("scipy", ("conv_forward: bias forgotten",)),
        "05_quiz": P(),
    },
    "fay": {
        "01_filters": P("vectorised"),
        "02_output_size": P("formula", ("trace_shapes: pooling stride defaults to 1",)),
        "03_conv1x1": P("einsum"),
        "04_conv_backprop": P("vectorised", half=True),
        "05_quiz": P("numpy", ("q10: sum instead of mean",)),
    },
    "gus": {
        "01_filters": P("vectorised", ("correlate2d: flips the kernel",)),
        "02_output_size": P("floor"),
        "03_conv1x1": P(blank=True),
        "04_conv_backprop": P("im2col"),
        "05_quiz": P(),
    },
    "hal": {
        "01_filters": P("scipy"),
        "02_output_size": P("counting", late=True),
        "03_conv1x1": P("reshape"),
        "04_conv_backprop": P("loops"),
        "05_quiz": P(),
    },
    "ivy": {
        "01_filters": P("loops", endless_loop=True),
        "02_output_size": P("formula", ("dense_params: counts weights only",)),
        "03_conv1x1": P("einsum"),
        "04_conv_backprop": P("im2col", ("numerical_gradient: forward difference",)),
        "05_quiz": P(answers_of="ada"),
    },
}


def class_assignments(klass: Mapping[str, Mapping[str, Plan]] = CLASS) -> list[str]:
    """The assignments the class works on, in course order."""
    from cnn_course.classroom import ASSIGNMENTS

    used = {a for plans in klass.values() for a in plans}
    return [a for a in ASSIGNMENTS if a in used]


# ------------------------------------------------------------------------ students' work


def find_mistake(assignment: str, key: str) -> StudentMistake:
    """The classroom mistake ``"<function>: <label>"`` of an assignment."""
    from cnn_course.classroom import mistakes

    for mistake in mistakes(assignment):
        if f"{mistake.function}: {mistake.label}" == key:
            return mistake
    raise KeyError(f"no classroom mistake {key!r} in {assignment}")


def work_code(assignment: str, student: str, plan: Plan) -> dict[str, str]:
    """Source per contract name that ``student`` writes into the notebook (empty if blank)."""
    from cnn_course.classroom import as_source, correct_work, styles, topic
    from cnn_course.classroom.quiz import ASSIGNMENT as QUIZ
    from cnn_course.classroom.quiz import quiz_work

    if plan.blank:
        return {}
    if assignment == QUIZ and plan.style is None and not plan.mistakes:
        return dict(quiz_work(student, plan.answers_of).code)
    code = dict(correct_work(assignment, plan.style or styles(assignment)[0]).code)
    changes = [find_mistake(assignment, key) for key in plan.mistakes]
    if plan.endless_loop:
        changes.append(topic(assignment).ENDLESS_LOOP)
    for mistake in changes:
        code[mistake.function] = as_source(mistake.code, mistake.function)
    return code


def solution_order(notebook: nbformat.NotebookNode) -> list[str]:
    """Contract names of the notebook's solution cells, top to bottom."""
    return [
        cell.metadata["nbgrader"]["grade_id"].removesuffix("_answer")
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    ]


def comment_out_asserts(source: str) -> str:
    """A test cell as a student who wants it to pass edits it: every assertion commented out."""
    lines = []
    for line in source.splitlines():
        body = line.lstrip()
        indent = line[: len(line) - len(body)]
        lines.append(f"{indent}# {body}" if body.startswith("assert") else line)
    return "\n".join(lines) + "\npass  # the checks above were in my way\n"


def student_notebook(
    fetched: nbformat.NotebookNode, assignment: str, student: str, plan: Plan
) -> nbformat.NotebookNode:
    """The fetched notebook as ``student`` submits it under ``plan``."""
    from cnn_course.classroom import fill_notebook

    code = work_code(assignment, student, plan)
    if plan.half:
        order = [name for name in solution_order(fetched) if name in code]
        code = {name: code[name] for name in order[: len(order) // 2]}
    filled = fill_notebook(fetched, code)
    if code and not plan.half:
        write_answers(filled, assignment)
    edited = set(plan.edited_tests)
    for cell in filled.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in edited:
            cell.source = comment_out_asserts(cell.source)
            edited.discard(cell.metadata["nbgrader"]["grade_id"])
    if edited:
        raise KeyError(f"no test cell {', '.join(sorted(edited))} in {assignment}")
    return filled


def write_answers(notebook: nbformat.NotebookNode, assignment: str) -> None:
    """Write the topic's answers into the hand-graded cells (``WRITTEN_ANSWERS``)."""
    from cnn_course.classroom import topic

    answers = getattr(topic(assignment), "WRITTEN_ANSWERS", {})
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]


def class_list(klass: Mapping[str, Mapping[str, Plan]] = CLASS) -> list[str]:
    """Who does what, one line per student and assignment."""
    lines = ["The class:"]
    for student, plans in klass.items():
        for assignment, plan in plans.items():
            lines.append(f"  {student:<4} {assignment:<17} {plan.describe()}")
    return lines
