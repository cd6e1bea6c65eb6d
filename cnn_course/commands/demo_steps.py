"""The demo's nbgrader steps: the course rebuilt, released, fetched, submitted and collected.

Each step runs nbgrader's own app or API in this process (:func:`release`, :func:`fetch`,
:func:`submit`, :func:`set_due_date`, :func:`collect`, and :func:`hand_in` for a whole
class); a step that fails raises :class:`DemoError` with nbgrader's reason. Students work
in ``<course>/students/<id>/``; the exchange is inside the course.
"""

from __future__ import annotations

import datetime as dt
import shutil
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnn_course.classroom.demo_class import Plan, student_notebook
from cnn_course.errors import CourseInputError
from cnn_course.exchange import run_app

if TYPE_CHECKING:
    import nbformat

MARKER = ".cnn-course-demo"  # marks a folder this command made, and may delete
STUDENTS_DIR = "students"


# ----------------------------------------------------------------------- nbgrader steps


class DemoError(RuntimeError):
    """An nbgrader step of the demo failed; the message carries the reason."""


def _check(what: str, outcome: Mapping[str, Any]) -> None:
    from cnn_course.failures import failure_reason

    if not outcome.get("success"):
        raise DemoError(
            f"{what}: {failure_reason(outcome.get('log', ''), outcome.get('error', ''))}"
        )


def student_options(root: Path, student: str) -> list[str]:
    """Options of a student's ``fetch_assignment`` and ``submit``: id, folder, cache.

    The nbgrader cache (a copy of every submission) is kept in the student's folder
    instead of ``~/.local/share/jupyter``, so the demo writes nothing outside the course.
    """
    home = root / STUDENTS_DIR / student
    return [
        f"--student={student}",
        f"--Exchange.assignment_dir={home}",
        f"--Exchange.cache={home / '.nbgrader-cache'}",
    ]


def make_exchange(root: Path) -> Path:
    """Create the exchange the course config names (``Exchange.root``), mode 1777."""
    from cnn_course.course import load_config

    exchange = Path(load_config(root).Exchange.root).resolve()
    if not exchange.is_relative_to(root.resolve()):
        raise DemoError(f"the course config puts the exchange outside the course: {exchange}")
    exchange.mkdir(parents=True, exist_ok=True)
    # Everyone writes there, only the owner deletes: as nbgrader's docs ask.
    exchange.chmod(stat.S_ISVTX | 0o777)
    return exchange


def check_demo_dir(root: Path | str) -> Path:
    """Return ``root`` resolved if the demo may (re)build it: absent, empty or its own.

    Raises
    ------
    CourseInputError
        If ``root`` exists, is not empty and was not made by this command.
    """
    root = Path(root).resolve()
    if root.exists():
        made_here = (root / MARKER).exists()
        if not root.is_dir() or (any(root.iterdir()) and not made_here):
            raise CourseInputError(
                f"{root} exists and was not made by `cnn-course demo`; "
                "remove it or choose another --course-dir"
            )
    return root


def prepare_course(root: Path, assignments: Iterable[str]) -> Path:
    """Rebuild ``root`` from the repository's ``source/``, with an exchange inside it.

    Raises
    ------
    CourseInputError
        If ``root`` exists, is not empty and was not made by this command.
    """
    from cnn_course.course import CourseDir

    root = check_demo_dir(root)
    if root.exists():
        shutil.rmtree(root)
    CourseDir.create(root, tuple(assignments))
    (root / MARKER).write_text("made by `cnn-course demo`; deleted and rebuilt on each run\n")
    make_exchange(root)
    return root


def release(root: Path, assignment: str) -> None:
    """``nbgrader generate_assignment`` then ``nbgrader release_assignment``."""
    from cnn_course.nbgrader_api import load_api

    api = load_api(root)
    _check(f"generate_assignment {assignment}", api.generate_assignment(assignment, force=True))
    _check(f"release_assignment {assignment}", api.release_assignment(assignment))


def fetch(root: Path, student: str, assignment: str) -> Path:
    """``nbgrader fetch_assignment ASSIGNMENT --student ID``; return the fetched folder."""
    from nbgrader.apps import FetchAssignmentApp

    outcome = run_app(FetchAssignmentApp, root, [assignment, *student_options(root, student)])
    _check(f"fetch_assignment {assignment} as {student}", outcome)
    return root / STUDENTS_DIR / student / assignment


def submit(root: Path, student: str, assignment: str) -> None:
    """``nbgrader submit ASSIGNMENT --student ID`` from the student's folder."""
    from nbgrader.apps import SubmitApp

    outcome = run_app(SubmitApp, root, [assignment, *student_options(root, student)])
    _check(f"submit {assignment} as {student}", outcome)


def set_due_date(root: Path, assignment: str, due: dt.datetime) -> None:
    """Record the assignment's due date in the gradebook (``nbgrader db assignment add``)."""
    from nbgrader.api import Gradebook

    from cnn_course.course import course_directory

    coursedir = course_directory(root)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        gb.update_or_create_assignment(assignment, duedate=due)


def collect(root: Path, assignment: str) -> None:
    """``nbgrader collect ASSIGNMENT``: the latest submission of each student."""
    from nbgrader.apps import CollectApp

    # Every simulated student is the same OS user, so the owner check would warn on all.
    outcome = run_app(CollectApp, root, [assignment, "--ExchangeCollect.check_owner=False"])
    _check(f"collect {assignment}", outcome)


def hand_in(root: Path, assignment: str, klass: Mapping[str, Mapping[str, Plan]]) -> dt.datetime:
    """Every student fetches, works and submits; returns the due date set in between.

    The due date is set after the last on-time submission and before the first late one,
    so late students are late by nbgrader's own timestamps.
    """
    from cnn_course.classroom import ASSIGNMENTS

    plans = {s: p[assignment] for s, p in klass.items() if assignment in p}
    notebook = ASSIGNMENTS[assignment][1]
    for student, plan in plans.items():
        path = fetch(root, student, assignment) / notebook
        fetched = _read(path)
        _write(student_notebook(fetched, assignment, student, plan), path)
    for student in (s for s, plan in plans.items() if not plan.late):
        submit(root, student, assignment)
    due = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the gradebook stores naive UTC
    set_due_date(root, assignment, due)
    for student in (s for s, plan in plans.items() if plan.late):
        submit(root, student, assignment)
    return due


def _read(path: Path) -> nbformat.NotebookNode:
    import nbformat

    return nbformat.read(path, as_version=4)


def _write(notebook: nbformat.NotebookNode, path: Path) -> None:
    import nbformat

    nbformat.write(notebook, path)
