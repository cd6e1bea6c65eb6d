"""What the grading sandbox costs: nbgrader autograde with the plain kernel vs "cnn-grader".

Builds two identical toy courses (one assignment, ``01_filters``, with a solution, a
visible test and hidden tests that call ``cnn_course.grading.check``), submits the
same correct notebook for ``--students`` students in each, and autogrades them with
nbgrader (serially, as ``nbgrader autograde`` does), alternating the two kernels for
``--rounds`` rounds. One course keeps the course's ``nbgrader_config.py`` as instructors
run it (the ``cnn-grader`` kernel and its permission hooks); the other overrides it with
the stock ``python3`` kernel and no hooks. Prints seconds per notebook (median round) for
each and the difference.

    .venv/bin/python benchmarks/bench_sandbox.py [--students 6] [--rounds 2]

As root the sandbox kernel also switches user and network namespace (the CI setting);
otherwise it only sets resource limits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from traitlets.config import Config

from cnn_course.classroom.toy import ZERO_PAD_SOLUTION, zero_pad_source_notebook
from cnn_course.course import CourseDir
from cnn_course.sandbox import ensure_kernelspec, ensure_sandbox_user

ASSIGNMENT = "01_filters"


def build_course(root: Path, students: int) -> CourseDir:
    """A generated course with the same correct submission from each student."""
    toy = root / "toy" / "source" / ASSIGNMENT
    toy.mkdir(parents=True)
    nbformat.write(zero_pad_source_notebook(), toy / "filters.ipynb")
    course = CourseDir.create(root / "course", [ASSIGNMENT], source_from=root / "toy")
    course.generate(ASSIGNMENT)
    answer = course.release_notebook(ASSIGNMENT)
    cell = next(
        c for c in answer.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "zero_pad"
    )
    cell.source = ZERO_PAD_SOLUTION
    for number in range(students):
        course.submit(f"student{number:02d}", ASSIGNMENT, answer)
    return course


def plain_config() -> Config:
    """The stock kernel over TCP and no permission hooks, overriding the course's config."""
    config = Config()
    execute = config.Autograde.Exporter.Execute  # where the course's config sets the kernel
    execute.kernel_name = "python3"
    execute.extra_arguments = []
    config.KernelManager.transport = "tcp"
    config.KernelManager.ip = "127.0.0.1"
    config.Autograde.pre_convert_hook = None
    config.Autograde.post_convert_hook = None
    return config


def grade_seconds(course: CourseDir) -> float:
    start = time.perf_counter()
    course.autograde(ASSIGNMENT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ensure_kernelspec()
    if os.geteuid() == 0:
        ensure_sandbox_user()
    base = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    base.chmod(0o755)
    try:
        plain = build_course(base / "plain", args.students)
        plain.config.merge(plain_config())
        # The course's own nbgrader_config.py: the sandbox kernel and its permission hooks.
        sandbox = build_course(base / "sandbox", args.students)
        times: dict[str, list[float]] = {"python3": [], "cnn-grader": []}
        for _ in range(args.rounds):
            times["python3"].append(grade_seconds(plain))
            times["cnn-grader"].append(grade_seconds(sandbox))
        per_notebook = {k: statistics.median(v) / args.students for k, v in times.items()}
        mode = "root: user switch + network namespace + rlimits" if os.geteuid() == 0 else "rlimits"
        print(
            f"{args.students} notebooks x {args.rounds} rounds, serial autograde; sandbox: {mode}"
        )
        for kernel, seconds in per_notebook.items():
            rounds = ", ".join(f"{t:.2f}" for t in times[kernel])
            print(f"  {kernel:<11} {seconds:6.3f} s/notebook   (rounds, s: {rounds})")
        added = per_notebook["cnn-grader"] - per_notebook["python3"]
        print(f"  added by the sandbox: {added:+.3f} s/notebook")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
