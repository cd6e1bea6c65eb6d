"""The ``demo`` subcommand: an instructor's whole course cycle on a simulated class.

``cnn-course demo [--course-dir DIR] [--jobs N]`` (``make demo``) rebuilds ``DIR`` (default
``demo/``) from the repository's ``source/`` and runs nbgrader's real exchange cycle for
every assignment, with a sqlite gradebook and the exchange inside ``DIR`` (no server, no
root):

1. ``generate_assignment`` and ``release_assignment`` (instructor);
2. ``fetch_assignment``, the work filled in, ``submit`` (each student of :data:`CLASS`, in
   ``DIR/students/<id>/``); the due date is set in the gradebook after the on-time
   submissions, so a late student really submits after it;
3. ``collect``, parallel ``autograde`` (:mod:`cnn_course.pipeline.runner`), ``generate_feedback``,
   ``export`` to ``grades.csv``, and the report (:mod:`cnn_course.report`).

It ends with a table of scores per student and assignment, read from the gradebook. The
students' work comes from :mod:`cnn_course.classroom`; :data:`CLASS` only says who does
what. The class is :mod:`cnn_course.classroom.demo_class`, the nbgrader steps
:mod:`cnn_course.commands.demo_steps`, the score table
:mod:`cnn_course.commands.demo_scores`; this module runs them in order and is the command
line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnn_course.classroom.demo_class import CLASS, Plan, class_assignments, class_list
from cnn_course.commands.demo_scores import (
    Score,
    late_notes,
    pending_notes,
    read_scores,
    score_table,
)
from cnn_course.commands.demo_steps import (
    DemoError,
    check_demo_dir,
    collect,
    hand_in,
    prepare_course,
    release,
)

if TYPE_CHECKING:
    from cnn_course.pipeline.runner import GradingRun
    from cnn_course.report import ReportFiles

DEFAULT_DIR = Path("demo")
GRADES_CSV = "grades.csv"

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
        Progress-bar factory for the grader (see :func:`cnn_course.pipeline.runner.grade`).

    Returns
    -------
    DemoResult
    """
    from cnn_course.integrity.feedback import feedback_leaks
    from cnn_course.pipeline.runner import default_jobs, grade
    from cnn_course.report import build_report
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


# -------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``demo`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    from cnn_course.commands.grade import positive_int

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
    from cnn_course.pipeline.progress import bar_factory

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
