"""The judge in the grader's process: the wire format, case injection, verdicts.

Unit layer (no kernel): what crosses from a kernel is plain data, decoded with limits; a
test cell's outputs are replaced by the verdict whatever the kernel put there; seeds are
stable per submission and change with it. The whole path through nbgrader and real
kernels is in test_attacks.py and the assignment tests.
"""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from cnn_course.grading import function_spec, judging
from cnn_course.plugins import InjectCases, JudgeResults
from cnn_course.plugins.judge_results import NO_RESULT
from cnn_probe import MIME, wire
from cnn_probe.call import call
from cnn_probe.functions import TestFunction
from cnn_solutions import conv

pytestmark = pytest.mark.unit

# --- the wire format ------------------------------------------------------------------------

VALUES = [
    None,
    True,
    3,
    -2.5,
    float("nan"),
    float("-inf"),
    "text",
    (1, 2.0),
    [1, [2, (3,)]],
    {"filters": 4, "size": 3},
    np.float32(1.5),
    np.int64(7),
    np.complex128(1 + 2j),
    np.arange(6.0).reshape(2, 3),
    np.array([[1, 2]], dtype=np.int16),
    np.array([True, False]),
    np.zeros((0, 3)),
    TestFunction("power", [2]),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_plain_values_survive_the_round_trip(value: object) -> None:
    back = wire.decode(json.loads(json.dumps(wire.encode(value))))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and np.isnan(value):
        assert np.isnan(back)
    else:
        assert back == value


class Sneaky(np.ndarray):
    """An ndarray subclass whose comparisons always say yes."""

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return True


def test_objects_cross_as_data_or_as_their_type_name() -> None:
    sneaky = np.arange(3.0).view(Sneaky)
    back = wire.decode(wire.encode(sneaky))
    assert type(back) is np.ndarray and back.tolist() == [0.0, 1.0, 2.0]
    assert wire.decode(wire.encode(object())) == wire.Opaque("object")
    assert wire.decode(wire.encode(np.array([object()]))) == wire.Opaque("ndarray of dtype object")
    assert wire.decode(wire.encode(np.arange(3).astype(">i4"))).tolist() == [0, 1, 2]


def _array(dtype: str, shape: list[int], raw: bytes) -> dict:
    return {"a": [dtype, shape, base64.b64encode(raw).decode()]}


MALFORMED = {
    "object dtype": _array("|O", [1], b"\0" * 8),
    "wrong length": _array("<f8", [2], b"\0" * 8),
    "negative shape": _array("<f8", [-1], b""),
    "not base64": {"a": ["<f8", [1], "!!!!!!!!!!!!"]},
    "unknown tag": {"p": "pickle"},
    "two tags": {"s": "a", "t": []},
    "unknown test function": {"f": ["os.system", []]},
    "bad numpy scalar": {"n": ["<i8", "1"]},
    "too deep": json.loads("[" * 40 + "]" * 40),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED)
def test_malformed_data_is_refused(data: object) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_limits_bound_what_a_kernel_can_make_the_grader_build() -> None:
    big = _array("<f8", [3_000_000], b"")
    with pytest.raises(wire.WireError, match="too many elements"):
        wire.decode(big)
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode([0] * 30_000)
    with pytest.raises(wire.WireError, match="too long"):
        wire.decode({"s": "x" * 30_000})


# --- calling student code -------------------------------------------------------------------


def test_a_call_record_says_what_happened() -> None:
    def in_place(image, pad):
        image += 1
        print("hello")
        return image

    record = call(in_place, (np.zeros(2), 1), {})
    assert record["modified"] == [0] and record["output"]["stdout"] == "hello\n"
    assert wire.decode(record["result"]).tolist() == [1.0, 1.0]
    error = call(lambda x: {}[x], ("k",), {})["error"]
    assert error["type"] == "KeyError" and "LookupError" in error["mro"]
    assert error["message"] == "'k'"


# --- finding and planning probe calls -------------------------------------------------------

CELL = """### BEGIN HIDDEN TESTS
from cnn_probe import check, check_answer
check("conv2d", conv2d, "stride")
check_answer("laplacian_response", laplacian_response)
### END HIDDEN TESTS
assert conv2d(np.ones((2, 2)), np.ones((1, 1))).shape == (2, 2)
"""


def test_probe_calls_are_found_in_order_and_given_their_inputs() -> None:
    calls = judging.probe_calls(CELL)
    assert [(c.kind, c.name, c.aspect) for c in calls] == [
        ("function", "conv2d", "stride"),
        ("answer", "laplacian_response", None),
    ]
    planned = [judging.plan(c, 7) for c in calls]
    rewritten = judging.with_remote(CELL, calls, [p.remote() for p in planned])
    assert rewritten.endswith(judging.CELL_END)
    assert "check_answer(\"laplacian_response\", laplacian_response, remote='{}')" in rewritten
    compile(rewritten, "<cell>", "exec")
    # Only literal names count: a computed name is not a check the judge could plan.
    assert judging.probe_calls('check(name, conv2d, "stride")\ncheck("x", f)') == []


def test_seeds_are_stable_per_submission_and_change_with_it(tmp_path: Path) -> None:
    secret = judging.course_secret(tmp_path / "secret")
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
    assert judging.course_secret(tmp_path / "secret") == secret and len(secret) == 32
    who = ["course", "alice", "01_filters", "filters"]
    seed = judging.submission_seed(secret, who, ["a", "b"])
    assert judging.submission_seed(secret, who, ["a", "b"]) == seed
    assert judging.submission_seed(secret, who, ["a", "b "]) != seed
    assert judging.submission_seed(secret, [*who[:1], "bob", *who[2:]], ["a", "b"]) != seed
    assert judging.submission_seed(b"other secret", who, ["a", "b"]) != seed
    spec = function_spec("conv2d")
    first = [c.args[0] for c in judging.plan(judging.probe_calls(CELL)[0], seed).cases]
    again = [c.args[0] for c in judging.plan(judging.probe_calls(CELL)[0], seed).cases]
    other = [c.args[0] for c in judging.plan(judging.probe_calls(CELL)[0], seed + 1).cases]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    assert len(first) == len(spec.suites["stride"]())


# --- the preprocessors on a notebook --------------------------------------------------------


def _graded_cell(source: str, grade_id: str) -> object:
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": grade_id,
        "points": 1,
        "schema_version": 3,
    }
    return cell


