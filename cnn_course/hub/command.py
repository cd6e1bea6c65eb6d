"""``cnn-course hub setup | start | remove``: the course on JupyterHub, on this machine.

``setup`` (root) makes the deployment described in :mod:`cnn_course.hub.deploy` for the
course in ``--course`` (the repository root by default), and prints the new accounts'
passwords and the URLs. ``start`` runs the hub in the foreground until Ctrl-C.
``remove`` undoes ``setup``.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from cnn_course.config import course_config
from cnn_course.errors import CourseInputError
from cnn_course.hub import deploy
from cnn_course.hub.settings import DEFAULT_PREFIX, STANDARD_EXCHANGE, HubSettings, load

READY_TIMEOUT = 120.0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``hub`` to the ``cnn-course`` parser (see :mod:`cnn_course.commands.cli`)."""
    parser = subparsers.add_parser(
        "hub",
        help="set up, start or remove the course's JupyterHub deployment on this machine",
        description="The course's multi-user deployment: JupyterHub on 127.0.0.1, a Unix "
        "account per student and for the instructor, nbgrader's exchange, the formgrader "
        "for the instructor only, grading kernels confined as root through one sudo rule. "
        'README "The course on JupyterHub" says what to change for a university server.',
        epilog="Exit codes: 0 done, 1 the hub failed to start, 2 usage or input error "
        "(not root, a tool missing, no deployment at --prefix).",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    setup = verbs.add_parser("setup", help="make the deployment (as root)")
    setup.add_argument("--instructor", required=True, help="the grader's Unix account")
    setup.add_argument("--students", required=True, help="students' Unix accounts, comma-separated")
    setup.add_argument(
        "--course-dir",
        type=Path,
        default=None,
        help="the instructor's course folder (default ~INSTRUCTOR/<course id>)",
    )
    setup.add_argument("--port", type=int, default=8000, help="the hub's port (default 8000)")
    setup.add_argument(
        "--exchange",
        type=Path,
        default=STANDARD_EXCHANGE,
        help=f"nbgrader's exchange (default {STANDARD_EXCHANGE})",
    )
    for verb in (setup, verbs.add_parser("start", help="run the hub until Ctrl-C")):
        verb.add_argument(
            "--prefix",
            type=Path,
            default=DEFAULT_PREFIX,
            help=f"the deployment's folder (default {DEFAULT_PREFIX})",
        )
    remove = verbs.add_parser("remove", help="undo the setup (accounts it made, files)")
    remove.add_argument("--prefix", type=Path, default=DEFAULT_PREFIX)
    parser.set_defaults(func=run)


def _settings_from(args: argparse.Namespace) -> HubSettings:
    config = course_config(args.course)
    course_id = config.CourseDirectory.course_id or "course"
    students = tuple(s.strip() for s in args.students.split(",") if s.strip())
    if not students:
        raise CourseInputError("--students names no account")
    home = Path("/home") / args.instructor
    return HubSettings(
        prefix=args.prefix.resolve(),
        course_id=course_id,
        instructor=args.instructor,
        students=students,
        course_dir=(args.course_dir or home / course_id),
        exchange=args.exchange,
        port=args.port,
    )


def _load(prefix: Path) -> HubSettings:
    try:
        return load(prefix)
    except FileNotFoundError:
        raise CourseInputError(
            f"no hub deployment at {prefix} (run `cnn-course hub setup`)"
        ) from None


def wait_until_up(settings: HubSettings, process: subprocess.Popen[bytes]) -> bool:
    """Poll the hub's login page until it answers; False if the hub exits or times out."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{settings.url}/hub/login", timeout=5) as reply:
                if reply.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    return False


def run(args: argparse.Namespace) -> int:
    """Run ``cnn-course hub VERB``; return the exit code."""
    try:
        if args.verb == "setup":
            settings = _settings_from(args)
            settings, passwords = deploy.setup(settings, args.course.resolve())
            print(f"\nThe hub is set up in {settings.prefix}. Start it: cnn-course hub start")
            print(f"  log in at {settings.url}/hub/login")
            formgrader = f"{settings.url}/user/{settings.instructor}/formgrader"
            print(f"  the formgrader, in its own tab: {formgrader}")
            print(f"  the course folder: {settings.course_dir} ({settings.instructor}'s, mode 700)")
            for name, password in passwords.items():
                print(f"  new account {name}: password {password}")
            if passwords:
                print(f"  (also in {settings.state / 'passwords'}, root only)")
            return 0
        settings = _load(args.prefix)
        if args.verb == "remove":
            deploy.remove(settings)
            return 0
        return _serve(settings)
    except deploy.DeployError as error:
        raise CourseInputError(str(error)) from None


def _serve(settings: HubSettings) -> int:
    process = deploy.start(settings)
    try:
        if not wait_until_up(settings, process):
            print(f"the hub did not start: see {settings.state / 'jupyterhub.log'}")
            return 1
        print(f"JupyterHub is up at {settings.url} (Ctrl-C stops it)")
        process.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
