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

The parts live beside this module: :mod:`~cnn_course.sandbox.syscalls` (limits, unshare,
mount, prctl), :mod:`~cnn_course.sandbox.view` (the file system view),
:mod:`~cnn_course.sandbox.workdir` (the working folder's copies),
:mod:`~cnn_course.sandbox.sockets` (the socket links), :mod:`~cnn_course.sandbox.plan`
(what is decided as root) and :mod:`~cnn_course.sandbox.processes` (launcher, reaper,
supervisor and kernel). This module parses the arguments and starts them; it re-exports
their names.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from cnn_course.sandbox.kernelspec import KERNEL_NAME, Limits
from cnn_course.sandbox.permissions import kernel_uid
from cnn_course.sandbox.plan import Plan, kernel_identity, make_plan, secret_folders
from cnn_course.sandbox.processes import (
    FORWARDED_SIGNALS,
    KERNEL_BOOTSTRAP,
    LOST_WITHOUT_NAMESPACES,
    NOTEBOOK_DIR_VARIABLE,
    cleanup,
    confine_environment,
    drop_privileges,
    reaper,
    run_as_root,
    run_kernel,
    supervise,
    wait_unless_orphaned,
)
from cnn_course.sandbox.sockets import PORT_NAMES, relocate_sockets, socket_links
from cnn_course.sandbox.sudo import Caller, sudo_caller
from cnn_course.sandbox.syscalls import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CPU_GRACE_SECONDS,
    MIB,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    SandboxError,
    apply_rlimits,
    mount_tmpfs,
    scratch_options,
    unshare,
    unshare_mounts,
)
from cnn_course.sandbox.syscalls import _mount as _mount  # tests mount with it
from cnn_course.sandbox.view import (
    COVERED_ALWAYS,
    PRIVATE_TMP,
    PROBE_PACKAGE,
    SECRET_PACKAGES,
    Identity,
    View,
    blocked_ancestor,
    expose,
    make_path,
    mount_view,
    needed_paths,
    package_dirs,
    plan_view,
)
from cnn_course.sandbox.workdir import COPY_DEPTH, copy_files, is_autograde_dir

log = logging.getLogger("cnn_course.sandbox.launcher")

__all__ = [
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWPID",
    "COPY_DEPTH",
    "COVERED_ALWAYS",
    "CPU_GRACE_SECONDS",
    "FORWARDED_SIGNALS",
    "KERNEL_BOOTSTRAP",
    "LOST_WITHOUT_NAMESPACES",
    "MIB",
    "MS_BIND",
    "MS_NODEV",
    "MS_NOEXEC",
    "MS_NOSUID",
    "MS_PRIVATE",
    "MS_RDONLY",
    "MS_REC",
    "MS_REMOUNT",
    "NOTEBOOK_DIR_VARIABLE",
    "PORT_NAMES",
    "PRIVATE_TMP",
    "PROBE_PACKAGE",
    "PR_SET_CHILD_SUBREAPER",
    "PR_SET_DUMPABLE",
    "PR_SET_NO_NEW_PRIVS",
    "PR_SET_PDEATHSIG",
    "SECRET_PACKAGES",
    "Identity",
    "Plan",
    "SandboxError",
    "View",
    "apply_rlimits",
    "blocked_ancestor",
    "cleanup",
    "confine_environment",
    "copy_files",
    "drop_privileges",
    "expose",
    "grader_at_start",
    "is_autograde_dir",
    "kernel_identity",
    "kernel_uid",
    "log",
    "main",
    "make_path",
    "make_plan",
    "mount_tmpfs",
    "mount_view",
    "needed_paths",
    "package_dirs",
    "parse_args",
    "plan_view",
    "reaper",
    "relocate_sockets",
    "run_as_root",
    "run_kernel",
    "run_unprivileged",
    "scratch_options",
    "secret_folders",
    "socket_links",
    "supervise",
    "unshare",
    "unshare_mounts",
    "wait_unless_orphaned",
]


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
