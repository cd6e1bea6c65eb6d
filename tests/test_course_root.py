"""Grading in the repository root, exactly as the README tells an instructor, flags nobody.

The README's course directory is the repository root: ``nbgrader_config.py`` is there,
and so are ``.venv`` (the environment ``make`` creates, which the grading kernel runs from)
and ``cnn_solutions/`` (the reference, which the kernel must never see). A course made
elsewhere by the tests has neither beside it, so this test grades in a copy of the
repository with that layout: the tracked files (``git ls-files``) copied into
``tmp_path/repo``, and a real virtual environment in ``tmp_path/repo/.venv`` (a directory,
never a symlink) made with ``python -m venv``:

* its ``site-packages`` reaches the course's dependencies through a ``.pth`` line naming
  ``/work/main/.venv``'s ``site-packages`` (a plain path: that folder's own ``.pth``
  files, among them the editable install of ``/work/main``, are not run);
* the copy itself is installed in develop mode by a ``.pth`` line naming the copy (what
  ``pip install -e`` does; pip cannot here without downloading: the environment has no
  ``wheel``, so a ``--no-build-isolation`` editable build fails with ``invalid command
  'bdist_wheel'``), and the console scripts (``cnn-course``, ``nbgrader``, ``jupyter``,
  ``alembic``...) are ``/work/main/.venv``'s with the copy's interpreter in their ``#!``;
* ``share/`` and ``etc/`` (nbconvert's templates, which feedback needs, Jupyter's config)
  are copies of ``/work/main/.venv``'s, without its ``cnn-grader`` kernelspec;
* ``.venv/bin/python -m cnn_course.sandbox install`` registers the copy's ``cnn-grader``
  kernelspec under the copy's prefix (``/work/main``'s is left as it was).

Then, with the working directory in the copy and its ``.venv/bin`` first on ``PATH``, the
README's commands: ``cnn-course build``, submissions placed where ``nbgrader collect`` puts
them (``CourseDir.submit``), ``cnn-course grade`` and ``cnn-course report``. Three honest
students: two correct (loops; SciPy imported inside the functions) with their quiz
answers typed in or computed, one with a typical mistake in each assignment.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from cnn_course.classroom import correct_work, fill_notebook, mistake_work, mistakes
from cnn_course.classroom.quiz import quiz_submission
from cnn_course.course import REPO_ROOT, CourseDir
from cnn_course.gradebook import cell_grades
from cnn_course.integrity.feedback import feedback_leaks, html_text

pytestmark = pytest.mark.course_root

FILTERS, QUIZ = "01_filters", "05_quiz"
GRADED = (FILTERS, QUIZ)
MAIN_VENV = Path(sys.prefix)
MAIN_SITE = Path(next(p for p in sys.path if p.startswith(sys.prefix) and "site-packages" in p))
FILTERS_MISTAKE = mistakes(FILTERS)[0]
QUIZ_MISTAKE = mistakes(QUIZ)[0]
# (student, assignment) -> what they hand in: a correct style, typed quiz answers, a mistake.
CLASS = {
    ("ann", FILTERS): "loops",
    ("ann", QUIZ): "typed",
    ("ben", FILTERS): "scipy",
    ("ben", QUIZ): "numpy",
    ("cat", FILTERS): "mistake",
    ("cat", QUIZ): "mistake",
}
# What no feedback page may show a student: instructor paths, or talk of cheating.
FORBIDDEN_IN_FEEDBACK = ("/.venv/", "cnn_solutions/", "interfered", "tampered")
TIMEOUT = 900


@dataclass
class Course:
    repo: Path
    env: dict[str, str]
    steps: dict[str, subprocess.CompletedProcess]
    main_kernelspec: tuple[str, str]  # /work/main's cnn-grader kernel.json before, after


def copy_tracked_files(dest: Path) -> int:
    """Copy the repository's tracked files, as they are in the working tree, to ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.decode()
    copied = 0
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
            copied += 1
    return copied


