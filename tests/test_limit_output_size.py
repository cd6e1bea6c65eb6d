"""LimitOutputSize: the character budget of a cell's output, on cells built here."""

from __future__ import annotations

import copy

from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from cnn_course.plugins import LimitOutputSize
from cnn_course.plugins.limit_output_size import ERROR_MINIMUM_CHARS, TRUNCATED

BUDGET = 1000
DATA_BUDGET = 5000


def limited(*outputs, max_chars: int = BUDGET, max_data_chars: int = DATA_BUDGET):
    cell = new_code_cell("pass", outputs=list(outputs))
    limit = LimitOutputSize(max_chars=max_chars, max_data_chars=max_data_chars)
    cell, _ = limit.preprocess_cell(cell, {}, 0)
    return cell.outputs


def plot(chars: int):
    return new_output("display_data", data={"image/png": "A" * chars, "text/plain": "<Figure>"})


def stream(text: str):
    return new_output("stream", name="stdout", text=text)


def error(message: str, frames: int = 3):
    return new_output(
        "error", ename="ValueError", evalue=message, traceback=[f"frame {i}" for i in range(frames)]
    )


def chars(outputs) -> int:
    total = 0
    for output in outputs:
        if output.output_type == "stream":
            total += len(output.text)
        elif output.output_type == "error":
            total += len(output.evalue) + sum(map(len, output.traceback))
        else:
            total += sum(len(v) for v in output.data.values())
    return total


def test_output_within_the_budget_is_untouched() -> None:
    outputs = [
        stream("hello\n"),
        error("bad"),
        new_output("execute_result", data={"text/plain": "3"}),
    ]
    assert limited(*copy.deepcopy(outputs)) == outputs


def test_a_long_line_is_cut_with_a_note() -> None:
    (out,) = limited(stream("x" * 10 * BUDGET))
    assert out.text.startswith("x" * BUDGET)
    assert out.text.rstrip().endswith(TRUNCATED)
    assert len(out.text) <= BUDGET + len(TRUNCATED) + 2


def test_text_as_a_list_of_lines_counts_too() -> None:
    (out,) = limited(stream(["y" * BUDGET, "y" * BUDGET]))
    assert TRUNCATED in out.text and len(out.text) < 2 * BUDGET


def test_the_budget_is_per_cell_and_later_outputs_are_dropped() -> None:
    outputs = limited(*(stream("z" * (BUDGET // 3)) for _ in range(10)))
    assert len(outputs) == 4
    assert outputs[-1].text.rstrip().endswith(TRUNCATED)
    assert chars(outputs) <= BUDGET + len(TRUNCATED) + 2


def test_an_error_is_always_kept_so_the_cell_still_fails() -> None:
    outputs = limited(stream("w" * 5 * BUDGET), error("m" * 5 * BUDGET, frames=50))
    assert [o.output_type for o in outputs] == ["stream", "error"]
    failure = outputs[1]
    assert failure.ename == "ValueError"
    assert failure.evalue.startswith("m" * ERROR_MINIMUM_CHARS) and TRUNCATED in failure.evalue
    assert len(failure.traceback) < 50


def test_a_long_traceback_is_cut_at_the_budget() -> None:
    (failure,) = limited(error("short", frames=10_000))
    assert failure.traceback[-1].rstrip().endswith(TRUNCATED)
    assert chars([failure]) <= BUDGET + len(TRUNCATED) + 2


def test_an_image_that_does_not_fit_is_dropped_not_cut() -> None:
    (out,) = limited(plot(2 * DATA_BUDGET))
    assert dict(out.data) == {"text/plain": "<Figure>"}
    (alone,) = limited(new_output("display_data", data={"image/png": "A" * 2 * DATA_BUDGET}))
    assert dict(alone.data) == {"text/plain": TRUNCATED}


def test_plots_have_their_own_budget() -> None:
    """A plot is far more characters than the text budget; the course's own plots stay."""
    outputs = limited(stream("s" * 2 * BUDGET), plot(DATA_BUDGET // 2), plot(DATA_BUDGET // 2))
    assert [len(o.data.get("image/png", "")) for o in outputs[1:]] == [DATA_BUDGET // 2] * 2
    assert [dict(o.data).get("text/plain") for o in outputs[1:]] == [None, None]  # text spent
    third = limited(plot(DATA_BUDGET // 2), plot(DATA_BUDGET // 2), plot(DATA_BUDGET // 2))
    assert ["image/png" in o.data for o in third] == [True, True, False]


def test_a_flood_of_small_results_is_cut_off() -> None:
    many = [new_output("display_data", data={"text/plain": f"{i:09d}\n"}) for i in range(1000)]
    outputs = limited(*copy.deepcopy(many))
    assert outputs == many[: BUDGET // 10]


def test_a_huge_result_keeps_its_plain_text_head() -> None:
    data = {"text/plain": "'" + "x" * 10 * BUDGET + "'", "text/html": "<b>" * 10 * BUDGET}
    (out,) = limited(new_output("execute_result", data=data, execution_count=1))
    assert set(out.data) == {"text/plain"}
    assert out.data["text/plain"].startswith("'xxx") and TRUNCATED in out.data["text/plain"]


def test_no_limit_and_markdown_cells_are_left_alone() -> None:
    huge = [stream("v" * 10 * BUDGET), plot(10 * DATA_BUDGET)]
    assert limited(*copy.deepcopy(huge), max_chars=-1, max_data_chars=-1) == huge
    cell = new_markdown_cell("x" * 10 * BUDGET)
    assert LimitOutputSize(max_chars=10).preprocess_cell(copy.deepcopy(cell), {}, 0)[0] == cell
