"""``cnn-course export --canvas``: the course's grades filled into a Canvas gradebook export.

The export below is laid out as Canvas writes it (a ``Points Possible`` and a ``Manual
Posting`` row under the header, read-only totals at the end, a BOM), with awkward rows: a
name with commas and quotes, a student matched only by SIS User ID, Canvas's Test Student,
a student unknown to the course, and course students with no submission, flagged work,
work that could not be graded and points waiting for hand grading.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cnn_course.commands import canvas, cli
from cnn_course.errors import CourseInputError

pytestmark = pytest.mark.unit

EXPORT = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,01_filters (4101),02_output_size (4102),"
    "03_conv1x1 (4103),Midterm Exam (4200),Current Score,Final Score\n"
    "    Points Possible,,,,,50.00,40.00,50.00,100.00,(read only),(read only)\n"
    "            Manual Posting,,,,,,Manual Posting,,,,\n"
    '"Lovelace, Ada",1001,S1001,ada,"CNN 101, Section A",,,,88.00,88.00,88.00\n'
    '"O\'Brien, Bo ""Bobby"", Jr.",1002,bo,,"CNN 101, Section A",12.00,,,71.00,71.00,71.00\n'
    '"Young, Cy",1003,S1003,cy,"CNN 101, Section B",,,,65.00,65.00,65.00\n'
    '"Dee, Dee",1004,S1004,dee,"CNN 101, Section B",,,,90.00,90.00,90.00\n'
    '"Student, Test",1099,,,"CNN 101, Section A",,,,,,\n'
)
GRADES_COLUMNS = (
    "assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
    "late_submission_penalty,score,max_score,hand_grading_pending,status,status_reason,review\n"
)
GRADES = GRADES_COLUMNS + (
    "01_filters,,2026-11-01,ada,,,,50.0,0.0,50.0,50.0,0,graded,,\n"
    "01_filters,,2026-11-01,bo,,,,37.5,0.0,37.5,50.0,0,graded,,\n"
    "01_filters,,,cy,,,,0.0,0.0,0.0,50.0,,not submitted,,\n"
    "01_filters,,2026-11-01,eve,,,,44.0,0.0,44.0,50.0,0,graded,,\n"
    "02_output_size,,2026-11-02,ada,,,,withheld,0.0,withheld,40.0,0,graded,,"
    "edited a locked cell\n"
    "02_output_size,,2026-11-02,bo,,,,,,,40.0,,not graded,"
    "the notebook is not valid JSON,\n"
    "02_output_size,,2026-11-02,cy,,,,33.33333,0.0,33.33333,40.0,0,graded,,\n"
    "02_output_size,,,eve,,,,0.0,0.0,0.0,40.0,,not submitted,,\n"
    "03_conv1x1,,2026-11-03,ada,,,,45.0,0.0,45.0,50.0,5,graded,"
    "5 of 50.0 points wait for hand grading,\n"
    "03_conv1x1,,2026-11-03,bo,,,,48.0,0.0,48.0,50.0,0,graded,,\n"
    "03_conv1x1,,2026-11-03,cy,,,,50.0,0.0,50.0,50.0,0,graded,,\n"
    "03_conv1x1,,2026-11-03,eve,,,,50.0,0.0,50.0,50.0,0,graded,,\n"
    "05_quiz,,2026-11-04,ada,,,,30.0,0.0,30.0,30.0,0,graded,,\n"
)


def table(text: str) -> dict[str, dict[str, str]]:
    """Canvas rows by Student name (the special rows by their label)."""
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    return {row["Student"].strip(): row for row in rows}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    export, grades = tmp_path / "Grades-CNN101.csv", tmp_path / "grades.csv"
    export.write_text(EXPORT, encoding="utf-8", newline="")
    grades.write_text(GRADES, encoding="utf-8")
    return export, grades


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> list[canvas.CourseGrade]:
    path = tmp_path_factory.mktemp("grades") / "grades.csv"
    path.write_text(GRADES, encoding="utf-8")
    return canvas.read_grades(path)


@pytest.fixture
def filled(grades: list[canvas.CourseGrade]):
    def fill(**options: object) -> canvas.CanvasFill:
        return canvas.fill(EXPORT, grades, **options)

    return fill


def test_current_scores_go_into_their_columns_by_login_or_sis_id(filled) -> None:
    rows = table(filled().text)
    assert rows["Lovelace, Ada"]["01_filters (4101)"] == "50"
    # Bo has no login in Canvas: his SIS User ID is his course id.
    assert rows['O\'Brien, Bo "Bobby", Jr.']["01_filters (4101)"] == "37.5"
    assert rows["Young, Cy"]["02_output_size (4102)"] == "33.3333"
    assert rows["Young, Cy"]["03_conv1x1 (4103)"] == "50"
    assert filled().filled == 5  # ada 01; bo 01, 03; cy 02, 03


def test_work_not_judged_yet_is_blank_and_listed_with_its_reason(filled) -> None:
    result = filled()
    rows = table(result.text)
    why = {(b.student, b.assignment): b.reason for b in result.blanks}
    assert why == {
        ("cy", "01_filters"): "not submitted",
        ("ada", "02_output_size"): "withheld for review: edited a locked cell",
        ("bo", "02_output_size"): "not graded: the notebook is not valid JSON",
        ("ada", "03_conv1x1"): "5 of 50.0 points wait for hand grading",
    }
    assert rows["Young, Cy"]["01_filters (4101)"] == ""
    assert rows["Lovelace, Ada"]["02_output_size (4102)"] == ""
    assert rows["Lovelace, Ada"]["03_conv1x1 (4103)"] == ""
    # Bo's 12 from an earlier import is not left standing as if it were his grade now.
    assert rows['O\'Brien, Bo "Bobby", Jr.']["02_output_size (4102)"] == ""
    assert {b.canvas_name for b in result.blanks if b.student == "bo"} == {
        'O\'Brien, Bo "Bobby", Jr.'
    }


def test_never_submitted_can_count_as_zero(filled) -> None:
    result = filled(missing_as_zero=True)
    assert table(result.text)["Young, Cy"]["01_filters (4101)"] == "0"
    assert ("cy", "01_filters") not in {(b.student, b.assignment) for b in result.blanks}
    # Withheld and ungraded work stays blank even then.
    assert table(result.text)["Lovelace, Ada"]["02_output_size (4102)"] == ""


def test_students_and_assignments_on_one_side_only_are_reported(filled) -> None:
    result = filled()
    assert result.not_in_canvas == ["eve"]
    assert result.not_in_course == ["Dee, Dee (Canvas ID 1004)", "Student, Test (Canvas ID 1099)"]
    assert result.without_column == ["05_quiz"]
    assert result.points_differ == []


def test_everything_else_stays_as_canvas_exported_it(filled) -> None:
    before, after = table(EXPORT), table(filled().text)
    assert list(after) == list(before)  # same rows, same order, Points Possible first
    assert after["Points Possible"] == before["Points Possible"]
    assert after["Manual Posting"] == before["Manual Posting"]
    for name in before:
        for column in ("Midterm Exam (4200)", "Current Score", "Section", "ID", "SIS User ID"):
            assert after[name][column] == before[name][column]
    assert after["Dee, Dee"] == before["Dee, Dee"]  # not a course student: untouched
    assert filled().text.startswith("\ufeff")  # the BOM Canvas wrote is kept


def test_a_column_can_be_named_by_its_canvas_id(grades: list[canvas.CourseGrade]) -> None:
    export = EXPORT.replace("03_conv1x1 (4103)", "1x1 convolutions (4103)")
    without = canvas.fill(export, grades)
    assert "03_conv1x1" in without.without_column
    chosen = canvas.fill(export, grades, chosen={"03_conv1x1": "4103"})
    assert table(chosen.text)["Young, Cy"]["1x1 convolutions (4103)"] == "50"
    assert chosen.columns["03_conv1x1"].header == "1x1 convolutions (4103)"


def test_points_that_disagree_with_canvas_are_reported(grades: list[canvas.CourseGrade]) -> None:
    export = EXPORT.replace("50.00,40.00,50.00,100.00", "100.00,40.00,50.00,100.00")
    result = canvas.fill(export, grades)
    assert result.points_differ == [("01_filters (4101)", "100.00", "50")]


@pytest.mark.parametrize(
    ("export", "message"),
    [
        ("Name,Score\nAda,1\n", "not a Canvas gradebook export: no 'Student' or 'ID' column"),
        ("", "the Canvas export is empty"),
        (
            EXPORT.replace("01_filters (4101)", "01_filters (4109)").replace(
                "Midterm Exam (4200)", "01_Filters (4200)"
            ),
            "01_filters matches 2 Canvas columns (01_filters (4109), 01_Filters (4200))",
        ),
        (
            EXPORT.replace(",S1003,cy,", ",S1003,ada,"),
            "ada is the SIS Login ID of 2 Canvas rows (Lovelace, Ada; Young, Cy)",
        ),
    ],
)
def test_a_file_that_cannot_be_filled_safely_is_refused(
    grades: list[canvas.CourseGrade], export: str, message: str
) -> None:
    with pytest.raises(CourseInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        canvas.fill(export, grades)


def test_match_by_login_only_leaves_sis_only_students_unmatched(filled) -> None:
    result = filled(match="login")
    assert "bo" in result.not_in_canvas


# ------------------------------------------------------------------------- the command


def test_the_command_writes_a_filled_copy_and_keeps_the_export(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export, grades = files
    code = cli.main(["--course", str(tmp_path), "export", "--canvas", str(export)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    output = tmp_path / "Grades-CNN101-filled.csv"
    assert export.read_text(encoding="utf-8") == EXPORT  # the instructor's file unchanged
    assert table(output.read_text(encoding="utf-8"))["Lovelace, Ada"]["01_filters (4101)"] == "50"
    assert f"wrote {output}: 5 score(s) filled in" in printed
    assert "  01_filters -> column '01_filters (4101)'" in printed
    assert "left blank, not 0 (4):" in printed
    assert "  ada (Lovelace, Ada), 03_conv1x1: 5 of 50.0 points wait for hand grading" in printed
    assert "course assignments with no Canvas column" in printed and "05_quiz" in printed
    assert "course students with no Canvas row (1): eve" in printed
    assert "Canvas students the course has no grades for (2): Dee, Dee (Canvas ID 1004)" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--canvas", "missing.csv"], "no Canvas export at"),
        (["--canvas", "{export}", "--output", "{export}"], "--output is the Canvas export"),
        (["--canvas", "{export}", "--grades", "nope.csv"], "run `cnn-course grade` first"),
        (["--canvas", "{export}", "--column", "01_filters"], "write it as ASSIGNMENT=CANVAS-ID"),
        (["--canvas", "{export}", "--column", "01_filters=9"], "has no such column"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    files: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    export, _ = files
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.replace("{export}", str(export)) for a in argv]
    code = cli.main(["--course", str(tmp_path), "export", *argv])
    assert code == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert export.read_text(encoding="utf-8") == EXPORT


def test_logins_match_whatever_their_case(grades: list[canvas.CourseGrade]) -> None:
    export = EXPORT.replace(",S1001,ada,", ",S1001,ADA,")
    result = canvas.fill(export, grades)
    assert table(result.text)["Lovelace, Ada"]["01_filters (4101)"] == "50"
    assert "ada" not in result.not_in_canvas
