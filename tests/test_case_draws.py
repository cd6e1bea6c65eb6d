"""Per-submission cases: drawn at random, yet as telling as the fixed ones.

A submission's cases come from its own seed, so feedback seen by one student does not
answer another's. A random draw could make a mistake invisible (a true division where
every size divides) or ambiguous (a 2x2 kernel whose flip is its transpose); the engine
draws again until the cases catch and tell apart every mistake the fixed cases do.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from cnn_course.grading import backprop, conv1x1, core, filters, mistakes, output_size
from cnn_course.grading.core import Case, FunctionSpec, Mistake, case_rng, cases_for

pytestmark = pytest.mark.unit

SPECS = [spec for module in (filters, output_size, conv1x1, backprop) for spec in module.FUNCTIONS]
SUITES = [(spec, aspect) for spec in SPECS for aspect in spec.suites]


def _seeds(name: object, count: int) -> list[int]:
    rng = random.Random(name)
    return [rng.getrandbits(64) for _ in range(count)]


def _same_cases(a: list[Case], b: list[Case]) -> bool:
    return len(a) == len(b) and all(
        x.label == y.label and core._same(x.args, y.args) and core._same(x.kwargs, y.kwargs)
        for x, y in zip(a, b, strict=True)
    )


def _untelling_seed(spec: FunctionSpec, aspect: str) -> int:
    """A seed whose first draw misses or blurs a mistake the fixed cases show."""
    wanted = core._profile(spec, cases_for(spec, aspect))
    rng = random.Random(f"{spec.name}.{aspect}")
    for _ in range(400):
        seed = rng.getrandbits(64)
        if not core._as_telling(core._profile(spec, core._draw(spec, aspect, seed)), wanted):
            return seed
    raise AssertionError(f"every draw of {spec.name}.{aspect} is telling")


@pytest.mark.parametrize(
    ("name", "aspect"),
    [("correlate2d", "basic"), ("pool_output_size", "basic"), ("maxpool_backward", "overlap")],
)
def test_an_untelling_draw_is_drawn_again(name: str, aspect: str) -> None:
    spec = next(s for s in SPECS if s.name == name)
    seed = _untelling_seed(spec, aspect)
    cases = cases_for(spec, aspect, seed)
    assert not _same_cases(cases, core._draw(spec, aspect, seed))
    assert not _same_cases(cases, cases_for(spec, aspect)), "fell back to the fixed cases"
    wanted = core._profile(spec, cases_for(spec, aspect))
    assert core._as_telling(core._profile(spec, cases), wanted)
    core._drawn.clear()  # the same seed gives the same cases, kept or not
    assert _same_cases(cases_for(spec, aspect, seed), cases)


def test_the_2x2_kernel_with_equal_diagonal_names_one_mistake() -> None:
    """The case CI met: kernel [[-1, 1], [-3, -1]] flipped equals it transposed."""
    spec = filters.correlate2d_spec
    image = np.arange(9.0).reshape(3, 3)
    kernel = np.array([[-1.0, 1.0], [-3.0, -1.0]])
    named = core._case_profile(spec, Case("3x3 image, 2x2 kernel", (image, kernel)))
    flipped = next(i for i, m in enumerate(spec.mistakes) if m.name == mistakes.FLIPPED)
    assert mistakes.TRANSPOSED in named[flipped]
    # Drawn cases never name two mistakes there.
    for seed in _seeds(5, 40):
        first = cases_for(spec, "basic", seed)[0]
        assert core._case_profile(spec, first)[flipped] == {mistakes.FLIPPED}


@pytest.mark.parametrize(("spec", "aspect"), SUITES, ids=lambda v: getattr(v, "name", v))
def test_every_suite_draws_telling_cases(spec: FunctionSpec, aspect: str) -> None:
    wanted = core._profile(spec, cases_for(spec, aspect))
    fixed = cases_for(spec, aspect)
    drawn_differently = 0
    for seed in _seeds(aspect, 8):
        cases = cases_for(spec, aspect, seed)
        assert core._as_telling(core._profile(spec, cases), wanted), seed
        assert len(cases) == len(fixed)
        drawn_differently += not _same_cases(cases, fixed)
    uses_randomness = not _same_cases(core._draw(spec, aspect, 1), fixed)
    assert drawn_differently == (8 if uses_randomness else 0)


def test_cases_handed_out_cannot_change_the_kept_ones() -> None:
    spec = filters.conv2d_spec
    cases = cases_for(spec, "basic", 12345)
    before = cases[0].args[0].copy()
    cases[0].args[0][...] = 0
    assert np.array_equal(cases_for(spec, "basic", 12345)[0].args[0], before)


def _toy_spec(always_telling: bool) -> FunctionSpec:
    """sum(x), with the mistake "first element only": invisible when x has one element."""

    def suite() -> list[Case]:
        rng = case_rng(1)
        drawn = core._submission_seed.get() is not None
        size = 1 if drawn and not always_telling else 2
        return [Case("x", (rng.integers(1, 9, size=size).astype(float),))]

    return FunctionSpec(
        name="total",
        params=("x",),
        reference=lambda x: float(np.sum(x)),
        suites={"basic": suite},
        mistakes=(Mistake("first element only", "Add them all.", lambda x: float(x[0])),),
    )


def test_a_suite_that_never_draws_telling_cases_gives_the_fixed_ones() -> None:
    spec = _toy_spec(always_telling=False)
    cases = cases_for(spec, "basic", 99)
    assert _same_cases(cases, cases_for(spec, "basic"))
    assert core._profile(spec, cases) == {0: frozenset({"first element only"})}
    telling = _toy_spec(always_telling=True)
    assert not _same_cases(cases_for(telling, "basic", 99), cases_for(telling, "basic"))
