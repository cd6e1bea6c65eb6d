"""End to end in a real browser: a student works in JupyterLab, an instructor grades.

Headless Debian Chromium, driven by Playwright, against JupyterLab servers started by
``cnn_course.commands.lab`` on 127.0.0.1. Each assignment comes from the repository's
``source/`` when it exists, else from a toy notebook (see ``browser_helpers``).
Screenshots of each step go to ``test-artifacts/browser/<test>/``, wall times to
``test-artifacts/browser/timings.json``.

``BROWSER_TESTS_TOY=1`` uses the toy notebooks even when ``source/`` has the real ones;
``UPDATE_DOC_SCREENSHOTS=1`` also copies the key screenshots to ``docs/screenshots/``.
Without Chromium the browser tests skip, except under ``CI=true``, where they fail. The
module runs while one process per core keeps importing SciPy and matplotlib
(``load_helpers``), as kernels starting next door do.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser_helpers import (
    CHROMIUM_ARGS,
    CONV1X1,
    FILTERS,
    UI_TIMEOUT_MS,
    Shots,
    assignment_rows,
    build_course,
    clean_env,
    default_source_root,
    editor_text,
    is_test_cell,
    is_zero_pad_test,
    manual_answer_cell,
    nbgrader,
    nbgrader_meta,
    open_lab,
    open_nbgrader_menu,
    points,
    read_grades_csv,
    record_timing,
    require_chromium,
    set_cell_source,
    without_solution_markers,
    zero_pad_solution_cell,
)
from jupyter_client import BlockingKernelClient
from load_helpers import kernel_like_load
from nbgrader.api import Gradebook
from playwright.sync_api import expect, sync_playwright

from cnn_course.commands import lab

STUDENT = "alice"
GRADED_STUDENT = "bob"
VALIDATE_TIMEOUT_MS = 180_000  # validation runs the whole notebook in a fresh kernel


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", autouse=True)
def busy_machine(tmp_path_factory: pytest.TempPathFactory):
    """Every browser test runs while other kernels keep starting on every core: a test
    that passes only on an idle machine fails in someone's CI (it did here)."""
    with kernel_like_load(tmp_path_factory.mktemp("load"), per_core=1) as load:
        yield load
    assert all(load.rounds()), "the load did not run"


@pytest.fixture(autouse=True)
def _wall_time(request: pytest.FixtureRequest):
    """Time each test with its own servers and browser context (setup and teardown too)."""
    start = time.perf_counter()
    yield
    record_timing(request.node.name, time.perf_counter() - start)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A course with 01_filters and 03_conv1x1 generated, and a clean Jupyter env."""
    start = time.perf_counter()
    tmp = tmp_path_factory.mktemp("lab")
    env = clean_env(tmp)
    root = build_course(tmp / "course", [FILTERS[0], CONV1X1[0]], default_source_root())
    for assignment in (FILTERS[0], CONV1X1[0]):
        nbgrader(root, env, "generate_assignment", assignment)
    record_timing("module setup: course with 2 generated assignments", time.perf_counter() - start)
    return root, env


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; each test gets a fresh context."""
    chromium = require_chromium()
    with sync_playwright() as playwright:
        start = time.perf_counter()
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        record_timing("module setup: chromium launch", time.perf_counter() - start)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def student_server(course):
    root, env = course
    spec = lab.student_lab(lab.read_course(root), STUDENT, env=env)
    with lab.RunningLab(spec):
        yield spec


@pytest.fixture
def instructor_server(course):
    root, env = course
    lab.quiet_lab_settings(Path(env["JUPYTER_CONFIG_DIR"]))
    spec = lab.instructor_lab(lab.read_course(root), env=env)
    with lab.RunningLab(spec):
        yield spec


# ----------------------------------------------------------------------------- helpers
def api(base_url: str, token: str, path: str, method: str = "GET", body: dict | None = None):
    """Call a server's REST API; return (status, parsed JSON or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path,
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, None


def assert_reference_blocked(connection_file: Path) -> None:
    """In the kernel behind ``connection_file``: numpy imports, the reference code not."""
    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    # A client without a KernelManager calls the kernel dead once one heartbeat goes
    # unanswered for time_to_dead (1 s): a kernel still importing on a busy machine (CI
    # failed so, stop 23). The kernel is then alive; give the heartbeat a busy machine's time.
    client.hb_channel.time_to_dead = 20.0
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        for module in lab.BLOCKED_MODULES:
            reply = client.execute_interactive(f"import {module}", timeout=60, output_hook=id)
            assert reply["content"]["status"] == "error", f"{module} importable by the student"
            assert reply["content"]["ename"] == "ModuleNotFoundError"
        reply = client.execute_interactive("import numpy", timeout=60, output_hook=id)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()


def kernel_connection_file(home: Path, kernel_id: str) -> Path:
    """Where a student lab (home ``home``) keeps a kernel's connection file."""
    return home / ".local" / "share" / "jupyter" / "runtime" / f"kernel-{kernel_id}.json"


