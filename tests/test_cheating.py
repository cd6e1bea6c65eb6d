"""Cheating attempts, each through the real grading pipeline: defeated or detected.

One class is built once: normal students (the instructor's solutions, two coding styles,
two typical mistakes, a blank notebook) and one student per cheating attempt, on a slice
of 01_filters (zero_pad, correlate2d, conv2d and the Laplacian answer, with their real
cells from source/) and on the per-student quiz. The class is graded with
``cnn-course grade --jobs 2`` (the course's own config: the "cnn-grader" sandbox kernel)
and reported on with ``cnn-course report``. A copy of part of the class goes through plain
serial ``nbgrader autograde`` with the ordinary ``python3`` kernel (the grader is imported
late, after the student's cells ran), then ``python -m cnn_course.integrity`` and
``nbgrader export`` with :class:`cnn_course.export.ReviewedCsvExportPlugin`.

For every attempt the tests check that the batch finishes, that every other student is
graded exactly as expected, that ``submitted/`` is byte for byte as handed in, that the
offender gets no point it did not earn (its exported score is at most what its honest work
earns, or withheld), and that the feedback and the instructor's report say what happened.
In-process tests show that the grading engine's comparisons cannot be fooled by the
student's objects, and that the static scan does not flag ordinary work.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import pytest
from fault_helpers import run_as_autograding
from nbformat.v4 import new_code_cell

import cnn_solutions
from cnn_course.classroom import (
    ASSIGNMENTS,
    correct_work,
    fill_notebook,
    mistake_work,
    mistakes,
    source_solutions,
    styles,
)
from cnn_course.classroom.quiz import quiz_submission
from cnn_course.course import REPO_ROOT, CourseDir
from cnn_course.integrity import scan_code
from cnn_solutions import answers
from cnn_solutions.grading import GradingFailure, answer_spec, check, check_answer
from cnn_solutions.grading.core import compare
from cnn_solutions.grading.quiz import expected_answers

FILTERS, QUIZ = "01_filters", "05_quiz"
NOTEBOOK = ASSIGNMENTS[FILTERS][1]
VENV_BIN = Path(sys.executable).parent
IS_ROOT = os.geteuid() == 0
# The slice of 01_filters: these cells of the real source notebook, in their order.
KEEP = ("imports", "zero_pad", "correlate2d", "conv2d", "givens", "laplacian_response")
NAMES = ("zero_pad", "correlate2d", "conv2d", "laplacian_response")
MAX = 35.0  # zero_pad 6, correlate2d 8, conv2d 16, laplacian_response 5


def _kept(grade_id: str | None) -> bool:
    return bool(grade_id) and any(
        grade_id == k or (grade_id.startswith(k + "_") and not grade_id.startswith("conv2d_m"))
        for k in KEEP
    )


def slice_source() -> nbformat.NotebookNode:
    """The 01_filters source notebook without conv2d_multi and the pictures."""
    nb = nbformat.read(REPO_ROOT / "source" / FILTERS / NOTEBOOK, as_version=4)
    nb.cells = [c for c in nb.cells if _kept(c.metadata.get("nbgrader", {}).get("grade_id"))]
    return nb


# --- what students write ------------------------------------------------------------------


def code(source: str) -> str:
    return textwrap.dedent(source).strip() + "\n"


NUMPY_PATCH = code(
    """
    # "Helpers" that make every comparison succeed.
    np.allclose = lambda *args, **kwargs: True
    np.array_equal = lambda *args, **kwargs: True
    np.testing.assert_allclose = lambda *args, **kwargs: None
    np.abs = lambda x: 0 * np.asarray(x)
    """
)
ASSERTION_PATCH = code(
    """
    import builtins


    class AssertionError(Exception):
        '''An AssertionError that no check raises.'''


    builtins.AssertionError = AssertionError
    """
)
IPYTHON_HIDE = code(
    """
    import sys

    ip = get_ipython()
    ip.set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: None)
    ip.showtraceback = lambda *args, **kwargs: None
    sys.excepthook = lambda *args: None
    """
)
LIARS = code(
    """
    class Liar(np.ndarray):
        '''Zeros that say they equal anything.'''

        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            plain = [x.view(np.ndarray) if isinstance(x, np.ndarray) else x for x in inputs]
            result = getattr(ufunc, method)(*plain, **kwargs)
            if ufunc is np.subtract:
                return np.zeros_like(result)
            if np.asarray(result).dtype == bool:
                return np.ones_like(result)
            return result


    class AlwaysEqual:
        def __eq__(self, other):
            return True

        def __array__(self, dtype=None, copy=None):
            return np.zeros((5, 5))


    def zero_pad(image, pad):
        h, w = np.shape(image)[:2]
        return np.zeros((h + 2 * pad, w + 2 * pad) + np.shape(image)[2:]).view(Liar)


    def conv2d(image, kernel, stride=1, padding=0):
        return AlwaysEqual()


    laplacian_response = AlwaysEqual()
    """
)
PEEK = code(
    """
    import sys


    def _find(*names):
        frame = sys._getframe(1)
        while frame is not None:
            for name in names:
                if name in frame.f_locals:
                    return frame.f_locals[name]
            frame = frame.f_back
        return None


    class Peek:
        '''An answer that looks for the grader's expected value when it is read.'''

        def __array__(self, dtype=None, copy=None):
            expected = _find("expected")
            name = _find("name")
            grading = sys.modules.get("cnn_solutions.grading")
            if expected is None and name and grading is not None:
                expected = grading.answer_spec(name).expected
            return np.asarray(expected if expected is not None else np.zeros((5, 5)), float)


    class PeekCall:
        '''A "function" that computes each case with the grader's own reference.'''

        def __call__(self, *args, **kwargs):
            spec, case = _find("spec"), _find("case")
            return spec.reference(*case.args, **case.kwargs)


    conv2d = PeekCall()
    laplacian_response = Peek()
    """
)
REFERENCE_CONV2D = code(
    """
    from cnn_solutions import conv2d as reference_conv2d


    def conv2d(image, kernel, stride=1, padding=0):
        return reference_conv2d(image, kernel, stride=stride, padding=padding)
    """
)
REFERENCE_CORRELATE2D = code(
    """
    def correlate2d(image, kernel):
        import cnn_solutions

        return cnn_solutions.correlate2d(image, kernel)
    """
)
REFERENCE_ANSWER = (
    'laplacian_response = __import__("cnn_solutions.answers", fromlist=["x"])'
    ".laplacian_response.copy()\n"
)
FAKE_GRADER = code(
    """
    def check(name, fn, aspect):
        print(f"✓ {name} · {aspect}: all cases match the reference")


    def check_answer(name, value):
        print(f"✓ {name}: correct")
    """
)
FAKE_MODULE = code(
    """
    import sys
    import types

    fake = types.ModuleType("cnn_solutions.grading")
    exec(FAKE_GRADER, fake.__dict__)
    sys.modules["cnn_solutions.grading"] = fake
    """
).replace("FAKE_GRADER", repr(FAKE_GRADER))
STEAL = code(
    """
    import json
    import sqlite3

    try:
        with sqlite3.connect("../../../gradebook.db") as db:
            hidden_tests = db.execute("select source from source_cell").fetchall()
        with open("../../../source/01_filters/filters.ipynb") as handle:
            for cell in json.load(handle)["cells"]:
                if cell["metadata"].get("nbgrader", {}).get("solution"):
                    lines = "".join(cell["source"]).splitlines()
                    exec("\\n".join(line for line in lines if "### " not in line))
    except Exception as error:
        print("could not read the course files:", type(error).__name__)
    """
)
REWRITTEN_ASSERTS = code(
    """
    def check(*args, **kwargs):
        '''The padding tests, made harmless.'''


    check_answer = check
    out = conv2d(np.ones((3, 3)), np.ones((3, 3)), padding=1)
    assert out.shape == (3, 3) or True, "padding 1 keeps the size"
    assert np.allclose(out, 9) or True
    """
)
PROFILE_EVASION = code(
    """
    import sys

    from cnn_solutions import conv2d as _reference


    def conv2d(image, kernel, stride=1, padding=0):
        hook = sys.getprofile()
        sys.setprofile(None)
        try:
            return _reference(image, kernel, stride=stride, padding=padding)
        finally:
            sys.setprofile(hook)
    """
)
FRAME_TAMPER = code(
    """
    import sys

    _done = []


    def zero_pad(image, pad):
        if not _done:  # once: make the grader's comparison always agree
            frame = sys._getframe(1)
            while frame is not None and "compare" not in frame.f_globals:
                frame = frame.f_back
            if frame is not None:
                frame.f_globals["compare"] = lambda *args, **kwargs: None
                _done.append(True)
        image = np.asarray(image, dtype=float)
        return np.pad(image, [(pad, pad), (pad, pad)] + [(0, 0)] * (image.ndim - 2))
    """
)
THREAD = code(
    """
    import queue
    import threading

    from cnn_solutions import conv2d as _reference

    _requests, _answers = queue.Queue(), queue.Queue()


    def _serve():
        while True:
            args, kwargs = _requests.get()
            try:
                _answers.put(_reference(*args, **kwargs))
            except Exception as error:
                _answers.put(error)


    threading.Thread(target=_serve, daemon=True).start()


    def conv2d(image, kernel, stride=1, padding=0):
        _requests.put(((image, kernel), {"stride": stride, "padding": padding}))
        answer = _answers.get()
        if isinstance(answer, Exception):
            raise answer
        return answer
    """
)
TRANSFORMER = code(
    """
    import ast


    class KeepImports(ast.NodeTransformer):
        '''Empties every later cell but its imports: test cells pass without testing.'''

        def visit_Module(self, node):
            node.body = [s for s in node.body if isinstance(s, (ast.Import, ast.ImportFrom))]
            return node


    get_ipython().ast_transformers.append(KeepImports())
    """
)
CHDIR = code(
    """
    import os

    try:  # be graded as VICTIM, whose answers these are
        os.makedirs("../../VICTIM/05_quiz", exist_ok=True)
        os.chdir("../../VICTIM/05_quiz")
    except OSError as error:
        print("cannot move:", error)
    """
)
ZEROS_ANSWER = "laplacian_response = np.zeros((5, 5))\n"
LATER = "# I will write zero_pad later\n"
CORRECT_ANSWER = f"laplacian_response = np.array({answers.laplacian_response.tolist()})\n"


# --- hard-coded answers for the visible tests' inputs -----------------------------------


def _key(*values: object) -> str:
    return repr([np.asarray(v).tolist() if hasattr(v, "shape") else v for v in values])


def _visible_calls(release: nbformat.NotebookNode) -> dict[str, dict[str, object]]:
    """Every call the visible tests make, with the reference's result ("ValueError" if any)."""
    table: dict[str, dict[str, object]] = {"zero_pad": {}, "correlate2d": {}, "conv2d": {}}

    def recorder(name: str, params: tuple[str, ...], defaults: dict) -> Callable:
        def record(*args: object, **kwargs: object) -> object:
            values = {**defaults, **dict(zip(params, args, strict=False)), **kwargs}
            key = _key(*[values[p] for p in params])
            try:
                result = getattr(cnn_solutions, name)(*args, **kwargs)
            except ValueError:
                table[name][key] = "ValueError"
                raise
            table[name][key] = (result.tolist(), str(result.dtype))
            return result

        return record

    namespace = {
        "np": np,
        "zero_pad": recorder("zero_pad", ("image", "pad"), {}),
        "correlate2d": recorder("correlate2d", ("image", "kernel"), {}),
        "conv2d": recorder(
            "conv2d", ("image", "kernel", "stride", "padding"), {"stride": 1, "padding": 0}
        ),
    }
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id", "").split("_")[0] in (
            "zero",
            "correlate2d",
            "conv2d",
        ):
            exec(cell.source, namespace)  # noqa: S102 -- the course's own visible tests
    return table


