"""Load that looks like other kernels starting: processes that keep importing SciPy and
matplotlib in fresh interpreters (pure busy loops have hidden failures this load shows).

:func:`kernel_like_load` starts it and waits until every load process has finished a round,
so that what runs inside the ``with`` runs on a busy machine; it stops every process (and
the interpreter it was running) on the way out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOAD_PER_CORE = 2
# Each load worker stops by itself after this long, should the fixture never get to it.
LOAD_DEADLINE_S = 1500
# What a kernel starting next door imports, in a fresh interpreter every time.
KERNEL_IMPORTS = (
    "import importlib, sys; "
    "[importlib.import_module(m) for m in ('scipy.signal', 'scipy.ndimage', 'matplotlib')]; "
    "sys.modules['matplotlib'].use('Agg'); importlib.import_module('matplotlib.pyplot')"
)
# One load worker: re-run KERNEL_IMPORTS until its deadline, one line per round in a file.
LOAD_WORKER = """
import subprocess, sys, time
deadline = time.monotonic() + float(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as rounds:
    while time.monotonic() < deadline:
        done = subprocess.run([sys.executable, "-c", sys.argv[3]], capture_output=True)
        rounds.write(f"{done.returncode}\\n")
"""


@dataclass
class Load:
    """The busy processes: how many, and how many import rounds each has finished."""

    procs: list[subprocess.Popen]
    logs: list[Path]

    def rounds(self) -> list[list[str]]:
        """Exit codes of every finished round, per worker."""
        return [log.read_text().split() if log.exists() else [] for log in self.logs]

    def running(self) -> int:
        return sum(p.poll() is None for p in self.procs)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the load (SIGSTOP to each worker's group) while the ``with`` runs: for a
        test's teardown, which is not what runs under load (removing a deployment's 38,000
        files takes 133 s under this load, under 1 s without it)."""
        _signal_groups(self.procs, signal.SIGSTOP)
        try:
            yield
        finally:
            _signal_groups(self.procs, signal.SIGCONT)


def _signal_groups(procs: list[subprocess.Popen], number: int) -> None:
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, number)
            except ProcessLookupError:
                pass


def stop(procs: list[subprocess.Popen]) -> None:
    """Stop each worker's process group (the worker and its current interpreter), then wait."""
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
        # The interpreter a worker was running may outlive it by a moment: its group too.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextmanager
def kernel_like_load(folder: Path, per_core: int = LOAD_PER_CORE) -> Iterator[Load]:
    """``per_core`` busy processes per core, running until the ``with`` ends."""
    folder.mkdir(parents=True, exist_ok=True)
    count = per_core * (os.cpu_count() or 1)
    logs = [folder / f"worker-{n}.log" for n in range(count)]
    procs: list[subprocess.Popen] = []
    try:
        for log in logs:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", LOAD_WORKER, str(LOAD_DEADLINE_S), str(log)]
                    + [KERNEL_IMPORTS],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,  # its own group: stop() ends it and its child
                )
            )
        # What runs inside starts once every worker has finished a round: the load is real.
        started = time.monotonic()
        while not all(Load(procs, logs).rounds()) and time.monotonic() - started < 120:
            time.sleep(0.5)
        yield Load(procs, logs)
    finally:
        stop(procs)
