"""What the launcher decides as root before forking: the kernel's uid, folders and view.

:func:`make_plan` picks the kernel's uid, makes its private folder (``home``, ``tmp``,
``work``, the sockets), and plans its view of the file system; the result, a
:class:`Plan`, is all the launcher's processes (:mod:`cnn_course.sandbox.processes`) need.
"""

from __future__ import annotations

import argparse
import logging
import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cnn_course.sandbox.kernelspec import Limits
from cnn_course.sandbox.permissions import (
    SANDBOX_USER,
    chown_tree,
    kernel_uid,
    kill_uid,
    private_base,
    sweep_private_dirs,
)
from cnn_course.sandbox.sockets import relocate_sockets, socket_links
from cnn_course.sandbox.sudo import Caller, as_caller, grant_sockets
from cnn_course.sandbox.syscalls import SandboxError, scratch_options
from cnn_course.sandbox.view import (
    COVERED_ALWAYS,
    PRIVATE_TMP,
    Identity,
    View,
    _inside,
    needed_paths,
    package_dirs,
    plan_view,
)
from cnn_course.sandbox.workdir import is_autograde_dir

log = logging.getLogger("cnn_course.sandbox.launcher")  # the launcher's log


# --------------------------------------------------------------------------- root: plan


@dataclass
class Plan:
    """Everything the launcher decided, as root, before forking."""

    identity: Identity
    limits: Limits
    private: Path
    connection_file: Path
    links: list[Path]
    cwd: Path
    copy_workdir: bool
    view: View
    kernel_args: list[str]
    grader: int
    lost: list[str] = field(default_factory=list)
    caller: Caller | None = None


def kernel_identity(group_user: str, launcher_pid: int) -> Identity:
    """The kernel's uid (unique among running kernels) in ``group_user``'s group.

    Raises
    ------
    SandboxError
        If ``group_user`` does not exist, or the uid belongs to an account.
    """
    try:
        account = pwd.getpwnam(group_user)
    except KeyError:
        raise SandboxError(
            f"no user {group_user!r}: run `python -m cnn_course.sandbox install` as root"
        ) from None
    uid = kernel_uid(launcher_pid)
    try:
        taken = pwd.getpwuid(uid)
    except KeyError:
        return Identity(uid, account.pw_gid, f"{group_user}-{launcher_pid}")
    raise SandboxError(f"kernel uid {uid} belongs to the account {taken.pw_name!r}")


def secret_folders(course_root: Path | None, cwd: Path, packages: list[Path]) -> set[Path]:
    """Folders covered whole: the course root, and each package's repository.

    A package's repository is the folder holding it (the editable install's source tree),
    unless that folder is one Python needs (site-packages): then only the package goes.
    """
    secrets = set()
    if course_root is None and is_autograde_dir(cwd, None):
        course_root = cwd.parents[2]
    if course_root is not None:
        secrets.add(Path(os.path.realpath(course_root)))
    python_dirs = needed_paths() - set(packages)
    for package in packages:
        parent = package.parent
        if parent != Path("/") and parent not in python_dirs and not _inside(parent, python_dirs):
            secrets.add(parent)
    # An outer secret covers the inner ones.
    return {s for s in secrets if not any(s != o and s.is_relative_to(o) for o in secrets)}


def make_plan(
    args: argparse.Namespace,
    kernel_args: list[str],
    limits: Limits,
    grader: int,
    caller: Caller | None = None,
) -> Plan:
    """Decide the kernel's uid, private folder and view; make the private folder.

    ``grader`` is this process's parent when it started (see :func:`grader_at_start`).

    With a ``caller`` (a grader who is not root, through sudo), the connection file is
    read and the socket links are made with the caller's permissions, and the caller may
    reach the kernel's sockets.
    """
    identity = kernel_identity(
        args.user or os.environ.get("CNN_SANDBOX_USER") or SANDBOX_USER, os.getpid()
    )
    kill_uid(identity.uid)  # a previous launcher with this pid may have left processes
    base = private_base()
    sweep_private_dirs(base)
    private = Path(tempfile.mkdtemp(prefix=f"k{os.getpid()}-", dir=base))
    try:
        for sub in ("home", "tmp", "work"):
            (private / sub).mkdir(mode=0o700)
        connection_file = Path(args.connection_file)
        with as_caller(caller):
            links = socket_links(connection_file)
        copy = relocate_sockets(connection_file, private, caller)
        chown_tree(private, identity.uid, identity.gid)
        if caller is not None:
            grant_sockets(private, caller.uid)
        cwd = Path.cwd()
        course_root = Path(args.course_root).resolve() if args.course_root else None
        packages = package_dirs()
        secrets = secret_folders(course_root, cwd, packages)
        view = plan_view(secrets, packages, needed_paths(), identity, writable=[private])
        for folder in PRIVATE_TMP:
            view.covers[folder] = scratch_options(limits, 0o1777)
        for folder in COVERED_ALWAYS:
            view.covers.setdefault(folder, "mode=755,size=1m")
        copy_workdir = is_autograde_dir(cwd, course_root)
        if not copy_workdir:
            log.warning("%s is not an autograde directory: the kernel starts in an empty one", cwd)
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise
    return Plan(
        identity,
        limits,
        private,
        copy,
        links,
        cwd,
        copy_workdir,
        view,
        kernel_args,
        grader,
        caller=caller,
    )
