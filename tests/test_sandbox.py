"""The restricted grading kernel "cnn-grader": each restriction, attacked and shown to hold.

Real kernels throughout: one batch through nbgrader's own autograde (a correct student,
a memory bomb, a CPU bomb), one long-lived kernel started with jupyter_client in an
``autograded/<student>/<assignment>`` folder for the individual attacks, one that burns
its CPU time, and one started by an unprivileged user (the developer-laptop case).

Tests that need root (user switch, permissions, network) are skipped otherwise; CI runs
as root. The course lives in a fresh folder other users can enter, so that a refusal
seen by the sandbox user comes from the course's own permissions.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import nbformat
import pytest
from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from nbformat.v4 import new_code_cell

import cnn_course.sandbox.launcher as launcher
from cnn_course.course import CourseDir, CourseError
from cnn_course.sandbox import (
    KERNEL_NAME,
    SANDBOX_USER,
    Limits,
    after_autograde,
    ensure_kernelspec,
    ensure_sandbox_user,
    protect_course,
    sandbox_config,
)
from cnn_course.toy import ZERO_PAD_SOLUTION, zero_pad_source_notebook

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(
    not IS_ROOT, reason="needs root (as in CI): user switch, permissions, network namespace"
)

ASSIGNMENT = "01_filters"
SECRET_VARIABLE = "CNN_SANDBOX_TEST_SECRET"
# Low enough for a CPU bomb to hit it quickly, high enough for a whole toy notebook.
BATCH_CPU_SECONDS = 10
SMALL_FILE_MB = 8

# A student's extra cell: facts about where it runs, printed as one JSON line.
PROBE = """import json, os, sys
facts = {"uid": os.getuid(), "preimported": "cnn_solutions.grading" in sys.modules}
try:
    open(%r).close()
    facts["other_submission"] = "read"
except OSError as error:
    facts["other_submission"] = type(error).__name__
with open("written_by_student.txt", "w") as handle:
    facts["wrote"] = handle.write("ok")
print("FACTS", json.dumps(facts))"""

MEMORY_BOMB = "chunks = [bytearray(2**30) for _ in range(4)]"
CPU_BOMB = "while True:\n    pass"


# --------------------------------------------------------------------------- helpers


def write_toy_source(folder: Path) -> Path:
    """A one-function version of 01_filters whose hidden tests use the real grader."""
    target = folder / "source" / ASSIGNMENT
    target.mkdir(parents=True)
    nbformat.write(zero_pad_source_notebook(), target / "filters.ipynb")
    return folder


def submission(release: nbformat.NotebookNode, extra_cells: list[str]) -> nbformat.NotebookNode:
    """The released notebook, solved, with the student's own cells before the tests."""
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    solution = next(
        index
        for index, cell in enumerate(nb.cells)
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "zero_pad"
    )
    nb.cells[solution].source = ZERO_PAD_SOLUTION
    nb.cells[solution + 1 : solution + 1] = [new_code_cell(code) for code in extra_cells]
    return nb


