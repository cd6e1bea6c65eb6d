"""In-kernel defences of the grading engine against the student code that shares its process.

Hidden tests run in the kernel where the student's cells ran just before, so student code
can reach everything the engine relies on. While a notebook is autograded (nbgrader sets
``NBGRADER_EXECUTION``), this module holds the engine to a pristine snapshot:

* **Snapshot.** When this module is imported, and completed at the first notebook cell:
  the contents of the engine's modules (functions, their code, the grading specs and
  their expected values), of numpy's modules, of the builtins and of the standard-library
  modules the engine uses, the IPython machinery that turns an error into a failed cell,
  and the working directory. The sandbox kernel imports the grader before any student
  code runs (``cnn_course.sandbox.launcher``), so there the snapshot is pristine.
* **Restore.** Before every notebook cell (an audit hook on ``exec``, which student code
  cannot remove) and at the start of every check, whatever differs from the snapshot is
  put back and named in a line starting with :data:`MARKER`. Grading then runs on genuine
  state: a patched ``np.allclose``, a fake ``sys.modules`` entry, a replaced builtin or a
  changed working directory changes nothing (defeated) and is reported (detected). A cell
  that ran through replaced IPython machinery (input or AST transformers, a replaced
  ``run_cell``) is failed, since its code cannot be trusted.
* **Watch.** Every call of student code runs under a profile hook that notices code of the
  ``cnn_solutions`` package running inside it (the student's function used the
  reference), under the audit hook (profiling switched off, memory probed, processes
  started), and its result is turned into plain data (:func:`plain`) before any expected
  value exists, so an object whose ``__eq__`` always says True, or that looks up the stack
  for the expected value, has nothing to work with. Tampering during a call, or during a
  check, fails the check with the reason.

A kernel that imports the grader late (a plain ``python3`` kernel imports it in the first
hidden-test cell, after the student's cells ran) cannot be sure its snapshot is pristine:
there the snapshot is checked for plausibility (numpy's functions must come from numpy's
files, IPython's machinery from the libraries), and the static scan outside the kernel
(``cnn_course.integrity``) is the main defence. Nothing in-process stops a determined
attacker for good; ``docs/trust-model.md`` says what each layer covers.

Outside autograding (the instructor's tools, the test suite) only :func:`plain` acts.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import dataclasses
import functools
import hashlib
import io
import math
import os
import pathlib
import re
import signal
import sys
import tempfile
import threading
import traceback
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.linalg
import numpy.random
import numpy.testing  # visible tests use it; imported now so that it is in the snapshot

MARKER = "⚑ Integrity:"
ENTRY_POINTS = frozenset({"check", "check_answer", "check_quiz"})
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUARD_FILE = os.path.abspath(__file__)
# Engine files whose code legitimately runs inside a watched call: the engine's call
# machinery (time limit, error formatting) and this module. Neither holds reference values:
# computing one means running a reference or spec module, which the profile hook sees.
_ENGINE_FILES = frozenset({os.path.join("grading", "core.py"), os.path.join("grading", "guard.py")})
# Standard-library modules whose functions the engine and the reference use.
_STDLIB_MODULES = (
    builtins,
    contextlib,
    copy,
    dataclasses,
    functools,
    hashlib,
    io,
    math,
    os,
    os.path,
    pathlib,
    re,
    signal,
    tempfile,
    threading,
    traceback,
    types,
    warnings,
)
# Names that the interpreter, IPython, ipykernel (``input`` while a cell runs) and the
# engine itself (``warnings.catch_warnings``, ``threading.setprofile``) rebind by design.
_VOLATILE = {
    "input",
    "filters",
    "showwarning",
    "_showwarnmsg_impl",
    "defaultaction",
    "onceregistry",
    "_profile_hook",
    "_trace_hook",
    "tempdir",
    "_name_sequence",
    "_",
    "__",
    "___",
    "get_ipython",
    "display",
    "__IPYTHON__",
    "exit",
    "quit",
    "help",
    "copyright",
    "credits",
    "license",
}
# Attributes of ``sys`` that IPython, ipykernel and ordinary code set by design.
_VOLATILE_SYS = frozenset(
    {"stdout", "stderr", "stdin", "displayhook", "excepthook", "ps1", "ps2", "ps3", "path"}
    | {"last_type", "last_value", "last_traceback", "last_exc", "tracebacklimit", "argv"}
)
# Audit events that mean "this code looks into the grader's memory or starts processes".
_PROBING_EVENTS = frozenset(
    {
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys._current_frames",
        "ctypes.string_at",
        "ctypes.wstring_at",
        "ctypes.cdata",
        "ctypes.cdata/buffer",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.exec",
        "subprocess.Popen",
    }
)
_PATH_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "sqlite3.connect"})
_WATCHED_EVENTS = _PROBING_EVENTS | _PATH_EVENTS | {"exec", "os.chdir", "sys.setprofile"}
_WATCHED_EVENTS |= {"sys.settrace"}
_ERROR_DISPLAY = frozenset(
    {"showtraceback", "_showtraceback", "showsyntaxerror", "showindentationerror", "excepthook"}
)
_TRANSFORMER_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
_MISSING = object()
# Grading data (specs, cases, expected values) is compared this deep at the start and end
# of a check, and this deep (which spec fields are which objects) after each call.
_DEEP, _SHALLOW = 4, 2
# Modules whose functions a student call could change to sway its own comparison.
_COMPARISON_MODULES = frozenset(
    {"cnn_solutions.grading.core", "cnn_solutions.grading.check", "cnn_solutions.grading.guard"}
)


# --------------------------------------------------------------------------- findings


@dataclasses.dataclass(frozen=True)
class Finding:
    """Something that differs from the pristine state, in words.

    ``fatal`` findings void what they touch: the cell or check that saw them fails.
    """

    text: str
    fatal: bool = False


def _texts(findings: list[Finding]) -> list[str]:
    return list(dict.fromkeys(f.text for f in findings))


class GradingFailure(AssertionError):
    """A failed check or an untrusted cell; IPython renders only the report.

    Defined here, not in ``core`` (which imports this module and re-exports it), so that
    the guard's own failures are the engine's.
    """

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report

    def _render_traceback_(self) -> list[str]:
        return self.report.splitlines()


def _fail(subject: str, findings: list[Finding]) -> None:
    """Fail the check with the findings."""
    lines = [f"✗ {subject}: not graded, the grader's environment was tampered with"]
    lines += [f"  {MARKER} {text}" for text in _texts(findings)]
    lines.append("  This submission is flagged for review.")
    raise GradingFailure("\n".join(lines))


# --------------------------------------------------------------------------- snapshot


@dataclasses.dataclass
class _Entry:
    """One name of one namespace (a module's or a class's dict) and its pristine value."""

    owner: Any
    namespace: Any  # the owner's __dict__ (a dict, or a mappingproxy for classes)
    key: str
    value: Any

    def current(self) -> Any:
        return self.namespace.get(self.key, _MISSING)

    def restore(self) -> None:
        if isinstance(self.owner, type):
            setattr(self.owner, self.key, self.value)
        else:
            self.namespace[self.key] = self.value

    @property
    def label(self) -> str:
        return f"{getattr(self.owner, '__name__', '?')}.{self.key}"


def _entries(owner: Any, skip: set[str] | frozenset[str] = frozenset()) -> list[_Entry]:
    namespace = vars(owner)
    return [_Entry(owner, namespace, k, v) for k, v in list(namespace.items()) if k not in skip]


@functools.cache
def _library_prefixes() -> tuple[str, ...]:
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    prefixes |= {os.path.realpath(p) for p in list(prefixes)}
    prefixes.add(os.path.dirname(os.path.dirname(os.path.abspath(np.__file__))))
    return tuple(sorted(p + os.sep for p in prefixes))


def _is_library_file(filename: str) -> bool:
    """Whether code comes from the Python installation (stdlib, site-packages) or the engine."""
    return filename.startswith(_library_prefixes()) or filename.startswith(PACKAGE_DIR + os.sep)


def code_of(fn: Any) -> types.CodeType | None:
    """``fn.__code__`` for a plain Python function, else None.

    ``getattr(fn, "__code__")`` on an arbitrary callable would run its own code (a
    property, ``__getattr__``) outside any watch, with the grader's frames on the stack.
    """
    return fn.__code__ if type(fn) is types.FunctionType else None


def name_of(fn: Any) -> str:
    """A function's name for messages, read without running any of the student's code."""
    code = code_of(fn)
    return code.co_name if code is not None else "the function"


def _implementation(value: Any) -> types.FunctionType | None:
    """The Python function behind a numpy function (plain, or an array-function dispatcher)."""
    if type(value) is types.FunctionType:
        return value
    if "_implementation" not in getattr(type(value), "__dict__", {}):
        return None
    inner = value._implementation  # a getset descriptor of numpy's dispatcher type
    return inner if type(inner) is types.FunctionType else None


def _fingerprint(value: Any, depth: int = 4) -> Any:  # see _DEEP, _SHALLOW
    """A comparable record of nested engine data: identities, array bytes, fields."""
    if isinstance(value, np.ndarray):
        return ("array", id(value), value.dtype.str, value.shape, value.tobytes())
    if depth <= 0:
        return id(value)
    if type(value) in (tuple, list):
        return (id(value), tuple(_fingerprint(v, depth - 1) for v in value))
    if type(value) is dict:
        return (id(value), tuple((k, _fingerprint(v, depth - 1)) for k, v in value.items()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (id(value), tuple(_fingerprint(getattr(value, f.name), depth - 1) for f in fields))
    return id(value)


def _has_fingerprint(value: Any) -> bool:
    return isinstance(value, tuple | list | dict | np.ndarray) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    )


def _in_package(module_name: str | None) -> bool:
    return (module_name or "").partition(".")[0] == "cnn_solutions"


def _getcwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return ""


def _looks_autograded(path: str) -> bool:
    parts = os.path.normpath(path).split(os.sep) if path else []
    return len(parts) >= 3 and parts[-3] == "autograded"


class _Snapshot:
    """Pristine state, completed at the first verification (see :meth:`complete`)."""

    def __init__(self) -> None:
        self.early = "IPython" not in sys.modules  # no notebook cell can have run yet
        self.cwd = _getcwd()
        self.modules: dict[str, types.ModuleType] = {}
        self.entries: list[_Entry] = []
        self.keys: set[tuple[int, str]] = set()  # (id of namespace, key) of every entry
        self.light: list[_Entry] = []  # also checked after every student call
        self.functions: list[tuple[types.FunctionType, Any, Any, Any]] = []
        self.light_functions: list[tuple[types.FunctionType, Any, Any, Any]] = []
        self.fingerprints: list[tuple[_Entry, Any, Any]] = []  # entry, deep, shallow
        self.seen: set[int] = set()
        self.completed = False
        self.shell: list[_Entry] | None = None
        self.streams: tuple[Any, Any] | None = None
        self.implausible: list[Finding] = []  # why a late snapshot cannot be pristine
        for module in _STDLIB_MODULES:
            self._add(module, light=module is builtins, skip=_VOLATILE)
        self._add(sys, skip=_VOLATILE_SYS)  # setprofile, getprofile, _getframe ...
        for cls in (pathlib.PurePath, pathlib.Path, pathlib.PosixPath):
            self._add(cls)
        self.add_new_modules()
        if not self.early:
            self._check_builtins()

    def _check_builtins(self) -> None:
        """At a late snapshot: every builtin must be built in (no class or function of the
        notebook's)."""
        for key, value in vars(builtins).items():
            if key not in _VOLATILE and callable(value) and _from_notebook(value):
                self.implausible.append(Finding(f"builtins.{key} is not Python's own", True))

    def _add(self, owner: Any, light: bool = False, skip: Any = frozenset()) -> list[_Entry]:
        if id(owner) in self.seen:
            return []
        self.seen.add(id(owner))
        entries = _entries(owner, skip)
        self.entries += entries
        self.keys.update((id(e.namespace), e.key) for e in entries)
        if light:
            self.light += entries
        return entries

    def add_new_modules(self) -> list[Finding]:
        """Take engine and numpy modules imported since; refuse impostors."""
        found = []
        for name, module in list(sys.modules.items()):
            top = name.partition(".")[0]
            if name in self.modules or top not in ("cnn_solutions", "numpy") or module is None:
                continue
            home = PACKAGE_DIR if top == "cnn_solutions" else os.path.dirname(np.__file__)
            where = os.path.abspath(getattr(module, "__file__", None) or home)
            if not isinstance(module, types.ModuleType) or not where.startswith(home):
                found.append(Finding(f"sys.modules[{name!r}] is not the real module ({where})"))
                del sys.modules[name]
                continue
            self.modules[name] = module
            self._add_module(name, module)
        return found

    def _add_module(
        self, name: str, module: types.ModuleType, known: frozenset[str] = frozenset()
    ) -> None:
        engine = name.partition(".")[0] == "cnn_solutions"
        light = engine or name in ("numpy", "numpy.random", "numpy.linalg")
        for entry in self._add(module, light=light, skip=known):
            value = entry.value
            function = _implementation(value)
            if function is not None:
                self._add_function(function, light=name in _COMPARISON_MODULES)
                if not engine and not self.early:
                    self._check_numpy_function(entry, function)
            elif engine and isinstance(value, type) and _in_package(value.__module__):
                for member in self._add(value, light=True):
                    if type(member.value) is types.FunctionType:
                        self._add_function(member.value, light=name in _COMPARISON_MODULES)
            elif engine and _has_fingerprint(value) and not entry.key.startswith("_"):
                # public data only: private names hold the engine's own state (_timed_out)
                self.fingerprints.append(
                    (entry, _fingerprint(value), _fingerprint(value, _SHALLOW))
                )

    def _check_numpy_function(self, entry: _Entry, function: types.FunctionType) -> None:
        if not _is_library_file(function.__code__.co_filename):
            self.implausible.append(Finding(f"{entry.label} is not numpy's own", fatal=True))

    def _add_function(self, fn: types.FunctionType, light: bool = False) -> None:
        if id(fn) not in self.seen:
            self.seen.add(id(fn))
            record = (fn, fn.__code__, fn.__defaults__, fn.__kwdefaults__)
            self.functions.append(record)
            if light:
                self.light_functions.append(record)

    def complete(self) -> None:
        """Absorb what the engine's modules defined after this module was imported.

        This module is imported while ``cnn_solutions.grading`` is still executing, so its
        later names (``check``, the registry) and the topic modules come in here, at the
        first verification: before the first cell in the sandbox kernel (which also takes
        the values the kernel's start-up set), and at the first check (right after the
        hidden-test cell's import) in a plain one.
        """
        if self.completed:
            return
        self.completed = True
        if self.early:
            # Only the kernel's start-up ran since the import (ipykernel sets, e.g.,
            # sys.breakpointhook): that state is the pristine one to keep.
            for entry in self.entries:
                now = entry.current()
                entry.value = entry.value if now is _MISSING else now
        for name, module in self.modules.items():
            if name.partition(".")[0] != "cnn_solutions":
                continue
            self.seen.discard(id(module))
            known = frozenset(e.key for e in self.entries if e.owner is module)
            self._add_module(name, module, known)


# --------------------------------------------------------------------------- state


class _State:
    """The guard's mutable state (one per process)."""

    def __init__(self) -> None:
        self.armed = os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate") or (
            _looks_autograded(_getcwd())
        )
        self.snapshot = _Snapshot()
        self.busy = 0  # > 0 while the guard itself runs: its own audit events are ignored
        self.grading = 0  # > 0 while a check starts or ends
        self.own_setprofile = 0  # sys.setprofile calls made by the guard itself
        self.watch: Watch | None = None
        self.pending: list[Finding] = []  # seen by the audit hook, reported at the next check
        self.reported: set[str] = set()


