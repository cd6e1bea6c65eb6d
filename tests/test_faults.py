"""Wrong, broken and hostile-by-accident submissions, through the real grading pipeline.

One class of 03_conv1x1 (two correct students and one student per fault) is built once,
graded with ``cnn-course grade --jobs 2`` and reported on with ``cnn-course report``,
with the course's own ``nbgrader_config.py`` (sandbox kernel, 30 s cell timeout, late
penalty, the fault settings). For every fault the tests check that the batch finishes,
that everyone else is graded exactly as expected, that the offender gets no point it did
not earn, that ``submitted/`` is byte for byte as handed in, and that the runner, the
instructor's report and the student's feedback say what happened.

Nothing is changed for the tests: the limits are the course's own (checked by
``test_course_config_sets_the_fault_limits``).

A second, smaller class goes through plain serial ``nbgrader autograde`` with the
IgnorePattern lines of the config switched off, to show what nbgrader does on its own:
it fails a dead kernel, an unreadable notebook and a copied cell one by one and grades
the rest, and it scores stderr in a test cell as a failure.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from fault_helpers import (
    ASSIGNMENT,
    BIAS_CELLS,
    BIAS_FORGOTTEN,
    C_LOOP,
    CONV1X1_CELLS,
    EXIT_PROCESS,
    EXTRA_FILES,
    LINE_FLOOD,
    LOOP_AT_TOP_LEVEL,
    LOOP_FOREVER,
    MEMORY_BOMB,
    MODULE_PROBE,
    MULT_COUNT_CELLS,
    NOTEBOOK,
    POINTS,
    PRINT_FLOOD,
    QUIT,
    RECURSION_ERROR,
    SEGFAULT,
    STACK_OVERFLOW,
    STDERR_NOISE,
    filled,
    moved_before,
    run_as_autograding,
    run_tool,
    scratch_notebook,
    traversable_dir,
    tree_digest,
    with_added_cell,
    with_copied_cell,
    with_markdown_cell,
    with_metadata,
    without_cells,
)

from cnn_course.classroom import correct_work, source_solutions
from cnn_course.course import CourseDir, outputs_text
from cnn_course.failures import FAILURES_FILE
from cnn_course.integrity.feedback import html_text

FULL = sum(POINTS.values())  # 45; the hand-graded why_1x1 adds 5 to the maximum
MAX_SCORE = FULL + 5
CELL_TIMEOUT_S = 30  # the sandbox block of nbgrader_config.py
LATE_PERCENT_PER_DAY = 10
KERNEL_DIED = "kernel died"
PRINT_FLOOD_MAX_LINES = 200  # c.LimitOutput.max_lines
OUTPUT_MAX_CHARS = 50_000  # c.LimitOutputSize.max_chars


@dataclass(frozen=True)
class Case:
    """What must happen to one student's submission.

    Attributes
    ----------
    lost : tuple of str
        Autograded cells that score 0; every other autograded cell scores full points.
    graded : bool
        False: nbgrader cannot grade the notebook; the student gets 0.
    failure : str
        For an ungraded notebook: text that the runner's message, the report's reason
        and the student's feedback page all contain.
    feedback : str
        Text the feedback of a graded notebook shows.
    problems : tuple of str
        Reasons the report lists for a graded notebook (cells that did not finish), as
        regular expressions.
    days_late : int
        Started days after the due date.
    """

    lost: tuple[str, ...] = ()
    graded: bool = True
    failure: str = ""
    feedback: str = ""
    problems: tuple[str, ...] = ()
    days_late: int = 0

    @property
    def score(self) -> float:
        """The score after the late penalty (ungraded: 0)."""
        if not self.graded:
            return 0.0
        raw = FULL - sum(POINTS[cell] for cell in self.lost)
        return raw * (1 - min(1.0, self.days_late * LATE_PERCENT_PER_DAY / 100))


def _ran_out_of_cpu(cell: str) -> str:
    """The probe's CPU-time limit stopped the student's function in this test cell."""
    return re.escape(f"cell {cell} ran out of CPU time (graded, scored 0)")


# The notebook's own demo cell that calls conv1x1 on a photo, at top level: a cell without
# a grade id, named by its position.
DEMO_CELL_TIMED_OUT = r"cell #\d+ timed out \(not graded itself\)"


CASES: dict[str, Case] = {
    "correct": Case(),
    "style-loops": Case(),
    # Endless loop in a function: in the hidden checks the engine stops it after 5 s, once
    # per function; the demo cell that calls it directly meets nbgrader's cell timeout.
    "loop-function": Case(
        lost=CONV1X1_CELLS,
        feedback="did not finish within 5 s",
        problems=(*(_ran_out_of_cpu(cell) for cell in CONV1X1_CELLS), DEMO_CELL_TIMED_OUT),
    ),
    # Endless loop at top level of a cell: nbgrader's cell timeout interrupts it.
    "loop-top-level": Case(
        lost=("direct_mults_check",),
        feedback="CellTimeoutError",
        problems=(re.escape("cell direct_mults_answer timed out (not graded itself)"),),
    ),
    # Hours in one C call: no interrupt gets through, nbgrader gives up on the notebook.
    "c-loop": Case(graded=False, failure="did not stop when interrupted"),
    "exit-process": Case(graded=False, failure=KERNEL_DIED),
    "segfault": Case(graded=False, failure=KERNEL_DIED),
    "quit-kernel": Case(graded=False, failure=KERNEL_DIED),
    "stack-overflow": Case(graded=False, failure=KERNEL_DIED),
    "memory-bomb": Case(lost=MULT_COUNT_CELLS, feedback="MemoryError"),
    "recursion-error": Case(lost=MULT_COUNT_CELLS, feedback="RecursionError"),
    "print-flood": Case(feedback="Output truncated"),
    "line-flood": Case(feedback="Output truncated (too many characters)"),
    "stderr-noise": Case(),
    "late": Case(days_late=2, feedback="Late submission penalty"),
    "bad-json": Case(graded=False, failure="JSON"),
    "wrong-name": Case(graded=False, failure="conv1x1 (1).ipynb"),
    "no-notebook": Case(graded=False, failure="no notebook was submitted"),
    "extra-files": Case(),
    "deleted-cells": Case(lost=BIAS_CELLS, feedback="was missing"),
    "moved-cell": Case(lost=("conv_mult_count_basic",), feedback="NameError"),
    "copied-cell": Case(graded=False, failure="copied cells"),
    "markdown-cell": Case(),
    "edited-points": Case(lost=BIAS_CELLS),
    "edited-grade-flag": Case(graded=False, failure="metadata of locked cell"),
}
NOT_GRADED = {student for student, case in CASES.items() if not case.graded}


def _submissions(course: CourseDir) -> dict[str, nbformat.NotebookNode]:
    """The notebook each student of :data:`CASES` hands in (files are added afterwards)."""
    release = course.release_notebook(ASSIGNMENT)
    solutions = source_solutions(course.source_notebook(ASSIGNMENT))
    good = filled(release, solutions)
    bias_forgotten = filled(release, solutions, conv1x1=BIAS_FORGOTTEN)
    return {
        "correct": good,
        "style-loops": filled(release, correct_work(ASSIGNMENT, "loops").code),
        "loop-function": filled(release, solutions, conv1x1=LOOP_FOREVER),
        "loop-top-level": filled(release, solutions, direct_mults=LOOP_AT_TOP_LEVEL),
        "c-loop": filled(release, solutions, direct_mults=C_LOOP),
        "exit-process": filled(release, solutions, conv_mult_count=EXIT_PROCESS),
        "segfault": filled(release, solutions, conv1x1=SEGFAULT),
        "quit-kernel": filled(release, solutions, conv1x1=QUIT),
        "stack-overflow": filled(release, solutions, conv_mult_count=STACK_OVERFLOW),
        "memory-bomb": filled(release, solutions, conv_mult_count=MEMORY_BOMB),
        "recursion-error": filled(release, solutions, conv_mult_count=RECURSION_ERROR),
        "print-flood": filled(release, solutions, direct_mults=PRINT_FLOOD),
        "line-flood": filled(release, solutions, direct_mults=LINE_FLOOD),
        "stderr-noise": filled(release, solutions, conv_mult_count=STDERR_NOISE),
        "late": good,
        "bad-json": good,
        "wrong-name": good,
        "no-notebook": good,
        "extra-files": with_added_cell(good, MODULE_PROBE),
        # Work that fails a test cell, with that cell (and a passing one) deleted.
        "deleted-cells": without_cells(bias_forgotten, {*BIAS_CELLS, "conv1x1_basic"}),
        "moved-cell": moved_before(good, "conv_mult_count_basic", "conv_mult_count"),
        "copied-cell": with_copied_cell(good, "conv1x1"),
        "markdown-cell": with_markdown_cell(good, "conv_mult_count"),
        "edited-points": with_metadata(
            bias_forgotten, {"conv1x1_basic": {"points": 100}, "conv1x1_bias": {"points": 0}}
        ),
        "edited-grade-flag": with_metadata(good, {"conv1x1_bias": {"grade": False}}),
    }


def _break_files(folder: Path, student: str) -> None:
    """What happens to the files of some submissions after the notebook was saved."""
    notebook = folder / NOTEBOOK
    if student == "bad-json":  # an upload cut short
        notebook.write_text(notebook.read_text()[:5000])
    elif student == "wrong-name":  # the browser's "conv1x1 (1).ipynb" download
        notebook.rename(folder / "conv1x1 (1).ipynb")
    elif student == "no-notebook":
        notebook.unlink()
    elif student == "extra-files":
        for name, text in EXTRA_FILES.items():
            (folder / name).write_text(text)
        nbformat.write(scratch_notebook(), folder / "scratch.ipynb")
        (folder / ".ipynb_checkpoints").mkdir()
        nbformat.write(
            scratch_notebook(), folder / ".ipynb_checkpoints" / "conv1x1-checkpoint.ipynb"
        )


@dataclass
class GradedClass:
    course: CourseDir
    grade: subprocess.CompletedProcess[str]  # `cnn-course grade`
    report: subprocess.CompletedProcess[str]  # `cnn-course report`
    before: dict[str, str]
    after: dict[str, str]
    seconds: float

    def grades(self, student: str) -> dict[str, float]:
        return {g.grade_id: g.score for g in self.course.grades(ASSIGNMENT, student).values()}

    def feedback(self, student: str) -> str:
        page = self.course.root / "feedback" / student / ASSIGNMENT / "conv1x1.html"
        return html_text(page.read_text(encoding="utf-8"))

    def csv(self, name: str) -> list[dict[str, str]]:
        path = self.course.root / name
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def problems(self, student: str) -> list[str]:
        rows = self.csv("reports/failures.csv")
        return [row["reason"] for row in rows if row["student"] == student]


@pytest.fixture(scope="module")
def graded() -> Iterator[GradedClass]:
    with traversable_dir("cnn-faults-") as folder:
        yield grade_class(folder / "course")


def grade_class(root: Path) -> GradedClass:
    """Build the class at ``root``, grade it and report on it, as an instructor would."""
    course = CourseDir.create(root, [ASSIGNMENT])
    course.generate(ASSIGNMENT)
    now = dt.datetime.now(dt.UTC)
    due = now + dt.timedelta(days=1)
    with course.gradebook() as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=due)
    for student, notebook in _submissions(course).items():
        late = due + dt.timedelta(hours=36) if CASES[student].days_late else None
        folder = course.submit(student, ASSIGNMENT, notebook, timestamp=late or now)
        _break_files(folder, student)
    submitted = course.root / "submitted"
    before = tree_digest(submitted)
    started = time.perf_counter()
    grade = run_tool(
        ["cnn-course", "--course", str(course.root), "grade", "--jobs", "2"],
        cwd=course.root,
    )
    seconds = time.perf_counter() - started
    report = run_tool(["cnn-course", "--course", str(course.root), "report"], cwd=course.root)
    return GradedClass(course, grade, report, before, tree_digest(submitted), seconds)


# --- the batch ------------------------------------------------------------------------


def test_the_batch_finishes_and_names_each_failure(graded: GradedClass) -> None:
    assert graded.grade.returncode == 1, graded.grade.stderr
    graded_count = len(CASES) - len(NOT_GRADED)
    assert f"autograded {graded_count} of {len(CASES)} submissions" in graded.grade.stdout
    lines = [ln.strip() for ln in graded.grade.stderr.splitlines() if ln.startswith("  ")]
    failed = {ln.split(":", 1)[0].removeprefix(f"autograde {ASSIGNMENT}/"): ln for ln in lines}
    assert set(failed) == NOT_GRADED, graded.grade.stderr
    for student in NOT_GRADED:
        assert CASES[student].failure in failed[student], failed[student]


def test_submitted_files_are_unchanged(graded: GradedClass) -> None:
    assert graded.after == graded.before
    assert f"extra-files/{ASSIGNMENT}/numpy.py" in graded.after  # extra files are hashed too


@pytest.mark.parametrize("student", sorted(CASES))
def test_every_cell_scores_exactly_what_was_earned(graded: GradedClass, student: str) -> None:
    case = CASES[student]
    if not case.graded:
        assert not (graded.course.root / "autograded" / student / ASSIGNMENT / NOTEBOOK).exists()
        with graded.course.gradebook() as gb:
            assert gb.find_student(student).score == 0
        return
    expected = {cell: 0.0 if cell in case.lost else points for cell, points in POINTS.items()}
    assert graded.grades(student) == {**expected, "why_1x1": 0.0}
    max_scores = {
        g.grade_id: g.max_score for g in graded.course.grades(ASSIGNMENT, student).values()
    }
    assert max_scores == {**POINTS, "why_1x1": 5.0}  # edited points were restored


def test_exported_scores_include_penalties_and_failures(graded: GradedClass) -> None:
    """grades.csv (``nbgrader export``): what was earned, less the late penalty; for work
    that could not be graded, no score and a status that says why. The integrity review may
    withhold a flagged score instead (cnn_course/integrity/), never for work done right."""
    rows = {row["student_id"]: row for row in graded.csv("grades.csv")}
    withheld = {s for s, row in rows.items() if row["score"] == "withheld"}
    assert not withheld & {"correct", "style-loops"}, rows["correct"]
    got = {s: float(rows[s]["score"]) for s in CASES if s not in withheld and CASES[s].graded}
    assert got == pytest.approx({s: CASES[s].score for s in got})
    assert {rows[s]["status"] for s in got} == {"graded"}
    for student in (s for s, case in CASES.items() if not case.graded):
        row = rows[student]
        assert (row["score"], row["status"]) == ("", "not graded"), row
        assert CASES[student].failure in row["status_reason"], row
    assert float(rows["late"]["late_submission_penalty"]) == pytest.approx(FULL * 0.2)
    assert {float(rows[s]["max_score"]) for s in CASES} == {MAX_SCORE}


# --- what the instructor sees ------------------------------------------------------------


def test_report_lists_every_problem_and_only_those(graded: GradedClass) -> None:
    assert graded.report.returncode == 0, graded.report.stderr
    assert graded.report.stderr == ""  # nbformat's warnings about copied cells stay quiet
    for student, case in CASES.items():
        problems = graded.problems(student)
        if case.graded:
            unmatched = list(problems)
            for pattern in case.problems:
                found = next((p for p in unmatched if re.fullmatch(pattern, p)), None)
                assert found is not None, (student, pattern, problems)
                unmatched.remove(found)
            assert unmatched == [], student
        else:
            assert len(problems) == 1 and case.failure in problems[0], (student, problems)


def test_report_scores_count_graded_work_only(graded: GradedClass) -> None:
    rows = {row["student"]: row for row in graded.csv("reports/submissions.csv")}
    for student, case in CASES.items():
        if case.graded:
            assert float(rows[student]["score"]) == pytest.approx(case.score), student
        elif student in rows:  # students nbgrader recorded at all
            assert rows[student]["graded"] == "no" and rows[student]["score"] == ""


def test_failures_file_records_why_for_the_report(graded: GradedClass) -> None:
    entries = json.loads((graded.course.root / FAILURES_FILE).read_text())
    assert {e["student"] for e in entries} == NOT_GRADED
    died = [e for e in entries if KERNEL_DIED in e["reason"]]
    assert {e["student"] for e in died} == {
        s for s in NOT_GRADED if CASES[s].failure == KERNEL_DIED
    }
    assert all("DeadKernelError" in e["reason"] for e in died)


# --- what the student sees ---------------------------------------------------------------


@pytest.mark.parametrize("student", sorted(NOT_GRADED))
def test_ungraded_work_gets_a_feedback_page_saying_why(graded: GradedClass, student: str) -> None:
    text = graded.feedback(student)
    assert "could not be graded" in text and "scores 0" in text
    assert CASES[student].failure in text
    assert str(graded.course.root) not in text  # no paths of the grading machine
    stamp = graded.course.root / "feedback" / student / ASSIGNMENT / "timestamp.txt"
    assert (
        stamp.read_text()
        == (graded.course.root / "submitted" / student / ASSIGNMENT / "timestamp.txt").read_text()
    )


@pytest.mark.parametrize(
    "student", sorted(s for s, case in CASES.items() if case.graded and case.feedback)
)
def test_feedback_says_what_happened(graded: GradedClass, student: str) -> None:
    text = graded.feedback(student)
    assert CASES[student].feedback in text
    assert 'check("conv1x1"' not in text  # re-added cells do not show their hidden tests


# --- particular faults ------------------------------------------------------------------


def test_loops_cost_bounded_time(graded: GradedClass) -> None:
    """One 5 s engine timeout per looping function; the 30 s cell timeout, three times."""
    cells = graded.course.autograded_notebook(ASSIGNMENT, "loop-function").cells
    texts = [outputs_text(c) for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert sum("did not finish within 5 s of CPU time" in t for t in texts) == 1
    assert sum("in an earlier case" in t for t in texts) == len(CONV1X1_CELLS) - 1
    # 24 submissions on 2 jobs, three cell timeouts among them.
    assert graded.seconds < 300


# The probe's time limit counts CPU time, not wall time, in the student's kernel.
# Each script runs in a fresh process, as a kernel would.
ENDLESS_BUILTIN_LOOP = """
import collections
from cnn_probe import call
def zero_pad(image, pad):
    while True:
        len(image)
