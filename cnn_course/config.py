"""The course's nbgrader configuration, read the way nbgrader's own commands read it.

``nbgrader <command>`` merges ``nbgrader_config.py`` from every Jupyter config directory
(``jupyter --paths``: the environment's ``etc/jupyter``, ``~/.jupyter``, ``/etc/jupyter``;
the first listed wins) and then the course directory's own file, which wins over all of
them. Every tool here that needs the course's settings (its gradebook URL, course id,
exchange) reads them through :func:`course_config`, so that the grader, which runs
nbgrader's apps, and the report, the review, ``status`` and the labs, which read the
settings themselves, never disagree (a user-level file that sets ``db_url`` once made
``grade`` write one gradebook and ``report`` read another).

Imports only traitlets and jupyter_core: the lab launcher uses it too.
"""

from __future__ import annotations

from pathlib import Path

from jupyter_core.paths import jupyter_config_path
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

CONFIG_NAME = "nbgrader_config.py"


def config_files(root: Path) -> list[Path]:
    """The config files nbgrader reads for the course at ``root``, lowest priority first."""
    found = [Path(d) / CONFIG_NAME for d in reversed(jupyter_config_path())]
    found.append(Path(root) / CONFIG_NAME)
    unique = list(dict.fromkeys(p.resolve() for p in found if p.is_file()))
    # The course's own file is read last even if a Jupyter config directory is the course.
    course = (Path(root) / CONFIG_NAME).resolve()
    return [p for p in unique if p != course] + ([course] if course in unique else [])


def course_config(root: Path | str, **overrides: object) -> Config:
    """The effective nbgrader configuration of the course at ``root``, root pinned to it.

    ``overrides`` are ``"Section.name": value`` pairs applied last (as command-line options
    would be).
    """
    root = Path(root).resolve()
    config = Config()
    for path in config_files(root):
        config.merge(PyFileConfigLoader(path.name, path=str(path.parent)).load_config())
    config.CourseDirectory.root = str(root)
    for dotted, value in overrides.items():
        section, name = dotted.split(".")
        setattr(config[section], name, value)
    return config
