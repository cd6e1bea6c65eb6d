"""Attacks on the judge, each through the real grading pipeline: no unearned point.

The judge (commit 1e95a49) lives in the grader's process: ``InjectCases`` sends each
hidden check this submission's inputs, the kernel's ``cnn_probe`` sends back plain data,
``JudgeResults`` judges it with the reference and replaces the test cell's outputs. These
tests attack that design from the student's side, the way test_cheating.py attacked the
old in-kernel guard, without relying on the static scan (``cnn_course.integrity``).

One class is built once: honest students (the instructor's solutions, two other coding
styles, a typical mistake, a blank notebook) and one student per attack, on a slice of
01_filters (zero_pad, correlate2d, conv2d and the Laplacian answer) and on the quiz.
Every attacker is honest stub work (the release notebook with its ``raise
NotImplementedError`` stubs, or the typical mistake) plus one trick; the stub alone is
graded too, as its own student. The class is graded once with ``cnn-course grade --jobs 2``
(the course's config: the "cnn-grader" sandbox kernel, a 10 s cell timeout), and a smaller
copy with plain serial ``nbgrader autograde`` (the course's config again: what the
formgrader's Autograde button runs), which also grades answers harvested from the first
grading, resubmitted by the same student under the same course secret.

For every attacker: each cell scores at most what the stub scores; every honest
classmate gets the exact grades the engine gives their code in this process; the
course's files (source/, release/, submitted/, the gradebook's instructor tables, the
repository's reference and probe) are byte for byte as before; nothing the kernel did
leaked (``LEAK``/``WROTE`` lines the attack code prints) or outlived it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from attack_helpers import (
    ASSERTION_PATCH,
    AST_EMPTY,
    AST_SWALLOW,
    BIG_FILE,
    CHDIR,
    CTYPES,
    FAKE_LINES,
    FILTERS,
    FORK_BOMB,
    HARVEST,
    HARVEST_PRINT,
    INPUT_BLANK,
    IPYTHON_HIDE,
    LIARS,
    NAMES,
    NOTEBOOK,
    NUMPY_PATCH,
    QUIZ,
    READ_LINKS,
    REPORT_SUCCESS,
    RUN_CELL,
    SHADOW_IMPORT,
    SMALL_FILES,
    STACK_PEEK,
    builtins_import_probe,
    copied_results,
    cpu_loop,
    expected_cells,
    fake_probe_hook,
    file_digest,
    forged_grade_cell,
    grade_id,
    harvested,
    killer,
    lookup_code,
    marked_processes,
    meta_path_probe,
    points,
    reference_reader,
    replace_check,
    shadow_files,
    slice_source,
    solutions_of,
    sqlite_grades,
    submitted_links,
    submitted_timestamps,
    symlink_attack,
    sys_modules_probe,
    thread_emitter,
    timestamp_attack,
    tree_digest,
    with_cell,
    with_edited_tests,
    write_up_attack,
)

from cnn_course.classroom import correct_work, fill_notebook, mistake_work, mistakes
from cnn_course.classroom.quiz import quiz_submission, set_variant_cell
from cnn_course.course import REPO_ROOT, CourseDir, outputs_text
from cnn_course.grading.core import compare
from cnn_course.grading.judging import SECRET_NAME
from cnn_course.grading.quiz import expected_answers
from cnn_course.sandbox import Limits

pytestmark = pytest.mark.attacks

IS_ROOT = os.geteuid() == 0
ROOT_ONLY = pytest.mark.skipif(
    not IS_ROOT, reason="the sandbox confines kernels (own uid, namespaces) only as root"
)
VENV_BIN = Path(sys.executable).parent
CELL_TIMEOUT = 10
# Test only: a short cell timeout, so that the students who loop cost seconds, not minutes.
TEST_CONFIG = f"\n# tests/test_attacks.py\nc.Execute.timeout = {CELL_TIMEOUT}\n"
SUBMITTED_AT = dt.datetime(2026, 1, 15, 10, 0, 0, tzinfo=dt.UTC)
NO_PAD = next(m for m in mistakes(FILTERS) if m.label == "never pads")
HONEST = ("honest", "style-loops", "style-vectorised", "mistake-no-pad", "blank")
# The first student graded: its detached process is alive while the others are graded.
KILLER = "aaa-killer"
WRITE_VICTIM = "honest"


@dataclass
class Attacker:
    """One cheating student: the stub it starts from (a classmate's id) and its notebook."""

    base: str
    notebook: nbformat.NotebookNode
    files: dict[str, str] = field(default_factory=dict)
    links: dict[str, Path] = field(default_factory=dict)


def _quiz_ids() -> tuple[str, list[str]]:
    """A victim and three students whose every quiz answer differs from the victim's."""

    def all_differ(a: str, b: str) -> bool:
        x, y = expected_answers(a), expected_answers(b)
        return all(compare(x[k], y[k]) is not None for k in x)

    for victim in ("amy", "ann", "ava", "abe", "ali"):
        others = [
            s
            for s in ("mallory", "mia", "max", "moe", "mel", "mo", "mick", "meg")
            if all_differ(victim, s)
        ]
        if len(others) >= 3:
            return victim, others[:3]
    raise AssertionError("no ids whose quiz answers all differ")


VICTIM, (COPIER, VARIANT_TYPED, VARIANT_COMPUTED) = _quiz_ids()
QUIZ_HONEST = (VICTIM, "bea")
QUIZ_CHEATERS = (COPIER, VARIANT_TYPED, VARIANT_COMPUTED)
# Students of the smaller copy graded by plain `nbgrader autograde`.
PLAIN_FILTERS = (
    "honest",
    "mistake-no-pad",
    "blank",
    "input-blank",
    "ipython-hide",
    "fake-probe-instead",
    "harvest",
)
PLAIN_QUIZ = (VICTIM, COPIER, VARIANT_TYPED)


def attackers(
    course: Path, release: nbformat.NotebookNode, solutions: dict[str, str]
) -> dict[str, Attacker]:
    """Every attacker's submission (the course path is the attacker's best guess)."""
    blank = release
    no_pad = fill_notebook(
        release, {**solutions, "conv2d": mistake_work(FILTERS, NO_PAD).code["conv2d"]}
    )
    forged = copied_results()

    def add(source: str, base_nb: nbformat.NotebookNode = blank, after: str = "imports"):
        return with_cell(base_nb, after, source)

    def fill(**cells: str) -> nbformat.NotebookNode:
        return fill_notebook(blank, cells)

    stub = "correlate2d = _stub\n", "conv2d = _stub\n"
    forged_cell = copy_with(blank, forged_grade_cell())
    return {
        # 1. numpy, builtins, IPython
        "numpy-patch": Attacker("mistake-no-pad", add(NUMPY_PATCH, no_pad)),
        "assertion-patch": Attacker("blank", add(ASSERTION_PATCH)),
        "ipython-hide": Attacker("blank", add(IPYTHON_HIDE)),
        "input-blank": Attacker("blank", add(INPUT_BLANK)),
        "ast-swallow": Attacker("blank", add(AST_SWALLOW)),
        "ast-empty": Attacker("blank", add(AST_EMPTY)),
        "run-cell": Attacker("blank", add(RUN_CELL)),
        "report-success": Attacker("blank", add(REPORT_SUCCESS)),
        "edit-tests": Attacker("mistake-no-pad", with_edited_tests(no_pad)),
        "lying-results": Attacker("blank", fill(zero_pad=LIARS)),
        "stack-peek": Attacker("blank", fill(zero_pad=STACK_PEEK)),
        # 2. outputs in the test cells
        "fake-lines": Attacker("blank", add(FAKE_LINES)),
        "fake-probe-before": Attacker("blank", add(fake_probe_hook(forged, instead=False))),
        "fake-probe-instead": Attacker("blank", add(fake_probe_hook(forged, instead=True))),
        "thread-emitter": Attacker("blank", add(thread_emitter(forged))),
        "forged-grade-cell": Attacker("blank", forged_cell),
        # 3. a fake cnn_probe
        "sys-modules-probe": Attacker("blank", add(sys_modules_probe(forged))),
        "meta-path-probe": Attacker("blank", add(meta_path_probe(forged))),
        "builtins-import-probe": Attacker("blank", add(builtins_import_probe(forged))),
        "replace-check": Attacker("blank", add(replace_check(forged))),
        "shadow-module": Attacker(
            "blank", add(SHADOW_IMPORT), {"cnn_probe.py": shadow_files(forged)["cnn_probe.py"]}
        ),
        "shadow-package": Attacker(
            "blank",
            add(SHADOW_IMPORT),
            {"cnn_probe/__init__.py": shadow_files(forged)["cnn_probe/__init__.py"]},
        ),
        # 4. the reference, the course's files, ctypes
        "reference": Attacker(
            "blank",
            fill(
                zero_pad=reference_reader(course),
                correlate2d=stub[0],
                conv2d=stub[1].replace("_stub", '_found.get("conv2d", _stub)'),
            ),
        ),
        "ctypes": Attacker("blank", add(CTYPES)),
        # 5. answers harvested now, resubmitted to the plain copy as a lookup table
        "harvest": Attacker(
            "blank",
            with_cell(
                fill(
                    zero_pad=HARVEST,
                    correlate2d='correlate2d = _record("correlate2d")\n',
                    conv2d='conv2d = _record("conv2d")\n',
                ),
                None,
                HARVEST_PRINT,
            ),
        ),
        # 6. processes
        KILLER: Attacker("blank", add(killer())),
        "fork-bomb": Attacker("blank", add(FORK_BOMB)),
        # 7. files
        "symlinks": Attacker("blank", with_cell(blank, None, symlink_attack(course, "symlinks"))),
        "submitted-symlinks": Attacker(
            "blank", fill(conv2d=READ_LINKS), links=submitted_links(course)
        ),
        "timestamp": Attacker("blank", add(timestamp_attack(course, "timestamp"))),
        "small-files": Attacker("blank", add(SMALL_FILES)),
        "big-file": Attacker("blank", add(BIG_FILE)),
        "write-up": Attacker("blank", add(write_up_attack(course, WRITE_VICTIM))),
        # 8. the time limit
        "cpu-loop": Attacker("blank", fill(zero_pad=cpu_loop(ignore_sigint=False))),
        "cpu-loop-nosigint": Attacker("blank", fill(zero_pad=cpu_loop(ignore_sigint=True))),
    }


def copy_with(nb: nbformat.NotebookNode, cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    changed = nbformat.from_dict(nb)
    changed = nbformat.reads(nbformat.writes(changed), as_version=4)
    ids = [grade_id(c) for c in changed.cells]
    changed.cells.insert(ids.index("zero_pad_basic"), cell)
    return changed


# --- the graded class ----------------------------------------------------------------------


def run_tool(args: list[str], cwd: Path, timeout: float = 1500) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(VENV_BIN / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Graded:
    course: CourseDir
    steps: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    seconds: float = 0.0

    def cells(self, student: str, assignment: str = FILTERS) -> dict[str, float]:
        """Per-cell auto scores from the gradebook; {} if the student was not graded."""
        grades = sqlite_grades(self.course.root / "gradebook.db")
        return {c: s for (st, a, c), s in grades.items() if st == student and a == assignment}

    def outputs(self, student: str, assignment: str = FILTERS) -> str:
        path = self.course.root / "autograded" / student / assignment
        notebook = path / ("quiz.ipynb" if assignment == QUIZ else NOTEBOOK)
        if not notebook.is_file():
            return ""
        nb = nbformat.read(notebook, as_version=4)
        return "\n".join(outputs_text(c) for c in nb.cells if c.cell_type == "code")


@dataclass
class Classes:
    sandbox: Graded
    plain: Graded
    expected: dict[str, dict[str, float]]
    quiz_points: dict[str, float]
    roster: dict[str, Attacker]
    before: dict[str, object]
    after: dict[str, object]
    lookup: str


INSTRUCTOR_TABLES = (
    "assignment",
    "notebook",
    "base_cell",
    "grade_cell",
    "solution_cell",
    "task_cell",
    "source_cell",
    "course",
)


def instructor_rows(db: Path) -> dict[str, list]:
    """The gradebook's instructor tables (what generate_assignment wrote), row by row."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        return {
            t: sorted(map(repr, conn.execute(f"select * from {t}").fetchall()))  # noqa: S608
            for t in INSTRUCTOR_TABLES
            if t in names
        }


def snapshot(course: Path) -> dict[str, object]:
    """Digests of everything grading must leave as it was."""
    return {
        "source": tree_digest(course / "source"),
        "release": tree_digest(course / "release"),
        "submitted": tree_digest(course / "submitted"),
        "config": file_digest(course / "nbgrader_config.py"),
        "gradebook": instructor_rows(course / "gradebook.db"),
        "repo cnn_solutions": tree_digest(REPO_ROOT / "cnn_solutions"),
        "repo cnn_probe": tree_digest(REPO_ROOT / "cnn_probe"),
        "repo source": tree_digest(REPO_ROOT / "source"),
        "repo release": tree_digest(REPO_ROOT / "release"),
        "repo gradebook": file_digest(REPO_ROOT / "gradebook.db"),
        "repo pwned": sorted(
            str(p)
            for d in (".", "cnn_probe", "cnn_solutions")
            for p in REPO_ROOT.glob(f"{d}/pwned*")
        ),
        "course pwned": sorted(str(p) for p in course.glob("**/pwned*")),
    }


def _without_pycache(digest: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in digest.items() if "__pycache__" not in k}


def _comparable(snap: dict[str, object]) -> dict[str, object]:
    return {
        k: _without_pycache(v) if isinstance(v, dict) and "repo" in k else v
        for k, v in snap.items()
    }


def _difference(a: object, b: object) -> object:
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: (a.get(k), b.get(k)) for k in {*a, *b} if a.get(k) != b.get(k)}
    return (a, b)


def build(root: Path) -> tuple[CourseDir, dict, dict, dict[str, Attacker]]:
    source = root.parent / "source-tree"
    (source / "source" / FILTERS).mkdir(parents=True)
    nbformat.write(slice_source(), source / "source" / FILTERS / NOTEBOOK)
    shutil.copytree(REPO_ROOT / "source" / QUIZ, source / "source" / QUIZ)
    course = CourseDir.create(root, [FILTERS, QUIZ], source_from=source)
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(TEST_CONFIG)
    course = CourseDir(root)
    for assignment in (FILTERS, QUIZ):
        course.generate(assignment)
    release = course.release_notebook(FILTERS)
    solutions = solutions_of(course.source_notebook(FILTERS))
    honest_work = {
        "honest": solutions,
        **{
            f"style-{s}": {n: c for n, c in correct_work(FILTERS, s).code.items() if n in NAMES}
            for s in ("loops", "vectorised")
        },
        "mistake-no-pad": {**solutions, "conv2d": mistake_work(FILTERS, NO_PAD).code["conv2d"]},
        "blank": {},
    }
    expected = {s: expected_cells(release, work) for s, work in honest_work.items()}
    for student, work in honest_work.items():
        course.submit(student, FILTERS, fill_notebook(release, work), SUBMITTED_AT)
    roster = attackers(root.resolve(), release, solutions)
    for student, attacker in roster.items():
        folder = course.submit(student, FILTERS, attacker.notebook, SUBMITTED_AT)
        for relative, text in attacker.files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
        for name, target in attacker.links.items():
            (folder / name).symlink_to(target)
    quiz_release = course.release_notebook(QUIZ)
    quiz = {
        VICTIM: quiz_submission(quiz_release, VICTIM),
        "bea": fill_notebook(quiz_release, correct_work(QUIZ, "numpy").code),
        COPIER: with_cell(
            quiz_submission(quiz_release, COPIER, answers_of=VICTIM),
            "imports",
            CHDIR.replace("VICTIM", VICTIM),
        ),
        VARIANT_TYPED: quiz_submission(
            quiz_release, VARIANT_TYPED, answers_of=VICTIM, variant_id=VICTIM
        ),
        VARIANT_COMPUTED: set_variant_cell(
            fill_notebook(quiz_release, correct_work(QUIZ, "numpy").code), VICTIM
        ),
    }
    for student, nb in quiz.items():
        folder = course.submit(student, QUIZ, nb, SUBMITTED_AT)
        shutil.copy(root / "release" / QUIZ / "quiz_variant.py", folder)
    quiz_points = points(quiz_release)
    return course, expected, quiz_points, roster


def plain_copy(course: CourseDir, root: Path) -> CourseDir:
    """The ungraded course, part of the class: for plain serial nbgrader autograde."""
    shutil.copytree(course.root, root, symlinks=True)
    for folder in (root / "submitted").iterdir():
        keep = folder.name in PLAIN_FILTERS or folder.name in PLAIN_QUIZ
        if not keep:
            shutil.rmtree(folder)
            continue
        if folder.name not in PLAIN_FILTERS:
            shutil.rmtree(folder / FILTERS, ignore_errors=True)
        if folder.name not in PLAIN_QUIZ:
            shutil.rmtree(folder / QUIZ, ignore_errors=True)
    return CourseDir(root)


def _kill_marked() -> list[int]:
    found = marked_processes()
    for pid in found:  # started by this module's attackers: ended by their ids
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def classes() -> Iterator[Classes]:
    base = Path(tempfile.mkdtemp(prefix="cnn-attacks-"))
    base.chmod(0o755)  # the sandbox user must reach autograded/<student>/<assignment>
    try:
        course, expected, quiz_points, roster = build(base / "course")
        plain_course = plain_copy(course, base / "plain")
        before = snapshot(course.root)
        sandbox = Graded(course)
        started = time.perf_counter()
        sandbox.steps["grade"] = run_tool(
            ["cnn-course", "--course", str(course.root), "grade", "-j", "2"], course.root
        )
        sandbox.seconds = time.perf_counter() - started
        after = snapshot(course.root)
        after["marked processes"] = _kill_marked()
        # The harvesting student resubmits: a lookup table of what the first grading's
        # cases should have returned, under the same course secret.
        seen = harvested(sandbox.outputs("harvest"))
        lookup = lookup_code(seen)
        harvest_nb = fill_notebook(course.release_notebook(FILTERS), {"zero_pad": lookup})
        plain_course.submit("harvest", FILTERS, harvest_nb, SUBMITTED_AT)
        shutil.copy2(course.root / SECRET_NAME, plain_course.root / SECRET_NAME)
        plain = Graded(plain_course)
        started = time.perf_counter()
        for assignment in (FILTERS, QUIZ):
            plain.steps[assignment] = run_tool(
                ["nbgrader", "autograde", assignment], plain_course.root
            )
        plain.seconds = time.perf_counter() - started
        _kill_marked()
        yield Classes(sandbox, plain, expected, quiz_points, roster, before, after, lookup)
    finally:
        _kill_marked()
        shutil.rmtree(base, ignore_errors=True)


# --- the batch -----------------------------------------------------------------------------


def test_the_batch_finishes_with_every_honest_student_graded(classes: Classes) -> None:
    grade = classes.sandbox.steps["grade"]
    assert grade.returncode in (0, 1), grade.stdout + grade.stderr
    failures = [line for line in grade.stderr.splitlines() if line.startswith("  autograde ")]
    honest = (*HONEST, *QUIZ_HONEST)
    assert [f for f in failures if any(f"/{h}" in f or f" {h}" in f for h in honest)] == []
    for student in HONEST:
        assert classes.sandbox.cells(student), f"{student} was not graded:\n{grade.stderr}"
    for step, done in classes.plain.steps.items():
        assert done.returncode == 0, (step, done.stdout[-3000:] + done.stderr[-3000:])


@pytest.mark.parametrize("student", HONEST)
def test_honest_students_get_exactly_their_grades(classes: Classes, student: str) -> None:
    expected = classes.expected[student]
    assert classes.sandbox.cells(student) == expected, classes.sandbox.outputs(student)[-3000:]
    if student in PLAIN_FILTERS:
        assert classes.plain.cells(student) == expected, classes.plain.outputs(student)[-3000:]


def test_the_oracle_tells_the_honest_students_apart(classes: Classes) -> None:
    """The expected grades are not trivial: full marks, a partial score and zero."""
    totals = {s: sum(cells.values()) for s, cells in classes.expected.items()}
    assert totals["honest"] == totals["style-loops"] == totals["style-vectorised"] == 35.0
    assert 0 < totals["mistake-no-pad"] < 35.0
    assert totals["blank"] == 0.0


def test_quiz_honest_students_get_full_marks(classes: Classes) -> None:
    for student in QUIZ_HONEST:
        assert classes.sandbox.cells(student, QUIZ) == classes.quiz_points, classes.sandbox.outputs(
            student, QUIZ
        )[-3000:]
    assert classes.plain.cells(VICTIM, QUIZ) == classes.quiz_points


@pytest.mark.parametrize("student", QUIZ_CHEATERS)
def test_quiz_copied_or_switched_answers_score_nothing(classes: Classes, student: str) -> None:
    """Copied answers, the variant cell set to the victim (typed or computed answers):
    graded with the submitter's numbers, which differ in every question."""
    zero = dict.fromkeys(classes.quiz_points, 0.0)
    assert classes.sandbox.cells(student, QUIZ) == zero, classes.sandbox.outputs(student, QUIZ)
    outputs = classes.sandbox.outputs(student, QUIZ)
    assert f"Your numbers (student {student!r})" in outputs
    assert f"Your numbers (student {VICTIM!r})" not in outputs
    if student in PLAIN_QUIZ:
        assert classes.plain.cells(student, QUIZ) == zero


# --- each attacker -------------------------------------------------------------------------


def _at_most(got: dict[str, float], stub: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Cells where ``got`` beats ``stub`` (a cell not graded counts 0)."""
    return {c: (s, stub.get(c, 0.0)) for c, s in got.items() if s > stub.get(c, 0.0)}


ATTACKERS = (
    "numpy-patch",
    "edit-tests",
    "lying-results",
    "stack-peek",
    "assertion-patch",
    "ipython-hide",
    "input-blank",
    "ast-swallow",
    "ast-empty",
    "run-cell",
    "report-success",
    "fake-lines",
    "fake-probe-before",
    "fake-probe-instead",
    "thread-emitter",
    "forged-grade-cell",
    "sys-modules-probe",
    "meta-path-probe",
    "builtins-import-probe",
    "replace-check",
    "shadow-module",
    "shadow-package",
    "reference",
    "ctypes",
    "harvest",
    KILLER,
    "fork-bomb",
    "symlinks",
    "submitted-symlinks",
    "timestamp",
    "small-files",
    "big-file",
    "write-up",
    "cpu-loop",
    "cpu-loop-nosigint",
)


def test_every_attacker_is_in_the_class(classes: Classes) -> None:
    assert set(ATTACKERS) == set(classes.roster)


@pytest.mark.parametrize("student", ATTACKERS)
def test_no_unearned_points(classes: Classes, student: str) -> None:
    base = classes.roster[student].base
    stub = classes.expected[base]
    got = classes.sandbox.cells(student)
    assert _at_most(got, stub) == {}, classes.sandbox.outputs(student)[-4000:]
    assert sum(got.values()) <= sum(stub.values())
    assert set(got) <= set(stub)  # no cell of the student's own was graded
    if student in PLAIN_FILTERS and student != "harvest":
        plain = classes.plain.cells(student)
        assert _at_most(plain, stub) == {}, classes.plain.outputs(student)[-4000:]
        assert set(plain) == set(stub)


@pytest.mark.parametrize("student", ATTACKERS)
def test_nothing_leaked_or_written(classes: Classes, student: str) -> None:
    """The attack code prints LEAK/WROTE for each thing it managed: there must be none."""
    outputs = classes.sandbox.outputs(student)
    bad = [line for line in outputs.splitlines() if line.startswith(("LEAK", "WROTE"))]
    assert bad == []


def test_the_attacks_ran(classes: Classes) -> None:
    """The markers the attack cells print when they ran to the end (not stopped early)."""
    markers = {
        "reference": "DONE reading",
        "ctypes": "DONE ctypes",
        "fork-bomb": "COUNT forks",
        "small-files": "COUNT small",
        "big-file": "COUNT big",
        "harvest": "HARVEST [[",
    }
    missing = {s: m for s, m in markers.items() if m not in classes.sandbox.outputs(s)}
    assert missing == {}


def _count(classes: Classes, student: str, what: str) -> int:
    for line in classes.sandbox.outputs(student).splitlines():
        if line.startswith(f"COUNT {what} "):
            return int(line.split()[2])
    raise AssertionError(f"{student} printed no COUNT {what}")


# --- the course and the repository -----------------------------------------------------------


def test_course_and_repository_files_are_unchanged(classes: Classes) -> None:
    before, after = _comparable(classes.before), _comparable(classes.after)
    changed = {k: _difference(before[k], after[k]) for k in before if before[k] != after[k]}
    assert changed == {}


def test_the_gradebook_holds_exactly_the_expected_grades(classes: Classes) -> None:
    grades = sqlite_grades(classes.sandbox.course.root / "gradebook.db")
    students = {s for (s, a, _) in grades if a == FILTERS}
    assert students <= {*HONEST, *ATTACKERS}
    assert set(HONEST) <= students
    cells = {c for (_, a, c) in grades if a == FILTERS}
    assert cells == set(classes.expected["honest"])  # no forged cell got in
    quiz_students = {s for (s, a, _) in grades if a == QUIZ}
    assert quiz_students == {*QUIZ_HONEST, *QUIZ_CHEATERS}


def test_submission_timestamps_are_as_submitted(classes: Classes) -> None:
    stamps = submitted_timestamps(classes.sandbox.course.root / "gradebook.db")
    wanted = SUBMITTED_AT.replace(tzinfo=None)
    wrong = {
        key: stamp
        for key, stamp in stamps.items()
        if dt.datetime.fromisoformat(stamp).replace(tzinfo=None) != wanted
    }
    assert wrong == {}


@ROOT_ONLY
def test_no_process_outlives_its_kernel(classes: Classes) -> None:
    assert classes.after["marked processes"] == []


@ROOT_ONLY
def test_the_fork_bomb_is_bounded(classes: Classes) -> None:
    assert _count(classes, "fork-bomb", "forks") < Limits().processes


@ROOT_ONLY
def test_floods_stay_in_the_kernels_scratch(classes: Classes) -> None:
    assert _count(classes, "small-files", "small") <= Limits().scratch_files
    assert _count(classes, "big-file", "big") <= 3 * Limits().scratch_mb
    root = classes.sandbox.course.root
    everything = [p for p in root.rglob("*") if not p.is_symlink()]
    assert [p for p in everything if p.name.startswith(("small_", "bigfile"))] == []
    assert [p for p in everything if p.is_file() and p.stat().st_size > 16 * 2**20] == []
    links = [p for folder in ("autograded", "feedback") for p in (root / folder).rglob("*")]
    assert [p for p in links if p.is_symlink()] == []


def test_submitted_symlinks_do_not_bring_the_course_files_in(classes: Classes) -> None:
    """nbgrader copies a submission's other files as root, following links: a submission
    holding links is refused as a whole, with the reason, and what came through the
    links is removed again before any of it runs."""
    folder = classes.sandbox.course.root / "autograded" / "submitted-symlinks" / FILTERS
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    copied = {p.name: p.read_bytes()[:64] for p in files}
    leaked = {
        name: head
        for name, head in copied.items()
        if head.startswith(b"SQLite format") or b"onv" in head or name == "secret.bin"
    }
    assert leaked == {}
    grade = classes.sandbox.steps["grade"]
    refused = [
        line
        for line in grade.stderr.splitlines()
        if "submitted-symlinks" in line and line.startswith("  autograde ")
    ]
    assert len(refused) == 1, grade.stderr
    assert not any(classes.sandbox.cells("submitted-symlinks").values())  # nothing scored
    assert "DONE links" not in classes.sandbox.outputs("submitted-symlinks")


def test_the_write_victims_work_is_intact(classes: Classes) -> None:
    notebook = classes.sandbox.course.autograded_notebook(FILTERS, WRITE_VICTIM)
    assert "{}" not in nbformat.writes(notebook)[-10:]
    feedback = (
        classes.sandbox.course.root / "feedback" / WRITE_VICTIM / FILTERS / "filters.html"
    ).read_text()
    assert feedback.rstrip().endswith("</html>")


# --- the time limit ------------------------------------------------------------------------


@pytest.mark.parametrize("student", ["cpu-loop", "cpu-loop-nosigint"])
def test_a_lifted_time_limit_costs_only_its_own_cells(classes: Classes, student: str) -> None:
    got = classes.sandbox.cells(student)
    assert sum(got.values()) == 0.0
    assert classes.sandbox.cells("honest") == classes.expected["honest"]


# --- answers looked up -----------------------------------------------------------------------


def test_harvested_answers_fail_when_resubmitted(classes: Classes) -> None:
    """Every case's inputs of the first grading, with the reference's results, as a table:
    the resubmission (new content, new seed) meets other cases and scores what the stub
    does. Aspects whose cases are fixed (not drawn from the seed) would let it through."""
    assert '"conv2d"' in classes.lookup and "_TABLE" in classes.lookup
    got = classes.plain.cells("harvest")
    assert set(got) == set(classes.expected["blank"])
    assert {c: s for c, s in got.items() if s > 0} == {}, classes.plain.outputs("harvest")[-3000:]


def test_the_same_submission_is_graded_the_same_twice(classes: Classes) -> None:
    """Same course secret, same student, same notebook: same cases, same grades and
    feedback, in `cnn-course grade` and in plain `nbgrader autograde`."""
    for student in ("honest", "mistake-no-pad", "blank"):
        assert classes.plain.cells(student) == classes.sandbox.cells(student)
        assert classes.plain.outputs(student) == classes.sandbox.outputs(student)
    assert "Inputs:" in classes.sandbox.outputs("mistake-no-pad")


def test_plain_autograde_gives_the_blanking_attack_nothing(classes: Classes) -> None:
    assert classes.plain.cells("input-blank") == classes.expected["blank"]
    assert "no result" in classes.plain.outputs("input-blank")


def test_runtime(classes: Classes) -> None:
    """Not a limit: the figures for the report (printed with -s)."""
    print(f"\ncnn-course grade -j 2: {classes.sandbox.seconds:.1f} s")
    print(f"plain nbgrader autograde: {classes.plain.seconds:.1f} s")
    assert classes.sandbox.seconds > 0


def test_points_are_the_instructors(classes: Classes) -> None:
    """Points raised in a student's notebook (edit-tests) are put back from the gradebook."""
    full = classes.expected["honest"]
    for student in ("edit-tests", "forged-grade-cell", *HONEST):
        grades = classes.sandbox.course.grades(FILTERS, student)
        assert {g: c.max_score for g, c in grades.items()} == full, student