# --------------------------------------------------------------------------- verification


def _verify_entries(entries: list[_Entry], restore: bool) -> list[Finding]:
    found = []
    for entry in entries:
        now = entry.current()
        if now is entry.value:
            continue
        found.append(Finding(f"{entry.label} was {'deleted' if now is _MISSING else 'replaced'}"))
        if restore:
            entry.restore()
    return found


def _verify_functions(restore: bool, light: bool) -> list[Finding]:
    found = []
    snapshot = _state.snapshot
    for fn, code, defaults, kwdefaults in snapshot.light_functions if light else snapshot.functions:
        if fn.__code__ is code and fn.__defaults__ is defaults and fn.__kwdefaults__ is kwdefaults:
            continue
        found.append(Finding(f"the code of {fn.__module__}.{fn.__qualname__} was changed"))
        if restore:
            fn.__code__, fn.__defaults__, fn.__kwdefaults__ = code, defaults, kwdefaults
    return found


def _verify_modules(restore: bool) -> list[Finding]:
    found = []
    for name, module in _state.snapshot.modules.items():
        if sys.modules.get(name) is not module:
            found.append(Finding(f"sys.modules[{name!r}] was replaced"))
            if restore:
                sys.modules[name] = module
    return found + _state.snapshot.add_new_modules()


