"""The review after grading (cnn_course/integrity/): its static scan and its flags.

Grades never depend on the review (the judge decides them, test_attacks.py shows it);
the review tells the instructor who tried to tamper. Here: the scan names each
construct, flags no ordinary work (every simulated student in every style, every typical
mistake, the instructor's solutions, common magics), and withholding follows the flags
and the instructor's decision.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from cnn_course.classroom import (
    ASSIGNMENTS,
    correct_work,
    mistake_work,
    mistakes,
    source_solutions,
    styles,
)
from cnn_course.course import REPO_ROOT
from cnn_course.integrity import (
    Finding,
    Review,
    read_withheld,
    scan_code,
    withhold_scores,
    write_flags,
)

pytestmark = pytest.mark.unit

SCANNED = {
    "numpy-patch": ("np.allclose = lambda *a, **k: True", "replaces numpy.allclose"),
    "assertion-patch": (
        "import builtins\nbuiltins.AssertionError = Exception",
        "replaces builtins.AssertionError",
    ),
    "ipython-hide": ("get_ipython().set_custom_exc((Exception,), print)", "set_custom_exc"),
    "lying-results": ("class Yes:\n    def __eq__(self, other):\n        return True", "__eq__"),
    "stack-peek": ("import sys\nframe = sys._getframe(1)", "_getframe"),
    "reference": ("from cnn_solutions.conv import conv2d", "cnn_solutions"),
    "probe": ("import cnn_probe\ncnn_probe.check = print", "cnn_probe"),
    "fake-module": ("import sys\nsys.modules['cnn_probe'] = None", "sys.modules"),
    "fake-verdict": ("print('✓ conv2d · basic: all 3 cases match the reference')", "imitates"),
    "read-gradebook": ("open('../../../gradebook.db').read()", "gradebook.db"),
    "thread": ("import threading\nthreading.Thread(target=print).start()", "threading"),
    "transformer": ("get_ipython().ast_transformers.append(None)", "ast_transformers"),
    "chdir": ("import os\nos.chdir('..')", "os.chdir"),
    "shell": ("!cat ../../../gradebook.db", "get_ipython"),
    "magic-cd": ("%cd ../..", "get_ipython"),
    "computed-attribute": ("f = getattr(np, 'all' + 'close')", "computed name"),
    "code-in-a-magic": ('%timeit -n1 import sys; sys.modules["x"] = None', "sys.modules"),
}


@pytest.mark.parametrize("name", SCANNED)
def test_scan_flags_each_construct(name: str) -> None:
    source, expected_text = SCANNED[name]
    found = " | ".join(what for _, what in scan_code(source))
    assert expected_text in found


def test_scan_does_not_flag_ordinary_work() -> None:
    sources = ["%timeit -n 3 conv2d(np.ones((8, 8)), np.ones((3, 3)))", "conv2d?"]
    sources += ["%%time\nout = conv2d(np.ones((8, 8)), np.ones((3, 3)))", "%matplotlib inline"]
    for assignment, (_, notebook) in ASSIGNMENTS.items():
        sources += [
            c for s in styles(assignment) for c in correct_work(assignment, s).code.values()
        ]
        sources += [
            c for m in mistakes(assignment) for c in mistake_work(assignment, m).code.values()
        ]
        sources += source_solutions(
            nbformat.read(REPO_ROOT / "source" / assignment / notebook, as_version=4)
        ).values()
    flagged = {source[:60]: scan_code(source) for source in sources if scan_code(source)}
    assert flagged == {}
    assert len(sources) > 500


def test_withholding_follows_the_flags_and_the_instructors_decision(tmp_path: Path) -> None:
    header = "assignment,duedate,timestamp,student_id,last_name,first_name,email,"
    header += "raw_score,late_submission_penalty,score,max_score\n"
    rows = [f"a1,,,{s},,,,{score},0.0,{score},35.0\n" for s, score in (("x", 20.0), ("y", 0.0))]
    rows.append("a1,,,z,,,,30.0,0.0,30.0,35.0\n")
    grades = tmp_path / "grades.csv"
    exported = header + "".join(rows)
    grades.write_text(exported)
    tampering = [Finding("cell 2", "replaces numpy.allclose")]
    reviews = [
        Review("x", "a1", tampering),
        Review("y", "a1", tampering),
        Review("z", "a1", [Finding("cell 4", "locked cell edited", withhold=False)]),
    ]
    write_flags(tmp_path, reviews)
    assert withhold_scores(grades, read_withheld(tmp_path)) == 1
    with open(grades, newline="") as handle:
        got = {r["student_id"]: (r["score"], r["review"]) for r in csv.DictReader(handle)}
    assert got["x"][0] == "withheld" and "replaces numpy.allclose" in got["x"][1]
    assert got["y"][0] == "0.0"  # nothing to withhold
    assert got["z"][0] == "30.0" and got["z"][1].startswith("score stands")
    # The instructor clears x; regrading with the same findings keeps that decision.
    flags = json.loads((tmp_path / "reports" / "flags.json").read_text())
    next(f for f in flags if f["student"] == "x")["cleared"] = True
    (tmp_path / "reports" / "flags.json").write_text(json.dumps(flags))
    write_flags(tmp_path, reviews)
    grades.write_text(exported)
    assert withhold_scores(grades, read_withheld(tmp_path)) == 0
    # A clean review removes the flag; an unflagged export stays byte for byte.
    write_flags(tmp_path, [Review(s, "a1") for s in "xyz"])
    assert json.loads((tmp_path / "reports" / "flags.json").read_text()) == []
    grades.write_text(exported)
    assert withhold_scores(grades, read_withheld(tmp_path)) == 0
    assert grades.read_text() == exported