def submission_score(course: Path, assignment: str, student: str) -> float:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return gradebook.find_submission(assignment, student).score


# ------------------------------------------------------------------------------- tests
def test_lab_command_serves_student_until_sigterm(course, tmp_path: Path) -> None:
    """``cnn-course lab --student`` prints a working URL, hides instructor tools, and
    stops its server on SIGTERM."""
    root, env = course
    home = tmp_path / "carol"
    cnn_course = Path(sys.executable).with_name("cnn-course")
    cmd = [str(cnn_course), "--course", str(root), "lab", "--student", "carol"]
    cmd += ["--home", str(home)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    try:
        printed: list[str] = []
        url = _read_url(proc, timeout=120, seen=printed)
        # Nothing is released in this course: the student is told why the panel is empty.
        assert any("Nothing is released in course" in line for line in printed), printed
        base_url, token = url.split("/lab?token=")
        port = int(base_url.rsplit(":", 1)[1])
        assert api(base_url, token, "/api/status")[0] == 200
        assert api(base_url, token, "/formgrader")[0] == 404, "formgrader served to a student"
        _, specs = api(base_url, token, "/api/kernelspecs")
        assert specs["kernelspecs"]["python3"]["spec"]["display_name"] == "Python 3 (student)"
        status, kernel = api(base_url, token, "/api/kernels", "POST", {"name": "python3"})
        assert status == 201
        assert_reference_blocked(kernel_connection_file(home, kernel["id"]))
        # The same import works outside the student's kernel, so the check means something.
        subprocess.run([sys.executable, "-c", "import cnn_solutions"], check=True, env=env)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:  # the test failed early: let the command stop its server
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def _read_url(proc: subprocess.Popen, timeout: float, seen: list[str] | None = None) -> str:
    """The ``Open: URL`` line the lab command prints, within ``timeout`` seconds; the
    lines before it go to ``seen``."""
    lines: queue.Queue[str] = queue.Queue()
    # A thread, because select() cannot see lines already in the pipe reader's buffer.
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + timeout
    seen = [] if seen is None else seen
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        seen.append(line)
        if line.startswith("Open: "):
            return line.split("Open: ", 1)[1].strip()
    raise AssertionError(f"no URL printed; output so far: {''.join(seen)!r}")


def test_student_fetch_validate_submit_autograde(course, student_server, page) -> None:
    """Release, then in the browser fetch, solve zero_pad, validate, submit; autograde."""
    root, env = course
    spec = student_server
    shots = Shots(page, "student")
    assignment, notebook = FILTERS
    with shots.on_failure():
        source_nb = nbformat.read(root / "source" / assignment / notebook, as_version=4)
        solution = without_solution_markers(zero_pad_solution_cell(source_nb).source)
        zero_pad_points = points(c for c in source_nb.cells if is_zero_pad_test(c))
        assert zero_pad_points > 0, "no zero_pad test cells found"
        nbgrader(root, env, "release_assignment", assignment, "--force")

        open_lab(page, spec)
        menu = open_nbgrader_menu(page)
        expect(menu.locator('li[data-command="nbgrader:open-formgrader"]:visible')).to_have_count(0)
        shots("student-lab-nbgrader-menu")
        menu.locator('li[data-command="nbgrader:open-assignment-list"]').click()

        released = assignment_rows(page, "released")
        expect(released).to_have_count(1)
        expect(released.first.locator(".item_name")).to_have_text(assignment)
        shots("assignments-released")
        released.first.locator(".item_status button", has_text="Fetch").click()
        fetched = assignment_rows(page, "fetched")
        expect(fetched).to_have_count(1)
        fetched_path = spec.cwd / assignment / notebook
        assert fetched_path.is_file(), "fetch did not put the notebook in the student's home"
        released_nb = nbformat.read(fetched_path, as_version=4)

        fetched.first.locator(".item_name a", has_text=assignment).click()
        notebook_link = fetched.first.locator(".nested_list_item .item_name a")
        expect(notebook_link).to_have_text(Path(notebook).stem)
        shots("assignment-fetched", doc="student-assignment-list")
        notebook_link.click()

        panel = page.locator(".jp-NotebookPanel:visible")
        cell = panel.locator(".jp-CodeCell").filter(
            has=page.locator(".cm-content", has_text="def zero_pad(")
        )
        expect(cell).to_have_count(1)
        expect(panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_have_count(
            1
        )
        set_cell_source(page, cell, solution)
        assert editor_text(cell) == solution
        page.keyboard.press("Control+s")
        _wait_saved(fetched_path, solution)
        shots("zero-pad-typed-and-saved", doc="student-notebook")
        _run_all_goes_past_failures(page, panel, fetched_path, shots)

        panel.locator(".jp-Toolbar .validate-button").click()
        message = page.locator("#validation-message")
        message.wait_for(timeout=VALIDATE_TIMEOUT_MS)
        shots("validate-dialog", doc="student-validate")
        _check_validation(message, released_nb)
        page.locator(".jp-Dialog .jp-mod-accept").click()

        _check_student_kernel(spec, f"{assignment}/{notebook}")

        page.locator(".lm-TabBar-tab", has_text="Assignments").click()
        fetched.first.locator(".item_status button", has_text="Submit").click()
        expect(assignment_rows(page, "submitted")).to_have_count(1)
        shots("submitted")

        nbgrader(root, env, "collect", assignment)
        nbgrader(root, env, "autograde", assignment, "--create")
        score = submission_score(root, assignment, STUDENT)
        assert score == pytest.approx(zero_pad_points), "autograde score != zero_pad points"

        nbgrader(root, env, "generate_feedback", assignment)
        nbgrader(root, env, "release_feedback", assignment)
        page.locator("#refresh_assignments_list").click()
        submitted = assignment_rows(page, "submitted")
        submitted.locator("button", has_text="Fetch Feedback").click()
        feedback = spec.cwd / assignment / "feedback"
        _wait_for(lambda: list(feedback.glob(f"*/{Path(notebook).stem}.html")), "feedback file")
        view_feedback = page.locator("#submitted_assignments_list").get_by_text("view feedback")
        expect(view_feedback).to_be_visible()
        shots("feedback-fetched", doc="student-feedback")


def _run_all_goes_past_failures(page, panel, path: Path, shots: Shots) -> None:
    """Run All: the zero_pad tests print their ✓ line, the unwritten functions' tests fail,
    and the run still reaches the last cell (the cells carry ``raises-exception``)."""
    code_cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # A fresh kernel numbers its runs 1, 2, ...: the last cell's number counts them all.
    last = panel.locator(".jp-CodeCell .jp-InputArea-prompt").last
    expect(last).to_have_text(f"[{len(code_cells)}]:", timeout=VALIDATE_TIMEOUT_MS)
    # For the screenshot: the first zero_pad test at the top, its ✓ and the next tests below.
    first_test = panel.locator(".jp-CodeCell").filter(has_text="✓ zero_pad: a 2x2 image").first
    first_test.evaluate("cell => cell.scrollIntoView({block: 'start'})")
    expect(first_test.locator(".jp-OutputArea-output")).to_be_visible()
    shots("run-all-past-failures", doc="student-run-all")
    page.keyboard.press("Control+s")  # read the outputs from the file, not the (windowed) page

    def outputs() -> list | None:
        try:
            cells = nbformat.read(path, as_version=4).cells
        except (OSError, ValueError):
            return None
        cells = [c for c in cells if c.cell_type == "code"]
        return cells if all(c.execution_count for c in cells) else None

    _wait_for(outputs, "notebook saved with every cell run")
    cells = outputs()
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1))
    printed = {
        c.metadata.nbgrader.grade_id: "".join(o.get("text", "") for o in c.outputs)
        for c in cells
        if is_test_cell(c)
    }
    passed = {g for g, text in printed.items() if text.startswith("✓ ")}
    assert passed == {g for g in printed if g.startswith("zero_pad_")}, passed
    errors = [o.ename for c in cells for o in c.outputs if o.output_type == "error"]
    assert "NotImplementedError" in errors and len(errors) >= len(printed) - len(passed)


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    """Poll ``condition()`` until it is truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"no {what} after {timeout:.0f} s")


def _wait_saved(path: Path, solution: str) -> None:
    """Wait until the notebook on disk holds the typed solution."""

    def saved() -> bool:
        try:
            notebook = nbformat.read(path, as_version=4)
        except (OSError, ValueError):  # JupyterLab is writing it right now (empty, partial)
            return False
        return zero_pad_solution_cell(notebook).source == solution

    _wait_for(saved, "saved zero_pad solution in the notebook file")


def _check_validation(message, released_nb) -> None:
    """The dialog lists exactly the non-zero_pad test cells as failed."""
    expect(message).to_have_class(re.compile(r"\bvalidation-failed\b"))
    rendered = message.locator(":scope > .jp-RenderedText")
    count = rendered.count()
    assert count % 2 == 0, "each failed cell shows its source and its error"
    failed = {rendered.nth(i).inner_text().strip() for i in range(0, count, 2)}
    tests = [c for c in released_nb.cells if is_test_cell(c)]
    zero_pad = {c.source.strip() for c in tests if is_zero_pad_test(c)}
    others = {c.source.strip() for c in tests if not is_zero_pad_test(c)}
    assert not failed & zero_pad, "a zero_pad test failed in validation"
    assert failed == others, "validation should fail exactly the tests of unwritten functions"


def _check_student_kernel(spec: lab.LabSpec, notebook_path: str) -> None:
    """The notebook's kernel is the student kernel and cannot import the reference code."""
    status, sessions = api(spec.base_url, spec.token, "/api/sessions")
    assert status == 200
    (session,) = [s for s in sessions if s["path"] == notebook_path]
    assert session["kernel"]["name"] == "python3"
    assert_reference_blocked(kernel_connection_file(spec.cwd, session["kernel"]["id"]))


