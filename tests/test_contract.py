"""The course contract (docs/contract.md) and the grader agree on every name.

The contract lists what students implement and answer; the hidden tests, the grading
specs and the notebooks rely on exactly those names. This test reads the contract's
tables and checks them against the grading specs and the source notebooks.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from cnn_course.course import REPO_ROOT
from cnn_course.grading import answer_names, function_names
from cnn_course.manifest import ASSIGNMENTS
from cnn_solutions.quiz import QUESTIONS

pytestmark = pytest.mark.unit

CONTRACT = REPO_ROOT / "docs" / "contract.md"
ROW = re.compile(r"^\| `(?P<name>[A-Za-z_0-9]+)(?:\((?P<params>[^)]*)\))?` \| (?P<kind>\w+)")


def contract_rows() -> dict[str, list[tuple[str, str, str | None]]]:
    """Assignment folder -> (name, kind, parameters) of each row of its table."""
    rows: dict[str, list[tuple[str, str, str | None]]] = {}
    current = None
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\d\d_\w+)/", line)
        if heading:
            current = rows.setdefault(heading[1], [])
        elif current is not None and (row := ROW.match(line)):
            current.append((row["name"], row["kind"], row["params"]))
    return rows


def test_every_assignment_has_its_table() -> None:
    assert sorted(contract_rows()) == sorted(ASSIGNMENTS)


def test_functions_and_answers_are_the_graders() -> None:
    rows = [row for table in contract_rows().values() for row in table]
    assert sorted(n for n, kind, _ in rows if kind == "function") == sorted(function_names())
    assert sorted(n for n, kind, _ in rows if kind == "answer") == sorted(answer_names())
    assert len(QUESTIONS) >= 3


def test_signatures_are_the_notebooks() -> None:
    for assignment, table in contract_rows().items():
        notebook = REPO_ROOT / "source" / assignment / ASSIGNMENTS[assignment][1]
        text = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells)
        for name, kind, params in table:
            if kind == "function":
                assert f"def {name}({params}):" in text, (assignment, name, params)
            else:
                assert re.search(rf"^#? ?{name}\b", text, re.M), (assignment, name)
