"""Review graded submissions for cheating attempts: flag them and withhold their scores.

Grades do not depend on this review: the judge computes every verdict in the grader's
process from plain data (:mod:`cnn_course.judging`), so an attempt to tamper with grading
gains nothing by itself. The review is the course's academic-integrity aid: it tells the
instructor who tried, and withholds the score of a submission whose code tampers, until
the instructor has looked. It runs after grading (by ``cnn-course grade``, or
``python -m cnn_course.integrity`` after plain ``nbgrader autograde``). For each
submission it reads, without changing anything:

* the **submitted notebook** against the gradebook: locked cells (test cells, given code)
  whose source or nbgrader metadata was edited or that were deleted; nbgrader restores
  them before grading, so the edit was defeated, and it is reported here;
* the **student's own code**, statically: every code cell nbgrader does not restore
  (solution cells and cells the student added) and every Python file the student added,
  walked as a syntax tree for the constructs that tamper with grading (:func:`scan_code`);
* the **submission folder**: files that notebook code could import instead of the real
  module (a ``cnn_probe/`` or ``cnn_solutions/`` package, ``.pyc``/``.pth`` files, a module
  named like one the grader uses).

Findings come in two kinds. Tampering (the scan's constructs, a fake ``cnn_probe`` or
``cnn_solutions``) **withholds** the score: in ``grades.csv`` the score
reads ``withheld`` and a ``review`` column says why; the gradebook keeps the autograde
result for the instructor. What was defeated and may be accidental (an edited or deleted
test cell, which nbgrader restored; a file named like a library module, which the grading
kernel never imports) is a **note**: the score stands. Both kinds are listed in
``<course>/reports/flags.json`` (which ``cnn-course report`` shows) and at the top of the
submission's HTML feedback.
"""

from __future__ import annotations

import argparse
import ast
import csv
import html
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from cnn_course.errors import CourseInputError
from cnn_course.feedback import course_directory
from cnn_course.grade_status import REVIEW as REVIEW_COLUMN
from cnn_course.grade_status import WITHHELD

REPORT_DIR = "reports"
FLAGS_FILE = "flags.json"
SOURCE_TAG = "cnn_course.integrity"  # marks the flags this module owns in flags.json
NOTICE_START, NOTICE_END = "<!-- cnn-integrity -->", "<!-- /cnn-integrity -->"
MAX_REASONS = 3  # findings spelled out in a flag's one-line reason; all are in "findings"

# --- what the static scan looks for ----------------------------------------------------

