"""Parallel autograding (cnn_course.pipeline.runner) against serial ``nbgrader autograde``.

Every test grades a toy course built under tmp_path with nbgrader's real apps and real
kernels; grades are read back through nbgrader's Gradebook API.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import sqlite3
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest
from course_helpers import (
    CRASH_HOOK,
    copy_course,
    expected_scores,
    grades,
    make_course,
    postgres_tools,
    serial_autograde,
    temporary_postgres,
)

from cnn_course.classroom import toy
from cnn_course.errors import CourseInputError
from cnn_course.failures import failure_reason
from cnn_course.gradebook import with_sqlite_timeout
from cnn_course.pipeline.progress import TaskBar
from cnn_course.pipeline.runner import FAILED, OK, SKIPPED, TaskResult, grade
from cnn_course.submissions import Submission, find_submissions, select_submissions

A = toy.TOY_ASSIGNMENT
CLASS = {
    "ada": "correct",
    "bob": "wrong",
    "cyd": "hidden_fail",
    "dee": "blank",
    "eve": "broken",
}


@pytest.fixture(scope="module")
def toy_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated toy course with one submission of every kind (never graded)."""
    return make_course(tmp_path_factory.mktemp("toy") / "course", CLASS)


@pytest.fixture(scope="module")
def serial(toy_course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course graded by serial ``nbgrader autograde``."""
    root = copy_course(toy_course, tmp_path_factory.mktemp("serial") / "course")
    done = serial_autograde(root, A)
    # nbgrader exits 1 because of the broken notebook, after grading the others.
    assert done.returncode == 1, done.stderr
    assert "NotJSONError" in done.stderr
    return root


@pytest.fixture(scope="module")
def parallel(toy_course: Path, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the course graded by the runner, two jobs, with feedback and export."""
    root = copy_course(toy_course, tmp_path_factory.mktemp("parallel") / "course")
    run = grade(root, find_submissions(root), jobs=2, export_to=root / "grades.csv")
    return root, run


def test_same_per_cell_grades_as_serial_nbgrader(serial: Path, parallel) -> None:
    root, _ = parallel
    assert grades(root, A) == grades(serial, A)
    # Five students, two graded cells each: all of them recorded, by both.
    assert len(grades(root, A)) == 2 * len(CLASS)


def test_scores_are_the_expected_ones(parallel) -> None:
    root, _ = parallel
    got = {(g.student, g.cell): g.auto_score for g in grades(root, A).values()}
    expected = expected_scores(CLASS)
    assert {k: got[k] for k in expected} == expected
    # The hidden tests ran: "hidden_fail" passes the visible test only.
    assert got[("cyd", toy.VISIBLE_TEST_ID)] == 1.0
    assert got[("cyd", toy.HIDDEN_TEST_ID)] == 0.0


def test_broken_notebook_fails_alone_with_its_reason(parallel) -> None:
    root, run = parallel
    assert run.exit_code == 1
    assert [(r.step, r.submission) for r in run.failures] == [("autograde", Submission(A, "eve"))]
    assert "NotJSONError" in run.failures[0].reason
    ok = sorted(r.submission.student for r in run.autograde if r.status == OK)
    assert ok == ["ada", "bob", "cyd", "dee"]
    assert not (root / "autograded" / "eve").exists()


def test_feedback_and_export_follow_grading(parallel) -> None:
    root, run = parallel
    assert sorted(r.submission.student for r in run.feedback if r.status == OK) == [
        "ada",
        "bob",
        "cyd",
        "dee",
    ]
    for student in ["ada", "bob", "cyd", "dee"]:
        html = (root / "feedback" / student / A / f"{toy.TOY_NOTEBOOK}.html").read_text()
        assert "squares" in html
    assert run.export is not None and run.export.status == OK
    with open(root / "grades.csv") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    scores = {s: float(r["raw_score"]) for s, r in rows.items() if s != "eve"}
    assert scores["ada"] == 3.0 and scores["cyd"] == 1.0 and scores["bob"] == 0.0
    assert {r["status"] for s, r in rows.items() if s != "eve"} == {"graded"}
    # eve's notebook is not JSON: no score, and the row says why.
    assert (rows["eve"]["raw_score"], rows["eve"]["score"], rows["eve"]["status"]) == (
        "",
        "",
        "not graded",
    )
    assert "not valid JSON" in rows["eve"]["status_reason"]


def test_graded_submissions_are_skipped_unless_forced(parallel) -> None:
    root, _ = parallel
    ada = [Submission(A, "ada")]
    again = grade(root, ada, jobs=1, feedback=False)
    assert [r.status for r in again.autograde] == [SKIPPED]
    forced = grade(root, ada, jobs=1, feedback=False, force=True)
    assert [r.status for r in forced.autograde] == [OK]


def test_forty_submissions_four_jobs_on_sqlite(tmp_path: Path) -> None:
    """40 submissions (20 students x 2 assignments), 4 at once, one sqlite gradebook.

    A student's two assignments are graded side by side, so workers would race to
    create the same student row if the runner did not create it first.
    """
    kinds = toy.class_kinds(20)
    root = make_course(tmp_path / "course", kinds, assignments=("hw1", "hw2"))
    run = grade(root, find_submissions(root), jobs=4)
    assert [r for r in run.failures] == []
    assert len(run.autograde) == 40 and len(run.feedback) == 40
    for assignment in ("hw1", "hw2"):
        got = {(g.student, g.cell): g.auto_score for g in grades(root, assignment).values()}
        assert got == expected_scores(kinds)


def test_waits_for_a_gradebook_locked_by_another_program(tmp_path: Path) -> None:
    """Another program holds the sqlite write lock for 9 s, longer than pysqlite's 5 s.

    Grading must wait for the lock rather than fail with "database is locked".
    """
    kinds = {"ada": "correct", "bob": "wrong", "cyd": "correct"}
    root = make_course(tmp_path / "course", kinds)
    holder = sqlite3.connect(root / "gradebook.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(9.0, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.perf_counter()
    try:
        run = grade(root, find_submissions(root), jobs=2, feedback=False)
    finally:
        release.join()
        holder.close()
    assert time.perf_counter() - started >= 9.0
    assert run.failures == []
    got = {(g.student, g.cell): g.auto_score for g in grades(root, A).values()}
    assert got == expected_scores(kinds)


def test_postgresql_gradebook_with_four_jobs(tmp_path: Path) -> None:
    """``--db`` with a PostgreSQL URL: several graders writing to one server."""
    import psycopg  # noqa: F401 -- a test dependency: its absence is a failure, not a skip

    bindir = postgres_tools()
    if bindir is None:
        # .ci/run installs the server; elsewhere say plainly why this test did not run.
        if os.environ.get("CI") == "true":
            pytest.fail("no PostgreSQL server installed (pg_ctl): apt-get install -y postgresql")
        pytest.skip("no PostgreSQL server installed (pg_ctl): apt-get install -y postgresql")
    kinds = toy.class_kinds(8)
    with temporary_postgres(bindir) as url:
        root = make_course(tmp_path / "course", kinds, assignments=("hw1", "hw2"), db_url=url)
        run = grade(root, find_submissions(root), db_url=url, jobs=4, export_to=None)
        assert run.failures == []
        assert run.spec is not None and run.spec.db_url == url
        assert len(run.autograde) == 16 and len(run.feedback) == 16
        for assignment in ("hw1", "hw2"):
            got = grades(root, assignment, url)
            scores = {(g.student, g.cell): g.auto_score for g in got.values()}
            assert scores == expected_scores(kinds)
    # Nothing went to a sqlite file by mistake.
    assert not (root / "gradebook.db").exists()


def test_a_task_that_kills_its_worker_fails_alone(tmp_path: Path) -> None:
    kinds = {"ada": "correct", "bob": "wrong", "crash": "correct", "dee": "hidden_fail"}
    root = make_course(tmp_path / "course", kinds, extra_config=CRASH_HOOK)
    run = grade(root, find_submissions(root), jobs=2, feedback=False)
    assert [(r.submission.student, r.reason) for r in run.failures] == [
        ("crash", "the worker process died while running this task")
    ]
    assert sorted(r.submission.student for r in run.autograde if r.status == OK) == [
        "ada",
        "bob",
        "dee",
    ]
    got = {(g.student, g.cell): g.auto_score for g in grades(root, A).values()}
    assert {k: v for k, v in got.items() if k[0] != "crash"} == expected_scores(
        {s: k for s, k in kinds.items() if s != "crash"}
    )


def _die_the_first_time(marker: str) -> int:
    # A course-wide step whose worker is lost (a busy server's OOM killer, a stray signal).
    if not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return os.getpid()


def test_a_course_wide_step_whose_worker_died_runs_again_on_a_fresh_one(tmp_path: Path) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from cnn_course.pipeline.runner import Workers, _on_a_live_worker

    marker = str(tmp_path / "died-once")
    with Workers(None, 1) as workers:
        pid = _on_a_live_worker(workers, _die_the_first_time, marker)
    assert Path(marker).exists() and pid != os.getpid()
    # An injected executor is not ours to renew: the death is the caller's to see.
    os.unlink(marker)
    injected = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    try:
        with pytest.raises(BrokenProcessPool):
            _on_a_live_worker(Workers(injected, 1), _die_the_first_time, marker)
    finally:
        injected.shutdown()


def test_injected_executor_is_used_and_left_running(toy_course: Path, tmp_path: Path) -> None:
    root = copy_course(toy_course, tmp_path / "course")
    subs = [Submission(A, "ada"), Submission(A, "eve")]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as executor:
        run = grade(root, subs, executor=executor, feedback=False)
        # Still usable: the runner does not shut down an executor it was given.
        assert executor.submit(sum, [1, 2]).result() == 3
    assert [(r.submission.student, r.status) for r in run.autograde] == [
        ("ada", OK),
        ("eve", FAILED),
    ]
    assert grades(root, A)[("ada", toy.TOY_NOTEBOOK, toy.HIDDEN_TEST_ID)].auto_score == 2.0


def _submit(root: Path, student: str, extra_code: str) -> None:
    """Submit the correct toy solution with ``extra_code`` appended to the solution cell."""
    nb = json.loads(toy.student_notebook(root / "release" / A / "squares.ipynb", "correct"))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == toy.SOLUTION_ID:
            cell["source"] += "\n" + extra_code
    folder = root / "submitted" / student / A
    folder.mkdir(parents=True)
    (folder / "squares.ipynb").write_text(json.dumps(nb))


def _solution_output(root: Path, student: str) -> str:
    """What the solution cell printed when it was autograded."""
    nb = nbformat.read(root / "autograded" / student / A / "squares.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "square")
    return "".join(o.get("text", "") for o in cell.outputs)


def test_each_notebook_gets_a_fresh_kernel(toy_course: Path, tmp_path: Path) -> None:
    """One long-lived worker grades both, yet nothing carries over between notebooks."""
    root = copy_course(toy_course, tmp_path / "course")
    _submit(root, "p1", "leaked = 42\nimport os\nprint(os.getpid())")
    _submit(root, "p2", "print('leaked' in globals())\nimport os\nprint(os.getpid())")
    run = grade(root, [Submission(A, "p1"), Submission(A, "p2")], jobs=1, feedback=False)
    assert run.failures == []
    (pid1,) = _solution_output(root, "p1").split()
    leaked, pid2 = _solution_output(root, "p2").split()
    assert leaked == "False"
    assert pid1 != pid2


def test_ungenerated_assignment_is_an_input_error(toy_course: Path, tmp_path: Path) -> None:
    root = copy_course(toy_course, tmp_path / "course")
    (root / "submitted" / "ada" / "ghost").mkdir()
    with pytest.raises(CourseInputError, match="ghost.*not in the gradebook"):
        grade(root, [Submission("ghost", "ada")], jobs=1)


# ----------------------------------------------------------------- fast unit tests


def test_sqlite_urls_get_a_busy_timeout() -> None:
    assert with_sqlite_timeout("sqlite:////tmp/g.db") == "sqlite:////tmp/g.db?timeout=120"
    assert with_sqlite_timeout("sqlite:////tmp/g.db?timeout=7") == "sqlite:////tmp/g.db?timeout=7"
    url = "postgresql://grader:pw@db.example/course"
    assert with_sqlite_timeout(url) == url


def test_failure_reason_finds_the_exception_line() -> None:
    log = (
        "[INFO] Sanitizing x.ipynb\n"
        "[ERROR] There was an error processing assignment: /c/submitted/eve/toy\n"
        "[ERROR] Traceback (most recent call last):\n"
        '      File "reader.py", line 25, in parse_json\n'
        "        raise NotJSONError(message) from e\n"
        "    nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{'\n"
        "    \n"
        "[ERROR] Please see the the above traceback for details\n"
    )
    assert failure_reason(log) == (
        "nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{'"
    )
    sqlalchemy_log = (
        "[ERROR] Traceback (most recent call last):\n"
        "    sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked\n"
        "    (Background on this error at: https://sqlalche.me/e/21/e3q8)\n"
    )
    assert failure_reason(sqlalchemy_log).endswith("database is locked")
    assert failure_reason("[ERROR] No notebooks were matched by 'x'\n") == (
        "No notebooks were matched by 'x'"
    )


def _result(status: str) -> TaskResult:
    return TaskResult("autograde", Submission(A, "s"), status)


def test_progress_bar_counts_done_and_failed() -> None:
    out = io.StringIO()
    with TaskBar("autograde", 3, out, enabled=True) as bar:
        for status in (OK, FAILED, OK):
            bar.advance(_result(status))
    text = out.getvalue()
    assert "3/3" in text and "failed=1" in text and "autograde" in text


def test_progress_bar_is_off_when_not_a_terminal() -> None:
    out = io.StringIO()  # isatty() is False
    with TaskBar("autograde", 2, out, enabled=None) as bar:
        bar.advance(_result(OK))
    assert out.getvalue() == ""


def test_select_submissions_checks_names(tmp_path: Path) -> None:
    for student, assignment in [("ada", "hw1"), ("bob", "hw1"), ("ada", "hw2")]:
        (tmp_path / "submitted" / student / assignment).mkdir(parents=True)
    (tmp_path / "source" / "hw3").mkdir(parents=True)
    (tmp_path / "source" / "hw3" / "x.ipynb").write_text("{}")
    assert select_submissions(tmp_path, ["hw1"]) == [
        Submission("hw1", "ada"),
        Submission("hw1", "bob"),
    ]
    assert select_submissions(tmp_path, [], ["ada"]) == [
        Submission("hw1", "ada"),
        Submission("hw2", "ada"),
    ]
    with pytest.raises(CourseInputError, match="unknown assignment 'hw9'"):
        select_submissions(tmp_path, ["hw9"])
    with pytest.raises(CourseInputError, match="no submissions yet for assignment 'hw3'"):
        select_submissions(tmp_path, ["hw3"])
    with pytest.raises(CourseInputError, match="unknown student 'zed'"):
        select_submissions(tmp_path, [], ["zed"])
    with pytest.raises(CourseInputError, match="'bob' has no submission for hw2"):
        select_submissions(tmp_path, ["hw2"], ["bob"])
    with pytest.raises(CourseInputError, match="no submissions yet"):
        select_submissions(tmp_path / "source")
