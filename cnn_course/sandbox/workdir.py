"""The kernel's working folder: private copies of the regular files of ``autograded/...``.

:func:`copy_files` never follows a link, stays within the kernel's scratch limits, and,
for a grader through sudo, reads only what that grader could read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cnn_course.sandbox.kernelspec import Limits
from cnn_course.sandbox.sudo import Caller, as_caller
from cnn_course.sandbox.syscalls import MIB

# Copies of deeper folders of the working directory are not made.
COPY_DEPTH = 8


# --------------------------------------------------------------------------- working folder


def is_autograde_dir(cwd: Path, course_root: Path | None) -> bool:
    """Whether ``cwd`` is ``autograded/<student>/<assignment>`` (of ``course_root``)."""
    autograded = cwd.parent.parent
    if course_root is not None:
        return autograded == (course_root / "autograded").resolve()
    return autograded.name == "autograded" and os.environ.get("NBGRADER_EXECUTION") == "autograde"


def copy_files(
    source_fd: int, target: Path, uid: int, gid: int, limits: Limits, caller: Caller | None = None
) -> list[str]:
    """Copy the regular files and folders below ``source_fd`` into ``target``, for ``uid``.

    Never follows a link (``O_NOFOLLOW`` relative to folder handles, then ``fstat``):
    links, devices and pipes are skipped. At most ``limits.scratch_files`` entries and
    ``limits.scratch_mb`` MiB in all, folders at most :data:`COPY_DEPTH` deep. With a
    ``caller`` (a grader through sudo) every source is opened with the caller's
    permissions, so a grader cannot have root copy what they could not read.

    Returns
    -------
    list of str
        What was skipped, and why.
    """
    budget = {"files": max(limits.scratch_files - 50, 0), "bytes": limits.scratch_mb * MIB // 2}
    skipped: list[str] = []
    pending = [(os.dup(source_fd), target, 0)]
    while pending:
        folder_fd, into, depth = pending.pop()
        try:
            for entry in sorted(os.scandir(folder_fd), key=lambda e: e.name):
                name = entry.name
                info = os.lstat(name, dir_fd=folder_fd)
                if budget["files"] <= 0:
                    skipped.append(f"{name}: too many files")
                elif stat.S_ISREG(info.st_mode):
                    source = _open_for(caller, name, _READ_FLAGS, folder_fd, skipped)
                    if source is not None:
                        _copy_file(source, name, into / name, uid, gid, budget, skipped)
                elif stat.S_ISDIR(info.st_mode) and depth < COPY_DEPTH:
                    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
                    sub = _open_for(caller, name, flags, folder_fd, skipped)
                    if sub is None:
                        continue
                    (into / name).mkdir(mode=0o700)
                    os.lchown(into / name, uid, gid)
                    budget["files"] -= 1
                    pending.append((sub, into / name, depth + 1))
                else:
                    skipped.append(f"{name}: not a regular file or folder")
        finally:
            os.close(folder_fd)
    return skipped


_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open_for(
    caller: Caller | None, name: str, flags: int, folder_fd: int, skipped: list[str]
) -> int | None:
    """Open ``name`` in ``folder_fd`` with the caller's permissions; None if refused."""
    try:
        with as_caller(caller):
            return os.open(name, flags, dir_fd=folder_fd)
    except PermissionError:
        skipped.append(f"{name}: the grader cannot read it")
        return None


def _copy_file(
    source: int,
    name: str,
    target: Path,
    uid: int,
    gid: int,
    budget: dict[str, int],
    skipped: list[str],
) -> None:
    """Copy the open file ``source`` (closed after) to ``target``, within ``budget``."""
    try:
        info = os.fstat(source)
        if not stat.S_ISREG(info.st_mode) or info.st_size > budget["bytes"]:
            skipped.append(f"{name}: too big or not a regular file")
            return
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            remaining = info.st_size
            while remaining > 0:
                chunk = os.read(source, min(remaining, MIB))
                if not chunk:
                    break
                os.write(out, chunk)
                remaining -= len(chunk)
            os.fchmod(out, 0o700 if info.st_mode & 0o100 else 0o600)
            os.fchown(out, uid, gid)
        finally:
            os.close(out)
        budget["bytes"] -= info.st_size
        budget["files"] -= 1
    finally:
        os.close(source)