# Modules whose mere import in a student's cell means tampering or escaping the notebook.
SUSPICIOUS_MODULES = {
    "cnn_solutions": "imports the course's reference and grader",
    "cnn_probe": "imports the grader's probe",
    "importlib": "imports modules by hand (importlib)",
    "builtins": "reaches Python's builtins",
    "gc": "inspects the interpreter's objects (gc)",
    "ctypes": "reads or writes memory (ctypes)",
    "inspect": "inspects code and frames (inspect)",
    "types": "builds functions or code objects (types)",
    "dis": "inspects bytecode",
    "marshal": "loads code objects (marshal)",
    "pickle": "loads pickled objects",
    "runpy": "runs other code (runpy)",
    "code": "runs other code (code)",
    "codeop": "compiles code (codeop)",
    "IPython": "reaches IPython's machinery",
    "ipykernel": "reaches the kernel's machinery",
    "jupyter_client": "talks to Jupyter kernels",
    "nbgrader": "uses nbgrader",
    "nbformat": "reads notebooks",
    "nbclient": "runs notebooks",
    "sqlite3": "opens databases (the gradebook is one)",
    "subprocess": "starts processes",
    "multiprocessing": "starts processes",
    "concurrent": "starts threads or processes",
    "threading": "starts threads",
    "_thread": "starts threads",
    "signal": "changes signal handlers (the grader's time limit)",
    "resource": "changes resource limits",
    "socket": "opens network connections",
    "urllib": "opens network connections",
    "http": "opens network connections",
    "requests": "opens network connections",
    "shutil": "copies or deletes files",
    "glob": "lists files",
    "unittest": "patches objects (unittest.mock)",
    "sys": "",  # allowed; its dangerous attributes are flagged one by one
}
# Attributes that are only ever used to tamper with the interpreter, IPython or the grader.
SUSPICIOUS_ATTRIBUTES = {
    "modules": "sys.modules (swapping modules)",
    "meta_path": "import hooks",
    "path_hooks": "import hooks",
    "path_importer_cache": "import hooks",
    "setprofile": "profile hooks",
    "settrace": "trace hooks",
    "getprofile": "profile hooks",
    "gettrace": "trace hooks",
    "_getframe": "the call stack (sys._getframe)",
    "_current_frames": "the call stack",
    "excepthook": "the exception hook",
    "displayhook": "the display hook",
    "addaudithook": "audit hooks",
    "set_custom_exc": "IPython's error handling (set_custom_exc)",
    "showtraceback": "IPython's error display (showtraceback)",
    "_showtraceback": "IPython's error display",
    "showsyntaxerror": "IPython's error display",
    "InteractiveTB": "IPython's error display",
    "CustomTB": "IPython's error display",
    "run_cell": "how IPython runs cells",
    "run_cell_async": "how IPython runs cells",
    "run_code": "how IPython runs cells",
    "run_ast_nodes": "how IPython runs cells",
    "transform_cell": "how IPython runs cells",
    "input_transformers_cleanup": "IPython's input transformers",
    "input_transformers_post": "IPython's input transformers",
    "input_transformer_manager": "IPython's input transformers",
    "ast_transformers": "IPython's AST transformers",
    "user_ns": "the notebook's namespace",
    "user_global_ns": "the notebook's namespace",
    "starting_dir": "IPython's starting directory",
    "f_back": "the call stack (frames)",
    "f_globals": "the call stack (frames)",
    "f_locals": "the call stack (frames)",
    "f_trace": "the call stack (frames)",
    "tb_frame": "the call stack (frames)",
    "gi_frame": "the call stack (frames)",
    "cr_frame": "the call stack (frames)",
    "co_code": "code objects",
    "co_consts": "code objects",
    "co_filename": "code objects",
    "chdir": "changes the working directory (os.chdir)",
    "fchdir": "changes the working directory",
    "environ": "reads or changes environment variables (os.environ)",
    "getenv": "reads environment variables",
    "putenv": "changes environment variables",
    "system": "runs shell commands",
    "popen": "runs shell commands",
    "fork": "starts processes",
    "kill": "sends signals",
    "listdir": "lists folders",
    "scandir": "lists folders",
    "walk": "walks folders",
    "iterdir": "lists folders",
    "rglob": "lists folders",
    "symlink": "creates links",
    "link": "creates links",
}
# Dunder attributes and names fine in ordinary code; any other dunder is flagged.
ALLOWED_DUNDER_ATTRIBUTES = {
    "__init__",
    "__name__",
    "__doc__",
    "__class__",
    "__version__",
    "__file__",
}
ALLOWED_DUNDER_NAMES = {"__name__", "__doc__", "__debug__"}
# Methods a class may define without looking like an object that lies about itself.
ALLOWED_DUNDER_METHODS = {"__init__", "__repr__", "__str__", "__post_init__"}
# Built-in calls that run or reach code by name.
SUSPICIOUS_CALLS = {
    "exec": "runs code from a string (exec)",
    "eval": "evaluates code from a string (eval)",
    "compile": "compiles code (compile)",
    "__import__": "imports modules by hand (__import__)",
    "globals": "reaches the namespace dictionary (globals)",
    "locals": "reaches the namespace dictionary (locals)",
    "vars": "reaches namespace dictionaries (vars)",
    "setattr": "sets attributes by name (setattr)",
    "delattr": "deletes attributes by name (delattr)",
    "breakpoint": "starts a debugger",
}
# Classes that, subclassed, make results that can lie about their values.
SUSPICIOUS_BASES = {"ndarray", "int", "float", "complex", "tuple", "list", "dict", "str", "bool"}
# Calls that read files or folders: their paths are checked.
FILE_CALLS = {
    "open",
    "load",
    "loadtxt",
    "genfromtxt",
    "fromfile",
    "read_text",
    "read_bytes",
    "read_csv",
    "imread",
    "connect",
    "Path",
}
# A path in a string constant that points at the course rather than the student's folder.
COURSE_PATH = re.compile(
    r"(gradebook|autograded|submitted|nbgrader|cnn_solutions|cnn_probe|feedback/|exchange/"
    r"|(^|/)source(/|$)|(^|/)release(/|$)|\.\.(/|\\|$)|\.db\b|^/|^[A-Za-z]:\\)"
)
# Text that imitates the grader's verdicts or the guard's lines.
IMITATION = re.compile(r"[✓✗⚑]|match(es)? the reference|Likely mistake")
# IPython magics that cannot affect grading (``%timeit`` becomes a run_line_magic call).
HARMLESS_MAGICS = {"timeit", "time", "matplotlib", "precision", "pinfo", "pinfo2", "who", "whos"}
STANDARD_ALIASES = {"np": "numpy", "plt": "matplotlib.pyplot", "npt": "numpy.testing"}


