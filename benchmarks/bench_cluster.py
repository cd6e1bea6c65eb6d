"""Benchmark: serial ``nbgrader autograde``, ``cnn-course grade --jobs 2`` and a Dask cluster.

On scratch copies of one class of submissions, each with its own PostgreSQL gradebook on
one throw-away server (a cluster needs a database server; the others use it too, so the
database is not what differs), in one run:

1. serial: ``nbgrader autograde ASSIGNMENT`` for each assignment;
2. pool: ``cnn-course grade --jobs 2 --no-feedback --no-export``;
3. cluster: the same with ``--scheduler`` on a real ``dask scheduler`` and two ``dask
   worker --nthreads 1`` processes on 127.0.0.1, started (and timed) beforehand;
4. local cluster: ``--local-cluster 2``, start-up included.

It prints the wall times, the cluster's overhead per notebook against the pool, and
whether all four gave the same per-cell grades (Gradebook API).

Usage::

    python benchmarks/bench_cluster.py --toy 24       # 24 students, toy assignment
    python benchmarks/bench_cluster.py --class 8      # 8 students x the 4 topics
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from bench_grading import BIN, copy_course, make_class_course, make_toy_course, time_serial  # noqa: E402
from course_helpers import postgres_tools, temporary_postgres  # noqa: E402

from cnn_course.gradebook import cell_grades  # noqa: E402
from cnn_course.nbgrader_api import ensure_tools_on_path, load_api  # noqa: E402
from cnn_course.submissions import find_submissions  # noqa: E402

RUNS = ("serial", "pool", "cluster", "local")


def own_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server; its URL."""
    import psycopg

    host = server_url.split("host=")[1]
    with psycopg.connect(host=host, user="postgres", dbname="gradebook", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return server_url.replace("/gradebook?", f"/{name}?")


def onto_database(root: Path, url: str, assignments: list[str]) -> None:
    """Point the course copy at ``url`` and generate its assignments into that gradebook."""
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {url!r}\n")
    api = load_api(root)
    for assignment in assignments:
        outcome = api.generate_assignment(assignment, force=True, create=True)
        if not outcome["success"]:
            raise RuntimeError(outcome.get("log", "") + outcome.get("error", ""))


def time_grade(root: Path, assignments: list[str], *where: str) -> float:
    """Wall seconds of ``cnn-course grade`` (no feedback, no export) with ``where``."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "cnn-course"), "--course", str(root), "grade", *assignments, *where]
        + ["--no-feedback", "--no-export", "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stdout + done.stderr)
    return seconds


def start_cluster(logs: Path, workers: int) -> tuple[str, list[subprocess.Popen], float]:
    """A ``dask scheduler`` and ``workers`` single-thread workers; (address, procs, seconds)."""
    import socket

    from distributed import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    started = time.perf_counter()
    log = open(logs / "dask.log", "w")  # noqa: SIM115
    dask = str(BIN / "dask")
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ]
    for _ in range(workers):
        procs.append(
            subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--no-dashboard"]
                + ["--host", "127.0.0.1"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--toy", type=int, metavar="N", help="a toy class of N students")
    which.add_argument("--class", dest="klass", type=int, metavar="N", help="N students x 4")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    ensure_tools_on_path()
    bindir = postgres_tools()
    if bindir is None:
        print("needs a PostgreSQL server install (apt-get install -y postgresql)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    work.chmod(0o755)  # the grading kernel's user must reach the course
    origin = work / "origin"
    if args.toy:
        make_toy_course(origin, args.toy, 0)
    else:
        make_class_course(origin, args.klass)
    assignments = sorted({s.assignment for s in find_submissions(origin)})
    n = len(find_submissions(origin))
    print(f"{n} submissions of {', '.join(assignments)}; {args.workers} workers; in {work}")
    seconds: dict[str, float] = {}
    with temporary_postgres(bindir) as server:
        urls = {}
        for name in RUNS:
            copy = copy_course(origin, work / name, immediate_shutdown=False)
            urls[name] = own_database(server, name)
            onto_database(copy, urls[name], assignments)
        seconds["serial"] = time_serial(work / "serial", assignments)
        seconds["pool"] = time_grade(work / "pool", assignments, "--jobs", str(args.workers))
        address, procs, startup = start_cluster(work, args.workers)
        try:
            seconds["cluster"] = time_grade(work / "cluster", assignments, "--scheduler", address)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
        seconds["local"] = time_grade(
            work / "local", assignments, "--local-cluster", str(args.workers)
        )
        course_id = load_api(work / "serial").coursedir.course_id
        tables = [{a: cell_grades(urls[r], course_id, a) for a in assignments} for r in RUNS]
    identical = all(table == tables[0] for table in tables[1:])
    serial = seconds["serial"]
    rows = [
        ("serial nbgrader autograde", "serial"),
        (f"cnn-course grade --jobs {args.workers}", "pool"),
        (f"--scheduler ({args.workers} dask workers)", "cluster"),
        (f"--local-cluster {args.workers}", "local"),
    ]
    for label, key in rows:
        print(
            f"{label:<34} {seconds[key]:7.1f} s  {seconds[key] / n:6.3f} s/notebook  "
            f"{serial / seconds[key]:5.2f}x serial"
        )
    overhead = (seconds["cluster"] - seconds["pool"]) / n
    print(f"cluster start-up (scheduler + {args.workers} workers, by hand)  {startup:.1f} s")
    print(
        f"cluster overhead per notebook against the pool: {overhead * 1000:+.0f} ms "
        f"({seconds['cluster'] / seconds['pool']:.2f}x the pool's wall time)"
    )
    print(f"identical per-cell grades (all four)  {'yes' if identical else 'NO'}")
    return 0 if identical else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