def test_instructor_grades_written_answer(course, instructor_server, page) -> None:
    """Formgrader lists the submission; a manual score shows up in ``nbgrader export``."""
    root, env = course
    spec = instructor_server
    shots = Shots(page, "instructor")
    assignment, notebook = CONV1X1
    with shots.on_failure():
        grade_id, max_points = _submit_written_answer(root, assignment, notebook)
        nbgrader(root, env, "autograde", assignment, "--create")
        auto_score = submission_score(root, assignment, GRADED_STUDENT)

        open_lab(page, spec)
        menu = open_nbgrader_menu(page)
        menu.locator('li[data-command="nbgrader:open-formgrader"]').click()
        frame = page.frame_locator("#jp-main-dock-panel iframe")
        row = frame.locator("tr").filter(has=frame.locator("td", has_text=assignment))
        expect(row.locator("td.num-submissions")).to_have_text("1")
        shots("formgrader-assignments", doc="instructor-formgrader")

        frame.get_by_role("link", name="Manual Grading").click()
        frame.get_by_role("link", name=assignment, exact=True).click()
        frame.get_by_role("link", name=Path(notebook).stem, exact=True).click()
        shots("formgrader-submissions")
        frame.get_by_role("link", name="Submission #1").click()
        score = frame.locator(f'input.score[id="{grade_id}"]')
        _wait_for_formgrader(page, score)
        score.scroll_into_view_if_needed()
        with page.expect_response(
            lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT"
        ) as saved:
            score.fill(f"{max_points:g}")
            score.press("Tab")
        assert saved.value.ok
        shots("written-answer-graded", doc="instructor-manual-grading")

        nbgrader(root, env, "export")
        rows = [
            r
            for r in read_grades_csv(root / "grades.csv")
            if r["assignment"] == assignment and r["student_id"] == GRADED_STUDENT
        ]
        assert len(rows) == 1
        assert float(rows[0]["score"]) == pytest.approx(auto_score + max_points)