HARDCODED_TEMPLATE = """
_TABLES = {tables!r}


def _key(*values):
    return repr([np.asarray(v).tolist() if hasattr(v, "shape") else v for v in values])


def _lookup(name, *values):
    found = _TABLES[name].get(_key(*values))
    if found == "ValueError":
        raise ValueError("not allowed")
    if found is None:
        return np.zeros((1, 1))
    return np.array(found[0], dtype=found[1])


def zero_pad(image, pad):
    return _lookup("zero_pad", image, pad)


def correlate2d(image, kernel):
    return _lookup("correlate2d", image, kernel)


def conv2d(image, kernel, stride=1, padding=0):
    return _lookup("conv2d", image, kernel, stride, padding)
"""


def hardcoded_code(release: nbformat.NotebookNode) -> str:
    """Functions that return the visible tests' expected outputs for exactly their inputs."""
    return code(HARDCODED_TEMPLATE.format(tables=_visible_calls(release)))


# --- notebooks ----------------------------------------------------------------------------


def _index(nb: nbformat.NotebookNode, grade_id: str) -> int:
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    return ids.index(grade_id)


def with_cell(nb: nbformat.NotebookNode, after: str, source: str) -> nbformat.NotebookNode:
    """A copy with a code cell the student added after cell ``after``."""
    changed = copy.deepcopy(nb)
    changed.cells.insert(_index(changed, after) + 1, new_code_cell(source))
    return changed


