"""Set up (and remove) the course's JupyterHub deployment on this machine, as root.

Each step is a function of :class:`~cnn_course.hub.settings.HubSettings`, so the command
(:mod:`cnn_course.hub.command`) and the tests run the same steps. The layout, and why:

* ``<prefix>/venv`` (0755): a venv of the system's Python (``/usr/bin/python3``), since
  every user's server runs on it and a Python under ``/root`` is unreadable to them. The
  course package is installed *editable* from ``<prefix>/src``.
* ``<prefix>/src`` (root, group graders, 0751, its packages 0750): the course's code,
  ``cnn_solutions`` (the reference) included. Students' imports of it fail; the grading
  kernel, started as root, sees it covered. Only the probe (``cnn_probe``, no reference in
  it) is readable by everyone, since it runs in each grading kernel. Root owns every file
  root runs.
* ``<prefix>/bin/cnn-grader-kernel`` and ``/etc/sudoers.d/cnn-course-<course>``: the
  graders group may run the confined grading kernel as root, and nothing else
  (:mod:`cnn_course.sandbox.sudo`); the kernelspec in the venv starts it through sudo.
* the instructor's home and course folder: 0700; students' homes: 0700.
* the exchange: root's, mode 1777 (nbgrader makes each course's folders with its modes).
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from cnn_course.hub import roles
from cnn_course.hub.settings import HubSettings, save
from cnn_course.sandbox.sudo import sudoers_rule, wrapper_script

PROXY_PACKAGE = "configurable-http-proxy@5.3.0"
SYSTEM_PYTHON = Path("/usr/bin/python3")
# The package's code and what `pip install -e` needs; the course content goes to the
# instructor's folder instead.
CODE = ("cnn_course", "cnn_solutions", "cnn_probe", "pyproject.toml", "README.md")
COURSE_CONTENT = ("nbgrader_config.py", "source", "release", "docs", "README.md", ".gitignore")
SUBMIT_MODULE = roles.SUBMIT_CLASS.split(".")[0]
EXCHANGE_BLOCK = (
    "# --- JupyterHub deployment (cnn-course hub setup): nbgrader's shared exchange, and\n"
    "# a collect that takes only folders owned by the student they name\n"
)
COLLECT_CLASS = "cnn_course.hub.checked_collect.OwnerCheckedCollect"


class DeployError(RuntimeError):
    """A step cannot be done on this machine (not root, a tool missing, a name taken)."""


@dataclass(frozen=True)
class Step:
    """One step of the setup: what it does, for the progress lines."""

    title: str
    run: Callable[[HubSettings, Path], object]


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)  # noqa: PLW1510
    if result.returncode != 0:
        raise DeployError(f"`{' '.join(argv)}` failed: {(result.stderr or result.stdout).strip()}")
    return result


def check_machine(settings: HubSettings, python: Path = SYSTEM_PYTHON) -> None:
    """Refuse early: not root, no system Python, no npm, no sudo, a course folder taken."""
    if os.geteuid() != 0:
        raise DeployError("the hub setup makes Unix accounts and root-owned folders: run as root")
    for tool, package in (("npm", "npm"), ("sudo", "sudo"), ("useradd", "passwd")):
        if shutil.which(tool) is None:
            raise DeployError(f"{tool} is missing (Debian: apt-get install {package})")
    if not python.is_file():
        raise DeployError(f"{python} is missing: every user's server needs a system Python")
    if settings.instructor in settings.students:
        raise DeployError(f"{settings.instructor} cannot be both the instructor and a student")


# --------------------------------------------------------------------------- accounts


def ensure_account(name: str) -> bool:
    """Make Unix account ``name`` (home 0700) unless it exists; True if it was made."""
    try:
        pwd.getpwnam(name)
        made = False
    except KeyError:
        _run(["useradd", "--create-home", "--shell", "/bin/bash", name])
        made = True
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    return made


def set_passwords(names: list[str]) -> dict[str, str]:
    """Give each account a random password (for PAM logins); return them."""
    passwords = {name: secrets.token_urlsafe(12) for name in names}
    if passwords:
        lines = "".join(f"{n}:{p}\n" for n, p in passwords.items())
        _run(["chpasswd"], input=lines)
    return passwords


def ensure_group(name: str) -> bool:
    """Make system group ``name`` unless it exists; True if it was made."""
    try:
        grp.getgrnam(name)
        return False
    except KeyError:
        _run(["groupadd", "--system", name])
        return True


def make_accounts(settings: HubSettings, source: Path) -> dict[str, str]:
    """The instructor and students, the graders group; passwords for new accounts.

    Returns the new accounts' passwords, also written to ``<prefix>/state/passwords``
    (root only) for the instructor to hand out.
    """
    made = [n for n in (settings.instructor, *settings.students) if ensure_account(n)]
    _run(["usermod", "--append", "--groups", settings.graders_group, settings.instructor])
    passwords = set_passwords(made)
    settings.state.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state, 0o700)
    file = settings.state / "passwords"
    old = file.read_text() if file.exists() else ""
    file.write_text(old + "".join(f"{n} {p}\n" for n, p in passwords.items()))
    os.chmod(file, 0o600)
    return passwords


# --------------------------------------------------------------------------- software


def _copy_tree(source: Path, target: Path, names: tuple[str, ...]) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")
    for name in names:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name, ignore=ignore, dirs_exist_ok=True)
        elif path.is_file():
            shutil.copy2(path, target / name)


def install_code(settings: HubSettings, source: Path) -> Path:
    """Copy the course's code to ``<prefix>/src``: root's, readable by graders only."""
    settings.prefix.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.prefix, 0o755)
    settings.src.mkdir(exist_ok=True)
    _copy_tree(source, settings.src, CODE)
    _graders_only(settings)
    return settings.src


# What every user may read in ``src``: the probe, which runs in each grading kernel (as a
# sandbox uid) and holds no reference or expected value (cnn_probe/__init__.py).
READABLE_BY_ALL = ("cnn_probe",)


def _graders_only(settings: HubSettings) -> None:
    """Everything in ``src`` root's, group graders, no access for others but the probe.

    ``src`` itself is ``0751``: others may pass through it to the probe, not list it.
    """
    gid = grp.getgrnam(settings.graders_group).gr_gid
    for folder, dirs, files in os.walk(settings.src):
        top = Path(folder).relative_to(settings.src).parts[:1]
        shared = bool(top) and top[0] in READABLE_BY_ALL
        for name in [*dirs, *files]:
            path = Path(folder) / name
            os.lchown(path, 0, gid)
            if path.is_symlink():
                continue
            everyone = shared or (not top and name in READABLE_BY_ALL)
            if path.is_dir():
                os.chmod(path, 0o755 if everyone else 0o750)
            else:
                os.chmod(path, 0o644 if everyone else 0o640)
    os.chown(settings.src, 0, gid)
    os.chmod(settings.src, 0o751)


def install_environment(settings: HubSettings, source: Path, python: Path = SYSTEM_PYTHON) -> Path:
    """The venv every server runs on, with the course (editable) and JupyterHub, pinned."""
    if not (settings.venv / "bin" / "python").exists():
        _run([str(python), "-m", "venv", str(settings.venv)])
    pip = [str(settings.venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, "--upgrade", "pip"])
    _run([*pip, "--editable", f"{settings.src}[hub]"])
    _graders_only(settings)  # what pip wrote into src (egg-info) too
    # The one piece of the course students' servers import: their submit (the package
    # itself they cannot read).
    module = settings.site_packages / f"{SUBMIT_MODULE}.py"
    shutil.copyfile(Path(__file__).with_name("private_submit.py"), module)
    os.chmod(module, 0o644)
    return settings.venv


def install_grading_kernel(settings: HubSettings, source: Path) -> Path:
    """The root-owned wrapper, the sudo rule, and the kernelspec that uses them."""
    wrapper = settings.kernel_wrapper
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(wrapper_script(settings.venv / "bin" / "python"))
    os.chown(wrapper, 0, 0)
    os.chmod(wrapper, 0o755)
    rule = sudoers_rule(settings.graders_group, wrapper)
    candidate = settings.state / "sudoers.candidate"
    candidate.write_text(rule)
    _run(["visudo", "--check", "--file", str(candidate)])
    candidate.unlink()
    settings.sudoers_file.write_text(rule)
    os.chmod(settings.sudoers_file, 0o440)
    python = str(settings.venv / "bin" / "python")
    _run([python, "-m", "cnn_course.sandbox", "install", "--sudo", str(wrapper)])
    return wrapper


def install_proxy(settings: HubSettings, source: Path) -> Path:
    """configurable-http-proxy from npm, pinned, in ``<prefix>/proxy``."""
    if not settings.proxy_command.exists():
        folder = settings.prefix / "proxy"
        folder.mkdir(parents=True, exist_ok=True)
        _run(["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", PROXY_PACKAGE])
    return settings.proxy_command


# --------------------------------------------------------------------------- course


def make_exchange(settings: HubSettings, source: Path) -> Path:
    """nbgrader's exchange (root's, 1777) and the course's folder in it.

    The course's folder and its ``inbound`` are the instructor's, in the graders group,
    set-group-id, so every submission's folder is in the graders group, which the
    students' submit (:mod:`cnn_course.hub.private_submit`) closes to everyone else;
    ``inbound`` is sticky, so nobody moves or removes a classmate's folder.
    """
    settings.exchange.mkdir(parents=True, exist_ok=True)
    os.chown(settings.exchange, 0, 0)
    os.chmod(settings.exchange, 0o1777)
    owner = pwd.getpwnam(settings.instructor).pw_uid, grp.getgrnam(settings.graders_group).gr_gid
    course = settings.exchange / settings.course_id
    # inbound as nbgrader makes it (2733: students add, cannot list), plus the sticky bit:
    # without it a student may rename or remove a classmate's submission folder.
    for folder, mode in ((course, 0o2755), (course / "inbound", 0o3733)):
        folder.mkdir(exist_ok=True)
        os.chown(folder, *owner)
        os.chmod(folder, mode)
    return settings.exchange


def make_course_folder(settings: HubSettings, source: Path) -> Path:
    """The instructor's course folder (0700): the course's content, on the shared exchange."""
    folder = settings.course_dir
    if (folder / "nbgrader_config.py").exists():
        return folder  # an existing course is the instructor's: never overwritten
    folder.mkdir(parents=True, exist_ok=True)
    _copy_tree(source, folder, COURSE_CONTENT)
    config = folder / "nbgrader_config.py"
    text = config.read_text()
    config.write_text(
        f"{text}\n{EXCHANGE_BLOCK}c.Exchange.root = {str(settings.exchange)!r}\n"
        f"c.ExchangeFactory.collect = {COLLECT_CLASS!r}\n"
    )
    account = pwd.getpwnam(settings.instructor)
    for top, dirs, files in os.walk(folder):
        for name in [top, *(os.path.join(top, n) for n in [*dirs, *files])]:
            os.lchown(name, account.pw_uid, account.pw_gid)
    os.chmod(folder, 0o700)
    return folder


def configure_hub(settings: HubSettings, source: Path) -> Path:
    """Role folders, ``hub.json`` and ``jupyterhub_config.py`` in ``<prefix>/etc``."""
    roles.write_role_configs(settings)
    save(settings)
    config = settings.etc / "jupyterhub_config.py"
    shutil.copy2(Path(__file__).with_name("jupyterhub_config.py"), config)
    return config


STEPS = (
    Step("Unix accounts and the graders group", make_accounts),
    Step("the course's code (graders only)", install_code),
    Step("the Python environment every user runs (pip, a few minutes)", install_environment),
    Step("the grading kernel's sudo rule and kernelspec", install_grading_kernel),
    Step("configurable-http-proxy (npm)", install_proxy),
    Step("nbgrader's exchange", make_exchange),
    Step("the instructor's course folder", make_course_folder),
    Step("JupyterHub and role configuration", configure_hub),
)


def setup(
    settings: HubSettings, source: Path, say: Callable[[str], None] = print
) -> tuple[HubSettings, dict[str, str]]:
    """Run every step; return the saved settings and the new accounts' passwords."""
    check_machine(settings)
    settings = replace(settings, created_group=ensure_group(settings.graders_group))
    passwords: dict[str, str] = {}
    for number, step in enumerate(STEPS, 1):
        say(f"[{number}/{len(STEPS)}] {step.title}")
        result = step.run(settings, source)
        if step.run is make_accounts:
            passwords = dict(result)  # type: ignore[arg-type]
            made = (*settings.created_accounts, *passwords)
            settings = replace(settings, created_accounts=made)
    return settings, passwords


