"""Parallel autograding through nbgrader's own machinery.

nbgrader autogrades one submission at a time (its issue #174). Here each submission is a
task, ``NbGraderAPI.autograde(assignment, student)``, run by a
``concurrent.futures.Executor``: by default a process pool of long-lived workers, each
of which imports nbgrader and loads the course config once (:func:`cached_api`), then
grades many notebooks. nbgrader's ``Execute`` preprocessor starts a fresh kernel for
every notebook, so submissions stay isolated from each other.

nbgrader itself is not thread-safe (its converters ``chdir`` into the course), so an
injected executor must run tasks in separate processes, one task at a time per process
(``ProcessPoolExecutor``, or a distributed executor whose workers see the same course
directory and database).

Gradebook safety: rows that tasks would race to create are made beforehand
(:func:`cnn_course.gradebook.prepare_gradebook`), and sqlite URLs get a busy timeout.
"""

from __future__ import annotations

import html
import json
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cnn_course.errors import CourseInputError
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
        Send each worker process's stdout/stderr (and so its kernels') to the null
        device; set for the runner's own worker processes, which share the terminal.
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


@dataclass
class GradingRun:
    """Everything one ``grade`` run did, for the summary and the exit code."""

    autograde: list[TaskResult] = field(default_factory=list)
    feedback: list[TaskResult] = field(default_factory=list)
    export: TaskResult | None = None
    wall_seconds: float = 0.0
    spec: CourseSpec | None = None

    @property
    def failures(self) -> list[TaskResult]:
        """Failed tasks of every step, in the order they ran."""
        steps = [*self.autograde, *self.feedback, *([self.export] if self.export else [])]
        return [r for r in steps if r.failed]

    @property
    def exit_code(self) -> int:
        """0 if every step succeeded, 1 if anything failed."""
        return 1 if self.failures else 0


# ``progress(label, total)`` returns a context manager whose value has
# ``advance(result)``; see :mod:`cnn_course.progress`.
ProgressFactory = Callable[[str, int], AbstractContextManager[Any]]


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
        _worker_quieted = True


# The line of a traceback that names the exception: "module.SomeError: message".
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b")


def failure_reason(log: str, error: str = "") -> str:
    """Return the one line that says why an nbgrader step failed.

    nbgrader catches the exception of a failing submission, logs its traceback and then
    raises a generic "see the above traceback" error; the useful line is the exception
    line of the first logged traceback (e.g. ``NotJSONError: Notebook does not appear to
    be JSON``), else the last error message.
    """
    for text in (log, error):
        match = re.search(r"Traceback \(most recent call last\):\n(.*?)(?=\n\[|\Z)", text, re.S)
        if match:
            lines = [ln.strip() for ln in match.group(1).splitlines() if ln.strip()]
            named = [ln for ln in lines if _EXCEPTION_LINE.match(ln)]
            if named or lines:
                return (named or lines)[-1][:300]
    errors = re.findall(r"^\[(?:ERROR|CRITICAL)\] (.*)$", log, re.M)
    if errors:
        return errors[-1][:300]
    last = [ln for ln in error.strip().splitlines() if ln.strip()]
    return last[-1][:300] if last else "unknown error (nbgrader reported failure)"


# Failures whose nbgrader message misleads or says too little: (when the log matches this,
# details from this pattern's matches in the log, explanation with {details}).
_EXPLAINED_FAILURES: tuple[tuple[str, str, str], ...] = (
    (
        r"DeadKernelError",
        "",
        "the kernel died while running the notebook: its code crashed Python (e.g. "
        "os._exit, a segfault, recursion deeper than the C stack) or went past the grading "
        "kernel's CPU or memory limit; nothing was graded",
    ),
    (
        r"NotJSONError",
        "",
        "the notebook file is not valid JSON (cut short, or edited outside Jupyter); "
        "nothing was graded",
    ),
    (
        r"Timeout waiting for IOPub output",
        "",
        "a cell was still running at the cell timeout and did not stop when interrupted (e.g. "
        "one long computation inside a single C call), so nbgrader gave up on the notebook; "
        "nothing was graded",
    ),
    (
        r"exists multiple times",
        r"Cell with id '([^']*)' exists multiple times",
        "copied cells: the nbgrader id(s) {details} appear more than once in the notebook "
        "(a cell was duplicated with its metadata), which nbgrader cannot grade (nbgrader "
        "issue #1083); nothing was graded",
    ),
    (
        r"No notebooks found",
        r"Skipping unknown notebook: (?:.*/)?([^/\n]+\.ipynb)",
        "wrong notebook name: {details} was submitted, but nbgrader grades only the "
        "notebook under its released name; nothing was graded",
    ),
    (
        r"No notebooks were matched by",
        "",
        "no notebook was submitted (the submission folder holds no .ipynb file)",
    ),
    (
        r"Inconsistent checksums for cell",
        r"Error: Inconsistent checksums for cell (\S+)",
        "the nbgrader metadata of locked cell(s) {details} was edited, so nbgrader cannot "
        "restore the cell; nothing was graded",
    ),
)


