"""The ``demo`` subcommand: an instructor's whole course cycle on a simulated class.

``cnn-course demo [--course-dir DIR] [--jobs N]`` (``make demo``) rebuilds ``DIR`` (default
``demo/``) from the repository's ``source/`` and runs nbgrader's real exchange cycle for
every assignment, with a sqlite gradebook and the exchange inside ``DIR`` (no server, no
root):

1. ``generate_assignment`` and ``release_assignment`` (instructor);
2. ``fetch_assignment``, the work filled in, ``submit`` (each student of :data:`CLASS`, in
   ``DIR/students/<id>/``); the due date is set in the gradebook after the on-time
   submissions, so a late student really submits after it;
3. ``collect``, parallel ``autograde`` (:mod:`cnn_course.runner`), ``generate_feedback``,
   ``export`` to ``grades.csv``, and the report (:mod:`cnn_course.report`).

It ends with a table of scores per student and assignment, read from the gradebook.
The students' work comes from :mod:`cnn_course.classroom`; :data:`CLASS` only says who
does what.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnn_course.errors import CourseInputError
from cnn_course.exchange import run_app

if TYPE_CHECKING:
    import nbformat

    from cnn_course.classroom import StudentMistake
    from cnn_course.report import ReportFiles
    from cnn_course.runner import GradingRun

DEFAULT_DIR = Path("demo")
MARKER = ".cnn-course-demo"  # marks a folder this command made, and may delete
GRADES_CSV = "grades.csv"
STUDENTS_DIR = "students"

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


# ----------------------------------------------------------------------- nbgrader steps


class DemoError(RuntimeError):
    """An nbgrader step of the demo failed; the message carries the reason."""


def _check(what: str, outcome: Mapping[str, Any]) -> None:
    from cnn_course.failures import failure_reason

    if not outcome.get("success"):
        raise DemoError(
            f"{what}: {failure_reason(outcome.get('log', ''), outcome.get('error', ''))}"
        )


def student_options(root: Path, student: str) -> list[str]:
    """Options of a student's ``fetch_assignment`` and ``submit``: id, folder, cache.

    The nbgrader cache (a copy of every submission) is kept in the student's folder
    instead of ``~/.local/share/jupyter``, so the demo writes nothing outside the course.
    """
    home = root / STUDENTS_DIR / student
    return [
        f"--student={student}",
        f"--Exchange.assignment_dir={home}",
        f"--Exchange.cache={home / '.nbgrader-cache'}",
    ]


def make_exchange(root: Path) -> Path:
    """Create the exchange the course config names (``Exchange.root``), mode 1777."""
    from cnn_course.course import load_config

    exchange = Path(load_config(root).Exchange.root).resolve()
    if not exchange.is_relative_to(root.resolve()):
        raise DemoError(f"the course config puts the exchange outside the course: {exchange}")
    exchange.mkdir(parents=True, exist_ok=True)
    # Everyone writes there, only the owner deletes: as nbgrader's docs ask.
    exchange.chmod(stat.S_ISVTX | 0o777)
    return exchange


def check_demo_dir(root: Path | str) -> Path:
    """Return ``root`` resolved if the demo may (re)build it: absent, empty or its own.

    Raises
    ------
    CourseInputError
        If ``root`` exists, is not empty and was not made by this command.
    """
    root = Path(root).resolve()
    if root.exists():
        made_here = (root / MARKER).exists()
        if not root.is_dir() or (any(root.iterdir()) and not made_here):
            raise CourseInputError(
                f"{root} exists and was not made by `cnn-course demo`; "
                "remove it or choose another --course-dir"
            )
    return root


def prepare_course(root: Path, assignments: Iterable[str]) -> Path:
    """Rebuild ``root`` from the repository's ``source/``, with an exchange inside it.

    Raises
    ------
    CourseInputError
        If ``root`` exists, is not empty and was not made by this command.
    """
    from cnn_course.course import CourseDir

    root = check_demo_dir(root)
    if root.exists():
        shutil.rmtree(root)
    CourseDir.create(root, tuple(assignments))
    (root / MARKER).write_text("made by `cnn-course demo`; deleted and rebuilt on each run\n")
    make_exchange(root)
    return root


def release(root: Path, assignment: str) -> None:
    """``nbgrader generate_assignment`` then ``nbgrader release_assignment``."""
    from cnn_course.nbgrader_api import load_api

    api = load_api(root)
    _check(f"generate_assignment {assignment}", api.generate_assignment(assignment, force=True))
    _check(f"release_assignment {assignment}", api.release_assignment(assignment))


def fetch(root: Path, student: str, assignment: str) -> Path:
    """``nbgrader fetch_assignment ASSIGNMENT --student ID``; return the fetched folder."""
    from nbgrader.apps import FetchAssignmentApp

    outcome = run_app(FetchAssignmentApp, root, [assignment, *student_options(root, student)])
    _check(f"fetch_assignment {assignment} as {student}", outcome)
    return root / STUDENTS_DIR / student / assignment


def submit(root: Path, student: str, assignment: str) -> None:
    """``nbgrader submit ASSIGNMENT --student ID`` from the student's folder."""
    from nbgrader.apps import SubmitApp

    outcome = run_app(SubmitApp, root, [assignment, *student_options(root, student)])
    _check(f"submit {assignment} as {student}", outcome)


