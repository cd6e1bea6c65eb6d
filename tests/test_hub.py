"""The course on a real JupyterHub, as README "The course on JupyterHub" sets it up.

``cnn-course hub setup`` (run from the repository root, the README's course directory)
makes a deployment of its own for this module: Unix accounts with unique names for an
instructor and two students, a venv of the system's Python, configurable-http-proxy,
nbgrader's exchange, the sudo rule of the grading kernel. The hub runs on 127.0.0.1 on
free ports; ``cnn-course hub remove`` takes everything away after, and the module checks
that it did.

Through the hub, in headless Debian Chromium: each student logs in with their password,
fetches 01_filters, writes zero_pad, validates and submits; one of them (the hostile
classmate) submits a mistake and code that tries to reach the course. The instructor
builds, releases, collects, grades with ``cnn-course grade`` (the grading kernel through
sudo) and returns feedback with ``cnn-course feedback``, each with a bare PATH; each
student fetches and opens their own feedback. Then what a student must not do: open the
formgrader, read the gradebook or the instructor's source, read or overwrite a classmate's
submission in the exchange. The module runs while other kernels keep starting on every
core. Wall times go to ``test-artifacts/browser/timings.json`` ("hub: ...").
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from browser_helpers import (
    CHROMIUM_ARGS,
    FILTERS,
    Shots,
    assignment_rows,
    is_zero_pad_test,
    open_nbgrader_menu,
    points,
    read_grades_csv,
    record_timing,
    require_chromium,
    set_cell_source,
    without_solution_markers,
    zero_pad_solution_cell,
)
from load_helpers import kernel_like_load
from nbgrader.api import Gradebook
from playwright.sync_api import expect, sync_playwright

from cnn_course.hub import deploy
from cnn_course.hub.command import wait_until_up
from cnn_course.hub.settings import HubSettings, load

pytestmark = pytest.mark.hub

REPO = Path(__file__).resolve().parents[1]
CNN_COURSE = Path(sys.executable).with_name("cnn-course")
UI_TIMEOUT_MS = 180_000  # a first login spawns a server on two busy cores
VALIDATE_TIMEOUT_MS = 300_000
ASSIGNMENT, NOTEBOOK = FILTERS
# The hostile classmate's zero_pad: pads the channel axis too (a real mistake), and on
# import tries to reach the course, a classmate and the exchange, and to show what it read.
HOSTILE_CELL = """import glob, os
for target in glob.glob("/home/*/*/gradebook.db") + ["/home/{instructor}/{course}/gradebook.db"]:
    try:
        print("STO" + "LEN", open(target, "rb").read(64))
    except OSError as error:
        print("refused", type(error).__name__)
for target in ("/home/{instructor}/{course}/pwned", "/home/{honest}/pwned",
               "{exchange}/{course}/pwned", "{exchange}/{course}/outbound/pwned"):
    try:
        open(target, "w").write("pwned")
    except OSError as error:
        print("refused", type(error).__name__)


def zero_pad(image, pad):
    if pad < 0:
        raise ValueError("pad must be >= 0")
    return np.pad(np.asarray(image, dtype=float), pad)
"""


@dataclass
class Hub:
    settings: HubSettings
    passwords: dict[str, str]
    honest: str
    hostile: str
    submissions: dict[str, Path] = field(default_factory=dict)

    @property
    def course(self) -> Path:
        return self.settings.course_dir


# ---------------------------------------------------------------------------- helpers
def _free_ports(count: int = 3) -> int:
    """A port ``p`` with ``p .. p + count - 1`` free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free block of ports")


