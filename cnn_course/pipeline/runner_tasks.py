"""What the runner's workers run: one nbgrader step for one submission, and the course spec.

Each task (:func:`autograde_task`, :func:`feedback_task`, :func:`export_grades`,
:func:`review_task`, :func:`prepare_task`) is a picklable function that runs in a worker
process, imports nbgrader there and returns a picklable :class:`TaskResult` (or
:class:`CourseSpec`); the pool that runs them is :mod:`cnn_course.pipeline.runner`.
"""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from cnn_course.errors import CourseInputError
from cnn_course.failures import (
    explain_failure,
    failure_reason,
    stopping_failure,
    write_failure_feedback,
)
from cnn_course.nbgrader_api import cached_api
from cnn_course.submissions import Submission

OK, SKIPPED, FAILED = "ok", "skipped", "failed"

# nbgrader logs this when a submission's graded copy is up to date (no --force).
_SKIP_MESSAGE = "Skipping existing"


@dataclass(frozen=True)
class CourseSpec:
    """What a worker needs to run nbgrader on a course (picklable).

    Attributes
    ----------
    root : str
        Absolute course directory, visible to every worker.
    db_url : str
        Gradebook URL (``CourseDirectory.db_url``), with a busy timeout for sqlite.
    course_id : str
        ``CourseDirectory.course_id``.
    quiet_workers : bool
        Set for the runner's own worker processes: each sends its stdout/stderr (and so
        its kernels') to the null device, as they share the terminal, and holds the
        course's workers lock (:mod:`cnn_course.pipeline.completion`).
    """

    root: str
    db_url: str
    course_id: str
    quiet_workers: bool = False


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one nbgrader step for one submission (picklable)."""

    step: str
    submission: Submission | None
    status: str
    reason: str = ""
    seconds: float = 0.0
    log: str = ""

    @property
    def failed(self) -> bool:
        """Whether the step failed (its ``reason`` says why)."""
        return self.status == FAILED


# --------------------------------------------------------------------------- workers


_worker_quieted = False


def _quiet_worker(spec: CourseSpec) -> None:
    """Point this worker's stdout/stderr at the null device, once per process.

    Kernels inherit the worker's file descriptors and print start-up warnings; in the
    runner's own pool those would scribble over the parent's progress bar.
    """
    global _worker_quieted
    if spec.quiet_workers and not _worker_quieted:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        from cnn_course.pipeline.completion import hold_worker_lock

        hold_worker_lock(spec.root)
        _worker_quieted = True


def _result(step: str, sub: Submission | None, outcome: dict, started: float) -> TaskResult:
    """Turn the dict nbgrader's ``capture_log`` returns into a :class:`TaskResult`."""
    log = outcome.get("log", "") or ""
    if outcome.get("success"):
        status = SKIPPED if _SKIP_MESSAGE in log else OK
        return TaskResult(step, sub, status, seconds=time.perf_counter() - started)
    reason = failure_reason(log, outcome.get("error", "") or "")
    explained = explain_failure(f"{log}\n{outcome.get('error', '') or ''}")
    if explained:  # nbgrader's own line first: scripts may match on it
        reason = f"{reason} -- {explained}"
    return TaskResult(step, sub, FAILED, reason, time.perf_counter() - started, log)


def autograde_task(spec: CourseSpec, submission: Submission, force: bool) -> TaskResult:
    """Autograde one submission with nbgrader's ``Autograde`` converter (worker side).

    Parameters
    ----------
    spec : CourseSpec
        The course.
    submission : Submission
        Which assignment of which student.
    force : bool
        Regrade even if ``autograded/`` is newer than the submission (nbgrader's
        ``--force``); otherwise an up-to-date graded copy is skipped, as nbgrader does.

    Returns
    -------
    TaskResult
        ``ok``, ``skipped`` or ``failed`` with the reason from nbgrader's log.
    """
    started = time.perf_counter()
    _quiet_worker(spec)
    api = cached_api(spec.root, spec.db_url)
    with _task_lock(spec):
        outcome = api.autograde(submission.assignment, submission.student, force=force, create=True)
    result = _result("autograde", submission, outcome, started)
    # A failure of the machine (full disk, locked gradebook) is not the student's: their
    # feedback page stays as it was.
    if result.failed and not stopping_failure(f"{result.log}\n{result.reason}"):
        try:
            write_failure_feedback(api, submission, result.log)
        except Exception:  # noqa: BLE001 -- the failure's reason matters more than the page
            pass
    return result


