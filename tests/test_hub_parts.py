"""The hub deployment's parts, one at a time: settings, roles, the sudo rule and wrapper,
the socket grant, and the exchange's checked collect (``tests/test_hub.py`` runs them
together on a real hub)."""

from __future__ import annotations

import json
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory

from cnn_course.hub import roles
from cnn_course.hub.checked_collect import OwnerCheckedCollect, copy_regular
from cnn_course.hub.settings import HubSettings, load, save
from cnn_course.sandbox import sudo
from cnn_course.sandbox.kernelspec import kernelspec_dict

pytestmark = pytest.mark.unit

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown, runuser)")


def _settings(tmp_path: Path, **changes) -> HubSettings:
    values = dict(
        prefix=tmp_path / "opt",
        course_id="cnn-course",
        instructor="prof",
        students=("ada", "bo"),
        course_dir=tmp_path / "home" / "prof" / "cnn-course",
        exchange=tmp_path / "exchange",
        port=18000,
    )
    values.update(changes)
    return HubSettings(**values)


# --------------------------------------------------------------------------- settings
def test_settings_round_trip_through_hub_json(tmp_path: Path) -> None:
    settings = _settings(tmp_path, created_accounts=("ada",), created_group=True)
    path = save(settings)
    assert path == settings.prefix / "etc" / "hub.json"
    assert json.loads(path.read_text())["students"] == ["ada", "bo"]
    assert load(settings.prefix) == settings
    assert load(path) == settings


def test_settings_name_the_group_and_a_sudoers_file_per_deployment(tmp_path: Path) -> None:
    one = _settings(tmp_path, prefix=Path("/opt/cnn.course"))
    other = _settings(tmp_path, prefix=Path("/opt/cnn-hub-test-1"))
    assert one.graders_group == "cnn-course-graders"
    assert one.sudoers_file == Path("/etc/sudoers.d/cnn-hub-cnn-course")  # sudo skips dots
    assert other.sudoers_file != one.sudoers_file
    assert one.url == "http://127.0.0.1:18000"
    assert one.role_of("prof") == "grader" and one.role_of("ada") == "student"


# ------------------------------------------------------------------------------ roles
def test_students_get_no_instructor_extension() -> None:
    server = roles.server_config("student")["ServerApp"]["jpserver_extensions"]
    assert server["nbgrader.server_extensions.formgrader"] is False
    assert server["nbgrader.server_extensions.course_list"] is False
    assert server["nbgrader.server_extensions.assignment_list"] is True
    disabled = roles.page_config("student")["disabledExtensions"]
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(disabled)
    assert "@jupyter/nbgrader:assignment-list" not in disabled


def test_the_grader_gets_the_formgrader_in_its_own_tab_only() -> None:
    server = roles.server_config("grader")["ServerApp"]["jpserver_extensions"]
    assert server["nbgrader.server_extensions.formgrader"] is True
    disabled = roles.page_config("grader")["disabledExtensions"]
    # JupyterHub forbids framing: the lab panel that frames the formgrader stays off.
    assert "@jupyter/nbgrader:formgrader" in disabled
    assert "@jupyter/nbgrader:create-assignment" not in disabled