def _inject(tmp_path: Path, cells: list) -> tuple[object, dict]:
    nb = new_notebook(cells=cells)
    injector = InjectCases(secret_file=str(tmp_path / "secret"))
    resources = {"nbgrader": {"student": "alice", "assignment": "01_filters", "notebook": "f"}}
    return injector.preprocess(nb, resources)


def _probe_output(payload: object) -> object:
    return new_output("display_data", data={MIME: payload, "text/plain": "results"})


def _kernel_ran(nb: object, resources: dict, fn) -> dict:
    """What an honest kernel would send for the first planned call of each cell."""
    payloads = {}
    for index, (_, planned) in resources["cnn_course_plan"].items():
        p = planned[0]
        inputs = wire.decode(json.loads(p.remote()))
        payloads[index] = {
            "kind": "function",
            "name": p.call.name,
            "aspect": p.call.aspect,
            "calls": [call(fn, args, kwargs) for args, kwargs in inputs],
        }
    return payloads


def _scores(nb: object) -> list[bool]:
    """Whether each cell would score (nbgrader: no error output)."""
    return [all(o.output_type != "error" for o in c.outputs) for c in nb.cells]


def test_the_verdict_replaces_whatever_the_kernel_put_in_the_cell(tmp_path: Path) -> None:
    source = 'from cnn_probe import check\ncheck("conv2d", conv2d, "basic")\n'
    nb, resources = _inject(tmp_path, [_graded_cell(source, "a"), _graded_cell(source, "b")])
    honest = _kernel_ran(nb, resources, conv.conv2d)
    lying = _kernel_ran(nb, resources, lambda image, kernel, stride=1, padding=0: image)
    number = new_output("execute_result", data={"text/plain": "2"}, execution_count=1)
    fake_pass = new_output("stream", name="stdout", text="✓ conv2d · basic: all cases match\n")
    nb.cells[0].outputs = [_probe_output(honest[0]), number]
    nb.cells[1].outputs = [fake_pass, number, _probe_output(lying[1])]
    nb, _ = JudgeResults().preprocess(nb, resources)
    assert _scores(nb) == [True, False]
    assert nb.cells[0].source == source  # the instructor's source, without the inputs
    assert [o.output_type for o in nb.cells[0].outputs] == ["stream"]
    assert nb.cells[0].outputs[0].text.startswith("✓ conv2d · basic: all 2 cases match")
    assert [o.output_type for o in nb.cells[1].outputs] == ["error"]
    assert "case 1 of 2 failed" in nb.cells[1].outputs[0].evalue


