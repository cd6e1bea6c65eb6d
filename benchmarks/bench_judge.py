"""What grading costs per notebook: ``cnn-course grade --jobs 1`` against running the notebook.

Hidden tests no longer judge in the student's kernel: ``cnn_probe`` sends plain-data results
and the course's ``InjectCases``/``JudgeResults`` preprocessors judge in the grader, in the
restricted ``cnn-grader`` kernel. This measures, for each assignment, side by side in one
run:

* floor: nbclient executes the instructor's ``source/`` notebook (solutions and hidden
  tests; without nbgrader the probe judges in the kernel itself) in the stock ``python3``
  kernel, a fresh kernel each time, ``--students`` times; seconds per notebook;
* grade: a course in a temporary folder with ``--students`` submissions of the
  instructor's own solutions (``source_solutions``), graded by the real ``cnn-course grade
  --jobs 1`` (a subprocess: start-up, autograde, feedback, export and the integrity
  review included); its wall time divided by the number of notebooks.

The ratio's goal is at most 1.15x. The grade figure is split into phases from the times
its files were written (jobs 1 grades one notebook after the other): autograde per notebook
(between consecutive graded notebooks), feedback per notebook, and the fixed cost of a run
(start-up before the first notebook, export, review and exit).

    .venv/bin/python benchmarks/bench_judge.py [--students 5] [--assignments 01_filters ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

# Run as a script from benchmarks/, beside bench_grading.py.
from bench_grading import kernels_quiet
from nbclient import NotebookClient

from cnn_course.classroom import fill_notebook, source_solutions
from cnn_course.course import CourseDir
from cnn_course.gradebook import cell_grades
from cnn_course.manifest import ASSIGNMENTS
from cnn_course.nbgrader_api import ensure_tools_on_path

BIN = Path(sys.executable).parent
GOAL = 1.15


@dataclass
class Figures:
    """One assignment's figures, seconds."""

    assignment: str
    notebooks: int
    floor_s_per_nb: float
    floor_errors: int  # error outputs in the floor's runs (0: every hidden check passed)
    grade_wall_s: float
    grade_s_per_nb: float
    ratio: float
    autograde_s_per_nb: float  # steady state, between consecutive graded notebooks
    first_notebook_s: float  # from the command's start to the first graded notebook
    feedback_s_per_nb: float
    export_s: float
    review_and_exit_s: float
    full_marks: bool  # every submission got every automatic point
    grade_exit_code: int


def floor_run(source_folder: Path, notebook: str, scratch: Path) -> tuple[float, int]:
    """Seconds nbclient takes on the instructor's notebook in a fresh stock kernel; errors."""
    work = Path(tempfile.mkdtemp(prefix="floor-", dir=scratch))
    try:
        shutil.copytree(source_folder, work, dirs_exist_ok=True)
        nb = nbformat.read(work / notebook, as_version=4)
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(work)}},
        )
        env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
        started = time.perf_counter()
        client.execute(env=env)
        seconds = time.perf_counter() - started
        errors = sum(o.output_type == "error" for c in nb.cells for o in c.get("outputs", []))
        return seconds, errors
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_course(root: Path, assignment: str, students: int) -> CourseDir:
    """A course of one assignment, and ``students`` submissions of the instructor's solutions."""
    course = CourseDir.create(root, [assignment])
    course.generate(assignment)
    solutions = source_solutions(course.source_notebook(assignment))
    notebook = fill_notebook(course.release_notebook(assignment), solutions)
    for number in range(students):
        course.submit(f"student{number:02d}", assignment, notebook)
    return course


def mtimes(paths: list[Path]) -> list[float]:
    return sorted(p.stat().st_mtime for p in paths if p.exists())


