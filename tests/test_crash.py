"""Crash-safe grading: no stale, silent or lost grade after a fault (issue #17).

A simulated class of one assignment in a course under tmp_path, graded by the real
``cnn-course grade`` (subprocesses, the course's sandboxed kernel). The grader is killed
with SIGKILL at 20 random moments and rerun each time; submissions are corrupted, emptied
and deleted; the gradebook is locked; the disk fills up. Every time the grades must end
as an uninterrupted run's, and no other student's grade or file may change.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from cnn_course.classroom import correct_work, fill_notebook, mistake_work, mistakes, styles
from cnn_course.course import CourseDir
from cnn_course.gradebook import cell_grades
from cnn_course.pipeline import completion
from cnn_course.submissions import Submission

pytestmark = pytest.mark.crash

A = "02_output_size"
BIN = Path(sys.executable).parent
# One kill at a random moment in each sixth of a whole run: early, midway and late kills
# every time (20 kills at uniform moments took 17 minutes of make test, and no more ground).
KILLS = 6


def class_work() -> dict[str, dict[str, str]]:
    """Two correct styles and two typical mistakes: four different grades."""
    works = [correct_work(A, style) for style in styles(A)[:2]]
    works += [mistake_work(A, mistake) for mistake in mistakes(A)[:2]]
    return {f"s{number}": dict(work.code) for number, work in enumerate(works)}


def command(root: Path, *args: str) -> list[str]:
    """``cnn-course --course ROOT ARGS``; ``grade`` with two jobs and no progress bar."""
    if args[:1] == ("grade",):
        args = ("grade", "--jobs", "2", "--no-progress", *args[1:])
    return [str(BIN / "cnn-course"), "--course", str(root), *args]


def cli_env() -> dict[str, str]:
    """The environment with the venv's tools on PATH, as the README's commands have them."""
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def cli(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(root, *args), env=cli_env(), capture_output=True, text=True, timeout=timeout
    )


def grade(root: Path, *args: str) -> subprocess.CompletedProcess:
    return cli(root, "grade", *args)


@dataclass
class Outcome:
    """Per-cell grades, the export, and the files of every student."""

    cells: dict[tuple[str, str], tuple[float | None, float]]
    rows: dict[tuple[str, str], dict[str, str]]

    @classmethod
    def of(cls, root: Path) -> Outcome:
        grades = cell_grades(f"sqlite:///{root / 'gradebook.db'}", "cnn-course", A)
        cells = {(g.student, g.cell): (g.auto_score, g.max_score) for g in grades.values()}
        with open(root / "grades.csv", newline="") as handle:
            rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
        return cls(cells, rows)


def grade_rows(root: Path) -> int:
    """How many grade rows the gradebook holds (a grade written twice would add one)."""
    with sqlite3.connect(root / "gradebook.db") as db:
        return db.execute("select count(*) from grade").fetchone()[0]


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    """The class, graded once without interruption: the grades every run must end with."""
    work = tmp_path_factory.mktemp("crash")
    work.chmod(0o755)  # as root, the grading kernel's own user must reach the course
    course = CourseDir.create(work / "course", [A])
    course.generate(A)
    release = course.release_notebook(A)
    for student, code in class_work().items():
        course.submit(student, A, fill_notebook(release, code))
    done = grade(course.root)
    assert done.returncode == 0, done.stdout + done.stderr
    return course


@pytest.fixture(scope="module")
def baseline(course: CourseDir) -> Outcome:
    outcome = Outcome.of(course.root)
    scores = {r["score"] for r in outcome.rows.values()}
    assert len(scores) > 1, outcome.rows  # the class's grades differ
    assert {r["status"] for r in outcome.rows.values()} == {"graded"}
    return outcome


def copy_of(course: CourseDir, tmp_path: Path) -> CourseDir:
    tmp_path.chmod(0o755)
    shutil.copytree(course.root, tmp_path / "course", symlinks=True)
    return CourseDir(tmp_path / "course")


def test_killed_at_random_moments_a_rerun_ends_with_the_same_grades(
    course: CourseDir, baseline: Outcome, tmp_path: Path
) -> None:
    """SIGKILL to the grader (only the grader: its workers and kernels must go by
    themselves) at a moment in each sixth of a forced regrade, each followed by a plain
    rerun."""
    root = copy_of(course, tmp_path).root
    started = time.perf_counter()
    assert grade(root, "--force").returncode == 0
    whole = time.perf_counter() - started
    chance = random.Random(17)
    step = (whole - 0.2) / KILLS
    moments = [chance.uniform(0.2 + k * step, 0.2 + (k + 1) * step) for k in range(KILLS)]
    rows_before = grade_rows(root)
    subs = [Submission(A, s) for s in class_work()]
    regraded_counts = []
    for moment in moments:
        grader = subprocess.Popen(
            command(root, "grade", "--force"),
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(moment)
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        # What a rerun must grade: every submission without a finished record.
        left = [
            s
            for s in subs
            if not completion.is_graded(root, s, completion.submitted_digest(root, s))
        ]
        rerun = grade(root)
        assert rerun.returncode == 0, (moment, rerun.stdout, rerun.stderr)
        assert (
            f"autograded {len(left)} of {len(subs)} submissions "
            f"({len(subs) - len(left)} already graded, 0 failed)"
        ) in rerun.stdout, (moment, rerun.stdout)
        regraded_counts.append(len(left))
        after = Outcome.of(root)
        assert after.cells == baseline.cells, moment
        assert after.rows == baseline.rows, moment
        assert grade_rows(root) == rows_before, moment  # no grade written twice
        for sub in subs:
            page = root / "feedback" / sub.student / A / "output_size.html"
            assert b"</html>" in page.read_bytes()[-200:], (moment, sub)
    # Some kills fell while submissions were being graded (how many were left depends on
    # the machine's speed; the grades never do).
    assert max(regraded_counts) > 0, regraded_counts
    print(f"kill moments {[round(m, 2) for m in moments]}; regraded {regraded_counts}")


def test_work_that_cannot_be_graded_is_not_exported_with_its_old_score(
    course: CourseDir, baseline: Outcome, tmp_path: Path
) -> None:
    copy = copy_of(course, tmp_path)
    root = copy.root
    name = copy.notebook_name(A)
    (root / "submitted" / "s0" / A / name).write_text('{"cells": [')  # cut short
    emptied = nbformat.read(root / "submitted" / "s1" / A / name, as_version=4)
    emptied.cells = []
    nbformat.write(emptied, root / "submitted" / "s1" / A / name)
    (root / "submitted" / "s2" / A / name).unlink()
    untouched = tree(root / "submitted" / "s3")
    done = grade(root, "--force")
    assert done.returncode == 1
    after = Outcome.of(root)
    reasons = {
        "s0": "not valid JSON",
        "s1": "cells of the released notebook were removed",
        "s2": "no notebook was submitted",
    }
    for student, reason in reasons.items():
        row = after.rows[(student, A)]
        assert (row["raw_score"], row["score"], row["status"]) == ("", "", "not graded"), row
        assert reason in row["status_reason"], row
        assert reason in done.stderr, done.stderr
        page = (root / "feedback" / student / A / "output_size.html").read_text()
        assert reason in page, student
    assert after.rows[("s3", A)] == baseline.rows[("s3", A)]
    assert tree(root / "submitted" / "s3") == untouched
    assert {k: v for k, v in after.cells.items() if k[0] == "s3"} == {
        k: v for k, v in baseline.cells.items() if k[0] == "s3"
    }
    report = cli(root, "report")
    assert report.returncode == 0, report.stderr
    failures = json.loads((root / "reports" / "autograde_failures.json").read_text())
    assert {e["student"] for e in failures} == set(reasons)
    status = cli(root, "status", A)
    assert status.returncode == 0, status.stderr
    assert f"{A}: generated; 4 submitted, 1 graded, 3 could not be graded" in status.stdout
    for student, reason in reasons.items():
        line = next(ln for ln in status.stdout.splitlines() if f"not graded {student}:" in ln)
        assert reason in line


def test_a_forged_graded_timestamp_does_not_skip_a_resubmission(
    course: CourseDir, baseline: Outcome, tmp_path: Path
) -> None:
    copy = copy_of(course, tmp_path)
    root = copy.root
    (root / "autograded" / "s0" / A / "timestamp.txt").write_text("2099-01-01 00:00:00.000000")
    # s0 resubmits s2's work (a mistake): the new grade must replace the old.
    shutil.copy(
        root / "submitted" / "s2" / A / copy.notebook_name(A),
        root / "submitted" / "s0" / A / copy.notebook_name(A),
    )
    done = grade(root)
    assert done.returncode == 0, done.stderr
    assert "autograded 1 of 4 submissions (3 already graded, 0 failed)" in done.stdout
    after = Outcome.of(root)
    assert after.rows[("s0", A)]["score"] == baseline.rows[("s2", A)]["score"]
    assert {k: v for k, v in after.cells.items() if k[0] != "s0"} == {
        k: v for k, v in baseline.cells.items() if k[0] != "s0"
    }


def test_a_locked_gradebook_stops_cleanly_and_loses_nothing(
    course: CourseDir, baseline: Outcome, tmp_path: Path
) -> None:
    root = copy_of(course, tmp_path).root
    before = {p: tree(root / p) for p in ("autograded", "feedback", "submitted")}
    csv_before = (root / "grades.csv").read_bytes()
    url = f"sqlite:///{root / 'gradebook.db'}?timeout=2"
    holder = sqlite3.connect(root / "gradebook.db", isolation_level=None)
    holder.execute("begin exclusive")
    try:
        done = grade(root, "--force", "--db", url)
    finally:
        holder.execute("rollback")
        holder.close()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "the gradebook stayed locked" in done.stderr, done.stderr
    assert {p: tree(root / p) for p in before} == before
    assert (root / "grades.csv").read_bytes() == csv_before
    again = grade(root, "--db", url)
    assert again.returncode == 0, again.stderr
    assert Outcome.of(root).cells == baseline.cells


def test_a_gradebook_locked_mid_batch_stops_it_and_a_rerun_finishes(
    course: CourseDir, baseline: Outcome, tmp_path: Path
) -> None:
    """The formgrader (say) takes the gradebook while the batch runs: the batch stops
    with the reason, the graded work is kept, the students' feedback is untouched."""
    copy = copy_of(course, tmp_path)
    root = copy.root
    feedback_before = tree(root / "feedback")
    csv_before = (root / "grades.csv").read_bytes()
    url = f"sqlite:///{root / 'gradebook.db'}?timeout=2"
    shutil.rmtree(root / "autograded")
    # One job: the lock is taken while the first submission is graded, before the others.
    grader = subprocess.Popen(
        [*command(root, "grade", "--db", url), "--jobs", "1"],
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = root / "autograded" / "s0" / A / copy.notebook_name(A)
    deadline = time.monotonic() + 300
    while not first.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    holder = sqlite3.connect(root / "gradebook.db", isolation_level=None, timeout=60)
    holder.execute("begin exclusive")
    try:
        out, err = grader.communicate(timeout=600)
    finally:
        holder.execute("rollback")
        holder.close()
    assert grader.returncode == 1, out + err
    assert "Traceback" not in err, err
    assert "the gradebook stayed locked" in err, err
    assert "stopped early" in err, err
    # Each submission not graded says why: the lock, or (if it had not started when the
    # batch stopped; how many had depends on the pool's queue) the stop.
    failed = [line for line in err.splitlines() if line.startswith(f"  autograde {A}/")]
    assert failed, err
    for line in failed:
        assert "database is locked" in line or "not graded: the batch stopped" in line, line
    assert (root / "grades.csv").read_bytes() == csv_before
    assert tree(root / "feedback") == feedback_before
    again = grade(root, "--db", url)
    assert again.returncode == 0, again.stdout + again.stderr
    after = Outcome.of(root)
    assert after.cells == baseline.cells
    assert after.rows == baseline.rows


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root")
def test_a_full_disk_stops_the_batch_cleanly_and_a_rerun_finishes(
    course: CourseDir, baseline: Outcome, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    disk.chmod(0o755)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m,mode=755", "tmpfs", str(disk)], check=True
    )
    try:
        shutil.copytree(course.root, disk / "course", symlinks=True)
        root = disk / "course"
        csv_before = (root / "grades.csv").read_bytes()
        shutil.rmtree(root / "autograded")  # grading must write new files
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:  # fill the disk to the last block, unbuffered
            for size in (1 << 20, 4096, 1):
                try:
                    while os.write(fd, b"\0" * size):
                        pass
                except OSError:
                    pass
        finally:
            os.close(fd)
        done = grade(root)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        assert "the disk is full" in done.stderr, done.stderr
        assert "stopped early" in done.stderr
        assert (root / "grades.csv").read_bytes() == csv_before
        filler.unlink()
        again = grade(root)
        assert again.returncode == 0, again.stdout + again.stderr
        after = Outcome.of(root)
        assert after.cells == baseline.cells
        assert after.rows == baseline.rows
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