@dataclass(frozen=True)
class Finding:
    """One thing found in one place of one submission.

    ``withhold``: tampering, the score is withheld; else a note, the score stands.
    """

    where: str
    what: str
    withhold: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


# --- the static scan -------------------------------------------------------------------


def python_source(cell_source: str) -> str:
    """A cell's source as plain Python: IPython's magics and ``!`` become function calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover -- IPython comes with nbgrader
        return cell_source
    try:
        return TransformerManager().transform_cell(cell_source)
    except Exception:  # noqa: BLE001 -- leave it to the parser to complain
        return cell_source


def parse(source: str) -> ast.Module | None:
    """The syntax tree of notebook code (top-level ``await`` allowed); None if invalid."""
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        return compile(python_source(source), "<cell>", "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError):
        return None


class _Scanner(ast.NodeVisitor):
    """Walks one piece of student code; collects (line, what) pairs."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = dict(aliases)  # name bound by an import -> module
        self.found: list[tuple[int, str]] = []

    def flag(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), what))

    # imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.partition(".")[0]] = alias.name
            self._module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._module(node, module)
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            self._attribute_name(node, alias.name)

    def _module(self, node: ast.AST, module: str) -> None:
        reason = SUSPICIOUS_MODULES.get(module.partition(".")[0])
        if reason:
            self.flag(node, f"{reason}: import {module}")

    # names and attributes
    def visit_Name(self, node: ast.Name) -> None:
        if _is_dunder(node.id) and node.id not in ALLOWED_DUNDER_NAMES:
            self.flag(node, f"uses {node.id}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._attribute_name(node, node.attr)
        if isinstance(node.ctx, ast.Store | ast.Del) and self._module_of(node.value):
            verb = "replaces" if isinstance(node.ctx, ast.Store) else "deletes"
            self.flag(node, f"{verb} {self._module_of(node.value)}.{node.attr}")
        self.generic_visit(node)

    def _attribute_name(self, node: ast.AST, name: str) -> None:
        if name in SUSPICIOUS_ATTRIBUTES:
            self.flag(node, f"uses .{name}: {SUSPICIOUS_ATTRIBUTES[name]}")
        elif _is_dunder(name) and name not in ALLOWED_DUNDER_ATTRIBUTES:
            self.flag(node, f"uses .{name}")

    def _module_of(self, node: ast.AST) -> str:
        """The module an expression like ``np`` or ``np.testing`` names, else ''."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, "")
        if isinstance(node, ast.Attribute):
            base = self._module_of(node.value)
            return f"{base}.{node.attr}" if base else ""
        return ""

    # calls
    def visit_Call(self, node: ast.Call) -> None:
        name = _called_name(node.func)
        if isinstance(node.func, ast.Name) and name in SUSPICIOUS_CALLS:
            self.flag(node, SUSPICIOUS_CALLS[name])
        elif isinstance(node.func, ast.Name) and name == "getattr":
            self._getattr(node)
        elif name == "get_ipython" and isinstance(node.func, ast.Name):
            self.flag(node, "uses get_ipython(): IPython's machinery")
        if name in FILE_CALLS:
            self._file_call(node, name)
        if self._harmless_magic(node):
            return  # get_ipython().run_line_magic("timeit", ...): its code was scanned
        self.generic_visit(node)

    def _getattr(self, node: ast.Call) -> None:
        if len(node.args) < 2 or not _is_str(node.args[1]):
            self.flag(node, "reads an attribute by a computed name (getattr)")
        else:
            self._attribute_name(node, node.args[1].value)

    def _file_call(self, node: ast.Call, name: str) -> None:
        paths = [a for a in [*node.args[:1], *[k.value for k in node.keywords]] if a is not None]
        if name in ("open", "connect") and paths and not _is_str(paths[0]):
            self.flag(node, f"{name}() of a computed path")
        for path in paths:
            if _is_str(path) and COURSE_PATH.search(path.value):
                self.flag(node, f"{name}() of {path.value!r}, outside the student's folder")

    def _harmless_magic(self, node: ast.Call) -> bool:
        """A magic of :data:`HARMLESS_MAGICS`, as IPython rewrites it; the code it runs
        (``%timeit stmt``, a ``%%time`` cell's body) is scanned like the cell's own."""
        func = node.func
        if not (
            isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic")
        ):
            return False
        inner = func.value
        texts = node.args[:3]
        if not (isinstance(inner, ast.Call) and _called_name(inner.func) == "get_ipython"):
            return False
        if not texts or not all(_is_str(t) for t in texts) or texts[0].value not in HARMLESS_MAGICS:
            return False
        for text in texts[1:]:
            code = _without_options(text.value)
            tree = parse(code)
            if tree is None and code.strip():
                self.flag(node, f"%{texts[0].value} runs code that cannot be read: {code[:40]!r}")
                continue
            inner_scan = _Scanner(self.aliases)
            inner_scan.visit(tree or ast.Module(body=[], type_ignores=[]))
            self.found += [(node.lineno, what) for _, what in inner_scan.found]
        return True

    # definitions
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            base_name = _called_name(base)
            if base_name in SUSPICIOUS_BASES:
                self.flag(node, f"class {node.name} subclasses {base_name}")
        for item in node.body:
            is_def = isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_def and _is_dunder(item.name) and item.name not in ALLOWED_DUNDER_METHODS:
                self.flag(item, f"class {node.name} defines {item.name}")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and IMITATION.search(node.value):
            self.flag(node, "writes text that imitates the grader's verdicts")


def _without_options(line: str) -> str:
    """``-n1 -r 3 f(x)`` -> ``f(x)``: the statement of a ``%timeit``-like magic."""
    words = line.strip().split(" ")
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if len(option) == 2 and option[1] in "nrp" and words:
            words.pop(0)  # the option's value, written apart: -n 10
    return " ".join(words)


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _called_name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def import_aliases(sources: Iterable[str]) -> dict[str, str]:
    """Names bound to modules by the imports in ``sources`` (e.g. ``np`` -> ``numpy``)."""
    aliases = dict(STANDARD_ALIASES)
    for source in sources:
        tree = parse(source)
        if tree is None:
            continue
        scanner = _Scanner(aliases)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                scanner.visit(node)
        aliases = scanner.aliases
    return aliases


def scan_code(source: str, aliases: dict[str, str] | None = None) -> list[tuple[int, str]]:
    """Constructs in student code that tamper with grading, as ``(line, what)`` pairs.

    Parameters
    ----------
    source : str
        A notebook cell (IPython syntax allowed) or a Python file.
    aliases : dict, optional
        Module names bound elsewhere in the notebook (``np`` -> ``numpy``).

    Returns
    -------
    list of (int, str)
        Empty for ordinary code. Code that does not parse cannot run, and is not flagged.
    """
    tree = parse(source)
    if tree is None:
        return []
    scanner = _Scanner(aliases or STANDARD_ALIASES)
    scanner.visit(tree)
    return list(dict.fromkeys(scanner.found))


# --- one submission --------------------------------------------------------------------


@dataclass
class Review:
    """What was found in one student's submission of one assignment."""

    student: str
    assignment: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.findings)

    @property
    def withheld(self) -> bool:
        return any(f.withhold for f in self.findings)

    def reason(self) -> str:
        """One line: what happens to the score, then the first findings (tampering first)."""
        ordered = sorted(self.findings, key=lambda f: not f.withhold)
        texts = list(dict.fromkeys(str(f) for f in ordered))
        more = len(texts) - MAX_REASONS
        head = (
            "score withheld until you look: "
            if self.withheld
            else "score stands (the grader undid this, so it gained nothing): "
        )
        return head + "; ".join(texts[:MAX_REASONS]) + (f"; and {more} more" if more > 0 else "")

    def as_flag(self) -> dict[str, object]:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "reason": self.reason(),
            "withheld": self.withheld,
            "findings": [str(f) for f in self.findings],
            "source": SOURCE_TAG,
        }