def with_edited_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The padding tests' source replaced, and their points raised, in the notebook file."""
    changed = copy.deepcopy(nb)
    for grade_id in ("conv2d_padding", "conv2d_stride_padding"):
        cell = changed.cells[_index(changed, grade_id)]
        cell.source = "# this test is wrong, the padding is fine\npass"
        cell.metadata.nbgrader["points"] = 30
        cell.metadata.pop("editable", None)
    return changed


@dataclass(frozen=True)
class Attempt:
    """One cheating student: what they hand in and what must come of it.

    ``sandbox``/``plain``: total points recorded in the gradebook by ``cnn-course grade``
    and by plain ``nbgrader autograde`` (None: not in that run). ``earned``: what the
    honest part of the work is worth. ``withheld``: True, the exported score is withheld;
    False, a note only; None, not flagged. ``reasons``: text of the flag's findings;
    ``kernel``: text of a line the in-kernel guard printed (sandbox run).
    """

    sandbox: float
    earned: float
    withheld: bool | None
    reasons: tuple[str, ...] = ()
    kernel: str = ""
    plain: float | None = None
    files: tuple[tuple[str, str], ...] = ()


ATTEMPTS: dict[str, Attempt] = {
    "edit-tests": Attempt(22, 22, False, ("locked cell edited", "points 30")),
    "numpy-patch": Attempt(22, 22, True, ("replaces numpy.allclose",), "numpy.allclose", 0),
    "assertion-patch": Attempt(19, 19, True, ("replaces builtins.AssertionError",), "builtins"),
    "ipython-hide": Attempt(
        13, 13, True, ("set_custom_exc", "showtraceback"), "set_custom_exc", 13
    ),
    "lying-results": Attempt(8, 8, True, ("defines __eq__", "subclasses ndarray")),
    "stack-peek": Attempt(14, 14, True, ("_getframe", "f_locals"), "reference code ran", 14),
    "reference": Attempt(11, 6, True, ("cnn_solutions",), "reference code ran", 11),
    "fake-module": Attempt(0, 0, True, ("sys.modules",), "sys.modules", 35),
    "shadow-package": Attempt(
        0,
        0,
        True,
        ("a fake cnn_solutions",),
        "",
        35,
        (("cnn_solutions/__init__.py", ""), ("cnn_solutions/grading/__init__.py", FAKE_GRADER)),
    ),
    "read-gradebook": Attempt(
        0 if IS_ROOT else 30, 0, True, ("sqlite3", "exec"), "gradebook.db", 30
    ),
    "hardcoded": Attempt(5, 5, None),
    "rewritten-asserts": Attempt(22, 22, None),
    "profile-evasion": Attempt(19, 14, True, ("setprofile",), "sys.setprofile"),
    "frame-tamper": Attempt(33, 33, True, ("_getframe", "f_globals"), "compare was replaced"),
    "thread": Attempt(14, 19, True, ("threading",), "thread started by the notebook"),
    "transformer": Attempt(0, 0, True, ("ast_transformers",), "ast_transformers", 2),
}
NORMAL = {  # student -> total points
    "honest": 35.0,
    "style-loops": 35.0,
    "style-vectorised": 35.0,
    "mistake-no-pad": 22.0,  # the answer uses conv2d too
    "mistake-channels": 33.0,
    "blank": 0.0,
}
PLAIN_NORMAL = ("honest", "mistake-no-pad")
NO_PAD = next(m for m in mistakes(FILTERS) if m.label == "never pads")
PADS_CHANNELS = next(m for m in mistakes(FILTERS) if "channel axis" in m.label)


