"""Review graded submissions for cheating attempts: flag them and withhold their scores.

Grades do not depend on this review: the judge computes every verdict in the grader's
process from plain data (:mod:`cnn_course.grading.judging`), so an attempt to tamper with grading
gains nothing by itself. The review is the course's academic-integrity aid: it tells the
instructor who tried, and withholds the score of a submission whose code tampers, until
the instructor has looked. It runs after grading (by ``cnn-course grade``, or
``python -m cnn_course.integrity`` after plain ``nbgrader autograde``). For each
submission it reads, without changing anything:

* the **submitted notebook** against the gradebook: locked cells (test cells, given code)
  whose source or nbgrader metadata was edited or that were deleted; nbgrader restores
  them before grading, so the edit was defeated, and it is reported here;
* the **student's own code**, statically: every code cell nbgrader does not restore
  (solution cells and cells the student added) and every Python file the student added,
  walked as a syntax tree for the constructs that tamper with grading (:func:`scan_code`);
* the **submission folder**: files that notebook code could import instead of the real
  module (a ``cnn_probe/`` or ``cnn_solutions/`` package, ``.pyc``/``.pth`` files, a module
  named like one the grader uses).

Findings come in two kinds. Tampering (the scan's constructs, a fake ``cnn_probe`` or
``cnn_solutions``) **withholds** the score: in ``grades.csv`` the score
reads ``withheld`` and a ``review`` column says why; the gradebook keeps the autograde
result for the instructor. What was defeated and may be accidental (an edited or deleted
test cell, which nbgrader restored; a file named like a library module, which the grading
kernel never imports) is a **note**: the score stands. Both kinds are listed in
``<course>/reports/flags.json`` (which ``cnn-course report`` shows) and at the top of the
submission's HTML feedback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cnn_course.course import course_directory
from cnn_course.errors import CourseInputError
from cnn_course.integrity.course import review_course, review_submission, submitted_pairs
from cnn_course.integrity.flags import (
    FLAGS_FILE,
    NOTICE_END,
    NOTICE_START,
    REPORT_DIR,
    annotate_feedback,
    feedback_notice,
    flags_path,
    read_withheld,
    review_after_grading,
    summary_lines,
    withhold_scores,
    write_flags,
)
from cnn_course.integrity.review import (
    GRADER_MODULES,
    MAX_REASONS,
    RESTORED_EDIT,
    SOURCE_TAG,
    Finding,
    Review,
    SourceCell,
    code_findings,
    file_findings,
    gradebook_cells,
    locked_cell_findings,
    student_cells,
)
from cnn_course.integrity.scan import (
    ALLOWED_DUNDER_ATTRIBUTES,
    ALLOWED_DUNDER_METHODS,
    ALLOWED_DUNDER_NAMES,
    COURSE_PATH,
    FILE_CALLS,
    HARMLESS_MAGICS,
    IMITATION,
    STANDARD_ALIASES,
    SUSPICIOUS_ATTRIBUTES,
    SUSPICIOUS_BASES,
    SUSPICIOUS_CALLS,
    SUSPICIOUS_MODULES,
    import_aliases,
    parse,
    python_source,
    scan_code,
)

__all__ = [
    "ALLOWED_DUNDER_ATTRIBUTES",
    "ALLOWED_DUNDER_METHODS",
    "ALLOWED_DUNDER_NAMES",
    "COURSE_PATH",
    "FILE_CALLS",
    "FLAGS_FILE",
    "GRADER_MODULES",
    "HARMLESS_MAGICS",
    "IMITATION",
    "MAX_REASONS",
    "NOTICE_END",
    "NOTICE_START",
    "REPORT_DIR",
    "RESTORED_EDIT",
    "SOURCE_TAG",
    "STANDARD_ALIASES",
    "SUSPICIOUS_ATTRIBUTES",
    "SUSPICIOUS_BASES",
    "SUSPICIOUS_CALLS",
    "SUSPICIOUS_MODULES",
    "Finding",
    "Review",
    "SourceCell",
    "annotate_feedback",
    "code_findings",
    "feedback_notice",
    "file_findings",
    "flags_path",
    "gradebook_cells",
    "import_aliases",
    "locked_cell_findings",
    "main",
    "parse",
    "python_source",
    "read_withheld",
    "review_after_grading",
    "review_course",
    "review_submission",
    "scan_code",
    "student_cells",
    "submitted_pairs",
    "summary_lines",
    "withhold_scores",
    "write_flags",
]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cnn_course.integrity``: review a course after plain ``nbgrader autograde``."""
    parser = argparse.ArgumentParser(
        prog="python -m cnn_course.integrity",
        description="Review graded submissions for cheating attempts; write "
        "reports/flags.json, withhold flagged scores in grades.csv, annotate feedback.",
    )
    parser.add_argument("--course", type=Path, default=Path("."), help="course directory")
    parser.add_argument("--db", help="gradebook URL (default: the course's)")
    parser.add_argument("--grades", type=Path, help="an nbgrader export CSV to withhold in")
    parser.add_argument("--student", action="append", default=[], help="only this student")
    parser.add_argument("assignments", nargs="*", help="only these assignments")
    args = parser.parse_args(argv)
    root = args.course.resolve()
    coursedir = course_directory(root, **({"CourseDirectory.db_url": args.db} if args.db else {}))
    pairs = [
        (s, a)
        for s, a in submitted_pairs(coursedir)
        if (not args.student or s in args.student)
        and (not args.assignments or a in args.assignments)
    ]
    try:
        reviews = review_after_grading(root, pairs, args.db, args.grades)
    except CourseInputError as error:
        print(f"python -m cnn_course.integrity: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(reviews, root)))
    return 0