@dataclass(frozen=True)
class SourceCell:
    """A cell as the gradebook knows it."""

    name: str
    source: str  # the student's version: hidden tests removed
    locked: bool
    cell_type: str
    points: float | None


def _student_version(source: str) -> str:
    from nbformat.v4 import new_code_cell
    from nbgrader.preprocessors import ClearHiddenTests

    cell = new_code_cell(source)
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source


def gradebook_cells(gb: Gradebook, notebook: str, assignment: str) -> dict[str, SourceCell]:
    """The gradebook's cells of one notebook, by grade id, as released to students."""
    nb = gb.find_notebook(notebook, assignment)
    points = {cell.name: float(cell.max_score) for cell in nb.grade_cells}
    return {
        cell.name: SourceCell(
            cell.name,
            _student_version(cell.source) if cell.cell_type == "code" else cell.source,
            bool(cell.locked),
            cell.cell_type,
            points.get(cell.name),
        )
        for cell in nb.source_cells
    }


def _normalized(source: str) -> str:
    lines = source.replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _cell_label(index: int, cell: nbformat.NotebookNode) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")


def locked_cell_findings(
    nb: nbformat.NotebookNode, cells: dict[str, SourceCell], notebook: str
) -> list[Finding]:
    """Locked cells edited, re-flagged or deleted (nbgrader restores them before grading)."""
    found = []
    seen = set()
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        original = cells.get(meta.get("grade_id", ""))
        if original is None or not original.locked or original.name in seen:
            continue
        seen.add(original.name)
        where = f"{notebook}.ipynb {_cell_label(index, cell)}"
        if _normalized(cell.source) != _normalized(original.source):
            found.append(Finding(where, RESTORED_EDIT, withhold=False))
        changed = _changed_metadata(cell, meta, original)
        if changed:
            found.append(Finding(where, f"nbgrader metadata changed ({changed})", False))
    for name, original in cells.items():
        if original.locked and original.points is not None and name not in seen:
            what = f"test cell {name} deleted (nbgrader put it back)"
            found.append(Finding(f"{notebook}.ipynb", what, withhold=False))
    return found


