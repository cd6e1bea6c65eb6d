"""Grading on a Dask cluster: ``cnn-course grade --scheduler tcp://HOST:PORT``.

The runner (:mod:`cnn_course.pipeline.runner`) grades on any ``concurrent.futures.Executor``;
here that executor sends each task to the workers of a ``dask.distributed`` scheduler
(or, with ``--local-cluster N``, of a cluster started on this machine for the run).

Before anything is graded, the run checks what a cluster needs and names what is wrong:

- a gradebook every worker reaches: a database server, never sqlite (``--db``);
- workers that run one task at a time (nbgrader changes directory while it works);
- every worker sees the course at the same path, with the same ``release/``, the same
  restricted ``cnn-grader`` kernel and the same grading code as this machine.

A worker that dies while grading costs that submission one retry on another worker
(the scheduler's ``allowed-failures`` is set to 1 for this); a second death is reported
as that submission's failure and the batch goes on. A lost scheduler stops the run like
a full disk does: what was graded is kept, and a rerun grades what is left.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cnn_course.errors import CourseInputError

# A submission whose worker died is run once more elsewhere, then reported.
ALLOWED_FAILURES = 1
CONNECT_SECONDS = 30
LOST = "lost the Dask scheduler"


class SchedulerLost(RuntimeError):
    """The connection to the scheduler broke while a task was queued or running."""


class DaskExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` over a ``distributed.Client``.

    Tasks are never deduplicated (``pure=False``: a retry is a new task), and a finished
    task is released as soon as its result is here, so that no task runs twice. A task
    cancelled because the client lost the scheduler raises :class:`SchedulerLost`
    instead of looking as if this run had cancelled it.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        future = self.client.submit(fn, *args, pure=False, **kwargs)
        done: cf.Future = cf.Future()

        def cancelled_here(mine: cf.Future) -> None:
            if mine.cancelled():
                future.cancel()
                mine.set_running_or_notify_cancel()  # wakes as_completed

        def finished(theirs: Any) -> None:
            # Not by a snapshot of theirs.status: a result lost with its worker before it
            # was fetched sends the task back to pending (Dask recomputes it), and
            # result() waits for that run. Branching on the status here once read such a
            # pending future's exception() as "no exception" and delivered None.
            if done.cancelled():
                return
            result: Any = None
            error: BaseException | None = None
            try:
                result = theirs.result()
            except BaseException as exc:  # noqa: BLE001 -- each outcome goes to the runner
                error = exc
                if theirs.cancelled():
                    address = getattr(self.client.scheduler, "address", "?")
                    error = SchedulerLost(f"{LOST} at {address}")
            # Forget the task at once: a finished task whose worker dies later would
            # otherwise be run again ("recomputed elsewhere"), grading the submission a
            # second time behind the runner's back.
            with contextlib.suppress(Exception):
                theirs.release()
            with contextlib.suppress(cf.InvalidStateError):
                if error is None:
                    done.set_result(result)
                else:
                    done.set_exception(error)

        done.add_done_callback(cancelled_here)
        future.add_done_callback(finished)
        return done

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The client belongs to :func:`cluster_executor`, which closes it."""


# ------------------------------------------------------------------------- what a worker sees


def _tree_digest(folder: Path) -> str:
    """A digest of every file's relative path and bytes under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _grading_code_digest() -> str:
    import cnn_course
    import cnn_solutions

    parts = [_tree_digest(Path(m.__file__).parent) for m in (cnn_course, cnn_solutions)]
    return "+".join(parts)


def _kernel() -> str:
    """The restricted kernel's command line and environment, as Jupyter finds it."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from cnn_course.sandbox.kernelspec import KERNEL_NAME

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return "missing (run `python -m cnn_course.sandbox install`)"
    return json.dumps({"argv": spec.argv, "env": spec.env}, sort_keys=True)


def worker_view(root: str) -> dict[str, str]:
    """What this process sees of the course and the grader (plain strings, comparable).

    Runs on each worker (``Client.run``) and in the grader itself.
    """
    import nbgrader

    course = Path(root)
    release = course / "release"
    return {
        "course directory": str(course.resolve()) if course.is_dir() else "missing",
        "release/": _tree_digest(release) if release.is_dir() else "missing",
        "restricted kernel": _kernel(),
        "grading code": _grading_code_digest(),
        "nbgrader": nbgrader.__version__,
        "python": sys.version.split()[0],
    }


def differences(mine: dict[str, str], views: dict[str, Any]) -> list[str]:
    """One sentence per worker whose view differs from this machine's."""
    lines = []
    for worker, view in sorted(views.items()):
        if not isinstance(view, dict):
            lines.append(f"worker {worker} could not look at the course: {view}")
            continue
        wrong = [key for key in mine if view.get(key) != mine[key]]
        for key in wrong:
            lines.append(
                f"worker {worker}: {key} is {_short(view.get(key))}, here {_short(mine[key])}"
            )
    return lines


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


# ------------------------------------------------------------------------- checks


def refuse_sqlite(db_url: str) -> None:
    """A cluster's workers share one gradebook: sqlite cannot be that."""
    if db_url.startswith("sqlite"):
        raise CourseInputError(
            f"a cluster run needs a gradebook every worker can write at once, and the "
            f"course's is sqlite ({db_url.split('?')[0]}); give a database server with "
            "--db postgresql://USER@HOST/DBNAME (see 'The course on a cluster' in the README)"
        )


