"""The ``lab`` subcommand: JupyterLab for one student, or for the instructor.

A student's lab runs with its own Jupyter config, data and kernel directories inside the
student's home (``<course>/students/<ID>/`` by default). That isolation gives the student:

* nbgrader's assignment list and validate button, pointed at the course exchange, with the
  student id fixed (``CourseDirectory.student_id``, ``JUPYTERHUB_USER``);
* no instructor tools: the formgrader and course-list server extensions are switched off
  and their lab plugins disabled;
* a ``python3`` kernel in which the reference solutions (``cnn_solutions``) and the
  instructor tooling (``cnn_course``) cannot be imported, although both are installed
  in the same environment.

The instructor's lab runs at the course root with the formgrader, using the same exchange.

This is the setup of one machine shared by an instructor and test students; it keeps
honest students honest. It is not a security boundary: real courses give each student a
separate account or container (for example through JupyterHub).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from cnn_course.commands.lab_server import RunningLab
from cnn_course.commands.lab_setup import (
    BLOCKED_MODULES,
    COURSE_CONFIG,
    Course,
    LabSpec,
    default_course_root,
    instructor_lab,
    quiet_lab_settings,
    read_course,
    student_lab,
)
from cnn_course.errors import CourseInputError

# What the labs are is cnn_course.commands.lab_setup, how a server runs
# cnn_course.commands.lab_server; both are importable from here as before.
__all__ = [
    "BLOCKED_MODULES",
    "COURSE_CONFIG",
    "Course",
    "LabSpec",
    "RunningLab",
    "default_course_root",
    "instructor_lab",
    "quiet_lab_settings",
    "read_course",
    "register",
    "released_note",
    "run",
    "student_lab",
]


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``lab`` subcommand to the ``cnn-course`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``lab`` parser.
    """
    parser = subparsers.add_parser(
        "lab",
        help="start JupyterLab as a student or as the instructor",
        description="Start JupyterLab on 127.0.0.1 as a student (assignment list, validate, "
        "submit; no reference solutions) or as the instructor (formgrader). Runs until Ctrl-C.",
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--student", metavar="ID", help="start the lab of student ID")
    who.add_argument("--instructor", action="store_true", help="start the instructor's lab")
    parser.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help="student's working directory (default: COURSE/students/ID)",
    )
    parser.add_argument(
        "--port", type=int, metavar="P", help="port on 127.0.0.1 (default: first free from 8888)"
    )
    parser.set_defaults(func=run)
    return parser


def released_note(course: Course) -> str:
    """What a student's Assignments panel will offer to fetch, in words.

    An empty panel says only "There are no assignments to fetch"; the student should know
    whether that is expected (nothing released yet) or a problem.
    """
    from cnn_course.exchange import ExchangePaths

    outbound = ExchangePaths(course.exchange, course.course_id).outbound
    released = sorted(p.name for p in outbound.iterdir() if p.is_dir()) if outbound.is_dir() else []
    if not released:
        return (
            f"Nothing is released in course {course.course_id} yet: the Assignments panel "
            "stays empty until the instructor runs `cnn-course release ASSIGNMENT` "
            f"(exchange: {course.exchange})."
        )
    return f"Released, to fetch in the Assignments panel: {', '.join(released)}."


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start the requested lab, print its URL and serve until Ctrl-C.

    Returns
    -------
    int
        0 after Ctrl-C or SIGTERM, 1 if the server did not start, else the server's exit
        code if it stopped by itself.

    Raises
    ------
    CourseInputError
        For a directory that is not a course or an invalid student id.
    """
    try:
        # ``--course`` is the global option of ``cnn-course``.
        course = read_course(getattr(args, "course", None) or default_course_root())
        if args.instructor:
            spec = instructor_lab(course, port=args.port)
        else:
            spec = student_lab(course, args.student, home=args.home, port=args.port)
    except (OSError, ValueError) as error:
        raise CourseInputError(str(error)) from error
    who = "instructor" if args.instructor else f"student {args.student}"
    lab = RunningLab(spec)
    # The server runs in a session of its own, so it must be stopped by us; turn a
    # polite kill of this process into the same path as Ctrl-C.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        lab.start()
    except (RuntimeError, TimeoutError) as error:
        print(f"cnn-course lab: JupyterLab did not start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    try:
        print(f"JupyterLab for {who} (course {course.course_id}) in {spec.cwd}")
        if not args.instructor:
            print(released_note(course))
        print(f"Open: {spec.url}")
        print(f"Server log: {spec.log_path}. Press Ctrl-C to stop.", flush=True)
        code = lab.wait()
        print(f"JupyterLab stopped by itself (exit code {code}); see {spec.log_path}")
        return code
    except KeyboardInterrupt:
        try:
            print("Stopping JupyterLab...", flush=True)
        except OSError:  # stdout may be a closed pipe by now; stopping matters more
            pass
        return 0
    finally:
        lab.stop()
