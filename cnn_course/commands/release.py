"""The ``release`` subcommand: put assignments' student versions in the exchange.

``cnn-course release ASSIGNMENT ... [--force]`` runs ``nbgrader release_assignment`` in
this process for each assignment: it copies ``release/<assignment>/`` (made by
``cnn-course build``) to ``<exchange>/<course_id>/outbound/<assignment>/``, where the
students' "Fetch" finds it. Everything is checked before anything is copied: the names,
that the student versions were built, that none is released already (unless
``--force``), and that the exchange can be written.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from cnn_course.errors import CourseInputError
from cnn_course.exchange import ExchangePaths


@dataclass(frozen=True)
class ReleaseResult:
    """One assignment's release: where it went and how many notebooks, or why not."""

    assignment: str
    destination: Path
    notebooks: int = 0
    replaced: bool = False
    reason: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.reason)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``release`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "release",
        help="release assignments' student versions to the exchange (students can fetch)",
        description="Copy each assignment's student version (release/<assignment>/, made by "
        "`cnn-course build`) to the course's exchange (c.Exchange.root in nbgrader_config.py) "
        "with nbgrader release_assignment, so students can fetch it. Nothing is copied "
        "unless every named assignment can be released. A missing exchange is created "
        "(mode 1777) when its parent folder is writable.",
        epilog="Exit codes: 0 released, 1 nbgrader failed to release an assignment, 2 usage "
        "or input error (unknown assignment, not built yet, already released without "
        "--force, exchange missing or not writable).",
    )
    parser.add_argument(
        "assignments", nargs="+", metavar="ASSIGNMENT", help="assignments to release"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an assignment already in the exchange (students who fetched it keep "
        "their copy)",
    )
    parser.set_defaults(func=run)


def check_releasable(
    root: Path, paths: ExchangePaths, assignments: list[str], force: bool
) -> list[str]:
    """Raise for the first assignment that cannot be released; return them deduplicated.

    Raises
    ------
    CourseInputError
        For an unknown assignment, one whose student version was not built, or one that
        is in the exchange already and ``force`` is off.
    """
    from cnn_course.exchange import known_assignments
    from cnn_course.submissions import check_assignments

    wanted = list(dict.fromkeys(assignments))
    check_assignments(wanted, known_assignments(root))
    for name in wanted:
        if not (root / "release" / name).is_dir():
            raise CourseInputError(
                f"assignment {name!r} has no student version yet (no release/{name}/); "
                f"run `cnn-course build {name}` first"
            )
    if not force:
        already = [name for name in wanted if (paths.outbound / name).is_dir()]
        if already:
            raise CourseInputError(
                f"already released: {', '.join(already)} (in {paths.outbound}); "
                "add --force to replace it"
            )
    return wanted


def release_assignments(
    root: Path, assignments: list[str], force: bool = False
) -> tuple[ExchangePaths, bool, list[ReleaseResult]]:
    """Release each assignment with nbgrader; check everything first.

    Parameters
    ----------
    root : Path
        Course root.
    assignments : list of str
        Assignments to release.
    force : bool
        Replace assignments already in the exchange.

    Returns
    -------
    tuple
        The exchange, whether its root was created now, and one result per assignment.

    Raises
    ------
    CourseInputError
        See :func:`check_releasable` and :func:`cnn_course.exchange.check_exchange`.
    """
    from nbgrader.apps import ReleaseAssignmentApp

    from cnn_course.exchange import check_exchange, exchange_paths, notebooks_in, run_exchange_app

    paths = exchange_paths(root)
    wanted = check_releasable(root, paths, assignments, force)
    created = check_exchange(paths, create=True)
    results = []
    for name in wanted:
        destination = paths.outbound / name
        replaced = destination.is_dir()
        argv = [name, *(["--ExchangeReleaseAssignment.force=True"] if force else [])]
        outcome = run_exchange_app(ReleaseAssignmentApp, root, paths, argv)
        results.append(
            ReleaseResult(
                name,
                destination,
                len(notebooks_in(destination)) if outcome.success else 0,
                replaced and outcome.success,
                outcome.reason,
            )
        )
    return paths, created, results


def release_lines(paths: ExchangePaths, created: bool, results: list[ReleaseResult]) -> list[str]:
    """What was released where, one line per assignment."""
    lines = [f"created the exchange {paths.root} (mode 1777)"] if created else []
    for r in results:
        if not r.failed:
            verb = "re-released (replaced)" if r.replaced else "released"
            lines.append(f"{r.assignment}: {verb} {r.notebooks} notebook(s) to {r.destination}")
    return lines


def run(args: argparse.Namespace) -> int:
    """``cnn-course release``: release, print where to; failures go to stderr."""
    from cnn_course.submissions import check_course_root

    root = check_course_root(args.course)
    paths, created, results = release_assignments(root, args.assignments, args.force)
    print("\n".join(release_lines(paths, created, results)))
    failed = [r for r in results if r.failed]
    for r in failed:
        print(f"release {r.assignment} failed: {r.reason}", file=sys.stderr)
    return 1 if failed else 0