def check_cluster(client: Any, root: str) -> list[str]:
    """Check the workers before grading; return notes to print. Raises if unusable."""
    threads = client.nthreads()
    if not threads:
        raise CourseInputError(
            f"the Dask scheduler at {client.scheduler.address} has no workers: start some "
            "with `dask worker ADDRESS --nthreads 1`"
        )
    many = {w: n for w, n in threads.items() if n != 1}
    if many:
        named = ", ".join(f"{w} ({n} threads)" for w, n in sorted(many.items()))
        raise CourseInputError(
            f"nbgrader grades one notebook per process at a time, and these workers run "
            f"several tasks at once: {named}; start workers with --nthreads 1 "
            "(and --nworkers N for more of them)"
        )
    mine = worker_view(root)
    try:
        views = client.run(worker_view, root, on_error="return")
    except Exception as exc:  # noqa: BLE001 -- e.g. a worker that cannot import cnn_course
        raise CourseInputError(f"could not ask the workers about the course: {exc}") from None
    names = _worker_names(client)
    views = {names.get(address, address): view for address, view in views.items()}
    wrong = differences(mine, views)
    if wrong:
        raise CourseInputError(
            "these workers would not grade the course as this machine does (every worker "
            "needs the course directory at the same path, from a shared filesystem, and "
            "the same installation):\n  " + "\n  ".join(wrong)
        )
    notes = []
    try:
        before = client.run_on_scheduler(_scheduler_setter(ALLOWED_FAILURES))
    except Exception as exc:  # noqa: BLE001 -- grading still works, with Dask's retries
        return [f"could not set the scheduler's allowed-failures to {ALLOWED_FAILURES}: {exc}"]
    if before != ALLOWED_FAILURES:
        notes.append(
            f"the scheduler's allowed-failures was {before}; set to {ALLOWED_FAILURES} (a "
            "submission whose worker dies is retried once, then reported)"
        )
    return notes


def _scheduler_setter(allowed_failures: int) -> Callable[..., int]:
    """A function for ``run_on_scheduler``: a task may lose its worker once, and a worker
    holds only the task it runs (worker-saturation 1.0), so that a worker's death counts
    against that task alone and not against submissions merely queued behind it.

    Nested, so that it is pickled by value: the scheduler need not import this package.
    Returns the allowed-failures it found.
    """

    def setter(dask_scheduler: Any = None) -> int:
        before = dask_scheduler.allowed_failures
        dask_scheduler.allowed_failures = allowed_failures
        dask_scheduler.WORKER_SATURATION = 1.0
        return before

    return setter


def _reachable(address: str) -> None:
    """Fail at once, not after Dask's reconnect timeout, if nothing listens there."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "") or not parts.hostname or not parts.port:
        return  # tls://, ucx://, inproc://: let Dask connect and say what is wrong
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()
    except OSError as exc:
        raise CourseInputError(
            f"could not reach the Dask scheduler at {address}: {exc} (is `dask scheduler` "
            "running there, and is the port open?)"
        ) from None


def _worker_names(client: Any) -> dict[str, str]:
    """Address -> ``name (address)`` for workers started with ``--name``, else the address."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    labels = {}
    for address, info in workers.items():
        name = str(info.get("name", address))
        labels[address] = address if name == address else f"{name} ({address})"
    return labels


def _scheduler_setter(allowed_failures: int) -> Callable[..., int]:
    """A function for ``run_on_scheduler``: a task may lose its worker once, and a worker
    holds only the task it runs (worker-saturation 1.0), so that a worker's death counts
    against that task alone and not against submissions merely queued behind it.

    Nested, so that it is pickled by value: the scheduler need not import this package.
    Returns the allowed-failures it found.
    """

    def setter(dask_scheduler: Any = None) -> int:
        before = dask_scheduler.allowed_failures
        dask_scheduler.allowed_failures = allowed_failures
        dask_scheduler.WORKER_SATURATION = 1.0
        return before

    return setter


def _reachable(address: str) -> None:
    """Fail at once, not after Dask's reconnect timeout, if nothing listens there."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "") or not parts.hostname or not parts.port:
        return  # tls://, ucx://, inproc://: let Dask connect and say what is wrong
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()
    except OSError as exc:
        raise CourseInputError(
            f"could not reach the Dask scheduler at {address}: {exc} (is `dask scheduler` "
            "running there, and is the port open?)"
        ) from None


def _worker_label(client: Any, address: str) -> str:
    """``name (address)`` for a worker started with ``--name``, else its address."""
    info = client.scheduler_info(n_workers=-1).get("workers", {}).get(address, {})
    name = str(info.get("name", address))
    return address if name == address else f"{name} ({address})"


def _allowed_failures_setter(value: int) -> Callable[..., int]:
    """A function for ``run_on_scheduler`` that sets how often a task may lose its worker.

    Nested, so that it is pickled by value: the scheduler need not import this package.
    """

    def setter(dask_scheduler: Any = None) -> int:
        before = dask_scheduler.allowed_failures
        dask_scheduler.allowed_failures = value
        return before

    return setter


@contextlib.contextmanager
def cluster_executor(
    root: str, scheduler: str | None = None, local_workers: int | None = None
) -> Iterator[tuple[DaskExecutor, list[str]]]:
    """Connect to ``scheduler`` (or start a local cluster), check it, yield the executor.

    Yields ``(executor, notes)``; the client (and a local cluster) is closed on exit.
    """
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    local_config = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(local_config):
        if scheduler is None:
            cluster = LocalCluster(
                n_workers=local_workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
            address = cluster.scheduler_address
        else:
            address = scheduler
            _reachable(address)
        try:
            client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            if cluster is not None:
                cluster.close()
            raise CourseInputError(
                f"could not reach the Dask scheduler at {address}: {exc} (is `dask "
                "scheduler` running there?)"
            ) from None
    try:
        notes = check_cluster(client, root)
        if cluster is not None:
            notes.insert(0, f"started a local Dask cluster of {len(client.nthreads())} workers")
        yield DaskExecutor(client), notes
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=10)
