"""A course directory driven through nbgrader's own API.

Used by the instructor command, the demo and the tests, so that every one of them
generates, submits, grades and reads grades the same way nbgrader does.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from cnn_course.config import CONFIG_NAME, course_config
from cnn_course.manifest import ASSIGNMENTS
from cnn_course.nbgrader_api import ensure_tools_on_path

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


# nbgrader shells out to ``alembic`` and ``jupyter``: find this environment's copies.
ensure_tools_on_path()


class CourseError(RuntimeError):
    """An nbgrader step failed; the message carries nbgrader's own log."""


@dataclass(frozen=True)
class CellGrade:
    grade_id: str
    score: float
    max_score: float


def load_config(root: Path, **overrides: object) -> Config:
    """The course's effective nbgrader configuration (:func:`cnn_course.config.course_config`)."""
    return course_config(root, **overrides)


def course_directory(root: Path | str, **config_overrides: object) -> CourseDirectory:
    """nbgrader's settings for the course at ``root`` (paths, database URL, course id).

    ``config_overrides`` are ``"Section.name": value`` pairs, as for ``CourseDir``.
    """
    return CourseDirectory(config=load_config(Path(root).resolve(), **config_overrides))


class CourseDir:
    """One nbgrader course directory (``source/``, ``release/``, ``submitted/`` ...)."""

    def __init__(self, root: Path | str, **config_overrides: object) -> None:
        self.root = Path(root).resolve()
        self.config = load_config(self.root, **config_overrides)

    @classmethod
    def create(
        cls,
        root: Path | str,
        assignments: Iterable[str] = tuple(ASSIGNMENTS),
        source_from: Path = REPO_ROOT,
        **config_overrides: object,
    ) -> CourseDir:
        """A fresh course at ``root`` holding copies of the given source assignments."""
        root = Path(root)
        (root / "source").mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / CONFIG_NAME, root / CONFIG_NAME)
        for assignment in assignments:
            shutil.copytree(source_from / "source" / assignment, root / "source" / assignment)
        return cls(root, **config_overrides)

    # --- nbgrader steps --------------------------------------------------------------

    def api(self) -> NbGraderAPI:
        coursedir = CourseDirectory(config=self.config)
        return NbGraderAPI(coursedir=coursedir, config=self.config)

    def _run(self, what: str, result: Mapping[str, object]) -> str:
        if not result.get("success"):
            raise CourseError(
                f"nbgrader {what} failed:\n{result.get('log', '')}{result.get('error', '')}"
            )
        return str(result.get("log", ""))

    def generate(self, assignment: str) -> str:
        """``nbgrader generate_assignment``: write ``release/<assignment>``."""
        return self._run(
            f"generate_assignment {assignment}", self.api().generate_assignment(assignment)
        )

    def autograde(self, assignment: str, student: str = "*") -> str:
        """Serial ``nbgrader autograde`` for one student, or all (``*``)."""
        return self._run(f"autograde {assignment}", self.api().autograde(assignment, student))

    def generate_feedback(self, assignment: str, student: str | None = None) -> str:
        return self._run(
            f"generate_feedback {assignment}", self.api().generate_feedback(assignment, student)
        )

    # --- files -----------------------------------------------------------------------

    def notebook_name(self, assignment: str) -> str:
        return ASSIGNMENTS[assignment][1]

    def release_notebook(self, assignment: str) -> nbformat.NotebookNode:
        path = self.root / "release" / assignment / self.notebook_name(assignment)
        return nbformat.read(path, as_version=4)

    def source_notebook(self, assignment: str) -> nbformat.NotebookNode:
        path = self.root / "source" / assignment / self.notebook_name(assignment)
        return nbformat.read(path, as_version=4)

    def submit(
        self,
        student: str,
        assignment: str,
        notebook: nbformat.NotebookNode,
        timestamp: dt.datetime | None = None,
    ) -> Path:
        """Place a submission where ``nbgrader collect`` puts it: ``submitted/<student>/<a>``."""
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / self.notebook_name(assignment))
        stamp = timestamp or dt.datetime.now(dt.UTC)
        (folder / "timestamp.txt").write_text(stamp.strftime(TIMESTAMP_FORMAT))
        return folder

    def autograded_notebook(self, assignment: str, student: str) -> nbformat.NotebookNode:
        path = self.root / "autograded" / student / assignment / self.notebook_name(assignment)
        return nbformat.read(path, as_version=4)

    def cell_text(self, assignment: str, student: str, grade_id: str) -> str:
        """Everything a graded cell showed after autograding: streams, results, errors."""
        for cell in self.autograded_notebook(assignment, student).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                return outputs_text(cell)
        raise KeyError(f"no cell {grade_id!r} in {student}'s {assignment}")

    # --- grades ----------------------------------------------------------------------

    def gradebook(self) -> Gradebook:
        return Gradebook(
            self.api().coursedir.db_url, self.config.CourseDirectory.get("course_id", "")
        )

    def grades(self, assignment: str, student: str) -> dict[str, CellGrade]:
        """Per graded cell: the score nbgrader recorded, read from the Gradebook API."""
        notebook_id = Path(self.notebook_name(assignment)).stem
        with self.gradebook() as gb:
            try:
                nb = gb.find_submission_notebook(notebook_id, assignment, student)
            except MissingEntry:
                raise KeyError(f"{student} has no graded {assignment}") from None
            return {
                g.name: CellGrade(g.name, float(g.score), float(g.max_score)) for g in nb.grades
            }


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes."""
    return ANSI_ESCAPE.sub("", text)


def outputs_text(cell: nbformat.NotebookNode) -> str:
    """What a cell showed: streams, error tracebacks (without colours) and plain results."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            shown = "\n".join(output.get("traceback", []))
            parts.append(strip_ansi(shown) or f"{output.get('ename')}: {output.get('evalue')}")
        elif "data" in output:
            parts.append(str(output.data.get("text/plain", "")))
    return "\n".join(parts)