verdicts = collections.Counter()
for _ in range(50):
    call._timed_out.clear()
    record = call.call(zero_pad, ("image", 1), {}, seconds=0.01)
    verdicts[str(sorted(k for k in record if k not in ("modified", "output")))] += 1
print(dict(verdicts))
"""

SLEEP_AND_IMPORT = """
import sys, time
from cnn_probe import call
def sleeps(x):
    time.sleep(1.5)  # wall time, no CPU: not the student's loop
    return x
def imports(x):
    import scipy.signal  # seconds of CPU on first import: does not count
    return x
print(sorted(call.call(sleeps, (1,), {}, seconds=0.5)))
print(sorted(call.call(imports, (2,), {}, seconds=0.05)))
"""

HALF_DONE_IMPORT = """
from cnn_probe import call
def loops_after_import(x):
    import scipy.ndimage
    while True:
        pass
print(sorted(call.call(loops_after_import, (1,), {}, seconds=0.01)))
import scipy.ndimage
print(scipy.ndimage.gaussian_filter([0.0, 1.0, 0.0], 1.0).round(3).tolist())
"""


def test_an_endless_loop_always_reads_as_a_timeout(tmp_path: Path) -> None:
    assert run_as_autograding(tmp_path, ENDLESS_BUILTIN_LOOP).strip() == "{\"['timeout']\": 50}"


def test_the_limit_counts_cpu_time_and_not_imports(tmp_path: Path) -> None:
    """A sleep past the limit is no loop; an import's seconds are not the student's."""
    out = run_as_autograding(tmp_path, SLEEP_AND_IMPORT).splitlines()
    assert out == ["['modified', 'output', 'result']"] * 2


def test_a_timeout_never_leaves_a_library_half_imported(tmp_path: Path) -> None:
    out = run_as_autograding(tmp_path, HALF_DONE_IMPORT).splitlines()
    assert out == ["['modified', 'output', 'timeout']", "[0.296, 0.408, 0.296]"]


def test_print_flood_is_cut_and_feedback_stays_small(graded: GradedClass) -> None:
    notebook = graded.course.autograded_notebook(ASSIGNMENT, "print-flood")
    answer = next(
        c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "direct_mults_answer"
    )
    text = outputs_text(answer)
    assert len(text.splitlines()) <= PRINT_FLOOD_MAX_LINES + 1
    assert text.rstrip().endswith("... Output truncated ...")
    feedback = graded.course.root / "feedback"
    flood = (feedback / "print-flood" / ASSIGNMENT / "conv1x1.html").stat().st_size
    normal = (feedback / "correct" / ASSIGNMENT / "conv1x1.html").stat().st_size
    assert flood - normal < 20_000  # the full output would add over 3 MB


def test_one_enormous_line_and_result_are_cut_by_characters(graded: GradedClass) -> None:
    """nbgrader's LimitOutput counts lines; LimitOutputSize cuts what gets past it."""
    notebook = graded.course.autograded_notebook(ASSIGNMENT, "line-flood")
    answer = next(
        c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "direct_mults_answer"
    )
    # The line is cut where the text budget runs out; the huge result after it is dropped.
    assert [o.output_type for o in answer.outputs] == ["stream"]
    text = outputs_text(answer)
    assert text.startswith("debug debug")
    assert len(text) < OUTPUT_MAX_CHARS + 200  # of 8 million
    assert text.rstrip().endswith("... Output truncated (too many characters) ...")
    feedback = graded.course.root / "feedback"
    flood = (feedback / "line-flood" / ASSIGNMENT / "conv1x1.html").stat().st_size
    normal = (feedback / "correct" / ASSIGNMENT / "conv1x1.html").stat().st_size
    assert flood - normal < 2 * OUTPUT_MAX_CHARS
    # The notebook's own plot (a third of a million characters of PNG) is kept.
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_stderr_is_never_scored_and_never_kept(graded: GradedClass) -> None:
    notebook = graded.course.autograded_notebook(ASSIGNMENT, "stderr-noise")
    streams = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "stream"]
    assert [o for o in streams if o.name == "stderr"] == []
    assert graded.grades("stderr-noise")["conv_mult_count_basic"] == POINTS["conv_mult_count_basic"]


