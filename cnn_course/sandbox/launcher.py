"""Start an ipykernel confined for grading: ``python -I -m cnn_course.sandbox.launcher -f CF``.

Run by the "cnn-grader" kernelspec. The kernel is hostile territory: it runs the
student's code and the probe (``cnn_probe``), never the reference or the grading engine.

As root, three processes (the trusted ones stay root, and run no student code):

* the **launcher** (this process, the pid the grader signals): makes a private folder for
  the kernel (its ZMQ sockets, ``HOME``), picks the kernel's own uid
  (:func:`~cnn_course.sandbox.permissions.kernel_uid`), unshares a PID namespace, forks
  the supervisor, forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to it, and when it ends
  kills whatever is left of the kernel's uid, removes the private folder and exits with
  the kernel's status. A **reaper**, forked first into a session of its own, does that
  cleanup too if the launcher is SIGKILLed (jupyter_client's ``shutdown_kernel(now=True)``);
* the **supervisor**, PID 1 of the new PID namespace: enters new mount, IPC and network
  namespaces (no interface but a loopback that is down), builds the kernel's view of the
  file system (:func:`plan_view`, :func:`mount_view`): the course root, the repository of
  ``cnn_course`` and ``cnn_solutions``, ``/root`` and ``/run`` are covered with empty
  tmpfs, and only Python, its packages, ``cnn_probe`` and the private folder come back,
  read-only (but the last); ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``HOME`` are private
  tmpfs; the working directory is a private tmpfs mounted over the real
  ``autograded/<student>/<assignment>``, holding copies of its regular files (never
  following links), so the kernel sees the same path and the real folder never changes.
  It then forks the kernel, relays signals to it and reaps orphans; when it exits, the
  kernel removes every process left in the namespace (detached ones included);
* the **kernel**: resource limits, a scrubbed environment, ``setgroups([])``, the group of
  ``cnn-sandbox``, its own uid, ``PR_SET_NO_NEW_PRIVS``, ``PR_SET_PDEATHSIG(SIGKILL)``;
  then it ``exec``-s a fresh Python running ipykernel (``PR_SET_DUMPABLE`` 0 again, since
  ``exec`` resets it), so not even the launcher's modules are in its memory.

Where namespaces are missing (a container without CAP_SYS_ADMIN), the kernel still gets
its own uid (no signalling other kernels), limits, a private working folder of copies
under the private folder, and kill-by-uid at exit; what is lost is logged
(:data:`LOST_WITHOUT_NAMESPACES`).

The kernel's ZMQ sockets must be unix sockets (``KernelManager.transport = "ipc"``),
since TCP cannot cross the network namespace. The grader names them after
``KernelManager.ip``, in its own runtime directory (see
:func:`~cnn_course.sandbox.kernelspec.ipc_prefix`), where the kernel cannot create
files; so the kernel binds them in its private folder, and the paths the grader connects
to become symbolic links to them (made by the launcher, removed by it at exit).

Not root (a developer's laptop): resource limits only, said once in the kernel's log, and
ipykernel runs in this process. Everything the launcher says goes to its stderr, i.e. the
kernel's log.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import logging
import os
import pwd
import resource
import select
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnn_course.sandbox.kernelspec import KERNEL_NAME, Limits
from cnn_course.sandbox.permissions import (
    SANDBOX_USER,
    chown_tree,
    kernel_uid,
    kill_uid,
    private_base,
    remove_owned,
    sweep_private_dirs,
)
from cnn_course.sandbox.sudo import Caller, as_caller, caller_gone, grant_sockets, sudo_caller

log = logging.getLogger("cnn_course.sandbox.launcher")

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x8000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38
MIB = 2**20
# Seconds of CPU between SIGXCPU (the soft limit; catchable) and SIGKILL (the hard one).
CPU_GRACE_SECONDS = 5
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
# The reference and the grading engine, and the course's own code: never in the kernel.
SECRET_PACKAGES = ("cnn_solutions", "cnn_course")
PROBE_PACKAGE = "cnn_probe"
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# Private, writable tmpfs for every kernel; /run is covered read-only (it holds the
# private folders of other kernels, sockets, and /run/lock, writable by anyone).
PRIVATE_TMP = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))
COVERED_ALWAYS = (Path("/run"),)
# Copies of deeper folders of the working directory are not made.
COPY_DEPTH = 8

LOST_WITHOUT_NAMESPACES = {
    "pid": "no PID namespace: the kernel sees the host's processes (it still cannot signal "
    "them: uid of its own); what it detaches is killed by uid when it ends",
    "mount": "no mount namespace: the reference (cnn_solutions), cnn_course and the course "
    "files are readable wherever Unix modes allow (the course modes still apply); the "
    "working folder, /tmp, /var/tmp, /dev/shm have no size or file-count limit (only "
    "RLIMIT_FSIZE per file); the kernel works in a copy under the private folder, at "
    "another path than the notebook's folder",
    "net": "no network namespace: the kernel has the host's network",
    "ipc": "no IPC namespace: the kernel shares System V IPC and POSIX queues with the host",
}

# The kernel keeps only these variables: the grading process's environment may hold
# credentials (CI tokens) that student code must not see.
# The folder nbgrader ran the notebook in, as the kernel is told (see confine_environment).
NOTEBOOK_DIR_VARIABLE = "CNN_NOTEBOOK_DIR"
_KEEP_ENV = {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "NBGRADER_EXECUTION", "MPLBACKEND"}
_KEEP_ENV_PREFIXES = ("LC_", "JPY_", "OMP_", "OPENBLAS_", "MKL_")

# What the kernel execs: a fresh interpreter (``-I``: no working directory on sys.path,
# no PYTHON* variables). argv[1] is the notebook's folder, appended to sys.path last so a
# student's numpy.py never shadows the real one (the quiz imports quiz_variant.py there).
# The sockets are bound with group-class bits (umask 007), which a grader's ACL entry needs
# (cnn_course/sandbox/sudo.py); the private folder is 700 otherwise. Then the umask is back.
KERNEL_BOOTSTRAP = """import ctypes, os, sys
if ctypes.CDLL(None).prctl(4, 0, 0, 0, 0):
    raise SystemExit("cannot clear the dumpable flag")
