"""What a review writes: ``reports/flags.json``, withheld scores, a feedback notice.

:func:`review_after_grading` reviews graded submissions and writes all three; what
``grades.csv`` withholds is read back from ``flags.json`` (:func:`read_withheld`), so a
flag the instructor cleared there lets the score through.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Sequence
from pathlib import Path

from cnn_course.course import course_directory
from cnn_course.grade_status import REVIEW as REVIEW_COLUMN
from cnn_course.grade_status import WITHHELD
from cnn_course.integrity.course import review_course
from cnn_course.integrity.review import SOURCE_TAG, Review

REPORT_DIR = "reports"
FLAGS_FILE = "flags.json"
NOTICE_START, NOTICE_END = "<!-- cnn-integrity -->", "<!-- /cnn-integrity -->"


def flags_path(root: Path | str) -> Path:
    return Path(root) / REPORT_DIR / FLAGS_FILE


def write_flags(root: Path | str, reviews: Sequence[Review]) -> Path:
    """Record flagged reviews in ``reports/flags.json``, keeping flags of others.

    This module's earlier flags for the reviewed submissions are replaced (a clean
    review removes them); flags written by anyone else are kept as they are. An
    instructor who reviewed a flag and set ``"cleared": true`` on it keeps that decision
    as long as the findings stay the same: the score is then exported again.
    """
    path = flags_path(root)
    reviewed = {(r.student, r.assignment) for r in reviews}
    old = _read_flag_entries(path)
    cleared = {
        (e.get("student"), e.get("assignment")): e.get("findings")
        for e in old
        if e.get("source") == SOURCE_TAG and e.get("cleared") is True
    }
    kept = [
        entry
        for entry in old
        if entry.get("source") != SOURCE_TAG
        or (entry.get("student"), entry.get("assignment")) not in reviewed
    ]
    new = [r.as_flag() for r in reviews if r.flagged]
    for entry in new:
        if cleared.get((entry["student"], entry["assignment"])) == entry["findings"]:
            entry["cleared"] = True
    entries = kept + new
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _read_flag_entries(path: Path) -> list[dict]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def read_withheld(root: Path | str) -> dict[tuple[str, str], tuple[str, bool]]:
    """(student, assignment) -> (reason, withhold?), for every flag in ``flags.json``.

    Flags written by other tools (without a ``withheld`` field) withhold the score; a
    flag the instructor marked ``"cleared": true`` does not.
    """
    return {
        (str(e.get("student")), str(e.get("assignment"))): (
            str(e.get("reason", "")) + (" (cleared by the instructor)" if e.get("cleared") else ""),
            bool(e.get("withheld", True)) and e.get("cleared") is not True,
        )
        for e in _read_flag_entries(flags_path(root))
    }


def withhold_scores(csv_path: Path, flags: dict[tuple[str, str], tuple[str, bool]]) -> int:
    """Withhold flagged submissions' scores in an ``nbgrader export`` CSV.

    A flagged row gets its reason in a ``review`` column; if the flag withholds and the
    score is above zero (a zero has nothing to withhold), ``raw_score`` and ``score``
    become ``withheld``. The file is left byte for byte as it was when no row is flagged.

    Returns
    -------
    int
        How many rows were withheld.
    """
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = list(rows[0]) if rows else []
    flagged = [r for r in rows if (r.get("student_id"), r.get("assignment")) in flags]
    if not flagged:
        return 0
    columns += [REVIEW_COLUMN] if REVIEW_COLUMN not in columns else []
    withheld = 0
    for row in rows:
        reason, withhold = flags.get((row.get("student_id"), row.get("assignment")), ("", False))
        row[REVIEW_COLUMN] = reason or row.get(REVIEW_COLUMN) or ""
        if withhold and _positive(row.get("raw_score")):
            row["raw_score"] = row["score"] = WITHHELD
            withheld += 1
    temporary = csv_path.with_name(f".{csv_path.name}.review.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    temporary.replace(csv_path)  # atomically: a kill leaves the export whole
    return withheld


def _positive(score: str | None) -> bool:
    try:
        return float(score or 0) > 0
    except ValueError:
        return score == WITHHELD


def feedback_notice(review: Review) -> str:
    """The HTML block put at the top of a flagged submission's feedback."""
    items = "".join(f"<li>{html.escape(str(f))}</li>" for f in review.findings)
    if review.withheld:
        title = "Flagged for review: your score is withheld"
        text = (
            "The autograder found code that interferes with grading. Your instructor will "
            "look at your submission and decide on your score. What was found:"
        )
    else:
        title = "Note from the autograder: your score stands"
        text = (
            "Some changes could not take effect: the autograder graded your work with the "
            "original test cells. Your instructor sees this note too. What was found:"
        )
    return (
        f'{NOTICE_START}<div class="cnn-integrity" style="border:2px solid #b00;'
        'padding:0.5em 1em;margin:1em 0;background:#fff4f4">'
        f"<h2>{title}</h2><p>{text}</p><ul>{items}</ul></div>{NOTICE_END}"
    )


def annotate_feedback(coursedir: object, review: Review) -> list[Path]:
    """Put the notice in (or take an old one out of) the submission's feedback pages."""
    folder = Path(
        coursedir.format_path(coursedir.feedback_directory, review.student, review.assignment)
    )
    changed = []
    for page in sorted(folder.glob("*.html")) if folder.is_dir() else []:
        text = page.read_text(encoding="utf-8")
        cleaned = re.sub(
            re.escape(NOTICE_START) + ".*?" + re.escape(NOTICE_END), "", text, flags=re.S
        )
        if review.flagged:
            cleaned = re.sub(
                r"(<body[^>]*>)", lambda m: m[1] + feedback_notice(review), cleaned, count=1
            )
        if cleaned != text:
            # Atomically: a grader killed here must leave the page whole, old or new.
            temporary = page.with_name(f".{page.name}.review.tmp")
            temporary.write_text(cleaned, encoding="utf-8")
            temporary.replace(page)
            changed.append(page)
    return changed


def review_after_grading(
    root: Path | str,
    submissions: Sequence[tuple[str, str]],
    db_url: str | None = None,
    grades_csv: Path | None = None,
) -> list[Review]:
    """Review graded submissions; write flags, withhold scores, annotate feedback.

    Called by ``cnn-course grade`` after grading, feedback and export.

    Returns
    -------
    list of Review
        Every review; the flagged ones are in ``reports/flags.json``.
    """
    reviews = review_course(root, submissions, db_url)
    write_flags(root, reviews)
    overrides = {"CourseDirectory.db_url": db_url} if db_url else {}
    coursedir = course_directory(root, **overrides)
    for review in reviews:
        annotate_feedback(coursedir, review)
    if grades_csv is not None and Path(grades_csv).is_file():
        withhold_scores(Path(grades_csv), read_withheld(root))
    return reviews


def summary_lines(reviews: Sequence[Review], root: Path | str) -> list[str]:
    """A line for the grading summary, then one per flagged submission."""
    flagged = [r for r in reviews if r.flagged]
    if not flagged:
        return [f"integrity: {len(reviews)} submissions reviewed, none flagged"]
    withheld = sum(r.withheld for r in flagged)
    lines = [
        f"integrity: {len(flagged)} of {len(reviews)} submissions flagged for review, "
        f"{withheld} with the score withheld (see {flags_path(root)})"
    ]
    return lines + [f"  {r.assignment}/{r.student}: {r.reason()}" for r in flagged]
