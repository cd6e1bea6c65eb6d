"""The kernel's ZMQ sockets: bound in its private folder, linked at the grader's paths.

The kernel cannot create files in the grader's runtime directory, so it binds its unix
sockets in its private folder (:func:`relocate_sockets`), and each path the grader
connects to becomes a symbolic link to one of them (removed by the launcher at exit).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cnn_course.sandbox.kernelspec import KERNEL_NAME
from cnn_course.sandbox.sudo import Caller, as_caller
from cnn_course.sandbox.syscalls import SandboxError

PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


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