RESTORED_EDIT = "locked cell edited; nbgrader graded the original from the gradebook"


def _changed_metadata(cell: nbformat.NotebookNode, meta: dict, original: SourceCell) -> str:
    changes = []
    if cell.cell_type != original.cell_type:
        changes.append(f"cell type {cell.cell_type}")
    if not meta.get("locked", False):
        changes.append("unlocked")
    if original.points is not None and float(meta.get("points") or 0) != original.points:
        changes.append(f"points {meta.get('points')} instead of {original.points:g}")
    if original.points is not None and not meta.get("grade", False):
        changes.append("no longer graded")
    return ", ".join(changes)


def student_cells(
    nb: nbformat.NotebookNode, cells: dict[str, SourceCell]
) -> Iterator[tuple[int, nbformat.NotebookNode]]:
    """Code cells nbgrader runs as the student left them: all but the restored locked ones."""
    seen = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        original = cells.get(grade_id)
        if original is not None and original.locked and grade_id not in seen:
            seen.add(grade_id)
            continue
        yield index, cell


def code_findings(
    nb: nbformat.NotebookNode, cells: dict[str, SourceCell], notebook: str
) -> list[Finding]:
    """The static scan of every student-editable code cell."""
    aliases = import_aliases(c.source for c in nb.cells if c.cell_type == "code")
    found = []
    for index, cell in student_cells(nb, cells):
        for line, what in scan_code(cell.source, aliases):
            where = f"{notebook}.ipynb {_cell_label(index, cell)}, line {line}"
            found.append(Finding(where, what))
    return found


# Modules a file in the submission must never stand in for: the grader, and the kernel's
# own machinery (the grading kernel can import from the notebook's folder). Other module
# names (numpy.py, test.py) are usually accidents, reported as notes.
GRADER_MODULES = {
    "cnn_probe",
    "cnn_solutions",
    "ipykernel",
    "IPython",
    "jupyter_client",
    "jupyter_core",
    "zmq",
    "traitlets",
    "tornado",
    "comm",
    "debugpy",
    "nbformat",
    "nbgrader",
}