def test_role_configs_set_the_exchange_the_submit_and_the_course(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    roles.write_role_configs(settings)
    student = (settings.role_config("student") / "nbgrader_config.py").read_text()
    grader = (settings.role_config("grader") / "nbgrader_config.py").read_text()
    for text in (student, grader):
        assert f"c.Exchange.root = {str(settings.exchange)!r}" in text
        assert "c.ExchangeFactory.submit = 'cnn_hub_submit.PrivateSubmit'" in text
    assert "load_subconfig" not in student
    assert str(settings.course_dir / "nbgrader_config.py") in grader


# ------------------------------------------------------------------------------- sudo
def test_sudoers_rule_keeps_the_limits_but_not_the_sandbox_user() -> None:
    rule = sudo.sudoers_rule("cnn-course-graders", "/opt/x/bin/cnn-grader-kernel")
    assert "%cnn-course-graders ALL=(root) NOPASSWD: /opt/x/bin/cnn-grader-kernel" in rule
    assert "CNN_SANDBOX_MEMORY_MB" in rule and "NBGRADER_EXECUTION" in rule
    assert "CNN_SANDBOX_USER" not in rule
    if shutil.which("visudo"):
        with tempfile.NamedTemporaryFile("w", suffix=".sudoers") as file:
            file.write(rule)
            file.flush()
            check = subprocess.run(["visudo", "--check", "--file", file.name], check=False)
        assert check.returncode == 0


def test_the_kernelspec_starts_the_wrapper_through_sudo() -> None:
    spec = kernelspec_dict(sudo_wrapper="/opt/x/bin/cnn-grader-kernel")
    assert spec["argv"] == [
        "/usr/bin/sudo",
        "-n",
        "/opt/x/bin/cnn-grader-kernel",
        "-f",
        "{connection_file}",
    ]


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["-f", "/run/k.json"], True),
        (["-f", "/run/k.json", "--course-root=/home/prof/c", "--memory-mb=2048"], True),
        (["-f", "/run/k.json", "--user=root"], False),
        (["-f", "/run/k.json", "--course-root=relative"], False),
        (["-f", "/run/k.json", "--memory-mb=12x"], False),
        (["-f", "/run/k.json", "--memory-mb="], False),
        (["-f", "/run/k.json", "--IPKernelApp.exec_lines=['import os']"], False),
        (["--user=root", "-f", "/run/k.json"], False),
        (["-f"], False),
    ],
)
def test_the_wrapper_passes_only_the_courses_arguments(
    tmp_path: Path, args: list[str], allowed: bool
) -> None:
    python = tmp_path / "python"
    python.write_text('#!/bin/sh\necho "$@"\n')
    python.chmod(0o755)
    wrapper = tmp_path / "wrapper"
    wrapper.write_text(sudo.wrapper_script(python))
    result = subprocess.run(["sh", str(wrapper), *args], capture_output=True, text=True)
    assert (result.returncode == 0) is allowed, result.stderr
    if allowed:
        assert result.stdout.split() == ["-I", "-m", "cnn_course.sandbox.launcher", *args]
    else:
        assert "usage:" in result.stderr and not result.stdout


def test_sudo_caller_needs_sudo_as_the_parent() -> None:
    env = {"SUDO_UID": "1000", "SUDO_GID": "1000"}
    assert sudo.sudo_caller({}) is None
    assert sudo.sudo_caller(env, ppid=os.getpid()) is None  # pytest is not sudo
    assert sudo.parent_of(os.getpid()) == os.getppid()
    assert sudo.parent_of(2**22 + 1) is None


@needs_root
def test_grant_sockets_lets_one_user_reach_entries_and_not_list(tmp_path: Path) -> None:
    grantee = pwd.getpwnam("cnn-sandbox").pw_uid  # made by `make install`
    private = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        private.chmod(0o700)
        sudo.grant_sockets(private, grantee)
        old = os.umask(0o007)  # as the kernel binds its sockets
        try:
            fd = os.open(private / "socket", os.O_CREAT | os.O_WRONLY, 0o777)
            os.close(fd)
        finally:
            os.umask(old)

        def as_user(user: str, code: str) -> str:
            python = "/usr/bin/python3"  # readable by every user (pyenv is in /root)
            argv = ["runuser", "-u", user, "--", python, "-c", code]
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip()

        write = f"open({str(private / 'socket')!r}, 'w'); print('ok')"
        listing = f"""
import os
try:
    os.listdir({str(private)!r}); print('listed')
except PermissionError:
    print('refused')
"""
        assert as_user("cnn-sandbox", write) == "ok"
        assert as_user("cnn-sandbox", listing) == "refused"
        assert as_user("nobody", write) == ""  # PermissionError: no output
    finally:
        shutil.rmtree(private)