def set_due_date(root: Path, assignment: str, due: dt.datetime) -> None:
    """Record the assignment's due date in the gradebook (``nbgrader db assignment add``)."""
    from nbgrader.api import Gradebook

    from cnn_course.feedback import course_directory

    coursedir = course_directory(root)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        gb.update_or_create_assignment(assignment, duedate=due)


def collect(root: Path, assignment: str) -> None:
    """``nbgrader collect ASSIGNMENT``: the latest submission of each student."""
    from nbgrader.apps import CollectApp

    # Every simulated student is the same OS user, so the owner check would warn on all.
    outcome = run_app(CollectApp, root, [assignment, "--ExchangeCollect.check_owner=False"])
    _check(f"collect {assignment}", outcome)


def hand_in(root: Path, assignment: str, klass: Mapping[str, Mapping[str, Plan]]) -> dt.datetime:
    """Every student fetches, works and submits; returns the due date set in between.

    The due date is set after the last on-time submission and before the first late one,
    so late students are late by nbgrader's own timestamps.
    """
    from cnn_course.classroom import ASSIGNMENTS

    plans = {s: p[assignment] for s, p in klass.items() if assignment in p}
    notebook = ASSIGNMENTS[assignment][1]
    for student, plan in plans.items():
        path = fetch(root, student, assignment) / notebook
        fetched = _read(path)
        _write(student_notebook(fetched, assignment, student, plan), path)
    for student in (s for s, plan in plans.items() if not plan.late):
        submit(root, student, assignment)
    due = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the gradebook stores naive UTC
    set_due_date(root, assignment, due)
    for student in (s for s, plan in plans.items() if plan.late):
        submit(root, student, assignment)
    return due


def _read(path: Path) -> nbformat.NotebookNode:
    import nbformat

    return nbformat.read(path, as_version=4)


def _write(notebook: nbformat.NotebookNode, path: Path) -> None:
    import nbformat

    nbformat.write(notebook, path)


# --------------------------------------------------------------------------- the scores


@dataclass(frozen=True)
class Score:
    """One student's graded work on one assignment, from the gradebook."""

    score: float
    max_score: float
    penalty: float = 0.0
    seconds_late: float = 0.0
    pending: float = 0.0  # points waiting for hand grading, not in ``score`` yet

    @property
    def final(self) -> float:
        """The score after the late penalty."""
        return self.score - self.penalty


def read_scores(
    root: Path, students: Iterable[str], assignments: Iterable[str]
) -> dict[tuple[str, str], Score]:
    """Scores per (student, assignment) from the gradebook; missing submissions are left out."""
    from nbgrader.api import Gradebook, MissingEntry

    from cnn_course.feedback import course_directory
    from cnn_course.gradebook import pending_hand_grading

    coursedir = course_directory(root)
    pending = pending_hand_grading(coursedir.db_url, coursedir.course_id)
    scores = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for student in students:
            for assignment in assignments:
                try:
                    sub = gb.find_submission(assignment, student)
                except MissingEntry:
                    continue
                scores[(student, assignment)] = Score(
                    float(sub.score),
                    float(sub.max_score),
                    float(sub.late_submission_penalty or 0.0),
                    float(sub.total_seconds_late),
                    pending.get((assignment, student), 0.0),
                )
    return scores