def _module_names() -> set[str]:
    names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    names |= {
        "cnn_probe",
        "cnn_solutions",
        "cnn_course",
        "quiz_variant",
        "numpy",
        "matplotlib",
        "IPython",
    }
    names |= {"ipykernel", "scipy", "nbgrader", "traitlets", "zmq", "jupyter_client"}
    return names


def file_findings(submitted: Path, release: Path, source: Path) -> list[Finding]:
    """Files in the submission that notebook code could import, or that hide code."""
    shipped = {p.relative_to(release) for p in release.rglob("*") if p.is_file()}
    restored = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    modules = _module_names()
    found = []
    for path in sorted(p for p in submitted.rglob("*") if p.is_file()):
        relative = path.relative_to(submitted)
        if relative in restored or path.suffix == ".ipynb" or relative.name == "timestamp.txt":
            continue
        if ".ipynb_checkpoints" in relative.parts:
            continue
        found += _one_file(path, relative, relative in shipped, modules)
    return found


def _one_file(path: Path, relative: Path, shipped: bool, modules: set[str]) -> list[Finding]:
    where = f"file {relative.as_posix()}"
    top = relative.parts[0].removesuffix(".py")
    if path.suffix in (".pyc", ".pyo", ".pth", ".so", ".pyd") or "__pycache__" in relative.parts:
        return [Finding(where, "compiled code, which cannot be reviewed", withhold=False)]
    if path.suffix != ".py" or shipped:
        return []
    found = []
    if top in GRADER_MODULES:
        found.append(Finding(where, f"a fake {top}: would replace the grader's or kernel's own"))
    elif top in modules or top.startswith(("sitecustom", "usercustom")):
        what = f"named like the module {top} (the grading kernel does not import it from here)"
        found.append(Finding(where, what, withhold=False))
    text = path.read_text(encoding="utf-8", errors="replace")
    found += [Finding(f"{where}, line {line}", what) for line, what in scan_code(text)]
    return found


# --- the course ------------------------------------------------------------------------


def review_submission(coursedir: object, gb: Gradebook, student: str, assignment: str) -> Review:
    """Everything this module checks, for one student's submission of one assignment.

    Parameters
    ----------
    coursedir : nbgrader.coursedir.CourseDirectory
        The course's paths.
    gb : Gradebook
        The open gradebook.
    student, assignment : str
        Which submission.

    Returns
    -------
    Review
        The findings, empty for a clean submission. Nothing on disk is changed.
    """
    review = Review(student, assignment)

    def folder(step: str, who: str = student) -> Path:
        return Path(coursedir.format_path(step, who, assignment))

    submitted = folder(coursedir.submitted_directory)
    for notebook in gb.find_assignment(assignment).notebooks:
        cells = gradebook_cells(gb, notebook.name, assignment)
        path = submitted / f"{notebook.name}.ipynb"
        nb = _read(path)
        if nb is not None:
            review.findings += locked_cell_findings(nb, cells, notebook.name)
            review.findings += code_findings(nb, cells, notebook.name)
    if submitted.is_dir():
        release = folder(coursedir.release_directory, ".")
        source = folder(coursedir.source_directory, ".")
        review.findings += file_findings(submitted, release, source)
    return review


def _read(path: Path) -> nbformat.NotebookNode | None:
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 -- missing or unreadable: another tool reports that
        return None


def submitted_pairs(coursedir: object) -> list[tuple[str, str]]:
    """Every (student, assignment) with a folder in ``submitted/``."""
    root = Path(coursedir.root) / coursedir.submitted_directory
    if not root.is_dir():
        return []
    return sorted(
        (s.name, a.name) for s in root.iterdir() if s.is_dir() for a in s.iterdir() if a.is_dir()
    )


def review_course(
    root: Path | str,
    submissions: Sequence[tuple[str, str]] | None = None,
    db_url: str | None = None,
) -> list[Review]:
    """Review submissions (default: every one in ``submitted/``) of a graded course.

    Parameters
    ----------
    root : Path or str
        The course directory.
    submissions : sequence of (student, assignment), optional
        Which ones; each must be an assignment of the gradebook.
    db_url : str, optional
        Gradebook URL; default the course's.

    Returns
    -------
    list of Review
        One per submission, flagged or not.
    """
    overrides = {"CourseDirectory.db_url": db_url} if db_url else {}
    coursedir = course_directory(root, **overrides)
    pairs = list(submissions) if submissions is not None else submitted_pairs(coursedir)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        known = {a.name for a in gb.assignments}
        reviews = []
        for student, assignment in pairs:
            if assignment not in known:
                continue  # never generated: nothing to compare with (grading says so)
            try:
                reviews.append(review_submission(coursedir, gb, student, assignment))
            except MissingEntry:
                continue
            except Exception as error:  # noqa: BLE001 -- one odd submission must not stop it
                what = f"could not be reviewed ({type(error).__name__}: {error})"
                reviews.append(Review(student, assignment, [Finding("review", what, False)]))
    return reviews


