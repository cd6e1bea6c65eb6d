"""What a grading run finished, kept so that a run killed at any point can be resumed.

nbgrader decides that a submission is already graded when its ``autograded/`` folder
exists with a timestamp no older than the submission's. That folder is made, and the
timestamp copied into it, *before* the notebook runs, so a grader killed in the middle of a
notebook leaves a folder that a rerun skips, and the half-graded submission keeps whatever
the gradebook held. ``cnn-course grade`` decides for itself instead, from a record it
writes only after a step has finished:

``<course>/.grading/<student>/<assignment>.json``
    ``{"submitted": <digest of submitted/<student>/<assignment>>, "feedback": bool}``,
    written (atomically) when autograding succeeded; ``feedback`` is set once its feedback
    was made. A record is removed before its submission is graded again.

A submission is left to do unless its record holds the digest of what is in ``submitted/``
now and its graded notebook exists; nothing the student's kernel writes takes part (the
kernel never sees ``.grading/``, and the digest is of the collected files, not of a
timestamp file). Regrading is idempotent in the gradebook (the same rows are
overwritten), so work done twice after a kill writes each grade once.

Two locks, with ``flock`` (released by the kernel when a process dies, SIGKILL included):
``run.lock``, held by the ``grade`` process, so that two runs never grade one course at
once; ``workers.lock``, held shared by every grading worker, which a new run takes
exclusively once, to wait until the workers of a killed run are gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cnn_course.errors import CourseInputError
from cnn_course.submissions import Submission

STATE_DIR = ".grading"
RUN_LOCK = "run.lock"
WORKERS_LOCK = "workers.lock"
# How long a new run waits for the workers of a killed run to die (they die within a
# second: the pool's fork server exits with its parent, workers get PR_SET_PDEATHSIG).
WORKERS_GONE_SECONDS = 60.0


@dataclass(frozen=True)
class Record:
    """What finished for one submission."""

    submitted: str  # digest of the submission folder when it was graded
    feedback: bool = False


def state_dir(root: Path | str) -> Path:
    """``<root>/.grading``, made if needed, readable by its owner only."""
    path = Path(root) / STATE_DIR
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _record_path(root: Path | str, sub: Submission) -> Path:
    return Path(root) / STATE_DIR / sub.student / f"{sub.assignment}.json"


def submitted_digest(root: Path | str, sub: Submission) -> str:
    """SHA-256 over the names and contents of ``submitted/<student>/<assignment>``.

    Symbolic links count by their target's name, never followed. A folder that is gone
    has the digest of nothing.
    """
    folder = Path(root) / "submitted" / sub.student / sub.assignment
    digest = hashlib.sha256()
    if not folder.is_dir():
        return digest.hexdigest()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            if path.is_symlink():
                digest.update(b"link:" + os.readlink(path).encode() + b"\0")
                continue
            with contextlib.suppress(OSError), path.open("rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
            digest.update(b"\0")
    return digest.hexdigest()


def read_record(root: Path | str, sub: Submission) -> Record | None:
    """The submission's record, or None if there is none (or it is unreadable)."""
    try:
        data = json.loads(_record_path(root, sub).read_text())
        return Record(str(data["submitted"]), bool(data.get("feedback", False)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(root: Path | str, sub: Submission, record: Record) -> None:
    """Write the record atomically (a kill leaves the old one or the new one)."""
    path = _record_path(root, sub)
    state_dir(root)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"submitted": record.submitted, "feedback": record.feedback}))
    os.replace(temporary, path)


def clear_record(root: Path | str, sub: Submission) -> None:
    """Forget that the submission was graded (before grading it again)."""
    with contextlib.suppress(FileNotFoundError):
        _record_path(root, sub).unlink()


def graded_notebooks_exist(root: Path | str, sub: Submission) -> bool:
    """Whether ``autograded/<student>/<assignment>`` holds a graded notebook."""
    folder = Path(root) / "autograded" / sub.student / sub.assignment
    return folder.is_dir() and any(folder.glob("*.ipynb"))


def feedback_exists(root: Path | str, sub: Submission) -> bool:
    """Whether ``feedback/<student>/<assignment>`` holds a feedback page."""
    folder = Path(root) / "feedback" / sub.student / sub.assignment
    return folder.is_dir() and any(folder.glob("*.html"))


def is_graded(root: Path | str, sub: Submission, digest: str) -> bool:
    """Whether the submission, as it is now (``digest``), was graded to the end."""
    record = read_record(root, sub)
    return record is not None and record.submitted == digest and graded_notebooks_exist(root, sub)


def has_feedback(root: Path | str, sub: Submission) -> bool:
    """Whether the submission's feedback was made from its current grading."""
    record = read_record(root, sub)
    return record is not None and record.feedback and feedback_exists(root, sub)


@contextlib.contextmanager
def grading_lock(root: Path | str) -> Iterator[None]:
    """Hold the course's run lock; wait for the workers of an earlier run to be gone.

    Raises
    ------
    CourseInputError
        If another ``cnn-course grade`` is grading this course, or the workers of an
        earlier run are still alive after :data:`WORKERS_GONE_SECONDS`.
    """
    folder = state_dir(root)
    with (folder / RUN_LOCK).open("a") as run:
        try:
            fcntl.flock(run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CourseInputError(
                f"another `cnn-course grade` is grading {root} right now; wait for it to "
                "finish (or stop it), then run this again"
            ) from None
        _wait_for_old_workers(folder / WORKERS_LOCK)
        yield


def _wait_for_old_workers(path: Path) -> None:
    deadline = time.monotonic() + WORKERS_GONE_SECONDS
    with path.open("a") as workers:
        while True:
            try:
                fcntl.flock(workers, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(workers, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CourseInputError(
                        f"grading workers of an earlier run still hold {path}; stop them "
                        "(they are `cnn-course` processes), then run this again"
                    ) from None
                time.sleep(0.1)


_held: list = []  # the worker's open lock file: kept open for the process's life


@contextlib.contextmanager
def worker_lock(root: Path | str) -> Iterator[None]:
    """Hold ``workers.lock`` shared for one task (workers the runner does not own)."""
    with (state_dir(root) / WORKERS_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        yield


def hold_worker_lock(root: Path | str) -> None:
    """In a grading worker: hold ``workers.lock`` shared for as long as the process lives."""
    if _held:
        return
    handle = (state_dir(root) / WORKERS_LOCK).open("a")
    fcntl.flock(handle, fcntl.LOCK_SH)
    _held.append(handle)
