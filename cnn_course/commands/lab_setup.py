"""What each lab is: the course read, the student's home and kernel, the server's command.

:func:`read_course` reads the course id and exchange; :func:`student_lab` prepares a
student's home (nbgrader config, disabled instructor plugins, a kernel that cannot import
:data:`BLOCKED_MODULES`) and :func:`instructor_lab` the instructor's config; both return a
:class:`LabSpec` that :mod:`cnn_course.commands.lab_server` runs. The subcommand is
:mod:`cnn_course.commands.lab`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cnn_course.config import course_config

COURSE_CONFIG = "nbgrader_config.py"
DEFAULT_PORT = 8888

# Modules a student's kernel must not see: the reference solutions and the tooling that
# may import them.
BLOCKED_MODULES = ("cnn_solutions", "cnn_course")

# nbgrader's instructor-side pieces; the student lab switches them off.
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:create-assignment",
)

# nbgrader joins ids with "+" in exchange file names and globs with "*"; a student id is
# also a directory name.
STUDENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# Run by the student kernel spec instead of ``ipykernel_launcher``. It is a file of its own
# (not a module of this package) because this package is itself blocked in that kernel.
STUDENT_KERNEL_LAUNCHER = '''\
"""Start an IPython kernel in which the course's reference code cannot be imported."""

import os
import sys

BLOCKED = {blocked!r}


class BlockReferenceCode:
    """Meta path finder that refuses the blocked top-level packages.

    It sits first on ``sys.meta_path``, so neither the editable-install finder nor a
    directory on ``sys.path`` can supply them.
    """

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, BlockReferenceCode)
for _name in [m for m in sys.modules if m.partition(".")[0] in BLOCKED]:
    del sys.modules[_name]
# Python put this file's directory first on sys.path; the kernel adds the cwd itself.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

from ipykernel import kernelapp  # noqa: E402