# ---------------------------------------------------------------------------- collect
@needs_root
def test_checked_collect_takes_only_real_folders_of_the_student_they_name(
    tmp_path: Path,
) -> None:
    collect = OwnerCheckedCollect(coursedir=CourseDirectory(), authenticator=Authenticator())
    stamp = "2026-12-03 10:00:00.000000 UTC"
    nobody = pwd.getpwnam("nobody")
    own = tmp_path / f"nobody+01_filters+{stamp}+abc"
    own.mkdir()
    os.chown(own, nobody.pw_uid, nobody.pw_gid)
    forged = tmp_path / f"nobody+01_filters+{stamp}+forged"
    forged.mkdir()  # root's, named after nobody
    linked = tmp_path / f"nobody+01_filters+{stamp}+link"
    linked.symlink_to(own)
    assert collect._path_to_record(str(own))["username"] == "nobody"
    for refused in (forged, linked):
        assert collect._path_to_record(str(refused)) is None
    for junk in ("pwned", "nobody+01_filters+not-a-time", f"no-such-user+01_filters+{stamp}"):
        assert collect._path_to_record(str(tmp_path / junk)) is None


def test_checked_collect_copies_no_link(tmp_path: Path) -> None:
    collect = OwnerCheckedCollect(coursedir=CourseDirectory(), authenticator=Authenticator())
    secret = tmp_path / "gradebook.db"
    secret.write_text("SQLite format 3")
    source = tmp_path / "submission"
    (source / "sub").mkdir(parents=True)
    (source / "filters.ipynb").write_text("{}")
    (source / "stolen.ipynb").symlink_to(secret)
    (source / "sub" / "deep").symlink_to(tmp_path)
    os.mkfifo(source / "pipe")
    collect.do_copy(str(source), str(tmp_path / "copy"))
    copied = sorted(
        p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*")
    )
    assert copied == ["filters.ipynb", "sub"]


def test_a_file_swapped_after_the_listing_is_not_followed_and_holds_nothing_up(
    tmp_path: Path,
) -> None:
    """What ``do_copy`` does per file once the folder was listed: the student may swap the
    file for a FIFO (which a plain open would wait on for good) or a link meanwhile."""
    log = logging.getLogger("test-collect")
    secret = tmp_path / "gradebook.db"
    secret.write_text("SQLite format 3")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link.ipynb").symlink_to(secret)
    for name in ("pipe", "link.ipynb"):
        started = time.monotonic()
        copy_regular(str(tmp_path / name), str(tmp_path / f"copy-{name}"), log)
        assert time.monotonic() - started < 5
        assert not (tmp_path / f"copy-{name}").exists(), name
    work = tmp_path / "filters.ipynb"
    work.write_text("{}")
    work.chmod(0o640)
    copy_regular(str(work), str(tmp_path / "copy.ipynb"), log)
    copied = tmp_path / "copy.ipynb"
    assert copied.read_text() == "{}" and stat.S_IMODE(copied.stat().st_mode) == 0o640
    assert copied.stat().st_mtime_ns == work.stat().st_mtime_ns


@needs_root
def test_remove_account_waits_for_the_accounts_processes() -> None:
    """userdel refuses an account whose processes run: they are killed and waited for."""
    from cnn_course.hub.deploy import ensure_account, remove_account

    name = f"hr{os.getpid() % 100000}"
    assert ensure_account(name)
    sleeper = subprocess.Popen(["runuser", "-u", name, "--", "sleep", "300"])
    try:
        assert remove_account(name) == f"removed account {name}"
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
        assert not Path(f"/home/{name}").exists()
        assert remove_account(name) == f"account {name} was already gone"
    finally:
        sleeper.kill()
        sleeper.wait()
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