def _verify_fingerprints(light: bool) -> list[Finding]:
    depth = _SHALLOW if light else _DEEP
    return [
        Finding(f"{entry.label} (grading data) was changed in place", fatal=True)
        for entry, deep, shallow in _state.snapshot.fingerprints
        if entry.current() is entry.value
        and (not light or entry.key == "FUNCTIONS")  # the specs being graded
        and _fingerprint(entry.value, depth) != (shallow if light else deep)
    ]


def _verify_shadowing(restore: bool) -> list[Finding]:
    """Names added to an engine or numpy module that would hide a builtin from its code."""
    found = []
    builtin_names = vars(builtins).keys()
    known = _state.snapshot.keys
    for module in _state.snapshot.modules.values():
        namespace = vars(module)
        for key in sorted(k for k in namespace.keys() & builtin_names if not k.startswith("__")):
            if (id(namespace), key) not in known:
                found.append(Finding(f"{module.__name__}.{key} was added, hiding the builtin"))
                if restore:
                    del namespace[key]
    return found


def _verify_hooks(restore: bool) -> list[Finding]:
    found = []
    if sys.gettrace() is not None:
        found.append(Finding("a trace function (sys.settrace) was active"))
        if restore:
            sys.settrace(None)
    if sys.getprofile() is not None and _state.watch is None:
        found.append(Finding("a profile function (sys.setprofile) was active"))
        if restore:
            _set_profile(None)
    return found