def feedback_task(spec: CourseSpec, submission: Submission, force: bool) -> TaskResult:
    """Generate one submission's HTML feedback with nbgrader's ``GenerateFeedback``."""
    started = time.perf_counter()
    _quiet_worker(spec)
    api = cached_api(spec.root, spec.db_url)
    with _task_lock(spec):
        outcome = api.generate_feedback(submission.assignment, submission.student, force=force)
    return _result("feedback", submission, outcome, started)


def _task_lock(spec: CourseSpec) -> AbstractContextManager:
    """On a worker the runner does not own (a Dask worker), hold ``workers.lock`` shared
    while a task runs: a rerun after a killed grader waits for tasks still running."""
    if spec.quiet_workers:  # an owned worker holds it for its whole life
        return nullcontext()
    from cnn_course.pipeline.completion import worker_lock

    return worker_lock(spec.root)


def export_grades(spec: CourseSpec, dest: Path) -> TaskResult:
    """Export the gradebook with nbgrader's ``ExportApp`` (``nbgrader export``) to ``dest``."""
    from nbgrader.apps import ExportApp
    from nbgrader.utils import capture_log

    from cnn_course.grade_status import mark_status
    from cnn_course.gradebook import pending_hand_grading
    from cnn_course.nbgrader_api import init_app

    started = time.perf_counter()
    # Into a temporary file, marked, then renamed: a grader killed mid-way, or a full
    # disk, leaves the previous grades.csv whole.
    temporary = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    app = init_app(ExportApp, spec.root, spec.db_url, [f"--ExportPlugin.to={temporary}"])
    result = _result("export", None, capture_log(app), started)
    try:
        if not result.failed:
            pending = pending_hand_grading(app.coursedir.db_url, app.coursedir.course_id)
            mark_status(temporary, Path(spec.root), pending)
            os.replace(temporary, dest)
    except OSError as exc:
        reason = f"{type(exc).__name__}: {exc}"
        explained = stopping_failure(reason)
        reason += f" -- {explained}" if explained else ""
        result = TaskResult("export", None, FAILED, f"{reason}; {dest} was left as it was")
    finally:
        temporary.unlink(missing_ok=True)
    return result


def review_task(spec: CourseSpec, submissions: list[Submission], grades_csv: Path | None) -> list:
    """The integrity review of graded submissions (:mod:`cnn_course.integrity`), worker side.

    In a worker, which has nbgrader imported already, rather than in the parent, which
    would spend a second importing it.
    """
    from cnn_course.integrity import review_after_grading

    pairs = [(s.student, s.assignment) for s in submissions]
    return review_after_grading(spec.root, pairs, spec.db_url, grades_csv)


def course_spec(root: Path | str, db_url: str | None = None) -> CourseSpec:
    """Resolve a course's effective database URL and course id from its nbgrader config.

    Parameters
    ----------
    root : Path or str
        Course directory.
    db_url : str or None
        Database URL from the command line; None uses the course config (default
        ``sqlite:///<root>/gradebook.db``).

    Returns
    -------
    CourseSpec
        With a sqlite busy timeout added to the URL.

    Raises
    ------
    CourseInputError
        If ``db_url`` is not a database URL SQLAlchemy understands.
    """
    from sqlalchemy.exc import ArgumentError

    from cnn_course.gradebook import with_sqlite_timeout

    api = cached_api(str(root), db_url)
    try:
        url = with_sqlite_timeout(api.coursedir.db_url)
    except ArgumentError as exc:
        raise CourseInputError(f"bad database URL {db_url!r}: {exc}") from None
    return CourseSpec(
        root=str(Path(api.coursedir.root).resolve()),
        db_url=url,
        course_id=api.coursedir.course_id,
    )


def prepare_task(root: str, db_url: str | None, submissions: list[Submission]) -> CourseSpec:
    """Check the gradebook and create its shared rows (worker side, before any grading).

    Runs in a worker so that the parent process never imports nbgrader: workers do,
    in parallel with everything else.

    Returns
    -------
    CourseSpec
        The course as the graders will see it.

    Raises
    ------
    CourseInputError
        Bad database URL, no gradebook, or an assignment that was never generated.
    """
    from cnn_course.gradebook import check_gradebook, prepare_gradebook

    spec = course_spec(root, db_url)
    check_gradebook(spec.db_url, spec.course_id, {s.assignment for s in submissions})
    prepare_gradebook(spec.db_url, spec.course_id, (s.student for s in submissions))
    return spec
