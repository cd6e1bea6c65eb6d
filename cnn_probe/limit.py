"""A CPU-time limit for one call of student code, that imports do not count against.

CPU time, not wall time: on a busy grading server a correct function gets as much of
the processor as it needs, however long it waits for it. Time spent importing a library
(``import scipy.signal`` inside the student's function takes seconds the first time) is
not counted, and the limit never fires inside an import, which would leave the library
half imported and broken for later cells.

A watchdog thread measures the CPU time and sends ``SIGPROF`` to the main thread when it
is used up. Not an interval timer: ``ITIMER_PROF``'s signal goes to whichever thread is
running, often one of NumPy's BLAS threads, and CPython (3.11) then does not wake the main
thread's evaluation loop, so a tight loop could run on unnoticed.

This limit lives in the student's process, so student code can lift it: it only exists
to give a stuck function a clear message. The kernel's ``RLIMIT_CPU`` and nbgrader's
per-cell timeout are the backstops, and a cell that does not finish has no result.
"""

from __future__ import annotations

import builtins
import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

# How often the watchdog looks at the CPU time while a limit runs.
POLL_SECONDS = 0.02


class StudentTimeout(BaseException):
    """Raised inside student code that ran too long (a BaseException, so that the
    student's own ``except Exception`` does not swallow it)."""


class _Limit:
    """One running limit: its budget, and the CPU time its imports took."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.process_time()
        self.in_imports = 0.0
        self.importing = 0
        self.done = False

    def used_up(self) -> bool:
        return time.process_time() - self.start - self.in_imports >= self.seconds


_active: _Limit | None = None
_lock = threading.Lock()
_armed = threading.Event()
_watchdog: threading.Thread | None = None
_saved_import: Any = None


def _importing(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _timed_import(*args: Any, **kwargs: Any) -> Any:
    limit = _active
    if limit is None or limit.importing:
        return _saved_import(*args, **kwargs)
    limit.importing += 1
    began = time.process_time()
    try:
        return _saved_import(*args, **kwargs)
    finally:
        limit.in_imports += time.process_time() - began
        limit.importing -= 1


def _on_signal(signum: int, frame: FrameType | None) -> None:
    limit = _active
    if limit is None or limit.done or limit.importing or _importing(frame):
        return  # the watchdog asks again at its next look
    if not limit.used_up():
        return
    limit.done = True  # at most once: a second raise could land in the cleanup
    raise StudentTimeout(f"did not finish within {limit.seconds:g} s of CPU time")


def _watch(main: int) -> None:
    while True:
        _armed.wait()
        time.sleep(POLL_SECONDS)
        with _lock:
            limit = _active
            if limit is not None and not limit.done and not limit.importing and limit.used_up():
                signal.pthread_kill(main, signal.SIGPROF)


def _arm(limit: _Limit) -> None:
    global _active, _watchdog, _saved_import
    # The handler stays installed between calls: a signal the watchdog sent just as a
    # call ended must find it (the default action of SIGPROF ends the process).
    if signal.getsignal(signal.SIGPROF) is not _on_signal:
        signal.signal(signal.SIGPROF, _on_signal)
    if builtins.__import__ is not _timed_import:
        _saved_import = builtins.__import__
        builtins.__import__ = _timed_import
    if _watchdog is None or not _watchdog.is_alive():
        _watchdog = threading.Thread(
            target=_watch, args=(threading.main_thread().ident,), name="cpu-limit", daemon=True
        )
        _watchdog.start()
    with _lock:
        _active = limit
        _armed.set()


def _disarm(limit: _Limit) -> None:
    global _active
    limit.done = True
    with _lock:
        if _active is limit:
            _active = None
            _armed.clear()
    if builtins.__import__ is _timed_import:
        builtins.__import__ = _saved_import


@contextlib.contextmanager
def cpu_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`StudentTimeout` in the block after ``seconds`` of CPU time.

    Only in the main thread (signals reach no other); elsewhere the block runs unlimited.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    limit = _Limit(seconds)
    _arm(limit)
    try:
        yield
    finally:
        _disarm(limit)
