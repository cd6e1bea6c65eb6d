"""Load nbgrader's own API for a course directory, quietly and with the course's config.

Every grading step in ``cnn_course`` goes through nbgrader's real machinery
(``NbGraderAPI.autograde``, ``generate_feedback``, ``generate_assignment``, the export
plugin). This module builds that API the way ``nbgrader <command>`` run from the course
directory would: the Jupyter config paths plus the course's ``nbgrader_config.py``, and
command-line style overrides for the course root and database URL.

nbgrader's applications log to stderr by default; here their console handler writes to a
sink that discards, and each call's log is captured separately (``capture_log``), so
library code never writes to the terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader


class _DiscardStream:
    """A write-only stream that drops everything (target of nbgrader's console logger)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


DISCARD = _DiscardStream()

# Replaces the stream of the console handler that traitlets' Application installs.
_QUIET_LOGGING = {"handlers": {"console": {"stream": "ext://cnn_course.nbgrader_api.DISCARD"}}}


def ensure_tools_on_path() -> None:
    """Put this interpreter's ``bin`` directory first on ``PATH``.

    nbgrader runs helper programs by name (``alembic`` when it creates a gradebook, and
    tests and benchmarks run ``nbgrader``); in a virtualenv that was not activated, they
    are only found next to ``sys.executable``.
    """
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[:1] != [bindir]:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p != bindir]])


def init_app(
    app_class: type[NbGrader],
    root: str | os.PathLike,
    db_url: str | None = None,
    argv: Sequence[str] = (),
) -> NbGrader:
    """Return an initialized nbgrader application, configured as if run in ``root``.

    Parameters
    ----------
    app_class : type
        An nbgrader application class (``AutogradeApp``, ``ExportApp``, ...).
    root : str or PathLike
        Course directory (holds ``source/``, ``submitted/``, ``nbgrader_config.py``).
    db_url : str or None
        SQLAlchemy URL for ``CourseDirectory.db_url``; None keeps the configured one
        (nbgrader's default is ``sqlite:///<root>/gradebook.db``).
    argv : sequence of str
        Further command-line style options, e.g. ``["--ExportPlugin.to=grades.csv"]``.

    Returns
    -------
    nbgrader.apps.baseapp.NbGrader
        The application, not started; its console log goes nowhere.
    """
    from traitlets.config import Config

    ensure_tools_on_path()
    args = [f"--CourseDirectory.root={os.path.abspath(root)}", *argv]
    if db_url:
        args.append(f"--CourseDirectory.db_url={db_url}")
    app = app_class(config=Config({"Application": {"logging_config": _QUIET_LOGGING}}))
    # The course directory's config is what counts, wherever the command was started.
    app.load_cwd_config = False
    app.initialize(args)
    return app


def load_api(root: str | os.PathLike, db_url: str | None = None) -> NbGraderAPI:
    """Return an ``NbGraderAPI`` configured as ``nbgrader`` run in ``root`` would be.

    Parameters
    ----------
    root : str or PathLike
        Course directory.
    db_url : str or None
        Gradebook URL; None keeps the course's configured one.

    Returns
    -------
    nbgrader.apps.NbGraderAPI
        The API object; ``api.coursedir`` holds the effective course settings.
    """
    from nbgrader.apps import AutogradeApp, NbGraderAPI

    app = init_app(AutogradeApp, root, db_url)
    return NbGraderAPI(coursedir=app.coursedir, parent=app)


@cache
def cached_api(root: str, db_url: str | None) -> NbGraderAPI:
    """Return one ``NbGraderAPI`` per (course root, database URL) in this process.

    Worker processes grade many submissions; building the API (and importing nbgrader)
    once per process rather than once per notebook is what keeps per-notebook overhead low.
    """
    return load_api(root, db_url)
