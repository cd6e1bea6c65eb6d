"""What the grading engine's guard costs: each instructor notebook run with it armed and not.

The guard (``cnn_solutions/grading/guard.py``) arms itself in a kernel started for
autograding (``NBGRADER_EXECUTION=autograde``): it snapshots the engine and numpy, restores
them before every cell and check, and watches every call of student code with a profile
hook. This runs every ``source/`` notebook (solutions and hidden tests, so every check
runs) with nbclient in the stock ``python3`` kernel, alternating a kernel without the
variable and one with it, for ``--rounds`` rounds, and prints the median seconds of each
and their ratio.

    .venv/bin/python benchmarks/bench_guard.py [--rounds 3] [--assignment 01_filters ...]
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
from nbclient import NotebookClient

from cnn_course.classroom import ASSIGNMENTS, TOPICS

ROOT = Path(__file__).resolve().parents[1]


def run_seconds(notebook: Path, armed: bool) -> float:
    """Wall seconds to execute ``notebook`` in a scratch copy of its folder."""
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    if armed:
        env["NBGRADER_EXECUTION"] = "autograde"
    work = Path(tempfile.mkdtemp(prefix="bench-guard-"))
    try:
        shutil.copytree(notebook.parent, work, dirs_exist_ok=True)
        client = NotebookClient(
            nbformat.read(notebook, as_version=4),
            timeout=300,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(work)}},
        )
        started = time.perf_counter()
        client.execute(env=env)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--assignment", action="append", choices=TOPICS, default=[])
    args = parser.parse_args()
    print(f"median of {args.rounds} rounds, stock python3 kernel, guard off vs armed")
    for assignment in args.assignment or TOPICS:
        notebook = ROOT / "source" / assignment / ASSIGNMENTS[assignment][1]
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.rounds):
            for armed in (False, True):
                times[armed].append(run_seconds(notebook, armed))
        off, on = statistics.median(times[False]), statistics.median(times[True])
        print(
            f"  {assignment:<17} off {off:5.2f} s   armed {on:5.2f} s   "
            f"added {on - off:+.2f} s   ratio {on / off:.2f}x"
        )


if __name__ == "__main__":
    main()