def _as_user(user: str, argv: list[str], cwd: Path | None = None, check: bool = True):
    """Run ``argv`` as Unix ``user`` with a bare environment (no venv on PATH)."""
    home = pwd.getpwnam(user).pw_dir
    env = ["env", "-i", f"HOME={home}", f"USER={user}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
    result = subprocess.run(
        ["runuser", "-u", user, "--", *env, *argv],
        cwd=cwd or home,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check:
        assert result.returncode == 0, f"{argv} as {user}: {result.stdout}\n{result.stderr}"
    return result


def _instructor(hub: Hub, *args: str) -> str:
    """``cnn-course ARGS`` as the instructor, in their course folder; return its output."""
    cli = str(hub.settings.venv / "bin" / "cnn-course")
    result = _as_user(hub.settings.instructor, [cli, *args], cwd=hub.course)
    return result.stdout + result.stderr


PROBE = """
import json, os, sys
results = {}
for name, action in json.loads(sys.argv[1]).items():
    kind, path = action
    try:
        if kind == "read":
            open(path, "rb").read(1)
        elif kind == "write":
            open(path, "a").write("x")
        elif kind == "list":
            os.listdir(path)
        elif kind == "rename":
            os.rename(path, path + ".moved")
        elif kind == "import":
            __import__(path)
        results[name] = "allowed"
    except Exception as error:
        results[name] = type(error).__name__
print(json.dumps(results))
"""


def _try_as(hub: Hub, user: str, actions: dict[str, tuple[str, str]]) -> dict[str, str]:
    """What ``user`` gets doing each action: "allowed" or the error's name."""
    python = str(hub.settings.venv / "bin" / "python")
    result = _as_user(user, [python, "-c", PROBE, json.dumps(actions)])
    return json.loads(result.stdout)


def _login(browser, hub: Hub, user: str):
    """A fresh context logged in as ``user`` at the hub's login page; return its page."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{hub.settings.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for()
    assert page.url.startswith(f"{hub.settings.url}/user/{user}/lab")
    return page


def _assert_refused(page, reply) -> None:
    """The hub refuses another user's server: 403 while it runs, 404 while it is stopped
    (the hub's own page, never the server's)."""
    assert reply.status in (403, 404), reply.status
    assert "/hub/" in page.url


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _remove_leftovers(prefix: Path, users: list[str]) -> None:
    """After a setup that failed before it saved its settings: take its parts away."""
    for name in users:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True, check=False)
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
    shutil.rmtree(prefix, ignore_errors=True)


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", autouse=True)
def busy_machine(tmp_path_factory: pytest.TempPathFactory):
    """Other kernels keep starting on every core while the hub serves the course."""
    with kernel_like_load(tmp_path_factory.mktemp("load"), per_core=1) as load:
        yield load
    assert all(load.rounds()), "the load did not run"


@pytest.fixture(scope="module")
def hub(busy_machine) -> Iterator[Hub]:
    """A deployment of this module's own: set up, started, removed (and checked gone)."""
    if os.geteuid() != 0:
        pytest.skip("the hub makes Unix accounts: run as root")
    require_chromium()
    tag = secrets.token_hex(3)
    instructor, honest, hostile = f"hp{tag}", f"ha{tag}", f"hb{tag}"
    prefix = Path(f"/opt/cnn-hub-test-{tag}")
    exchange = prefix / "exchange"
    start = time.perf_counter()
    setup = subprocess.run(
        [
            str(CNN_COURSE),
            "hub",
            "setup",
            f"--instructor={instructor}",
            f"--students={honest},{hostile}",
            f"--port={_free_ports()}",
            f"--exchange={exchange}",
            f"--prefix={prefix}",
        ],
        cwd=REPO,  # the README's course directory
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if setup.returncode != 0:
        _remove_leftovers(prefix, [instructor, honest, hostile])
        pytest.fail(f"cnn-course hub setup failed:\n{setup.stdout}\n{setup.stderr}")
    record_timing("hub: cnn-course hub setup", time.perf_counter() - start)
    settings = load(prefix)
    passwords = dict(
        line.split() for line in (settings.state / "passwords").read_text().split("\n") if line
    )
    process = None
    try:
        start = time.perf_counter()
        process = deploy.start(settings)
        assert wait_until_up(settings, process), (settings.state / "jupyterhub.log").read_text()
        record_timing("hub: start until the login page answers", time.perf_counter() - start)
        yield Hub(settings, passwords, honest, hostile)
    finally:
        start = time.perf_counter()
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
        record_timing("hub: stop", time.perf_counter() - start)
        start = time.perf_counter()
        with busy_machine.paused():  # the removal is teardown, not what runs under load
            removed = subprocess.run(
                [str(CNN_COURSE), "hub", "remove", f"--prefix={prefix}"],
                capture_output=True,
                text=True,
                check=False,
            )
        record_timing("hub: cnn-course hub remove", time.perf_counter() - start)
    assert removed.returncode == 0, removed.stderr
    for name in (instructor, honest, hostile):
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
        assert not Path(f"/home/{name}").exists()
    assert not prefix.exists()
    assert not settings.sudoers_file.exists()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(require_chromium()), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def source_notebook() -> nbformat.NotebookNode:
    return nbformat.read(REPO / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)


# ------------------------------------------------------------------------------ tests
def test_students_log_in_fetch_work_validate_submit(hub, browser, source_notebook) -> None:
    """Both students, with their passwords, through the assignment list of JupyterLab."""
    cycle = time.perf_counter()
    _instructor(hub, "build", ASSIGNMENT)
    released = _instructor(hub, "release", ASSIGNMENT)
    assert f"{ASSIGNMENT}: released" in released
    honest_cell = without_solution_markers(zero_pad_solution_cell(source_notebook).source)
    hostile_cell = HOSTILE_CELL.format(
        instructor=hub.settings.instructor,
        course=hub.course.name,
        honest=hub.honest,
        exchange=hub.settings.exchange,
    )
    for user, cell_text in ((hub.honest, honest_cell), (hub.hostile, hostile_cell)):
        start = time.perf_counter()
        page = _login(browser, hub, user)
        if user == hub.honest:
            record_timing("hub: first login until JupyterLab", time.perf_counter() - start)
        shots = Shots(page, f"hub-{'honest' if user == hub.honest else 'hostile'}-student")
        with shots.on_failure():
            _fetch_work_validate_submit(page, hub, user, cell_text, shots)
        page.context.close()
        inbound = hub.settings.exchange / hub.settings.course_id / "inbound"
        (submission,) = inbound.glob(f"{user}+{ASSIGNMENT}+*")
        hub.submissions[user] = submission
    record_timing(
        "hub: two students log in, fetch, work, validate, submit", time.perf_counter() - cycle
    )


def _fetch_work_validate_submit(page, hub: Hub, user: str, cell_text: str, shots) -> None:
    menu = open_nbgrader_menu(page)
    visible = menu.locator('li[data-command^="nbgrader:"]:visible')
    expect(visible).to_have_count(1)  # the assignment list, nothing of the instructor's
    menu.locator('li[data-command="nbgrader:open-assignment-list"]').click()
    released = assignment_rows(page, "released")
    expect(released).to_have_count(1)
    expect(released.first.locator(".item_name")).to_have_text(ASSIGNMENT)
    shots("released")
    released.first.locator(".item_status button", has_text="Fetch").click()
    fetched = assignment_rows(page, "fetched")
    expect(fetched).to_have_count(1)
    fetched.first.locator(".item_name a", has_text=ASSIGNMENT).click()
    fetched.first.locator(".nested_list_item .item_name a").click()
    panel = page.locator(".jp-NotebookPanel:visible")
    cell = panel.locator(".jp-CodeCell").filter(
        has=page.locator(".cm-content", has_text="def zero_pad(")
    )
    expect(cell).to_have_count(1)
    expect(panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_have_count(1)
    set_cell_source(page, cell, cell_text)
    page.keyboard.press("Control+s")
    home = Path(pwd.getpwnam(user).pw_dir)
    saved = home / ASSIGNMENT / NOTEBOOK
    deadline = time.monotonic() + 60
    while _solution_text(saved).strip() != cell_text.strip() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert _solution_text(saved).strip() == cell_text.strip(), "the notebook was not saved"
    panel.locator(".jp-Toolbar .validate-button").click()
    message = page.locator("#validation-message")
    message.wait_for(timeout=VALIDATE_TIMEOUT_MS)
    shots("validated")
    text = message.inner_text()
    if user == hub.hostile:
        assert "pad H and W only" in text, "validation should show the channel-padding failure"
    else:
        assert "pad H and W only" not in text, "validation failed the honest zero_pad"
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".lm-TabBar-tab", has_text="Assignments").click()
    fetched.first.locator(".item_status button", has_text="Submit").click()
    expect(assignment_rows(page, "submitted")).to_have_count(1)
    shots("submitted")


def _solution_text(path: Path) -> str:
    try:
        return zero_pad_solution_cell(nbformat.read(path, as_version=4)).source
    except (OSError, ValueError, AssertionError):  # JupyterLab is writing it right now
        return ""


def test_instructor_collects_grades_returns_feedback(hub, source_notebook) -> None:
    """collect, grade (kernels through sudo, confined), feedback: all as the instructor."""
    assert set(hub.submissions) == {hub.honest, hub.hostile}, "the students did not submit"
    start = time.perf_counter()
    collected = _instructor(hub, "collect", ASSIGNMENT)
    assert f"{ASSIGNMENT}: collected 2 student(s)" in collected
    graded = _instructor(hub, "grade", ASSIGNMENT)
    assert "autograded 2 of 2 submissions" in graded and "0 failed" in graded, graded
    returned = _instructor(hub, "feedback", ASSIGNMENT)
    assert "returned 2 feedback page(s) to 2 student(s)" in returned, returned
    record_timing("hub: collect, grade, return feedback", time.perf_counter() - start)

    rows = {r["student_id"]: r for r in read_grades_csv(hub.course / "grades.csv")}
    zero_pad_points = points(c for c in source_notebook.cells if is_zero_pad_test(c))
    honest, hostile = rows[hub.honest], rows[hub.hostile]
    assert float(honest["score"]) == pytest.approx(zero_pad_points)
    assert honest["status"] == "graded" and not honest["review"]
    # The hostile submission's own work loses the channel cases; its open() is flagged.
    assert "open()" in hostile["review"], hostile
    feedback = hub.course / "feedback" / hub.hostile / ASSIGNMENT / "filters.html"
    page_text = feedback.read_text()
    assert "channels padded too" in page_text
    assert "STOLEN" not in page_text and "SQLite format" not in page_text
    assert "refused" in page_text, "the hostile code did not run in the grading kernel"
    pwned = [
        hub.course / "pwned",
        Path(pwd.getpwnam(hub.honest).pw_dir) / "pwned",
        hub.settings.exchange / hub.settings.course_id / "pwned",
        hub.settings.exchange / hub.settings.course_id / "outbound" / "pwned",
    ]
    assert not [p for p in pwned if p.exists()]


def test_students_fetch_and_open_their_own_feedback(hub, browser) -> None:
    """Fetch Feedback, "view feedback" (the folder), the page in a tab of its own."""
    pages: dict[str, str] = {}
    for user in (hub.honest, hub.hostile):
        page = _login(browser, hub, user)
        shots = Shots(page, f"hub-feedback-{'honest' if user == hub.honest else 'hostile'}")
        with shots.on_failure():
            menu = open_nbgrader_menu(page)
            menu.locator('li[data-command="nbgrader:open-assignment-list"]').click()
            submitted = assignment_rows(page, "submitted")
            expect(submitted).to_have_count(1)
            submitted.locator("button", has_text="Fetch Feedback").click()
            page.locator("#submitted_assignments_list").get_by_text("view feedback").click()
            listing = page.locator(".jp-DirListing-item", has_text="filters.html")
            expect(listing).to_be_visible()
            shots("feedback-folder")
            home = Path(pwd.getpwnam(user).pw_dir)
            (fetched,) = (home / ASSIGNMENT / "feedback").glob("*/filters.html")
            path = fetched.relative_to(home).as_posix()
            pages[user] = f"{hub.settings.url}/user/{user}/files/{path}"
            reply = page.goto(pages[user])
            assert reply.status == 200
            body = page.locator("body").inner_text()
            assert "zero_pad" in body
            assert ("channels padded too" in body) is (user == hub.hostile)
            shots("feedback-page")
        page.context.close()
    # Each sees only their own: the classmate's page is on a server that is not theirs.
    page = _login(browser, hub, hub.hostile)
    _assert_refused(page, page.goto(pages[hub.honest]))
    assert "zero_pad" not in page.locator("body").inner_text()
    page.context.close()


def test_student_cannot_open_the_formgrader(hub, browser) -> None:
    page = _login(browser, hub, hub.honest)
    own = page.goto(f"{hub.settings.url}/user/{hub.honest}/formgrader")
    assert own.status == 404  # the extension is off for students
    instructors = page.goto(f"{hub.settings.url}/user/{hub.settings.instructor}/formgrader")
    _assert_refused(page, instructors)
    page.context.close()

    page = _login(browser, hub, hub.settings.instructor)
    reply = page.goto(f"{hub.settings.url}/user/{hub.settings.instructor}/formgrader")
    assert reply.status == 200
    row = page.locator("tr").filter(has=page.locator("td", has_text=ASSIGNMENT))
    expect(row.locator("td.num-submissions")).to_have_text("2")
    Shots(page, "hub-formgrader")("formgrader-in-its-own-tab")
    page.context.close()


def test_the_formgraders_autograde_grades_as_cnn_course_grade_does(
    hub, browser, source_notebook
) -> None:
    """The third door: the formgrader's Autograde, in the instructor's server (kernels
    through sudo): the same scores, and the hostile code reaches nothing."""
    page = _login(browser, hub, hub.settings.instructor)
    base = f"{hub.settings.url}/user/{hub.settings.instructor}"
    page.goto(f"{base}/formgrader")
    cookies = {c["name"]: c["value"] for c in page.context.cookies(base + "/")}
    for student in (hub.honest, hub.hostile):
        reply = page.request.post(
            f"{base}/formgrader/api/submission/{ASSIGNMENT}/{student}/autograde",
            headers={"X-XSRFToken": cookies["_xsrf"]},
            timeout=UI_TIMEOUT_MS,
        )
        assert reply.status == 200
        assert reply.json()["success"], reply.json().get("log", "")[-2000:]
    page.context.close()
    zero_pad_points = points(c for c in source_notebook.cells if is_zero_pad_test(c))
    with Gradebook(f"sqlite:///{hub.course / 'gradebook.db'}") as gradebook:
        honest = gradebook.find_submission(ASSIGNMENT, hub.honest).score
    assert honest == pytest.approx(zero_pad_points)
    assert not (hub.course / "pwned").exists()


def test_student_cannot_read_gradebook_source_or_reference(hub) -> None:
    course = hub.course
    actions = {
        "gradebook": ("read", str(course / "gradebook.db")),
        "source": ("list", str(course / "source")),
        "source notebook": ("read", str(course / "source" / ASSIGNMENT / NOTEBOOK)),
        "course folder": ("list", str(course)),
        "reference": ("import", "cnn_solutions"),
        "grader code": ("import", "cnn_course"),
        "instructor's home": ("list", str(Path(pwd.getpwnam(hub.settings.instructor).pw_dir))),
    }
    for student in (hub.honest, hub.hostile):
        assert _try_as(hub, student, actions) == {name: "PermissionError" for name in actions}
    # The instructor can: the denials above are the modes, not a broken course.
    allowed = _try_as(hub, hub.settings.instructor, actions)
    assert allowed["gradebook"] == allowed["reference"] == "allowed"


def test_student_cannot_read_or_overwrite_a_classmates_submission(hub) -> None:
    honest = hub.submissions[hub.honest]
    notebook = honest / NOTEBOOK
    before = {p.name: _digest(p) for p in honest.iterdir()}
    honest_home = Path(pwd.getpwnam(hub.honest).pw_dir)
    actions = {
        "list inbound": ("list", str(honest.parent)),
        "read notebook": ("read", str(notebook)),
        "overwrite notebook": ("write", str(notebook)),
        "add a file": ("write", str(honest / "extra.py")),
        "read secret": ("read", str(honest / "submission_secret.txt")),
        "move it away": ("rename", str(honest)),
        "classmate's home": ("list", str(honest_home)),
        "classmate's fetched copy": ("read", str(honest_home / ASSIGNMENT / NOTEBOOK)),
    }
    denied = _try_as(hub, hub.hostile, actions)
    assert denied == {name: "PermissionError" for name in actions}
    assert {p.name: _digest(p) for p in honest.iterdir()} == before
    # The feedback folder cannot be listed, and its page names come from the secret above.
    feedback = hub.settings.exchange / hub.settings.course_id / "feedback"
    assert _try_as(hub, hub.hostile, {"feedback": ("list", str(feedback))}) == {
        "feedback": "PermissionError"
    }
    rows = {r["student_id"]: r for r in read_grades_csv(hub.course / "grades.csv")}
    assert rows[hub.honest]["status"] == "graded" and not rows[hub.honest]["review"]


def test_forged_and_linked_submissions_are_not_collected(hub) -> None:
    """A student may make entries in inbound: none counts as a classmate's work or
    makes the instructor's collect read what the student could not."""
    inbound = hub.settings.exchange / hub.settings.course_id / "inbound"
    later = "2030-01-01 10:00:00.000000 UTC"
    forged = inbound / f"{hub.honest}+{ASSIGNMENT}+{later}+forged"
    linked = inbound / f"{hub.hostile}+{ASSIGNMENT}+{later}+linked"
    script = f"""
import os, shutil
os.mkdir({str(forged)!r})
shutil.copy({str(hub.submissions[hub.hostile] / NOTEBOOK)!r}, {str(forged / NOTEBOOK)!r})
os.mkdir({str(linked)!r})
os.symlink({str(hub.course / "gradebook.db")!r}, {str(linked / NOTEBOOK)!r})
os.symlink({str(hub.course / "gradebook.db")!r}, {str(inbound / "not+a+submission")!r})
"""
    python = str(hub.settings.venv / "bin" / "python")
    _as_user(hub.hostile, [python, "-c", script])
    honest_work = hub.course / "submitted" / hub.honest / ASSIGNMENT / NOTEBOOK
    before = _digest(honest_work)

    collected = _instructor(hub, "collect", "--update", ASSIGNMENT)
    assert f"not a student's own submission: {forged.name}" in collected, collected
    assert _digest(honest_work) == before, "a classmate's forged folder replaced the work"
    hostile_work = hub.course / "submitted" / hub.hostile / ASSIGNMENT
    assert not [p for p in hostile_work.rglob("*") if p.is_symlink()]
    assert not [p for p in hostile_work.rglob("*") if b"SQLite format" in p.read_bytes()[:32]]