sys.path.append(sys.argv.pop(1))
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
umask = os.umask(0o007)
app.initialize(sys.argv[1:])
os.umask(umask)
app.start()
"""


class SandboxError(RuntimeError):
    """The kernel cannot be confined as asked; it does not start."""


@dataclass(frozen=True)
class Identity:
    """Who the kernel runs as: a uid of its own, the sandbox user's group, no passwd entry."""

    uid: int
    gid: int
    name: str


@dataclass
class View:
    """The kernel's file system, planned as root before anything is mounted.

    Attributes
    ----------
    covers : dict
        Folder -> tmpfs options: each is covered by an empty tmpfs.
    keeps : dict
        Path -> writable: shown again (bind-mounted, read-only unless writable) inside
        the innermost cover above it.
    """

    covers: dict[Path, str] = field(default_factory=dict)
    keeps: dict[Path, bool] = field(default_factory=dict)


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


# --------------------------------------------------------------------------- what is where


def package_dirs(names: Iterable[str] = SECRET_PACKAGES) -> list[Path]:
    """The folders of top-level packages ``names``, wherever installed, without importing them.

    ``find_spec`` of a top-level name runs no code of the package.
    """
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            found.extend(Path(entry) for entry in spec.submodule_search_locations)
        elif spec.origin:
            found.append(Path(spec.origin))  # a single-file module
    return [Path(os.path.realpath(path)) for path in found if os.path.exists(path)]


def needed_paths(extra: Iterable[Path] = ()) -> set[Path]:
    """What the kernel must read: this Python, its ``sys.path`` folders, the probe, ``extra``.

    Both as written and with links resolved (a venv's ``bin/python`` links to the base).
    """
    paths = {Path(sys.base_prefix), Path(sys.base_exec_prefix), Path(sys.prefix), *extra}
    paths.add(Path(sys.executable).parent)
    paths.update(Path(entry) for entry in sys.path if entry and os.path.isdir(entry))
    paths.update(package_dirs([PROBE_PACKAGE]))
    found = {Path(os.path.abspath(p)) for p in paths}
    return found | {Path(os.path.realpath(p)) for p in found}