def grade_run(course: CourseDir, assignment: str, students: int) -> dict[str, float | int]:
    """Wall time of ``cnn-course grade --jobs 1``, and its phases from file times."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [str(BIN / "cnn-course"), "--course", str(course.root), "grade", assignment]
    started_wall = time.time()
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--jobs", "1", "--no-progress"], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    ended_wall = started_wall + wall
    if done.returncode != 0:
        print(done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr)
    name = course.notebook_name(assignment)
    ids = [f"student{n:02d}" for n in range(students)]
    graded = mtimes([course.root / "autograded" / s / assignment / name for s in ids])
    html = name.replace(".ipynb", ".html")
    feedback = mtimes([course.root / "feedback" / s / assignment / html for s in ids])
    csv_written = mtimes([course.root / "grades.csv"])
    phases: dict[str, float | int] = {"wall": wall, "exit_code": done.returncode}
    if len(graded) == students and len(feedback) == students and csv_written:
        steady = (graded[-1] - graded[0]) / (students - 1) if students > 1 else float("nan")
        phases.update(
            autograde=steady,
            first=graded[0] - started_wall,
            feedback=(feedback[-1] - graded[-1]) / students,
            export=csv_written[0] - feedback[-1],
            review=ended_wall - csv_written[0],
        )
    return phases


def full_marks(course: CourseDir, assignment: str) -> bool:
    """Whether every graded code cell of every submission got its points.

    Written answers (03_conv1x1's markdown cell) are graded by hand, and the submissions
    here leave them as released, so they do not count.
    """
    code_cells = {
        cell.metadata["nbgrader"]["grade_id"]
        for cell in course.source_notebook(assignment).cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    }
    grades = cell_grades(f"sqlite:///{course.root / 'gradebook.db'}", "cnn-course", assignment)
    auto = [g for g in grades.values() if g.cell in code_cells]
    return bool(auto) and all(g.auto_score == g.max_score for g in auto)


def measure(assignment: str, students: int, work: Path) -> Figures:
    folder = work / assignment
    course = make_course(folder / "course", assignment, students)
    name = course.notebook_name(assignment)
    floors, errors = [], 0
    with kernels_quiet():
        for _ in range(students):
            seconds, found = floor_run(course.root / "source" / assignment, name, folder)
            floors.append(seconds)
            errors += found
    phases = grade_run(course, assignment, students)
    nan = float("nan")
    floor = statistics.mean(floors)
    per_nb = float(phases["wall"]) / students
    return Figures(
        assignment=assignment,
        notebooks=students,
        floor_s_per_nb=floor,
        floor_errors=errors,
        grade_wall_s=float(phases["wall"]),
        grade_s_per_nb=per_nb,
        ratio=per_nb / floor,
        autograde_s_per_nb=float(phases.get("autograde", nan)),
        first_notebook_s=float(phases.get("first", nan)),
        feedback_s_per_nb=float(phases.get("feedback", nan)),
        export_s=float(phases.get("export", nan)),
        review_and_exit_s=float(phases.get("review", nan)),
        full_marks=full_marks(course, assignment),
        grade_exit_code=int(phases["exit_code"]),
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--assignments", nargs="+", choices=list(ASSIGNMENTS), default=list(ASSIGNMENTS)
    )
    parser.add_argument(
        "--students", type=int, default=5, help="submissions per assignment (default 5)"
    )
    parser.add_argument("--workdir", type=Path, help="scratch directory, kept (default: temp)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.students < 1:
        parser.error("--students must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_tools_on_path()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-judge-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # as root, the grading kernel runs as a user that must reach the course
    print(
        f"{args.students} notebooks per assignment (the instructor's solutions); floor: nbclient, "
        f"stock python3 kernel; grade: cnn-course grade --jobs 1, everything included; "
        f"{os.cpu_count()} CPUs"
    )
    try:
        figures = [measure(a, args.students, work) for a in args.assignments]
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"{'assignment':<17} {'floor s/nb':>10} {'grade s/nb':>10} {'ratio':>7}   "
        f"{'autograde':>9} {'feedback':>8} {'1st nb':>7} {'export':>7} {'review':>7}  marks"
    )
    for f in figures:
        marks = "full" if f.full_marks and f.grade_exit_code == 0 else "NOT FULL"
        if f.floor_errors:
            marks += f" (floor: {f.floor_errors} errors)"
        print(
            f"{f.assignment:<17} {f.floor_s_per_nb:>10.2f} {f.grade_s_per_nb:>10.2f} "
            f"{f.ratio:>6.2f}x   {f.autograde_s_per_nb:>9.2f} {f.feedback_s_per_nb:>8.2f} "
            f"{f.first_notebook_s:>7.2f} {f.export_s:>7.2f} {f.review_and_exit_s:>7.2f}  {marks}"
        )
    median = statistics.median(f.ratio for f in figures)
    verdict = "met" if median <= GOAL else "NOT met"
    print(f"median ratio {median:.2f}x (goal <= {GOAL:.2f}x: {verdict})")
    print(
        "autograde, feedback: s per notebook; 1st nb: s from the command's start to the first "
        "graded notebook; export, review: s (grades.csv, then the integrity review and exit)"
    )
    if args.json:
        payload = {"figures": [asdict(f) for f in figures], "median_ratio": median}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if all(f.full_marks and f.grade_exit_code == 0 for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