def explain_failure(log: str) -> str | None:
    """Say in plain words why nbgrader could not grade a submission, if the cause is known.

    Parameters
    ----------
    log : str
        nbgrader's log of the failed step.

    Returns
    -------
    str or None
        One sentence naming the cause (kernel death, invalid JSON, a cell that could not
        be interrupted, copied cells, wrong notebook name, no notebook, edited locked-cell
        metadata); None for other failures.
    """
    for when, detail, explanation in _EXPLAINED_FAILURES:
        if re.search(when, log):
            found = sorted(set(re.findall(detail, log))) if detail else []
            return explanation.format(details=", ".join(repr(d) for d in found) or "?")
    return None


def _result(step: str, sub: Submission | None, outcome: dict, started: float) -> TaskResult:
    """Turn the dict nbgrader's ``capture_log`` returns into a :class:`TaskResult`."""
    log = outcome.get("log", "") or ""
    if outcome.get("success"):
        status = SKIPPED if _SKIP_MESSAGE in log else OK
        return TaskResult(step, sub, status, seconds=time.perf_counter() - started)
    reason = failure_reason(log, outcome.get("error", "") or "")
    explained = explain_failure(log)
    if explained:  # nbgrader's own line first: scripts may match on it
        reason = f"{reason} -- {explained}"
    return TaskResult(step, sub, FAILED, reason, time.perf_counter() - started, log)


# Written into the course by ``grade``: why each submission that failed to autograde failed
# (a JSON list of {"assignment", "student", "reason"}), read by the instructor's report.
FAILURES_FILE = "autograde_failures.json"

FAILURE_NOTE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{assignment}: not graded</title></head>
<body><h1>{assignment}: your submission could not be graded</h1>
<p>The autograder could not grade <code>{notebook}</code>, so it scores 0 for now.</p>
<p>Reason: {reason}</p>
<p>Your instructor has been told. Fix the problem and submit again, or ask your instructor.</p>
</body></html>
"""


def write_failure_feedback(api: Any, submission: Submission, log: str) -> None:
    """Write a feedback page saying why a submission was not graded (worker side).

    nbgrader makes no feedback for a notebook it could not grade, so the student would
    see nothing. The page goes where ``generate_feedback`` puts feedback
    (``feedback/<student>/<assignment>/<notebook>.html`` with ``timestamp.txt``), so
    ``release_feedback`` hands it out; a later successful grading overwrites it. Causes
    not known to :func:`explain_failure` are not spelled out, as their log may show
    paths of the grading machine.
    """
    coursedir = api.coursedir

    def folder(step: str) -> Path:
        return Path(coursedir.format_path(step, submission.student, submission.assignment))

    reason = explain_failure(log) or "an error while grading (your instructor has the details)"
    with api.gradebook as gb:
        notebooks = [nb.name for nb in gb.find_assignment(submission.assignment).notebooks]
    feedback = folder(coursedir.feedback_directory)
    feedback.mkdir(parents=True, exist_ok=True)
    for name in notebooks:
        page = FAILURE_NOTE.format(
            assignment=html.escape(submission.assignment),
            notebook=html.escape(f"{name}.ipynb"),
            reason=html.escape(reason),
        )
        (feedback / f"{name}.html").write_text(page, encoding="utf-8")
    stamp = folder(coursedir.submitted_directory) / "timestamp.txt"
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    (feedback / "timestamp.txt").write_text(stamp.read_text() if stamp.is_file() else now)


def record_failures(root: Path | str, results: Iterable[TaskResult]) -> Path:
    """Keep why submissions failed to autograde in ``<root>/autograde_failures.json``.

    Entries of the submissions in ``results`` are replaced: a failure records its reason,
    a success removes the submission's old entry; other entries are kept.

    Returns
    -------
    Path
        The file, a JSON list of ``{"assignment", "student", "reason"}`` objects.
    """
    path = Path(root) / FAILURES_FILE
    results = [r for r in results if r.submission is not None]
    done = {(r.submission.assignment, r.submission.student) for r in results}
    try:
        kept = [
            e for e in json.loads(path.read_text()) if (e["assignment"], e["student"]) not in done
        ]
    except (OSError, ValueError, TypeError, KeyError):
        kept = []  # no file yet, or one not written by this function: start afresh
    entries = kept + [
        {"assignment": r.submission.assignment, "student": r.submission.student, "reason": r.reason}
        for r in results
        if r.failed
    ]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(entries, indent=1) + "\n")
    temporary.replace(path)
    return path


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
    outcome = api.autograde(submission.assignment, submission.student, force=force, create=True)
    result = _result("autograde", submission, outcome, started)
    if result.failed:
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
    outcome = api.generate_feedback(submission.assignment, submission.student, force=force)
    return _result("feedback", submission, outcome, started)


def export_grades(spec: CourseSpec, dest: Path) -> TaskResult:
    """Export the gradebook with nbgrader's ``ExportApp`` (``nbgrader export``) to ``dest``."""
    from nbgrader.apps import ExportApp
    from nbgrader.utils import capture_log

    from cnn_course.nbgrader_api import init_app

    started = time.perf_counter()
    app = init_app(ExportApp, spec.root, spec.db_url, [f"--ExportPlugin.to={dest}"])
    return _result("export", None, capture_log(app), started)