def _can_enter(path: Path, uid: int, gid: int) -> bool:
    """Whether ``uid`` (in group ``gid`` only) may traverse directory ``path``."""
    info = os.stat(path)
    if info.st_uid == uid:
        return bool(info.st_mode & 0o100)
    if info.st_gid == gid:
        return bool(info.st_mode & 0o010)
    return bool(info.st_mode & 0o001)


def blocked_ancestor(path: Path, who: Identity | pwd.struct_passwd) -> Path | None:
    """The outermost folder on the way to ``path`` (itself included) ``who`` cannot enter."""
    uid, gid = _ids(who)
    for folder in [*reversed(path.parents), path]:
        if folder.is_dir() and not _can_enter(folder, uid, gid):
            return folder
    return None


def _ids(who: Identity | pwd.struct_passwd) -> tuple[int, int]:
    if isinstance(who, Identity):
        return who.uid, who.gid
    return who.pw_uid, who.pw_gid


def _inside(path: Path, folders: Iterable[Path]) -> bool:
    return any(path.is_relative_to(folder) for folder in folders)


def plan_view(
    secrets: set[Path],
    packages: list[Path],
    keeps: set[Path],
    who: Identity | pwd.struct_passwd,
    writable: Iterable[Path] = (),
) -> View:
    """Plan the kernel's file system: what to cover with an empty tmpfs, what to show again.

    Parameters
    ----------
    secrets : set of Path
        Folders the kernel must not see (the course root, the packages' repository), but
        for the ``keeps`` inside them (a venv inside the course root).
    packages : list of Path
        Package folders that must vanish even from inside a kept folder (``cnn_solutions``
        installed into site-packages): their parent is covered, and every other entry of
        it shown again.
    keeps : set of Path
        Paths the kernel needs (:func:`needed_paths`). One that contains a secret or is
        inside a package folder is dropped: it would show the secret again.
    who : Identity
        The kernel's uid and gid: folders on the way to a keep that it cannot enter
        (``/root``, mode 700, above a pyenv Python) are covered too.
    writable : iterable of Path
        Keeps shown read-write (the private folder, for the ZMQ sockets).
    """
    view = View()
    writable = set(writable)
    kept = {
        path
        for path in keeps | writable
        if not any(secret.is_relative_to(path) for secret in secrets)
        and not _inside(path, packages)
        and os.path.lexists(path)
    }
    for secret in secrets:
        view.covers[secret] = "mode=755,size=1m"
    for package in packages:
        parent = package.parent
        if _inside(package, secrets) and not _inside(package, kept):
            continue  # gone with its covered repository
        if parent == Path("/"):
            raise SandboxError(f"cannot hide {package}, a folder of /")
        view.covers[parent] = "mode=755,size=1m"
        for entry in os.scandir(parent):
            path = Path(entry.path)
            if path not in packages:
                view.keeps[path] = False
    for path in kept:
        view.keeps[path] = path in writable
    for path in sorted(kept):
        blocker = blocked_ancestor(path, who)
        if blocker == Path("/"):
            raise SandboxError(f"the kernel cannot enter /, so not {path}")
        if blocker is not None and blocker != path:
            view.covers.setdefault(blocker, "mode=755,size=1m")
    return view


def _owner_cover(path: Path, covers: Iterable[Path]) -> Path | None:
    """The innermost cover strictly above ``path``."""
    above = [cover for cover in covers if path != cover and path.is_relative_to(cover)]
    return max(above, key=lambda cover: len(cover.parts), default=None)


