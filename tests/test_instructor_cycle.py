"""``cnn-course release``, ``collect`` and ``feedback``: the instructor's side of the exchange.

One toy course for the module, with a real exchange in tmp_path and nbgrader's real
exchange applications. The instructor's commands run as the installed console script with
a PATH that does not hold the virtualenv's ``bin`` (where ``alembic`` is: plain ``nbgrader
collect`` crashed there creating a gradebook); the students fetch, submit and fetch
feedback through :mod:`cnn_course.commands.demo`'s nbgrader steps, in this process. The fixture
runs the whole cycle once and keeps every command's result; the tests read them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from course_helpers import VENV_BIN, make_course, tool_env

from cnn_course.classroom import toy
from cnn_course.commands import cli
from cnn_course.commands.demo_steps import fetch, student_options, submit
from cnn_course.errors import CourseInputError
from cnn_course.exchange import ExchangePaths, check_exchange, run_app
from cnn_course.integrity.feedback import html_text

CNN_COURSE = str(VENV_BIN / "cnn-course")
TOY, EMPTY, DRAFT = toy.TOY_ASSIGNMENT, "toy2", "draft"
NOTEBOOK = f"{toy.TOY_NOTEBOOK}.ipynb"
KINDS = {"ada": "correct", "bo": "wrong"}
RESUBMITTED = "hidden_fail"  # bo's second try
BROKEN = "cy"  # submits a notebook cut in half (invalid JSON), last
SECRET = "submission_secret.txt"
COURSE_ID = toy.TOY_COURSE_ID


def bare_env() -> dict[str, str]:
    """The environment without the virtualenv's ``bin`` on PATH (not activated)."""
    env = dict(os.environ)
    venv_bin = VENV_BIN.resolve()
    parts = [p for p in env.get("PATH", "").split(os.pathsep) if p]
    env["PATH"] = os.pathsep.join(p for p in parts if Path(p).resolve() != venv_bin)
    env.pop("VIRTUAL_ENV", None)
    return env


