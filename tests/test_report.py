"""The instructor's report on a graded toy class, checked against hand-worked numbers.

The class (see ``tests/test_feedback.py``) has correct, wrong (two named mistakes), blank,
crashing, timed-out and unreadable submissions. Every expected figure below is computed
from the class definition, not from nbgrader or the report.
"""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import statistics
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from test_feedback import (
    BROKEN,
    CLASS,
    EXTRA,
    FILTERS,
    NOTEBOOKS,
    TIMED_OUT,
    extra_notebook,
    toy_class_course,
)

from cnn_course.commands.cli import main
from cnn_course.course import REPO_ROOT, CourseDir
from cnn_course.integrity.feedback import html_text
from cnn_course.report import FLAGS_FILE, HTML_FILE, PASS_RATES_PNG, REPORT_DIR, SCORES_PNG

POINTS = {
    FILTERS: {"zero_pad_basic": 2.0, "zero_pad_channels": 3.0},
    EXTRA: {"double_visible": 1.0, "double_hidden": 2.0},
}
FLAGS = [
    {"student": "pads_all_axes", "assignment": FILTERS, "reason": "same code as pads_all_axes_too"},
    {"student": "correct", "assignment": EXTRA, "reason": "submitted 3 days late", "by": "x"},
]
TOLERANCE = 1e-3  # CSV numbers carry four decimals


def totals(assignment: str) -> list[float]:
    return [sum(p for p, _ in s.cells.values()) for s in CLASS[assignment].values()]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    return toy_class_course(tmp_path_factory)


@pytest.fixture(scope="module")
def reported(course: CourseDir) -> tuple[int, Path]:
    """``cnn-course report`` on the toy class, with a flags file; (exit code, out dir)."""
    out = course.root / REPORT_DIR
    out.mkdir(exist_ok=True)
    (out / FLAGS_FILE).write_text(json.dumps(FLAGS))
    return main(["report", "--course", str(course.root)]), out


def test_gradebook_agrees_with_the_hand_worked_class(course: CourseDir) -> None:
    """Premise of the numbers below: nbgrader scored every cell as the class predicts."""
    with course.gradebook() as gb:
        for assignment, students in CLASS.items():
            for student, work in students.items():
                notebook = gb.find_submission_notebook(NOTEBOOKS[assignment], assignment, student)
                got = {g.name: float(g.score) for g in notebook.grades}
                assert got == {cell: p for cell, (p, _) in work.cells.items()}, student


def test_exit_code_is_0_and_files_are_written(reported: tuple[int, Path]) -> None:
    code, out = reported
    assert code == 0
    for name in (
        HTML_FILE,
        SCORES_PNG,
        PASS_RATES_PNG,
        "scores.csv",
        "cells.csv",
        "mistakes.csv",
        "flags.csv",
        "failures.csv",
        "submissions.csv",
        "students.csv",
        "copying.csv",
        "actions.csv",
    ):
        assert (out / name).is_file(), name


def test_scores_per_assignment(reported: tuple[int, Path]) -> None:
    rows = {r["assignment"]: r for r in read_csv(reported[1] / "scores.csv")}
    assert set(rows) == set(CLASS)
    for assignment in CLASS:
        row, values = rows[assignment], totals(assignment)
        assert int(row["n"]) == len(values)  # the unreadable submission is not counted
        assert float(row["max_score"]) == sum(POINTS[assignment].values())
        assert float(row["mean"]) == pytest.approx(statistics.fmean(values), abs=TOLERANCE)
        assert float(row["std"]) == pytest.approx(statistics.stdev(values), abs=TOLERANCE)
        assert float(row["min"]) == min(values)
        assert float(row["max"]) == max(values)
    assert float(rows[FILTERS]["mean"]) == pytest.approx(1.5)  # 12 points over 8 students


def test_pass_rate_of_every_graded_cell(reported: tuple[int, Path]) -> None:
    rows = read_csv(reported[1] / "cells.csv")
    assert [(r["assignment"], r["grade_id"]) for r in rows] == [
        (a, cell)
        for a in CLASS
        for cell in POINTS[a]  # notebook order
    ]
    for row in rows:
        assignment, cell = row["assignment"], row["grade_id"]
        scores = [s.cells[cell][0] for s in CLASS[assignment].values()]
        full = sum(score == POINTS[assignment][cell] for score in scores)
        assert (int(row["n"]), int(row["full"])) == (len(scores), full), cell
        assert float(row["pass_rate"]) == pytest.approx(full / len(scores), abs=TOLERANCE)
        assert float(row["mean_score"]) == pytest.approx(statistics.fmean(scores), abs=TOLERANCE)
    basic = next(r for r in rows if r["grade_id"] == "zero_pad_basic")
    assert float(basic["pass_rate"]) == pytest.approx(3 / 8, abs=TOLERANCE)