def mount_view(view: View) -> dict[Path, list[Path]]:
    """Mount ``view`` in this process's (private) mount namespace.

    Every kept path is opened (``O_PATH``) before anything is covered, then each cover,
    outermost first, gets its tmpfs and, inside it, the kept paths it hid, bind-mounted
    from those handles (a link is made again as a link). A cover hidden by an outer one
    and not shown again is skipped.

    Returns
    -------
    dict
        Cover -> the kept paths shown inside it.
    """
    covers = sorted(view.covers, key=lambda cover: len(cover.parts))
    groups: dict[Path, list[Path]] = {}
    for path in sorted(view.keeps):
        owner = _owner_cover(path, covers)
        if owner is None or path in view.covers:
            continue  # visible as it is
        group = groups.setdefault(owner, [])
        if not any(path.is_relative_to(other) for other in group):
            group.append(path)
    handles: dict[Path, int | str] = {}
    for group in groups.values():
        for path in group:
            if os.path.islink(path):
                handles[path] = os.readlink(path)
            else:
                handles[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        for cover in covers:
            if groups.get(cover) and not os.path.lexists(cover):
                make_path(cover)  # hidden by an outer cover, but holds something kept
            if not os.path.isdir(cover) or os.path.islink(cover):
                continue
            mount_tmpfs(cover, view.covers[cover])
            for path in groups.get(cover, []):
                _show_again(cover, path, handles[path], view.keeps[path])
    finally:
        for handle in handles.values():
            if isinstance(handle, int):
                os.close(handle)
    return groups


def make_path(path: Path) -> None:
    """``mkdir -p`` with mode 755 whatever the umask (in a cover's tmpfs, root's)."""
    missing = [folder for folder in [*reversed(path.parents), path] if not folder.exists()]
    for folder in missing:
        folder.mkdir(mode=0o755)
        os.chmod(folder, 0o755)


def _make_parents(cover: Path, path: Path) -> None:
    for folder in reversed(path.relative_to(cover).parents):
        if str(folder) != ".":
            (cover / folder).mkdir(mode=0o755, exist_ok=True)
            os.chmod(cover / folder, 0o755)  # whatever the umask


def _show_again(cover: Path, path: Path, handle: int | str, writable: bool) -> None:
    _make_parents(cover, path)
    if isinstance(handle, str):
        os.symlink(handle, path)
        return
    if stat.S_ISDIR(os.fstat(handle).st_mode):
        path.mkdir(mode=0o755, exist_ok=True)
    else:
        path.touch(mode=0o644)
    _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC, None)
    if not writable:
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        _mount(None, path, None, flags, None)


def expose(
    paths: set[Path], who: Identity | pwd.struct_passwd, optional: frozenset[Path] = frozenset()
) -> dict[Path, list[Path]]:
    """Make ``paths`` reachable for ``who`` in a new private mount namespace of this process.

    A Python installed in root's home (pyenv, conda), behind ``/root`` (mode 700), is out
    of an unprivileged user's reach: the blocking folder is covered by an empty tmpfs in
    which only the needed folders reappear. For tests and helpers that run something as
    another user; the kernel's own view is :func:`plan_view`.

    Parameters
    ----------
    optional : frozenset of Path
        Paths not worth failing for when mount namespaces are unavailable.

    Returns
    -------
    dict
        Blocking folder -> folders shown inside it (empty if nothing was blocked).
    """
    view = plan_view(set(), [], set(), who, writable=paths)  # as they were, but reachable
    if not view.covers:
        return {}
    problem = unshare_mounts()
    if problem is not None:
        required = sorted(str(p) for p in paths if p not in optional and blocked_ancestor(p, who))
        if required:
            raise SandboxError(
                f"the kernel cannot reach {required} (blocked by "
                f"{sorted(map(str, view.covers))}) and has no mount namespace: {problem}"
            )
        return {}
    return mount_view(view)


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


# --------------------------------------------------------------------------- sockets


def _link_socket(link: Path, target: Path) -> None:
    """Symlink ``link`` to ``target``; a dangling link is a dead kernel's, and replaced."""
    try:
        link.symlink_to(target)
    except FileExistsError:
        if not (link.is_symlink() and not link.exists()):
            raise SandboxError(f"{link} is in use by another kernel") from None
        link.unlink()
        link.symlink_to(target)


def socket_links(connection_file: Path) -> list[Path]:
    """The socket paths the grader connects to, as named in its connection file."""
    info = json.loads(connection_file.read_text())
    return [Path(f"{info['ip']}-{info[name]}") for name in PORT_NAMES]


