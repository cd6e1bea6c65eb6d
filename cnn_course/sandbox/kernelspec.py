"""The "cnn-grader" kernelspec, its resource limits, and the nbgrader config that uses it.

The kernel is an ordinary ipykernel started through :mod:`cnn_course.sandbox.launcher`,
which confines it before any student code runs. Limits come, by increasing priority,
from :class:`Limits`' defaults, ``CNN_SANDBOX_*`` environment variables of the grading
process, and launcher arguments (``Execute.extra_arguments``, see :func:`sandbox_config`).

This module is imported by the launcher before the kernel starts, so it imports
nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traitlets.config import Config

KERNEL_NAME = "cnn-grader"
DISPLAY_NAME = "Python 3 (CNN grader sandbox)"
ENV_PREFIX = "CNN_SANDBOX_"

# Wall-clock limit per cell (nbgrader's default, 30 s, is short for gradient checks);
# the CPU-time limit bounds the whole notebook.
DEFAULT_CELL_TIMEOUT = 120


@dataclass(frozen=True)
class Limits:
    """Resource limits of one grading kernel (``setrlimit``, set before the kernel starts).

    Attributes
    ----------
    memory_mb : int
        Address space (``RLIMIT_AS``) in MiB; numpy, scipy and matplotlib need ~0.5 GiB.
    cpu_seconds : int
        CPU time for the whole kernel (``RLIMIT_CPU``): SIGXCPU kills it past this.
    open_files : int
        Open file descriptors (``RLIMIT_NOFILE``); the kernel itself uses ~40.
    file_size_mb : int
        Largest file the kernel may write (``RLIMIT_FSIZE``) in MiB.
    processes : int
        Processes and threads of the kernel (``RLIMIT_NPROC``); only set as root, where
        each kernel has a uid of its own, since the limit counts all of a uid's processes.
    scratch_mb : int
        Size in MiB of each of the kernel's private tmpfs (its working directory, ``/tmp``,
        ``/var/tmp``, ``/dev/shm``, ``HOME``); as root with mount namespaces only.
    scratch_files : int
        Files and folders each of those tmpfs can hold (its inode limit).
    """

    memory_mb: int = 2048
    cpu_seconds: int = 300
    open_files: int = 256
    file_size_mb: int = 64
    processes: int = 512
    scratch_mb: int = 64
    scratch_files: int = 2000

    def to_args(self) -> list[str]:
        """Launcher arguments that pin every limit, e.g. ``["--memory-mb=2048", ...]``."""
        return [f"--{f.name.replace('_', '-')}={getattr(self, f.name)}" for f in fields(self)]

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Register ``--memory-mb`` ... on ``parser``; unset ones parse as ``None``."""
        for f in fields(cls):
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=int, default=None)

    @classmethod
    def resolve(cls, args: argparse.Namespace, environ: Mapping[str, str]) -> Limits:
        """Defaults, overridden by ``CNN_SANDBOX_<NAME>`` variables, then by arguments."""
        chosen: dict[str, int] = {}
        for f in fields(cls):
            env_value = environ.get(ENV_PREFIX + f.name.upper())
            if env_value:
                chosen[f.name] = int(env_value)
            if getattr(args, f.name, None) is not None:
                chosen[f.name] = getattr(args, f.name)
        limits = replace(cls(), **chosen)
        if min(getattr(limits, f.name) for f in fields(limits)) <= 0:
            raise ValueError(f"resource limits must be positive: {limits}")
        return limits


def kernel_argv(python: str = sys.executable) -> list[str]:
    """The kernelspec's command.

    ``-I`` (isolated mode) keeps the working directory, where nbgrader puts the
    student's files, off ``sys.path`` while the launcher still runs as root, and ignores
    ``PYTHON*`` variables.
    """
    return [python, "-I", "-m", "cnn_course.sandbox.launcher", "-f", "{connection_file}"]


def kernelspec_dict(
    python: str = sys.executable, sudo_wrapper: str | Path | None = None
) -> dict[str, object]:
    """Contents of ``kernel.json`` for the grading kernel.

    With ``sudo_wrapper`` the kernel starts through ``sudo -n WRAPPER`` (graders who are
    not root: :mod:`cnn_course.sandbox.sudo`).
    """
    if sudo_wrapper is not None:
        from cnn_course.sandbox.sudo import kernel_argv_via_sudo

        argv = kernel_argv_via_sudo(sudo_wrapper)
    else:
        argv = kernel_argv(python)
    return {
        "argv": argv,
        "display_name": DISPLAY_NAME,
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }


