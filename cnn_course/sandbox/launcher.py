"""Start an ipykernel confined for grading: ``python -I -m cnn_course.sandbox.launcher -f CF``.

Run by the "cnn-grader" kernelspec. Before any student code runs, in this order:

1. resource limits (``setrlimit``: address space, CPU time, open files, file size, no
   core dumps; see :class:`~cnn_course.sandbox.kernelspec.Limits`);
2. as root, a new, empty network namespace (``unshare(CLONE_NEWNET)``): no interface
   but a loopback that is down, so no connection to anywhere, not even 127.0.0.1.
   It must come before any thread starts (numpy's BLAS starts some), since a namespace
   belongs to the thread that unshares it;
3. ``cnn_solutions.grading`` and its topic modules are imported, so the grader's
   references to numpy are taken before a student can monkeypatch anything;
4. as root: a private folder for this kernel (``HOME``, ``TMPDIR``, its ZMQ sockets), the
   working directory ``autograded/<student>/<assignment>`` handed to the sandbox user;
   if Python lives where that user cannot go (pyenv or conda under ``/root``), a private
   mount namespace shows it just those folders (:func:`expose`); the environment is
   reduced to a few harmless variables; then ``setgroups``/``setgid``/``setuid`` to the
   sandbox user, with no way back (``PR_SET_NO_NEW_PRIVS``);
5. ipykernel starts in this process.

The kernel's ZMQ sockets must be unix sockets (``KernelManager.transport = "ipc"``),
since TCP cannot cross the network namespace. The grader names them after
``KernelManager.ip``, in its own runtime directory (see
:func:`~cnn_course.sandbox.kernelspec.ipc_prefix`), where the sandbox user cannot create
files; so the kernel binds them in its private folder, and the paths the grader connects
to become symbolic links to them.

Not root (a developer's laptop): step 1 and 3 only, said once in the kernel's log.
Everything the launcher says goes to its stderr, i.e. the kernel's log, before ipykernel
starts capturing output for cells.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import importlib
import json
import logging
import os
import pwd
import resource
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cnn_course.sandbox.kernelspec import KERNEL_NAME, Limits
from cnn_course.sandbox.permissions import (
    SANDBOX_USER,
    chown_tree,
    private_base,
    sweep_private_dirs,
)

log = logging.getLogger("cnn_course.sandbox.launcher")

CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
MIB = 2**20
# Seconds of CPU between SIGXCPU (the soft limit; catchable) and SIGKILL (the hard one).
CPU_GRACE_SECONDS = 5
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
PREIMPORT = "cnn_solutions.grading"

# The kernel keeps only these variables: the grading process's environment may hold
# credentials (CI tokens) that student code must not see.
_KEEP_ENV = {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "NBGRADER_EXECUTION", "MPLBACKEND"}
_KEEP_ENV_PREFIXES = ("LC_", "JPY_", "OMP_", "OPENBLAS_", "MKL_")


class SandboxError(RuntimeError):
    """The kernel cannot be confined as asked; it does not start."""


@dataclass(frozen=True)
class Sandbox:
    """What the launcher prepared, as root, for a kernel that will run as ``account``."""

    account: pwd.struct_passwd
    private: Path
    connection_file: Path


# --------------------------------------------------------------------------- limits


def apply_rlimits(limits: Limits, *, per_user: bool) -> dict[str, tuple[int, int]]:
    """Lower this process's resource limits; returns what was set, by name.

    Hard limits are lowered too, so that student code cannot raise them again. A limit
    is never raised above the current hard limit (a non-root user cannot).

    Parameters
    ----------
    per_user : bool
        Also set ``RLIMIT_NPROC``, which counts every process of the (sandbox) user.
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


# --------------------------------------------------------------------------- root only


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def unshare_network() -> str | None:
    """Move this thread into a new network namespace (Python 3.11 has no ``os.unshare``).

    Returns
    -------
    str or None
        ``None`` on success, else why not (e.g. a container without CAP_SYS_ADMIN).
    """
    if _libc().unshare(CLONE_NEWNET) != 0:
        return os.strerror(ctypes.get_errno())
    return None