def relocate_sockets(connection_file: Path, private: Path, caller: Caller | None = None) -> Path:
    """Make the kernel bind its unix sockets in ``private``, reachable at the grader's paths.

    Parameters
    ----------
    connection_file : Path
        The grader's connection file (root's, mode 600).
    private : Path
        This kernel's private folder.
    caller : Caller, optional
        A grader who is not root (through sudo): their connection file is read, and the
        links made, with their permissions only.

    Returns
    -------
    Path
        A copy of the connection file whose ``ip`` (the socket path prefix) points into
        ``private``; each path the grader will connect to is a symlink to its socket.
    """
    with as_caller(caller):
        info = json.loads(connection_file.read_text())
    if info.get("transport") != "ipc":
        raise SandboxError(
            f"the {KERNEL_NAME} kernel runs without network as root, so it needs unix "
            'sockets: set c.KernelManager.transport = "ipc" (see sandbox_config())'
        )
    if not os.path.isabs(info["ip"]):
        raise SandboxError(
            f"ipc path prefix {info['ip']!r} is relative, so the grader and the kernel "
            "would look for the sockets in different folders: set c.KernelManager.ip "
            "(see sandbox_config())"
        )
    prefix = private / "kernel"
    with as_caller(caller):
        for name in PORT_NAMES:
            _link_socket(Path(f"{info['ip']}-{info[name]}"), Path(f"{prefix}-{info[name]}"))
    copy = private / "connection.json"
    copy.write_text(json.dumps(dict(info, ip=str(prefix))))
    os.chmod(copy, 0o600)
    return copy


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


# --------------------------------------------------------------------------- processes


def _die_with_parent(alive_fd: int | None) -> None:
    """SIGKILL when the parent ends; exit now if it already has (its pipe is at EOF)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if alive_fd is not None and select.select([alive_fd], [], [], 0)[0]:
        os._exit(1)


def _forward(target: list[int]) -> None:
    def handler(signum: int, _frame: object) -> None:
        if target:
            try:
                os.kill(target[0], signum)
            except ProcessLookupError:
                pass

    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, handler)


def _exit_like(status: int) -> None:
    """End this process as a child with wait status ``status`` ended."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if signum not in (signal.SIGKILL, signal.SIGSTOP):  # these have no handler to reset
            signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
        os.kill(os.getpid(), signum)
        os._exit(128 + signum)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def reaper(alive_fd: int, plan: Plan) -> None:
    """Wait, in a session of its own, for the launcher to be done or dead; then clean up."""
    os.setsid()
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    while os.read(alive_fd, 1):
        pass
    cleanup(plan)


def cleanup(plan: Plan) -> None:
    """Kill what is left of the kernel's uid, its files in shared folders, its private folder."""
    kill_uid(plan.identity.uid)
    remove_owned(plan.identity.uid)  # without a mount namespace, /tmp was the host's
    shutil.rmtree(plan.private, ignore_errors=True)
    with as_caller(plan.caller):
        for link in plan.links:
            if link.is_symlink() and os.readlink(link).startswith(str(plan.private)):
                link.unlink(missing_ok=True)


