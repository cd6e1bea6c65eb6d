"""The static scan of student code: constructs that tamper with grading.

Student code (a notebook cell, with IPython's syntax, or a Python file) is parsed and
walked as a syntax tree, never run; :func:`scan_code` lists what it found, line by line:
imports of the grader or of the interpreter's machinery, hooks, the call stack, code run
from strings, classes whose objects lie about their values, paths outside the student's
folder, text that imitates the grader's verdicts.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

# --- what the static scan looks for ----------------------------------------------------

# Modules whose mere import in a student's cell means tampering or escaping the notebook.
SUSPICIOUS_MODULES = {
    "cnn_solutions": "imports the course's reference",
    "cnn_course": "imports the course's grader",
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