def _verify_cwd(restore: bool) -> list[Finding]:
    start, now = initial_cwd(), _getcwd()
    if not start or now == start:
        return []
    if restore:
        with contextlib.suppress(OSError):
            os.chdir(start)
    return [Finding(f"the working directory was changed to {now}")]


def _set_profile(function: Any) -> None:
    _state.own_setprofile += 1
    sys.setprofile(function)


def verify(restore: bool = True, light: bool = False) -> list[Finding]:
    """Compare the process with the snapshot; put back what differs; say what did.

    Parameters
    ----------
    restore : bool
        Put pristine values back.
    light : bool
        Only what one student call could change to sway its own comparison (the engine,
        numpy's main namespaces, builtins): cheap enough to run after every call.

    Returns
    -------
    list of Finding
        One per difference.
    """
    _state.busy += 1
    try:
        snapshot = _state.snapshot
        snapshot.complete()
        found = _verify_modules(restore)
        found += _verify_entries(snapshot.light if light else snapshot.entries, restore)
        found += _verify_functions(restore, light)
        found += _verify_fingerprints(light)
        if not light:
            found += _verify_shadowing(restore)
            found += _verify_hooks(restore)
            found += _verify_shell(restore)
            found += _verify_cwd(restore)
        return found
    finally:
        _state.busy -= 1