# --- outputs: flags.json, grades.csv, feedback -----------------------------------------


def flags_path(root: Path | str) -> Path:
    return Path(root) / REPORT_DIR / FLAGS_FILE


def write_flags(root: Path | str, reviews: Sequence[Review]) -> Path:
    """Record flagged reviews in ``reports/flags.json``, keeping flags of others.

    This module's earlier flags for the reviewed submissions are replaced (a clean
    review removes them); flags written by anyone else are kept as they are. An
    instructor who reviewed a flag and set ``"cleared": true`` on it keeps that decision
    as long as the findings stay the same: the score is then exported again.
    """
    path = flags_path(root)
    reviewed = {(r.student, r.assignment) for r in reviews}
    old = _read_flag_entries(path)
    cleared = {
        (e.get("student"), e.get("assignment")): e.get("findings")
        for e in old
        if e.get("source") == SOURCE_TAG and e.get("cleared") is True
    }
    kept = [
        entry
        for entry in old
        if entry.get("source") != SOURCE_TAG
        or (entry.get("student"), entry.get("assignment")) not in reviewed
    ]
    new = [r.as_flag() for r in reviews if r.flagged]
    for entry in new:
        if cleared.get((entry["student"], entry["assignment"])) == entry["findings"]:
            entry["cleared"] = True
    entries = kept + new
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _read_flag_entries(path: Path) -> list[dict]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def read_withheld(root: Path | str) -> dict[tuple[str, str], tuple[str, bool]]:
    """(student, assignment) -> (reason, withhold?), for every flag in ``flags.json``.

    Flags written by other tools (without a ``withheld`` field) withhold the score; a
    flag the instructor marked ``"cleared": true`` does not.
    """
    return {
        (str(e.get("student")), str(e.get("assignment"))): (
            str(e.get("reason", "")) + (" (cleared by the instructor)" if e.get("cleared") else ""),
            bool(e.get("withheld", True)) and e.get("cleared") is not True,
        )
        for e in _read_flag_entries(flags_path(root))
    }


