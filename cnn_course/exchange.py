"""The course's nbgrader exchange, seen from the instructor's side.

``cnn-course release``, ``collect`` and ``feedback`` (:mod:`cnn_course.commands.release`,
:mod:`cnn_course.commands.collect`, :mod:`cnn_course.commands.return_feedback`) share what
is here: where the exchange is (the course config's ``c.Exchange.root``), whether it can be
used, and how an nbgrader exchange application is run in this process (:func:`run_app`,
through :func:`cnn_course.nbgrader_api.init_app`, which puts this environment's tools on
``PATH`` first, so a gradebook is created even when the virtualenv was not activated). The
demo's students use :func:`run_app` too.

nbgrader's layout under the exchange root::

    <root>/<course_id>/outbound/<assignment>/   released student versions
    <root>/<course_id>/inbound/<student>+<assignment>+<timestamp>+<random>/   submissions
    <root>/<course_id>/feedback/<hash>.html      returned feedback pages
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_course.errors import CourseInputError


@dataclass(frozen=True)
class ExchangePaths:
    """Where one course's folders are in the exchange."""

    root: Path
    course_id: str

    @property
    def course(self) -> Path:
        return self.root / self.course_id

    @property
    def outbound(self) -> Path:
        return self.course / "outbound"

    @property
    def inbound(self) -> Path:
        return self.course / "inbound"

    @property
    def feedback(self) -> Path:
        return self.course / "feedback"

    def argv(self) -> list[str]:
        """Options that make nbgrader use exactly this exchange root."""
        return [f"--Exchange.root={self.root}"]


@dataclass(frozen=True)
class StepOutcome:
    """What one nbgrader exchange application did: success, why not, its log."""

    success: bool
    reason: str = ""
    log: str = ""


def exchange_paths(root: Path) -> ExchangePaths:
    """The exchange the course config names, resolved against the course root.

    Parameters
    ----------
    root : Path
        Course root (holds ``nbgrader_config.py``).

    Returns
    -------
    ExchangePaths
        ``c.Exchange.root`` (nbgrader's default when the config does not set it; a
        relative path counts from the course root) and ``c.CourseDirectory.course_id``.

    Raises
    ------
    CourseInputError
        If the course config sets no course id (nbgrader cannot use the exchange then).
    """
    from nbgrader.exchange.default import Exchange

    from cnn_course.course import course_directory, load_config

    config = load_config(root)
    configured = config.Exchange.get("root") if "Exchange" in config else None
    where = Path(configured or Exchange.class_traits()["root"].default_value)
    course_id = course_directory(root).course_id
    if not course_id:
        raise CourseInputError(
            "the course config sets no course id (c.CourseDirectory.course_id in "
            "nbgrader_config.py); nbgrader needs one to use the exchange"
        )
    # A relative root would otherwise depend on where the command was started.
    return ExchangePaths((root / where).resolve(), course_id)


def check_exchange(paths: ExchangePaths, create: bool = False) -> bool:
    """Make sure the exchange root exists and is writable; maybe create it.

    nbgrader itself fails later with "Unwritable directory, please contact your
    instructor", or half-way through; checking first gives the instructor a message
    naming the folder and the setting.

    Parameters
    ----------
    paths : ExchangePaths
        The course's exchange.
    create : bool
        Create a missing exchange root (mode 1777: everyone writes, only the owner
        deletes, as nbgrader's docs ask); otherwise a missing one is refused.

    Returns
    -------
    bool
        Whether the root was created now.

    Raises
    ------
    CourseInputError
        If the root is missing (and not to be created, or cannot be), is not a folder,
        or is not writable.
    """
    where = paths.root
    setting = "c.Exchange.root in nbgrader_config.py"
    if not where.exists():
        if not create:
            raise CourseInputError(
                f"the exchange {where} does not exist: nothing was released yet "
                f"(`cnn-course release ASSIGNMENT`), or {setting} points elsewhere"
            )
        try:
            where.mkdir(parents=True)
            where.chmod(stat.S_ISVTX | 0o777)
        except OSError as exc:
            raise CourseInputError(
                f"the exchange {where} does not exist and cannot be created "
                f"({exc.strerror or exc}); create it (mode 1777) or change {setting}"
            ) from None
        return True
    if not where.is_dir():
        raise CourseInputError(f"the exchange {where} is not a folder; change {setting}")
    if not os.access(where, os.W_OK | os.X_OK):
        raise CourseInputError(
            f"the exchange {where} is not writable by you: nbgrader would stop with "
            f"'Unwritable directory'; make it mode 1777 or change {setting}"
        )
    return False


def run_app(app_class: type, root: Path, argv: Iterable[str]) -> dict[str, Any]:
    """Run an nbgrader application in-process, as ``nbgrader <app> ARGV`` would in ``root``.

    Returns nbgrader's ``capture_log`` result: ``success``, ``log`` and maybe ``error``.
    """
    from nbgrader.utils import capture_log

    from cnn_course.nbgrader_api import init_app

    return capture_log(init_app(app_class, root, argv=list(argv)))


def run_exchange_app(
    app_class: type, root: Path, paths: ExchangePaths, argv: Iterable[str]
) -> StepOutcome:
    """Run an nbgrader exchange application in this process, on this exchange.

    Parameters
    ----------
    app_class : type
        ``ReleaseAssignmentApp``, ``CollectApp``, ``ReleaseFeedbackApp``, ...
    root : Path
        Course root.
    paths : ExchangePaths
        The exchange to use (passed to nbgrader explicitly).
    argv : iterable of str
        The application's arguments, as on nbgrader's command line.

    Returns
    -------
    StepOutcome
        Success, the one line saying why it failed (:func:`failure_reason`), the log.
    """
    from cnn_course.failures import failure_reason

    outcome = run_app(app_class, root, [*argv, *paths.argv()])
    log = outcome.get("log", "")
    if outcome.get("success"):
        return StepOutcome(True, log=log)
    return StepOutcome(False, failure_reason(log, outcome.get("error", "")), log)


def notebooks_in(folder: Path) -> list[Path]:
    """The notebooks under ``folder``, Jupyter's checkpoint copies left out."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.relative_to(folder).parts
    )


def known_assignments(root: Path) -> list[str]:
    """Assignments the instructor may name: those in ``source/`` and in ``release/``."""
    from cnn_course.submissions import source_assignments

    release = root / "release"
    built = [d.name for d in release.iterdir() if d.is_dir()] if release.is_dir() else []
    return sorted(set(source_assignments(root)) | set(built))
