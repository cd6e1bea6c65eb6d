"""The restricted grading kernel "cnn-grader": each restriction, attacked and shown to hold.

Real kernels throughout: one batch through nbgrader's own autograde (a correct student,
a memory bomb, a CPU bomb), one long-lived kernel started with jupyter_client in an
``autograded/<student>/<assignment>`` folder for the individual attacks, kernels for the
process and file-system attacks (detached processes, two kernels at once, file floods),
a course laid out as the repository is (its Python environment inside the course root),
kernels without CAP_SYS_ADMIN (a container's default), and one started by an
unprivileged user (the developer-laptop case).

Tests that need root (uids, namespaces, permissions) are skipped otherwise; CI runs as
root. The reference (``cnn_solutions``) is never imported by a kernel: the toy notebook
here checks with plain asserts.
"""

from __future__ import annotations

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
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from nbformat.v4 import new_code_cell
from sandbox_helpers import (
    ATTACK,
    DETACH,
    DETACHED_KILLER,
    STARTED,
    Reply,
    drop_sys_admin,
    launcher_pid,
    leftovers,
    processes_of,
    run,
    run_json,
    sandbox_kernel,
    snapshot,
    uid_of,
    wait_until,
)

import cnn_course.sandbox.launcher as launcher
from cnn_course.classroom.toy import (
    ZERO_PAD_SOLUTION,
    ZERO_PAD_VISIBLE_TEST,
    hidden_tests,
    nbgrader_cell,
    python_notebook,
)
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
from cnn_course.sandbox.permissions import UID_BASE, is_kernel_uid
from cnn_solutions.quiz import student_module_source

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(
    not IS_ROOT, reason="needs root (as in CI): uids, namespaces, permissions"
)

ASSIGNMENT = "01_filters"
SECRET_VARIABLE = "CNN_SANDBOX_TEST_SECRET"
# Low enough for a CPU bomb to hit it quickly, high enough for a whole toy notebook.
BATCH_CPU_SECONDS = 10
SMALL_FILE_MB = 8
REPO = Path(launcher.__file__).resolve().parents[2]
SECRET_SOURCES = [REPO / "cnn_solutions" / "__init__.py", REPO / "cnn_course" / "__init__.py"]

# A student's extra cell: facts about where it runs, printed as one JSON line.
PROBE = """import json, os, sys
facts = {"uid": os.getuid()}
try:
    import cnn_solutions
    facts["reference"] = "imported"
except ImportError as error:
    facts["reference"] = type(error).__name__
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

# Student code: try to read each path (open, listdir, stat); print outcome per path.
READ_ATTEMPTS = """import json, os
outcome = {}
for path in %r:
    try:
        if os.path.isdir(path):
            outcome[path] = "listed %%d" %% len(os.listdir(path))
        else:
            with open(path, "rb") as handle:
                outcome[path] = "read %%d" %% len(handle.read())
    except OSError as error:
        outcome[path] = type(error).__name__
print(json.dumps(outcome))"""

IMPORTS = """import json, sys
import numpy, scipy.signal, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot, IPython, cnn_probe
outcome = {"prefix": sys.prefix, "probe": cnn_probe.__file__}
for name in ("cnn_solutions", "cnn_course", "cnn_course.grading", "cnn_course.sandbox"):
    try:
        __import__(name)
        outcome[name] = "imported"
    except ImportError as error:
        outcome[name] = type(error).__name__