# --------------------------------------------------------------------------- parent


def default_jobs() -> int:
    """Default number of parallel gradings: one per CPU."""
    return os.cpu_count() or 1


def make_executor(jobs: int) -> ProcessPoolExecutor:
    """Return a pool of ``jobs`` long-lived worker processes.

    Workers come from a fork server that has already imported nbgrader, so starting one
    is cheap and does not copy the parent's threads (as plain ``fork`` would).
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["cnn_course.runner", "nbgrader.apps"])
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)


class Workers:
    """The executor tasks run on: an injected one, or a pool owned (and renewed) here.

    Parameters
    ----------
    executor : Executor or None
        Injected executor, used as is and never shut down here. None: a
        :func:`make_executor` pool of ``jobs`` processes, made on first use.
    jobs : int
        Size of the owned pool.
    """

    def __init__(self, executor: Executor | None, jobs: int) -> None:
        self.owned = executor is None
        self.jobs = jobs
        self._executor = executor

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = make_executor(self.jobs)
        return self._executor

    def renew(self) -> None:
        """Drop a broken owned pool; the next task gets a fresh one."""
        self.close()

    def close(self) -> None:
        """Shut down the owned pool, if any."""
        if self.owned and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _crashed(step: str, sub: Submission | None, exc: BaseException) -> TaskResult:
    """A result for a task whose worker raised or died instead of returning."""
    if isinstance(exc, BrokenProcessPool):
        reason = "the worker process died while running this task"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return TaskResult(step, sub, FAILED, reason)


def _outcome(future: Future, step: str, sub: Submission | None) -> TaskResult:
    """The result of a finished task's future, or a failure if it raised."""
    try:
        return future.result()
    except Exception as exc:  # one task's error must not stop the run
        return _crashed(step, sub, exc)


Call = tuple[Submission, tuple[Any, ...]]


def _run_batch(
    step: str,
    fn: Callable[..., TaskResult],
    batch: Sequence[Call],
    workers: Workers,
    retry: bool,
    on_result: Callable[[TaskResult], None],
) -> list[Call]:
    """Submit a batch and report each result; return the calls whose worker died.

    Calls whose worker died are only returned (not reported) when ``retry`` is set.
    """
    broken: list[Call] = []
    pool_died = False

    def died(call: Call, exc: BrokenProcessPool) -> None:
        nonlocal pool_died
        pool_died = True
        if retry:
            broken.append(call)
        else:
            on_result(_crashed(step, call[0], exc))

    executor = workers.executor
    futures: dict[Future, Call] = {}
    for call in batch:
        try:
            futures[executor.submit(fn, *call[1])] = call
        except BrokenProcessPool as exc:  # a worker died while the batch was queued
            died(call, exc)
    for future in as_completed(futures):
        try:
            result = future.result()
        except BrokenProcessPool as exc:
            died(futures[future], exc)
            continue
        except Exception as exc:  # one task's error must not stop the batch
            result = _crashed(step, futures[future][0], exc)
        on_result(result)
    if pool_died:
        workers.renew()
    return broken