def make_venv(repo: Path) -> Path:
    """A real virtual environment in ``repo/.venv`` running the copy (see the module doc)."""
    venv = repo / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = venv / MAIN_SITE.relative_to(MAIN_VENV)
    assert site.is_dir(), site
    (site / "cnn_course_develop.pth").write_text(f"{repo}\n")
    (site / "zz_course_dependencies.pth").write_text(f"{MAIN_SITE}\n")
    shebang = re.compile(rb"^#!" + re.escape(str(MAIN_VENV / "bin").encode()) + rb"/python3?\n")
    python = venv / "bin" / "python"
    # Data files a real install puts under the prefix: nbconvert's templates (feedback),
    # the lab and notebook extensions, jupyter's config; the kernelspec is made afresh.
    for data in ("share", "etc"):
        if (MAIN_VENV / data).is_dir():
            shutil.copytree(MAIN_VENV / data, venv / data, symlinks=True, dirs_exist_ok=True)
    shutil.rmtree(venv / "share" / "jupyter" / "kernels" / "cnn-grader", ignore_errors=True)
    for script in sorted((MAIN_VENV / "bin").iterdir()):
        target = venv / "bin" / script.name
        if script.is_symlink() or not script.is_file() or target.exists():
            continue
        if script.name.startswith(("pip", "activate", "Activate")):
            continue
        text = script.read_bytes()
        if shebang.match(text):
            target.write_bytes(shebang.sub(b"#!" + str(python).encode() + b"\n", text, count=1))
            target.chmod(0o755)
    return venv