print(json.dumps(outcome))"""

IMPORT_BESIDE = "import beside, os\nprint(beside.VALUE, os.getuid())"
LISTING = "import json, os\nprint(json.dumps([sorted(os.listdir(f)) for f in %r]))"


# --------------------------------------------------------------------------- helpers


def sandbox_source_notebook() -> nbformat.NotebookNode:
    """``zero_pad`` with visible and hidden tests in plain asserts (no reference needed)."""
    signature, body = ZERO_PAD_SOLUTION.split("\n", 1)
    solution = "\n".join([signature, "    ### BEGIN SOLUTION", body, "    ### END SOLUTION"])
    hidden_basic = ["assert zero_pad(np.ones((2, 2)), 2).sum() == 4"]
    hidden_channels = ["assert zero_pad(np.ones((2, 2, 3)), 1).shape == (4, 4, 3)"]
    return python_notebook(
        [
            nbformat.v4.new_markdown_cell("Write `zero_pad(image, pad)`."),
            nbgrader_cell("import numpy as np", "imports"),
            nbgrader_cell(solution, "zero_pad", solution=True),
            nbgrader_cell(
                ZERO_PAD_VISIBLE_TEST + "\n" + hidden_tests(hidden_basic),
                "zero_pad_basic",
                grade=True,
                points=2,
            ),
            nbgrader_cell(hidden_tests(hidden_channels), "zero_pad_channels", grade=True, points=3),
        ]
    )


def write_toy_source(folder: Path) -> Path:
    target = folder / "source" / ASSIGNMENT
    target.mkdir(parents=True)
    nbformat.write(sandbox_source_notebook(), target / "filters.ipynb")
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


def traversable_tmpdir(prefix: str) -> Path:
    """A fresh folder other users may enter (pytest's own tmp folders are 700)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def quiz_folder(course_root: Path, student: str) -> Path:
    """``autograded/<student>/05_quiz`` with a module beside the notebook, as quiz_variant.py."""
    folder = course_root / "autograded" / student / "05_quiz"
    folder.mkdir(parents=True)
    (folder / "beside.py").write_text("VALUE = 42\n")
    (folder / "quiz.ipynb").write_text("{}\n")
    (folder / "quiz_variant.py").write_text(student_module_source())
    return folder


def fake_course(root: Path) -> Path:
    """A course folder with every kind of secret, and ``autograded/me/01`` to grade in."""
    files = {
        "gradebook.db": "hidden tests and scores",
        "grades.csv": "student,score\n",
        "secret.txt": "token",
        "nbgrader_config.py": "c = get_config()\n",
        ".git/config": "[core]\n",
        ".git/objects/ab/cdef": "blob",
        "source/01/notebook.ipynb": "{}",
        "release/01/notebook.ipynb": "{}",
        "submitted/other/01/notebook.ipynb": "{}",
        "feedback/other/01/notebook.html": "<html>",
        "exchange/inbound/x": "x",
        "reports/flags.json": "{}",
        "tests/test_secret.py": "ANSWER = 1",
        "autograded/other/01/notebook.ipynb": "{}",
        "autograded/me/02/notebook.ipynb": "{}",
        "autograded/me/01/notebook.ipynb": '{"cells": []}',
        "autograded/me/01/timestamp.txt": "2026-01-01 00:00:00",
        "autograded/me/01/beside.py": "VALUE = 42\n",
        "autograded/me/01/data/table.csv": "a,b\n1,2\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "autograded/me/01/leak").symlink_to(root / "gradebook.db")
    return root / "autograded/me/01"


def secret_paths(course: Path) -> list[str]:
    names = [
        "gradebook.db",
        "grades.csv",
        "secret.txt",
        ".git",
        ".git/config",
        "source",
        "source/01/notebook.ipynb",
        "release",
        "submitted/other/01/notebook.ipynb",
        "feedback",
        "exchange",
        "reports/flags.json",
        "tests/test_secret.py",
        "autograded/other",
        "autograded/other/01/notebook.ipynb",
        "autograded/me/02",
        "autograded/me/01/leak",
    ]
    return [str(course / name) for name in names] + [str(p) for p in SECRET_SOURCES]


def assert_clean(uid: int) -> None:
    """Nothing of the kernel with ``uid`` is left: no process, no private folder."""
    launcher_id = uid - UID_BASE
    assert wait_until(lambda: leftovers(launcher_id) == ([], [])), leftovers(launcher_id)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def installed() -> Iterator[None]:
    """The kernelspec (and, as root, the user); after the module, nothing left behind."""
    ensure_kernelspec()
    if IS_ROOT:
        ensure_sandbox_user()
    yield
    if IS_ROOT:
        assert STARTED  # the check below checks something
        for launcher_id in STARTED:
            assert_clean(launcher.kernel_uid(launcher_id))
        kernel_users = [p.pw_name for p in pwd.getpwall() if p.pw_name.startswith("cnn-")]
        assert kernel_users == [SANDBOX_USER]


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
    before: dict[str, tuple[str, str]]  # the real working folder when the kernel started


# Looks without importing anything: nothing of the course's code is in the kernel.
FIRST_CODE = """import sys
print(sorted(name for name in sys.modules if name.startswith(("cnn_solutions", "cnn_course"))))"""


@pytest.fixture(scope="module")
def kernel(batch: GradedBatch) -> Iterator[SandboxKernel]:
    """A cnn-grader kernel in autograded/probe/01_filters of the graded course."""
    course = batch.course
    workdir = course.root / "autograded" / "probe" / ASSIGNMENT
    workdir.mkdir(parents=True)
    (workdir / "beside.py").write_text("VALUE = 42\n")
    # A student's symlink to the gradebook is not followed, nor copied.
    (workdir / "leak").symlink_to(course.root / "gradebook.db")
    log = course.root / "autograded" / "probe.log"
    limits = Limits(file_size_mb=SMALL_FILE_MB)
    secret = {SECRET_VARIABLE: "s3cret"}
    before = snapshot(workdir)
    with (
        protect_course(course.root, "probe"),
        open(log, "w") as log_file,
        sandbox_kernel(course.root, workdir, limits, log_file, secret) as (client, manager),
    ):
        first = run(client, FIRST_CODE)
        yield SandboxKernel(client, manager, workdir, course, first, log, before)


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
    arguments = config.Autograde.Exporter.Execute.extra_arguments
    assert "--cpu-seconds=7" in arguments
    assert {"--scratch-mb=64", "--scratch-files=2000"} <= set(arguments)


def test_limits_come_from_arguments_over_environment_over_defaults() -> None:
    args, rest = launcher.parse_args(["-f", "cf.json", "--open-files=99", "--ip=x"])
    environ = {"CNN_SANDBOX_OPEN_FILES": "50", "CNN_SANDBOX_SCRATCH_FILES": "9"}
    limits = Limits.resolve(args, environ)
    assert (limits.open_files, limits.scratch_files, limits.scratch_mb) == (99, 9, 64)
    assert rest == ["--ip=x"]


def test_the_view_plan_hides_secrets_but_keeps_what_python_needs(tmp_path: Path) -> None:
    """Planning only (no mounts): a venv inside the course root comes back, the
    repository of the packages goes, and a package installed in a kept site-packages
    goes alone (its parent is covered, every sibling shown again)."""
    course, site = tmp_path / "course", tmp_path / "course/.venv/lib/site-packages"
    package = site / "cnn_solutions"
    for folder in (package, site / "numpy", course / "source"):
        folder.mkdir(parents=True)
    (site / "six.py").write_text("")
    who = launcher.Identity(os.getuid(), os.getgid(), "me")
    view = launcher.plan_view({course}, [package], {course / ".venv", site, course}, who)
    assert set(view.covers) == {course, site}
    assert view.keeps == {
        course / ".venv": False,  # the course root itself is dropped: it holds a secret
        site: False,
        site / "numpy": False,
        site / "six.py": False,
    }


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
    assert facts["wrote"] == 2
    if IS_ROOT:
        assert is_kernel_uid(facts["uid"])
        assert facts["reference"] == "ModuleNotFoundError"
        assert facts["other_submission"] == "FileNotFoundError"  # no course in its view


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
    graded = root / "autograded" / "alice" / ASSIGNMENT
    owners = {p.lstat().st_uid for p in graded.rglob("*")} | {graded.stat().st_uid}
    assert owners == {0}  # never handed to a kernel
    # What the student's code wrote stayed in the kernel's private copy of the folder.
    assert sorted(p.name for p in graded.iterdir()) == ["filters.ipynb", "timestamp.txt"]


@needs_root
def test_after_autograde_leaves_a_running_kernel_of_the_same_student_alone(
    batch: GradedBatch,
) -> None:
    """Two workers grading one student's assignments at once: the first to finish runs its
    post-convert hook while the other's quiz kernel still imports quiz_variant.py."""
    course, student = batch.course, "pair"
    running = quiz_folder(course.root, student)
    finished = course.root / "autograded" / student / ASSIGNMENT
    finished.mkdir()
    with protect_course(course.root, student), open(os.devnull, "w") as quiet:
        with sandbox_kernel(course.root, running, Limits(), quiet) as (client, manager):
            after_autograde(course.root, student=student, assignment=ASSIGNMENT, notebooks=[])
            reply = run(client, IMPORT_BESIDE)
            uid = uid_of(manager)
    assert (reply.status, reply.stdout.split()) == ("ok", ["42", str(uid)]), reply
    assert running.stat().st_uid == 0
    assert_clean(uid)


# --------------------------------------------------------------------------- one kernel


@needs_root
def test_nothing_of_the_course_code_is_in_the_kernel(kernel: SandboxKernel) -> None:
    assert kernel.first.stdout.strip() == "[]"  # not even the launcher's modules


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


def test_scientific_stack_works_and_writes_stay_in_the_kernel(kernel: SandboxKernel) -> None:
    code = textwrap.dedent(
        """
        import getpass, os
        import IPython
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
        from scipy.signal import correlate2d
        image = np.arange(16.0).reshape(4, 4)
        plt.imshow(correlate2d(image, np.ones((2, 2)), mode="valid"))
        plt.savefig("figure.png")
        print(correlate2d(image, np.ones((2, 2)), mode="valid").sum())
        print(open("figure.png", "rb").read(4) == b"\\x89PNG", getpass.getuser())
        """
    )
    reply = run(kernel.client, code)
    assert (reply.status, reply.stderr) == ("ok", ""), reply
    total, png, user = reply.stdout.split()
    assert (float(total), png) == (270.0, "True")
    if IS_ROOT:
        assert user == f"{SANDBOX_USER}-{launcher_pid(kernel.manager)}"
        assert not (kernel.workdir / "figure.png").exists()  # the real folder is untouched


def test_a_module_beside_the_notebook_is_importable(kernel: SandboxKernel) -> None:
    reply = run(kernel.client, "import sys, beside\nprint(beside.VALUE, sys.path[-1])")
    assert reply.stdout.split() == ["42", str(kernel.workdir)]


@needs_root
def test_kernel_runs_as_a_uid_of_its_own_for_good(kernel: SandboxKernel) -> None:
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
    uid, gid = uid_of(kernel.manager), pwd.getpwnam(SANDBOX_USER).pw_gid
    ids, secret, back = run(kernel.client, code).stdout.splitlines()
    assert ids == f"{uid} {uid} {gid} []"
    assert is_kernel_uid(uid) and uid != pwd.getpwnam(SANDBOX_USER).pw_uid
    assert secret == "None"  # the grader's environment is not passed on
    assert back == "no way back"


@needs_root
def test_course_and_reference_are_unreadable(kernel: SandboxKernel) -> None:
    root = kernel.course.root
    paths = [
        str(root / "gradebook.db"),
        str(root / "source" / ASSIGNMENT / "filters.ipynb"),
        str(root / "submitted" / "alice" / ASSIGNMENT / "filters.ipynb"),
        str(root / "autograded" / "alice" / ASSIGNMENT / "filters.ipynb"),
        str(kernel.workdir / "leak"),
        str(REPO / ".git"),
        str(REPO / "pyproject.toml"),
        *map(str, SECRET_SOURCES),
    ]
    for path in paths:
        assert Path(path).exists()  # the grader can see each
    outcome = run_json(kernel.client, READ_ATTEMPTS % paths)
    assert outcome == dict.fromkeys(paths, "FileNotFoundError")


@needs_root
def test_the_course_root_shows_only_the_way_to_the_working_folder(kernel: SandboxKernel) -> None:
    root = kernel.course.root
    folders = [root, root / "autograded", root / "autograded" / "probe"]
    listing = run_json(kernel.client, LISTING % list(map(str, folders)))
    assert listing == [["autograded"], ["probe"], [ASSIGNMENT]]


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
def test_the_kernel_sees_only_its_own_processes(kernel: SandboxKernel) -> None:
    code = "import json, os\npids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
    code += "print(json.dumps(sorted(map(int, pids))))"
    pids = run_json(kernel.client, code)
    assert pids[:2] == [1, 2]  # the supervisor, the kernel; nothing of the host
    assert len(pids) <= 3


@needs_root
def test_other_users_cannot_look_inside_the_kernel(kernel: SandboxKernel) -> None:
    """Not the sandbox user, and not another kernel's uid: /proc/<kernel> is closed."""
    kernel_pid = processes_of(uid_of(kernel.manager))[0]
    proc = f"/proc/{kernel_pid}"
    commands = [["cat", f"{proc}/environ"], ["ls", f"{proc}/cwd/"], ["ls", f"{proc}/fd/"]]
    gid = pwd.getpwnam(SANDBOX_USER).pw_gid
    for uid in (pwd.getpwnam(SANDBOX_USER).pw_uid, uid_of(kernel.manager) + 1):

        def become(uid: int = uid) -> None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

        for command in commands:
            assert subprocess.run(command, capture_output=True, check=True).stdout  # root can
            denied = subprocess.run(command, preexec_fn=become, capture_output=True, text=True)
            assert denied.returncode != 0
            assert "Permission denied" in denied.stderr


@needs_root
def test_the_real_folder_is_unchanged_while_the_kernel_runs(kernel: SandboxKernel) -> None:
    run(kernel.client, "open('timestamp.txt', 'w').write('forged')")
    assert snapshot(kernel.workdir) == kernel.before


def test_an_interrupt_reaches_the_kernel_through_the_launcher(kernel: SandboxKernel) -> None:
    """nbclient interrupts a cell past its timeout with SIGINT to the launcher's group."""
    msg_id = kernel.client.execute("import time\nfor _ in range(600):\n    time.sleep(0.1)")
    time.sleep(1)
    kernel.manager.interrupt_kernel()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        message = kernel.client.get_shell_msg(timeout=30)
        if message["parent_header"].get("msg_id") == msg_id:
            break
    assert message["content"]["status"] == "error"
    assert message["content"]["ename"] == "KeyboardInterrupt"
    assert run(kernel.client, "print(6 * 7)").stdout.strip() == "42"


@needs_root
def test_kernel_log_is_quiet(kernel: SandboxKernel) -> None:
    text = kernel.log.read_text()
    assert "not root" not in text
    assert "protection lost" not in text
    assert "Traceback" not in text


# --------------------------------------------------------------------------- processes


def _commands_of(uid: int) -> list[bytes]:
    found = []
    for pid in processes_of(uid):
        try:
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        except OSError:  # ended meanwhile
            pass
    return found


@needs_root
def test_a_detached_process_is_gone_when_the_kernel_ends(tmp_path: Path) -> None:
    workdir = quiz_folder(tmp_path, "me")
    with open(tmp_path / "kernel.log", "w") as log:
        with sandbox_kernel(tmp_path, workdir, Limits(), log) as (client, manager):
            uid = uid_of(manager)
            assert run(client, DETACH).stdout.strip() == "detached"
            # The kernel and the sleeper, once it ran exec (until then, the fork has the
            # kernel's command line: a busy machine shows that moment).
            assert wait_until(lambda: b"sleep\x003600\x00" in _commands_of(uid))
            assert len(processes_of(uid)) == 2
            links = launcher.socket_links(Path(manager.connection_file))
            assert all(link.is_symlink() for link in links)
        assert manager.provisioner is None or not manager.is_alive()
    assert_clean(uid)
    assert not any(link.is_symlink() for link in links)  # the launcher removed its links


@needs_root
def test_a_killed_launcher_leaves_nothing_behind(tmp_path: Path) -> None:
    """``shutdown_kernel(now=True)`` SIGKILLs the launcher's group: the supervisor dies
    with it (parent-death signal), its namespace with it, and the reaper cleans up."""
    workdir = quiz_folder(tmp_path, "me")
    with (
        open(tmp_path / "kernel.log", "w") as log,
        sandbox_kernel(tmp_path, workdir, Limits(), log, shutdown_now=True) as (client, manager),
    ):
        assert run(client, DETACH).stdout.strip() == "detached"
        uid = uid_of(manager)
        assert wait_until(lambda: len(processes_of(uid)) == 2)
    assert_clean(uid)


ORPHANING_GRADER = """
import sys, time
from jupyter_client import KernelManager
from cnn_course.sandbox import KERNEL_NAME, sandbox_config
config = sandbox_config(sys.argv[1])
manager = KernelManager(kernel_name=KERNEL_NAME, config=config)
arguments = config.Autograde.Exporter.Execute.extra_arguments
manager.start_kernel(cwd=sys.argv[1], extra_arguments=arguments)
client = manager.blocking_client()
client.start_channels()
client.wait_for_ready(timeout=60)
print(manager.provisioner.pid, manager.connection_file, flush=True)
time.sleep(600)
"""


@needs_root
def test_a_kernel_whose_grader_died_stops(tmp_path: Path) -> None:
    """A grader that crashes (SIGKILL) cannot shut its kernel down: the launcher notices
    it was orphaned and stops the kernel, which cleans up as usual."""
    folder = quiz_folder(tmp_path, "me")
    grader = subprocess.Popen(
        [sys.executable, "-c", ORPHANING_GRADER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        pid_text, connection_file = grader.stdout.readline().split()
        launcher_id = int(pid_text)
        STARTED.append(launcher_id)
        assert processes_of(launcher.kernel_uid(launcher_id))
    finally:
        grader.kill()
        grader.wait()
    try:
        assert_clean(launcher.kernel_uid(launcher_id))
    finally:
        Path(connection_file).unlink(missing_ok=True)  # the dead grader's to remove


DYING_GRADER = """
import os, sys
from jupyter_client import KernelManager
from cnn_course.sandbox import KERNEL_NAME, sandbox_config
config = sandbox_config(sys.argv[1])
manager = KernelManager(kernel_name=KERNEL_NAME, config=config)
arguments = config.Autograde.Exporter.Execute.extra_arguments
manager.start_kernel(cwd=sys.argv[1], extra_arguments=arguments)
with open(sys.argv[2], "w") as out:
    print(manager.provisioner.pid, manager.connection_file, file=out)
os._exit(0)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@needs_root
def test_a_grader_that_dies_as_its_kernel_starts_leaves_nothing(tmp_path: Path) -> None:
    """The grader dies while its launcher is still planning: the launcher must not take
    init for its grader (a kernel once ran on for good that way); it stops, and cleans up."""
    folder = quiz_folder(tmp_path, "me")
    told = tmp_path / "launcher.txt"
    for _ in range(3):  # the grader dies at a different moment of the launcher's start
        # Not through pipes: a launcher left running would hold them open, and hang the test.
        subprocess.run(
            [sys.executable, "-c", DYING_GRADER, str(folder), str(told)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=120,
        )
        pid_text, connection_file = told.read_text().split()
        launcher_id = int(pid_text)
        STARTED.append(launcher_id)
        try:
            assert wait_until(lambda pid=launcher_id: not _alive(pid)), "the launcher runs on"
            assert_clean(launcher.kernel_uid(launcher_id))
        finally:
            Path(connection_file).unlink(missing_ok=True)


@needs_root
def test_a_launcher_whose_grader_is_gone_refuses_to_start() -> None:
    """Started for a grader that has already ended (``JPY_PARENT_PID``): no kernel."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    result = subprocess.run(
        [sys.executable, "-m", "cnn_course.sandbox.launcher", "-f", "/nonexistent.json"],
        env={**os.environ, "JPY_PARENT_PID": str(ended.pid)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"the grader (pid {ended.pid}) is gone before the kernel started" in result.stderr


@needs_root
def test_a_kernel_cannot_signal_another_kernel(tmp_path: Path) -> None:
    """Every kernel once ran as one uid, and a detached process SIGKILLed four
    classmates' kernels. Now A's kill(-1) and kills aimed at B's pids reach nothing of B,
    and neither does a detached process of A that keeps killing."""
    folder_a, folder_b = quiz_folder(tmp_path, "a"), quiz_folder(tmp_path, "b")
    with (
        open(tmp_path / "a.log", "w") as log_a,
        open(tmp_path / "b.log", "w") as log_b,
        sandbox_kernel(tmp_path, folder_b, Limits(), log_b) as (client_b, manager_b),
        sandbox_kernel(tmp_path, folder_a, Limits(), log_a) as (client_a, manager_a),
    ):
        targets = {
            "kernel": processes_of(uid_of(manager_b))[0],
            "launcher": launcher_pid(manager_b),
        }
        outcome = run_json(client_a, ATTACK % targets)
        # B's pids do not exist in A's PID namespace; kill(-1) finds nothing to signal.
        assert outcome == dict.fromkeys(["kernel", "launcher", "-1"], "ProcessLookupError")
        assert run(client_a, DETACHED_KILLER).stdout.strip() == "started"
        assert wait_until(lambda: not manager_a.is_alive(), timeout=20)  # A killed itself
        time.sleep(3.5)  # the killer's whole life
        assert run(client_b, "print(6 * 7)").stdout.strip() == "42"
        uid_a = uid_of(manager_a)
    assert_clean(uid_a)


# --------------------------------------------------------------------------- files


@needs_root
def test_what_the_kernel_writes_never_reaches_the_real_folder(tmp_path: Path) -> None:
    course = tmp_path / "course"
    workdir = fake_course(course)
    before = snapshot(workdir)
    limits = Limits(file_size_mb=512, scratch_mb=64, scratch_files=2000)
    code = textwrap.dedent(
        f"""
        import errno, json, os
        outcome = {{"copied": sorted(os.listdir("."))}}
        os.mkdir("flood")
        written = 0
        try:
            for index in range(20_000):
                with open(f"flood/{{index}}", "w") as handle:
                    handle.write("x")
                written += 1
        except OSError as error:
            outcome["flood"] = [errno.errorcode[error.errno], written]
        try:
            with open("big.bin", "wb") as handle:
                for _ in range(200):
                    handle.write(bytes(2**20))
        except OSError as error:
            outcome["big"] = errno.errorcode[error.errno]
        try:
            with open("/tmp/big.bin", "wb") as handle:
                for _ in range(200):
                    handle.write(bytes(2**20))
        except OSError as error:
            outcome["tmp"] = errno.errorcode[error.errno]
        os.remove("notebook.ipynb")
        os.symlink({str(course / "gradebook.db")!r}, "notebook.ipynb")
        with open("timestamp.txt", "w") as handle:
            handle.write("2020-01-01 00:00:00")
        with open("data/table.csv", "a") as handle:
            handle.write("forged")
        outcome["data"] = open("data/table.csv").read()
        print(json.dumps(outcome))
        """
    )
    with open(tmp_path / "kernel.log", "w") as log:
        with sandbox_kernel(course, workdir, limits, log) as (client, manager):
            outcome = run_json(client, code, timeout=120)
            assert snapshot(workdir) == before  # while it runs, too
            uid = uid_of(manager)
    assert outcome["copied"] == ["beside.py", "data", "notebook.ipynb", "timestamp.txt"]
    assert outcome["flood"][0] == "ENOSPC" and 1000 < outcome["flood"][1] < 2000
    assert (outcome["big"], outcome["tmp"]) == ("ENOSPC", "ENOSPC")
    assert outcome["data"] == "a,b\n1,2\nforged"
    assert snapshot(workdir) == before
    assert (workdir / "leak").is_symlink() and not (workdir / "notebook.ipynb").is_symlink()
    assert "leak: not a regular file or folder" in (tmp_path / "kernel.log").read_text()
    assert_clean(uid)


# ------------------------------------------------------------------ the course as repository


def repository_layout_preexec(course: Path) -> Callable[[], None]:
    """The README's layout: the course root holds the Python environment (``.venv``).

    This repository's ``.venv`` is bind-mounted at ``<course>/.venv`` in a mount namespace
    of the launcher alone (gone with it); the launcher runs as ``<course>/.venv/bin/python``,
    so its ``sys.prefix`` and site-packages are inside the course root.
    """
    venv = Path(sys.prefix)

    def preexec() -> None:
        assert launcher.unshare_mounts() is None
        (course / ".venv").mkdir(exist_ok=True)
        launcher._mount(str(venv), course / ".venv", None, launcher.MS_BIND, None)

    return preexec


@needs_root
def test_a_course_holding_its_python_environment_hides_all_but_python(tmp_path: Path) -> None:
    course = tmp_path / "course"
    workdir = fake_course(course)
    (course / ".venv").mkdir()
    kernels = tmp_path / "kernels" / "cnn-grader-repo"
    kernels.mkdir(parents=True)
    argv = [str(course / ".venv/bin/python"), "-I", "-m", "cnn_course.sandbox.launcher"]
    spec = {"argv": [*argv, "-f", "{connection_file}"], "display_name": "x", "language": "python"}
    (kernels / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(kernels.parent)])
    with open(tmp_path / "kernel.log", "w") as log:
        with sandbox_kernel(
            course,
            workdir,
            Limits(),
            log,
            preexec_fn=repository_layout_preexec(course),
            kernel_spec_manager=specs,
            kernel_name="cnn-grader-repo",
        ) as (client, manager):
            imports = run_json(client, IMPORTS)
            reads = run_json(client, READ_ATTEMPTS % secret_paths(course))
            beside = run(client, IMPORT_BESIDE)
            (listing,) = run_json(client, LISTING % [str(course)])
            uid = uid_of(manager)
    assert imports == {
        "prefix": str(course / ".venv"),  # the environment inside the course root
        "probe": str(REPO / "cnn_probe" / "__init__.py"),
        "cnn_solutions": "ModuleNotFoundError",
        "cnn_course": "ModuleNotFoundError",
        "cnn_course.grading": "ModuleNotFoundError",
        "cnn_course.sandbox": "ModuleNotFoundError",
    }
    assert reads == dict.fromkeys(secret_paths(course), "FileNotFoundError")
    assert beside.stdout.split() == ["42", str(uid)]
    assert listing == [".venv", "autograded"]
    assert_clean(uid)


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
    needed = launcher.needed_paths([folder])

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


def container_without_sys_admin() -> None:
    """As a container without CAP_SYS_ADMIN whose Python the kernel's group can read.

    Python is shown in a mount namespace of the launcher (as if installed in /usr), and
    the grader's runtime folder too, where the launcher links the sockets.
    """
    needed = launcher.needed_paths([Path(jupyter_runtime_dir())])
    launcher.expose(needed, pwd.getpwnam(SANDBOX_USER))
    drop_sys_admin()


@needs_root
def test_without_namespaces_an_unreachable_python_refuses_to_start(tmp_path: Path) -> None:
    """No mount namespace, and this Python out of the kernel's reach (pyenv in /root):
    nothing can make it reachable, so the kernel must not start at all rather than
    start unconfined. (Skipped where Python is readable by anyone.)"""
    who = launcher.Identity(launcher.kernel_uid(1), pwd.getpwnam(SANDBOX_USER).pw_gid, "x")
    if launcher.blocked_ancestor(Path(sys.base_prefix), who) is None:
        pytest.skip("this Python is readable by the kernel's uid")
    connection = tmp_path / "kernel.json"
    ports = dict(shell_port=1, iopub_port=2, stdin_port=3, control_port=4, hb_port=5)
    info = dict(ports, ip=str(tmp_path / "kernel-ipc"), transport="ipc", key="k")
    connection.write_text(json.dumps(info))
    command = [sys.executable, "-I", "-m", "cnn_course.sandbox.launcher", "-f", str(connection)]
    kernel = subprocess.Popen(
        command, cwd=tmp_path, preexec_fn=drop_sys_admin, stderr=subprocess.PIPE, text=True
    )
    STARTED.append(kernel.pid)
    _, stderr = kernel.communicate(timeout=60)
    assert kernel.returncode == 1
    for lost in ("no PID namespace", "no mount namespace", "no network namespace"):
        assert f"protection lost: {lost}" in stderr
    assert "cannot start a confined kernel" in stderr
    assert "has no mount namespace" in stderr
    assert_clean(launcher.kernel_uid(kernel.pid))
    assert not (tmp_path / "kernel-ipc-1").is_symlink()  # its socket links are gone too


@needs_root
def test_without_namespaces_the_kernel_is_still_its_own(tmp_path: Path) -> None:
    """A container without CAP_SYS_ADMIN (Docker's default) whose Python the kernel can
    read: no namespaces at all. The kernel starts, says what is lost, imports the module
    beside its notebook from its private copy, cannot signal another kernel (running
    without namespaces too), its detached process dies with it, and the real folder and
    the host's /tmp keep nothing of it."""
    course = tmp_path / "course"
    course.mkdir()
    workdir_a, workdir_b = quiz_folder(course, "a"), quiz_folder(course, "b")
    before = snapshot(workdir_a)
    env = {"CNN_SANDBOX_LOG_LEVEL": "INFO", "NBGRADER_EXECUTION": "autograde"}
    with (
        open(tmp_path / "a.log", "w") as log_a,
        open(tmp_path / "b.log", "w") as log_b,
        sandbox_kernel(course, workdir_b, Limits(), log_b, env, container_without_sys_admin) as (
            client_b,
            manager_b,
        ),
        sandbox_kernel(course, workdir_a, Limits(), log_a, env, container_without_sys_admin) as (
            client_a,
            manager_a,
        ),
    ):
        uid_a, uid_b = uid_of(manager_a), uid_of(manager_b)
        beside = run(client_a, IMPORT_BESIDE + "\nprint(os.getcwd())")
        # The quiz's numbers are the submitter's, though the kernel works in a copy.
        submitter = run(client_a, "import quiz_variant\nprint(quiz_variant.resolve_student_id())")
        forge = "open('timestamp.txt', 'w').write('forged')\nopen('/tmp/left-over', 'w').close()"
        run(client_a, forge)
        targets = {"kernel": processes_of(uid_b)[0], "launcher": launcher_pid(manager_b)}
        outcome = run_json(client_a, ATTACK % targets)
        assert run(client_b, "print(6 * 7)").stdout.strip() == "42"
        assert run(client_a, DETACH).stdout.strip() == "detached"
        assert wait_until(lambda: len(processes_of(uid_a)) == 2)  # the kernel, its sleeper
    value, uid, cwd = beside.stdout.split()
    assert (value, int(uid)) == ("42", uid_a)
    assert submitter.stdout.strip() == "('a', 'the autograder (the id you submitted with)')"
    assert "/cnn-grader-sandbox/" in cwd and cwd.endswith("/work")  # a private copy
    # kill(-1) "succeeds" whenever the host has other processes, even if it may signal none
    # of them (Linux returns EPERM only per target); B answering after it is the proof.
    expected = {"kernel": "PermissionError", "launcher": "PermissionError"}
    assert outcome == {**expected, "-1": "sent"}
    log = (tmp_path / "a.log").read_text()
    for lost in ("no PID namespace", "no mount namespace", "no network namespace"):
        assert f"protection lost: {lost}" in log
    assert snapshot(workdir_a) == before
    assert not Path("/tmp/left-over").exists()
    assert_clean(uid_a)
    assert_clean(uid_b)