def cnn_course(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the installed ``cnn-course`` on the course, by default without the venv on PATH."""
    return subprocess.run(
        [CNN_COURSE, "--course", str(root), *args],
        cwd=root.parent,
        env=env or bare_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def hand_in(root: Path, student: str, kind: str) -> None:
    """The student writes a ``kind`` solution into the fetched notebook and submits it."""
    path = root / "students" / student / TOY / NOTEBOOK
    path.write_text(toy.student_notebook(path, kind))
    submit(root, student, TOY)


def inbound_stamps(exchange: ExchangePaths, student: str) -> list[str]:
    """The timestamps of a student's submissions in the exchange, oldest first."""
    names = [p.name for p in exchange.inbound.glob(f"{student}+{TOY}+*")]
    return sorted(name.rsplit("+", 3)[2] for name in names)


def solution(notebook_text: str) -> str:
    """The source of a notebook's solution cell."""
    notebook = nbformat.reads(notebook_text, as_version=4)
    cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    return cells[0].source


def submitted(root: Path, student: str, name: str = NOTEBOOK) -> Path:
    return root / "submitted" / student / TOY / name


@dataclass
class Cycle:
    """What the instructor's commands printed and the course held after each step."""

    root: Path
    exchange: ExchangePaths
    runs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    fetched: dict[str, str] = field(default_factory=dict)  # the notebook as fetched
    stamps: dict[str, str] = field(default_factory=dict)  # after the first collect
    code: dict[str, str] = field(default_factory=dict)  # bo's notebook after each collect
    fresh_gradebook: bool = False
    student_feedback: dict[str, list[Path]] = field(default_factory=dict)
    failure_page_secret: str | None = None  # beside cy's failure page, after grading
    in_exchange: int = 0  # pages in the exchange's feedback folder after `feedback`
    canvas_export: Path | None = None  # the instructor's Canvas export, and the filled copy
    canvas_filled: str = ""


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    base = tmp_path_factory.mktemp("cycle")
    exchange_root = base / "exchange"  # beside the course, not inside it
    root = make_course(
        base / "course",
        {},
        assignments=(TOY, EMPTY),
        extra_config=f"c.Exchange.root = {str(exchange_root)!r}\n",
    )
    # An assignment written but not built: in source/, not in release/.
    shutil.copytree(root / "source" / TOY, root / "source" / DRAFT)
    c = Cycle(root, ExchangePaths(exchange_root, COURSE_ID))
    run = c.runs

    run["release"] = cnn_course(root, "release", TOY, EMPTY)
    run["release_again"] = cnn_course(root, "release", TOY)
    run["release_forced"] = cnn_course(root, "release", TOY, "--force")
    run["release_unbuilt"] = cnn_course(root, "release", DRAFT)
    run["release_unknown"] = cnn_course(root, "release", "nope")
    for student in KINDS:
        c.fetched[student] = (fetch(root, student, TOY) / NOTEBOOK).read_text()

    run["collect_empty"] = cnn_course(root, "collect", EMPTY)

    for student, kind in KINDS.items():
        hand_in(root, student, kind)
    run["feedback_ungraded"] = cnn_course(root, "feedback", TOY)
    # Without a gradebook, collect creates one: nbgrader runs `alembic` then.
    gradebook = root / "gradebook.db"
    kept = gradebook.rename(base / "gradebook.db.kept")
    run["collect"] = cnn_course(root, "collect", TOY)
    c.fresh_gradebook = gradebook.is_file()
    kept.replace(gradebook)  # the assignments' hidden tests are in the original one
    c.stamps = {s: submitted(root, s, "timestamp.txt").read_text() for s in KINDS}
    c.code["first"] = submitted(root, "bo").read_text()

    hand_in(root, "bo", RESUBMITTED)
    run["collect_kept"] = cnn_course(root, "collect", TOY)
    c.code["kept"] = submitted(root, "bo").read_text()
    run["collect_update"] = cnn_course(root, "collect", TOY, "--update")
    c.code["updated"] = submitted(root, "bo").read_text()

    run["grade"] = cnn_course(root, "grade", TOY, "--jobs", "2", env=tool_env())
    run["feedback"] = cnn_course(root, "feedback", TOY)
    c.in_exchange = len(list(c.exchange.feedback.glob("*.html")))
    for student in KINDS:
        c.student_feedback[student] = fetch_feedback(root, student)

    run["feedback_one"] = cnn_course(root, "feedback", TOY, "--student", "ada")
    shutil.rmtree(root / "feedback" / "bo" / TOY)  # graded, but its page is gone
    run["feedback_missing"] = cnn_course(root, "feedback", TOY)

    # cy's work cannot be graded: the page saying why goes back like any other.
    fetch(root, BROKEN, TOY)
    hand_in(root, BROKEN, "broken")
    run["collect_broken"] = cnn_course(root, "collect", TOY, "--student", BROKEN)
    run["grade_broken"] = cnn_course(root, "grade", TOY, "--student", BROKEN, env=tool_env())
    secret = root / "feedback" / BROKEN / TOY / SECRET
    c.failure_page_secret = secret.read_text() if secret.is_file() else None
    run["feedback_broken"] = cnn_course(root, "feedback", TOY, "--student", BROKEN)
    c.student_feedback[BROKEN] = fetch_feedback(root, BROKEN)
    run["status"] = cnn_course(root, "status", TOY)

    c.canvas_export = base / "Grades-Toy_Course.csv"
    c.canvas_export.write_text(CANVAS_EXPORT, encoding="utf-8")
    run["export"] = cnn_course(root, "export", "--canvas", str(c.canvas_export))
    filled = base / "Grades-Toy_Course-filled.csv"
    c.canvas_filled = filled.read_text(encoding="utf-8") if filled.is_file() else ""
    return c


# The instructor's Canvas export: ada by login, bo only by SIS User ID (a name with a
# comma), cy (whose work could not be graded), dee (not in the course), the Test Student.
CANVAS_EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,toy (501),toy2 (502),Quiz 1 (503),"
    "Current Score\n"
    "    Points Possible,,,,,3.00,3.00,10.00,(read only)\n"
    '"Lovelace, Ada",11,S11,ada,Toy 101,,,9.00,90.00\n'
    '"Bo, Jr., Bo",12,bo,,Toy 101,1.00,,7.00,70.00\n'
    '"Young, Cy",13,S13,cy,Toy 101,,,8.00,80.00\n'
    '"Dee, Dee",14,S14,dee,Toy 101,,,6.00,60.00\n'
    '"Student, Test",15,,,Toy 101,,,,\n'
)


def fetch_feedback(root: Path, student: str) -> list[Path]:
    """nbgrader's fetch_feedback as ``student``; the pages the student now has."""
    from nbgrader.apps import FetchFeedbackApp

    outcome = run_app(FetchFeedbackApp, root, [TOY, *student_options(root, student)])
    assert outcome["success"], outcome.get("log", "") + outcome.get("error", "")
    return sorted((root / "students" / student / TOY / "feedback").rglob("*.html"))