def ensure_kernelspec(
    prefix: str | Path = sys.prefix, sudo_wrapper: str | Path | None = None
) -> Path:
    """Install (or refresh) the "cnn-grader" kernelspec under ``prefix``.

    Parameters
    ----------
    prefix : str or Path
        Environment prefix; the spec goes to ``<prefix>/share/jupyter/kernels/cnn-grader``,
        where jupyter_client finds it for this environment's Python.
    sudo_wrapper : str or Path, optional
        Start the kernel through ``sudo -n sudo_wrapper`` (see :func:`kernelspec_dict`).

    Returns
    -------
    Path
        The kernelspec directory.
    """
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec_file = folder / "kernel.json"
    text = json.dumps(kernelspec_dict(sudo_wrapper=sudo_wrapper), indent=1) + "\n"
    if not spec_file.exists() or spec_file.read_text() != text:
        spec_file.write_text(text)
    return folder


def ipc_prefix() -> str:
    """An absolute socket path prefix for this process's kernels, unique to this call.

    With ``transport = "ipc"`` jupyter_client names the sockets ``<ip>-<n>``, and its
    default ``ip`` is the relative ``kernel-ipc``: nbclient starts the kernel in the
    notebook's folder, so kernel and grader would resolve it in different directories
    and never meet. The prefix carries the process id and a random part, so that
    worker processes grading at the same time do not pick the same paths; within one
    process jupyter_client skips paths still in use.
    """
    import secrets

    from jupyter_core.paths import jupyter_runtime_dir

    runtime = Path(jupyter_runtime_dir())
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(runtime / f"{KERNEL_NAME}-{os.getpid()}-{secrets.token_hex(4)}-ipc")


def sandbox_config(
    course_root: str | Path,
    limits: Limits | None = None,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    extra_arguments: Sequence[str] = (),
) -> Config:
    """nbgrader configuration that executes notebooks in the grading kernel.

    Parameters
    ----------
    course_root : str or Path
        The course directory. As root, the kernel sees none of it but a private copy of
        the files in ``autograded/<student>/<assignment>`` (see
        :mod:`cnn_course.sandbox.launcher`).
    limits : Limits, optional
        Pin these limits; without it the launcher uses its defaults and ``CNN_SANDBOX_*``
        variables of the grading process.
    cell_timeout : int
        ``Execute.timeout``: wall-clock seconds per cell before nbgrader interrupts it.
    extra_arguments : sequence of str
        More launcher or ipykernel arguments.

    Returns
    -------
    traitlets.config.Config
        ``Autograde.Exporter.Execute``'s ``kernel_name``, ``timeout`` and ``extra_arguments``,
        ``KernelManager.transport = "ipc"`` (the kernel has no network, so its ZMQ
        sockets are unix sockets; the setting reaches nbclient's ``AsyncKernelManager``,
        a subclass) and ``KernelManager.ip`` (see :func:`ipc_prefix`). Merge it into the
        course's config.
    """
    from traitlets.config import Config

    config = Config()
    config.KernelManager.ip = ipc_prefix()
    config.KernelManager.transport = "ipc"
    # Scoped to autograde (traitlets' nested config follows Execute's parent chain:
    # Autograde -> its exporter -> Execute), so an instructor's validation keeps the
    # ordinary kernel and only students' submissions run confined.
    execute = config.Autograde.Exporter.Execute
    execute.kernel_name = KERNEL_NAME
    # A graded kernel has nothing to save: killing it (the launcher's reaper then ends
    # everything it started) saves the graceful shutdown's wait, about 0.3 s a notebook.
    execute.shutdown_kernel = "immediate"
    # Global, not scoped: a course or a test that sets Execute.timeout must win over it.
    config.Execute.timeout = cell_timeout
    execute.extra_arguments = [
        f"--course-root={Path(course_root).resolve()}",
        *(limits.to_args() if limits else []),
        *extra_arguments,
    ]
    return config
