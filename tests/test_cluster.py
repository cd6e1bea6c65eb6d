"""``cnn-course grade --scheduler``: grading on a real Dask cluster.

A real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, a real PostgreSQL
server for the gradebook, and the installed ``cnn-course`` command. Every per-cell grade
is compared with the local process pool's on the same class; a worker killed in the
middle of a batch and a scheduler lost in the middle of one must end, after the rerun
that the message asks for, with the same grades.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from course_helpers import (
    CRASH_HOOK,
    VENV_BIN,
    expected_scores,
    grades,
    make_course,
    postgres_tools,
    temporary_postgres,
    tool_env,
)

from cnn_course.classroom import toy
from cnn_course.pipeline import completion
from cnn_course.submissions import find_submissions

pytestmark = pytest.mark.cluster

ASSIGNMENTS = ("hw1", "hw2")
KINDS = toy.class_kinds(6)
DASK = str(VENV_BIN / "dask")
CNN_COURSE = str(VENV_BIN / "cnn-course")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    """A scheduler and its workers, each a real process started here."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: Path | None = None

    def add_worker(
        self, *extra: str, env: dict[str, str] | None = None, wrap=(), nanny: bool = False
    ) -> None:
        log = open(self.logs / f"worker{len(self.workers)}.log", "w")  # noqa: SIM115
        argv = [*wrap, DASK, "worker", self.address, "--nthreads", "1"]
        argv += [] if nanny else ["--no-nanny"]
        argv += ["--host", "127.0.0.1", "--no-dashboard", *extra]
        self.workers.append(
            subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env or tool_env())
        )

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(n, timeout=60)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler and two single-thread workers, as an instructor starts them by hand."""
    found = start_cluster(tmp_path / "dask")
    try:
        found.add_worker()
        found.add_worker()
        found.wait_for_workers(2)
        yield found
    finally:
        found.stop()


def start_cluster(logs: Path, port: int | None = None) -> Cluster:
    logs.mkdir(exist_ok=True)
    port = port or free_port()
    log = open(logs / "scheduler.log", "a")  # noqa: SIM115
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=tool_env(),
    )
    return Cluster(f"tcp://127.0.0.1:{port}", scheduler, logs=logs)


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    import psycopg  # noqa: F401 -- a test dependency: its absence is a failure

    bindir = postgres_tools()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no PostgreSQL server installed (pg_ctl): apt-get install -y postgresql")
        pytest.skip("no PostgreSQL server installed (pg_ctl): apt-get install -y postgresql")
    with temporary_postgres(bindir) as url:
        yield url


def database(url: str, name: str) -> str:
    """A fresh database on the test server; its URL."""
    import psycopg

    host = url.split("host=")[1]
    with psycopg.connect(host=host, user="postgres", dbname="gradebook", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    return url.replace("/gradebook?", f"/{name}?")


def cnn_course(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CNN_COURSE, "--course", str(root), "grade", *args, "--no-progress"],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )


def start_grading(root: Path, scheduler: str, url: str) -> subprocess.Popen:
    """``cnn-course grade --scheduler`` in the background (to interrupt it mid-batch)."""
    return subprocess.Popen(
        [CNN_COURSE, "--course", str(root), "grade", "--scheduler", scheduler]
        + ["--db", url, "--no-progress"],
        cwd=root,
        env=tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cell_scores(root: Path, url: str | None = None) -> dict[tuple[str, str, str, str], float]:
    """Every per-cell auto score of the course, by (assignment, student, notebook, cell)."""
    return {
        (assignment, *key): grade.auto_score
        for assignment in ASSIGNMENTS
        for key, grade in grades(root, assignment, url).items()
    }


@pytest.fixture(scope="module")
def pool_scores(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The class graded by the local process pool (``--jobs 2``), the reference run."""
    root = make_course(tmp_path_factory.mktemp("pool") / "course", KINDS, assignments=ASSIGNMENTS)
    done = cnn_course(root, "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    scores = cell_scores(root)
    # The pool itself grades right: the toy's expected scores, per student and cell.
    for assignment in ASSIGNMENTS:
        got = {(s, c): v for (a, s, _, c), v in scores.items() if a == assignment}
        assert got == expected_scores(KINDS)
    return scores


def course_on(postgres: str, tmp_path: Path, name: str) -> tuple[Path, str]:
    url = database(postgres, name)
    root = make_course(tmp_path / "course", KINDS, assignments=ASSIGNMENTS, db_url=url)
    return root, url


def wait_for_records(root: Path, n: int, timeout: float = 300) -> None:
    """Until ``n`` submissions are recorded as graded (cnn_course.pipeline.completion)."""
    deadline = time.monotonic() + timeout
    subs = find_submissions(root)
    while time.monotonic() < deadline:
        if sum(completion.read_record(root, s) is not None for s in subs) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} submissions graded after {timeout} s")


