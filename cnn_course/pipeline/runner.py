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

What each worker runs (one nbgrader step for one submission) is
:mod:`cnn_course.pipeline.runner_tasks`; why a submission failed, in words,
:mod:`cnn_course.failures`; what is left to grade after a killed run,
:mod:`cnn_course.pipeline.completion`.

Gradebook safety: rows that tasks would race to create are made beforehand
(:func:`cnn_course.gradebook.prepare_gradebook`), and sqlite URLs get a busy timeout.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cnn_course.errors import CourseInputError
from cnn_course.failures import FAILURES_FILE, record_failures, stopping_failure
from cnn_course.pipeline.runner_tasks import (
    FAILED,
    OK,
    SKIPPED,
    CourseSpec,
    TaskResult,
    autograde_task,
    export_grades,
    feedback_task,
    prepare_task,
    review_task,
)
from cnn_course.pipeline.runner_tasks import (
    course_spec as course_spec,
)  # where cnn_course.commands.grade looks
from cnn_course.submissions import Submission


@dataclass
class GradingRun:
    """Everything one ``grade`` run did, for the summary and the exit code."""

    autograde: list[TaskResult] = field(default_factory=list)
    feedback: list[TaskResult] = field(default_factory=list)
    export: TaskResult | None = None
    reviews: list[Any] | None = None  # cnn_course.integrity.Review, when reviewed
    stopped: str = ""  # why the batch stopped early (a failure of the machine), if it did
    review_failure: TaskResult | None = None
    wall_seconds: float = 0.0
    spec: CourseSpec | None = None

    @property
    def failures(self) -> list[TaskResult]:
        """Failed tasks of every step, in the order they ran."""
        ends = [r for r in (self.export, self.review_failure) if r is not None]
        steps = [*self.autograde, *self.feedback, *ends]
        return [r for r in steps if r.failed]

    @property
    def exit_code(self) -> int:
        """0 if every step succeeded, 1 if anything failed or the batch stopped early."""
        return 1 if self.failures or self.stopped else 0


# ``progress(label, total)`` returns a context manager whose value has
# ``advance(result)``; see :mod:`cnn_course.pipeline.progress`.
ProgressFactory = Callable[[str, int], AbstractContextManager[Any]]


# --------------------------------------------------------------------------- workers


def _die_with(grader: int) -> None:
    """Kill this worker as soon as the grading process ``grader`` is gone.

    A grader killed with SIGKILL must not leave workers grading on: a rerun would grade
    the same submissions beside them. Not PR_SET_PDEATHSIG: a worker's parent is the
    pool's fork server, which every worker keeps alive (each holds its "alive" pipe).
    """
    import select
    import signal
    import threading

    try:
        handle = os.pidfd_open(grader)
    except ProcessLookupError:
        os.kill(os.getpid(), signal.SIGKILL)
    except OSError:  # no pidfd_open (old kernel): look every half second
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            with contextlib.suppress(ProcessLookupError):
                while True:
                    os.kill(grader, 0)
                    time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="grader-watch", daemon=True).start()


# --------------------------------------------------------------------------- parent


def default_jobs() -> int:
    """Default number of parallel gradings: one per CPU."""
    return os.cpu_count() or 1


def make_executor(jobs: int) -> ProcessPoolExecutor:
    """Return a pool of ``jobs`` long-lived worker processes.

    Workers come from a fork server that has already imported nbgrader, so starting one
    is cheap and does not copy the parent's threads (as plain ``fork`` would). Each worker
    dies as soon as this process does (:func:`_die_with`), from its first moment: a
    grader killed while a worker prepares the gradebook leaves no worker behind.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["cnn_course.pipeline.runner", "nbgrader.apps"])
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_die_with, initargs=(os.getpid(),)
    )


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
    name = type(exc).__name__
    if isinstance(exc, BrokenProcessPool):
        reason = "the worker process died while running this task"
    elif name == "KilledWorker":  # distributed's, not imported here
        reason = (
            "the Dask worker grading this died, and so did the worker of its retry "
            f"(distributed.KilledWorker: {exc}); if the notebook is not the cause (memory), "
            "run `cnn-course grade` again to grade it"
        )
    elif name == "SchedulerLost":
        reason = f"{exc} -- {stopping_failure(str(exc)) or ''}"
    else:
        reason = f"{name}: {exc}"
    return TaskResult(step, sub, FAILED, reason)


def _outcome(future: Future, step: str, sub: Submission | None) -> TaskResult:
    """The result of a finished task's future, or a failure if it raised."""
    try:
        return future.result()
    except Exception as exc:  # one task's error must not stop the run
        return _crashed(step, sub, exc)