def added_cell(nb: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    return next(cell for cell in nb.cells if cell.source == code)


@dataclass
class Reply:
    """What one execution in a kernel produced."""

    status: str
    stdout: str = ""
    stderr: str = ""
    ename: str = ""
    evalue: str = ""


def run(client: BlockingKernelClient, code: str, timeout: float = 60) -> Reply:
    reply = Reply(status="")
    parts: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def hook(message: dict) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            parts[content["name"]].append(content["text"])
        elif kind == "execute_result":
            parts["stdout"].append(content["data"].get("text/plain", ""))
        elif kind == "error":
            reply.ename, reply.evalue = content["ename"], content["evalue"]

    result = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    reply.status = result["content"]["status"]
    reply.stdout, reply.stderr = "".join(parts["stdout"]), "".join(parts["stderr"])
    return reply


def traversable_tmpdir(prefix: str) -> Path:
    """A fresh folder the sandbox user may enter (pytest's own tmp folders are 700)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def quiz_folder(course: CourseDir, student: str) -> Path:
    """``autograded/<student>/05_quiz`` with a module beside the notebook, as quiz_variant.py."""
    folder = course.root / "autograded" / student / "05_quiz"
    folder.mkdir(parents=True)
    (folder / "beside.py").write_text("VALUE = 42\n")
    return folder


IMPORT_BESIDE = "import beside, os\nprint(beside.VALUE, os.getuid())"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    """The kernelspec (and, as root, the user), as `python -m cnn_course.sandbox install`."""
    ensure_kernelspec()
    if IS_ROOT:
        ensure_sandbox_user()


@dataclass
class GradedBatch:
    course: CourseDir
    error: str  # nbgrader's log when the batch reported a failure


@pytest.fixture(scope="module")
def batch() -> Iterator[GradedBatch]:
    """A toy course autograded by nbgrader in the sandbox: alice, bob (CPU bomb), mallory."""
    base = traversable_tmpdir("cnn-sandbox-test-")
    try:
        course = CourseDir.create(
            base / "course", [ASSIGNMENT], source_from=write_toy_source(base / "toy")
        )
        course.config.merge(sandbox_config(course.root, Limits(cpu_seconds=BATCH_CPU_SECONDS)))
        course.generate(ASSIGNMENT)
        release = course.release_notebook(ASSIGNMENT)
        other = course.root / "submitted" / "mallory" / ASSIGNMENT / "filters.ipynb"
        cells = {
            "alice": [PROBE % str(other)],
            "bob": [CPU_BOMB],
            "mallory": [MEMORY_BOMB],
        }
        for student, extra in cells.items():
            course.submit(student, ASSIGNMENT, submission(release, extra))
        with protect_course(course.root):
            try:
                course.autograde(ASSIGNMENT)
                error = ""
            except CourseError as failure:
                error = str(failure)
        yield GradedBatch(course, error)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class SandboxKernel:
    client: BlockingKernelClient
    manager: KernelManager
    workdir: Path
    course: CourseDir
    first: Reply  # the kernel's very first execution
    log: Path


# Looks without importing anything: the grader and its topic modules are already there.
FIRST_CODE = """import sys
grading = sys.modules.get("cnn_solutions.grading")
print(grading is not None and all(name in sys.modules for name in grading.TOPIC_MODULES))"""


@contextmanager
def sandbox_kernel(
    course_root: Path,
    workdir: Path,
    limits: Limits,
    stderr: IO[str],
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[tuple[BlockingKernelClient, KernelManager]]:
    """A ready cnn-grader kernel started in ``workdir``, as nbgrader's Execute starts it."""
    config = sandbox_config(course_root, limits)
    manager = KernelManager(kernel_name=KERNEL_NAME, config=config)
    manager.start_kernel(
        cwd=str(workdir),
        env={**os.environ, **(env or {})},
        stderr=stderr,
        preexec_fn=preexec_fn,
        extra_arguments=config.Autograde.Exporter.Execute.extra_arguments,
    )
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client, manager
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(batch: GradedBatch) -> Iterator[SandboxKernel]:
    """A cnn-grader kernel in autograded/probe/01_filters of the graded course."""
    course = batch.course
    workdir = course.root / "autograded" / "probe" / ASSIGNMENT
    workdir.mkdir(parents=True)
    # A student's symlink to the gradebook must not make the launcher hand it over.
    (workdir / "leak").symlink_to(course.root / "gradebook.db")
    log = workdir.parent / "kernel.log"
    limits = Limits(file_size_mb=SMALL_FILE_MB)
    secret = {SECRET_VARIABLE: "s3cret"}
    with (
        protect_course(course.root, "probe"),
        open(log, "w") as log_file,
        sandbox_kernel(course.root, workdir, limits, log_file, secret) as (client, manager),
    ):
        first = run(client, FIRST_CODE)
        yield SandboxKernel(client, manager, workdir, course, first, log)


# --------------------------------------------------------------------------- wiring


def test_kernelspec_runs_the_launcher_in_isolated_mode() -> None:
    spec_file = ensure_kernelspec() / "kernel.json"
    spec = json.loads(spec_file.read_text())
    assert spec["argv"][:4] == [sys.executable, "-I", "-m", "cnn_course.sandbox.launcher"]
    assert spec["argv"][-2:] == ["-f", "{connection_file}"]
    assert spec_file.parent == Path(sys.prefix, "share", "jupyter", "kernels", KERNEL_NAME)


def test_install_command_installs_the_kernelspec() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cnn_course.sandbox", "install"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert KERNEL_NAME in done.stdout
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)  # where jupyter_client looks
    assert spec.display_name == "Python 3 (CNN grader sandbox)"
    if IS_ROOT:
        assert pwd.getpwnam(SANDBOX_USER).pw_shell == "/usr/sbin/nologin"


