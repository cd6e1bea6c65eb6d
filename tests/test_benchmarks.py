"""The benchmarks run, on problems small enough for the suite, and print their ratios.

Their figures are measured by hand (README, closing notes); these tests only make sure a
change elsewhere has not broken them, which nothing else would notice.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_benchmark(name: str, *args: str, timeout: int = 600) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_reference_benchmark_checks_agreement_and_prints_ratios() -> None:
    out = run_benchmark("bench_reference.py", "--repeats", "2")
    assert re.search(r"agreement reference vs loops: out \S+e-1\d", out), out
    assert re.search(r"loops time / reference time .*forward \d+\.\d+x", out), out


def test_grading_benchmark_compares_serial_parallel_and_floor(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    out = run_benchmark("bench_grading.py", "--toy", "3", "--broken", "1", "--json", str(figures))
    assert "identical per-cell grades       yes" in out, out
    assert re.search(r"speedup \d+\.\d+x", out) and re.search(r"= \d+\.\d+x floor", out), out
    text = figures.read_text()
    # Three students, one of whose notebooks is not valid JSON and never runs.
    assert '"submissions": 3' in text and '"notebooks_executed": 2' in text, text


def test_sandbox_benchmark_times_both_kernels() -> None:
    out = run_benchmark("bench_sandbox.py", "--students", "1", "--rounds", "1")
    for kernel in ("python3", "cnn-grader"):
        assert re.search(rf"{kernel}\s+\d+\.\d+ s/notebook", out), out
    assert "added by the sandbox" in out, out


def test_judge_benchmark_prints_floor_grade_and_ratio() -> None:
    out = run_benchmark("bench_judge.py", "--students", "1", "--assignments", "02_output_size")
    row = re.search(r"^02_output_size\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)x.*full$", out, re.M)
    assert row, out
    floor, grade, ratio = map(float, row.groups())
    assert floor > 0 and grade > 0 and abs(grade / floor - ratio) <= 0.02 * ratio + 0.01, out
    assert re.search(r"^median ratio \d+\.\d+x \(goal <= 1\.15x", out, re.M), out


def test_cluster_benchmark_compares_serial_pool_and_dask() -> None:
    out = run_benchmark("bench_cluster.py", "--toy", "2")
    for label in ("serial nbgrader autograde", "--jobs 2", "--scheduler (2 dask workers)"):
        assert re.search(rf"{re.escape(label)}\s+\d+\.\d+ s\s+\d+\.\d+ s/notebook", out), out
    assert re.search(r"cluster overhead per notebook against the pool: [+-]\d+ ms", out), out
    assert "identical per-cell grades (all four)  yes" in out, out


def test_named_mistakes_prints_named_over_total_per_assignment() -> None:
    out = run_benchmark("named_mistakes.py", "--list")
    for kind in ("published", "simulated"):
        rows = re.findall(rf"^\d\d_\w+ {kind}\s.*named\s+(\d+)/(\d+)\s", out, re.M)
        assert len(rows) == 4, out
        total = re.search(rf"^all {kind}\s+named (\d+)/(\d+) = [\d.]+%$", out, re.M)
        assert total, out
        assert [sum(int(r[i]) for r in rows) for i in (0, 1)] == list(map(int, total.groups()))