# --------------------------------------------------------------------------- IPython


def _shell() -> Any:
    module = sys.modules.get("IPython.core.getipython")
    return module.get_ipython() if module is not None else None


def _watched_objects(shell: Any) -> list[Any]:
    """Objects whose methods decide whether a cell's error reaches the notebook."""
    kernel = getattr(shell, "kernel", None)
    objects = [shell, getattr(shell, "display_pub", None), getattr(shell, "displayhook", None)]
    objects += [kernel, getattr(kernel, "session", None)]
    return [o for o in objects if o is not None]


def _foreign(value: Any) -> bool:
    """Whether a callable was written outside the libraries (i.e. in the notebook)."""
    target = getattr(value, "__func__", value)
    code = code_of(target)
    if code is None:
        call = type(target).__dict__.get("__call__")
        code = code_of(getattr(call, "__func__", call))
    if code is None:
        return (getattr(type(target), "__module__", "") or "") == "__main__"
    return not _is_library_file(code.co_filename)


def _from_notebook(value: Any) -> bool:
    """Whether a function or class was defined by notebook code (not a library's)."""
    if isinstance(value, type):
        module = sys.modules.get(value.__module__ or "")
        filename = getattr(module, "__file__", None)
        if module is None or value.__module__ == "__main__":
            return True
        return isinstance(filename, str) and not _is_library_file(filename)
    return _foreign(value)


def _verify_shell(restore: bool) -> list[Finding]:
    shell = _shell()
    if shell is None:
        return []
    snapshot = _state.snapshot
    if snapshot.shell is None:
        snapshot.shell = [e for o in _watched_objects(shell) for e in _class_entries(o)]
        snapshot.streams = (sys.stdout, sys.stderr)
        # A late first look may already see the notebook's hooks: undo them now.
        return [] if snapshot.early else _verify_shell_objects(shell, restore) + _replaced_streams()
    found = _verify_shell_objects(shell, restore)
    for entry in snapshot.shell:
        now = entry.current()
        if now is not entry.value and (now is _MISSING or _foreign(now)):
            found.append(Finding(f"IPython's {entry.label} was replaced", fatal=True))
            if restore:
                entry.restore()
    return found + _verify_streams(restore)


def _class_entries(obj: Any) -> list[_Entry]:
    return [e for cls in type(obj).__mro__[:-1] for e in _entries(cls)]


def _verify_shell_objects(shell: Any, restore: bool) -> list[Finding]:
    """Notebook code hooked into IPython: methods on the objects, transformers, callbacks."""
    found = []
    for obj in _watched_objects(shell):
        names = getattr(obj, "__dict__", {})
        for key in [k for k in list(names) if callable(names[k]) and _foreign(names[k])]:
            # Error display only hides errors, and nbgrader records a failed cell's error
            # from the kernel's reply anyway; anything else changes what code runs.
            fatal = obj is not shell or key not in _ERROR_DISPLAY
            found.append(Finding(f"IPython's {type(obj).__name__}.{key} was replaced", fatal))
            if restore:
                del names[key]
    for name in _TRANSFORMER_LISTS:
        items = getattr(shell, name, None)
        if isinstance(items, list) and any(_foreign(t) for t in items):
            found.append(Finding(f"IPython's {name} were changed", fatal=True))
            if restore:
                items[:] = [t for t in items if not _foreign(t)]
    for event, callbacks in shell.events.callbacks.items():
        if any(_foreign(c) for c in callbacks):
            found.append(Finding(f"a callback was registered for IPython's {event}", fatal=True))
            if restore:
                callbacks[:] = [c for c in callbacks if not _foreign(c)]
    if getattr(shell, "custom_exceptions", ()) != ():
        found.append(Finding("a custom exception handler was set (set_custom_exc)"))
        if restore:
            shell.set_custom_exc((), None)
    return found


def _replaced_streams() -> list[Finding]:
    """At a late first look: ipykernel's output streams must be in place."""
    if "ipykernel" not in sys.modules:
        return []
    return [
        Finding(f"sys.{name} was replaced", fatal=True)
        for name in ("stdout", "stderr")
        if not (type(getattr(sys, name)).__module__ or "").startswith("ipykernel")
    ]


def _verify_streams(restore: bool) -> list[Finding]:
    found = []
    streams = _state.snapshot.streams or (None, None)
    for name, original in zip(("stdout", "stderr"), streams, strict=True):
        if original is not None and getattr(sys, name) is not original:
            found.append(Finding(f"sys.{name} was replaced"))
            if restore:
                setattr(sys, name, original)
    return found


# --------------------------------------------------------------------------- audit hook


def _course_root() -> str:
    """``<course>`` of an autograde working directory ``<course>/autograded/<id>/<a>``."""
    start = initial_cwd()
    return os.path.dirname(os.path.dirname(os.path.dirname(start))) if start else ""


