"""The ``collect`` subcommand: students' submissions from the exchange into ``submitted/``.

``cnn-course collect ASSIGNMENT ... [--student ID ...] [--update]`` runs ``nbgrader
collect`` in this process for each assignment: each student's latest submission in
``<exchange>/<course_id>/inbound/`` is copied to ``submitted/<student>/<assignment>/``
(its ``timestamp.txt`` with it). Work collected before is kept unless ``--update`` and the
exchange holds a newer submission, as with nbgrader. What was new, updated, unchanged or
left waiting is worked out from the timestamps before and after, not from nbgrader's log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnn_course.exchange import ExchangePaths

# nbgrader's owner check (CollectApp.check_owner): "<path> claims to be submitted by <id>
# but is owned by <user>; cheating attempt?" -- a warning only; the work is collected.
_OWNER_WARNING = re.compile(r"claims to be submitted by (\S+) but is owned by (\S+?);")
# How the hub's collect (cnn_course/hub/checked_collect.py) logs each forged or broken
# entry it leaves; defined here, where it is read back, and used there.
REFUSED_PREFIX = "Not collected: inbound/"
_REFUSED = re.compile(rf"{re.escape(REFUSED_PREFIX)}(.+)$", re.MULTILINE)


@dataclass
class CollectResult:
    """One assignment's collection; every list holds student ids, sorted."""

    assignment: str
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    newer_waiting: list[str] = field(default_factory=list)  # without --update
    not_submitted: list[str] = field(default_factory=list)  # asked for with --student
    owners: dict[str, str] = field(default_factory=dict)  # student -> other OS owner
    refused: list[str] = field(default_factory=list)  # inbound entries left, and why
    half_copied: list[str] = field(default_factory=list)  # new folders of a failed run, removed
    reason: str = ""

    @property
    def collected(self) -> list[str]:
        """Students whose work was copied into ``submitted/`` by this run."""
        return sorted(self.new + self.updated)

    @property
    def failed(self) -> bool:
        return bool(self.reason)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``collect`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "collect",
        help="collect students' submissions from the exchange into submitted/",
        description="Copy each student's latest submission of each assignment from the "
        "course's exchange into submitted/<student>/<assignment>/ with nbgrader collect, "
        "and say, per assignment, whose work was collected (new or updated). Work collected "
        "before is kept unless --update and a newer submission is waiting. Nothing "
        "submitted yet is not an error.",
        epilog="Exit codes: 0 collected (or nothing to collect), 1 nbgrader failed to "
        "collect an assignment, 2 usage or input error (unknown assignment, no exchange).",
    )
    parser.add_argument(
        "assignments", nargs="+", metavar="ASSIGNMENT", help="assignments to collect"
    )
    parser.add_argument(
        "--student",
        action="append",
        default=[],
        metavar="ID",
        help="collect only this student's work (repeat for several)",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="replace collected work with a newer submission from the exchange",
    )
    parser.set_defaults(func=run)


def inbound_latest(paths: ExchangePaths, assignment: str) -> dict[str, dt.datetime]:
    """Each student's latest submission time in the exchange, as nbgrader reads it.

    Submission folders are named ``<student>+<assignment>+<timestamp>+<random>``; a
    student id may itself contain ``+``, so the name is split from the right, as
    nbgrader's collect does.
    """
    from nbgrader.utils import parse_utc

    latest: dict[str, dt.datetime] = {}
    if not paths.inbound.is_dir():
        return latest
    for folder in paths.inbound.glob(f"*+{assignment}+*"):
        parts = folder.name.rsplit("+", 3)
        if len(parts) < 3 or parts[1] != assignment:
            continue
        try:
            when = parse_utc(parts[2])
        except ValueError:
            continue  # nbgrader refuses such a folder too; its message says why
        if parts[0] not in latest or when > latest[parts[0]]:
            latest[parts[0]] = when
    return latest


def collected_timestamps(root: Path, assignment: str) -> dict[str, dt.datetime | None]:
    """Students with work in ``submitted/*/<assignment>/`` and its ``timestamp.txt``."""
    from nbgrader.utils import parse_utc

    found: dict[str, dt.datetime | None] = {}
    for folder in (root / "submitted").glob(f"*/{assignment}"):
        if not folder.is_dir():
            continue
        stamp = folder / "timestamp.txt"
        try:
            found[folder.parent.name] = parse_utc(stamp.read_text().strip())
        except (OSError, ValueError):
            found[folder.parent.name] = None
    return found


def collect_assignment(
    root: Path, paths: ExchangePaths, assignment: str, students: Sequence[str], update: bool
) -> CollectResult:
    """Collect one assignment with nbgrader; classify students by what happened.

    Parameters
    ----------
    root : Path
        Course root.
    paths : ExchangePaths
        The course's exchange.
    assignment : str
        Assignment id.
    students : sequence of str
        Only these students (empty: everyone who submitted).
    update : bool
        Replace collected work with newer submissions.

    Returns
    -------
    CollectResult
    """
    from nbgrader.apps import CollectApp

    from cnn_course.exchange import run_exchange_app

    result = CollectResult(assignment)
    waiting = inbound_latest(paths, assignment)
    if students:
        result.not_submitted = sorted(set(students) - set(waiting))
        waiting = {s: t for s, t in waiting.items() if s in students}
    if not waiting:
        return result  # nbgrader would only log "No submissions ... to collect"
    before = collected_timestamps(root, assignment)
    # One run per student asked for: nbgrader's collect takes one student id (or all).
    for who in sorted(waiting) if students else ["*"]:
        argv = [assignment, f"--ExchangeCollect.update={update}"]
        if who != "*":
            argv.append(f"--CourseDirectory.student_id={who}")
        outcome = run_exchange_app(CollectApp, root, paths, argv)
        result.owners.update(dict(_OWNER_WARNING.findall(outcome.log)))
        result.refused.extend(m.strip() for m in _REFUSED.findall(outcome.log))
        if not outcome.success:
            result.reason = outcome.reason
            break
    after = collected_timestamps(root, assignment)
    if result.failed:
        # nbgrader stopped in the middle of copying: a folder it made in this run may be
        # half a submission, which a later collect would keep as collected. Made again
        # by the next collect, so nothing is lost.
        for student in sorted(set(after) - set(before)):
            del after[student]
            shutil.rmtree(root / "submitted" / student / assignment, ignore_errors=True)
            result.half_copied.append(student)
    for student, submitted_at in sorted(waiting.items()):
        if student not in after:
            continue  # not copied: nbgrader failed before reaching this student
        if student not in before:
            result.new.append(student)
        elif after[student] != before[student]:
            result.updated.append(student)
        elif before[student] is not None and submitted_at > before[student]:
            result.newer_waiting.append(student)
        else:
            result.unchanged.append(student)
    # The owner check matches the folder's owner with the id; here the ids it names.
    result.owners = {s: u for s, u in result.owners.items() if s in waiting}
    return result


def collect_assignments(
    root: Path, assignments: Sequence[str], students: Sequence[str] = (), update: bool = False
) -> list[CollectResult]:
    """Collect each assignment; check names and the exchange first.

    Raises
    ------
    CourseInputError
        For an unknown assignment, or an exchange that is missing or not writable
        (nbgrader's collect needs to write there too).
    """
    from cnn_course.exchange import check_exchange, exchange_paths, known_assignments
    from cnn_course.submissions import check_assignments

    wanted = list(dict.fromkeys(assignments))
    check_assignments(wanted, known_assignments(root))
    paths = exchange_paths(root)
    check_exchange(paths)
    students = list(dict.fromkeys(students))
    return [collect_assignment(root, paths, a, students, update) for a in wanted]


def collect_lines(results: list[CollectResult]) -> list[str]:
    """Per assignment: how many students' work was collected, new and updated, and who."""
    lines = []
    for r in results:
        if r.failed:
            continue
        seen = r.collected + r.unchanged + r.newer_waiting
        if not seen:
            lines.append(f"{r.assignment}: nothing submitted to the exchange yet; none collected")
        else:
            lines.append(
                f"{r.assignment}: collected {len(r.collected)} student(s) into submitted/ "
                f"({len(r.new)} new, {len(r.updated)} updated)"
                + (f": {', '.join(r.collected)}" if r.collected else "")
            )
        if r.unchanged:
            lines.append(f"  already collected, no newer submission: {', '.join(r.unchanged)}")
        if r.newer_waiting:
            lines.append(
                f"  newer submission waiting, kept the collected one: "
                f"{', '.join(r.newer_waiting)} (add --update to collect it)"
            )
        if r.not_submitted:
            lines.append(f"  nothing submitted by: {', '.join(r.not_submitted)}")
        for entry in sorted(set(r.refused)):
            lines.append(f"  warning: not collected, not a student's own submission: {entry}")
        if r.owners:
            owned = ", ".join(f"{s} (owner {u})" for s, u in sorted(r.owners.items()))
            # nbgrader only warns (CollectApp.check_owner); the work is collected anyway.
            lines.append(f"  warning: not owned by the OS user of the student's name: {owned}")
    return lines


def run(args: argparse.Namespace) -> int:
    """``cnn-course collect``: collect, print the summary; failures go to stderr."""
    from cnn_course.submissions import check_course_root

    root = check_course_root(args.course)
    results = collect_assignments(root, args.assignments, args.student, args.update)
    print("\n".join(collect_lines(results)))
    failed = [r for r in results if r.failed]
    for r in failed:
        print(f"collect {r.assignment} failed: {r.reason}", file=sys.stderr)
        if r.half_copied:
            print(
                f"  removed what this run had copied of {', '.join(r.half_copied)} (maybe "
                "half a submission); collect again once the cause is fixed",
                file=sys.stderr,
            )
    return 1 if failed else 0