def test_diagnosed_mistakes_are_counted_per_cell(reported: tuple[int, Path]) -> None:
    expected = Counter(
        (assignment, cell, mistake)
        for assignment, students in CLASS.items()
        for work in students.values()
        for cell, (_, mistakes) in work.cells.items()
        for mistake in mistakes
    )
    rows = read_csv(reported[1] / "mistakes.csv")
    got = {(r["assignment"], r["grade_id"], r["mistake"]): int(r["students"]) for r in rows}
    assert got == dict(expected)
    who = {
        key: " ".join(
            sorted(
                student
                for student, work in CLASS[key[0]].items()
                if key[2] in work.cells.get(key[1], (0, ()))[1]
            )
        )
        for key in expected
    }
    assert {(r["assignment"], r["grade_id"], r["mistake"]): r["who"] for r in rows} == who
    assert got[(FILTERS, "zero_pad_channels", "channels padded too")] == 2
    counts = [int(r["students"]) for r in rows]
    assert counts == sorted(counts, reverse=True)  # most frequent first
    for row in rows:
        assert float(row["share"]) == pytest.approx(
            int(row["students"]) / len(CLASS[row["assignment"]]), abs=TOLERANCE
        )


def test_grading_failures_and_flags(reported: tuple[int, Path]) -> None:
    out = reported[1]
    failures = read_csv(out / "failures.csv")
    broken = [f for f in failures if f["student"] == BROKEN]
    assert len(broken) == 1 and "not valid" in broken[0]["reason"]
    timed_out = [f for f in failures if f["student"] == TIMED_OUT]
    assert [f["reason"] for f in timed_out] == ["cell zero_pad_basic timed out (graded, scored 0)"]
    assert len(failures) == 2

    submissions = {(r["assignment"], r["student"]): r for r in read_csv(out / "submissions.csv")}
    assert submissions[(FILTERS, BROKEN)]["graded"] == "no"
    assert submissions[(FILTERS, BROKEN)]["score"] == ""
    assert len(submissions) == sum(len(s) for s in CLASS.values()) + 1

    flags = read_csv(out / "flags.csv")
    assert flags == [{k: f[k] for k in ("student", "assignment", "reason")} for f in FLAGS]


def test_one_row_per_student_with_what_they_lost(reported: tuple[int, Path]) -> None:
    rows = {r["student"]: r for r in read_csv(reported[1] / "students.csv")}
    students = {s for work in CLASS.values() for s in work} | {BROKEN}
    assert set(rows) == students
    total = sum(sum(points.values()) for points in POINTS.values())
    for student, row in rows.items():
        works = {a: CLASS[a][student] for a in CLASS if student in CLASS[a]}
        assert float(row["max_score"]) == total
        got = sum(p for work in works.values() for p, _ in work.cells.values())
        assert float(row["score"]) == pytest.approx(got, abs=TOLERANCE), student
        assert int(row["graded"]) == len(works)
        lost = [
            f"{a}/{cell}"
            for a, work in works.items()
            for cell, (points, _) in work.cells.items()
            if points < POINTS[a][cell]
        ]
        assert sorted(row["lost"].split()) == sorted(lost), student
        named = {m for work in works.values() for _, names in work.cells.values() for m in names}
        assert set(filter(None, row["mistakes"].split("; "))) == named, student
    assert rows[BROKEN]["not_graded"] == FILTERS and rows[BROKEN]["graded"] == "0"
    notes = {s: r["notes"] for s, r in rows.items() if r["notes"]}
    assert notes == {f["student"]: f"{f['assignment']}: {f['reason']}" for f in FLAGS}


