"""``cnn-course demo``: the whole course cycle for the simulated class, run for real.

The demo runs once for the module (the real ``cnn-course`` command, 2 jobs, in a temporary
folder); the tests read what it made: the gradebook (through nbgrader's API), the exchange
submissions, feedback, ``grades.csv`` and the report. A second run rebuilds the folder
from scratch (checked on ``prepare_course``, not by a second six-minute run).
"""

from __future__ import annotations

import csv
import math
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from browser_helpers import CHROMIUM_ARGS, PAGE_LAYOUT, Shots, offline_page, require_chromium
from course_helpers import VENV_BIN, notebook_formulas, tool_env
from nbgrader.api import Gradebook
from playwright.sync_api import sync_playwright

from cnn_course.classroom import mistakes
from cnn_course.classroom.demo_class import CLASS, Plan
from cnn_course.classroom.filters import ENDLESS_LOOP
from cnn_course.classroom.quiz import typed_answers
from cnn_course.commands.cli import main
from cnn_course.commands.demo_steps import MARKER, prepare_course
from cnn_course.course import course_directory
from cnn_course.errors import CourseInputError
from cnn_course.integrity.feedback import feedback_leaks, html_text
from cnn_course.manifest import ASSIGNMENTS
from cnn_course.plugins.late_penalty import PerDayLatePenalty

FILTERS, OUTPUT_SIZE, CONV1X1, BACKPROP, QUIZ = ASSIGNMENTS
SCORE_SLACK = 1e-9


@dataclass
class DemoRun:
    """One run of the demo command and the grades it left in the gradebook."""

    root: Path
    returncode: int
    stdout: str
    seconds: float
    # (student, assignment, grade_id) -> (auto_score, max_score, cell type)
    cells: dict[tuple[str, str, str], tuple[float | None, float, str]]
    # (student, assignment) -> (score, max_score, late penalty, seconds late)
    submissions: dict[tuple[str, str], tuple[float, float, float, float]]


