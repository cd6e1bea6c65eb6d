"""Run student code so that what it prints or warns cannot spoil its test cell.

nbgrader scores a test cell 0 as soon as anything reaches stderr, so a correct function
that emits a harmless warning would lose its points. Calls made by the grader therefore
capture Python-level streams, file-descriptor-level writes and warnings.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

# Enough to show a student what their code printed, without flooding feedback.
KEEP_CHARS = 2000


@dataclass
class Captured:
    """What student code wrote while the grader called it."""

    stdout: str = ""
    stderr: str = ""
    warnings: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _redirect_fd(fd: int, sink: int) -> Iterator[None]:
    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor in this process: nothing to protect
        yield
        return
    try:
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.flush()
        os.dup2(sink, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _tail(text: str) -> str:
    return text if len(text) <= KEEP_CHARS else "..." + text[-KEEP_CHARS:]


@contextlib.contextmanager
def quiet() -> Iterator[Captured]:
    """Capture stdout, stderr (Python and C level) and warnings for the block's duration."""
    captured = Captured()
    out, err = io.StringIO(), io.StringIO()
    with (
        tempfile.TemporaryFile() as raw,
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        _redirect_fd(1, raw.fileno()),
        _redirect_fd(2, raw.fileno()),
    ):
        warnings.simplefilter("always")
        try:
            yield captured
        finally:
            raw.seek(0)
            low_level = raw.read(KEEP_CHARS * 2).decode("utf-8", "replace")
            captured.stdout = _tail(out.getvalue())
            captured.stderr = _tail(err.getvalue() + low_level)
            captured.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