kernelapp.launch_new_instance()
'''


@dataclass(frozen=True)
class Course:
    """What the labs need to know about a course directory.

    Attributes
    ----------
    root : Path
        The course directory (holds ``nbgrader_config.py``, ``source/``, ``release/``).
    course_id : str
        ``CourseDirectory.course_id`` from the course config.
    exchange : Path
        ``Exchange.root`` from the course config, else ``<root>/exchange``.
    """

    root: Path
    course_id: str
    exchange: Path


@dataclass(frozen=True)
class LabSpec:
    """How to start one JupyterLab server: command, environment and address.

    Attributes
    ----------
    argv : list of str
        The command line.
    env : dict
        The complete environment of the server process.
    cwd : Path
        Working directory, also the lab's root directory.
    port : int
        Port on 127.0.0.1.
    token : str
        The server's token.
    log_path : Path
        Where the server's own log goes.
    """

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    token: str
    log_path: Path

    @property
    def base_url(self) -> str:
        """Server address without the token, e.g. ``http://127.0.0.1:8888``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The lab's address with the token, to open in a browser."""
        return f"{self.base_url}/lab?token={self.token}"


def default_course_root() -> Path:
    """The working directory if it holds a course config, else this repository's root."""
    cwd = Path.cwd()
    if (cwd / COURSE_CONFIG).is_file():
        return cwd
    repo = Path(__file__).resolve().parents[2]
    return repo if (repo / COURSE_CONFIG).is_file() else cwd


def read_course(root: Path) -> Course:
    """Read the course id and exchange as nbgrader reads them (:mod:`cnn_course.config`).

    Parameters
    ----------
    root : Path
        Course directory.

    Returns
    -------
    Course

    Raises
    ------
    FileNotFoundError
        If the directory has no ``nbgrader_config.py``.
    ValueError
        If the config sets no ``CourseDirectory.course_id``.
    """
    root = Path(root).resolve()
    if not (root / COURSE_CONFIG).is_file():
        raise FileNotFoundError(f"no {COURSE_CONFIG} in {root}: is it a course directory?")
    config = course_config(root)
    course_id = config.CourseDirectory.get("course_id")
    if not course_id:
        raise ValueError(f"{root / COURSE_CONFIG} sets no CourseDirectory.course_id")
    # A relative Exchange.root means relative to the course, where nbgrader runs.
    exchange = root / (config.Exchange.get("root") or "exchange")
    return Course(root=root, course_id=str(course_id), exchange=exchange.resolve())


def ensure_exchange(course: Course) -> Path:
    """Create the exchange directory, writable by all and sticky (mode 1777).

    Returns
    -------
    Path
        The exchange directory.
    """
    course.exchange.mkdir(parents=True, exist_ok=True)
    if course.exchange.stat().st_mode & 0o7777 != 0o1777:
        course.exchange.chmod(0o1777)
    return course.exchange


def free_port(preferred: int = DEFAULT_PORT, tries: int = 100) -> int:
    """First port from ``preferred`` on that 127.0.0.1 can bind, else any free port."""
    for port in [*range(preferred, preferred + tries), 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free TCP port on 127.0.0.1")


def write_student_kernel(data_dir: Path, python: str = sys.executable) -> Path:
    """Write a ``python3`` kernel spec whose kernel cannot import the reference code.

    Parameters
    ----------
    data_dir : Path
        A Jupyter data directory (put first on ``JUPYTER_PATH``).
    python : str
        Interpreter that runs the kernel; it needs ipykernel and the course's libraries.

    Returns
    -------
    Path
        The kernel spec directory ``<data_dir>/kernels/python3``.
    """
    spec_dir = data_dir / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    launcher = spec_dir / "student_kernel.py"
    launcher.write_text(STUDENT_KERNEL_LAUNCHER.format(blocked=BLOCKED_MODULES))
    spec = {
        "argv": [python, str(launcher), "-f", "{connection_file}"],
        "display_name": "Python 3 (student)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return spec_dir


def _student_nbgrader_config(course: Course, student_id: str, home: Path) -> str:
    """nbgrader config of a student: their id, their home, the course exchange."""
    lines = [
        "# Written by `cnn-course lab --student`; rewritten at every start.",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.course_id = {course.course_id!r}",
        f"c.CourseDirectory.student_id = {student_id!r}",
        f"c.CourseDirectory.root = {str(home)!r}",
        f"c.Exchange.root = {str(course.exchange)!r}",
        f"c.Exchange.assignment_dir = {str(home)!r}",
    ]
    return "\n".join(lines) + "\n"


def _write_json_if_missing(path: Path, data: dict) -> None:
    """Write a settings file once; later changes by the user stay."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1) + "\n")


def quiet_lab_settings(config_dir: Path) -> None:
    """Turn off the news prompt: the machine may be offline, and the toast covers the UI."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    _write_json_if_missing(settings / "notification.jupyterlab-settings", {"fetchNews": "false"})


def _server_argv(root: Path, port: int, token: str) -> list[str]:
    """JupyterLab command line shared by both labs: loopback only, fixed port and token."""
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={token}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--ServerApp.allow_root=True")
    return argv


def student_lab(
    course: Course,
    student_id: str,
    *,
    home: Path | None = None,
    port: int | None = None,
    token: str | None = None,
    env: Mapping[str, str] | None = None,
) -> LabSpec:
    """Prepare a student's home and describe the student's JupyterLab.

    Parameters
    ----------
    course : Course
        The course (see `read_course`).
    student_id : str
        Letters, digits, ``_``, ``.``, ``-``.
    home : Path, optional
        The student's working directory; default ``<course>/students/<student_id>``.
    port : int, optional
        Port on 127.0.0.1; default the first free one from 8888.
    token : str, optional
        Server token; default a random one.
    env : mapping, optional
        Base environment; default ``os.environ``.

    Returns
    -------
    LabSpec
    """
    if not STUDENT_ID_RE.match(student_id):
        raise ValueError(f"invalid student id {student_id!r}: use letters, digits, _ . -")
    home = Path(home or course.root / "students" / student_id).resolve()
    config_dir = home / ".jupyter"
    data_dir = home / ".local" / "share" / "jupyter"
    for directory in (home, config_dir / "labconfig", data_dir):
        directory.mkdir(parents=True, exist_ok=True)
    ensure_exchange(course)
    (config_dir / COURSE_CONFIG).write_text(_student_nbgrader_config(course, student_id, home))
    disabled = {"disabledExtensions": dict.fromkeys(INSTRUCTOR_LAB_PLUGINS, True)}
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(disabled, indent=1))
    quiet_lab_settings(config_dir)
    write_student_kernel(data_dir)

    child_env = dict(os.environ if env is None else env)
    for leaky in ("JUPYTER_CONFIG_PATH", "JUPYTER_PATH", "JUPYTER_RUNTIME_DIR"):
        child_env.pop(leaky, None)
    child_env.update(
        # The student's config outranks everything (JUPYTER_CONFIG_PATH comes first) and
        # the student's kernels outrank the environment's (JUPYTER_PATH comes first).
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_CONFIG_PATH=str(config_dir),
        JUPYTER_DATA_DIR=str(data_dir),
        JUPYTER_PATH=str(data_dir),
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTERHUB_USER=student_id,
    )
    port = port or free_port()
    token = token or secrets.token_hex(24)
    argv = _server_argv(home, port, token)
    argv += [f"--ServerApp.jpserver_extensions={ext}=False" for ext in INSTRUCTOR_SERVER_EXTENSIONS]
    return LabSpec(argv, child_env, home, port, token, config_dir / "lab.log")


def instructor_lab(
    course: Course,
    *,
    port: int | None = None,
    token: str | None = None,
    env: Mapping[str, str] | None = None,
) -> LabSpec:
    """Describe the instructor's JupyterLab at the course root, with the formgrader.

    The course's exchange is passed to the formgrader through an extra config directory
    (``<course>/.cnn-course-lab/instructor``), so release and collect in the formgrader
    use the exchange the student labs use, whether or not the course config names it.

    Parameters
    ----------
    course : Course
        The course (see `read_course`).
    port : int, optional
        Port on 127.0.0.1; default the first free one from 8888.
    token : str, optional
        Server token; default a random one.
    env : mapping, optional
        Base environment; default ``os.environ``.

    Returns
    -------
    LabSpec
    """
    state = course.root / ".cnn-course-lab" / "instructor"
    state.mkdir(parents=True, exist_ok=True)
    ensure_exchange(course)
    (state / COURSE_CONFIG).write_text(
        "# Written by `cnn-course lab --instructor`; the course config still wins.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(course.exchange)!r}\n"
    )
    child_env = dict(os.environ if env is None else env)
    extra = child_env.get("JUPYTER_CONFIG_PATH")
    child_env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([p for p in (str(state), extra) if p])
    child_env.pop("JUPYTERHUB_USER", None)
    port = port or free_port()
    token = token or secrets.token_hex(24)
    argv = _server_argv(course.root, port, token)
    return LabSpec(argv, child_env, course.root, port, token, state / "lab.log")
