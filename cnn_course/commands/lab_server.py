"""A JupyterLab server process: started, waited on until its API answers, always stopped.

:class:`RunningLab` runs a :class:`cnn_course.commands.lab_setup.LabSpec` in a session of its own
and stops it, and any kernel it left behind, when it is done.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from cnn_course.commands.lab_setup import LabSpec

READY_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0


def _die_with_parent() -> None:
    """Runs in the server process before exec: ask Linux for SIGTERM when we die.

    Even a SIGKILLed ``cnn-course lab`` then leaves no server behind.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class RunningLab:
    """A JupyterLab server process; a context manager that always stops it.

    Parameters
    ----------
    spec : LabSpec
        What to run.
    """

    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = READY_TIMEOUT) -> RunningLab:
        """Start the server and wait until its API answers (at most ``timeout`` s)."""
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.spec.log_path, "wb") as log:
            # A session of its own: Ctrl-C in the terminal reaches only us, and we stop
            # the server (and its kernels) in order.
            self.process = subprocess.Popen(
                self.spec.argv,
                cwd=self.spec.cwd,
                env=self.spec.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(
            f"{self.spec.base_url}/api/status",
            headers={"Authorization": f"token {self.spec.token}"},
        )
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise TimeoutError(f"JupyterLab not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """Last lines of the server log."""
        try:
            text = self.spec.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait(self) -> int:
        """Block until the server exits; return its exit code."""
        assert self.process is not None, "not started"
        return self.process.wait()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and any kernel it left behind."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        # Kernels run in the server's process group; one killed with its server lingers.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> RunningLab:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