# --------------------------------------------------------------------------- start, remove


def hub_command(settings: HubSettings) -> list[str]:
    """The command that runs the hub (as root, from its state folder)."""
    return [
        str(settings.venv / "bin" / "jupyterhub"),
        "--config",
        str(settings.etc / "jupyterhub_config.py"),
    ]


def start(settings: HubSettings) -> subprocess.Popen[bytes]:
    """Start JupyterHub in the background; the caller waits for it and stops it."""
    settings.state.mkdir(parents=True, exist_ok=True)
    log = open(settings.state / "jupyterhub.log", "ab")  # noqa: SIM115 -- the hub's log
    return subprocess.Popen(
        hub_command(settings), cwd=settings.state, stdout=log, stderr=subprocess.STDOUT
    )


def remove_account(name: str, timeout: float = 30.0) -> str:
    """Stop ``name``'s processes and remove the account and its home; say what happened.

    ``userdel`` refuses an account whose processes still run, and a killed process takes
    a moment to go: wait for them first.
    """
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return f"account {name} was already gone"
    deadline = time.monotonic() + timeout
    while True:
        subprocess.run(["pkill", "-KILL", "-u", str(uid)], capture_output=True, check=False)
        gone = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
        if gone.returncode in (0, 12):  # 12: the home could not be removed (said below)
            break
        if time.monotonic() > deadline:
            return f"could not remove account {name}: {gone.stderr.strip()}"
        time.sleep(0.5)
    return f"removed account {name}"


def remove(settings: HubSettings, say: Callable[[str], None] = print) -> None:
    """Undo the setup: the accounts it made (homes included), sudo rule, prefix, group.

    Accounts that existed before the setup, and the exchange (other courses may use it),
    are left; this course's folder in the exchange goes.
    """
    for name in settings.created_accounts:
        say(remove_account(name))
    settings.sudoers_file.unlink(missing_ok=True)
    shutil.rmtree(settings.exchange / settings.course_id, ignore_errors=True)
    if settings.created_group:
        subprocess.run(["groupdel", settings.graders_group], capture_output=True, check=False)
    shutil.rmtree(settings.prefix, ignore_errors=True)
    say(f"removed {settings.prefix} and {settings.sudoers_file}")