def filters_work(release: nbformat.NotebookNode, solutions: dict[str, str]) -> dict:
    """Every student's 01_filters notebook (normal and cheating), and extra files."""
    fill = fill_notebook

    def sol(**code: str) -> dict[str, str]:
        chosen = {**{n: solutions[n] for n in NAMES}, **code}
        return {n: c for n, c in chosen.items() if c is not None}

    no_pad = (
        NO_PAD.code
        if isinstance(NO_PAD.code, str)
        else mistake_work(FILTERS, NO_PAD).code["conv2d"]
    )
    hard = hardcoded_code(release)
    literal = {"laplacian_response": CORRECT_ANSWER}
    notebooks = {
        "honest": fill(release, sol()),
        **{
            f"style-{s}": fill(
                release, {n: c for n, c in correct_work(FILTERS, s).code.items() if n in NAMES}
            )
            for s in ("loops", "vectorised")
        },
        "mistake-no-pad": fill(release, sol(conv2d=no_pad)),
        "mistake-channels": fill(
            release, sol(zero_pad=mistake_work(FILTERS, PADS_CHANNELS).code["zero_pad"])
        ),
        "blank": release,
        "edit-tests": with_edited_tests(fill(release, sol(conv2d=no_pad))),
        "numpy-patch": with_cell(fill(release, sol(conv2d=no_pad)), "imports", NUMPY_PATCH),
        "assertion-patch": with_cell(
            fill(release, sol(conv2d=None, **literal)), "imports", ASSERTION_PATCH
        ),
        "ipython-hide": with_cell(
            fill(release, sol(zero_pad=LATER, conv2d=None, **literal)), "imports", IPYTHON_HIDE
        ),
        "lying-results": fill(
            release, sol(zero_pad=LIARS, conv2d="# in the cell above", laplacian_response="pass")
        ),
        "stack-peek": fill(release, sol(conv2d=PEEK, laplacian_response="# in the cell above")),
        "reference": fill(
            release,
            sol(
                correlate2d=REFERENCE_CORRELATE2D,
                conv2d=REFERENCE_CONV2D,
                laplacian_response=REFERENCE_ANSWER,
            ),
        ),
        "fake-module": with_cell(
            fill(
                release,
                sol(zero_pad=hard, correlate2d="", conv2d="", laplacian_response=ZEROS_ANSWER),
            ),
            "imports",
            FAKE_MODULE,
        ),
        "shadow-package": fill(
            release, sol(zero_pad=hard, correlate2d="", conv2d="", laplacian_response=ZEROS_ANSWER)
        ),
        "read-gradebook": fill(
            release,
            sol(zero_pad=STEAL, correlate2d=STEAL, conv2d=STEAL, laplacian_response=ZEROS_ANSWER),
        ),
        "hardcoded": fill(release, sol(zero_pad=hard, correlate2d="", conv2d="", **literal)),
        "rewritten-asserts": with_cell(
            fill(release, sol(conv2d=no_pad)), "conv2d", REWRITTEN_ASSERTS
        ),
        "profile-evasion": fill(release, sol(conv2d=PROFILE_EVASION)),
        "frame-tamper": fill(release, sol(zero_pad=FRAME_TAMPER)),
        "thread": fill(release, sol(conv2d=THREAD, **literal)),
        "transformer": with_cell(
            fill(
                release, sol(zero_pad=None, correlate2d=None, conv2d=None, laplacian_response=None)
            ),
            "imports",
            TRANSFORMER,
        ),
    }
    return notebooks