# ------------------------------------------------------------------------------ grading


def test_the_cluster_grades_every_cell_as_the_process_pool_does(
    cluster: Cluster, postgres: str, pool_scores: dict, tmp_path: Path
) -> None:
    root, url = course_on(postgres, tmp_path, "same_grades")
    done = cnn_course(root, "--scheduler", cluster.address, "--db", url)
    assert done.returncode == 0, done.stdout + done.stderr
    n = len(KINDS) * len(ASSIGNMENTS)
    assert f"autograded {n} of {n} submissions" in done.stdout
    assert f"on the Dask cluster at {cluster.address} (2 workers)" in done.stdout
    assert f"feedback: {n} generated" in done.stdout
    assert cell_scores(root, url) == pool_scores
    assert (root / "grades.csv").is_file()
    # A second run grades nothing again.
    again = cnn_course(root, "--scheduler", cluster.address, "--db", url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"autograded 0 of {n} submissions ({n} already graded, 0 failed)" in again.stdout


def test_a_worker_killed_mid_batch_costs_one_retry_and_no_grade(
    cluster: Cluster, postgres: str, pool_scores: dict, tmp_path: Path
) -> None:
    root, url = course_on(postgres, tmp_path, "killed_worker")
    grading = start_grading(root, cluster.address, url)
    subs = find_submissions(root)
    wait_for_records(root, 2)
    victim = cluster.workers[0]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    graded_at_kill = sum(completion.read_record(root, s) is not None for s in subs)
    out, err = grading.communicate(timeout=900)
    assert graded_at_kill < len(subs)  # it died in the middle of the batch
    assert grading.returncode == 0, out + err
    n = len(subs)
    assert f"autograded {n} of {n} submissions (0 already graded, 0 failed)" in out, out
    assert cell_scores(root, url) == pool_scores
    # The scheduler lost the worker. (A result still on it, not yet fetched, is graded
    # again elsewhere and then delivered: the runner never saw the first one.)
    assert "Remove worker" in (cluster.logs / "scheduler.log").read_text()


def test_a_submission_that_kills_its_worker_fails_alone_after_one_retry(
    postgres: str, tmp_path: Path
) -> None:
    kinds = {"ada": "correct", "bob": "wrong", "crash": "correct", "dee": "hidden_fail"}
    url = database(postgres, "crashing")
    root = make_course(tmp_path / "course", kinds, db_url=url, extra_config=CRASH_HOOK)
    restarting = start_cluster(tmp_path / "dask")
    try:
        # With a nanny, as `dask worker` starts by default: a dead worker comes back.
        restarting.add_worker(nanny=True)
        restarting.add_worker(nanny=True)
        restarting.wait_for_workers(2)
        done = cnn_course(root, "--scheduler", restarting.address, "--db", url)
    finally:
        restarting.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("  autograde")]
    assert len(failed) == 1, done.stderr
    assert failed[0].startswith(f"  autograde {toy.TOY_ASSIGNMENT}/crash: the Dask worker "), failed
    assert "and so did the worker of its retry" in failed[0]
    got = {
        (g.student, g.cell): g.auto_score for g in grades(root, toy.TOY_ASSIGNMENT, url).values()
    }
    honest = {s: k for s, k in kinds.items() if s != "crash"}
    assert {k: v for k, v in got.items() if k[0] != "crash"} == expected_scores(honest)
    log = (restarting.logs / "scheduler.log").read_text()
    assert "marked as failed because 2 workers died" in log, log


