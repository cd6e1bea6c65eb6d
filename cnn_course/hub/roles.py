"""Jupyter configuration per role: what students and the grader see in JupyterLab.

Each role has a folder (``<prefix>/etc/jupyter-<role>``) that the spawner puts on the
user's ``JUPYTER_CONFIG_PATH``, ahead of the environment's own configuration, where
nbgrader turns every extension on for everyone. Students get the assignment list and
validation; the grader the formgrader, the course list and assignment creation. The
formgrader opens in a tab of its own (``/user/<grader>/formgrader``): JupyterHub forbids
framing a user's pages (``frame-ancestors 'none'``), so the JupyterLab panel that frames it
would stay blank, and it is off.

These are conveniences, not the protection: a student could turn an extension back on in
``~/.jupyter``, and would find nothing, since the course folder is the instructor's
(mode 700) and the reference is readable by graders only.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnn_course.hub.settings import HubSettings

SERVER_EXTENSIONS = {
    "student": {"assignment_list": True, "validate_assignment": True},
    "grader": {"formgrader": True, "course_list": True, "validate_assignment": True},
}
LAB_EXTENSIONS = {
    "student": {"assignment-list", "validate-assignment"},
    "grader": {"create-assignment", "course-list", "validate-assignment"},
}
# nbgrader's submit, with submissions kept from other students (cnn_course/hub/private_submit.py,
# deployed as a module of its own).
SUBMIT_CLASS = "cnn_hub_submit.PrivateSubmit"
ALL_SERVER_EXTENSIONS = ("formgrader", "assignment_list", "course_list", "validate_assignment")
ALL_LAB_EXTENSIONS = (
    "formgrader",
    "create-assignment",
    "assignment-list",
    "course-list",
    "validate-assignment",
)


def server_config(role: str) -> dict[str, object]:
    """``jupyter_server_config.json``: nbgrader's server extensions of ``role``, on or off."""
    wanted = SERVER_EXTENSIONS[role]
    return {
        "ServerApp": {
            "jpserver_extensions": {
                f"nbgrader.server_extensions.{name}": wanted.get(name, False)
                for name in ALL_SERVER_EXTENSIONS
            }
        }
    }


def page_config(role: str) -> dict[str, object]:
    """``labconfig/page_config.json``: nbgrader's JupyterLab plugins ``role`` does not get."""
    return {
        "disabledExtensions": {
            f"@jupyter/nbgrader:{name}": True
            for name in ALL_LAB_EXTENSIONS
            if name not in LAB_EXTENSIONS[role]
        }
    }


def nbgrader_config(role: str, settings: HubSettings) -> str:
    """``nbgrader_config.py``: the exchange for everyone; for the grader, the course."""
    lines = [
        f"# nbgrader configuration of the course's {role}s (cnn-course hub setup).",
        "c = get_config()  # noqa: F821",
        f"c.Exchange.root = {str(settings.exchange)!r}",
        f"c.CourseDirectory.course_id = {settings.course_id!r}",
        f"c.ExchangeFactory.submit = {SUBMIT_CLASS!r}",
    ]
    if role == "grader":
        # The formgrader reads the configuration of the server's working directory (the
        # home): the course's own file makes it grade exactly as `cnn-course grade` does.
        lines.append(f"load_subconfig({str(settings.course_dir / 'nbgrader_config.py')!r})")
    return "\n".join(lines) + "\n"


def write_role_configs(settings: HubSettings) -> list[Path]:
    """Write both roles' folders (root's, readable by all); return them."""
    folders = []
    for role in ("student", "grader"):
        folder = settings.role_config(role)
        (folder / "labconfig").mkdir(parents=True, exist_ok=True)
        (folder / "jupyter_server_config.json").write_text(
            json.dumps(server_config(role), indent=1) + "\n"
        )
        (folder / "labconfig" / "page_config.json").write_text(
            json.dumps(page_config(role), indent=1) + "\n"
        )
        (folder / "nbgrader_config.py").write_text(nbgrader_config(role, settings))
        folders.append(folder)
    return folders