def test_missing_duplicate_and_malformed_results_fail(tmp_path: Path) -> None:
    source = 'from cnn_probe import check\ncheck("zero_pad", zero_pad, "basic")\n'
    cells = [_graded_cell(source, f"c{i}") for i in range(4)]
    nb, resources = _inject(tmp_path, cells)
    honest = _kernel_ran(nb, resources, conv.zero_pad)
    name_error = new_output("error", ename="NameError", evalue="name 'zero_pad' is not defined")
    nb.cells[0].outputs = [name_error]
    nb.cells[1].outputs = [_probe_output(honest[1]), _probe_output(honest[1])]
    nb.cells[2].outputs = [_probe_output({**honest[2], "calls": honest[2]["calls"][:-1]})]
    garbage = {**honest[3], "calls": [{"result": {"a": ["|O", [1], "AAAAAAAAAAA="]}}] * 5}
    nb.cells[3].outputs = [_probe_output(garbage)]
    nb, _ = JudgeResults().preprocess(nb, resources)
    assert _scores(nb) == [False] * 4
    texts = [c.outputs[0].evalue for c in nb.cells]
    assert NO_RESULT in texts[0] and "NameError: name 'zero_pad' is not defined" in texts[0]
    assert "more than one result" in texts[1]
    assert "do not match the cases" in texts[2]
    assert "malformed result" in texts[3]


def test_a_visible_assert_failing_after_passing_checks_fails_the_cell(tmp_path: Path) -> None:
    source = 'from cnn_probe import check\ncheck("zero_pad", zero_pad, "basic")\nassert False\n'
    nb, resources = _inject(tmp_path, [_graded_cell(source, "c")])
    honest = _kernel_ran(nb, resources, conv.zero_pad)
    failed = new_output("error", ename="AssertionError", evalue="padded wrongly")
    nb.cells[0].outputs = [_probe_output(honest[0]), failed]
    nb, _ = JudgeResults().preprocess(nb, resources)
    assert _scores(nb) == [False]
    assert "visible test of this cell failed: AssertionError: padded wrongly" in (
        nb.cells[0].outputs[-1].evalue
    )


def test_a_failure_says_where_it_starts_when_a_failing_helper_is_called(tmp_path: Path) -> None:
    pad_source = 'from cnn_probe import check\ncheck("zero_pad", zero_pad, "basic")\n'
    conv_source = 'from cnn_probe import check\ncheck("conv2d", conv2d, "padding")\n'
    student = new_code_cell(
        "def conv2d(image, kernel, stride=1, padding=0):\n"
        "    padded = zero_pad(image, padding)\n    ...\n"
    )
    cells = [student, _graded_cell(pad_source, "pad"), _graded_cell(conv_source, "conv")]
    nb, resources = _inject(tmp_path, cells)

    def pads_wrongly(image, pad):
        return np.pad(image, pad + 1)

    def conv2d_with_it(image, kernel, stride=1, padding=0):
        return conv.conv2d(pads_wrongly(image, padding), kernel, stride)

    wrong_pad = _kernel_ran(nb, resources, pads_wrongly)
    wrong_conv = _kernel_ran(nb, resources, conv2d_with_it)
    nb.cells[1].outputs = [_probe_output(wrong_pad[1])]
    nb.cells[2].outputs = [_probe_output(wrong_conv[2])]
    nb, _ = JudgeResults().preprocess(nb, resources)
    assert _scores(nb) == [True, False, False]
    text = nb.cells[2].outputs[0].evalue
    assert "Where it starts: your `conv2d` calls your `zero_pad` (likely mistake: " in text
    # The helper's own failure names its mistake; the note repeats that name.
    helper_text = nb.cells[1].outputs[0].evalue
    named = helper_text.split("Likely mistake: ")[1].split(".")[0]
    assert f"(likely mistake: {named}), which fails its own checks" in text, text
    assert "Where it starts" not in nb.cells[1].outputs[0].evalue
    # A conv2d that does not call the student's zero_pad is not blamed on it.
    nb.cells[0].source = "def conv2d(image, kernel, stride=1, padding=0):\n    ...\n"
    nb2, resources2 = _inject(tmp_path, [nb.cells[0], *cells[1:]])
    nb2.cells[1].outputs = [_probe_output(_kernel_ran(nb2, resources2, pads_wrongly)[1])]
    nb2.cells[2].outputs = [_probe_output(_kernel_ran(nb2, resources2, conv2d_with_it)[2])]
    nb2, _ = JudgeResults().preprocess(nb2, resources2)
    assert "Where it starts" not in nb2.cells[2].outputs[0].evalue