def run_demo_command(course_dir: Path) -> DemoRun:
    started = time.perf_counter()
    done = subprocess.run(
        [str(VENV_BIN / "cnn-course"), "demo", "--course-dir", str(course_dir), "--jobs", "2"],
        cwd=course_dir.parent,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return read_run(course_dir, done.returncode, done.stdout, seconds)


def read_run(course_dir: Path, returncode: int, stdout: str, seconds: float) -> DemoRun:
    """What a demo run left in the gradebook, with its output."""
    coursedir = course_directory(course_dir)
    cells, submissions = {}, {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for assignment in ASSIGNMENTS:
            for sub in gb.find_assignment(assignment).submissions:
                key = (sub.student.id, assignment)
                submissions[key] = (
                    float(sub.score),
                    float(sub.max_score),
                    float(sub.late_submission_penalty or 0.0),
                    float(sub.total_seconds_late),
                )
                for notebook in sub.notebooks:
                    for grade in notebook.grades:
                        cells[(*key, grade.name)] = (
                            grade.auto_score,
                            float(grade.max_score),
                            grade.cell.cell_type,
                        )
    return DemoRun(course_dir, returncode, stdout, seconds, cells, submissions)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    return run_demo_command(tmp_path_factory.mktemp("demo") / "demo")


def students_where(test: Callable[[Plan], bool]) -> list[str]:
    return [s for s, plans in CLASS.items() if all(test(p) for p in plans.values())]


def is_clean(plan: Plan) -> bool:
    """Correct work, handed in on time, nothing odd."""
    return plan == Plan(style=plan.style)


def cells_of(run: DemoRun, student: str, assignment: str) -> dict[str, tuple[float | None, float]]:
    """Score and maximum of every graded cell of one submission."""
    return {c: v[:2] for (s, a, c), v in run.cells.items() if (s, a) == (student, assignment)}


def only(assignment: str, test: Callable[[Plan], bool]) -> list[str]:
    return [s for s, plans in CLASS.items() if test(plans[assignment])]


# --- the command's output --------------------------------------------------------------


def test_table_has_every_student_and_assignment(demo: DemoRun) -> None:
    lines = demo.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["student"])
    assert lines[header].split() == ["student", *ASSIGNMENTS, "total"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[header + 2 :] if line.strip()}
    for student in CLASS:
        values = rows[student]
        assert len(values) == len(ASSIGNMENTS) + 1, values
        scores = [float(v.rstrip("*")) for v in values]
        assert scores[-1] == pytest.approx(sum(scores[:-1]), abs=0.11)
        for assignment, shown in zip(ASSIGNMENTS, scores, strict=False):
            score, _, penalty, _ = demo.submissions[(student, assignment)]
            assert shown == pytest.approx(score - penalty, abs=0.05), (student, assignment)
    for label in ("grades:", "feedback:", "report:"):
        path = next(line.split(None, 1)[1] for line in lines if line.startswith(label))
        assert Path(path).exists(), path
    assert len(CLASS) >= 8


def test_every_student_submitted_every_assignment_through_the_exchange(demo: DemoRun) -> None:
    assert set(demo.submissions) == {(s, a) for s in CLASS for a in ASSIGNMENTS}
    inbound = demo.root / "exchange" / "cnn-course" / "inbound"
    sent = {tuple(p.name.split("+")[:2]) for p in inbound.iterdir()}
    assert sent == {(s, a) for s in CLASS for a in ASSIGNMENTS}
    for student in CLASS:
        assert (demo.root / "students" / student / FILTERS / "filters.ipynb").exists()
    assert (demo.root / "exchange").stat().st_mode & 0o7777 == 0o1777
    assert (demo.root / MARKER).exists()


# --- the class's grades, from the gradebook ----------------------------------------------


def test_full_marks_students_have_every_autograded_point(demo: DemoRun) -> None:
    full = students_where(is_clean)
    assert full == ["ada", "bo", "cy"]
    for student in full:
        for assignment in ASSIGNMENTS:
            autograded = {
                cell: v[:2]
                for (s, a, cell), v in demo.cells.items()
                if (s, a) == (student, assignment) and v[2] == "code"
            }
            assert autograded, (student, assignment)
            lost = {c: v for c, v in autograded.items() if v[0] < v[1] - SCORE_SLACK}
            assert lost == {}, (student, assignment)


def test_blank_submission_scores_zero(demo: DemoRun) -> None:
    assert only(CONV1X1, lambda p: p.blank) == ["gus"]
    score, max_score, _, _ = demo.submissions[("gus", CONV1X1)]
    assert (score, max_score > 0) == (0.0, True)


def test_half_done_submission_scores_part(demo: DemoRun) -> None:
    assert only(BACKPROP, lambda p: p.half) == ["fay"]
    score, max_score, _, _ = demo.submissions[("fay", BACKPROP)]
    assert 0 < score < max_score


def test_late_submission_is_penalised_by_the_plugin_rule(demo: DemoRun) -> None:
    late = [(s, a) for s, plans in CLASS.items() for a, p in plans.items() if p.late]
    assert late == [("hal", OUTPUT_SIZE)]
    score, max_score, penalty, seconds_late = demo.submissions[late[0]]
    # Submitted just after the due date: one started day, 10% of the score (all of it here).
    assert 0 < seconds_late < 24 * 3600
    assert score == max_score == 50.0
    assert penalty == pytest.approx(5.0)
    assert penalty == pytest.approx(
        PerDayLatePenalty(percent_per_day=10.0).late_submission_penalty("hal", score, seconds_late)
    )
    on_time = {k: v for k, v in demo.submissions.items() if k not in late}
    assert all(v[2] == 0.0 and v[3] == 0.0 for v in on_time.values())
    with open(demo.root / "grades.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if (r["student_id"], r["assignment"]) == late[0])
    assert float(row["late_submission_penalty"]) == pytest.approx(5.0)
    assert float(row["score"]) == pytest.approx(45.0)
    with open(demo.root / "reports" / "submissions.csv", newline="") as fh:
        reported = next(r for r in csv.DictReader(fh) if (r["student"], r["assignment"]) == late[0])
    assert float(reported["score"]) == pytest.approx(45.0)


def test_endless_loop_loses_that_function_only(demo: DemoRun) -> None:
    assert only(FILTERS, lambda p: p.endless_loop) == ["ivy"]
    cells = cells_of(demo, "ivy", FILTERS)
    lost = {c for c, (score, max_score) in cells.items() if score < max_score - SCORE_SLACK}
    assert lost == set(ENDLESS_LOOP.lost_cells)
    assert all(c.startswith(ENDLESS_LOOP.function) for c in lost)
    nb = nbformat.read(demo.root / "autograded" / "ivy" / FILTERS / "filters.ipynb", 4)
    errors = [o.get("ename") for cell in nb.cells for o in cell.get("outputs", [])]
    assert "CellTimeoutError" not in errors  # the engine stopped it, not the cell timeout
    page = html_text((demo.root / "feedback" / "ivy" / FILTERS / "filters.html").read_text())
    assert "is there an endless loop?" in page


def test_edited_test_cells_are_restored(demo: DemoRun) -> None:
    edited = [s for s, plans in CLASS.items() if plans[FILTERS].edited_tests]
    assert edited == ["eli"]
    plan = CLASS["eli"][FILTERS]
    # The classmate who handed in the same code and left the tests alone.
    twin = next(s for s, p in CLASS.items() if p[FILTERS] == Plan(plan.style, plan.mistakes))
    edited_cells = plan.edited_tests
    submitted = nbformat.read(demo.root / "submitted" / "eli" / FILTERS / "filters.ipynb", 4)
    graded = nbformat.read(demo.root / "autograded" / "eli" / FILTERS / "filters.ipynb", 4)
    for nb, weakened in ((submitted, True), (graded, False)):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in edited_cells:
                asserts = re.findall(r"^\s*assert ", cell.source, re.M)
                assert (not asserts) == weakened, cell.source
    eli, other = cells_of(demo, "eli", FILTERS), cells_of(demo, twin, FILTERS)
    assert eli == other
    assert all(eli[c][0] == 0.0 for c in edited_cells)  # the restored tests failed


def test_typical_mistakes_are_named_in_feedback(demo: DemoRun) -> None:
    named = 0
    for student, plans in CLASS.items():
        for assignment, plan in plans.items():
            if not plan.mistakes:
                continue
            notebook = ASSIGNMENTS[assignment][1].replace(".ipynb", ".html")
            page = html_text((demo.root / "feedback" / student / assignment / notebook).read_text())
            for key in plan.mistakes:
                mistake = next(m for m in mistakes(assignment) if f"{m.function}: {m.label}" == key)
                assert mistake.expected_mistake in page, (student, assignment, key)
                named += 1
    assert named >= 10


def test_copier_loses_quiz_points(demo: DemoRun) -> None:
    copiers = only(QUIZ, lambda p: p.answers_of is not None)
    assert copiers == ["ivy"] and CLASS["ivy"][QUIZ].answers_of == "ada"
    quiz = nbformat.read(demo.root / "submitted" / "ivy" / QUIZ / "quiz.ipynb", 4)
    sources = {c.source for c in quiz.cells}
    assert set(typed_answers("ada").values()) <= sources
    copied, max_score, _, _ = demo.submissions[("ivy", QUIZ)]
    honest, _, _, _ = demo.submissions[("ada", QUIZ)]
    assert honest == max_score
    assert copied < max_score / 2


def test_the_report_suspects_the_copier_and_nobody_else(demo: DemoRun) -> None:
    """ivy typed in ada's answers: the report names ivy, with ada as the source, once."""
    with open(demo.root / "reports" / "copying.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    telling = len(typed_answers("ada"))  # the two variants differ in every answer
    assert rows == [
        {
            "student": "ivy",
            "assignment": QUIZ,
            "source": "ada",
            "telling": str(telling),
            "matches": str(telling),
            "own": "0",
        }
    ]
    page = (demo.root / "reports" / "report.html").read_text()
    assert "<h2>Suspected copying</h2>" in page
    assert "? suspected copying: ivy's 05_quiz answers fit ada's variant (" in demo.stdout


def test_the_action_list_names_what_the_class_left_to_do(demo: DemoRun) -> None:
    """ivy's endless loop (one action for all its stopped cells), each flagged student, the
    copier, and the written answers waiting: in that order, and nothing else."""
    with open(demo.root / "reports" / "actions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(demo.root / "reports" / "flags.csv", newline="") as handle:
        flagged = sorted((r["assignment"], r["student"]) for r in csv.DictReader(handle))
    assert [(r["kind"], r["assignment"], r["student"]) for r in rows] == [
        ("unfinished cell", FILTERS, "ivy"),
        *(("flagged", a, s) for a, s in flagged),
        ("suspected copying", QUIZ, "ivy"),
        ("hand grading", CONV1X1, ""),
    ]
    stopped = [
        c for c in ENDLESS_LOOP.lost_cells if f"cell {c} ran out of CPU time" in rows[0]["what"]
    ]
    assert stopped == list(ENDLESS_LOOP.lost_cells)
    # The probe's CPU limit stopped it: no busy machine does that, so no regrade is asked.
    assert "does not finish" in rows[0]["todo"] and "--force" not in rows[0]["todo"]
    wrote = [s for s, plans in CLASS.items() if not plans[CONV1X1].blank]
    assert rows[-1]["what"].startswith(f"{len(wrote)} submission(s) wait")
    assert "cnn-course quiz-preview --student ada" in rows[-2]["todo"]


def test_quiz_takers_lose_only_the_questions_they_got_wrong(demo: DemoRun) -> None:
    """Answers computed from ``quiz.numbers`` need ``quiz_variant.py`` beside the notebook:
    a kernel locked out of its folder (as a classmate's hand-back once did) loses them all."""
    own = only(QUIZ, lambda p: p.answers_of is None and not p.blank and not p.half)
    assert len(own) == len(CLASS) - 1
    for student in own:
        lost = {
            cell
            for cell, (score, top) in cells_of(demo, student, QUIZ).items()
            if score is not None and score < top - SCORE_SLACK
        }
        wrong = {f"{m.partition(':')[0]}_check" for m in CLASS[student][QUIZ].mistakes}
        assert lost == wrong, student


def test_grades_feedback_and_report_are_written(demo: DemoRun) -> None:
    with open(demo.root / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["student_id"], r["assignment"]) for r in rows} == set(demo.submissions)
    for student in CLASS:
        for assignment, (_, notebook) in ASSIGNMENTS.items():
            page = demo.root / "feedback" / student / assignment / notebook.replace("ipynb", "html")
            assert page.stat().st_size > 0, page
    assert (demo.root / "reports" / "report.html").stat().st_size > 0
    assert feedback_leaks(demo.root) == []


def test_hand_graded_answers_wait_as_pending_not_as_failures(
    demo: DemoRun, capsys: pytest.CaptureFixture[str]
) -> None:
    """03_conv1x1's written answer: students who wrote one wait for the instructor."""
    manual = {
        (s, a, c): points
        for (s, a, c), (auto, points, kind) in demo.cells.items()
        if kind == "markdown"
    }
    assert manual, "the course has no hand-graded cell"
    wrote = {k: p for k, p in manual.items() if demo.cells[k][0] is None}
    blank = [s for s, plans in CLASS.items() if plans["03_conv1x1"].blank]
    assert {s for s, _, _ in wrote} == set(CLASS) - set(blank) and blank
    with open(demo.root / "grades.csv", newline="") as fh:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
    for (student, assignment, _), points in wrote.items():
        row = rows[(student, assignment)]
        assert float(row["hand_grading_pending"]) == points, row
        assert row["status"] == "graded"
        assert f"{points:g} of" in row["status_reason"] and "hand grading" in row["status_reason"]
    for student in blank:
        assert rows[(student, "03_conv1x1")]["hand_grading_pending"] == "0"
    assert rows[("ada", "01_filters")]["hand_grading_pending"] == "0"
    with open(demo.root / "reports" / "cells.csv", newline="") as fh:
        cells = {r["grade_id"]: r for r in csv.DictReader(fh)}
    for grade_id in {c for _, _, c in manual}:
        row = cells[grade_id]
        assert int(row["waiting"]) == len(wrote), row
        assert int(row["n"]) == len(blank), row  # only the blank ones were scored (0)
    assert f"{len(wrote)} submission(s) have" in demo.stdout
    assert main(["--course", str(demo.root), "status", "03_conv1x1"]) == 0
    status = capsys.readouterr().out
    assert f"{len(wrote)} wait for hand grading" in status, status
    assert "hand grading: " + ", ".join(sorted({s for s, _, _ in wrote})) in status, status


def test_late_penalty_rule() -> None:
    plugin = PerDayLatePenalty(percent_per_day=10.0)
    day = 24 * 3600
    assert [plugin.penalty_fraction(s) for s in (0.001, day, day + 1, 3 * day)] == pytest.approx(
        [0.1, 0.1, 0.2, 0.3]
    )
    assert plugin.late_submission_penalty("x", 40.0, 30 * day) == 40.0  # capped at the score
    assert PerDayLatePenalty(percent_per_day=25.0, max_percent=50.0).late_submission_penalty(
        "x", 40.0, 5 * day
    ) == pytest.approx(20.0)
    assert PerDayLatePenalty(grace_minutes=15).late_submission_penalty("x", 40.0, 600) == 0.0
    assert math.isclose(PerDayLatePenalty().late_submission_penalty("x", 0.0, day), 0.0)


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CourseInputError, match="not made by"):
        prepare_course(tmp_path, [FILTERS])
    assert main(["demo", "--course-dir", str(tmp_path)]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_rebuilds_a_folder_it_made_from_scratch(tmp_path: Path) -> None:
    """A second ``make demo`` starts over: what the first left (grades, a secret) is gone.

    That a rebuilt course grades the class the same although its secret, and so every
    submission's cases, are new is checked where the cases are drawn (``test_case_draws``:
    a draw that would not tell every mistake apart is drawn again), and a regrade of the
    same course under load in ``test_under_load``; a second whole demo run here cost six
    minutes of ``make test``.
    """
    root = tmp_path / "demo"
    prepare_course(root, [FILTERS])
    left = [root / "gradebook.db", root / "submitted" / "ada" / FILTERS / "work.ipynb"]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("from the first run")
    prepare_course(root, [FILTERS])
    assert not any(path.exists() for path in left)
    assert (root / MARKER).exists() and (root / "source" / FILTERS).is_dir()


# --- the pages in Chromium ----------------------------------------------------------------
# A laptop's window and a phone's.
SCREENS = ((1280, 800), (390, 844))


def formula_count(root: Path, assignment: str, notebook: str) -> int:
    """Formulas in the released notebook's markdown (the feedback page shows them all)."""
    return len(notebook_formulas(root / "release" / assignment / notebook))


def test_pages_work_offline_and_fit_laptop_and_phone(demo: DemoRun) -> None:
    """Every feedback page and the report, in Chromium at 1280x800 and on a phone's 390 px:
    no request leaves the machine, every formula is typeset (MathML, no MathJax), no text is
    cut at an edge, and a feedback page's summary shows its first row without scrolling."""
    pages = [
        (assignment, demo.root / "feedback" / s / assignment / nb.replace("ipynb", "html"))
        for s in CLASS
        for assignment, (_, nb) in ASSIGNMENTS.items()
    ]
    pages.append(("report", demo.root / "reports" / "report.html"))
    formulas = {a: formula_count(demo.root, a, nb) for a, (_, nb) in ASSIGNMENTS.items()}
    assert sum(formulas.values()) >= 10  # the formula checks below mean something
    lost_first = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(require_chromium()), args=CHROMIUM_ARGS, headless=True
        )
        try:
            for width, height in SCREENS:
                with offline_page(browser, width, height) as (page, refused):
                    for assignment, path in pages:
                        page.goto(path.as_uri(), wait_until="load")
                        state = page.evaluate(PAGE_LAYOUT)
                        where = f"{path.relative_to(demo.root)} at {width} px"
                        assert state["pageWidth"] <= width, where
                        assert state["clipped"] == [], (where, state["clipped"])
                        assert not state["tex"], f"{where}: TeX shown as text"
                        if assignment == "report":
                            continue
                        assert len(state["formulas"]) == formulas[assignment], where
                        assert all(w > 0 and h > 0 for w, h in state["formulas"]), where
                        row = state["firstRow"]
                        assert row and row["bottom"] <= height, f"{where}: summary below the fold"
                        if "✗" in row["text"]:
                            lost_first.append(where)
                    assert refused == [], f"requests left the machine at {width} px: {refused}"
                    _screenshots(page, demo.root, width)
        finally:
            browser.close()
    # dee lost points in every assignment: on each page the first row is a lost one.
    assert {w for w in lost_first if "/dee/" in w} == {
        f"feedback/dee/{a}/{nb.replace('ipynb', 'html')} at {w} px"
        for a, (_, nb) in ASSIGNMENTS.items()
        for w, _ in SCREENS
    }


def _screenshots(page, root: Path, width: int) -> None:
    """A feedback page with lost points and the report (``UPDATE_DOC_SCREENSHOTS=1``: in
    docs/screenshots/ too)."""
    shots = Shots(page, f"demo-pages-{width}")
    screen = "laptop" if width >= 1000 else "phone"
    page.goto((root / "feedback" / "dee" / BACKPROP / "conv_backprop.html").as_uri())
    shots("feedback", doc=f"feedback-{screen}")
    page.goto((root / "reports" / "report.html").as_uri())
    shots("report", doc=f"report-{screen}")