def _on_a_live_worker(workers: Workers, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a worker; once more on a fresh pool if that worker died.

    The course-wide steps (export, review) read and write only the course's own files, so
    running one again is safe; a worker lost to a busy machine must not cost the review.
    """
    try:
        return workers.executor.submit(fn, *args).result()
    except BrokenProcessPool:
        if not workers.owned:
            raise
        workers.renew()
        return workers.executor.submit(fn, *args).result()


Call = tuple[Submission, tuple[Any, ...]]

NOT_RUN = "not graded: the batch stopped before this submission (see the failure above)"


def _run_batch(
    step: str,
    fn: Callable[..., TaskResult],
    batch: Sequence[Call],
    workers: Workers,
    retry: bool,
    on_result: Callable[[TaskResult], bool | None],
) -> list[Call]:
    """Submit a batch and report each result; return the calls whose worker died.

    Calls whose worker died are only returned (not reported) when ``retry`` is set. When
    ``on_result`` returns True, the batch stops: calls not started yet are reported as
    not run.
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
    stopped = False
    for future in as_completed(futures):
        if future.cancelled():
            sub = futures[future][0]
            on_result(TaskResult(step, sub, FAILED, NOT_RUN))
            continue
        try:
            result = future.result()
        except BrokenProcessPool as exc:
            died(futures[future], exc)
            continue
        except Exception as exc:  # one task's error must not stop the batch
            result = _crashed(step, futures[future][0], exc)
        if on_result(result) and not stopped:
            stopped = True
            for other in futures:
                other.cancel()
    if pool_died:
        workers.renew()
    return broken


def run_tasks(
    step: str,
    fn: Callable[..., TaskResult],
    calls: Sequence[Call],
    workers: Workers,
    on_result: Callable[[TaskResult], bool | None],
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
        Called in the parent with each result as it arrives; True stops the batch.
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


def _track(progress: ProgressFactory | None, label: str, total: int) -> AbstractContextManager:
    """Open a progress display for ``total`` tasks, or a no-op one."""
    if progress is None or total == 0:
        return nullcontext(None)
    return progress(label, total)


def _collect(
    into: list[TaskResult], bar: Any, then: Callable[[TaskResult], object] = lambda r: None
) -> Callable[[TaskResult], bool]:
    """Return a callback that keeps each result, calls ``then`` with it and advances the
    progress display; it returns True (stop the batch) on a failure of the machine."""

    def on_result(result: TaskResult) -> bool:
        into.append(result)
        stop = then(result)
        if bar is not None:
            bar.advance(result)
        failed_machine = stopping_failure(f"{result.log}\n{result.reason}") is not None
        return bool(stop) or (result.failed and failed_machine)

    return on_result


def _prepared(future: Future) -> CourseSpec:
    """The course spec from :func:`prepare_task`, or a clear error if it could not be made."""
    try:
        return future.result()
    except CourseInputError:
        raise
    except Exception as exc:  # noqa: BLE001 -- a gradebook nbgrader cannot open or write
        text = f"{type(exc).__name__}: {exc}"
        explained = stopping_failure(text) or "nothing was graded"
        raise CourseInputError(f"cannot use the gradebook ({text[:300]}): {explained}") from None


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
    review: bool = False,
) -> GradingRun:
    """Autograde submissions in parallel, then make feedback, export grades and review.

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
    review : bool
        Then run the integrity review (:func:`cnn_course.integrity.review_after_grading`:
        flags, withheld scores in ``export_to``, feedback notices) on a worker; its
        reviews go to ``GradingRun.reviews``.

    Returns
    -------
    GradingRun
        Per-task outcomes; ``exit_code`` is 1 if anything failed.

    Raises
    ------
    CourseInputError
        From :func:`prepare_task`, before anything is graded.
    """
    from cnn_course.pipeline import completion

    started = time.perf_counter()
    # Student by student: a student's assignments run side by side, which is exactly
    # what prepare_task makes safe (no two workers creating the same student row).
    subs = sorted(set(submissions), key=lambda s: (s.student, s.assignment))
    run = GradingRun()
    root = str(Path(root).resolve())
    with completion.grading_lock(root), Workers(executor, jobs or default_jobs()) as workers:
        spec = _prepared(workers.executor.submit(prepare_task, root, db_url, subs))
        spec = replace(spec, quiet_workers=workers.owned)
        run.spec = spec
        # What is left is decided from completion records, not nbgrader's timestamps
        # (see cnn_course.pipeline.completion): a run killed anywhere is resumed exactly.
        digests = {s: completion.submitted_digest(root, s) for s in subs}
        todo = {s for s in subs if force or not completion.is_graded(root, s, digests[s])}
        for sub in todo:
            completion.clear_record(root, sub)

        def keep(sub: Submission, record: completion.Record) -> None:
            try:
                completion.write_record(root, sub, record)
            except OSError as exc:  # the grade stands; a rerun grades it again
                text = f"could not write the record of {sub}: {exc}"
                run.stopped = run.stopped or f"{text} -- {stopping_failure(text) or ''}"

        def graded(result: TaskResult) -> None:
            if result.status == OK:
                keep(result.submission, completion.Record(digests[result.submission]))
            return run.stopped

        with _track(progress, "autograde", len(subs)) as bar:
            collect = _collect(run.autograde, bar, graded)
            for sub in subs:
                if sub not in todo:
                    collect(TaskResult("autograde", sub, SKIPPED))
            calls = [(s, (spec, s, True)) for s in subs if s in todo]
            run_tasks("autograde", autograde_task, calls, workers, collect)
        run.stopped = run.stopped or next(
            (stopping_failure(f"{r.log}\n{r.reason}") or "" for r in run.failures), ""
        )
        try:
            record_failures(root, run.autograde)
        except OSError as exc:  # e.g. the full disk that stopped the batch
            text = f"could not write {FAILURES_FILE}: {exc}"
            run.stopped = run.stopped or f"{text} -- {stopping_failure(text) or ''}"
        if run.stopped:
            # Everything else would fail the same way; what was graded is kept, and a
            # rerun grades what is left.
            run.wall_seconds = time.perf_counter() - started
            return run
        if feedback:

            def made(result: TaskResult) -> None:
                if result.status == OK:
                    keep(result.submission, completion.Record(digests[result.submission], True))
                return run.stopped

            done = [r.submission for r in run.autograde if not r.failed]
            with _track(progress, "feedback", len(done)) as bar:
                collect = _collect(run.feedback, bar, made)
                for sub in done:
                    if completion.has_feedback(root, sub) and sub not in todo:
                        collect(TaskResult("feedback", sub, SKIPPED))
                calls = [
                    (s, (spec, s, True))
                    for s in done
                    if s in todo or not completion.has_feedback(root, s)
                ]
                run_tasks("feedback", feedback_task, calls, workers, collect)
        if export_to is not None:
            try:
                run.export = _on_a_live_worker(workers, export_grades, spec, Path(export_to))
            except Exception as exc:  # noqa: BLE001 -- one step's error must not stop the run
                run.export = _crashed("export", None, exc)
        if review:
            try:
                run.reviews = _on_a_live_worker(workers, review_task, spec, subs, export_to)
            except Exception as exc:  # noqa: BLE001 -- the grades stand; say why not reviewed
                run.review_failure = _crashed("review", None, exc)
    run.wall_seconds = time.perf_counter() - started
    return run
