"""``python -m cnn_course.sandbox install``: the grading kernelspec, and as root its user."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cnn_course.sandbox.kernelspec import KERNEL_NAME, ensure_kernelspec
from cnn_course.sandbox.permissions import SANDBOX_USER, ensure_sandbox_user, is_root


def main(argv: Sequence[str] | None = None) -> int:
    """Install the "cnn-grader" kernelspec into ``--prefix`` (this environment by default).

    As root, also create the sandbox user if it is missing.
    """
    parser = argparse.ArgumentParser(prog="python -m cnn_course.sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    install = commands.add_parser("install", help=f"install the {KERNEL_NAME} kernelspec")
    install.add_argument("--prefix", default=sys.prefix, help="environment prefix")
    install.add_argument("--user", default=SANDBOX_USER, help="sandbox user (as root)")
    install.add_argument(
        "--sudo",
        metavar="WRAPPER",
        default=None,
        help="graders are not root: start the kernel with `sudo -n WRAPPER` (the root-owned "
        "script of cnn_course/sandbox/sudo.py; cnn-course hub setup installs it)",
    )
    args = parser.parse_args(argv)
    folder = ensure_kernelspec(args.prefix, sudo_wrapper=args.sudo)
    print(f"kernelspec {KERNEL_NAME}: {folder}")
    if is_root():
        account = ensure_sandbox_user(args.user)
        print(f"sandbox user {account.pw_name}: uid {account.pw_uid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