def out(c: Cycle, step: str) -> str:
    done = c.runs[step]
    return done.stdout + done.stderr


# ------------------------------------------------------------------------------ release


def test_the_commands_run_without_the_venv_on_path() -> None:
    assert shutil.which("alembic", path=bare_env()["PATH"]) != str(VENV_BIN / "alembic")


def test_release_puts_the_notebooks_in_the_exchange(cycle: Cycle) -> None:
    done = cycle.runs["release"]
    assert done.returncode == 0, out(cycle, "release")
    outbound = cycle.exchange.outbound
    assert f"created the exchange {cycle.exchange.root} (mode 1777)" in done.stdout
    assert f"{TOY}: released 1 notebook(s) to {outbound / TOY}" in done.stdout
    assert f"{EMPTY}: released 1 notebook(s) to {outbound / EMPTY}" in done.stdout
    assert (outbound / TOY / NOTEBOOK).is_file()
    assert cycle.exchange.root.stat().st_mode & 0o1777 == 0o1777


def test_a_student_fetches_the_released_notebook(cycle: Cycle) -> None:
    released = (cycle.root / "release" / TOY / NOTEBOOK).read_text()
    for student in KINDS:
        assert cycle.fetched[student] == released


def test_releasing_again_needs_force(cycle: Cycle) -> None:
    again = cycle.runs["release_again"]
    assert again.returncode == 2
    assert f"cnn-course release: error: already released: {TOY}" in again.stderr
    assert "--force" in again.stderr
    forced = cycle.runs["release_forced"]
    assert forced.returncode == 0, out(cycle, "release_forced")
    assert f"{TOY}: re-released (replaced) 1 notebook(s)" in forced.stdout


def test_an_unbuilt_assignment_is_not_released(cycle: Cycle) -> None:
    done = cycle.runs["release_unbuilt"]
    assert done.returncode == 2
    assert f"run `cnn-course build {DRAFT}` first" in done.stderr
    assert not (cycle.exchange.outbound / DRAFT).exists()


def test_an_unknown_assignment_is_an_input_error(cycle: Cycle) -> None:
    done = cycle.runs["release_unknown"]
    assert done.returncode == 2
    assert "unknown assignment 'nope'" in done.stderr


def test_a_missing_exchange_that_cannot_be_made_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    paths = ExchangePaths(blocker / "exchange", COURSE_ID)
    with pytest.raises(CourseInputError, match="does not exist and cannot be created"):
        check_exchange(paths, create=True)
    with pytest.raises(CourseInputError, match="nothing was released yet"):
        check_exchange(paths)


def test_release_into_an_unusable_exchange_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = toy.write_toy_course(tmp_path / "course")
    (root / "release" / TOY).mkdir(parents=True)  # the check comes before any copying
    (tmp_path / "file").write_text("")
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"c.Exchange.root = {str(tmp_path / 'file' / 'exchange')!r}\n")
    assert cli.main(["--course", str(root), "release", TOY]) == 2
    assert "cannot be created" in capsys.readouterr().err


# ------------------------------------------------------------------------------ collect


def test_collect_with_nothing_submitted_says_so(cycle: Cycle) -> None:
    done = cycle.runs["collect_empty"]
    assert done.returncode == 0, out(cycle, "collect_empty")
    assert f"{EMPTY}: nothing submitted to the exchange yet; none collected" in done.stdout
    assert not (cycle.root / "submitted").exists() or not any(
        (cycle.root / "submitted").glob(f"*/{EMPTY}")
    )


def test_collect_puts_every_submission_under_submitted(cycle: Cycle) -> None:
    done = cycle.runs["collect"]
    assert done.returncode == 0, out(cycle, "collect")
    assert f"{TOY}: collected 2 student(s) into submitted/ (2 new, 0 updated): ada, bo" in (
        done.stdout
    )
    for student in KINDS:
        assert cycle.stamps[student] == inbound_stamps(cycle.exchange, student)[0]
    assert solution(submitted(cycle.root, "ada").read_text()) == toy.STUDENT_SOLUTIONS["correct"]
    assert solution(cycle.code["first"]) == toy.STUDENT_SOLUTIONS["wrong"]
    # It made the gradebook, running alembic, with no venv on PATH.
    assert cycle.fresh_gradebook


