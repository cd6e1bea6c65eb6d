"""The processes of a kernel confined as root: the launcher's part, reaper, supervisor, kernel.

:func:`run_as_root` forks the reaper and the supervisor (:func:`supervise`, PID 1 of a new
PID namespace), which forks the kernel (:func:`run_kernel`); see
:mod:`cnn_course.sandbox.launcher` for what each one does.
"""

from __future__ import annotations

import logging
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from cnn_course.sandbox.permissions import kill_uid, remove_owned
from cnn_course.sandbox.plan import Plan
from cnn_course.sandbox.sudo import Caller, as_caller, caller_gone
from cnn_course.sandbox.syscalls import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWPID,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    SandboxError,
    _mount,
    _prctl,
    apply_rlimits,
    mount_tmpfs,
    scratch_options,
    unshare,
    unshare_mounts,
)
from cnn_course.sandbox.view import Identity, blocked_ancestor, make_path, mount_view
from cnn_course.sandbox.workdir import copy_files

log = logging.getLogger("cnn_course.sandbox.launcher")  # the launcher's log

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


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
