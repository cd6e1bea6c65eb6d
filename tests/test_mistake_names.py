"""Every mistake model is named without contradiction (issue #13).

For each function spec, each hidden case and each mistake model, the model's own result is
diagnosed as a student's would be: the feedback has at most one "Likely mistake" line
(several models giving this very result are named together, as "one of"), and each model
is named alone on at least one case, so a student who makes it is told which it is.
"""

from __future__ import annotations

import importlib

import pytest

from cnn_course.grading import MISTAKE_PREFIX
from cnn_course.grading.check import _diagnose, mistake_lines
from cnn_course.grading.core import FunctionSpec, compare, reference_result

pytestmark = pytest.mark.unit

SPECS: list[FunctionSpec] = [
    spec
    for module in ("filters", "output_size", "conv1x1", "backprop")
    for spec in importlib.import_module(f"cnn_course.grading.{module}").FUNCTIONS
]


def diagnoses(spec: FunctionSpec):
    """(case, mistake, names found) for every model that gives a wrong result on a case."""
    for suite in spec.suites.values():
        for case in suite():
            if case.raises is not None:
                continue
            expected = reference_result(spec.reference, case)
            for mistake in spec.mistakes:
                try:
                    got = reference_result(mistake.model, case)
                except Exception:  # noqa: BLE001 -- the model does not apply to this case
                    continue
                if all(
                    compare(e, g) is None
                    for e, g in zip(
                        expected if spec.parts else [expected],
                        got if spec.parts else [got],
                        strict=False,
                    )
                ):
                    continue
                yield case, mistake, _diagnose(spec, case, expected, got)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_feedback_never_names_two_mistakes(spec: FunctionSpec) -> None:
    for case, mistake, found in diagnoses(spec):
        lines = [line for line in mistake_lines(found) if MISTAKE_PREFIX in line]
        assert len(lines) <= 1, (case.label, mistake.name, lines)
        assert mistake.name in {name for name, _ in found}, (case.label, mistake.name)
        if len(found) > 1:
            assert "one of:" in lines[0]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_model_is_named_alone_on_some_case(spec: FunctionSpec) -> None:
    alone = {m.name for _, m, found in diagnoses(spec) if {n for n, _ in found} == {m.name}}
    assert {m.name for m in spec.mistakes} <= alone
