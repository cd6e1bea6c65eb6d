"""The grading kernel for a grader who is not root: one narrow ``sudo`` rule.

On a shared server (the course's JupyterHub) the instructor is an ordinary Unix user, and
every door to grading (``cnn-course grade``, ``nbgrader autograde``, the formgrader's
button) runs as that user. The kernel's confinement (its own uid, namespaces, the course
and the reference out of sight) needs root, so the kernelspec starts the launcher through
``sudo -n WRAPPER -f CONNECTION_FILE``, where ``WRAPPER`` is a root-owned script that
runs the root-owned launcher and nothing else, and a sudoers rule lets the course's
graders group run exactly that script (:func:`sudoers_rule`).

The launcher then acts for the grader (the *caller*) only where the grader could act
itself: it reads the connection file and makes the socket links with the caller's
effective uid (:func:`as_caller`), so naming a path in someone else's folder gains
nothing; and it lets the caller, and no one else, reach the kernel's sockets (a POSIX
ACL on the kernel's private folder, :func:`grant_sockets`).
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from cnn_course.sandbox.kernelspec import ENV_PREFIX, Limits

# Variables sudo keeps for the launcher (its env_reset drops the rest): nbgrader's
# execution mode (it tells an autograde folder) and the resource limits. Not the sandbox
# user: the kernel's group is the course's choice, not the caller's.
KEPT_VARIABLES = (
    "NBGRADER_EXECUTION",
    f"{ENV_PREFIX}LOG_LEVEL",
    *(ENV_PREFIX + f.name.upper() for f in fields(Limits)),
)

# POSIX ACL xattr layout (linux/posix_acl_xattr.h): a version, then (tag, perm, id).
_ACL_VERSION = 2
_USER_OBJ, _USER, _GROUP_OBJ, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x10, 0x20
_UNDEFINED_ID = 0xFFFFFFFF


@dataclass(frozen=True)
class Caller:
    """The grader who ran the launcher through sudo.

    Attributes
    ----------
    uid, gid : int
        The grader's ids (sudo's ``SUDO_UID``, ``SUDO_GID``).
    sudo_pid : int
        The sudo process (the launcher's parent).
    grader_pid : int
        sudo's parent: the grading process. The kernel stops when it is gone.
    """

    uid: int
    gid: int
    sudo_pid: int
    grader_pid: int


def parent_of(pid: int) -> int | None:
    """The parent pid of ``pid`` (from ``/proc``), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may hold spaces: the fields after it are plain.
    return int(stat.rsplit(")", 1)[1].split()[1])


def sudo_caller(environ: Mapping[str, str] = os.environ, ppid: int | None = None) -> Caller | None:
    """The grader this root launcher runs for, if sudo started it for someone else.

    Only a launcher whose parent is sudo itself counts (``SUDO_UID`` alone is set in any
    shell a user opened with ``sudo -i``); a caller who is root needs no grant.
    """
    ppid = os.getppid() if ppid is None else ppid
    try:
        uid, gid = int(environ["SUDO_UID"]), int(environ["SUDO_GID"])
        command = Path(f"/proc/{ppid}/comm").read_text().strip()
    except (KeyError, ValueError, OSError):
        return None
    grader = parent_of(ppid)
    if command != "sudo" or uid == 0 or grader is None:
        return None
    return Caller(uid, gid, ppid, grader)


def caller_gone(caller: Caller) -> bool:
    """True once the grading process behind sudo has ended (sudo itself may live on)."""
    return parent_of(caller.sudo_pid) != caller.grader_pid


@contextlib.contextmanager
def as_caller(caller: Caller | None) -> Iterator[None]:
    """Act with the caller's effective ids (root's are kept as saved ids, and restored)."""
    if caller is None:
        yield
        return
    groups = os.getgroups()
    os.setgroups([])
    os.setegid(caller.gid)
    os.seteuid(caller.uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


def _acl(user: int, user_perm: int, owner_perm: int) -> bytes:
    entries = [
        (_USER_OBJ, owner_perm, _UNDEFINED_ID),
        (_USER, user_perm, user),
        (_GROUP_OBJ, 0, _UNDEFINED_ID),
        (_MASK, user_perm, _UNDEFINED_ID),
        (_OTHER, 0, _UNDEFINED_ID),
    ]
    return struct.pack("<I", _ACL_VERSION) + b"".join(struct.pack("<HHI", *e) for e in entries)


def grant_sockets(private: Path, uid: int) -> None:
    """Let ``uid`` reach the sockets the kernel will bind in ``private``, nothing more.

    The folder gets search permission for ``uid`` (it cannot list it), and a default ACL
    that gives ``uid`` read-write on each entry made in it afterwards: the kernel's
    sockets (the kernel binds them with a umask that keeps these bits). Folders made
    before (the kernel's home, tmp, work) keep their plain mode-700 permissions.
    """
    os.setxattr(private, "system.posix_acl_access", _acl(uid, 0o1, 0o7))
    os.setxattr(private, "system.posix_acl_default", _acl(uid, 0o6, 0o7))


def kernel_argv_via_sudo(wrapper: str | Path, sudo: str = "/usr/bin/sudo") -> list[str]:
    """The kernelspec's command on a server where the graders are not root."""
    return [sudo, "-n", str(wrapper), "-f", "{connection_file}"]


def wrapper_script(python: str | Path) -> str:
    """The root-owned script sudo runs: the launcher of ``python``'s environment, only.

    It takes ``-f CONNECTION_FILE`` first, then only what the course's grading
    configuration passes (:func:`~cnn_course.sandbox.kernelspec.sandbox_config`): an
    absolute ``--course-root`` and whole-number limits. Anything else (another sandbox
    user, an ipykernel option) is refused before the launcher starts.
    """
    limits = "|".join(f"--{f.name.replace('_', '-')}=[0-9]*" for f in fields(Limits))
    return f"""#!/bin/sh
# The cnn-grader kernel for the course's graders, run as root by sudo (cnn_course/sandbox/sudo.py).
set -eu
usage() {{
    echo "usage: $0 -f CONNECTION_FILE [--course-root=/PATH] [--LIMIT=N ...]" >&2
    exit 2
}}
[ "$#" -ge 2 ] && [ "$1" = "-f" ] || usage
connection_file=$2
shift 2
for arg in "$@"; do
    case "$arg" in
        --course-root=/*) ;;
        {limits})
            case "${{arg#*=}}" in *[!0-9]*) usage ;; esac ;;
        *) usage ;;
    esac
done
exec {python} -I -m cnn_course.sandbox.launcher -f "$connection_file" "$@"
"""


def sudoers_rule(group: str, wrapper: str | Path) -> str:
    """The sudoers lines that let ``group`` run the wrapper as root, without a password."""
    kept = " ".join(KEPT_VARIABLES)
    return (
        "# The course's graders start the confined grading kernel (cnn_course/sandbox/sudo.py).\n"
        f'Defaults!{wrapper} env_keep = "{kept}"\n'
        f"%{group} ALL=(root) NOPASSWD: {wrapper}\n"
    )