def supervise(plan: Plan, alive_fd: int, status_fd: int, pid_namespace: bool) -> None:
    """The supervisor (see the module doc): namespaces, the view, the kernel, its status."""
    os.setsid()  # the grader's killpg(SIGINT) reaches the launcher only, which forwards
    _die_with_parent(alive_fd)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans come here, not to the host's init
    lost = list(plan.lost)
    if unshare_mounts() is not None:
        lost.append("mount")
    for name, flag in (("net", CLONE_NEWNET), ("ipc", CLONE_NEWIPC)):
        if unshare(flag) is not None:
            lost.append(name)
    for name in lost:
        log.warning("protection lost: %s", LOST_WITHOUT_NAMESPACES[name])
    ident, limits = plan.identity, plan.limits
    with as_caller(plan.caller):
        source_fd = os.open(plan.cwd, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    if "mount" in lost:
        workdir, tmp = plan.private / "work", plan.private / "tmp"
        blocked = [str(p) for p in plan.view.keeps if blocked_ancestor(p, ident)]
        if blocked:
            raise SandboxError(
                f"the kernel cannot reach {blocked} and has no mount namespace: "
                "Python must be installed where its group may read it"
            )
    else:
        workdir, tmp = plan.cwd, Path("/tmp")
        for cover, inside in mount_view(plan.view).items():
            log.info("%s hidden but for %s", cover, ", ".join(map(str, inside)))
        home = plan.private / "home"
        mount_tmpfs(home, scratch_options(limits, 0o700, ident.uid, ident.gid))
        make_path(workdir)
        mount_tmpfs(workdir, scratch_options(limits, 0o700, ident.uid, ident.gid))
        if pid_namespace:
            _mount("proc", Path("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    if plan.copy_workdir:
        for problem in copy_files(source_fd, workdir, ident.uid, ident.gid, limits, plan.caller):
            log.warning("not copied into the kernel's folder: %s", problem)
    os.close(source_fd)
    kernel_pid: list[int] = []
    _forward(kernel_pid)
    me = os.getpid()  # 1 in a PID namespace
    pid = os.fork()
    if pid == 0:
        try:
            run_kernel(plan, workdir, tmp, me)
        except BaseException as error:  # noqa: BLE001 -- a forked child must not return
            log.critical("cannot start a confined kernel: %s", error)
        os._exit(1)
    kernel_pid.append(pid)
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            status = 1 << 8
            break
        if done == pid:
            break
    os.write(status_fd, str(status).encode())
    os._exit(0)


def confine_environment(identity: Identity, home: Path, tmp: Path, notebook_dir: Path) -> None:
    """Keep only harmless variables; HOME, TMPDIR and the user's name need no passwd entry.

    ``NOTEBOOK_DIR_VARIABLE`` names the folder nbgrader ran the notebook in: without a
    mount namespace the kernel works in a private copy elsewhere, and the quiz reads the
    submitter's id from that folder's path (``autograded/<student>/<assignment>``).
    """
    kept = {
        key: value
        for key, value in os.environ.items()
        if key in _KEEP_ENV or key.startswith(_KEEP_ENV_PREFIXES)
    }
    # The grader's pid means nothing in here: 1 tells ipykernel not to poll its parent
    # (the supervisor's death kills it anyway) and not to print its terminal banner.
    kept["JPY_PARENT_PID"] = "1"
    os.environ.clear()
    os.environ.update(kept)
    os.environ.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        USER=identity.name,
        LOGNAME=identity.name,
        SHELL="/bin/sh",
        **{NOTEBOOK_DIR_VARIABLE: str(notebook_dir)},
    )
    tempfile.tempdir = None  # recomputed from TMPDIR on next use


def drop_privileges(identity: Identity, parent: int) -> None:
    """Become ``identity`` for good: groups, gid, uid, then forbid gaining privileges.

    The dumpable flag and the parent-death signal are set after ``setuid``, which clears
    both. ``parent`` is the supervisor's pid as this process sees it: if it is already
    gone, the death signal would never come.
    """
    os.setgroups([])
    os.setresgid(identity.gid, identity.gid, identity.gid)
    os.setresuid(identity.uid, identity.uid, identity.uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SandboxError("privileges could be regained after setuid")


def run_kernel(plan: Plan, workdir: Path, tmp: Path, parent: int) -> None:
    """The kernel process: limits, environment, uid, then exec ipykernel in a fresh Python."""
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    os.chdir(workdir)  # after the mounts: the old handle is the real folder underneath
    apply_rlimits(plan.limits, per_user=True)
    confine_environment(plan.identity, plan.private / "home", tmp, plan.cwd)
    drop_privileges(plan.identity, parent)
    argv = [sys.executable, "-I", "-c", KERNEL_BOOTSTRAP, str(workdir)]
    argv += ["-f", str(plan.connection_file), "--HistoryManager.hist_file=:memory:"]
    os.execv(sys.executable, argv + plan.kernel_args)


def wait_unless_orphaned(
    pid: int, grader: int, interval: float = 0.5, caller: Caller | None = None
) -> int:
    """Wait for child ``pid``; SIGKILL it if this process's parent ``grader`` goes away.

    Through sudo (``caller``), the parent is sudo, which outlives the grading process
    behind it: that process's end counts too.

    ipykernel stops by itself when its parent dies (``JPY_PARENT_PID``), but the kernel's
    parent is the supervisor: a grader that crashed would leave the kernel running. The
    parent-death signal is no remedy here, since it follows the thread that forked.

    Returns
    -------
    int
        The child's wait status.
    """
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if os.getppid() != grader or (caller is not None and caller_gone(caller)):
            log.warning("the grader (pid %d) is gone: stopping the kernel", grader)
            os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        time.sleep(interval)


def run_as_root(plan: Plan) -> None:
    """The launcher's part: reaper, PID namespace, supervisor; then wait for both.

    The reaper, forked before the PID namespace, does the cleanup: once the namespace's
    init is gone, this process cannot fork any more (``ENOMEM``).
    """
    alive_r, alive_w = os.pipe()
    reaper_pid = os.fork()
    if reaper_pid == 0:
        try:
            os.close(alive_w)
            reaper(alive_r, plan)
        finally:
            os._exit(0)
    os.close(alive_r)
    pid_namespace = unshare(CLONE_NEWPID) is None
    if not pid_namespace:
        plan.lost.append("pid")
    status_r, status_w = os.pipe()
    launcher_r, launcher_w = os.pipe()  # at EOF when this process is gone
    child: list[int] = []
    _forward(child)
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (status_r, alive_w, launcher_w):
                os.close(fd)  # the reaper must see EOF when the launcher ends
            supervise(plan, launcher_r, status_w, pid_namespace)
        except BaseException as error:  # noqa: BLE001 -- a forked child must not return
            log.critical("cannot start a confined kernel: %s", error)
        os._exit(1)
    child.append(pid)
    os.close(status_w)
    os.close(launcher_r)
    supervisor_status = wait_unless_orphaned(pid, plan.grader, caller=plan.caller)
    report = b""
    while chunk := os.read(status_r, 64):
        report += chunk
    os.close(alive_w)  # the reaper cleans up now
    os.waitpid(reaper_pid, 0)
    os.close(launcher_w)
    _exit_like(int(report) if report else supervisor_status)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """The launcher's own options; everything else is for ipykernel."""
    parser = argparse.ArgumentParser(prog="cnn_course.sandbox.launcher", add_help=False)
    parser.add_argument("-f", dest="connection_file", required=True)
    parser.add_argument("--course-root", type=Path, default=None)
    parser.add_argument("--user", default=None)
    Limits.add_arguments(parser)
    return parser.parse_known_args(list(argv))


def _setup_log() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(f"[%(levelname).1s %(asctime)s {KERNEL_NAME}] %(message)s")
    )
    log.addHandler(handler)
    log.setLevel(os.environ.get("CNN_SANDBOX_LOG_LEVEL", "WARNING").upper())
    log.propagate = False


def run_unprivileged(limits: Limits, connection_file: str, kernel_args: list[str]) -> None:
    """Not root: resource limits only, and ipykernel in this process."""
    apply_rlimits(limits, per_user=False)
    log.warning(
        "running as uid %d, not root: resource limits only (%s); no separate user, "
        "no namespaces, the course and the reference readable",
        os.geteuid(),
        limits,
    )
    # The notebook's folder is importable (the quiz imports quiz_variant.py beside it), but
    # last, so a student's numpy.py or ipykernel/ never shadows a real module.
    sys.path.append(os.getcwd())
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(
        argv=["-f", connection_file, "--HistoryManager.hist_file=:memory:", *kernel_args]
    )


def grader_at_start(parent: int, environ: Mapping[str, str] = os.environ) -> Caller | None:
    """Check that the grading process behind ``parent`` still runs; the caller, if sudo.

    ``parent`` is this process's parent, read first thing: the launcher stops its kernel
    once its parent changes (:func:`wait_unless_orphaned`), and a parent read after the
    grader died would already be init, so the kernel would run on for good.
    jupyter_client names the grader in ``JPY_PARENT_PID``: a parent that is another
    process (through sudo, sudo's parent must be the grader) means the grader is gone.

    Raises
    ------
    SandboxError
        If the grader is gone already.
    """
    caller = sudo_caller(environ, parent)
    grader = caller.grader_pid if caller is not None else parent
    named = environ.get("JPY_PARENT_PID", "")
    if os.getppid() != parent or grader == 1 or (named.isdigit() and int(named) != grader):
        raise SandboxError(f"the grader (pid {named or grader}) is gone before the kernel started")
    return caller


def main(argv: Sequence[str] | None = None) -> None:
    """Confine, then run ipykernel (see the module doc)."""
    parent = os.getppid()  # first of all: see grader_at_start
    _setup_log()
    args, kernel_args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        limits = Limits.resolve(args, os.environ)
        if os.geteuid() != 0:
            run_unprivileged(limits, args.connection_file, kernel_args)
            return
        caller = grader_at_start(parent)
        plan = make_plan(args, kernel_args, limits, parent, caller)
    except (SandboxError, OSError, ValueError) as error:
        log.critical("cannot start a confined kernel: %s", error)
        raise SystemExit(1) from None
    run_as_root(plan)


if __name__ == "__main__":
    main()