def test_config_reaches_nbclients_kernel_manager(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path, Limits(cpu_seconds=7))
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME, config=config)
    assert manager.transport == "ipc"
    # An absolute prefix: the default "kernel-ipc" is resolved in two different folders.
    assert os.path.isabs(manager.ip)
    assert config.Autograde.Exporter.Execute.kernel_name == KERNEL_NAME
    assert "--cpu-seconds=7" in config.Autograde.Exporter.Execute.extra_arguments


def test_limits_come_from_arguments_over_environment_over_defaults() -> None:
    args, rest = launcher.parse_args(["-f", "cf.json", "--open-files=99", "--ip=x"])
    limits = Limits.resolve(args, {"CNN_SANDBOX_OPEN_FILES": "50", "CNN_SANDBOX_CPU_SECONDS": "9"})
    assert (limits.open_files, limits.cpu_seconds, limits.memory_mb) == (99, 9, 2048)
    assert rest == ["--ip=x"]


# --------------------------------------------------------------------------- through nbgrader


def test_batch_grades_correct_work_in_the_sandbox(batch: GradedBatch) -> None:
    grades = batch.course.grades(ASSIGNMENT, "alice")
    assert {g: grade.score for g, grade in grades.items()} == {
        "zero_pad_basic": 2.0,
        "zero_pad_channels": 3.0,
    }
    nb = batch.course.autograded_notebook(ASSIGNMENT, "alice")
    probe = next(cell for cell in nb.cells if 'print("FACTS"' in cell.source)
    facts = json.loads(probe.outputs[0].text.split("FACTS", 1)[1])
    assert facts["preimported"] is True
    assert facts["wrote"] == 2
    if IS_ROOT:
        assert facts["uid"] == pwd.getpwnam(SANDBOX_USER).pw_uid
        assert facts["other_submission"] == "PermissionError"


def test_memory_bomb_fails_its_own_cell_only(batch: GradedBatch) -> None:
    nb = batch.course.autograded_notebook(ASSIGNMENT, "mallory")
    outputs = added_cell(nb, MEMORY_BOMB).outputs
    assert [o.ename for o in outputs if o.output_type == "error"] == ["MemoryError"]
    grades = batch.course.grades(ASSIGNMENT, "mallory")
    assert sum(g.score for g in grades.values()) == 5.0


def test_cpu_bomb_kills_its_kernel_and_the_batch_goes_on(batch: GradedBatch) -> None:
    assert "DeadKernelError" in batch.error
    assert "for student 'bob'" in batch.error
    assert "for student 'alice'" not in batch.error
    assert not (batch.course.root / "autograded" / "bob" / ASSIGNMENT).exists()
    # Both other students were graded in the same nbgrader run.
    for student in ("alice", "mallory"):
        assert batch.course.grades(ASSIGNMENT, student)


@needs_root
def test_course_permissions_after_grading(batch: GradedBatch) -> None:
    root = batch.course.root
    modes = {
        "gradebook.db": 0o600,
        "source": 0o700,
        "submitted": 0o700,
        "autograded": 0o711,
        "autograded/alice": 0o700,
    }
    assert {p: (root / p).stat().st_mode & 0o7777 for p in modes} == modes
    sandbox_uid = pwd.getpwnam(SANDBOX_USER).pw_uid
    owned = [
        p for p in (root / "autograded" / "alice").rglob("*") if p.lstat().st_uid == sandbox_uid
    ]
    assert owned == []  # handed back after grading
    assert (root / "autograded/alice" / ASSIGNMENT / "written_by_student.txt").read_text() == "ok"


@needs_root
def test_a_finished_assignment_leaves_the_same_students_running_kernel_alone(
    batch: GradedBatch,
) -> None:
    """Two workers grading one student's assignments at once: the first to finish hands
    back its own folder only. Handing back the whole student folder once locked a running
    quiz kernel out of the quiz_variant.py beside its notebook, and the quiz scored 0."""
    course, student = batch.course, "pair"
    running = quiz_folder(course, student)
    finished = course.root / "autograded" / student / ASSIGNMENT
    finished.mkdir()
    sandbox_uid = pwd.getpwnam(SANDBOX_USER).pw_uid
    with protect_course(course.root, student), open(os.devnull, "w") as quiet:
        with sandbox_kernel(course.root, running, Limits(), quiet) as (client, _):
            os.chown(finished, sandbox_uid, -1)  # as its own kernel had claimed it
            after_autograde(course.root, student=student, assignment=ASSIGNMENT, notebooks=[])
            reply = run(client, IMPORT_BESIDE)
            still_claimed = running.stat().st_uid
    assert (reply.status, reply.stdout.split()) == ("ok", ["42", str(sandbox_uid)]), reply
    assert still_claimed == sandbox_uid
    assert finished.stat().st_uid == 0
    assert running.stat().st_uid == 0  # and handed back when its own block ends