# --- the quiz ------------------------------------------------------------------------------


def _all_differ(a: str, b: str) -> bool:
    x, y = expected_answers(a), expected_answers(b)
    return all(compare(x[k], y[k]) is not None for k in x)


def quiz_pair() -> tuple[str, str]:
    """A victim and a cheater (sorted in that order) whose every answer differs."""
    for victim in ("amy", "ann", "ava", "abe", "ali"):
        for cheater in ("mallory", "mia", "max", "moe", "mel"):
            if _all_differ(victim, cheater):
                return victim, cheater
    raise AssertionError("no pair of ids with all answers different")


VICTIM, CHEATER = quiz_pair()
QUIZ_MAX = 30.0


# --- the graded class ----------------------------------------------------------------------


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def run_tool(args: list[str], cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(VENV_BIN / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


PLAIN_CONFIG = """
# Test only: plain nbgrader with the ordinary python3 kernel (no sandbox; the grader is
# imported by the first hidden-test cell, after the student's cells ran).
c.Autograde.Exporter.Execute.kernel_name = "python3"
c.Autograde.Exporter.Execute.extra_arguments = []
c.Autograde.pre_convert_hook = None
c.Autograde.post_convert_hook = None
c.ExportApp.plugin_class = "cnn_course.export.ReviewedCsvExportPlugin"
"""


@dataclass
class Graded:
    """A graded course and what its tools said."""

    course: CourseDir
    steps: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    before: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def total(self, student: str, assignment: str = FILTERS) -> float:
        return sum(g.score for g in self.course.grades(assignment, student).values())

    def csv(self) -> dict[tuple[str, str], dict[str, str]]:
        with open(self.course.root / "grades.csv", newline="") as handle:
            return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}

    def flags(self) -> dict[tuple[str, str], dict]:
        path = self.course.root / "reports" / "flags.json"
        return {(f["student"], f["assignment"]): f for f in json.loads(path.read_text())}

    def outputs(self, student: str, assignment: str = FILTERS) -> str:
        nb = self.course.autograded_notebook(assignment, student)
        from cnn_course.course import outputs_text

        return "\n".join(outputs_text(c) for c in nb.cells if c.cell_type == "code")

    def feedback(self, student: str, assignment: str = FILTERS) -> str:
        name = ASSIGNMENTS[assignment][1].replace(".ipynb", ".html")
        return (self.course.root / "feedback" / student / assignment / name).read_text()


@dataclass
class Classes:
    sandbox: Graded
    plain: Graded
    release: nbformat.NotebookNode


def _build(root: Path) -> tuple[CourseDir, nbformat.NotebookNode]:
    source = root.parent / "source-tree"
    (source / "source" / FILTERS).mkdir(parents=True)
    nbformat.write(slice_source(), source / "source" / FILTERS / NOTEBOOK)
    shutil.copytree(REPO_ROOT / "source" / QUIZ, source / "source" / QUIZ)
    course = CourseDir.create(root, [FILTERS, QUIZ], source_from=source)
    for assignment in (FILTERS, QUIZ):
        course.generate(assignment)
    release = course.release_notebook(FILTERS)
    solutions = source_solutions(course.source_notebook(FILTERS))
    for student, nb in filters_work(release, solutions).items():
        folder = course.submit(student, FILTERS, nb)
        for relative, text in ATTEMPTS.get(student, Attempt(0, 0, None)).files:
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
    quiz_release = course.release_notebook(QUIZ)
    course.submit(VICTIM, QUIZ, quiz_submission(quiz_release, VICTIM))
    course.submit("bea", QUIZ, fill_notebook(quiz_release, correct_work(QUIZ, "numpy").code))
    cheat = with_cell(
        quiz_submission(quiz_release, CHEATER, answers_of=VICTIM),
        "imports",
        CHDIR.replace("VICTIM", VICTIM),
    )
    course.submit(CHEATER, QUIZ, cheat)
    for student in os.listdir(root / "submitted"):  # nbgrader collect copies release files
        if (root / "submitted" / student / QUIZ).is_dir():
            shutil.copy(
                root / "release" / QUIZ / "quiz_variant.py", root / "submitted" / student / QUIZ
            )
    return course, release


def _plain_copy(course: CourseDir, root: Path) -> CourseDir:
    """A copy of the ungraded course for plain nbgrader: part of the class, python3 kernel."""
    shutil.copytree(course.root, root)
    keep = {*PLAIN_NORMAL, *(s for s, a in ATTEMPTS.items() if a.plain is not None)}
    keep |= {VICTIM, CHEATER}
    for folder in (root / "submitted").iterdir():
        if folder.name not in keep:
            shutil.rmtree(folder)
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(PLAIN_CONFIG)
    return CourseDir(root)


@pytest.fixture(scope="module")
def classes() -> Iterator[Classes]:
    base = Path(tempfile.mkdtemp(prefix="cnn-cheating-"))
    base.chmod(0o755)  # the sandbox user must reach autograded/<student>/<assignment>
    try:
        course, release = _build(base / "course")
        plain_course = _plain_copy(course, base / "plain")
        sandbox = Graded(course, before=tree_digest(course.root / "submitted"))
        started = time.perf_counter()
        root = str(course.root)
        sandbox.steps["grade"] = run_tool(
            ["cnn-course", "--course", root, "grade", "-j", "2"], course.root
        )
        sandbox.steps["report"] = run_tool(["cnn-course", "--course", root, "report"], course.root)
        sandbox.seconds = time.perf_counter() - started
        plain = Graded(plain_course, before=tree_digest(plain_course.root / "submitted"))
        started = time.perf_counter()
        for assignment in (FILTERS, QUIZ):
            plain.steps[assignment] = run_tool(
                ["nbgrader", "autograde", assignment], plain_course.root
            )
        plain.steps["review"] = run_tool(
            ["python", "-m", "cnn_course.integrity", "--course", str(plain_course.root)],
            plain_course.root,
        )
        plain.steps["export"] = run_tool(
            ["nbgrader", "export", "--to", "grades.csv"], plain_course.root
        )
        plain.seconds = time.perf_counter() - started
        yield Classes(sandbox, plain, release)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- the batch -----------------------------------------------------------------------------


def test_the_batch_finishes(classes: Classes) -> None:
    grade = classes.sandbox.steps["grade"]
    assert grade.returncode == 0, grade.stdout + grade.stderr
    count = len(NORMAL) + len(ATTEMPTS) + 3
    assert f"autograded {count} of {count} submissions" in grade.stdout
    assert "submissions flagged for review" in grade.stdout
    assert classes.sandbox.steps["report"].returncode == 0
    for step, done in classes.plain.steps.items():
        assert done.returncode == 0, (step, done.stdout + done.stderr)


def test_submitted_files_are_unchanged(classes: Classes) -> None:
    for graded in (classes.sandbox, classes.plain):
        assert tree_digest(graded.course.root / "submitted") == graded.before


@pytest.mark.parametrize("student", NORMAL)
def test_other_students_are_graded_as_if_alone(classes: Classes, student: str) -> None:
    sandbox = classes.sandbox
    assert sandbox.total(student) == NORMAL[student]
    assert float(sandbox.csv()[(student, FILTERS)]["score"]) == NORMAL[student]
    assert (student, FILTERS) not in sandbox.flags()
    assert "cnn-integrity" not in sandbox.feedback(student)
    if student in PLAIN_NORMAL:
        assert classes.plain.course.grades(FILTERS, student) == sandbox.course.grades(
            FILTERS, student
        )


def test_other_quiz_students_are_graded_as_if_alone(classes: Classes) -> None:
    for student in (VICTIM, "bea"):
        assert classes.sandbox.total(student, QUIZ) == QUIZ_MAX, classes.sandbox.outputs(
            student, QUIZ
        )[:3000]
        assert (student, QUIZ) not in classes.sandbox.flags()
    assert classes.plain.total(VICTIM, QUIZ) == QUIZ_MAX


# --- each attempt: the score, and what is said about it ------------------------------------


def _exported_ok(row: dict[str, str], attempt: Attempt, total: float) -> None:
    if attempt.withheld and total > 0:
        assert row["score"] == "withheld" and row["review"].startswith("score withheld")
    else:
        assert float(row["score"]) == total <= attempt.earned


@pytest.mark.parametrize("student", ATTEMPTS)
def test_no_points_that_were_not_earned(classes: Classes, student: str) -> None:
    attempt = ATTEMPTS[student]
    sandbox = classes.sandbox
    assert sandbox.total(student) == attempt.sandbox, sandbox.outputs(student)[-3000:]
    _exported_ok(sandbox.csv()[(student, FILTERS)], attempt, attempt.sandbox)
    max_scores = {g.grade_id: g.max_score for g in sandbox.course.grades(FILTERS, student).values()}
    assert sum(max_scores.values()) == MAX  # edited points were put back
    if attempt.plain is not None:
        assert classes.plain.total(student) == attempt.plain, classes.plain.outputs(student)[-3000:]
        _exported_ok(classes.plain.csv()[(student, FILTERS)], attempt, attempt.plain)


@pytest.mark.parametrize("student", ATTEMPTS)
def test_feedback_and_report_say_what_happened(classes: Classes, student: str) -> None:
    attempt = ATTEMPTS[student]
    sandbox = classes.sandbox
    feedback = sandbox.feedback(student)
    if attempt.withheld is None:  # defeated by the hidden tests alone: nothing to flag
        assert (student, FILTERS) not in sandbox.flags()
        assert "✗ conv2d" in feedback and "cnn-integrity" not in feedback
        return
    flag = sandbox.flags()[(student, FILTERS)]
    assert flag["withheld"] is attempt.withheld
    findings = "\n".join(flag["findings"])
    for reason in attempt.reasons:
        assert reason in findings
    if attempt.kernel:
        assert attempt.kernel in sandbox.outputs(student)
    title = "your score is withheld" if attempt.withheld else "your score stands"
    assert title in feedback and flag["findings"][0].split(":")[0] in feedback
    with open(sandbox.course.root / "reports" / "flags.csv", newline="") as handle:
        reported = {(r["student"], r["assignment"]): r["reason"] for r in csv.DictReader(handle)}
    assert reported[(student, FILTERS)] == flag["reason"]
    if attempt.plain is not None:
        assert classes.plain.flags()[(student, FILTERS)]["withheld"] is attempt.withheld


def test_hardcoded_answers_pass_the_visible_tests_only(classes: Classes) -> None:
    namespace = {"np": np}
    exec(hardcoded_code(classes.release), namespace)  # noqa: S102 -- the simulated student
    for cell in classes.release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta["grade_id"].startswith(("zero_pad", "correlate2d", "conv2d")):
            exec(cell.source, namespace)  # noqa: S102 -- every visible assert passes
    outputs = classes.sandbox.outputs("hardcoded")
    for subject in ("zero_pad · basic", "correlate2d · basic", "conv2d · stride"):
        assert f"✗ {subject}" in outputs


def test_ipython_error_hiding_is_undone_by_nbgrader(classes: Classes) -> None:
    """With the python3 kernel the custom handler hides the first error; nbgrader's Execute
    still records the reply's error, so the cell fails."""
    nb = classes.plain.course.autograded_notebook(FILTERS, "ipython-hide")
    cell = nb.cells[_index(nb, "zero_pad_basic")]
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["NameError"]
    assert classes.plain.course.grades(FILTERS, "ipython-hide")["zero_pad_basic"].score == 0


def test_quiz_changing_into_another_students_folder(classes: Classes) -> None:
    for graded in (classes.sandbox, classes.plain):
        assert graded.total(CHEATER, QUIZ) == 0
        outputs = graded.outputs(CHEATER, QUIZ)
        assert f"Your numbers (student {CHEATER!r})" in outputs
        assert f"(student {VICTIM!r})" not in outputs
        flag = graded.flags()[(CHEATER, QUIZ)]
        assert "os.chdir" in " ".join(flag["findings"])
    assert "working directory was changed" in classes.plain.outputs(CHEATER, QUIZ)


def test_runtime(classes: Classes) -> None:
    """Not a limit: the figures for the report (printed with -s)."""
    print(f"\ncnn-course grade+report: {classes.sandbox.seconds:.1f} s")
    print(f"plain nbgrader autograde+review+export: {classes.plain.seconds:.1f} s")
    assert classes.sandbox.seconds > 0


# --- the engine's comparisons, in process -------------------------------------------------


def _namespace(source: str) -> dict:
    namespace = {"np": np}
    exec(source, namespace)  # noqa: S102 -- simulated student code from this module
    return namespace


def test_lying_results_fool_numpy_but_not_the_engine() -> None:
    liar = _namespace(LIARS)
    padded = liar["zero_pad"](np.ones((2, 2)), 1)
    assert np.allclose(padded, 123.0) and (padded == 123.0)  # a visible assert would pass
    with pytest.raises(GradingFailure, match="values differ"):
        check("zero_pad", liar["zero_pad"], "basic")
    with pytest.raises(GradingFailure):
        check("conv2d", liar["conv2d"], "basic")
    with pytest.raises(GradingFailure, match="laplacian_response"):
        check_answer("laplacian_response", liar["AlwaysEqual"]())


STACK_ONLY = code(
    """
    import sys


    class Peek:
        '''Reads the expected value from the grader's frames when converted.'''

        def __array__(self, dtype=None, copy=None):
            frame = sys._getframe(1)
            while frame is not None and "expected" not in frame.f_locals:
                frame = frame.f_back
            return np.asarray(frame.f_locals["expected"] if frame else np.zeros(1), float)


    def conv2d(image, kernel, stride=1, padding=0):
        return Peek()
    """
)


def test_values_are_read_before_any_expected_value_exists() -> None:
    peek = _namespace(STACK_ONLY)
    target = answer_spec("laplacian_response").expected
    # Compared directly, the object finds the expected value on the stack...
    assert compare(target, peek["Peek"]()) is None
    # ...but the engine turns it into plain data first, when there is nothing to find.
    with pytest.raises(GradingFailure, match="laplacian_response"):
        check_answer("laplacian_response", peek["Peek"]())
    with pytest.raises(GradingFailure, match="conv2d · basic"):
        check("conv2d", peek["conv2d"], "basic")


# --- the static scan ------------------------------------------------------------------------

SCANNED = {
    "numpy-patch": (NUMPY_PATCH, "replaces numpy.allclose"),
    "assertion-patch": (ASSERTION_PATCH, "replaces builtins.AssertionError"),
    "ipython-hide": (IPYTHON_HIDE, "set_custom_exc"),
    "lying-results": (LIARS, "defines __eq__"),
    "stack-peek": (PEEK, "_getframe"),
    "reference": (REFERENCE_CONV2D, "cnn_solutions"),
    "reference-answer": (REFERENCE_ANSWER, "__import__"),
    "fake-module": (FAKE_MODULE, "sys.modules"),
    "fake-grader": (FAKE_GRADER, "imitates the grader"),
    "read-gradebook": (STEAL, "gradebook.db"),
    "profile-evasion": (PROFILE_EVASION, "setprofile"),
    "frame-tamper": (FRAME_TAMPER, "f_globals"),
    "thread": (THREAD, "threading"),
    "transformer": (TRANSFORMER, "ast_transformers"),
    "chdir": (CHDIR, "os.chdir"),
    "shell": ("!cat ../../../gradebook.db", "get_ipython"),
    "magic-cd": ("%cd ../..", "get_ipython"),
    "computed-attribute": ("f = getattr(np, 'all' + 'close')", "computed name"),
    "code-in-a-magic": ('%timeit -n1 import sys; sys.modules["x"] = None', "sys.modules"),
}


@pytest.mark.parametrize("name", SCANNED)
def test_scan_flags_each_construct(name: str) -> None:
    source, expected_text = SCANNED[name]
    found = " | ".join(what for _, what in scan_code(source))
    assert expected_text in found


def test_scan_does_not_flag_ordinary_work() -> None:
    sources = ["%timeit -n 3 conv2d(np.ones((8, 8)), np.ones((3, 3)))", "conv2d?"]
    sources += ["%%time\nout = conv2d(np.ones((8, 8)), np.ones((3, 3)))", "%matplotlib inline"]
    for assignment, (_, notebook) in ASSIGNMENTS.items():
        sources += [
            c for s in styles(assignment) for c in correct_work(assignment, s).code.values()
        ]
        sources += [
            c for m in mistakes(assignment) for c in mistake_work(assignment, m).code.values()
        ]
        sources += source_solutions(
            nbformat.read(REPO_ROOT / "source" / assignment / notebook, as_version=4)
        ).values()
    flagged = {source[:60]: scan_code(source) for source in sources if scan_code(source)}
    assert flagged == {}
    assert len(sources) > 500


# --- flags and withheld scores ------------------------------------------------------------


def test_withholding_follows_the_flags_and_the_instructors_decision(tmp_path: Path) -> None:
    from cnn_course.integrity import Finding, Review, read_withheld, withhold_scores, write_flags

    header = "assignment,duedate,timestamp,student_id,last_name,first_name,email,"
    header += "raw_score,late_submission_penalty,score,max_score\n"
    rows = [f"a1,,,{s},,,,{score},0.0,{score},35.0\n" for s, score in (("x", 20.0), ("y", 0.0))]
    rows.append("a1,,,z,,,,30.0,0.0,30.0,35.0\n")
    grades = tmp_path / "grades.csv"
    exported = header + "".join(rows)
    grades.write_text(exported)
    tampering = [Finding("cell 2", "replaces numpy.allclose")]
    reviews = [
        Review("x", "a1", tampering),
        Review("y", "a1", tampering),
        Review("z", "a1", [Finding("cell 4", "locked cell edited", withhold=False)]),
    ]
    write_flags(tmp_path, reviews)
    assert withhold_scores(grades, read_withheld(tmp_path)) == 1
    with open(grades, newline="") as handle:
        got = {r["student_id"]: (r["score"], r["review"]) for r in csv.DictReader(handle)}
    assert got["x"][0] == "withheld" and "replaces numpy.allclose" in got["x"][1]
    assert got["y"][0] == "0.0"  # nothing to withhold
    assert got["z"][0] == "30.0" and got["z"][1].startswith("score stands")
    # The instructor clears x; regrading with the same findings keeps that decision.
    flags = json.loads((tmp_path / "reports" / "flags.json").read_text())
    next(f for f in flags if f["student"] == "x")["cleared"] = True
    (tmp_path / "reports" / "flags.json").write_text(json.dumps(flags))
    write_flags(tmp_path, reviews)
    grades.write_text(exported)
    assert withhold_scores(grades, read_withheld(tmp_path)) == 0
    # A clean review removes the flag; an unflagged export stays byte for byte.
    write_flags(tmp_path, [Review(s, "a1") for s in "xyz"])
    assert json.loads((tmp_path / "reports" / "flags.json").read_text()) == []
    grades.write_text(exported)
    assert withhold_scores(grades, read_withheld(tmp_path)) == 0
    assert grades.read_text() == exported


# A name added to an engine or numpy module hides the builtin of the same name from that
# module's code (``abs`` in the engine core would make every difference 0).
SHADOWING = """
import numpy
from cnn_solutions.grading import core, guard
guard.verify()  # the snapshot is complete, as at the first check
core.abs = lambda value: 0
numpy.max = numpy.max  # rebinding an existing name is not shadowing
found = [f.text for f in guard.verify(restore=True)]
print(found)
print(hasattr(core, "abs"), [f.text for f in guard.verify(restore=True)])
"""


def test_a_name_hiding_a_builtin_in_the_engine_is_removed_and_named(tmp_path: Path) -> None:
    first, second = run_as_autograding(tmp_path, SHADOWING).splitlines()
    assert first == "['cnn_solutions.grading.core.abs was added, hiding the builtin']"
    assert second == "False []"