def test_the_likely_mistakes_are_recorded_as_data_and_a_planted_record_is_dropped(
    tmp_path: Path,
) -> None:
    pad_source = 'from cnn_probe import check\ncheck("zero_pad", zero_pad, "channels")\n'
    conv_source = 'from cnn_probe import check\ncheck("conv2d", conv2d, "basic")\n'
    student = new_code_cell("def zero_pad(image, pad):\n    ...\n")
    student.metadata[judging.MISTAKES_KEY] = ["planted by the student"]
    cells = [student, _graded_cell(pad_source, "pad"), _graded_cell(conv_source, "conv")]
    nb, resources = _inject(tmp_path, cells)

    def pads_every_axis(image, pad):
        return np.pad(image, pad)

    nb.cells[1].outputs = [_probe_output(_kernel_ran(nb, resources, pads_every_axis)[1])]
    nb.cells[2].outputs = [_probe_output(_kernel_ran(nb, resources, conv.conv2d)[2])]
    nb.cells[2].metadata[judging.MISTAKES_KEY] = ["planted too"]
    nb, _ = JudgeResults().preprocess(nb, resources)
    assert _scores(nb) == [True, False, True]
    assert nb.cells[1].metadata[judging.MISTAKES_KEY] == ["channels padded too"]
    assert nb.cells[2].metadata[judging.MISTAKES_KEY] == []
    assert judging.MISTAKES_KEY not in nb.cells[0].metadata


def test_a_mistake_whose_name_has_a_full_stop_is_counted_whole() -> None:
    from cnn_course.report import diagnosed_mistakes

    verdicts = [
        judging.Verdict("f · a", False, "", ("np.int / np.float used (removed in NumPy 1.24)",)),
        judging.Verdict("f · b", False, "", ("flipped kernel", "axes transposed")),
        judging.Verdict("f · c", True, ""),
    ]
    cell = new_code_cell("", metadata={judging.MISTAKES_KEY: judging.named_mistakes(verdicts)})
    assert diagnosed_mistakes(cell) == [
        "np.int / np.float used (removed in NumPy 1.24)",
        "flipped kernel or axes transposed",
    ]


def test_why_a_cell_stopped_is_recorded_as_data_never_read_from_its_text(tmp_path: Path) -> None:
    from cnn_course.report.reading import _unfinished

    source = 'from cnn_probe import check\ncheck("conv2d", conv2d, "basic")\n'
    cells = [_graded_cell(source, g) for g in ("loops", "slow", "honest", "prints")]
    cells[3].metadata[judging.STOPPED_KEY] = judging.WALL_CLOCK  # planted by the student
    nb, resources = _inject(tmp_path, cells)
    honest = _kernel_ran(nb, resources, conv.conv2d)
    looping = {i: {**p, "calls": [{"timeout": 2.0} for _ in p["calls"]]} for i, p in honest.items()}
    timed_out = new_output(
        "error", ename="CellTimeoutError", evalue="A cell timed out", traceback=["timed out"]
    )
    # What a student's function can print: the judge's and nbgrader's words for a stop.
    words = "did not finish within 5 s of CPU time\nThe cell stopped with CellTimeoutError\n"
    spoof = new_output("stream", name="stdout", text=words)
    # The probe stopped the function; the visible asserts, calling it again, ran into
    # nbgrader's timeout: the cause is the loop.
    nb.cells[0].outputs = [_probe_output(looping[0]), timed_out]
    nb.cells[1].outputs = [_probe_output(honest[1]), timed_out]
    nb.cells[2].outputs = [_probe_output(honest[2])]
    nb.cells[3].outputs = [spoof, _probe_output(honest[3])]
    nb, _ = JudgeResults().preprocess(nb, resources)
    assert _scores(nb) == [False, False, True, True]  # a cell that timed out scores 0
    stopped = [c.metadata.get(judging.STOPPED_KEY) for c in nb.cells]
    assert stopped == [judging.CPU_LIMIT, judging.WALL_CLOCK, None, None]
    assert [_unfinished(c) for c in nb.cells] == [
        ("ran out of CPU time", judging.CPU_LIMIT),
        ("timed out", judging.WALL_CLOCK),
        None,
        None,
    ]
    # A cell the judge did not judge: nbgrader's own error in its outputs, not its text.
    assert _unfinished(new_code_cell("", outputs=[timed_out])) == ("timed out", judging.WALL_CLOCK)
    assert _unfinished(new_code_cell("", outputs=[spoof])) is None