def _course_path(path: Any) -> str | None:
    """The path, if it lies in the course but outside the working directory."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str | os.PathLike):
        return None
    absolute = os.path.abspath(os.fspath(path))
    start, root = initial_cwd(), _course_root()
    if not _looks_autograded(start) or absolute.startswith(start + os.sep) or absolute == start:
        return None
    return absolute if absolute == root or absolute.startswith(root + os.sep) else None


def _on_event(event: str, args: tuple) -> None:
    watch = _state.watch
    if event == "sys.setprofile" and _state.own_setprofile:
        _state.own_setprofile -= 1
    elif event == "exec":
        if _state.armed and not _state.grading:
            _before_cell(args[0])
    elif not _by_notebook_code():
        return  # the kernel's own machinery, a library (e.g. a debugger set up at start)
    elif event in ("sys.setprofile", "sys.settrace") or event in _PROBING_EVENTS:
        if watch is not None:
            watch.findings.append(Finding(f"{event} was used during the call", fatal=True))
        elif not _state.grading and not event.startswith(("os.", "subprocess")):
            _state.pending.append(Finding(f"the notebook used {event}"))
    elif not _state.armed or _state.grading:
        return
    elif event == "os.chdir":
        _state.pending.append(Finding(f"the notebook changed the working directory to {args[0]}"))
    elif args and (where := _course_path(args[0])) is not None:
        _state.pending.append(Finding(f"the notebook accessed {where} ({event})"))


def _by_notebook_code() -> bool:
    """Whether the innermost Python code behind the current audit event is the notebook's.

    Events raised from C code (``sys.settrace``, ``gc.get_objects``) are attributed to the
    Python function that called into C: a library's (ipykernel starting a debugger) is
    not the student's doing.
    """
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return frame is None or not _is_library_file(frame.f_code.co_filename)


def _is_cell(code: Any) -> bool:
    """Whether a code object is a notebook cell (ipykernel's or IPython's cell file names)."""
    filename = getattr(code, "co_filename", None)
    if not isinstance(filename, str) or getattr(code, "co_name", "") != "<module>":
        return False
    return f"{os.sep}ipykernel_" in filename or filename.startswith("<ipython-input-")


def _before_cell(code: Any) -> None:
    """Before a notebook cell runs: put the grader's environment back as it was."""
    if not _is_cell(code):
        return  # a module being imported, exec() of a string: not a cell
    found = verify(restore=True)
    _state.pending += found
    fatal = [f for f in found if f.fatal]
    if fatal:
        # This cell was transformed, or is run, by replaced machinery: its code cannot be
        # trusted. The machinery is restored, so later cells run as written.
        lines = ["✗ this cell was not run: the notebook tampered with how cells run"]
        lines += [f"  {MARKER} {text}" for text in _texts(fatal)]
        raise GradingFailure("\n".join([*lines, "  This submission is flagged for review."]))


def _make_audit_hook(state: _State, watched: frozenset[str]) -> Callable[[str, tuple], None]:
    """The audit hook; bound to its state so it keeps working while modules shut down."""

    def audit(event: str, args: tuple) -> None:
        if event not in watched or not (state.armed or state.watch is not None) or state.busy:
            return
        state.busy += 1
        try:
            _on_event(event, args)
        except GradingFailure:
            raise
        except Exception as error:  # noqa: BLE001 -- a bug here must not break the kernel
            state.pending.append(Finding(f"the integrity guard failed on {event}: {error!r}"))
        finally:
            state.busy -= 1

    return audit


# --------------------------------------------------------------------------- checks


def initial_cwd() -> str:
    """The kernel's working directory before any notebook code ran (autograding only).

    The sandbox kernel imports this module before student code, so the directory seen
    then is the one nbgrader chose, ``autograded/<student>/<assignment>``; a kernel that
    imported it later falls back on IPython's record of its starting directory. Outside
    autograding, the current directory.
    """
    snapshot = _state.snapshot
    if not _state.armed:
        return _getcwd()
    if snapshot.early:
        return snapshot.cwd
    started = getattr(_shell(), "starting_dir", None)
    return started if isinstance(started, str) and started else snapshot.cwd


def _namespace_findings() -> list[Finding]:
    """Objects of the course's package in the notebook's namespace, but the entry points."""
    namespace = getattr(_shell(), "user_ns", None)
    if not isinstance(namespace, dict):
        return []
    found = []
    for name, value in list(namespace.items()):
        for where, item in [(name, value), *_carried(name, value)]:
            origin = _course_origin(item)
            if origin:
                found.append(Finding(f"the notebook holds {origin} (as {where})"))
                break
    return found


def _carried(name: str, value: Any) -> list[tuple[str, Any]]:
    """What a notebook function carries along: default arguments and closure cells."""
    if type(value) is not types.FunctionType:
        return []
    items = [(f"a default of {name}", d) for d in value.__defaults__ or ()]
    items += [(f"a default of {name}", d) for d in (value.__kwdefaults__ or {}).values()]
    for cell in value.__closure__ or ():
        with contextlib.suppress(ValueError):
            items.append((f"a variable of {name}", cell.cell_contents))
    return items


