"""Benchmark: serial ``nbgrader autograde`` against ``cnn-course grade --jobs N``.

On scratch copies of one course and class of submissions, in one run:

1. floor: nbclient executes every notebook that autograding executes (the autograded
   copies, hidden tests included, outputs cleared), one at a time, no grading at all;
2. serial: ``nbgrader autograde ASSIGNMENT`` for each assignment, as an instructor
   runs it (one process, one notebook at a time);
3. overhead: ``cnn-course`` grading with one worker; the mean time per notebook inside
   the worker (no start-up), against the floor (target: at most 1.3x);
4. parallel: ``cnn-course grade --jobs N --no-feedback --no-export``, wall time against
   the serial one (target: at least 1.7x with 2 jobs on 2 cores);

and checks that all three gradings give the same per-cell grades (Gradebook API).

Usage::

    python benchmarks/bench_grading.py --class 40          # 40 students x 4 assignments
    python benchmarks/bench_grading.py --toy 40            # generated toy class
    python benchmarks/bench_grading.py --course . [--assignment 01_filters ...]

``--class N`` builds a course of the four topic assignments from ``source/`` and a class of N
simulated students (``cnn_course.classroom``): every other student hands in correct work in
one of the coding styles, the others one typical mistake each, in turn. ``--course`` copies
the course (``source/``, ``release/``, ``submitted/``, the gradebook and config) into a
scratch directory and never writes to the original.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from cnn_course.classroom import (
    correct_work,
    fill_notebook,
    mistake_work,
    mistakes,
    styles,
    toy,
)
from cnn_course.course import CourseDir
from cnn_course.gradebook import cell_grades
from cnn_course.manifest import TOPICS
from cnn_course.nbgrader_api import ensure_tools_on_path, load_api
from cnn_course.pipeline.runner import OK, grade
from cnn_course.submissions import find_submissions

BIN = Path(sys.executable).parent
# Left behind by grading; a copy for benchmarking starts without them.
GRADING_OUTPUT = ("autograded", "feedback", "grades.csv")
IMMEDIATE_SHUTDOWN = '\nc.Execute.shutdown_kernel = "immediate"\n'


def make_toy_course(root: Path, students: int, broken: int) -> None:
    """Generate the toy assignment and a class of ``students`` submissions in ``root``."""
    toy.write_toy_course(root)
    outcome = load_api(root).generate_assignment(toy.TOY_ASSIGNMENT, force=True, create=True)
    if not outcome["success"]:
        raise RuntimeError(outcome.get("log", "") + outcome.get("error", ""))
    toy.write_submissions(root, toy.class_kinds(students, broken))


def make_class_course(root: Path, students: int) -> None:
    """The four topic assignments and ``students`` simulated submissions of each in ``root``."""
    course = CourseDir.create(root, TOPICS)
    for assignment in TOPICS:
        course.generate(assignment)
        release = course.release_notebook(assignment)
        correct = [correct_work(assignment, style) for style in styles(assignment)]
        wrong = [mistake_work(assignment, mistake) for mistake in mistakes(assignment)]
        for number in range(students):
            pool = wrong if number % 2 else correct
            work = pool[(number // 2) % len(pool)]
            course.submit(f"student{number:02d}", assignment, fill_notebook(release, work.code))


def copy_course(src: Path, dest: Path, immediate_shutdown: bool) -> Path:
    """Copy a course without its grading output, optionally with immediate kernel shutdown."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*GRADING_OUTPUT, ".git", ".venv"))
    if immediate_shutdown:
        with open(dest / "nbgrader_config.py", "a") as config:
            config.write(IMMEDIATE_SHUTDOWN)
    return dest


def db_url(root: Path) -> str:
    """The course's effective gradebook URL, from its config."""
    return load_api(root).coursedir.db_url


def time_serial(root: Path, assignments: list[str]) -> float:
    """Wall seconds of ``nbgrader autograde A`` for each assignment, run in ``root``."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    started = time.perf_counter()
    for assignment in assignments:
        # Exit status 1 only means some submission failed; the others are graded.
        subprocess.run(
            [str(BIN / "nbgrader"), "autograde", assignment, "--log-level=ERROR"],
            cwd=root,
            env=env,
            capture_output=True,
            check=False,
        )
    return time.perf_counter() - started


def time_cli(root: Path, assignments: list[str], jobs: int) -> float:
    """Wall seconds of ``cnn-course grade ASSIGNMENTS --jobs N`` (no feedback, no export)."""
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "cnn-course"), "--course", str(root), "grade", *assignments]
        + ["--jobs", str(jobs), "--no-feedback", "--no-export", "--no-progress"],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


def in_worker_seconds(root: Path, assignments: list[str]) -> list[float]:
    """Per-notebook seconds measured inside one worker (start-up excluded)."""
    subs = [s for s in find_submissions(root) if s.assignment in assignments]
    run = grade(root, subs, jobs=1, feedback=False)
    return [r.seconds for r in run.autograde if r.status == OK]


@contextmanager
def kernels_quiet() -> Iterator[None]:
    """Send kernels' start-up warnings (they inherit fd 2) to the null device."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def floor_seconds(graded_root: Path, timeout: int, immediate_shutdown: bool) -> list[float]:
    """nbclient execution time of each autograded notebook, outputs cleared, no grading."""
    times = []
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader sets it for student code
    with kernels_quiet():
        for path in sorted((graded_root / "autograded").glob("*/*/*.ipynb")):
            times.append(_run_once(path, timeout, immediate_shutdown))
    return times


