"""The quiz's variants: one per student id, stable everywhere, distinct, well posed.

The generator lives in cnn_solutions/quiz.py; students get its top part as
source/05_quiz/quiz_variant.py, which must stay an exact copy.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn_course.classroom.quiz import MISTAKES
from cnn_course.course import REPO_ROOT
from cnn_course.grading.quiz import expected_answers, quiz_answer_spec
from cnn_solutions import conv2d, conv_output_size, pool_output_size
from cnn_solutions.quiz import (
    QUESTION_KEYS,
    QUESTIONS,
    Quiz,
    autograde_student_id,
    make_numbers,
    numbers_text,
    resolve_student_id,
    student_module_source,
    write_student_module,
)

IDS = [f"student{i:03d}" for i in range(200)]
MIN_DISTINCT_SHARE = 0.95
STUDENT_MODULE = REPO_ROOT / "source" / "05_quiz" / "quiz_variant.py"
RELEASED_MODULE = REPO_ROOT / "release" / "05_quiz" / "quiz_variant.py"
# The student copy may import only these: students have no cnn_solutions.
ALLOWED_IMPORTS = {
    "__future__",
    "collections.abc",
    "dataclasses",
    "getpass",
    "hashlib",
    "numpy",
    "os",
    "pathlib",
    "typing",
}


def _canonical(value: object) -> object:
    """A hashable, exact rendering of numbers or answers, for comparing students."""
    if isinstance(value, dict):
        return tuple((k, _canonical(v)) for k, v in value.items())
    if isinstance(value, np.ndarray):
        return (value.shape, tuple(np.asarray(value, dtype=float).ravel().tolist()))
    if isinstance(value, tuple):
        return tuple(_canonical(v) for v in value)
    return value


@pytest.fixture(scope="module")
def numbers() -> dict[str, dict]:
    return {sid: make_numbers(sid) for sid in IDS}


@pytest.fixture(scope="module")
def answers() -> dict[str, dict]:
    return {sid: expected_answers(sid) for sid in IDS}


# --- one source of truth ------------------------------------------------------------


def test_student_module_is_an_exact_copy_of_the_generator() -> None:
    assert STUDENT_MODULE.read_text(encoding="utf-8") == student_module_source(), (
        "source/05_quiz/quiz_variant.py is stale: run "
        "cnn_solutions.quiz.write_student_module('source/05_quiz') and regenerate release/"
    )
    assert RELEASED_MODULE.read_bytes() == STUDENT_MODULE.read_bytes()


def test_write_student_module_writes_the_copy(tmp_path: Path) -> None:
    written = write_student_module(tmp_path)
    assert written == tmp_path / "quiz_variant.py"
    assert written.read_text(encoding="utf-8") == student_module_source()
    as_file = write_student_module(tmp_path / "other.py")
    assert as_file.read_text(encoding="utf-8") == student_module_source()


def test_student_module_needs_only_numpy_and_the_standard_library() -> None:
    source = student_module_source()
    assert "cnn_solutions" not in source
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS


# --- stable -----------------------------------------------------------------------------

PINNED = {
    ("alice", "q1"): "n = 80, f = 11, stride = 4, padding = 2",
    ("alice", "q3"): "f = 7, c_in = 16, k = 32",
    ("alice", "q9"): "size = 19, c_in = 64, k = 32, f = 5, bottleneck = 16",
    ("student000", "q1"): "n = 32, f = 11, stride = 3, padding = 1",
    ("student000", "q2"): "h = 69, w = 34, c = 16, size = 4, stride = 2",
    ("student000", "q5"): (
        "image = [[4, 6, 1, 2, 1, 9], [8, 5, 6, 9, 3, 6], [2, 0, 7, 8, 3, 9], "
        "[8, 4, 4, 0, 2, 5], [5, 7, 2, 5, 6, 1], [6, 0, 0, 9, 4, 6]], "
        "kernel = [[2, 0, 2], [-3, 1, -1], [2, -3, -1]], i = 2, j = 3"
    ),
    ("jdoe", "q11"): (
        "X = [[34, 23, 10, 25, 3, 11], [9, 14, 5, 8, 13, 15], [30, 31, 20, 33, 35, 36], "
        "[4, 17, 6, 2, 12, 1], [32, 27, 22, 18, 7, 19], [21, 29, 26, 24, 16, 28]], "
        "G = [[8, 8, 7], [7, 4, 1], [5, 4, 9]], size = 2, stride = 2"
    ),
}


@pytest.mark.parametrize(("student", "key"), list(PINNED))
def test_pinned_ids_keep_their_numbers(student: str, key: str) -> None:
    assert numbers_text(make_numbers(student)[key]) == PINNED[student, key]


def test_same_numbers_in_a_fresh_process_from_the_student_copy(tmp_path: Path) -> None:
    """The shipped copy, in a new interpreter with another hash seed, agrees exactly."""
    ids = ["alice", "bob", "student000", "x" * 40, "Zoë-ünïcode"]
    (tmp_path / "quiz_variant.py").write_text(student_module_source(), encoding="utf-8")
    script = (
        "import json, sys, quiz_variant as qv\n"
        "ids = json.loads(sys.argv[1])\n"
        "print(json.dumps({s: {k: qv.numbers_text(v) for k, v in qv.make_numbers(s).items()}"
        " for s in ids}))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(ids)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    fresh = json.loads(result.stdout)
    here = {s: {k: numbers_text(v) for k, v in make_numbers(s).items()} for s in ids}
    assert fresh == here


# --- distinct ---------------------------------------------------------------------------


def _share_differing(values: dict[str, object]) -> float:
    pairs = list(itertools.combinations(IDS, 2))
    return sum(values[a] != values[b] for a, b in pairs) / len(pairs)


def test_whole_variants_differ_for_every_pair(numbers: dict) -> None:
    canon = {sid: _canonical(numbers[sid]) for sid in IDS}
    share = _share_differing(canon)
    print(f"\nshare of pairs with different variants: {share:.4f}")
    assert share >= MIN_DISTINCT_SHARE


@pytest.mark.parametrize("key", QUESTION_KEYS)
def test_each_question_differs_between_students(numbers: dict, answers: dict, key: str) -> None:
    """Per question, most pairs differ in their numbers and in their expected answers."""
    numbers_share = _share_differing({s: _canonical(numbers[s][key]) for s in IDS})
    answers_share = _share_differing({s: _canonical(answers[s][key]) for s in IDS})
    print(f"\n{key}: numbers differ {numbers_share:.4f}, answers differ {answers_share:.4f}")
    assert numbers_share >= MIN_DISTINCT_SHARE
    assert answers_share >= MIN_DISTINCT_SHARE


# --- well posed ------------------------------------------------------------------------


def _well_posed_problems(sid: str, v: dict, expected: dict) -> list[str]:
    problems = []
    q1 = v["q1"]
    exact = (q1.n + 2 * q1.padding - q1.f) / q1.stride + 1
    if conv_output_size(q1.n, q1.f, q1.stride, q1.padding) == exact:
        problems.append("q1: floor does not matter")
    q2 = v["q2"]
    sizes = [pool_output_size(n, q2.size, q2.stride) for n in (q2.h, q2.w)]
    if min(sizes) < 2 or all((n - q2.size) % q2.stride == 0 for n in (q2.h, q2.w)):
        problems.append("q2: too small, or floor does not matter")
    for key in ("q5", "q6"):
        kernel = v[key].kernel
        if np.array_equal(kernel, kernel[::-1, ::-1]):
            problems.append(f"{key}: kernel equals its flip")
    q5 = v["q5"]
    if not (0 <= q5.i < conv2d(q5.image, q5.kernel).shape[0] and 1 <= q5.j <= 3):
        problems.append("q5: position outside the output")
    if min(expected["q6"].shape) < 2:
        problems.append("q6: output smaller than 2x2")
    q7 = v["q7"]
    if not q7.bias.all() or q7.i == q7.j:
        problems.append("q7: zero bias or a pixel on the diagonal")
    if not (v["q9"].bottleneck < v["q9"].c_in and expected["q9"] < expected["q8"]):
        problems.append("q9: the bottleneck saves nothing")
    if expected["q10"] <= 0:
        problems.append("q10: zero gradient")
    q11 = v["q11"]
    n, k, s = q11.X.shape[0], q11.size, q11.stride
    for a in range(q11.G.shape[0]):
        for b in range(q11.G.shape[1]):
            window = q11.X[a * s : a * s + k, b * s : b * s + k]
            if (window == window.max()).sum() != 1 or window.shape != (k, k):
                problems.append(f"q11: window ({a}, {b}) has a tie or runs off X")
    if (n - k) // s + 1 != q11.G.shape[0]:
        problems.append("q11: G does not match the pooled shape")
    return [f"{sid}: {p}" for p in problems]


def test_every_variant_is_well_posed(numbers: dict, answers: dict) -> None:
    problems = [p for sid in IDS for p in _well_posed_problems(sid, numbers[sid], answers[sid])]
    assert problems == []


# The main mistake of each question (the one the simulated students of
# cnn_course/classroom/quiz.py make) must give a wrong answer in every variant,
# otherwise a student making it would be lucky rather than wrong.
KEY_MISTAKES = {m.function: m.expected_mistake for m in MISTAKES}


@pytest.mark.parametrize("key", list(KEY_MISTAKES))
def test_the_main_mistake_is_wrong_in_every_variant(key: str) -> None:
    lucky = [
        sid
        for sid in IDS
        if KEY_MISTAKES[key] not in {m.name for m in quiz_answer_spec(key, sid).mistakes}
    ]
    assert lucky == []


def test_every_question_has_a_type_and_text(numbers: dict) -> None:
    quiz = Quiz("alice")
    for number, q in enumerate(QUESTIONS, start=1):
        assert q.answer_type in {"int", "tuple", "array", "float"}
        assert quiz.text(number).startswith(f"Q{number} ({q.answer_type}) {q.title}")
    assert 8 <= len(QUESTIONS) <= 12


def test_every_question_reads_a_or_an_as_its_number_is_spoken() -> None:
    """#15: the quiz said "a 11x11 filter". An 8, an 11, an 18, an 80-89; a 5, a 180."""
    seen = set()
    for student in IDS:
        quiz = Quiz(student)
        text = "\n".join(quiz.text(number) for number in range(1, len(QUESTIONS) + 1))
        for article, number in re.findall(r"\b(an?) (\d+)x\d+", text):
            spoken_vowel = number.startswith("8") or number in ("11", "18")
            assert article == ("an" if spoken_vowel else "a"), (student, article, number)
            seen.add(article)
    assert seen == {"a", "an"}  # both occur: the check looked at real cases


# --- whose id -------------------------------------------------------------------------


def test_variant_cell_overrides_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "hubname")
    assert resolve_student_id("  jdoe ") == ("jdoe", "the variant cell")
    assert resolve_student_id(12345)[0] == "12345"


def test_login_comes_from_jupyterhub_then_the_os(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "hubname")
    assert resolve_student_id(None)[0] == "hubname"
    assert resolve_student_id("")[0] == "hubname"
    monkeypatch.delenv("JUPYTERHUB_USER")
    monkeypatch.setenv("LOGNAME", "osname")  # getpass reads LOGNAME first
    assert resolve_student_id(None)[0] == "osname"


def test_autograding_uses_the_submitters_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "autograded" / "alice" / "05_quiz"
    folder.mkdir(parents=True)
    monkeypatch.setenv("JUPYTERHUB_USER", "instructor")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert autograde_student_id(folder) == "alice"
    assert autograde_student_id(tmp_path) is None
    monkeypatch.chdir(folder)
    assert resolve_student_id(None)[0] == "alice"
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert autograde_student_id(folder) is None
    assert resolve_student_id(None)[0] == "instructor"
