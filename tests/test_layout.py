"""The packages' layout: small modules, and imports that only point down.

The layers, from the bottom:

* ``cnn_solutions``: the reference; imports nothing of the course.
* ``cnn_course.errors``, ``cnn_course.manifest``, ``cnn_course.config``: vocabulary.
* the other top-level modules of ``cnn_course``: the core (a course and its nbgrader
  configuration, the gradebook, the exchange, submissions); they import only each other.
* the subpackages by job, in :data:`ORDER`: each imports the core and those before it;
  ``cnn_course.commands`` (the verbs of ``cnn-course``) is last but for ``hub``, whose
  ``cnn-course hub`` verb lives in its own package.

Every import counts, those inside functions too; only ``if TYPE_CHECKING:`` blocks are
left out (they never run).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("cnn_course", "cnn_solutions", "cnn_probe")
MAX_LINES = 600
# The simulated students and the published code are lists of examples, not logic.
LONG_ALLOWED = ("cnn_course.classroom",)
VOCABULARY = {"cnn_course.errors", "cnn_course.manifest", "cnn_course.config"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            found |= set().union(*(_imports(n, package) for n in node.orelse), set())
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules() else base)
        found |= _imports(node, package)
    return found


@cache
def imports_of(name: str) -> frozenset[str]:
    """The modules of the three packages that ``name`` imports, anywhere in its code."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = _imports(ast.parse(path.read_text(encoding="utf-8")), package)
    return frozenset(m for m in found if m.split(".")[0] in PACKAGES and m != name)


def layer(name: str) -> str:
    """``cnn_course.pipeline.runner`` -> ``cnn_course.pipeline``; a top-level module -> core."""
    parts = name.split(".")
    if parts[0] != "cnn_course":
        return parts[0]
    if len(parts) == 1 or name in VOCABULARY:
        return "vocabulary" if name in VOCABULARY else "cnn_course"
    path = modules()[name]
    if len(parts) == 2 and path.name != "__init__.py":
        return "core"
    return ".".join(parts[:2])


def test_the_walk_finds_the_packages_and_their_imports() -> None:
    assert {"cnn_course.pipeline.runner", "cnn_course.commands.cli", "cnn_solutions.conv"} <= set(
        modules()
    )
    assert "cnn_course.pipeline.runner_tasks" in imports_of("cnn_course.pipeline.runner")
    assert layer("cnn_course.course") == "core"
    assert layer("cnn_course.grading.core") == "cnn_course.grading"


@pytest.mark.parametrize("name", sorted(m for m in modules() if not m.startswith(LONG_ALLOWED)))
def test_no_module_is_over_600_lines(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines; split it by job"


def test_the_reference_imports_nothing_of_the_course() -> None:
    for name in modules():
        if name.startswith("cnn_solutions"):
            assert all(m.startswith("cnn_solutions") for m in imports_of(name)), name


def test_the_vocabulary_imports_nothing() -> None:
    for name in VOCABULARY:
        assert imports_of(name) == frozenset(), name


def test_the_core_imports_only_the_core() -> None:
    for name in modules():
        if layer(name) == "core":
            up = {m for m in imports_of(name) if layer(m) not in ("core", "vocabulary")}
            up -= {"cnn_course"}
            assert not up, f"{name} reaches up to {sorted(up)}"


def test_the_judge_imports_only_the_reference_the_probe_and_the_vocabulary() -> None:
    allowed = ("cnn_course.grading", "cnn_solutions", "cnn_probe", *VOCABULARY)
    for name in modules():
        if layer(name) == "cnn_course.grading":
            extra = {m for m in imports_of(name) if not m.startswith(allowed)}
            assert not extra, f"{name} imports {sorted(extra)}"


def test_what_ships_to_students_imports_the_judge_only_inside_functions() -> None:
    # The probe runs in the student's kernel, where the judge is not importable; it falls
    # back on the judge only when called in a trusted process (the published checks).
    for name in modules():
        if name.startswith("cnn_probe"):
            tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
            top = {
                node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in tree.body
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names
            }
            assert not {m for m in top if (m or "").startswith("cnn_course")}, name
            assert all(m.startswith(("cnn_probe", "cnn_course.grading")) for m in imports_of(name))


def test_nothing_below_the_commands_imports_them() -> None:
    for name in modules():
        if layer(name) == "cnn_course.commands" or not name.startswith("cnn_course"):
            continue
        if name.startswith("cnn_course.hub"):  # ``cnn-course hub`` is a verb in its package
            continue
        up = {m for m in imports_of(name) if layer(m) == "cnn_course.commands"}
        assert not up, f"{name} imports the commands {sorted(up)}"


def test_the_simulation_is_used_only_by_the_demo() -> None:
    users = {
        name
        for name in modules()
        if layer(name) != "cnn_course.classroom"
        and any(layer(m) == "cnn_course.classroom" for m in imports_of(name))
    }
    assert all(layer(u) == "cnn_course.commands" for u in users), sorted(users)
    assert users, "the demo runs the simulated class"


# Bottom first, as the README's layout lists them: each imports only those before it.
ORDER = [
    "cnn_course.grading",
    "cnn_course.plugins",
    "cnn_course.sandbox",
    "cnn_course.integrity",
    "cnn_course.pipeline",
    "cnn_course.report",
    "cnn_course.classroom",
    "cnn_course.commands",
    "cnn_course.hub",
]


def test_every_subpackage_is_in_the_order() -> None:
    found = {layer(n) for n in modules() if layer(n).startswith("cnn_course.")}
    assert found == set(ORDER)


def test_the_subpackages_import_only_those_below_them() -> None:
    up = sorted(
        (name, target)
        for name in modules()
        if layer(name) in ORDER
        for target in imports_of(name)
        if layer(target) in ORDER and ORDER.index(layer(target)) > ORDER.index(layer(name))
    )
    assert not up, f"imports that reach up: {up}"


def _named_imports(path: Path) -> set[tuple[str, str]]:
    """``(module, name)`` for each absolute ``from <package> import name`` in ``path``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module.split(".")[0] in PACKAGES:
                found |= {(node.module, alias.name) for alias in node.names}
    return found


@pytest.mark.parametrize("folder", ["cnn_course", "cnn_solutions", "benchmarks", "tests"])
def test_every_imported_name_exists(folder: str) -> None:
    # The benchmarks run only in the slow layer: a name moved by a reorganisation would
    # otherwise be found there, half an hour later.
    import importlib

    missing = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for module, name in sorted(_named_imports(path)):
            target = importlib.import_module(module)
            if not hasattr(target, name) and f"{module}.{name}" not in modules():
                missing.append(f"{path.relative_to(REPO)}: {module}.{name}")
    assert not missing, missing