def _run_once(path: Path, timeout: int, immediate_shutdown: bool) -> float:
    """Seconds nbclient takes to execute one notebook in its own folder, fresh kernel."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        shutdown_kernel="immediate" if immediate_shutdown else "graceful",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def same_grades(roots: list[Path], assignments: list[str], course_id: str) -> bool:
    """Whether every course copy recorded the same per-cell grades."""
    tables = [{a: cell_grades(db_url(root), course_id, a) for a in assignments} for root in roots]
    return all(table == tables[0] for table in tables[1:])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--course", type=Path, help="course directory with submissions")
    where.add_argument(
        "--class", dest="klass", type=int, metavar="N", help="generate a class of N students"
    )
    where.add_argument("--toy", type=int, metavar="N", help="generate a toy class of N students")
    parser.add_argument("--broken", type=int, default=0, help="toy: invalid-JSON submissions")
    parser.add_argument("--assignment", action="append", default=[], help="default: all")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=30, help="per-cell timeout (floor)")
    parser.add_argument(
        "--immediate-shutdown",
        action="store_true",
        help='grade and run the floor with Execute.shutdown_kernel = "immediate"',
    )
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_tools_on_path()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-grading-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # as root, the grading kernel runs as a user that must reach the course
    if args.klass:
        origin = work / "origin"
        make_class_course(origin, args.klass)
    elif args.toy:
        origin = work / "origin"
        make_toy_course(origin, args.toy, args.broken)
    else:
        origin = args.course.resolve()
    assignments = args.assignment or sorted({s.assignment for s in find_submissions(origin)})
    n_subs = sum(s.assignment in assignments for s in find_submissions(origin))
    copies = {
        name: copy_course(origin, work / name, args.immediate_shutdown)
        for name in ("serial", "worker", "parallel")
    }
    course_id = load_api(copies["serial"]).coursedir.course_id
    print(f"{n_subs} submissions of {', '.join(assignments)}; scratch copies in {work}")

    serial = time_serial(copies["serial"], assignments)
    floor = floor_seconds(copies["serial"], args.timeout, args.immediate_shutdown)
    per_nb = in_worker_seconds(copies["worker"], assignments)
    parallel = time_cli(copies["parallel"], assignments, args.jobs)
    identical = same_grades(list(copies.values()), assignments, course_id)

    n = len(floor)  # notebooks that were actually executed (broken ones are not)
    figures = {
        "submissions": n_subs,
        "notebooks_executed": n,
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "serial_wall_s": serial,
        "parallel_wall_s": parallel,
        "speedup": serial / parallel,
        "floor_s_per_nb": statistics.mean(floor),
        "grading_s_per_nb": statistics.mean(per_nb),
        "overhead_ratio": statistics.mean(per_nb) / statistics.mean(floor),
        "floor_median_s": statistics.median(floor),
        "grading_median_s": statistics.median(per_nb),
        "overhead_ratio_median": statistics.median(per_nb) / statistics.median(floor),
        "serial_s_per_nb": serial / max(n, 1),
        "parallel_s_per_nb": parallel / max(n, 1),
        "identical_grades": identical,
        "immediate_shutdown": args.immediate_shutdown,
    }
    print(
        f"floor (nbclient, no grading)    {figures['floor_s_per_nb']:.3f} s/notebook "
        f"(median {figures['floor_median_s']:.3f})"
    )
    print(
        f"cnn-course, in worker           {figures['grading_s_per_nb']:.3f} s/notebook "
        f"(median {figures['grading_median_s']:.3f})  = {figures['overhead_ratio']:.2f}x floor, "
        f"median {figures['overhead_ratio_median']:.2f}x (target <= 1.3)"
    )
    print(
        f"serial nbgrader autograde       {serial:.1f} s  ({figures['serial_s_per_nb']:.3f} s/nb)"
    )
    print(
        f"cnn-course grade --jobs {args.jobs:<2}      {parallel:.1f} s  "
        f"({figures['parallel_s_per_nb']:.3f} s/nb)  speedup {figures['speedup']:.2f}x "
        "(target >= 1.7 with 2 jobs on 2 cores)"
    )
    print(f"identical per-cell grades       {'yes' if identical else 'NO'}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
