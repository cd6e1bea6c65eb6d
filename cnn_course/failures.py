"""Why a submission could not be graded, in words an instructor and a student can act on.

nbgrader reports a failed submission with a traceback in its log and a generic "see the
above traceback" error. :func:`failure_reason` finds the line that names the exception,
:func:`explain_failure` adds a sentence for the causes instructors meet (a dead kernel,
invalid JSON, copied cells, removed cells, a wrong file name, ...), and
:func:`stopping_failure` recognises failures of the grading machine rather than of the
submission (a full disk, a locked or unreachable gradebook), which stop the batch. The
runner keeps the reasons in ``reports/autograde_failures.json`` (:func:`record_failures`) and
gives the student a feedback page that says why (:func:`write_failure_feedback`).
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnn_course.submissions import Submission

if TYPE_CHECKING:
    from cnn_course.pipeline.runner import TaskResult

# The line of a traceback that names the exception: "module.SomeError: message".
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b")


def failure_reason(log: str, error: str = "") -> str:
    """Return the one line that says why an nbgrader step failed.

    nbgrader catches the exception of a failing submission, logs its traceback and then
    raises a generic "see the above traceback" error; the useful line is the exception
    line of the first logged traceback (e.g. ``NotJSONError: Notebook does not appear to
    be JSON``), else the last error message.
    """
    for text in (log, error):
        match = re.search(r"Traceback \(most recent call last\):\n(.*?)(?=\n\[|\Z)", text, re.S)
        if match:
            lines = [ln.strip() for ln in match.group(1).splitlines() if ln.strip()]
            named = [ln for ln in lines if _EXCEPTION_LINE.match(ln)]
            if named or lines:
                return (named or lines)[-1][:300]
    errors = re.findall(r"^\[(?:ERROR|CRITICAL)\] (.*)$", log, re.M)
    if errors:
        return errors[-1][:300]
    last = [ln for ln in error.strip().splitlines() if ln.strip()]
    return last[-1][:300] if last else "unknown error (nbgrader reported failure)"


# Failures whose nbgrader message misleads or says too little: (when the log matches this,
# details from this pattern's matches in the log, explanation with {details}).
_EXPLAINED_FAILURES: tuple[tuple[str, str, str], ...] = (
    (
        r"DeadKernelError",
        "",
        "the kernel died while running the notebook: its code crashed Python (e.g. "
        "os._exit, a segfault, recursion deeper than the C stack) or went past the grading "
        "kernel's CPU or memory limit; nothing was graded",
    ),
    (
        r"NotJSONError",
        "",
        "the notebook file is not valid JSON (cut short, or edited outside Jupyter); "
        "nothing was graded",
    ),
    (
        r"Timeout waiting for IOPub output",
        "",
        "a cell was still running at the cell timeout and did not stop when interrupted (e.g. "
        "one long computation inside a single C call), so nbgrader gave up on the notebook; "
        "nothing was graded",
    ),
    (
        r"exists multiple times",
        r"Cell with id '([^']*)' exists multiple times",
        "copied cells: the nbgrader id(s) {details} appear more than once in the notebook "
        "(a cell was duplicated with its metadata), which nbgrader cannot grade (nbgrader "
        "issue #1083); nothing was graded",
    ),
    (
        r"No notebooks found",
        r"Skipping unknown notebook: (?:.*/)?([^/\n]+\.ipynb)",
        "wrong notebook name: {details} was submitted, but nbgrader grades only the "
        "notebook under its released name; nothing was graded",
    ),
    (
        r"in add_missing_grade_cells",
        "",
        "cells of the released notebook were removed (all of them, or the answer cells "
        "that tests follow), so nbgrader cannot put the tests back; nothing was graded: "
        "fetch the assignment again, copy the code into it and submit that",
    ),
    (
        r"No notebooks were matched by",
        "",
        "no notebook was submitted (the submission folder holds no .ipynb file)",
    ),
    (
        r"Inconsistent checksums for cell",
        r"Error: Inconsistent checksums for cell (\S+)",
        "the nbgrader metadata of locked cell(s) {details} was edited, so nbgrader cannot "
        "restore the cell; nothing was graded",
    ),
)


# Failures of the grading machine, not of the submission: the batch stops, as every
# further submission would fail the same way (explanation, pattern in the log).
_STOPPING_FAILURES: tuple[tuple[str, str], ...] = (
    (
        r"No space left on device|\[Errno 28\]|Disk quota exceeded|database or disk is full",
        "the disk is full (no space left on device): nothing of this submission was kept; "
        "free some space, then run `cnn-course grade` again to grade what is left",
    ),
    (
        r"database is locked",
        "the gradebook stayed locked: another program (the formgrader, an nbgrader command, "
        "a database browser) kept writing it; close it, then run `cnn-course grade` again "
        "to grade what is left",
    ),
    (
        r"unable to open database file|could not connect to server|Connection refused"
        r"|connection to server .* failed|disk I/O error|file is not a database",
        "the gradebook could not be reached or read (a moved or unreadable database file, "
        "a database server that is down); fix it, then run `cnn-course grade` again to "
        "grade what is left",
    ),
    (
        r"lost the Dask scheduler",
        "the connection to the Dask scheduler broke (the scheduler stopped, or the network "
        "to it failed): what was graded is kept; start the scheduler and its workers "
        "again, then run `cnn-course grade` again to grade what is left",
    ),
)


def stopping_failure(log: str) -> str | None:
    """The explanation if ``log`` shows a failure of the grading machine, else None."""
    for pattern, explanation in _STOPPING_FAILURES:
        if re.search(pattern, log):
            return explanation
    return None


def explain_failure(log: str) -> str | None:
    """Say in plain words why nbgrader could not grade a submission, if the cause is known.

    Parameters
    ----------
    log : str
        nbgrader's log of the failed step.

    Returns
    -------
    str or None
        One sentence naming the cause (kernel death, invalid JSON, a cell that could not
        be interrupted, copied cells, wrong notebook name, no notebook, edited locked-cell
        metadata); None for other failures.
    """
    stopping = stopping_failure(log)
    if stopping:
        return stopping
    for when, detail, explanation in _EXPLAINED_FAILURES:
        if re.search(when, log):
            found = sorted(set(re.findall(detail, log))) if detail else []
            return explanation.format(details=", ".join(repr(d) for d in found) or "?")
    return None


# Written into the course by ``grade``: why each submission that failed to autograde failed
# (a JSON list of {"assignment", "student", "reason"}), read by the instructor's report.
# Beside the review's flags.json in reports/, not loose in the course root (#15); a file an
# earlier version left in the root is still read until the next grading run replaces it.
FAILURES_FILE = "reports/autograde_failures.json"
_OLD_FAILURES_FILE = "autograde_failures.json"

FAILURE_NOTE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{assignment}: not graded</title></head>
<body><h1>{assignment}: your submission could not be graded</h1>
<p>The autograder could not grade <code>{notebook}</code>, so it scores 0 for now.</p>
<p>Reason: {reason}</p>
<p>Your instructor has been told. Fix the problem and submit again, or ask your instructor.</p>
</body></html>
"""