def test_collect_keeps_collected_work_without_update(cycle: Cycle) -> None:
    done = cycle.runs["collect_kept"]
    assert done.returncode == 0, out(cycle, "collect_kept")
    assert f"{TOY}: collected 0 student(s) into submitted/ (0 new, 0 updated)" in done.stdout
    assert "already collected, no newer submission: ada" in done.stdout
    assert "newer submission waiting, kept the collected one: bo (add --update" in done.stdout
    assert cycle.code["kept"] == cycle.code["first"]


def test_collect_update_takes_the_newer_submission(cycle: Cycle) -> None:
    done = cycle.runs["collect_update"]
    assert done.returncode == 0, out(cycle, "collect_update")
    assert f"{TOY}: collected 1 student(s) into submitted/ (0 new, 1 updated): bo" in done.stdout
    assert solution(cycle.code["updated"]) == toy.STUDENT_SOLUTIONS[RESUBMITTED]
    first, newer = inbound_stamps(cycle.exchange, "bo")
    assert first == cycle.stamps["bo"] and newer > first
    assert submitted(cycle.root, "bo", "timestamp.txt").read_text() == newer
    assert submitted(cycle.root, "ada", "timestamp.txt").read_text() == cycle.stamps["ada"]


# ----------------------------------------------------------------------------- feedback


def test_feedback_before_grading_is_an_input_error(cycle: Cycle) -> None:
    done = cycle.runs["feedback_ungraded"]
    assert done.returncode == 2
    assert f"no feedback for '{TOY}' yet" in done.stderr
    assert f"run `cnn-course grade {TOY}` first" in done.stderr


def test_feedback_returns_the_pages_to_the_exchange(cycle: Cycle) -> None:
    assert cycle.runs["grade"].returncode == 0, out(cycle, "grade")
    done = cycle.runs["feedback"]
    assert done.returncode == 0, out(cycle, "feedback")
    assert f"{TOY}: returned 2 feedback page(s) to 2 student(s): ada, bo" in done.stdout
    assert "no feedback page" not in done.stdout
    assert cycle.in_exchange == 2


def test_each_student_fetches_only_their_own_page(cycle: Cycle) -> None:
    ada, bo = cycle.student_feedback["ada"], cycle.student_feedback["bo"]
    assert [p.name for p in ada] == [p.name for p in bo] == [f"{toy.TOY_NOTEBOOK}.html"]
    # Under the timestamp of the submission that was graded: bo's second one.
    assert ada[0].parent.name == cycle.stamps["ada"]
    assert bo[0].parent.name == inbound_stamps(cycle.exchange, "bo")[-1]
    assert ada[0].read_text() == (cycle.root / "feedback" / "ada" / TOY / ada[0].name).read_text()
    ada_text, bo_text = html_text(ada[0].read_text()), html_text(bo[0].read_text())
    assert "x ** 2" in ada_text and "abs(x)" not in ada_text
    assert "abs(x)" in bo_text and "x ** 2" not in bo_text and "x + x" not in bo_text


def test_feedback_for_one_student(cycle: Cycle) -> None:
    done = cycle.runs["feedback_one"]
    assert done.returncode == 0, out(cycle, "feedback_one")
    assert f"{TOY}: returned 1 feedback page(s) to 1 student(s): ada" in done.stdout


def test_graded_students_without_a_page_are_listed(cycle: Cycle) -> None:
    done = cycle.runs["feedback_missing"]
    assert done.returncode == 0, out(cycle, "feedback_missing")
    assert f"{TOY}: returned 1 feedback page(s) to 1 student(s): ada" in done.stdout
    assert f"graded, but no feedback page: bo (run `cnn-course grade {TOY}`)" in done.stdout


def test_work_that_could_not_be_graded_gets_its_page_back(cycle: Cycle) -> None:
    assert cycle.runs["collect_broken"].returncode == 0, out(cycle, "collect_broken")
    assert cycle.runs["grade_broken"].returncode == 1, out(cycle, "grade_broken")
    # The failure page is kept with the submission's secret, as nbgrader's own pages are.
    assert cycle.failure_page_secret == submitted(cycle.root, BROKEN, SECRET).read_text()
    done = cycle.runs["feedback_broken"]
    assert done.returncode == 0, out(cycle, "feedback_broken")
    assert f"{TOY}: returned 1 feedback page(s) to 1 student(s): {BROKEN}" in done.stdout
    (page,) = cycle.student_feedback[BROKEN]
    assert "could not be graded" in html_text(page.read_text())