def _course_origin(value: Any) -> str:
    if isinstance(value, types.ModuleType):
        name = value.__name__
        return f"the module {name}" if _in_package(name) else ""
    if isinstance(value, types.FunctionType | type):
        module = value.__module__ or ""
        if _in_package(module) and value.__name__ not in ENTRY_POINTS:
            return f"{module}.{value.__qualname__}"
    return ""


def _function_findings(fn: Any, name: str) -> list[Finding]:
    code = code_of(fn)
    if code is None:
        return []
    if code.co_filename.startswith(PACKAGE_DIR + os.sep):
        return [Finding(f"`{name}` is the course's own {fn.__module__}.{fn.__name__}", True)]
    if code.co_filename.startswith("<"):
        return [Finding(f"`{name}` was made by exec/compile ({code.co_filename})")]
    return []


def begin_check(subject: str, fn: Any = None, name: str = "") -> None:
    """Start of a check: restore the environment, print what was found, fail if unsafe.

    Parameters
    ----------
    subject : str
        What is checked, e.g. ``"conv2d · stride"``, for messages.
    fn : callable, optional
        The student's function under test.
    name : str
        The contract name of ``fn``.

    Raises
    ------
    GradingFailure
        When the environment cannot be trusted (IPython's machinery replaced, a late
        snapshot that is not pristine) or ``fn`` is the reference itself.
    """
    if not _state.armed:
        return
    _state.grading += 1
    try:
        found = _state.pending + verify(restore=True) + _namespace_findings()
        # A late snapshot that is not pristine stays untrusted: every check fails.
        found += _state.snapshot.implausible + _function_findings(fn, name)
        _state.pending = []
    finally:
        _state.grading -= 1
    if any(f.fatal for f in found):
        _fail(subject, found)
    for text in _texts(found):
        if text not in _state.reported:
            _state.reported.add(text)
            print(f"{MARKER} {text} (seen when grading {subject}; flagged for review)")


def end_check(subject: str) -> None:
    """End of a passing check: anything changed while it ran fails it."""
    if not _state.armed:
        return
    _state.grading += 1
    try:
        found = verify(restore=True)
    finally:
        _state.grading -= 1
    if found:
        _fail(subject, found)


# --------------------------------------------------------------------------- watching calls


@dataclasses.dataclass
class Watch:
    """What was noticed while student code ran."""

    findings: list[Finding] = dataclasses.field(default_factory=list)


@functools.cache
def _reference_files() -> frozenset[str]:
    """Every source file of the course's package, as paths code objects may carry."""
    files = set()
    for folder, _, names in os.walk(PACKAGE_DIR):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                files |= {path, os.path.realpath(path)}
    allowed = {os.path.join(PACKAGE_DIR, name) for name in _ENGINE_FILES}
    return frozenset(files - allowed - {os.path.realpath(path) for path in allowed})


def _allowed_codes(arguments: tuple) -> frozenset[types.CodeType]:
    """Code of the callables the grader itself passes to the student's function.

    ``numerical_gradient(f, x, dout)`` is handed a function of the grader's to
    differentiate; running it (and what it calls) inside the call is the task.
    """
    codes = set()
    for value in arguments:
        target = getattr(value, "func", value) if isinstance(value, functools.partial) else value
        target = target.__func__ if isinstance(target, types.MethodType) else target
        code = code_of(target)
        if code is not None:
            codes.add(code)
    return frozenset(codes)


def _profiler(record: Watch, allowed: frozenset[types.CodeType]) -> Callable[[Any, str, Any], None]:
    files = _reference_files()
    top = os.path.dirname(PACKAGE_DIR)
    seen: set[Any] = set()
    inside: set[Any] = set()  # running frames of the grader's own callables

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "return":
            inside.discard(frame)
            return
        if event != "call":
            return
        code = frame.f_code
        if code in allowed:
            inside.add(frame)
            return
        if inside:
            return
        if code.co_filename in files and code not in seen:
            seen.add(code)
            where = f"{os.path.relpath(code.co_filename, top)}: {code.co_name}"
            record.findings.append(
                Finding(f"the course's reference code ran inside the call ({where})", True)
            )

    return profile


_HOOK_CODE = next(
    c
    for c in _profiler.__code__.co_consts
    if isinstance(c, types.CodeType) and c.co_name == "profile"
)


def in_profile_hook(frame: Any) -> bool:
    """Whether ``frame`` runs in the watch's profile hook (or in what the hook calls).

    CPython unsets a profile function that raises, and the watch reports a removed hook as
    tampering: an exception from a signal handler must not be raised there.
    """
    while frame is not None:
        if frame.f_code is _HOOK_CODE:
            return True
        frame = frame.f_back
    return False


def _foreign_threads() -> list[Finding]:
    """Threads the notebook started that are alive (they escape the profile hook)."""
    current = threading.current_thread()
    found = []
    for thread in threading.enumerate():
        target = thread.__dict__.get("_target")
        run = type(thread).__dict__.get("run")
        if thread is not current and any(f is not None and _foreign(f) for f in (target, run)):
            found.append(Finding(f"a thread started by the notebook ({thread.name}) ran", True))
    return found