def write_failure_feedback(api: Any, submission: Submission, log: str) -> None:
    """Write a feedback page saying why a submission was not graded (worker side).

    nbgrader makes no feedback for a notebook it could not grade, so the student would
    see nothing. The page goes where ``generate_feedback`` puts feedback
    (``feedback/<student>/<assignment>/<notebook>.html`` with ``timestamp.txt`` and the
    submission's ``submission_secret.txt``), so
    ``release_feedback`` hands it out; a later successful grading overwrites it. Causes
    not known to :func:`explain_failure` are not spelled out, as their log may show
    paths of the grading machine.
    """
    coursedir = api.coursedir

    def folder(step: str) -> Path:
        return Path(coursedir.format_path(step, submission.student, submission.assignment))

    reason = explain_failure(log) or "an error while grading (your instructor has the details)"
    with api.gradebook as gb:
        notebooks = [nb.name for nb in gb.find_assignment(submission.assignment).notebooks]
    feedback = folder(coursedir.feedback_directory)
    feedback.mkdir(parents=True, exist_ok=True)
    for name in notebooks:
        page = FAILURE_NOTE.format(
            assignment=html.escape(submission.assignment),
            notebook=html.escape(f"{name}.ipynb"),
            reason=html.escape(reason),
        )
        (feedback / f"{name}.html").write_text(page, encoding="utf-8")
    submitted = folder(coursedir.submitted_directory)
    stamp = submitted / "timestamp.txt"
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    (feedback / "timestamp.txt").write_text(stamp.read_text() if stamp.is_file() else now)
    # release_feedback names the returned page after the submission's secret, as
    # generate_feedback leaves it beside the pages; without it the page cannot be returned.
    secret = submitted / "submission_secret.txt"
    if secret.is_file():
        (feedback / secret.name).write_text(secret.read_text())


def record_failures(root: Path | str, results: Iterable[TaskResult]) -> Path:
    """Keep why submissions failed to autograde in ``<root>/reports/autograde_failures.json``.

    Entries of the submissions in ``results`` are replaced: a failure records its reason,
    a success removes the submission's old entry; other entries are kept.

    Returns
    -------
    Path
        The file, a JSON list of ``{"assignment", "student", "reason"}`` objects.
    """
    path = Path(root) / FAILURES_FILE
    path.parent.mkdir(exist_ok=True)
    old = Path(root) / _OLD_FAILURES_FILE
    if not path.exists() and old.is_file():
        old.replace(path)  # carry the entries of other submissions over
    results = [r for r in results if r.submission is not None]
    done = {(r.submission.assignment, r.submission.student) for r in results}
    try:
        kept = [
            e for e in json.loads(path.read_text()) if (e["assignment"], e["student"]) not in done
        ]
    except (OSError, ValueError, TypeError, KeyError):
        kept = []  # no file yet, or one not written by this function: start afresh
    entries = kept + [
        {"assignment": r.submission.assignment, "student": r.submission.student, "reason": r.reason}
        for r in results
        if r.failed
    ]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(entries, indent=1) + "\n")
    temporary.replace(path)
    return path


def recorded_failures(root: Path) -> dict[tuple[str, str], str]:
    """Why submissions failed to autograde, as ``cnn-course grade`` last recorded it.

    Returns
    -------
    dict
        ``(assignment, student) -> reason`` from ``<root>/reports/autograde_failures.json``; empty
        if the file does not exist or cannot be read.
    """
    path = root / FAILURES_FILE
    if not path.exists():
        path = root / _OLD_FAILURES_FILE
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {(e["assignment"], e["student"]): str(e["reason"]) for e in entries}
    except (OSError, ValueError, TypeError, KeyError):
        return {}
