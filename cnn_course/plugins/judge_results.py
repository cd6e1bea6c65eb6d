"""After a submission ran: the verdict of each hidden check, judged in the grader's process.

Runs in ``Autograde`` right after ``Execute``. For each graded cell that
:class:`~cnn_course.plugins.InjectCases` planned, it reads the probe's outputs
(plain data, decoded with size limits), judges every planned call against the reference
(:func:`cnn_course.grading.judging.judge`), and replaces the cell's outputs with the verdicts: a
line per passing check, and an error output per failing one, which is what makes
nbgrader score the cell 0. Whatever else the kernel put in the cell (prints, a number as
the cell's result, a fake success) is dropped, and the cell's source goes back to the
instructor's. A cell whose probe did not report (the cell stopped early: a ``NameError``,
a timeout, a broken kernel) fails with "no result", and the kernel's own error, if any,
as the reason; a cell whose checks all passed but whose visible asserts, which run after
them, failed, fails with that error.

When a function fails and it calls one of the student's own contract functions that fails
its own checks too (``conv2d_multi`` calling the student's ``zero_pad``), the failure says
where it starts.

The likely mistakes each cell's failures name go, as data, into the cell's metadata
(:data:`cnn_course.grading.judging.MISTAKES_KEY`), where the report counts them; so does
why a cell did not finish (:data:`~cnn_course.grading.judging.STOPPED_KEY`: nbgrader's
timeout, a lost kernel or the probe's CPU-time limit). The student's notebook's own values
under these keys are dropped.

The answers a quiz's probe reported are kept, as plain data, in the notebook's metadata,
where the report looks for copied answers (:mod:`cnn_course.grading.copying`); whatever the
student's notebook held under that key is dropped.
"""

from __future__ import annotations

import re

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from cnn_course.grading import judging
from cnn_course.grading.copying import ANSWERS_KEY, recorded_answers
from cnn_course.plugins.inject_cases import PLAN_KEY
from cnn_probe import ProbeSent, wire

NO_RESULT = "no result: the cell did not run to the end"
WHERE_IT_STARTS = "Where it starts:"
REASON_CHARS = 500


STOPPED_WITH = "The cell stopped with "


def _kernel_error(outputs: list) -> NotebookNode | None:
    """The error the kernel reported in a cell, other than the probe's own ending.

    nbgrader's own errors for a cell that did not finish say more than the interrupt they
    caused (a KeyboardInterrupt in the kernel): they come first.
    """
    errors = [
        o
        for o in outputs
        if o.get("output_type") == "error" and o.get("ename") != ProbeSent.__name__
    ]
    errors.sort(key=lambda o: o.get("ename") not in judging.UNFINISHED_ERRORS)
    return errors[0] if errors else None


def _reason(error: NotebookNode | None) -> str | None:
    if error is None:
        return None
    return f"{error.get('ename', '')}: {error.get('evalue', '')}"[:REASON_CHARS]


# The contract functions a student's function may reasonably call: a failure of one of
# these in the same notebook may be where the caller's failure starts.
HELPERS: dict[str, tuple[str, ...]] = {
    "correlate2d": ("zero_pad",),
    "conv2d": ("zero_pad", "correlate2d"),
    "conv2d_multi": ("zero_pad", "correlate2d", "conv2d"),
    "trace_shapes": ("conv_output_size", "pool_output_size", "conv_params", "dense_params"),
    "conv_backward": ("conv_forward",),
    "maxpool_backward": ("maxpool_forward",),
    "gap_backward": ("gap_forward",),
}


def _definitions(nb: NotebookNode) -> dict[str, str]:
    """Function name -> the source of the code cell that defines it (the last one)."""
    found = {}
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            for name in re.findall(r"^\s*def\s+(\w+)\s*\(", cell.get("source", ""), re.M):
                found[name] = cell.get("source", "")
    return found