# The formgrader binds a score input to its grade (and saves it on "change") only when the
# page's fetch of the submission's grades has come back, after the "load" event. A score
# typed before then is never saved (no PUT): on a busy machine that was the whole
# difference between passing and failing. So wait for exactly that. (Its init() stops
# short here, at MathJax, which the page loads from a CDN this machine cannot reach; the
# grades and comments are bound before that point.)
FORMGRADER_READY = """() => {
    const fg = window.formgrader;
    return !!(fg && fg.grades && fg.grades.loaded && fg.comments && fg.comments.loaded
              && fg.grade_uis.length > 0);
}"""


FORMGRADER_STATE = """() => {
    const fg = window.formgrader;
    return {url: location.href, formgrader: !!fg, loaded: fg && fg.loaded,
            grades: fg && fg.grades && fg.grades.loaded,
            comments: fg && fg.comments && fg.comments.loaded,
            mathjax: typeof MathJax === "undefined" ? "none" : MathJax.loaded};
}"""


def _wait_for_formgrader(page, score) -> None:
    """Until the formgrader's submission page in the lab's iframe is ready for scores."""
    score.wait_for(timeout=120_000)  # the submission page is there (Playwright waits)
    frame = page.locator("#jp-main-dock-panel iframe").element_handle().content_frame()
    try:
        frame.wait_for_function(FORMGRADER_READY, timeout=60_000)
    except Exception:
        state = frame.evaluate(FORMGRADER_STATE)
        raise AssertionError(f"the formgrader never got ready for scores: {state}") from None


def _submit_written_answer(root: Path, assignment: str, notebook: str) -> tuple[str, float]:
    """Put a submission with a written answer in ``submitted/``; return its grade_id, points."""
    released = root / "release" / assignment
    target = root / "submitted" / GRADED_STUDENT / assignment
    shutil.copytree(released, target)
    nb = nbformat.read(target / notebook, as_version=4)
    answer = manual_answer_cell(nb)
    answer.source = "It mixes channels at every pixel and cheaply reduces their number."
    nbformat.write(nb, target / notebook)
    meta = nbgrader_meta(answer)
    return meta["grade_id"], float(meta["points"])
