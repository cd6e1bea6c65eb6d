"""Building toy nbgrader courses for the runner and CLI tests.

The toy assignment (:mod:`cnn_course.classroom.toy`) has one tiny notebook with a solution cell, a
visible test cell and a graded cell with hidden tests; these helpers generate it with
nbgrader's real ``generate_assignment`` and place submissions where ``nbgrader collect``
puts them (``submitted/<student>/<assignment>/``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import nbformat

from cnn_course.classroom import toy
from cnn_course.gradebook import CellGrade, cell_grades
from cnn_course.nbgrader_api import load_api

VENV_BIN = Path(sys.executable).parent

# Course config: the grading process of student "crash" dies (stands for anything that
# kills the grading process itself, e.g. the OOM killer).
CRASH_HOOK = """
import os


def _crash_worker(assignment, student, notebooks):
    # Stands for anything that kills the grading process itself (e.g. the OOM killer).
    if student == "crash":
        os._exit(3)


c.Autograde.pre_convert_hook = _crash_worker
"""


def tool_env() -> dict[str, str]:
    """The environment for running this venv's ``nbgrader`` and ``cnn-course``."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def make_course(
    root: Path,
    kinds: Mapping[str, str],
    assignments: Sequence[str] = (toy.TOY_ASSIGNMENT,),
    extra_config: str = "",
    db_url: str | None = None,
) -> Path:
    """Create a toy course, generate its assignments and write the class's submissions.

    Parameters
    ----------
    root : Path
        Course directory to create.
    kinds : mapping of str to str
        Student id to submission kind (see :data:`cnn_course.classroom.toy.STUDENT_SOLUTIONS`);
        every student submits every assignment.
    assignments : sequence of str
        Assignment ids, each a copy of the toy assignment.
    extra_config : str
        Lines appended to the course's ``nbgrader_config.py``.
    db_url : str or None
        Gradebook to generate the assignments into (default: the course's sqlite file).

    Returns
    -------
    Path
        The course root.
    """
    toy.write_toy_course(root)
    for assignment in assignments:
        if assignment != toy.TOY_ASSIGNMENT:
            shutil.copytree(root / "source" / toy.TOY_ASSIGNMENT, root / "source" / assignment)
    if toy.TOY_ASSIGNMENT not in assignments:
        shutil.rmtree(root / "source" / toy.TOY_ASSIGNMENT)
    api = load_api(root, db_url)
    for assignment in assignments:
        outcome = api.generate_assignment(assignment, force=True, create=True)
        assert outcome["success"], outcome.get("log", "") + outcome.get("error", "")
        toy.write_submissions(root, dict(kinds), assignment=assignment)
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(extra_config)
    return root


def copy_course(src: Path, dest: Path) -> Path:
    """Copy a course directory (its gradebook included) to ``dest``."""
    shutil.copytree(src, dest)
    return dest


def serial_autograde(root: Path, assignment: str) -> subprocess.CompletedProcess:
    """Run the real ``nbgrader autograde ASSIGNMENT`` in ``root``, one notebook at a time."""
    return subprocess.run(
        [str(VENV_BIN / "nbgrader"), "autograde", assignment],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def grades(
    root: Path, assignment: str, db_url: str | None = None
) -> dict[tuple[str, str, str], CellGrade]:
    """Per-cell grades of ``assignment`` from the course's gradebook (Gradebook API)."""
    url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    return cell_grades(url, toy.TOY_COURSE_ID, assignment)


def expected_scores(kinds: Mapping[str, str]) -> dict[tuple[str, str], float]:
    """The auto score each (student, cell) should get, for gradable submissions."""
    return {
        (student, cell): score
        for student, kind in kinds.items()
        if kind in toy.EXPECTED_SCORES
        for cell, score in toy.EXPECTED_SCORES[kind].items()
    }


def postgres_tools() -> Path | None:
    """The ``bin`` folder of a local PostgreSQL server install, if there is one."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    on_path = shutil.which("pg_ctl")
    if found:
        return found[-1].parent
    return Path(on_path).parent if on_path else None


@contextmanager
def temporary_postgres(bindir: Path) -> Iterator[str]:
    """Run a throw-away PostgreSQL server on a Unix socket; yield a gradebook URL.

    The server listens on no TCP address. As root, it runs as the ``postgres`` user
    (PostgreSQL refuses to run as root).
    """
    base = Path(tempfile.mkdtemp(prefix="cnn-course-pg-"))
    base.chmod(0o755)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")

    def pg(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    pg(str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres")
    options = f"-k {sock} -c listen_addresses=''"
    pg(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(base / "log"),
        "-w",
        "start",
    )
    try:
        pg(str(bindir / "createdb"), "-h", str(sock), "-U", "postgres", "gradebook")
        yield f"postgresql+psycopg://postgres@/gradebook?host={sock}"
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


# A formula in a notebook's markdown: $$ display $$ or $ inline $ (RenderMath's syntax).
FORMULA_RE = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)


def notebook_formulas(path: Path) -> list[str]:
    """The formulas of a notebook's markdown cells, in order."""
    cells = nbformat.read(path, as_version=4).cells
    return [f for c in cells if c.cell_type == "markdown" for f in FORMULA_RE.findall(c.source)]
