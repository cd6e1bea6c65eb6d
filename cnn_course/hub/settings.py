"""What a hub deployment is: names, paths and ports, saved as ``hub.json`` beside its config.

The setup writes the settings once (:func:`save`); the JupyterHub configuration
(``jupyterhub_config.py``) and ``cnn-course hub start | remove`` read them back
(:func:`load`), so the deployment is described in one file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SETTINGS_NAME = "hub.json"
STANDARD_EXCHANGE = Path("/usr/local/share/nbgrader/exchange")
DEFAULT_PREFIX = Path("/opt/cnn-course")


@dataclass(frozen=True)
class HubSettings:
    """One deployment.

    Attributes
    ----------
    prefix : Path
        Where the deployment lives (root's): ``venv/`` (the Python every user runs),
        ``src/`` (the course's code, readable by graders only), ``etc/`` (configuration),
        ``state/`` (the hub's database and secrets, root only), ``proxy/``, ``bin/``.
    course_id : str
        nbgrader's course id (the course's ``c.CourseDirectory.course_id``).
    instructor : str
        The grader's Unix account; their course folder is ``course_dir``.
    students : tuple of str
        Students' Unix accounts (the hub's allowed users, with the instructor).
    course_dir : Path
        The instructor's course folder (mode 700, in a mode-700 home).
    exchange : Path
        nbgrader's exchange (mode 1777).
    port : int
        The hub's public port on 127.0.0.1 (the proxy); the hub's own API listens on
        ``port + 1``, the proxy's API on ``port + 2``.
    graders_group : str
        The Unix group that may read ``src/`` and start grading kernels through sudo.
    created_accounts, created_group
        What the setup made (and ``remove`` undoes); accounts and a group that existed
        before are left alone.
    """

    prefix: Path
    course_id: str
    instructor: str
    students: tuple[str, ...]
    course_dir: Path
    exchange: Path = STANDARD_EXCHANGE
    port: int = 8000
    graders_group: str = ""
    created_accounts: tuple[str, ...] = field(default=())
    created_group: bool = False

    def __post_init__(self) -> None:
        if not self.graders_group:
            object.__setattr__(self, "graders_group", f"{self.course_id}-graders")

    @property
    def venv(self) -> Path:
        return self.prefix / "venv"

    @property
    def src(self) -> Path:
        return self.prefix / "src"

    @property
    def etc(self) -> Path:
        return self.prefix / "etc"

    @property
    def state(self) -> Path:
        return self.prefix / "state"

    @property
    def kernel_wrapper(self) -> Path:
        return self.prefix / "bin" / "cnn-grader-kernel"

    @property
    def proxy_command(self) -> Path:
        return self.prefix / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"

    @property
    def sudoers_file(self) -> Path:
        # Named after the prefix, so two deployments on one machine keep their own rule
        # (sudo skips names with a dot).
        name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in self.prefix.name)
        return Path("/etc/sudoers.d") / f"cnn-hub-{name}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def site_packages(self) -> Path:
        """The venv's site-packages (where students' own modules go: ``cnn_hub_submit``)."""
        return next((self.venv / "lib").glob("python3*/site-packages"))

    def role_config(self, role: str) -> Path:
        """The Jupyter configuration folder of ``role`` ("grader" or "student")."""
        return self.etc / f"jupyter-{role}"

    def role_of(self, user: str) -> str:
        return "grader" if user == self.instructor else "student"


def save(settings: HubSettings) -> Path:
    """Write ``settings`` to ``<prefix>/etc/hub.json``; return the file."""
    data = asdict(settings)
    data = {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}
    target = settings.etc / SETTINGS_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=1) + "\n")
    return target


def load(path: Path) -> HubSettings:
    """Read ``hub.json`` (or the ``etc/hub.json`` of a prefix folder)."""
    if path.is_dir():
        path = path / "etc" / SETTINGS_NAME
    data = json.loads(path.read_text())
    for key in ("prefix", "course_dir", "exchange"):
        data[key] = Path(data[key])
    for key in ("students", "created_accounts"):
        data[key] = tuple(data.get(key, ()))
    return HubSettings(**data)