def test_a_lost_scheduler_stops_cleanly_and_the_rerun_grades_what_is_left(
    postgres: str, pool_scores: dict, tmp_path: Path
) -> None:
    root, url = course_on(postgres, tmp_path, "lost_scheduler")
    port = free_port()
    first = start_cluster(tmp_path / "dask1", port)
    try:
        first.add_worker()
        first.add_worker()
        first.wait_for_workers(2)
        grading = start_grading(root, first.address, url)
        wait_for_records(root, 2)
        first.scheduler.send_signal(signal.SIGKILL)
        out, err = grading.communicate(timeout=300)
    finally:
        first.stop()
    assert grading.returncode == 1, out + err
    assert "the connection to the Dask scheduler broke" in err, err
    assert "run `cnn-course grade` again to grade what is left" in err
    subs = find_submissions(root)
    kept = [s for s in subs if completion.read_record(root, s) is not None]
    assert 2 <= len(kept) < len(subs)

    # The rerun on a cluster started for it on this machine (--local-cluster).
    rerun = cnn_course(root, "--local-cluster", "2", "--db", url)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "started a local Dask cluster of 2 workers" in rerun.stdout
    left = len(subs) - len(kept)
    assert f"autograded {left} of {len(subs)} submissions ({len(kept)} already graded" in (
        rerun.stdout
    ), rerun.stdout
    assert cell_scores(root, url) == pool_scores


# ------------------------------------------------------------------------------ refusals


def test_a_sqlite_gradebook_is_refused_before_anything_starts(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {"ada": "correct"})
    done = cnn_course(root, "--local-cluster", "2")
    assert done.returncode == 2
    assert "a cluster run needs a gradebook every worker can write at once" in done.stderr
    assert "--db postgresql://" in done.stderr
    assert not (root / "autograded").exists()


def test_workers_that_would_grade_differently_are_named(postgres: str, tmp_path: Path) -> None:
    root, url = course_on(postgres, tmp_path, "bad_workers")
    bad = start_cluster(tmp_path / "dask")
    try:
        bad.add_worker()  # a good one
        # One whose Jupyter finds another "cnn-grader" kernel (not the sandbox's).
        kernels = tmp_path / "jupyter" / "kernels" / "cnn-grader"
        kernels.mkdir(parents=True)
        (kernels / "kernel.json").write_text(
            '{"argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],'
            ' "display_name": "plain", "language": "python"}'
        )
        bad.add_worker(
            "--name", "plain-kernel", env=tool_env() | {"JUPYTER_PATH": str(kernels.parents[1])}
        )
        # One that does not see the course (no shared filesystem): an empty tmpfs over it.
        hide = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            f'mount -t tmpfs none "{tmp_path}" && exec "$@"',
            "sh",
        ]
        bad.add_worker("--name", "no-course", wrap=hide)
        bad.wait_for_workers(3)
        done = cnn_course(root, "--scheduler", bad.address, "--db", url)
    finally:
        bad.stop()
    assert done.returncode == 2, done.stdout + done.stderr
    err = done.stderr
    assert "these workers would not grade the course as this machine does" in err
    lines = [line for line in err.splitlines() if line.startswith("  worker ")]
    named = {line.split()[1] for line in lines}
    assert named == {"plain-kernel", "no-course"}, err  # the good worker is not named
    assert any("restricted kernel is " in line and "ipykernel_launcher" in line for line in lines)
    assert any("course directory is missing" in line for line in lines)
    assert not (root / "autograded").exists()


def test_workers_running_several_threads_are_refused(postgres: str, tmp_path: Path) -> None:
    root, url = course_on(postgres, tmp_path, "threads")
    bad = start_cluster(tmp_path / "dask")
    try:
        bad.add_worker("--nthreads", "3")
        bad.wait_for_workers(1)
        done = cnn_course(root, "--scheduler", bad.address, "--db", url)
    finally:
        bad.stop()
    assert done.returncode == 2
    assert "(3 threads)" in done.stderr and "--nthreads 1" in done.stderr


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {"ada": "correct"})
    url = "postgresql+psycopg://grader@/gradebook?host=/nonexistent"
    done = cnn_course(root, "--scheduler", f"tcp://127.0.0.1:{free_port()}", "--db", url)
    assert done.returncode == 2
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:" in done.stderr
    assert "Connection refused" in done.stderr
    assert not (root / "autograded").exists()