def test_extra_files_are_neither_executed_nor_imported(graded: GradedClass) -> None:
    folder = graded.course.root / "autograded" / "extra-files" / ASSIGNMENT
    assert sorted(p.name for p in folder.glob("*_was_executed.txt")) == []
    assert not (folder / "scratch.ipynb").exists()  # extra notebooks are skipped, not run
    probe = graded.course.autograded_notebook(ASSIGNMENT, "extra-files").cells[-1]
    assert outputs_text(probe).split() == ["MODULES", "2.0", "True"]


def test_deleted_test_cells_come_back_and_are_graded(graded: GradedClass) -> None:
    notebook = graded.course.autograded_notebook(ASSIGNMENT, "deleted-cells")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]
    assert {"conv1x1_basic", *BIAS_CELLS} <= set(ids)
    assert ids.index("conv1x1") < ids.index("conv1x1_basic") < ids.index("conv1x1_channels")
    with graded.course.gradebook() as gb:
        nb = gb.find_submission_notebook("conv1x1", ASSIGNMENT, "deleted-cells")
        # Graded by the autograder, not left "needing manual grading".
        assert {g.name for g in nb.grades if g.auto_score is None} == set()


def test_markdown_solution_cell_is_run_as_code(graded: GradedClass) -> None:
    notebook = graded.course.autograded_notebook(ASSIGNMENT, "markdown-cell")
    cell = next(
        c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "conv_mult_count"
    )
    assert cell.cell_type == "code"


