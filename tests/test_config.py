"""One reading of the course's configuration: nbgrader's apps and the course's own tools agree.

nbgrader's commands merge ``nbgrader_config.py`` from the Jupyter config directories and
then the course's file. A user-level file that set ``db_url`` once made ``grade`` (nbgrader's
apps) write one gradebook while ``report`` and the review (reading only the course file)
read another. Here every reader is asked the same questions with such a file in place.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cnn_course.classroom import toy
from cnn_course.commands import lab
from cnn_course.config import course_config
from cnn_course.course import course_directory
from cnn_course.nbgrader_api import load_api

pytestmark = pytest.mark.unit


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``~/.jupyter``-like directory holding the instructor's own nbgrader_config.py."""
    folder = tmp_path / "jupyter-config"
    folder.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(folder))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")  # the user's directory first
    return folder


def course(tmp_path: Path, extra: str = "") -> Path:
    root = tmp_path / "course"
    toy.write_toy_course(root)
    with open(root / "nbgrader_config.py", "a") as handle:
        handle.write(extra)
    return root


def test_a_user_level_gradebook_is_the_one_every_tool_reads(
    tmp_path: Path, user_config: Path
) -> None:
    shared = f"sqlite:///{tmp_path / 'shared' / 'gradebook.db'}"
    (user_config / "nbgrader_config.py").write_text(
        f"c.CourseDirectory.db_url = {shared!r}\nc.Exchange.root = {str(tmp_path / 'ex')!r}\n"
    )
    root = course(tmp_path)
    nbgrader_sees = load_api(root).coursedir.db_url  # what `grade` writes
    assert nbgrader_sees == shared
    assert course_directory(root).db_url == shared  # report, review, status
    assert course_config(root).CourseDirectory.db_url == shared
    assert lab.read_course(root).exchange == (tmp_path / "ex").resolve()


def test_the_course_file_wins_over_the_users(tmp_path: Path, user_config: Path) -> None:
    (user_config / "nbgrader_config.py").write_text(
        "c.CourseDirectory.db_url = 'sqlite:////nowhere/user.db'\n"
        "c.CourseDirectory.course_id = 'user-course'\n"
    )
    mine = f"sqlite:///{tmp_path / 'mine.db'}"
    root = course(tmp_path, f"\nc.CourseDirectory.db_url = {mine!r}\n")
    assert load_api(root).coursedir.db_url == mine
    assert course_directory(root).db_url == mine
    assert load_api(root).coursedir.course_id == toy.TOY_COURSE_ID
    assert course_directory(root).course_id == toy.TOY_COURSE_ID
    assert lab.read_course(root).course_id == toy.TOY_COURSE_ID


def test_without_a_user_file_the_course_file_alone_counts(
    tmp_path: Path, user_config: Path
) -> None:
    root = course(tmp_path)
    default = f"sqlite:///{root.resolve() / 'gradebook.db'}"
    assert load_api(root).coursedir.db_url == default
    assert course_directory(root).db_url == default