# --------------------------------------------------------------------------- one kernel


def test_grader_modules_are_imported_before_student_code(kernel: SandboxKernel) -> None:
    assert kernel.first.stdout.strip() == "True"


def test_resource_limits_are_set(kernel: SandboxKernel) -> None:
    code = (
        "import resource\n"
        "print([resource.getrlimit(getattr(resource, 'RLIMIT_' + n))"
        " for n in ('AS', 'CPU', 'NOFILE', 'FSIZE', 'CORE')])"
    )
    defaults = Limits()
    expected = [
        (defaults.memory_mb * 2**20,) * 2,
        (defaults.cpu_seconds, defaults.cpu_seconds + launcher.CPU_GRACE_SECONDS),
        (defaults.open_files,) * 2,
        (SMALL_FILE_MB * 2**20,) * 2,
        (0, 0),
    ]
    assert run(kernel.client, code).stdout.strip() == str(expected)


def test_memory_bomb_raises_memory_error_and_kernel_survives(kernel: SandboxKernel) -> None:
    bomb = run(kernel.client, "x = bytearray(3 * 2**30)")
    assert (bomb.status, bomb.ename) == ("error", "MemoryError")
    assert run(kernel.client, "sum(range(10))").stdout == "45"


def test_too_many_open_files_fail(kernel: SandboxKernel) -> None:
    code = textwrap.dedent(
        """
        import os
        handles = []
        try:
            for _ in range(1000):
                handles.append(open(os.devnull))
        except OSError as error:
            print(error.errno, len(handles))
        finally:
            for handle in handles:
                handle.close()
        """
    )
    err_no, opened = map(int, run(kernel.client, code).stdout.split())
    assert err_no == errno.EMFILE
    assert opened < Limits().open_files


def test_writing_a_huge_file_fails(kernel: SandboxKernel) -> None:
    code = (
        "import os\n"
        "try:\n"
        "    with open('big.bin', 'wb') as f:\n"
        f"        f.write(bytes({SMALL_FILE_MB + 1} * 2**20))\n"
        "except OSError as error:\n"
        "    print(error.errno)\n"
        "finally:\n"
        "    os.remove('big.bin')"
    )
    assert run(kernel.client, code).stdout.strip() == str(errno.EFBIG)


def test_scientific_stack_works_and_workdir_is_writable(kernel: SandboxKernel) -> None:
    code = textwrap.dedent(
        """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
        from scipy.signal import correlate2d
        image = np.arange(16.0).reshape(4, 4)
        plt.imshow(correlate2d(image, np.ones((2, 2)), mode="valid"))
        plt.savefig("figure.png")
        print(correlate2d(image, np.ones((2, 2)), mode="valid").sum())
        """
    )
    reply = run(kernel.client, code)
    assert (reply.status, reply.stderr) == ("ok", "")
    assert float(reply.stdout) == 270.0
    assert (kernel.workdir / "figure.png").read_bytes()[:4] == b"\x89PNG"


@needs_root
def test_kernel_runs_as_the_sandbox_user_for_good(kernel: SandboxKernel) -> None:
    code = textwrap.dedent(
        f"""
        import os
        print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())
        print(os.environ.get({SECRET_VARIABLE!r}))
        try:
            os.setuid(0)
        except PermissionError:
            print("no way back")
        """
    )
    account = pwd.getpwnam(SANDBOX_USER)
    ids, secret, back = run(kernel.client, code).stdout.splitlines()
    assert ids == f"{account.pw_uid} {account.pw_uid} {account.pw_gid} []"
    assert secret == "None"  # the grader's environment is not passed on
    assert back == "no way back"


