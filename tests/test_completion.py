"""Completion records and locks (cnn_course.pipeline.completion), and the grades.csv status
columns."""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
from pathlib import Path

import pytest

from cnn_course.errors import CourseInputError
from cnn_course.failures import FAILURES_FILE
from cnn_course.grade_status import mark_status
from cnn_course.pipeline import completion
from cnn_course.submissions import Submission

pytestmark = pytest.mark.unit

SUB = Submission("a1", "ada")


def submitted(root: Path, files: dict[str, bytes]) -> Path:
    folder = root / "submitted" / SUB.student / SUB.assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_the_digest_follows_names_and_contents_not_times(tmp_path: Path) -> None:
    folder = submitted(tmp_path, {"nb.ipynb": b"{}", "timestamp.txt": b"2026-01-01"})
    first = completion.submitted_digest(tmp_path, SUB)
    os.utime(folder / "nb.ipynb", (0, 0))
    assert completion.submitted_digest(tmp_path, SUB) == first
    (folder / "nb.ipynb").write_bytes(b"{ }")
    second = completion.submitted_digest(tmp_path, SUB)
    assert second != first
    (folder / "nb.ipynb").rename(folder / "other.ipynb")
    assert completion.submitted_digest(tmp_path, SUB) not in (first, second)


def test_a_link_counts_by_its_target_name_and_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"one")
    folder = submitted(tmp_path, {"nb.ipynb": b"{}"})
    (folder / "data").symlink_to(secret)
    before = completion.submitted_digest(tmp_path, SUB)
    secret.write_bytes(b"two")
    assert completion.submitted_digest(tmp_path, SUB) == before


def test_graded_only_with_a_current_record_and_a_graded_notebook(tmp_path: Path) -> None:
    submitted(tmp_path, {"nb.ipynb": b"{}"})
    digest = completion.submitted_digest(tmp_path, SUB)
    assert not completion.is_graded(tmp_path, SUB, digest)  # no record
    completion.write_record(tmp_path, SUB, completion.Record(digest))
    assert not completion.is_graded(tmp_path, SUB, digest)  # no graded notebook
    graded = tmp_path / "autograded" / SUB.student / SUB.assignment
    graded.mkdir(parents=True)
    (graded / "nb.ipynb").write_text("{}")
    assert completion.is_graded(tmp_path, SUB, digest)
    assert not completion.is_graded(tmp_path, SUB, "another digest")  # resubmitted
    assert not completion.has_feedback(tmp_path, SUB)
    completion.clear_record(tmp_path, SUB)
    assert not completion.is_graded(tmp_path, SUB, digest)
    assert (tmp_path / ".grading").stat().st_mode & 0o777 == 0o700


def test_an_unreadable_record_counts_as_none(tmp_path: Path) -> None:
    completion.write_record(tmp_path, SUB, completion.Record("x"))
    path = tmp_path / ".grading" / SUB.student / f"{SUB.assignment}.json"
    path.write_text('{"submitted": ')
    assert completion.read_record(tmp_path, SUB) is None


def _hold_run_lock(root: str, ready, release) -> None:  # noqa: ANN001 -- events
    with completion.grading_lock(root):
        ready.set()
        release.wait(30)


def test_a_second_run_on_the_same_course_is_refused(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_run_lock, args=(str(tmp_path), ready, release))
    other.start()
    try:
        assert ready.wait(30)
        with pytest.raises(CourseInputError, match="another `cnn-course grade`"):
            with completion.grading_lock(tmp_path):
                pass
    finally:
        release.set()
        other.join(30)
    with completion.grading_lock(tmp_path):  # free again once the other run ended
        pass


def test_status_columns_blank_the_scores_of_work_not_graded(tmp_path: Path) -> None:
    header = "assignment,duedate,timestamp,student_id,last_name,first_name,email,"
    header += "raw_score,late_submission_penalty,score,max_score\n"
    rows = [f"a1,,,{s},,,,40.0,0.0,40.0,50.0\n" for s in ("ada", "bob", "cyd")]
    export = tmp_path / "grades.csv"
    export.write_text(header + "".join(rows))
    for student in ("ada", "bob"):
        (tmp_path / "submitted" / student / "a1").mkdir(parents=True)
    (tmp_path / "reports").mkdir()
    (tmp_path / FAILURES_FILE).write_text(
        json.dumps([{"assignment": "a1", "student": "bob", "reason": "not valid JSON"}])
    )
    mark_status(export, tmp_path)
    with open(export, newline="") as handle:
        got = {r["student_id"]: r for r in csv.DictReader(handle)}
    assert (got["ada"]["score"], got["ada"]["status"]) == ("40.0", "graded")
    assert (got["bob"]["raw_score"], got["bob"]["score"], got["bob"]["status"]) == (
        "",
        "",
        "not graded",
    )
    assert got["bob"]["status_reason"] == "not valid JSON"
    assert (got["cyd"]["status"], got["cyd"]["score"]) == ("not submitted", "40.0")
    assert list(got["ada"])[-3:] == ["status", "status_reason", "review"]
    assert not list(tmp_path.glob(".grades.csv.*"))  # no temporary file left