def test_the_action_list_puts_missing_grades_first(reported: tuple[int, Path]) -> None:
    rows = read_csv(reported[1] / "actions.csv")
    assert [(r["kind"], r["assignment"], r["student"]) for r in rows] == [
        ("not graded", FILTERS, BROKEN),
        ("unfinished cell", FILTERS, TIMED_OUT),
        *sorted(("flagged", f["assignment"], f["student"]) for f in FLAGS),
    ]
    assert "not valid" in rows[0]["what"]
    assert rows[0]["todo"].endswith(f"`cnn-course grade {FILTERS} --student {BROKEN}`")
    assert rows[1]["what"] == "cell zero_pad_basic timed out (graded, scored 0)"
    assert rows[1]["todo"].endswith(f"`cnn-course grade {FILTERS} --student {TIMED_OUT} --force`")
    assert {r["what"] for r in rows[2:]} == {f["reason"] for f in FLAGS}
    page = (reported[1] / HTML_FILE).read_text(encoding="utf-8")
    assert page.index("<h2>What to do next</h2>") < page.index("<h2>Scores per assignment</h2>")


def test_html_page_is_self_contained_and_readable(reported: tuple[int, Path]) -> None:
    out = reported[1]
    page = (out / HTML_FILE).read_text(encoding="utf-8")
    assert "<style>" in page and "<table>" in page
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page), "refers to another file"
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert [base64.b64decode(e) for e in embedded] == [
        (out / SCORES_PNG).read_bytes(),
        (out / PASS_RATES_PNG).read_bytes(),
    ]
    assert all(png.startswith(b"\x89PNG") for png in map(base64.b64decode, embedded))
    text = html_text(page)
    for shown in (
        "Scores per assignment",
        "Pass rate per graded cell",
        "zero_pad_channels",
        "channels padded too",
        "padding on one side only",
        FLAGS[0]["reason"],
        "the submitted notebook is not valid",
    ):
        assert shown in text, shown


def test_missing_course_or_gradebook_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--course", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err

    shutil.copy(REPO_ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    assert main(["report", "--course", str(tmp_path)]) == 2
    assert "no gradebook at" in capsys.readouterr().err
    assert not (tmp_path / "gradebook.db").exists()  # looking did not create one
    assert not (tmp_path / REPORT_DIR).exists()


def test_gradebook_without_submissions_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(REPO_ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    (tmp_path / "source" / EXTRA).mkdir(parents=True)
    nbformat.write(extra_notebook(), tmp_path / "source" / EXTRA / "extra.ipynb")
    CourseDir(tmp_path).generate(EXTRA)
    assert (tmp_path / "gradebook.db").is_file()
    assert main(["report", "--course", str(tmp_path)]) == 2
    assert "no submissions" in capsys.readouterr().err


def _copy_of(course: CourseDir, tmp_path: Path) -> Path:
    """A copy of the graded course, for changes the shared one must not see."""
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns(REPORT_DIR, "feedback*"))
    return copy


def test_unreadable_flags_file_still_writes_the_report_and_exits_1(
    course: CourseDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy_of(course, tmp_path)
    (copy / REPORT_DIR).mkdir()
    (copy / REPORT_DIR / FLAGS_FILE).write_text('{"student": "not a list"}')
    out = tmp_path / "elsewhere"
    assert main(["report", "--course", str(copy), "--out", str(out)]) == 1
    assert "must hold a JSON list" in capsys.readouterr().err
    assert "flags.json could not be read" in html_text((out / HTML_FILE).read_text())
    assert len(read_csv(out / "scores.csv")) == len(CLASS)
    assert not (copy / REPORT_DIR / HTML_FILE).exists()  # --out was honoured


def test_work_submitted_but_never_autograded_is_listed(course: CourseDir, tmp_path: Path) -> None:
    copy = _copy_of(course, tmp_path)
    late = copy / "submitted" / "latecomer" / EXTRA
    late.mkdir(parents=True)
    shutil.copy(copy / "release" / EXTRA / "extra.ipynb", late / "extra.ipynb")
    assert main(["report", "--course", str(copy)]) == 0
    failures = read_csv(copy / REPORT_DIR / "failures.csv")
    assert {
        "assignment": EXTRA,
        "student": "latecomer",
        "notebook": "*",
        "reason": "submitted but not autograded yet",
    } in failures
    scores = {r["assignment"]: r for r in read_csv(copy / REPORT_DIR / "scores.csv")}
    assert int(scores[EXTRA]["n"]) == len(CLASS[EXTRA])
