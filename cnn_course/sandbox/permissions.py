"""File permissions, the sandbox group, and per-kernel uids, for grading as root.

When the grader runs as root, each grading kernel runs as a uid of its own
(:data:`UID_BASE` + the launcher's pid) in the group of the system user ``cnn-sandbox``,
and, where the host has namespaces, sees nothing of the course (see
:mod:`cnn_course.sandbox.launcher`). The modes below are defence in depth, and the only
protection of the course where mount namespaces are missing (a container without
CAP_SYS_ADMIN):

=====================================  ======  =========================================
path                                   mode    why
=====================================  ======  =========================================
``gradebook.db`` (and its journals)    600     hidden tests and everyone's scores
``source/``, ``submitted/``,           700     solutions; every student's submission
``feedback/``
``autograded/``                        711     nobody lists the graded students
``autograded/<student>/``              700     graded work, root's alone
=====================================  ======  =========================================

Nothing of the course is ever handed to a kernel: it works in a private copy of its
folder, so nothing has to be handed back afterwards.

This module only uses the standard library: the launcher imports it as root.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SANDBOX_USER = "cnn-sandbox"

log = logging.getLogger(__name__)

_PRIVATE = 0o700
_TRAVERSE_ONLY = 0o711
_SECRET_FILE = 0o600
# Per-kernel private directories (HOME, TMPDIR, ZMQ sockets) live in here. Mode 1733:
# anyone may create an entry and remove their own, nobody but root may list it, so a
# kernel cannot find another kernel's directory.
_SHARED_DROPBOX = 0o1733
PRIVATE_BASE_NAME = "cnn-grader-sandbox"
# Kernel uids: UID_BASE + the launcher's pid, unique while the launcher lives (pid_max is
# at most 2**22). Far above any uid useradd hands out, below 2**31 (signed-uid tools).
UID_BASE = 1_600_000_000
PID_LIMIT = 2**22
# World-writable folders where a kernel without a mount namespace may leave files.
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def is_root() -> bool:
    return os.geteuid() == 0


def sandbox_account(name: str = SANDBOX_USER) -> pwd.struct_passwd | None:
    """The sandbox user's passwd entry, or ``None`` if there is no such user."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def ensure_sandbox_user(name: str = SANDBOX_USER) -> pwd.struct_passwd:
    """Create the sandbox system user (and its group) with ``useradd`` if it is missing.

    The user has no home directory and no login shell. Kernels run as uids of their own
    (:func:`kernel_uid`), in this user's group; each gets a fresh private ``HOME``.

    Raises
    ------
    PermissionError
        If the user is missing and this process is not root.
    RuntimeError
        If ``useradd`` fails or is not installed.
    """
    account = sandbox_account(name)
    if account is not None:
        return account
    if not is_root():
        raise PermissionError(f"only root can create the sandbox user {name!r}")
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    command = [
        useradd,
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        name,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise RuntimeError(f"cannot create the sandbox user {name!r}: {error}") from None
    account = sandbox_account(name)
    if account is None:
        raise RuntimeError(f"useradd {name} failed ({done.returncode}): {done.stderr.strip()}")
    return account


def is_kernel_uid(uid: int) -> bool:
    """Whether ``uid`` is in the range of per-kernel uids (:func:`kernel_uid`)."""
    return UID_BASE <= uid < UID_BASE + PID_LIMIT


def kernel_uid(launcher_pid: int) -> int:
    """The uid of the kernel started by the launcher with process id ``launcher_pid``.

    Unique among running kernels, since pids are; so kernels cannot signal each other, and
    ``RLIMIT_NPROC`` counts each kernel's processes alone.
    """
    if not 0 < launcher_pid < PID_LIMIT:
        raise ValueError(f"pid {launcher_pid} out of range")
    return UID_BASE + launcher_pid


def kill_uid(uid: int, attempts: int = 50) -> None:
    """SIGKILL every process of ``uid``, from a forked helper that becomes that uid.

    ``kill(-1, SIGKILL)`` from a process of the uid reaches exactly the processes it may
    signal, i.e. that uid's, wherever they are (detached, in another session); repeated
    until none is left, since one may be forking at that moment. Root only.
    """
    if not is_kernel_uid(uid):
        raise ValueError(f"refusing to kill the processes of uid {uid}: not a kernel uid")
    helper = os.fork()
    if helper == 0:  # pragma: no cover -- child
        try:
            os.setgroups([])
            os.setresuid(uid, uid, uid)
            for _ in range(attempts):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    os._exit(0)
        except BaseException:  # noqa: BLE001 -- a child must never return into the caller
            os._exit(1)
        os._exit(2)
    os.waitpid(helper, 0)


def remove_owned(uid: int, folders: tuple[str, ...] = SHARED_WRITABLE) -> int:
    """Remove what ``uid`` left directly in the shared writable ``folders``.

    Without a mount namespace a kernel's ``/tmp`` is the host's. Call it only when no
    process of ``uid`` is left (:func:`kill_uid`): entries are ``lstat``-ed, links are
    removed, never followed, and ``shutil.rmtree`` walks by file descriptor.

    Returns
    -------
    int
        How many entries were removed.
    """
    removed = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                if info.st_uid != uid:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
            except OSError as error:
                log.warning("cannot remove %s: %s", entry.path, error)
    return removed


def chown_tree(
    top: Path, uid: int, gid: int, *, only_uid: int | None = None, kernel_uids: bool = False
) -> None:
    """``lchown`` ``top`` and everything below it, never following symbolic links.

    A student can leave a symlink to, say, the gradebook in their directory; following
    it would hand that file to the sandbox user.

    Parameters
    ----------
    only_uid : int, optional
        Change only entries owned by this uid.
    kernel_uids : bool
        With ``only_uid``: also entries owned by any per-kernel uid.
    """
    paths = [top]
    for dirpath, dirnames, filenames in os.walk(top):
        paths.extend(Path(dirpath, name) for name in (*dirnames, *filenames))
    for path in paths:
        owner = os.lstat(path).st_uid
        if only_uid is None or owner == only_uid or (kernel_uids and is_kernel_uid(owner)):
            os.lchown(path, uid, gid)


def _chmod_if_dir(path: Path, mode: int) -> None:
    if path.is_dir() and not path.is_symlink():
        os.chmod(path, mode)


def tighten_course(course_root: str | Path) -> None:
    """Set the modes in the module's table on ``course_root`` (root only; else a no-op).

    ``autograded/`` is created if missing, so that nbgrader does not create it later
    with its default mode 755.
    """
    if not is_root():
        return
    root = Path(course_root)
    for name in ("gradebook.db", "gradebook.db-journal", "gradebook.db-wal", "gradebook.db-shm"):
        if (root / name).is_file():
            os.chmod(root / name, _SECRET_FILE)
    for name in ("source", "submitted", "feedback"):
        _chmod_if_dir(root / name, _PRIVATE)
    autograded = root / "autograded"
    autograded.mkdir(exist_ok=True)
    os.chmod(autograded, _TRAVERSE_ONLY)
    for student_dir in autograded.iterdir():
        _chmod_if_dir(student_dir, _PRIVATE)


def restore_ownership(
    course_root: str | Path,
    student: str | None = None,
    user: str = SANDBOX_USER,
    assignment: str | None = None,
) -> None:
    """Give what a sandbox uid owns under ``autograded/`` back to that folder's owner.

    Kernels no longer own anything there (they work in private copies); this repairs a
    course graded by an older version, which handed the working directory to
    ``cnn-sandbox``.

    Parameters
    ----------
    student : str, optional
        Only ``autograded/<student>``; by default every student's folder.
    assignment : str, optional
        Only that assignment's folder of each chosen student. Workers grading two
        assignments of one student at once must each restore only their own: handing
        back the other folder would lock its still-running kernel out of its files.
    """
    account = sandbox_account(user)
    autograded = Path(course_root) / "autograded"
    if account is None or not is_root() or not autograded.is_dir():
        return
    owner = os.stat(autograded)
    students = [autograded / student] if student else list(autograded.iterdir())
    folders = [folder / assignment for folder in students] if assignment else students
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink():
            chown_tree(
                folder, owner.st_uid, owner.st_gid, only_uid=account.pw_uid, kernel_uids=True
            )


@contextmanager
def protect_course(
    course_root: str | Path, student: str | None = None, user: str = SANDBOX_USER
) -> Iterator[None]:
    """Make ``course_root`` safe to autograde in, for the duration of the block.

    As root: create the sandbox user if missing, :func:`tighten_course`, and on exit
    :func:`restore_ownership` (a no-op unless an older version graded here) and remove
    private folders of kernels that died. Not root: nothing to do (the kernel then runs as the
    grader's own user, with resource limits only).

    Parameters
    ----------
    course_root : str or Path
        The nbgrader course directory.
    student : str, optional
        Restore only this student's folder on exit.
    user : str
        The sandbox user name.

    Examples
    --------
    >>> with protect_course(course.root):  # doctest: +SKIP
    ...     course.autograde("01_filters")
    """
    if not is_root():
        yield
        return
    ensure_sandbox_user(user)
    tighten_course(course_root)
    try:
        yield
    finally:
        restore_ownership(course_root, student, user)
        sweep_private_dirs(private_base())


# --------------------------------------------------------------------------- launcher


def private_base() -> Path:
    """The root-owned mode-1733 folder holding each kernel's private folder.

    ``/run`` (root-only, tmpfs) when possible, so that no other user can create the
    folder first; else the temporary directory, refusing a folder root does not own.

    Raises
    ------
    PermissionError
        If the folder exists but is not a directory owned by root.
    """
    run = Path("/run")
    parent = run if run.is_dir() and os.access(run, os.W_OK) else Path("/tmp")
    base = parent / PRIVATE_BASE_NAME
    try:
        base.mkdir(mode=_PRIVATE)
    except FileExistsError:
        pass
    info = os.lstat(base)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
        raise PermissionError(f"{base} is not a directory owned by root; remove it")
    os.chmod(base, _SHARED_DROPBOX)
    return base


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_private_dirs(base: Path) -> int:
    """Remove private folders of launchers that died without cleaning up (SIGKILL).

    Folder names start with ``k<pid>-``; a folder goes when that process is gone, after
    any process left of that launcher's kernel uid is killed.

    Returns
    -------
    int
        How many folders were removed.
    """
    removed = 0
    for entry in base.iterdir():
        pid_text = entry.name[1:].partition("-")[0]
        if entry.name.startswith("k") and pid_text.isdigit() and not _pid_alive(int(pid_text)):
            if 0 < int(pid_text) < PID_LIMIT:
                kill_uid(kernel_uid(int(pid_text)))
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


# --------------------------------------------------------------------------- nbgrader hooks


def before_autograde(course_root: str | Path, **_: object) -> None:
    """``Autograde.pre_convert_hook``: make the course safe before a submission runs.

    As a hook, plain ``nbgrader autograde`` protects the course as well as ``cnn-course
    grade`` does. nbgrader passes ``assignment``, ``student`` and ``notebooks``.
    """
    if is_root():
        ensure_sandbox_user()
        tighten_course(course_root)


def after_autograde(
    course_root: str | Path,
    student: str | None = None,
    assignment: str | None = None,
    **_: object,
) -> None:
    """``Autograde.post_convert_hook``: check nothing of the graded folder is a kernel's.

    Kernels work in private copies and never own anything in the course; this only
    repairs folders an older version handed to the sandbox user, and only
    ``autograded/<student>/<assignment>``.
    """
    restore_ownership(
        course_root,
        student if student and student != "*" else None,
        assignment=assignment if assignment and assignment != "*" else None,
    )
