"""Every failure an instructor can meet has a sentence (cnn_course.failures, issue #17)."""

from __future__ import annotations

import pytest

from cnn_course.failures import explain_failure, failure_reason, stopping_failure

pytestmark = pytest.mark.unit

LOGS = {
    "corrupt JSON": (
        "nbformat.reader.NotJSONError: Notebook does not appear to be JSON",
        "not valid JSON",
    ),
    "cells removed": (
        'File ".../overwritecells.py", line 140, in add_missing_grade_cells\n'
        "KeyError: 'zero_pad'",
        "cells of the released notebook were removed",
    ),
    "no notebook": ("No notebooks were matched by '/c/submitted/s/a'", "no notebook was submitted"),
    "kernel died": ("nbclient.exceptions.DeadKernelError: Kernel died", "the kernel died"),
    "timeout": ("RuntimeError: Timeout waiting for IOPub output", "did not stop when interrupted"),
    "full disk": ("OSError: [Errno 28] No space left on device: 'x'", "the disk is full"),
    "sqlite full": ("sqlite3.OperationalError: database or disk is full", "the disk is full"),
    "locked": ("sqlite3.OperationalError: database is locked", "the gradebook stayed locked"),
    "server down": (
        'psycopg.OperationalError: connection to server at "db" (10.0.0.5), port 5432 '
        "failed: Connection refused",
        "the gradebook could not be reached",
    ),
    "not a database": ("sqlite3.DatabaseError: file is not a database", "could not be reached"),
}
MACHINE = {"full disk", "sqlite full", "locked", "server down", "not a database"}


@pytest.mark.parametrize("kind", list(LOGS))
def test_each_failure_has_its_sentence(kind: str) -> None:
    log, sentence = LOGS[kind]
    assert sentence in (explain_failure(log) or ""), kind
    assert (stopping_failure(log) is not None) == (kind in MACHINE), kind


def test_the_reason_is_the_exception_line_of_the_first_traceback() -> None:
    log = (
        "[ERROR] There was an error processing assignment: x\n"
        'Traceback (most recent call last):\n  File "a.py", line 1, in f\n'
        "nbformat.reader.NotJSONError: Notebook does not appear to be JSON\n"
        "[ERROR] see the above traceback"
    )
    assert (
        failure_reason(log) == "nbformat.reader.NotJSONError: Notebook does not appear to be JSON"
    )


def test_failures_are_kept_in_reports_and_an_old_root_file_is_carried_over(tmp_path) -> None:
    """The record lives in reports/, not loose in the course root; a file an earlier
    version left in the root is read, and its other entries kept at the next run."""
    import json

    from cnn_course.failures import FAILURES_FILE, record_failures, recorded_failures
    from cnn_course.pipeline.runner import FAILED, TaskResult
    from cnn_course.submissions import Submission

    old = tmp_path / "autograde_failures.json"
    old.write_text(json.dumps([{"assignment": "a1", "student": "bo", "reason": "cut in half"}]))
    assert recorded_failures(tmp_path) == {("a1", "bo"): "cut in half"}
    failed = TaskResult("autograde", Submission("a1", "cy"), FAILED, reason="timed out")
    path = record_failures(tmp_path, [failed])
    assert path == tmp_path / FAILURES_FILE == tmp_path / "reports" / "autograde_failures.json"
    assert not old.exists()
    assert recorded_failures(tmp_path) == {("a1", "bo"): "cut in half", ("a1", "cy"): "timed out"}