@needs_root
@pytest.mark.parametrize(
    "path",
    [
        "gradebook.db",
        f"source/{ASSIGNMENT}/filters.ipynb",
        f"submitted/alice/{ASSIGNMENT}/filters.ipynb",
        f"autograded/alice/{ASSIGNMENT}/filters.ipynb",
        f"autograded/probe/{ASSIGNMENT}/leak",
    ],
)
def test_course_secrets_are_unreadable(kernel: SandboxKernel, path: str) -> None:
    target = kernel.course.root / path
    assert target.read_bytes()  # the grader can read it
    reply = run(kernel.client, f"open({str(target)!r}, 'rb').read()")
    assert reply.ename == "PermissionError"


@needs_root
def test_course_root_itself_is_reachable(kernel: SandboxKernel) -> None:
    """So the refusals above come from the course's permissions, not from its location."""
    config = kernel.course.root / "nbgrader_config.py"
    reply = run(kernel.client, f"print(len(open({str(config)!r}).read()))")
    assert int(reply.stdout) == len(config.read_text())
    assert (kernel.course.root / "gradebook.db").stat().st_uid == 0


@needs_root
def test_no_network(kernel: SandboxKernel) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # the host can
        code = textwrap.dedent(
            f"""
            import socket
            for address in [("127.0.0.1", {port}), ("8.8.8.8", 53), ("example.org", 80)]:
                try:
                    socket.create_connection(address, timeout=5).close()
                    print("connected")
                except OSError as error:
                    print(type(error).__name__)
            print(socket.if_nameindex())
            """
        )
        lines = run(kernel.client, code).stdout.splitlines()
    assert "connected" not in lines
    assert len(lines) == 4
    assert lines[-1] == "[(1, 'lo')]"


@needs_root
def test_other_sandbox_processes_cannot_look_inside_the_kernel(kernel: SandboxKernel) -> None:
    """Kernels of students graded at the same time share the user, not their insides."""
    account = pwd.getpwnam(SANDBOX_USER)
    proc = f"/proc/{kernel.manager.provisioner.pid}"
    commands = [["cat", f"{proc}/environ"], ["ls", f"{proc}/cwd/"], ["ls", f"{proc}/fd/"]]

    def become_user() -> None:
        os.setgroups([])
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    for command in commands:
        assert subprocess.run(command, capture_output=True, check=True).stdout  # root can
        denied = subprocess.run(command, preexec_fn=become_user, capture_output=True, text=True)
        assert denied.returncode != 0
        assert "Permission denied" in denied.stderr


@needs_root
def test_kernel_log_is_quiet(kernel: SandboxKernel) -> None:
    text = kernel.log.read_text()
    assert "not root" not in text
    assert "Traceback" not in text


# --------------------------------------------------------------------------- CPU time


def test_cpu_time_limit_kills_the_kernel_with_sigxcpu() -> None:
    folder = traversable_tmpdir("cnn-sandbox-cpu-")
    try:
        with (
            open(os.devnull, "w") as quiet,
            sandbox_kernel(folder, folder, Limits(cpu_seconds=3), quiet) as (client, manager),
        ):
            client.execute(CPU_BOMB)
            deadline = time.monotonic() + 60
            while manager.is_alive() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert manager.provisioner.process.returncode == -signal.SIGXCPU
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- not root


NOT_ROOT_CLIENT = """
import json, os, sys
from jupyter_client import KernelManager
from cnn_course.sandbox import KERNEL_NAME, Limits, sandbox_config

config = sandbox_config(".", Limits(open_files=200))
manager = KernelManager(kernel_name=KERNEL_NAME, config=config)
with open("kernel.log", "w") as log:
    arguments = config.Autograde.Exporter.Execute.extra_arguments
    manager.start_kernel(stderr=log, extra_arguments=arguments)
client = manager.blocking_client()
client.start_channels()
client.wait_for_ready(timeout=60)
streams = []
client.execute_interactive(
    "import os, resource; print(os.getuid(), resource.getrlimit(resource.RLIMIT_NOFILE))",
    output_hook=lambda m: streams.append(m["content"]) if m["msg_type"] == "stream" else None,
)
client.stop_channels()
manager.shutdown_kernel()
print(json.dumps({"uid": os.getuid(), "streams": streams}))
"""


def _as_unprivileged_user(folder: Path) -> tuple[dict[str, object], Callable[[], None] | None]:
    """Arguments for subprocess.run to run as the sandbox user (when root) in ``folder``."""
    if not IS_ROOT:
        return {}, None
    account = pwd.getpwnam(SANDBOX_USER)
    os.chown(folder, account.pw_uid, account.pw_gid)
    needed = launcher.needed_paths(folder)

    def become_user() -> None:
        # This Python may live where the user cannot read it (pyenv in /root): the
        # launcher's own mount-namespace remedy makes it reachable for this child.
        launcher.expose(needed, account)
        os.setgroups([])
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return {"uid": account.pw_uid}, become_user


