"""The ``cnn-course`` command: instructor tooling for the CNN course.

Each subcommand lives in its own module, listed in :data:`SUBCOMMAND_MODULES`. A module
exposes ``register(subparsers) -> None``, which adds its parser with
``subparsers.add_parser(...)`` and sets ``func=`` to a function taking the parsed
arguments and returning an exit code. Modules not written yet are skipped.

Every subcommand gets the global option ``--course DIR`` (the course root, default the
current directory), before or after the subcommand name, as ``args.course`` (a Path).

Exit codes: 0 success; 1 the work ran but something failed (e.g. a submission could not
be graded); 2 usage or input error (bad option, unknown assignment or student, nothing
submitted yet). Subcommands signal input errors by raising
:class:`cnn_course.errors.CourseInputError`; its message is printed as
``cnn-course <subcommand>: error: <message>``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from cnn_course.errors import CourseInputError

SUBCOMMAND_MODULES = [
    "cnn_course.commands.build",
    "cnn_course.commands.grade",
    "cnn_course.report",
    "cnn_course.commands.status",
    "cnn_course.commands.demo",
    "cnn_course.commands.lab",
    "cnn_course.commands.quiz_preview",
    "cnn_course.commands.release",
    "cnn_course.commands.collect",
    "cnn_course.commands.return_feedback",
    "cnn_course.commands.canvas",
    "cnn_course.hub",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

PROG = "cnn-course"


def subcommand_modules(names: Sequence[str] = SUBCOMMAND_MODULES) -> list[ModuleType]:
    """Import the subcommand modules that exist.

    A module that is not there yet is skipped; a module that is there but fails to
    import (a bug, a missing dependency of its own) raises, so breakage is not hidden.
    """
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def _add_course_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--course",
        metavar="DIR",
        type=Path,
        default=default,
        help="course root directory (holds source/, submitted/, nbgrader_config.py); "
        "default: the current directory",
    )


def build_parser(names: Sequence[str] = SUBCOMMAND_MODULES) -> argparse.ArgumentParser:
    """Return the ``cnn-course`` parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Build, grade and report on the auto-graded CNN course (nbgrader).",
        epilog="Exit codes: 0 ok, 1 some work failed, 2 usage or input error.",
    )
    _add_course_option(parser, Path("."))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in subcommand_modules(names):
        module.register(subparsers)
    for sub in subparsers.choices.values():
        # SUPPRESS: given after the subcommand it wins, otherwise the global value stays.
        if not any("--course" in a.option_strings for a in sub._actions):
            _add_course_option(sub, argparse.SUPPRESS)
    return parser


def _named_command(argv: Sequence[str]) -> str | None:
    """The first argument after the global options, if it looks like a subcommand."""
    pre = argparse.ArgumentParser(add_help=False)
    _add_course_option(pre, Path("."))
    _, rest = pre.parse_known_args(argv)
    return rest[0] if rest and not rest[0].startswith("-") else None


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    """The subcommand names a parser from :func:`build_parser` knows."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices) if actions else set()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cnn-course`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Subcommand modules may import heavy libraries: when the command names a module
    # (``quiz-preview`` for ``cnn_course.commands.quiz_preview``), load only that one.
    command = _named_command(argv)
    named = [
        m for m in SUBCOMMAND_MODULES if command and m.endswith("." + command.replace("-", "_"))
    ]
    parser = build_parser(named) if named else None
    if parser is None or command not in _commands(parser):
        parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except CourseInputError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