def where_it_starts(
    verdicts: list[judging.Verdict],
    failed: dict[str, tuple[str, ...]],
    definitions: dict[str, str],
) -> list[judging.Verdict]:
    """The verdicts, each failure of a function that calls a failing helper saying so.

    ``failed`` maps each function that failed a check to the likely mistakes its failures
    named, which the note repeats: "your `conv2d` calls your `zero_pad`, which fails its own
    checks (likely mistake: channels padded too)".
    """
    told = []
    for verdict in verdicts:
        name = verdict.title.split(" · ")[0]
        source = definitions.get(name, "")
        culprits = [
            helper
            for helper in HELPERS.get(name, ())
            if helper in failed and re.search(rf"\b{helper}\s*\(", source)
        ]
        if not verdict.passed and culprits:
            helpers = " and ".join(f"`{h}`{_named(failed[h])}" for h in culprits)
            note = (
                f"\n  {WHERE_IT_STARTS} your `{name}` calls your {helpers}, which "
                f"{'fail' if len(culprits) > 1 else 'fails'} its own checks: fix "
                f"{'them' if len(culprits) > 1 else 'it'} first, then look at `{name}` again."
            )
            verdict = judging.Verdict(verdict.title, False, verdict.text + note)
        told.append(verdict)
    return told


def _named(mistakes: tuple[str, ...]) -> str:
    if not mistakes:
        return ""
    return f" (likely mistake: {' or '.join(mistakes)})"


def _error(text: str) -> NotebookNode:
    return new_output("error", ename="GradingFailure", evalue=text, traceback=text.splitlines())


def verdict_outputs(verdicts: list[judging.Verdict], reason: str | None) -> list[NotebookNode]:
    """The outputs a judged cell shows: passes as text, each failure as an error.

    ``reason`` is the kernel's own error in the cell, if any: why a check has no result,
    or, when every check passed, the visible test of the cell that failed after them.
    """
    passed = "\n".join(v.text for v in verdicts if v.passed)
    outputs = [new_output("stream", name="stdout", text=passed + "\n")] if passed else []
    for verdict in verdicts:
        if verdict.passed:
            continue
        text = verdict.text
        if text.endswith(": no result"):
            text = text.removesuffix("no result") + NO_RESULT
            if reason:
                text += f"\n  {STOPPED_WITH}{reason}"
        outputs.append(_error(text))
    if reason and all(v.passed for v in verdicts):
        outputs.append(_error(f"✗ the visible test of this cell failed: {reason}"))
    return outputs


class JudgeResults(NbGraderPreprocessor):
    """Replace each planned test cell's outputs with the verdicts of its checks."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        plan = resources.get(PLAN_KEY, {})
        submitter = resources.get("nbgrader", {}).get("student") or None
        judged = {}
        answers = []
        for index, (_source, planned) in plan.items():
            cell = nb.cells[index]
            error = _kernel_error(cell.get("outputs", []))
            try:
                found = judging.payloads(cell.get("outputs", []))
            except (wire.WireError, ValueError) as unreadable:
                found = []
                reason = f"results that could not be read ({unreadable})"
            else:
                reason = _reason(error)
            verdicts = [judging.judge(p, found, submitter) for p in planned]
            stopped = judging.stopped_cause(verdicts, error.get("ename") if error else None)
            judged[index] = (verdicts, reason, stopped)
            answers += judging.quiz_values(planned, found)
        failed: dict[str, tuple[str, ...]] = {}
        for verdicts, _, _ in judged.values():
            for v in verdicts:
                if not v.passed:
                    name = v.title.split(" · ")[0]
                    failed[name] = tuple(dict.fromkeys(failed.get(name, ()) + v.mistakes))
        definitions = _definitions(nb)
        for cell in nb.cells:
            cell.metadata.pop(judging.MISTAKES_KEY, None)
            cell.metadata.pop(judging.STOPPED_KEY, None)
        for index, (verdicts, reason, stopped) in judged.items():
            nb.cells[index].metadata[judging.MISTAKES_KEY] = judging.named_mistakes(verdicts)
            if stopped is not None:
                nb.cells[index].metadata[judging.STOPPED_KEY] = stopped
            verdicts = where_it_starts(verdicts, failed, definitions)
            nb.cells[index].outputs = verdict_outputs(verdicts, reason)
            nb.cells[index].source = plan[index][0]
        nb.metadata.pop(ANSWERS_KEY, None)
        if recorded := recorded_answers(answers):
            nb.metadata[ANSWERS_KEY] = recorded
        return nb, resources