def run_tasks(
    step: str,
    fn: Callable[..., TaskResult],
    calls: Sequence[Call],
    workers: Workers,
    on_result: Callable[[TaskResult], None],
    retry_args: Callable[[tuple[Any, ...]], tuple[Any, ...]] = lambda args: args,
) -> None:
    """Run ``fn(*args)`` for every call on the workers, reporting every outcome.

    A task that raises is reported as failed and the others go on. With an owned pool,
    tasks whose worker process died are run again in a fresh pool, first together, then
    each alone, so that only a task that itself kills its worker is reported as failed.

    Parameters
    ----------
    step : str
        Name of the step, for results of tasks that did not return one.
    fn : callable
        Picklable task function returning a :class:`TaskResult`.
    calls : sequence of (Submission, tuple)
        The submission each call is about, and ``fn``'s arguments.
    workers : Workers
        Where to run.
    on_result : callable
        Called in the parent with each result as it arrives.
    retry_args : callable
        Maps a call's arguments to those of its retry (default: unchanged).
    """
    todo = _run_batch(step, fn, calls, workers, workers.owned, on_result)
    # A task cut off mid-way may have left partial output behind (e.g. an autograded/
    # folder that makes nbgrader skip the submission), so retries start afresh.
    todo = [(sub, retry_args(args)) for sub, args in todo]
    if todo:
        todo = _run_batch(step, fn, todo, workers, True, on_result)
    for call in todo:
        _run_batch(step, fn, [call], workers, False, on_result)


def _forced(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Arguments ``(spec, submission, force)`` of a retried grading task: forced."""
    spec, submission, _ = args
    return spec, submission, True


def _track(progress: ProgressFactory | None, label: str, total: int) -> AbstractContextManager:
    """Open a progress display for ``total`` tasks, or a no-op one."""
    if progress is None or total == 0:
        return nullcontext(None)
    return progress(label, total)


def _collect(into: list[TaskResult], bar: Any) -> Callable[[TaskResult], None]:
    """Return a callback that keeps each result and advances the progress display."""

    def on_result(result: TaskResult) -> None:
        into.append(result)
        if bar is not None:
            bar.advance(result)

    return on_result


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


def grade(
    root: Path | str,
    submissions: Iterable[Submission],
    *,
    db_url: str | None = None,
    executor: Executor | None = None,
    jobs: int | None = None,
    force: bool = False,
    feedback: bool = True,
    export_to: Path | None = None,
    progress: ProgressFactory | None = None,
) -> GradingRun:
    """Autograde submissions in parallel, then make feedback and export grades.

    Parameters
    ----------
    root : Path or str
        Course directory.
    submissions : iterable of Submission
        What to grade; every assignment must already be in the gradebook.
    db_url : str or None
        Gradebook URL (``CourseDirectory.db_url``); None: the course's config.
    executor : Executor or None
        Runs the tasks (process-based, see the module docstring). None: a pool of
        ``jobs`` worker processes owned by this call.
    jobs : int or None
        Pool size when ``executor`` is None; default one per CPU.
    force : bool
        Regrade submissions whose graded copy is up to date (nbgrader's ``--force``).
    feedback : bool
        Generate HTML feedback for every submission that was graded.
    export_to : Path or None
        Export the gradebook there as CSV (``nbgrader export``); None skips it.
    progress : callable or None
        ``progress(label, total)`` returns a context manager with ``advance(result)``.

    Returns
    -------
    GradingRun
        Per-task outcomes; ``exit_code`` is 1 if anything failed.

    Raises
    ------
    CourseInputError
        From :func:`prepare_task`, before anything is graded.
    """
    started = time.perf_counter()
    # Student by student: a student's assignments run side by side, which is exactly
    # what prepare_task makes safe (no two workers creating the same student row).
    subs = sorted(set(submissions), key=lambda s: (s.student, s.assignment))
    run = GradingRun()
    with Workers(executor, jobs or default_jobs()) as workers:
        root = str(Path(root).resolve())
        spec = workers.executor.submit(prepare_task, root, db_url, subs).result()
        spec = replace(spec, quiet_workers=workers.owned)
        run.spec = spec
        calls = [(s, (spec, s, force)) for s in subs]
        with _track(progress, "autograde", len(calls)) as bar:
            collect = _collect(run.autograde, bar)
            run_tasks("autograde", autograde_task, calls, workers, collect, _forced)
        record_failures(root, run.autograde)
        if feedback:
            # A regraded submission keeps its submission timestamp, which nbgrader's
            # up-to-date check compares, so its feedback is forced; a skipped one gets
            # feedback only if it has none yet.
            done = [r for r in run.autograde if not r.failed]
            calls = [(r.submission, (spec, r.submission, r.status == OK)) for r in done]
            with _track(progress, "feedback", len(calls)) as bar:
                collect = _collect(run.feedback, bar)
                run_tasks("feedback", feedback_task, calls, workers, collect, _forced)
        if export_to is not None:
            export = workers.executor.submit(export_grades, spec, Path(export_to))
            run.export = _outcome(export, "export", None)
    run.wall_seconds = time.perf_counter() - started
    return run