def test_without_root_only_limits_and_one_log_line() -> None:
    folder = traversable_tmpdir("cnn-sandbox-user-")
    try:
        expected, preexec = _as_unprivileged_user(folder)
        env = {"PATH": os.environ["PATH"], "HOME": str(folder), "TMPDIR": str(folder)}
        done = subprocess.run(
            [sys.executable, "-c", NOT_ROOT_CLIENT],
            cwd=folder,
            env=env,
            preexec_fn=preexec,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        result = json.loads(done.stdout.splitlines()[-1])
        uid = expected.get("uid", os.getuid())
        assert result["uid"] == uid
        assert result["streams"] == [{"name": "stdout", "text": f"{uid} (200, 200)\n"}]
        log = (folder / "kernel.log").read_text()
        assert log.count("not root: resource limits only") == 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- no namespaces

PR_CAPBSET_DROP, CAP_SYS_ADMIN = 24, 21


def drop_sys_admin() -> None:
    """As a container without CAP_SYS_ADMIN: what this process executes next lacks it."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0)


@needs_root
def test_without_namespaces_the_kernel_says_so_or_refuses(tmp_path: Path) -> None:
    """As in a container without CAP_SYS_ADMIN: no network namespace, no mount namespace.

    The lost network isolation is logged. If this Python is out of the sandbox user's
    reach (pyenv in /root) nothing can make it reachable, so the kernel must not start
    at all rather than start unconfined.
    """
    connection = tmp_path / "kernel.json"
    sockets = tmp_path / "kernel-ipc"
    ports = dict(shell_port=1, iopub_port=2, stdin_port=3, control_port=4, hb_port=5)
    connection.write_text(json.dumps(dict(ports, ip=str(sockets), transport="ipc", key="k")))
    account = pwd.getpwnam(SANDBOX_USER)
    unreachable = launcher.blocked_ancestor(Path(sys.base_prefix), account) is not None

    command = [sys.executable, "-I", "-m", "cnn_course.sandbox.launcher", "-f", str(connection)]
    kernel = subprocess.Popen(
        command, cwd=tmp_path, preexec_fn=drop_sys_admin, stderr=subprocess.PIPE, text=True
    )
    try:
        log = kernel.stderr.readline()
        assert "network isolation unavailable (unshare: Operation not permitted)" in log
        if unreachable:
            log += kernel.stderr.read()
            assert kernel.wait(timeout=60) == 1
            assert "cannot start a confined kernel" in log
            assert "has no mount namespace" in log
        else:
            time.sleep(3)
            assert kernel.poll() is None  # a kernel, without network isolation
    finally:
        kernel.kill()
        kernel.wait()


@needs_root
def test_without_a_mount_namespace_the_notebook_folder_is_still_importable(
    batch: GradedBatch,
) -> None:
    """A container without CAP_SYS_ADMIN (Docker's default) whose Python the sandbox user
    can read: the kernel's folder cannot be bind-mounted into view, and its absolute path
    crosses root's 700 ``autograded/<student>``. The quiz still imports quiz_variant.py
    from beside its notebook."""
    course, student = batch.course, "nomounts"
    workdir = quiz_folder(course, student)
    account = pwd.getpwnam(SANDBOX_USER)
    # Python, and the folder with the connection file, where the grader's socket links go.
    outside_world = launcher.needed_paths(Path(jupyter_runtime_dir()))

    def container_without_sys_admin() -> None:
        launcher.expose(outside_world, account)  # as if this Python were installed in /usr
        drop_sys_admin()

    log = workdir.parent / "kernel.log"
    with protect_course(course.root, student), open(log, "w") as log_file:
        with sandbox_kernel(
            course.root,
            workdir,
            Limits(),
            log_file,
            {"CNN_SANDBOX_LOG_LEVEL": "INFO"},
            container_without_sys_admin,
        ) as (client, _):
            reply = run(client, IMPORT_BESIDE)
    kernel_log = log.read_text()
    assert "reachable by relative paths only" in kernel_log  # the case under test
    assert (reply.status, reply.stdout.split()) == ("ok", ["42", str(account.pw_uid)]), reply