def score_table(
    scores: Mapping[tuple[str, str], Score], students: list[str], assignments: list[str]
) -> str:
    """Students x assignments (scores after late penalties, ``*`` late) with totals."""
    rows = [["student", *assignments, "total"]]
    for student in students:
        got = [scores.get((student, a)) for a in assignments]
        shown = ["-" if s is None else f"{s.final:.1f}{'*' if s.penalty else ''}" for s in got]
        total = sum(s.final for s in got if s is not None)
        rows.append([student, *shown, f"{total:.1f}"])
    maxima = [
        max((s.max_score for (_, a), s in scores.items() if a == x), default=0.0)
        for x in assignments
    ]
    rows.append(["(max)", *[f"{m:.1f}" for m in maxima], f"{sum(maxima):.1f}"])
    return "\n".join(aligned(rows))


def aligned(rows: list[list[str]]) -> list[str]:
    """Rows as text columns: the first left-aligned, the others right; a rule under row 0."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            [row[0].ljust(widths[0])]
            + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        )
        for row in rows
    ]
    return [lines[0], "  ".join("-" * w for w in widths), *lines[1:]]


def late_notes(scores: Mapping[tuple[str, str], Score]) -> list[str]:
    """One line per penalised submission, saying what the late-penalty plugin deducted."""
    return [
        f"* {student} {assignment}: submitted {s.seconds_late:.2f} s after the due date, "
        f"penalty {s.penalty:g} of {s.score:g} points (PerDayLatePenalty)"
        for (student, assignment), s in sorted(scores.items())
        if s.penalty
    ]


def pending_notes(scores: Mapping[tuple[str, str], Score]) -> list[str]:
    """One line per assignment with points waiting for hand grading."""
    waiting: dict[str, list[float]] = {}
    for (_, assignment), s in sorted(scores.items()):
        if s.pending:
            waiting.setdefault(assignment, []).append(s.pending)
    return [
        f"+ {assignment}: {len(points)} submission(s) have {max(points):g} point(s) waiting for "
        "hand grading, not in the table yet (the formgrader: `cnn-course lab --instructor`)"
        for assignment, points in waiting.items()
    ]


# ------------------------------------------------------------------------------ the run


@dataclass
class DemoResult:
    """What one demo run made."""

    root: Path
    scores: dict[tuple[str, str], Score]
    grading: GradingRun
    report: ReportFiles
    leaks: list[Any]
    seconds: dict[str, float] = field(default_factory=dict)
    copying: list[Any] = field(default_factory=list)  # copying.CopyingSuspicion

    @property
    def grades_csv(self) -> Path:
        return self.root / GRADES_CSV

    @property
    def feedback_dir(self) -> Path:
        return self.root / "feedback"

    @property
    def exit_code(self) -> int:
        """0 when everything was graded and no feedback shows hidden tests, else 1."""
        return 1 if self.grading.failures or self.leaks else 0


def run_demo(
    root: Path | str = DEFAULT_DIR,
    jobs: int | None = None,
    klass: Mapping[str, Mapping[str, Plan]] = CLASS,
    say: Callable[[str], None] = lambda text: None,
    progress: Any = None,
) -> DemoResult:
    """Run the whole course cycle for ``klass`` in a fresh course at ``root``.

    Parameters
    ----------
    root : Path or str
        Course directory; deleted and rebuilt (only if an earlier demo made it).
    jobs : int or None
        Notebooks graded at once; default one per CPU.
    klass : mapping
        Student id -> assignment -> :class:`Plan`.
    say : callable
        Receives one line per step, for the terminal.
    progress : callable or None
        Progress-bar factory for the grader (see :func:`cnn_course.runner.grade`).

    Returns
    -------
    DemoResult
    """
    from cnn_course.feedback import feedback_leaks
    from cnn_course.report import build_report
    from cnn_course.runner import default_jobs, grade
    from cnn_course.submissions import find_submissions

    jobs = jobs or default_jobs()
    assignments = class_assignments(klass)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    root = prepare_course(Path(root), assignments)
    say(f"course rebuilt from source/ in {root}, exchange in {root / 'exchange'}")
    for assignment in assignments:
        release(root, assignment)
    say(f"generated and released {len(assignments)} assignments")
    for assignment in assignments:
        hand_in(root, assignment, klass)
        collect(root, assignment)
    say(f"{len(klass)} students fetched and submitted each assignment; collected")
    seconds["exchange"] = time.perf_counter() - started

    started = time.perf_counter()
    run = grade(
        root,
        find_submissions(root),
        jobs=jobs,
        export_to=root / GRADES_CSV,
        progress=progress,
        review=True,  # the instructor's pipeline: the demo's report shows what it flags
    )
    seconds["grading"] = time.perf_counter() - started
    say(
        f"autograded {len(run.autograde)} notebooks and generated feedback with {jobs} jobs "
        f"in {seconds['grading']:.1f} s ({len(run.failures)} failed)"
    )
    started = time.perf_counter()
    course_report, files = build_report(root)
    leaks = feedback_leaks(root)
    seconds["report"] = time.perf_counter() - started
    scores = read_scores(root, list(klass), assignments)
    return DemoResult(root, scores, run, files, leaks, seconds, course_report.copying())


def summary(result: DemoResult, klass: Mapping[str, Mapping[str, Plan]] = CLASS) -> list[str]:
    """The closing lines: the score table, late penalties, failures and where things are."""
    assignments = class_assignments(klass)
    lines = ["", score_table(result.scores, list(klass), assignments), *late_notes(result.scores)]
    lines += pending_notes(result.scores)
    lines += [
        f"! {f.step} {f.submission or 'gradebook'}: {f.reason}" for f in result.grading.failures
    ]
    lines += [f"! feedback shows hidden test code: {leak}" for leak in result.leaks]
    lines += [f"? {suspicion.line}" for suspicion in result.copying]
    if result.grading.reviews is not None:
        from cnn_course.integrity import summary_lines

        lines += summary_lines(result.grading.reviews, result.root)
    lines += [
        "",
        f"grades:   {result.grades_csv}",
        f"feedback: {result.feedback_dir}",
        f"report:   {result.report.html}",
    ]
    return lines


def class_list(klass: Mapping[str, Mapping[str, Plan]] = CLASS) -> list[str]:
    """Who does what, one line per student and assignment."""
    lines = ["The class:"]
    for student, plans in klass.items():
        for assignment, plan in plans.items():
            lines.append(f"  {student:<4} {assignment:<17} {plan.describe()}")
    return lines


# -------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``demo`` to the ``cnn-course`` parser (see :mod:`cnn_course.cli`)."""
    from cnn_course.grade import positive_int

    parser = subparsers.add_parser(
        "demo",
        help="run a whole course cycle for a simulated class (make demo)",
        description="Rebuild a demo course from source/ and run nbgrader's real cycle for a "
        f"simulated class of {len(CLASS)} students: generate and release every assignment, "
        "fetch and submit as each student (one submits late), collect, autograde in "
        "parallel, generate feedback, export grades.csv and write the report. Uses a sqlite "
        "gradebook and an exchange inside the course directory: no server, no root.",
        epilog="Exit codes: 0 done, 1 a notebook could not be graded or feedback shows hidden "
        "tests, 2 usage error (e.g. --course-dir is a folder the demo did not make).",
    )
    # Also spelt --course, so the global --course option (an existing course) is not
    # offered here: the demo course is always rebuilt.
    parser.add_argument(
        "--course-dir",
        "--course",
        dest="course_dir",
        type=Path,
        default=DEFAULT_DIR,
        metavar="DIR",
        help="demo course directory, deleted and rebuilt on each run if an earlier demo "
        f"made it (default: ./{DEFAULT_DIR})",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=None,
        metavar="N",
        help="notebooks graded at once (default: the number of CPUs)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``cnn-course demo``: run the cycle, print the class, the table and the paths."""
    from cnn_course.progress import bar_factory

    started = time.perf_counter()
    check_demo_dir(args.course_dir)
    print("\n".join(class_list()), flush=True)

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {text}", flush=True)

    try:
        result = run_demo(args.course_dir, args.jobs, say=say, progress=bar_factory(None))
    except DemoError as exc:
        print(f"cnn-course demo: failed: {exc}", file=sys.stderr)
        return 1
    say("report written; feedback checked for hidden test code")
    print("\n".join(summary(result)))
    print(f"\nwhole cycle: {time.perf_counter() - started:.1f} s on {os.cpu_count()} CPUs")
    return result.exit_code
