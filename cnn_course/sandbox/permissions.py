"""File permissions and the sandbox user, for grading as root.

When the grader runs as root, students' notebooks run as the unprivileged user
``cnn-sandbox``. What keeps that user from the gradebook, the instructor's ``source/``
and other students' work is ordinary Unix permissions, set here by the grader (as root)
before grading:

=====================================  ======  =========================================
path                                   mode    why
=====================================  ======  =========================================
``gradebook.db`` (and its journals)    600     hidden tests and everyone's scores
``source/``, ``submitted/``,           700     solutions; every student's submission
``feedback/``
``autograded/``                        711     the kernel's working directory is below
``autograded/<student>/``              700     only the student being graded is reachable
=====================================  ======  =========================================

The launcher then gives the sandbox user ``autograded/<student>/<assignment>`` (the
kernel's working directory) and nothing else; :func:`protect_course` gives it back to
the course's owner afterwards.

This module only uses the standard library: the launcher imports it as root.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
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

    The user has no home directory and no login shell; each kernel gets a fresh private
    ``HOME`` from the launcher.

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


def chown_tree(top: Path, uid: int, gid: int, *, only_uid: int | None = None) -> None:
    """``lchown`` ``top`` and everything below it, never following symbolic links.

    A student can leave a symlink to, say, the gradebook in their directory; following
    it would hand that file to the sandbox user.

    Parameters
    ----------
    only_uid : int, optional
        Change only entries owned by this uid.
    """
    paths = [top]
    for dirpath, dirnames, filenames in os.walk(top):
        paths.extend(Path(dirpath, name) for name in (*dirnames, *filenames))
    for path in paths:
        if only_uid is None or os.lstat(path).st_uid == only_uid:
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
    """Give what the sandbox user owns under ``autograded/`` back to that folder's owner.

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
            chown_tree(folder, owner.st_uid, owner.st_gid, only_uid=account.pw_uid)


@contextmanager
def protect_course(
    course_root: str | Path, student: str | None = None, user: str = SANDBOX_USER
) -> Iterator[None]:
    """Make ``course_root`` safe to autograde in, for the duration of the block.

    As root: create the sandbox user if missing, :func:`tighten_course`, and on exit
    :func:`restore_ownership`. Not root: nothing to do (the kernel then runs as the
    grader's own user, with resource limits only).

    Parameters
    ----------
    course_root : str or Path
        The nbgrader course directory.
    student : str, optional
        Restore only this student's folder on exit. Use it when several blocks run at
        once on different students; without it, use one block around the whole batch.
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
    """Remove private folders of kernels that died without cleaning up (SIGXCPU, SIGKILL).

    Folder names start with ``k<pid>-``; a folder goes when that process is gone.

    Returns
    -------
    int
        How many folders were removed.
    """
    removed = 0
    for entry in base.iterdir():
        pid_text = entry.name[1:].partition("-")[0]
        if entry.name.startswith("k") and pid_text.isdigit() and not _pid_alive(int(pid_text)):
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
    """``Autograde.post_convert_hook``: hand the graded folder back to its owner.

    Only ``autograded/<student>/<assignment>``: another worker may be grading another
    assignment of the same student right now, as its sandbox user.
    """
    restore_ownership(
        course_root,
        student if student and student != "*" else None,
        assignment=assignment if assignment and assignment != "*" else None,
    )