def test_status_counts_the_pages_returned_of_this_assignment(cycle: Cycle) -> None:
    done = cycle.runs["status"]
    assert done.returncode == 0, out(cycle, "status")
    # ada's page and cy's; bo's page was removed after it was returned.
    assert "feedback made for 2, 2 page(s) returned" in done.stdout, done.stdout
    assert f"{TOY}: released; 3 submitted" in done.stdout, done.stdout


def test_grades_go_into_the_instructors_canvas_export(cycle: Cycle) -> None:
    import csv
    import io

    done = cycle.runs["export"]
    assert done.returncode == 0, out(cycle, "export")
    with open(cycle.root / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
    rows = {r["Student"].strip(): r for r in csv.DictReader(io.StringIO(cycle.canvas_filled))}
    assert f"{float(grades['ada', TOY]['score']):g}" == rows["Lovelace, Ada"]["toy (501)"]
    assert f"{float(grades['bo', TOY]['score']):g}" == rows["Bo, Jr., Bo"]["toy (501)"]
    assert float(grades["ada", TOY]["score"]) > float(grades["bo", TOY]["score"])
    assert rows["Young, Cy"]["toy (501)"] == ""  # could not be graded: blank, not 0
    assert [rows[n]["toy2 (502)"] for n in ("Lovelace, Ada", "Bo, Jr., Bo")] == ["", ""]
    assert rows["Dee, Dee"]["Quiz 1 (503)"] == "6.00"  # the rest as Canvas exported it
    assert rows["Points Possible"]["toy (501)"] == "3.00"
    assert cycle.canvas_export.read_text(encoding="utf-8") == CANVAS_EXPORT
    printed = done.stdout
    assert "2 score(s) filled in" in printed, printed
    assert f"  {BROKEN} (Young, Cy), {TOY}: not graded: " in printed, printed
    assert f"  ada (Lovelace, Ada), {EMPTY}: not submitted" in printed, printed
    assert "Canvas students the course has no grades for (2): Dee, Dee (Canvas ID 14)" in printed


def test_feedback_help_reaches_the_module(capsys: pytest.CaptureFixture[str]) -> None:
    # `feedback` names cnn_course.integrity.feedback (helpers), not this command: the full parser.
    assert cli.main(["feedback", "--help"]) == 0
    assert "release_feedback" in capsys.readouterr().out


def test_a_student_is_told_what_is_released(cycle: Cycle, tmp_path: Path) -> None:
    from cnn_course.commands import lab

    course = lab.read_course(cycle.root)
    assert lab.released_note(course) == (
        f"Released, to fetch in the Assignments panel: {TOY}, {EMPTY}."
    )
    empty = lab.Course(root=cycle.root, course_id="other-course", exchange=course.exchange)
    note = lab.released_note(empty)
    assert note.startswith("Nothing is released in course other-course yet")
    assert "cnn-course release ASSIGNMENT" in note


def test_a_collect_that_stops_midway_keeps_no_half_submission(tmp_path: Path) -> None:
    """nbgrader stops the whole collect at a file it cannot copy (here a dangling link
    in zed's folder, after ada's): nothing it made in that run stays, so the next
    collect, once the cause is fixed, copies everyone whole instead of keeping halves."""
    exchange_root = tmp_path / "exchange"
    root = make_course(
        tmp_path / "course",
        {},
        assignments=(TOY,),
        extra_config=f"c.Exchange.root = {str(exchange_root)!r}\n",
    )
    exchange = ExchangePaths(exchange_root, COURSE_ID)
    assert cnn_course(root, "release", TOY).returncode == 0
    for student in ("ada", "zed"):
        fetch(root, student, TOY)
        hand_in(root, student, "correct")
    (zed,) = exchange.inbound.glob(f"zed+{TOY}+*")
    (zed / "notes.txt").symlink_to(tmp_path / "nowhere")

    failed = cnn_course(root, "collect", TOY)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "removed what this run had copied of" in failed.stderr
    assert not list((root / "submitted").glob(f"*/{TOY}"))

    (zed / "notes.txt").unlink()
    done = cnn_course(root, "collect", TOY)
    assert done.returncode == 0, done.stderr
    assert f"{TOY}: collected 2 student(s) into submitted/ (2 new, 0 updated)" in done.stdout
    for student in ("ada", "zed"):
        assert submitted(root, student, "timestamp.txt").is_file()
        assert solution(submitted(root, student).read_text()) == toy.STUDENT_SOLUTIONS["correct"]
