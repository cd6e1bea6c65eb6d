"""How often the feedback names the mistake, per assignment (issue #13).

Two classes of buggy code, graded on the hidden cases in this process as the judge grades
a kernel's results (``cnn_course.classroom.published.examine``):

* published: implementations other people published, adapted to the contract
  (``cnn_course.classroom.published``), correct ones and buggy ones;
* simulated: the simulated students' mistakes in contract functions
  (``cnn_course.classroom``), which the grader was built around.

For each it prints how many correct ones kept every mark, how many buggy ones lost marks,
and named/total: how many buggy ones the feedback named in the grader's own words (a
"Likely mistake:" line with the mistake's name, or the problem "should raise ValueError").

    .venv/bin/python benchmarks/named_mistakes.py [--seed 11400714819323198485] [--list]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from cnn_course.classroom import as_source, mistakes
from cnn_course.classroom.published import Examined, Published, examine, published
from cnn_course.grading import function_names
from cnn_course.manifest import TOPICS


def simulated(assignment: str) -> list[Published]:
    functions = set(function_names())
    return [
        Published(m.function, "simulated", as_source(m.code, m.function), m.expected_mistake)
        for m in mistakes(assignment)
        if m.function in functions
    ]


def row(label: str, results: Iterable[Examined]) -> tuple[str, int, int]:
    results = list(results)
    correct = [r for r in results if r.entry.mistake is None]
    buggy = [r for r in results if r.entry.mistake is not None]
    kept = sum(not r.failed and not r.others_failed for r in correct)
    lost = sum(r.lost_marks for r in buggy)
    named = sum(r.named for r in buggy)
    share = f"{100 * named / len(buggy):5.1f}%" if buggy else "    -"
    print(
        f"{label:<28} correct kept {kept:>2}/{len(correct):<2}"
        f"  buggy lost {lost:>2}/{len(buggy):<2}  named {named:>2}/{len(buggy):<2} = {share}"
    )
    return label, named, len(buggy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="a submission's seed")
    parser.add_argument("--list", action="store_true", help="list every unnamed mistake")
    args = parser.parse_args()
    totals = {"published": [0, 0], "simulated": [0, 0]}
    unnamed = []
    for assignment in TOPICS:
        for kind, entries in (
            ("published", published(assignment)),
            ("simulated", simulated(assignment)),
        ):
            results = [examine(entry, args.seed) for entry in entries]
            _, named, total = row(f"{assignment} {kind}", results)
            totals[kind][0] += named
            totals[kind][1] += total
            unnamed += [r for r in results if r.entry.mistake is not None and not r.named]
    for kind, (named, total) in totals.items():
        print(f"all {kind:<24} named {named}/{total} = {100 * named / max(total, 1):.1f}%")
    if args.list:
        for r in unnamed:
            said = r.mistake_lines[:1] or ["(no Likely mistake line)"]
            print(f"- {r.entry.label}: {r.entry.mistake!r}; said {said[0][:160]}")


if __name__ == "__main__":
    main()