# --- plain nbgrader autograde --------------------------------------------------------------

PLAIN = {
    "a-correct": "good",
    "b-stderr-noise": "stderr",
    "c-bad-json": "bad-json",
    "d-segfault": "segfault",
    "e-copied-cell": "copied",
    "f-correct": "good",
}


@pytest.fixture(scope="module")
def plain() -> Iterator[tuple[CourseDir, subprocess.CompletedProcess[str]]]:
    with traversable_dir("cnn-faults-plain-") as folder:
        yield plain_class(folder / "course")


def plain_class(root: Path) -> tuple[CourseDir, subprocess.CompletedProcess[str]]:
    """A small class autograded by plain serial ``nbgrader autograde``, without IgnorePattern."""
    course = CourseDir.create(root, [ASSIGNMENT])
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write("\nc.IgnorePattern.enabled = False\n")
    course = CourseDir(course.root)
    course.generate(ASSIGNMENT)
    release = course.release_notebook(ASSIGNMENT)
    solutions = source_solutions(course.source_notebook(ASSIGNMENT))
    notebooks = {
        "good": filled(release, solutions),
        "stderr": filled(release, solutions, conv_mult_count=STDERR_NOISE),
        "bad-json": filled(release, solutions),
        "segfault": filled(release, solutions, conv1x1=SEGFAULT),
        "copied": with_copied_cell(filled(release, solutions), "conv1x1"),
    }
    for student, kind in PLAIN.items():
        folder = course.submit(student, ASSIGNMENT, notebooks[kind])
        if kind == "bad-json":
            _break_files(folder, "bad-json")
    result = run_tool(["nbgrader", "autograde", ASSIGNMENT], cwd=course.root)
    return course, result