@contextlib.contextmanager
def watch(arguments: tuple = ()) -> Iterator[Watch]:
    """Run student code under the profile and audit hooks; verify the engine afterwards.

    Parameters
    ----------
    arguments : tuple
        The call's arguments: the grader's own callables among them may run.

    Yields
    ------
    Watch
        Its ``findings`` name anything that voids the call's result. Outside
        autograding nothing is watched.
    """
    if not _state.armed:
        yield Watch()
        return
    record = Watch(findings=_foreign_threads())
    outer, _state.watch = _state.watch, record
    previous, previous_threads = sys.getprofile(), getattr(threading, "_profile_hook", None)
    profiler = _profiler(record, _allowed_codes(arguments))
    _set_profile(profiler)
    threading.setprofile(profiler)
    try:
        yield record
    finally:
        if sys.getprofile() is not profiler:
            record.findings.append(Finding("the profile hook was removed during the call", True))
        _set_profile(previous)
        threading.setprofile(previous_threads)
        _clear_traces()
        _state.watch = outer
        record.findings += [
            Finding(f.text + " during the call", True) for f in verify(restore=True, light=True)
        ]


def _clear_traces() -> None:
    """Remove trace functions student code set, globally or on the grader's frames."""
    if sys.gettrace() is not None:
        sys.settrace(None)
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_trace is not None:
            frame.f_trace = None
        frame = frame.f_back


def raise_if_tampered(record: Watch, subject: str) -> None:
    """Fail the check if the watched call did anything that voids its result."""
    if record.findings:
        _fail(subject, record.findings)


# --------------------------------------------------------------------------- plain data


class Opaque:
    """Stands for a result that is not plain data; its own methods are never called."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<an object of type {self.type_name}>"


_EXACT = (type(None), bool, int, float, complex, str, bytes)


def plain(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` made of builtin and numpy types, read without its own methods.

    Arrays become base ``ndarray`` copies (``subok=False``: an ndarray subclass's methods
    are never used again); tuples and lists are read through ``tuple.__getitem__`` and
    ``list.__getitem__``, so an overridden ``__iter__`` or ``__len__`` is ignored; ints and
    floats through the base type's slot. Anything else is converted to a float array now,
    while no expected value exists anywhere on the stack, or becomes an :class:`Opaque`.
    """
    kind = type(value)
    if kind in _EXACT or (kind.__module__ == "numpy" and isinstance(value, np.generic)):
        return value
    if depth > 20:
        return Opaque(kind.__name__)
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return _as_float(value, kind)
        return np.array(value, copy=True, subok=False)
    if isinstance(value, tuple):
        items = [tuple.__getitem__(value, i) for i in range(tuple.__len__(value))]
        return tuple(plain(item, depth + 1) for item in items)
    if isinstance(value, list):
        return [plain(item, depth + 1) for item in list.__getitem__(value, slice(None))]
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    return _as_float(value, kind)


def _as_float(value: Any, kind: type) -> Any:
    try:
        return np.array(value, dtype=np.float64, copy=True, subok=False)
    except Exception:  # noqa: BLE001 -- not numeric: nothing of it is usable
        return Opaque(kind.__name__)


def answer(value: Any, subject: str) -> Any:
    """An answer variable as plain data, converted under watch before its spec is looked up.

    Raises
    ------
    GradingFailure
        If the conversion ran the course's code or tampered with the grader.
    """
    with watch() as record:
        try:
            converted = plain(value)
        except Exception:  # noqa: BLE001 -- its conversion methods raised: not usable
            converted = Opaque(type(value).__name__)
    raise_if_tampered(record, subject)
    return converted


def notebook_id(notebook_quiz: Any, subject: str) -> types.SimpleNamespace | None:
    """The notebook's ``quiz.student_id`` as plain text, read under watch (quiz grading)."""
    if notebook_quiz is None:
        return None
    with watch() as record:
        try:
            found = getattr(notebook_quiz, "student_id", None)
            found = None if found is None else str.__str__(str(found))
        except Exception:  # noqa: BLE001 -- an unreadable id is no id
            found = None
    raise_if_tampered(record, subject)
    return types.SimpleNamespace(student_id=found)


def is_the_graders(expected: Any, value: Any) -> bool:
    """Whether an answer *is* the grader's own expected object (or shares its memory)."""
    if type(value) is np.ndarray and type(expected) is np.ndarray:
        return bool(np.shares_memory(expected, value))
    return value is expected and not isinstance(expected, int | float | str | tuple)


def report_answer_source(subject: str, expected: Any, raw: Any) -> None:
    """Fail an answer check whose value was taken from the grader itself."""
    if _state.armed and is_the_graders(expected, raw):
        _fail(subject, [Finding("the answer is the grader's own expected value", True)])


_state = _State()
sys.addaudithook(_make_audit_hook(_state, _WATCHED_EVENTS))