def withhold_scores(csv_path: Path, flags: dict[tuple[str, str], tuple[str, bool]]) -> int:
    """Withhold flagged submissions' scores in an ``nbgrader export`` CSV.

    A flagged row gets its reason in a ``review`` column; if the flag withholds and the
    score is above zero (a zero has nothing to withhold), ``raw_score`` and ``score``
    become ``withheld``. The file is left byte for byte as it was when no row is flagged.

    Returns
    -------
    int
        How many rows were withheld.
    """
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = list(rows[0]) if rows else []
    flagged = [r for r in rows if (r.get("student_id"), r.get("assignment")) in flags]
    if not flagged:
        return 0
    columns += [REVIEW_COLUMN] if REVIEW_COLUMN not in columns else []
    withheld = 0
    for row in rows:
        reason, withhold = flags.get((row.get("student_id"), row.get("assignment")), ("", False))
        row[REVIEW_COLUMN] = reason or row.get(REVIEW_COLUMN) or ""
        if withhold and _positive(row.get("raw_score")):
            row["raw_score"] = row["score"] = WITHHELD
            withheld += 1
    temporary = csv_path.with_name(f".{csv_path.name}.review.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    temporary.replace(csv_path)  # atomically: a kill leaves the export whole
    return withheld


def _positive(score: str | None) -> bool:
    try:
        return float(score or 0) > 0
    except ValueError:
        return score == WITHHELD


def feedback_notice(review: Review) -> str:
    """The HTML block put at the top of a flagged submission's feedback."""
    items = "".join(f"<li>{html.escape(str(f))}</li>" for f in review.findings)
    if review.withheld:
        title = "Flagged for review: your score is withheld"
        text = (
            "The autograder found code that interferes with grading. Your instructor will "
            "look at your submission and decide on your score. What was found:"
        )
    else:
        title = "Note from the autograder: your score stands"
        text = (
            "Some changes could not take effect: the autograder graded your work with the "
            "original test cells. Your instructor sees this note too. What was found:"
        )
    return (
        f'{NOTICE_START}<div class="cnn-integrity" style="border:2px solid #b00;'
        'padding:0.5em 1em;margin:1em 0;background:#fff4f4">'
        f"<h2>{title}</h2><p>{text}</p><ul>{items}</ul></div>{NOTICE_END}"
    )


def annotate_feedback(coursedir: object, review: Review) -> list[Path]:
    """Put the notice in (or take an old one out of) the submission's feedback pages."""
    folder = Path(
        coursedir.format_path(coursedir.feedback_directory, review.student, review.assignment)
    )
    changed = []
    for page in sorted(folder.glob("*.html")) if folder.is_dir() else []:
        text = page.read_text(encoding="utf-8")
        cleaned = re.sub(
            re.escape(NOTICE_START) + ".*?" + re.escape(NOTICE_END), "", text, flags=re.S
        )
        if review.flagged:
            cleaned = re.sub(
                r"(<body[^>]*>)", lambda m: m[1] + feedback_notice(review), cleaned, count=1
            )
        if cleaned != text:
            # Atomically: a grader killed here must leave the page whole, old or new.
            temporary = page.with_name(f".{page.name}.review.tmp")
            temporary.write_text(cleaned, encoding="utf-8")
            temporary.replace(page)
            changed.append(page)
    return changed


def review_after_grading(
    root: Path | str,
    submissions: Sequence[tuple[str, str]],
    db_url: str | None = None,
    grades_csv: Path | None = None,
) -> list[Review]:
    """Review graded submissions; write flags, withhold scores, annotate feedback.

    Called by ``cnn-course grade`` after grading, feedback and export.

    Returns
    -------
    list of Review
        Every review; the flagged ones are in ``reports/flags.json``.
    """
    reviews = review_course(root, submissions, db_url)
    write_flags(root, reviews)
    overrides = {"CourseDirectory.db_url": db_url} if db_url else {}
    coursedir = course_directory(root, **overrides)
    for review in reviews:
        annotate_feedback(coursedir, review)
    if grades_csv is not None and Path(grades_csv).is_file():
        withhold_scores(Path(grades_csv), read_withheld(root))
    return reviews


def summary_lines(reviews: Sequence[Review], root: Path | str) -> list[str]:
    """A line for the grading summary, then one per flagged submission."""
    flagged = [r for r in reviews if r.flagged]
    if not flagged:
        return [f"integrity: {len(reviews)} submissions reviewed, none flagged"]
    withheld = sum(r.withheld for r in flagged)
    lines = [
        f"integrity: {len(flagged)} of {len(reviews)} submissions flagged for review, "
        f"{withheld} with the score withheld (see {flags_path(root)})"
    ]
    return lines + [f"  {r.assignment}/{r.student}: {r.reason()}" for r in flagged]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cnn_course.integrity``: review a course after plain ``nbgrader autograde``."""
    parser = argparse.ArgumentParser(
        prog="python -m cnn_course.integrity",
        description="Review graded submissions for cheating attempts; write "
        "reports/flags.json, withhold flagged scores in grades.csv, annotate feedback.",
    )
    parser.add_argument("--course", type=Path, default=Path("."), help="course directory")
    parser.add_argument("--db", help="gradebook URL (default: the course's)")
    parser.add_argument("--grades", type=Path, help="an nbgrader export CSV to withhold in")
    parser.add_argument("--student", action="append", default=[], help="only this student")
    parser.add_argument("assignments", nargs="*", help="only these assignments")
    args = parser.parse_args(argv)
    root = args.course.resolve()
    coursedir = course_directory(root, **({"CourseDirectory.db_url": args.db} if args.db else {}))
    pairs = [
        (s, a)
        for s, a in submitted_pairs(coursedir)
        if (not args.student or s in args.student)
        and (not args.assignments or a in args.assignments)
    ]
    try:
        reviews = review_after_grading(root, pairs, args.db, args.grades)
    except CourseInputError as error:
        print(f"python -m cnn_course.integrity: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(reviews, root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
