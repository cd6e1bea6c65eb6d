"""Helpers for tests/test_sandbox.py: running code in real cnn-grader kernels, and looking
at what the kernels leave on the host (processes of a uid, private folders, files)."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from cnn_course.sandbox import KERNEL_NAME, Limits, sandbox_config
from cnn_course.sandbox.permissions import PRIVATE_BASE_NAME, kernel_uid

PR_CAPBSET_DROP, CAP_SYS_ADMIN = 24, 21
# Launcher pids of the kernels these tests started (other test files may run kernels of
# their own at the same time: only these are checked for leftovers).
STARTED: list[int] = []


def drop_sys_admin() -> None:
    """As a container without CAP_SYS_ADMIN: what this process executes next lacks it."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0)


@dataclass
class Reply:
    """What one execution in a kernel produced."""

    status: str
    stdout: str = ""
    stderr: str = ""
    ename: str = ""
    evalue: str = ""


def run(client: BlockingKernelClient, code: str, timeout: float = 60) -> Reply:
    """Execute ``code`` and collect its streams, result and error."""
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


def run_json(client: BlockingKernelClient, code: str, timeout: float = 60) -> object:
    """Execute ``code``, which prints one JSON document as its last line; return it."""
    reply = run(client, code, timeout)
    assert reply.status == "ok", reply
    return json.loads(reply.stdout.strip().splitlines()[-1])


@contextmanager
def sandbox_kernel(
    course_root: Path,
    workdir: Path,
    limits: Limits,
    stderr: IO[str],
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    kernel_spec_manager: KernelSpecManager | None = None,
    kernel_name: str = KERNEL_NAME,
    shutdown_now: bool = False,
) -> Iterator[tuple[BlockingKernelClient, KernelManager]]:
    """A ready cnn-grader kernel started in ``workdir``, as nbgrader's Execute starts it.

    Shut down as nbclient does by default (a shutdown request, then waiting), so that the
    launcher's cleanup has run when the block ends; ``shutdown_now`` SIGKILLs the
    launcher's process group instead (nbclient's "immediate" shutdown).
    """
    config = sandbox_config(course_root, limits)
    extra = {"kernel_spec_manager": kernel_spec_manager} if kernel_spec_manager else {}
    manager = KernelManager(kernel_name=kernel_name, config=config, **extra)
    manager.start_kernel(
        cwd=str(workdir),
        env={**os.environ, **(env or {})},
        stderr=stderr,
        preexec_fn=preexec_fn,
        extra_arguments=config.Autograde.Exporter.Execute.extra_arguments,
    )
    STARTED.append(launcher_pid(manager))
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client, manager
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=shutdown_now)


def launcher_pid(manager: KernelManager) -> int:
    """The host pid of the kernel's launcher (the process jupyter_client started)."""
    return manager.provisioner.pid


def uid_of(manager: KernelManager) -> int:
    """The uid the kernel started by ``manager`` runs as (as root)."""
    return kernel_uid(launcher_pid(manager))


def processes_of(uid: int) -> list[int]:
    """Host pids of the processes whose real uid is ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        real_uid = next(line.split()[1] for line in status.splitlines() if line[:4] == "Uid:")
        if int(real_uid) == uid:
            found.append(int(entry.name))
    return found


def private_dirs(launcher: int) -> list[Path]:
    """The private folders of the kernel whose launcher had pid ``launcher``."""
    found = []
    for parent in (Path("/run"), Path("/tmp")):
        base = parent / PRIVATE_BASE_NAME
        if base.is_dir():
            found.extend(path for path in base.iterdir() if path.name.startswith(f"k{launcher}-"))
    return found


def leftovers(launcher: int) -> tuple[list[int], list[Path]]:
    """Processes and private folders left of the kernel whose launcher had pid ``launcher``."""
    return processes_of(kernel_uid(launcher)), private_dirs(launcher)


def wait_until(condition: Callable[[], bool], timeout: float = 15) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds passed; its last value."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def snapshot(folder: Path) -> dict[str, tuple[str, str]]:
    """Every entry below ``folder``: relative path -> (kind, sha256 of a file's bytes)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if path.is_symlink():
            found[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("dir", "")
        else:
            found[relative] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return found


# Student code: start a detached sleeper (double fork, setsid) and print nothing.
DETACH = """import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "3600"])
    os._exit(0)
os.wait()
print("detached")"""

# Student code: SIGKILL each of the given host pids, then kill(-1) (which spares the
# caller); print what each attempt raised, as JSON.
ATTACK = """import json, os, signal
outcome = {}
for name, pid in [*%r.items(), ("-1", -1)]:
    try:
        os.kill(pid, signal.SIGKILL)
        outcome[name] = "sent"
    except OSError as error:
        outcome[name] = type(error).__name__
print(json.dumps(outcome))"""

# Student code: a detached process that keeps sending SIGKILL to every process it may,
# for 3 seconds (its own kernel dies of it).
DETACHED_KILLER = """import subprocess, sys
killer = "\\n".join([
    "import os, time",
    "for _ in range(30):",
    "    try: os.kill(-1, 9)",
    "    except OSError: pass",
    "    time.sleep(0.1)",
])
subprocess.Popen([sys.executable, "-c", killer], start_new_session=True)
print("started")"""