def course_env(venv: Path) -> dict[str, str]:
    """The instructor's shell with the copy's environment activated."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER"))}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *os.environ.get("PATH", "").split(":")])
    env["VIRTUAL_ENV"] = str(venv)
    return env


def run(command: list[str], repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run an instructor's command in the course root, as typed in the README."""
    return subprocess.run(
        command, cwd=repo, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def kernelspec_text(prefix: Path) -> str:
    path = prefix / "share" / "jupyter" / "kernels" / "cnn-grader" / "kernel.json"
    return path.read_text() if path.exists() else ""


def submission(course: CourseDir, student: str, assignment: str) -> nbformat.NotebookNode:
    release = course.release_notebook(assignment)
    kind = CLASS[(student, assignment)]
    if kind == "typed":
        return quiz_submission(release, student)
    if kind == "mistake":
        mistake = FILTERS_MISTAKE if assignment == FILTERS else QUIZ_MISTAKE
        return fill_notebook(release, mistake_work(assignment, mistake).code)
    return fill_notebook(release, correct_work(assignment, kind).code)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    base = tmp_path_factory.mktemp("course-root")
    base.chmod(0o755)  # as root, the sandbox user must reach autograded/<student>/<assignment>
    repo = base / "repo"
    assert copy_tracked_files(repo) > 50
    before = kernelspec_text(MAIN_VENV)
    venv = make_venv(repo)
    env = course_env(venv)
    python = str(venv / "bin" / "python")
    steps = {"install": run([python, "-m", "cnn_course.sandbox", "install"], repo, env)}
    steps["kernelspecs"] = run([python, "-m", "jupyter", "kernelspec", "list", "--json"], repo, env)
    steps["build"] = run(["cnn-course", "build"], repo, env)
    if steps["build"].returncode == 0:
        instructor = CourseDir(repo)
        for student, assignment in CLASS:
            instructor.submit(student, assignment, submission(instructor, student, assignment))
        steps["grade"] = run(["cnn-course", "grade"], repo, env)
        steps["report"] = run(["cnn-course", "report"], repo, env)
    return Course(repo, env, steps, (before, kernelspec_text(MAIN_VENV)))


def ran(course: Course, step: str) -> subprocess.CompletedProcess:
    """A step that ran (whatever its exit status: other tests check what it left)."""
    assert step in course.steps, f"not run: {sorted(course.steps)}"
    return course.steps[step]


def ok(course: Course, step: str) -> subprocess.CompletedProcess:
    done = ran(course, step)
    assert done.returncode == 0, f"{step}: {done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def points(repo: Path, assignment: str) -> dict[str, float]:
    """Points of every graded cell of the instructor's notebook."""
    notebook = CourseDir(repo).source_notebook(assignment)
    return {
        c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def expected_cells(repo: Path, student: str, assignment: str) -> dict[str, float]:
    """The exact score of each cell: full marks, but for the cells a mistake costs."""
    lost: tuple[str, ...] = ()
    if CLASS[(student, assignment)] == "mistake":
        lost = (FILTERS_MISTAKE if assignment == FILTERS else QUIZ_MISTAKE).lost_cells
    cells = points(repo, assignment)
    assert set(lost) <= set(cells), lost
    return {cell: 0.0 if cell in lost else value for cell, value in cells.items()}


def test_the_copy_has_the_readme_layout_and_its_own_kernel(course: Course) -> None:
    venv = course.repo / ".venv"
    assert venv.is_dir() and not venv.is_symlink()
    assert (venv / "pyvenv.cfg").is_file()
    assert (course.repo / "nbgrader_config.py").is_file()
    assert (course.repo / "cnn_course" / "grading").is_dir()
    ok(course, "install")
    specs = json.loads(ok(course, "kernelspecs").stdout)["kernelspecs"]
    grader = specs["cnn-grader"]
    assert Path(grader["resource_dir"]).is_relative_to(venv), grader["resource_dir"]
    assert grader["spec"]["argv"][0] == str(venv / "bin" / "python")
    where = run(
        [str(venv / "bin" / "python"), "-c", "import cnn_course, sys; print(cnn_course.__file__)"],
        Path("/"),
        course.env,
    )
    assert where.stdout.strip() == str(course.repo / "cnn_course" / "__init__.py"), where
    before, after = course.main_kernelspec
    assert before == after and str(MAIN_VENV / "bin" / "python") in after


def test_build_generates_every_assignment_into_release(course: Course) -> None:
    ok(course, "build")
    for assignment in GRADED:
        notebook = CourseDir(course.repo).release_notebook(assignment)
        assert "### BEGIN SOLUTION" not in "".join(c.source for c in notebook.cells)
    assert (course.repo / "gradebook.db").is_file()


def test_grade_grades_every_submission(course: Course) -> None:
    done = ok(course, "grade")
    n = len(CLASS)
    assert f"autograded {n} of {n} submissions (0 already graded, 0 failed)" in done.stdout
    assert f"integrity: {n} submissions reviewed, none flagged" in done.stdout, done.stdout
    assert "grades exported to" in done.stdout


def test_honest_students_get_their_exact_grades(course: Course) -> None:
    ran(course, "grade")
    db_url = f"sqlite:///{course.repo / 'gradebook.db'}"
    wrong = {}
    for assignment in GRADED:
        recorded = cell_grades(db_url, "cnn-course", assignment)
        for student in sorted({s for s, a in CLASS if a == assignment}):
            got = {cell: g.auto_score for (s, _, cell), g in recorded.items() if s == student}
            want = expected_cells(course.repo, student, assignment)
            if got != want:
                differ = {c: (got.get(c), want.get(c)) for c in set(got) | set(want)}
                wrong[(student, assignment)] = {
                    c: v for c, v in differ.items() if v[0] != v[1]
                } or differ
    assert wrong == {}
    # The mistakes cost something: the expectations above are not all full marks.
    assert sum(expected_cells(course.repo, "cat", a) != points(course.repo, a) for a in GRADED)


def test_grades_csv_withholds_and_flags_nobody(course: Course) -> None:
    ran(course, "grade")
    with open(course.repo / "grades.csv", newline="") as fh:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
    assert set(CLASS) <= set(rows)
    for key in CLASS:
        row = rows[key]
        assert "withheld" not in row.values(), row
        assert not row.get("review"), row
        want = sum(expected_cells(course.repo, *key).values())
        assert float(row["score"]) == pytest.approx(want), row
    flags = course.repo / "reports" / "flags.json"
    if flags.exists():
        assert json.loads(flags.read_text()) == []


def test_feedback_shows_no_instructor_paths_and_no_accusation(course: Course) -> None:
    ran(course, "grade")
    shown = {}
    for student, assignment in CLASS:
        name = CourseDir(course.repo).notebook_name(assignment).replace(".ipynb", ".html")
        page = course.repo / "feedback" / student / assignment / name
        text = html_text(page.read_text(encoding="utf-8"))
        assert len(text) > 1000, page
        found = [w for w in (*FORBIDDEN_IN_FEEDBACK, str(course.repo)) if w.lower() in text.lower()]
        if found:
            shown[(student, assignment)] = found
    assert shown == {}
    assert feedback_leaks(course.repo) == []
    # cat's mistake is named to cat: the feedback is not silent either.
    page = course.repo / "feedback" / "cat" / FILTERS / "filters.html"
    assert FILTERS_MISTAKE.expected_mistake in html_text(page.read_text(encoding="utf-8"))


def test_report_lists_the_class_and_no_flags(course: Course) -> None:
    ok(course, "report")
    reports = course.repo / "reports"
    assert (reports / "report.html").stat().st_size > 0
    with open(reports / "submissions.csv", newline="") as fh:
        rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)}
    assert set(rows) == set(CLASS)
    for key, row in rows.items():
        assert float(row["score"]) == pytest.approx(sum(expected_cells(course.repo, *key).values()))
    flagged = reports / "flags.csv"
    if flagged.exists():
        with open(flagged, newline="") as fh:
            assert list(csv.DictReader(fh)) == []