def unshare_mounts() -> str | None:
    """Enter a private mount namespace, so that mounts made here stay in this process.

    Returns
    -------
    str or None
        ``None`` on success, else why not.
    """
    libc = _libc()
    if libc.unshare(CLONE_NEWNS) != 0:
        return os.strerror(ctypes.get_errno())
    # Without this, mounts would propagate back to the host (systemd makes / shared).
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise SandboxError(f"cannot make mounts private: {os.strerror(ctypes.get_errno())}")
    return None


def needed_paths(cwd: Path) -> set[Path]:
    """Folders the kernel reads after dropping privileges: Python, its packages, ``cwd``."""
    paths = {Path(sys.base_prefix), Path(sys.base_exec_prefix), Path(sys.prefix), cwd}
    paths.update(Path(entry) for entry in sys.path if entry and os.path.isdir(entry))
    for name, module in list(sys.modules.items()):
        if "." not in name:
            paths.update(Path(entry) for entry in getattr(module, "__path__", None) or ())
    found = {Path(os.path.abspath(p)) for p in paths}
    return found | {p.resolve() for p in found}


def _can_enter(path: Path, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` (with no supplementary groups) may traverse directory ``path``."""
    info = os.stat(path)
    if info.st_uid == account.pw_uid:
        return bool(info.st_mode & 0o100)
    if info.st_gid == account.pw_gid:
        return bool(info.st_mode & 0o010)
    return bool(info.st_mode & 0o001)


def blocked_ancestor(path: Path, account: pwd.struct_passwd) -> Path | None:
    """The outermost folder on the way to ``path`` (itself included) ``account`` cannot enter."""
    for folder in [*reversed(path.parents), path]:
        if not _can_enter(folder, account):
            return folder
    return None


def expose(
    paths: set[Path], account: pwd.struct_passwd, optional: frozenset[Path] = frozenset()
) -> dict[Path, list[Path]]:
    """Make ``paths`` reachable for ``account`` in this (private) mount namespace.

    A Python installed in root's home (pyenv, conda), behind ``/root`` (mode 700), is out
    of the sandbox user's reach. Each such blocking folder is covered by an empty tmpfs
    in which only the needed folders reappear, bind-mounted: the rest of it (root's
    files) stays hidden, and nothing changes outside this process.

    Parameters
    ----------
    optional : frozenset of Path
        Paths worth exposing but not worth failing for when mount namespaces are not
        available (a container without CAP_SYS_ADMIN): the working directory, already
        entered, works with relative paths anyway.

    Returns
    -------
    dict
        Blocking folder -> folders mounted inside it (empty if nothing was blocked, or
        if only optional paths were and no mount namespace was available).
    """
    by_blocker: dict[Path, list[Path]] = {}
    for path in sorted(paths):
        blocker = blocked_ancestor(path, account)
        if blocker is None:
            continue
        if blocker == Path("/"):
            raise SandboxError(f"the sandbox user cannot enter /, so not {path}")
        inside = by_blocker.setdefault(blocker, [])
        if not any(path.is_relative_to(outer) for outer in inside):
            inside.append(path)
    if not by_blocker:
        return {}
    problem = unshare_mounts()
    if problem is not None:
        required = [str(p) for inside in by_blocker.values() for p in inside if p not in optional]
        if required:
            raise SandboxError(
                f"the sandbox user cannot reach {required} (blocked by "
                f"{sorted(map(str, by_blocker))}) and has no mount namespace: {problem}"
            )
        log.info("working directory reachable by relative paths only: %s", problem)
        return {}
    libc = _libc()
    for blocker, inside in by_blocker.items():
        handles = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in inside}
        _mount(libc, b"tmpfs", blocker, b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=755,size=1m")
        for path, handle in handles.items():
            for folder in [*reversed(path.relative_to(blocker).parents), path.relative_to(blocker)]:
                (blocker / folder).mkdir(mode=0o755, exist_ok=True)
                os.chmod(blocker / folder, 0o755)  # whatever the umask
            _mount(libc, f"/proc/self/fd/{handle}".encode(), path, None, MS_BIND | MS_REC, None)
            os.close(handle)
    return by_blocker


def _mount(
    libc: ctypes.CDLL,
    source: bytes,
    target: Path,
    fstype: bytes | None,
    flags: int,
    data: bytes | None,
) -> None:
    if libc.mount(source, bytes(target), fstype, flags, data) != 0:
        error = os.strerror(ctypes.get_errno())
        raise SandboxError(f"mount {source!r} on {target} failed: {error}")


def preimport() -> list[str]:
    """Import ``cnn_solutions.grading`` and every topic module it lists.

    Returns
    -------
    list of str
        ``"module: error"`` for each module that failed to import (a hidden test that
        needs it fails visibly in its cell; the kernel still starts).
    """
    problems = []
    try:
        grading = importlib.import_module(PREIMPORT)
    except Exception as error:  # noqa: BLE001 -- reported in the kernel log
        return [f"{PREIMPORT}: {error!r}"]
    for name in getattr(grading, "TOPIC_MODULES", ()):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # an assignment not written yet is not a problem
                problems.append(f"{name}: {error!r}")
        except Exception as error:  # noqa: BLE001
            problems.append(f"{name}: {error!r}")
    return problems


def _is_autograde_dir(cwd: Path, course_root: Path | None) -> bool:
    """Whether ``cwd`` is ``autograded/<student>/<assignment>`` (of ``course_root``)."""
    autograded = cwd.parent.parent
    if course_root is not None:
        return autograded == (course_root / "autograded").resolve()
    return autograded.name == "autograded" and os.environ.get("NBGRADER_EXECUTION") == "autograde"


def claim_workdir(cwd: Path, account: pwd.struct_passwd, course_root: Path | None) -> bool:
    """Give the kernel's working directory to the sandbox user, if it is an autograde one.

    Its parents stay root's: ``autograded/<student>`` becomes 700 (nbgrader creates it
    755 when it first grades a student), ``autograded/`` loses read access for others.

    Returns
    -------
    bool
        Whether the directory was handed over.
    """
    if not _is_autograde_dir(cwd, course_root):
        return False
    student_dir, autograded = cwd.parent, cwd.parent.parent
    os.chmod(student_dir, 0o700)
    os.chmod(autograded, os.stat(autograded).st_mode & 0o7711)
    chown_tree(cwd, account.pw_uid, account.pw_gid)
    os.chmod(cwd, 0o700)
    return True


def _link_socket(link: Path, target: Path) -> None:
    """Symlink ``link`` to ``target``; a dangling link is a dead kernel's, and replaced."""
    try:
        link.symlink_to(target)
    except FileExistsError:
        if not (link.is_symlink() and not link.exists()):
            raise SandboxError(f"{link} is in use by another kernel") from None
        link.unlink()
        link.symlink_to(target)


def relocate_sockets(connection_file: Path, private: Path) -> Path:
    """Make the kernel bind its unix sockets in ``private``, reachable at the grader's paths.

    Parameters
    ----------
    connection_file : Path
        The grader's connection file (root's, mode 600).
    private : Path
        This kernel's private folder.

    Returns
    -------
    Path
        A copy of the connection file whose ``ip`` (the socket path prefix) points into
        ``private``; each path the grader will connect to is a symlink to its socket.
    """
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
    for name in PORT_NAMES:
        _link_socket(Path(f"{info['ip']}-{info[name]}"), Path(f"{prefix}-{info[name]}"))
    copy = private / "connection.json"
    copy.write_text(json.dumps(dict(info, ip=str(prefix))))
    os.chmod(copy, 0o600)
    return copy


def prepare(account: pwd.struct_passwd, connection_file: Path, course_root: Path | None) -> Sandbox:
    """Everything that needs root before privileges are dropped (see the module doc)."""
    base = private_base()
    sweep_private_dirs(base)
    private = Path(tempfile.mkdtemp(prefix=f"k{os.getpid()}-", dir=base))
    for sub in ("home", "tmp"):
        (private / sub).mkdir(mode=0o700)
    copy = relocate_sockets(connection_file, private)
    chown_tree(private, account.pw_uid, account.pw_gid)
    if not claim_workdir(Path.cwd(), account, course_root):
        log.warning("%s is not an autograde directory: it stays read-only", Path.cwd())
    return Sandbox(account, private, copy)


def confine_environment(sandbox: Sandbox) -> None:
    """Keep only harmless variables; point HOME and TMPDIR into the private folder."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if key in _KEEP_ENV or key.startswith(_KEEP_ENV_PREFIXES)
    }
    os.environ.clear()
    os.environ.update(kept)
    os.environ.update(
        HOME=str(sandbox.private / "home"),
        TMPDIR=str(sandbox.private / "tmp"),
        USER=sandbox.account.pw_name,
        LOGNAME=sandbox.account.pw_name,
        SHELL="/bin/sh",
    )
    tempfile.tempdir = None  # recomputed from TMPDIR on next use


def drop_privileges(account: pwd.struct_passwd) -> None:
    """Become ``account`` for good: groups, gid, uid, then forbid gaining privileges.

    After ``setuid`` the kernel clears the process's "dumpable" flag, so other processes
    of the sandbox user (another student's kernel) cannot ptrace it or read its
    ``/proc/<pid>`` files; ``PR_SET_DUMPABLE`` makes that explicit.
    """
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    libc = _libc()
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) or libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0):
        raise SandboxError(f"prctl failed: {os.strerror(ctypes.get_errno())}")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SandboxError("privileges could be regained after setuid")


def _remove_private(private: Path) -> None:
    shutil.rmtree(private, ignore_errors=True)


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


def confine(args: argparse.Namespace) -> Path:
    """Steps 1-4 of the module doc; returns the connection file ipykernel should use."""
    limits = Limits.resolve(args, os.environ)
    connection_file = Path(args.connection_file)
    if os.geteuid() != 0:
        apply_rlimits(limits, per_user=False)
        log.warning(
            "running as uid %d, not root: resource limits only (%s); no separate user, "
            "no network isolation",
            os.geteuid(),
            limits,
        )
        for problem in preimport():
            log.error("pre-import failed: %s", problem)
        return connection_file
    user = args.user or os.environ.get("CNN_SANDBOX_USER") or SANDBOX_USER
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        raise SandboxError(
            f"no user {user!r}: run `python -m cnn_course.sandbox install` as root"
        ) from None
    apply_rlimits(limits, per_user=True)
    no_network = unshare_network()
    if no_network:
        log.warning(
            "network isolation unavailable (unshare: %s); the kernel has network", no_network
        )
    for problem in preimport():
        log.error("pre-import failed: %s", problem)
    sandbox = prepare(account, connection_file, args.course_root)
    atexit.register(_remove_private, sandbox.private)
    cwd = Path.cwd()
    for blocker, inside in expose(needed_paths(cwd), account, frozenset({cwd})).items():
        log.info("%s hidden but for %s", blocker, ", ".join(map(str, inside)))
    confine_environment(sandbox)
    drop_privileges(account)
    log.info("confined: user %s, %s, network %s", user, limits, no_network or "isolated")
    return sandbox.connection_file


def notebook_folder() -> str:
    """The ``sys.path`` entry for the kernel's working directory (the notebook's folder).

    Its absolute path, if the kernel can read it. Without a mount namespace to bring it
    into view (a container without CAP_SYS_ADMIN), that path crosses root's 700
    ``autograded/<student>``: ``/proc/self/cwd`` then reaches the folder without walking
    through its parents.
    """
    cwd = os.getcwd()
    return cwd if os.access(cwd, os.R_OK | os.X_OK) else "/proc/self/cwd"


def main(argv: Sequence[str] | None = None) -> None:
    """Confine this process, then run ipykernel in it."""
    _setup_log()
    args, kernel_args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        connection_file = confine(args)
    except (SandboxError, OSError, ValueError) as error:
        log.critical("cannot start a confined kernel: %s", error)
        raise SystemExit(1) from None
    # The notebook's folder is importable (the quiz imports quiz_variant.py beside it), but
    # last, so a student's numpy.py or ipykernel/ never shadows a real module.
    sys.path.append(notebook_folder())
    # Imported only now: no thread may start before the network namespace is unshared.
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(
        argv=["-f", str(connection_file), "--HistoryManager.hist_file=:memory:", *kernel_args]
    )


if __name__ == "__main__":
    main()