def test_plain_nbgrader_goes_on_after_each_broken_submission(
    plain: tuple[CourseDir, subprocess.CompletedProcess[str]],
) -> None:
    """Serial ``nbgrader autograde`` fails a dead kernel, an unreadable file and a copied
    cell one by one and grades the rest. (A copied cell fails with a bare ``KeyError:
    'grade_id'`` under the course's ``add_missing_cells``; with nbgrader's default it
    stops the whole batch, nbgrader issue #1083.)"""
    course, result = plain
    assert result.returncode != 0
    log = result.stdout + result.stderr
    for error in ("DeadKernelError", "NotJSONError", "exists multiple times"):
        assert error in log
    for student in ("a-correct", "f-correct"):
        assert sum(course.grades(ASSIGNMENT, student)[c].score for c in POINTS) == FULL
    for student in ("c-bad-json", "d-segfault", "e-copied-cell"):
        assert not (course.root / "autograded" / student / ASSIGNMENT / NOTEBOOK).exists()
        with course.gradebook() as gb:
            assert gb.find_student(student).score == 0


def test_stderr_in_test_cells_costs_nothing_even_without_ignore_pattern(
    plain: tuple[CourseDir, subprocess.CompletedProcess[str]],
) -> None:
    """nbgrader scores stderr in a test cell as a failure; correct, noisy code whose
    visible asserts write to stderr keeps every point even without the config's
    IgnorePattern, because the judge replaces each test cell's outputs with its verdict."""
    course, _ = plain
    grades = {cell: g.score for cell, g in course.grades(ASSIGNMENT, "b-stderr-noise").items()}
    assert {c for c in POINTS if grades[c] != POINTS[c]} == set()
    notebook = course.autograded_notebook(ASSIGNMENT, "b-stderr-noise")
    streams = [
        o.name
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade")
        for o in c.get("outputs", [])
        if o.output_type == "stream"
    ]
    assert "stderr" not in streams


def test_course_config_sets_the_fault_limits() -> None:
    """The values the tests above rely on are the course's own, as nbgrader reads them."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, IgnorePattern, LimitOutput, OverwriteCells

    from cnn_course.course import REPO_ROOT, load_config
    from cnn_course.plugins import InjectCases, JudgeResults, LimitOutputSize, RefuseLinks

    config = load_config(REPO_ROOT)
    assert Execute(config=config).timeout == CELL_TIMEOUT_S
    assert LimitOutput(config=config).max_lines == PRINT_FLOOD_MAX_LINES
    assert LimitOutputSize(config=config).max_chars == OUTPUT_MAX_CHARS
    autograde = Autograde(config=config)
    assert autograde.autograde_preprocessors[:3] == [InjectCases, Execute, JudgeResults]
    assert autograde.autograde_preprocessors[5:7] == [LimitOutput, LimitOutputSize]
    assert autograde.sanitize_preprocessors[0] is RefuseLinks
    ignore = IgnorePattern(config=config)
    assert ignore.enabled and re.search(ignore.pattern, "\n")  # any stderr output at all
    assert OverwriteCells(config=config).add_missing_cells
