"""The system calls that confine a kernel: resource limits, ``unshare``, ``mount``, ``prctl``.

Python 3.11 has no ``os.unshare`` nor ``os.mount``: they are called through libc
(:mod:`ctypes`). Only the standard library: the launcher imports this as root.
"""

from __future__ import annotations

import ctypes
import os
import resource
from pathlib import Path

from cnn_course.sandbox.kernelspec import Limits

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x8000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38
MIB = 2**20
# Seconds of CPU between SIGXCPU (the soft limit; catchable) and SIGKILL (the hard one).
CPU_GRACE_SECONDS = 5


class SandboxError(RuntimeError):
    """The kernel cannot be confined as asked; it does not start."""


# --------------------------------------------------------------------------- limits


def apply_rlimits(limits: Limits, *, per_user: bool) -> dict[str, tuple[int, int]]:
    """Lower this process's resource limits; returns what was set, by name.

    Hard limits are lowered too, so that student code cannot raise them again. A limit
    is never raised above the current hard limit (a non-root user cannot).

    Parameters
    ----------
    per_user : bool
        Also set ``RLIMIT_NPROC``, which counts every process of the (kernel's) uid.
    """
    wanted = {
        "RLIMIT_AS": (limits.memory_mb * MIB, limits.memory_mb * MIB),
        "RLIMIT_CPU": (limits.cpu_seconds, limits.cpu_seconds + CPU_GRACE_SECONDS),
        "RLIMIT_NOFILE": (limits.open_files, limits.open_files),
        "RLIMIT_FSIZE": (limits.file_size_mb * MIB, limits.file_size_mb * MIB),
        "RLIMIT_CORE": (0, 0),
    }
    if per_user:
        wanted["RLIMIT_NPROC"] = (limits.processes, limits.processes)
    applied = {}
    for name, (soft, hard) in wanted.items():
        which = getattr(resource, name)
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
        soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))
        applied[name] = (soft, hard)
    return applied


# --------------------------------------------------------------------------- system calls


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def unshare(flags: int) -> str | None:
    """``unshare(2)`` (Python 3.11 has no ``os.unshare``); ``None``, or why it failed."""
    if _libc().unshare(flags) != 0:
        return os.strerror(ctypes.get_errno())
    return None


def unshare_mounts() -> str | None:
    """Enter a private mount namespace, so that mounts made here stay in this process.

    Returns
    -------
    str or None
        ``None`` on success, else why not.
    """
    problem = unshare(CLONE_NEWNS)
    if problem is None:
        # Without this, mounts would propagate back to the host (systemd makes / shared).
        _mount(None, Path("/"), None, MS_REC | MS_PRIVATE, None)
    return problem


def _prctl(option: int, value: int) -> None:
    if _libc().prctl(option, value, 0, 0, 0) != 0:
        raise SandboxError(f"prctl({option}) failed: {os.strerror(ctypes.get_errno())}")


def _mount(
    source: str | None, target: Path, fstype: str | None, flags: int, data: str | None
) -> None:
    def raw(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    if _libc().mount(raw(source), os.fsencode(target), raw(fstype), flags, raw(data)) != 0:
        error = os.strerror(ctypes.get_errno())
        raise SandboxError(f"mount {source!r} on {target} failed: {error}")


def mount_tmpfs(target: Path, options: str) -> None:
    """Mount a fresh tmpfs (no setuid, no devices) on ``target``."""
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options)


def scratch_options(limits: Limits, mode: int, uid: int = 0, gid: int = 0) -> str:
    """tmpfs options with the size and file-count limits of ``limits``."""
    return (
        f"size={limits.scratch_mb}m,nr_inodes={limits.scratch_files},"
        f"mode={mode:o},uid={uid},gid={gid}"
    )
