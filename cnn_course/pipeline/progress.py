"""A tqdm progress bar for grading runs: tasks done, failures and ETA.

The bar is drawn by the command-line front end only (library code never writes to a
terminal); it is off when the stream is not a TTY, unless forced on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from tqdm import tqdm

if TYPE_CHECKING:
    from cnn_course.pipeline.runner import TaskResult


class TaskBar:
    """Context manager around a tqdm bar counting finished tasks and failures.

    Parameters
    ----------
    label : str
        Shown before the bar (the grading step).
    total : int
        Number of tasks.
    file : IO[str]
        Stream to draw on.
    enabled : bool or None
        True: always draw; False: never; None: only when ``file`` is a TTY.
    """

    def __init__(self, label: str, total: int, file: IO[str], enabled: bool | None) -> None:
        if enabled is None:
            enabled = hasattr(file, "isatty") and file.isatty()
        self.failed = 0
        self._bar = tqdm(
            total=total,
            desc=label,
            unit="nb",
            file=file,
            disable=not enabled,
            dynamic_ncols=True,
            # elapsed<remaining (the ETA) and the rate, after done/total.
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
            "[{elapsed}<{remaining}, {rate_fmt}{postfix}]",
        )
        self._bar.set_postfix(failed=0, refresh=False)

    def advance(self, result: TaskResult) -> None:
        """Count one finished task, and a failure if it failed."""
        if result.failed:
            self.failed += 1
            self._bar.set_postfix(failed=self.failed, refresh=False)
        self._bar.update(1)

    def __enter__(self) -> TaskBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bar.close()


def bar_factory(
    enabled: bool | None = None, file: IO[str] | None = None
) -> Callable[[str, int], TaskBar]:
    """Return a ``progress(label, total)`` factory for :func:`cnn_course.pipeline.runner.grade`.

    Parameters
    ----------
    enabled : bool or None
        See :class:`TaskBar`.
    file : IO[str] or None
        Stream to draw on; default ``sys.stderr``, looked up when a bar is made.
    """

    def make(label: str, total: int) -> TaskBar:
        return TaskBar(label, total, file if file is not None else sys.stderr, enabled)

    return make
