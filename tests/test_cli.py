"""The ``cnn-course`` command line: subcommand plumbing, help, errors and exit codes.

The end-to-end test runs the installed console script on a toy course built under
tmp_path: ``build`` (nbgrader generate_assignment), then ``grade`` with real kernels.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest
from course_helpers import VENV_BIN, make_course, tool_env

from cnn_course.classroom import toy
from cnn_course.commands import cli
from cnn_course.commands.build import LEAK_CHECK_MODULE

CNN_COURSE = str(VENV_BIN / "cnn-course")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``cnn-course`` script."""
    return subprocess.run(
        [CNN_COURSE, *args],
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated toy course with three submissions, never graded."""
    kinds = {"ada": "correct", "bob": "wrong", "eve": "broken"}
    return make_course(tmp_path_factory.mktemp("cli") / "course", kinds)


# ----------------------------------------------------------------------- plumbing


def test_help_lists_grade_and_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "grade" in out and "build" in out and "--course" in out


def test_grade_help_documents_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["grade", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--student", "--jobs", "--db", "--no-feedback", "--no-export", "--force"):
        assert option in out
    assert "Exit codes" in out


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: cnn-course" in capsys.readouterr().err


def test_missing_subcommand_modules_are_skipped() -> None:
    modules = cli.subcommand_modules(["cnn_course.commands.grade", "cnn_course.not_written_yet"])
    assert [m.__name__ for m in modules] == ["cnn_course.commands.grade"]


def test_a_subcommand_module_that_fails_to_import_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "needs_missing_dep.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):
        cli.subcommand_modules(["needs_missing_dep"])


def test_course_option_works_after_the_subcommand(
    course: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Both spellings reach the same course: the unknown assignment is reported for it.
    assert cli.main(["--course", str(course), "grade", "nope"]) == 2
    before = capsys.readouterr().err
    assert cli.main(["grade", "nope", "--course", str(course)]) == 2
    after = capsys.readouterr().err
    assert before == after
    assert "unknown assignment 'nope' (known: toy)" in after


# ------------------------------------------------------------- input errors: exit 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "nope"], "unknown assignment 'nope'"),
        (["grade", "--student", "zed"], "unknown student 'zed'"),
        (["grade", "--jobs", "0"], "expected a positive integer"),
        (["grade", "--db", "not a url"], "bad database URL"),
        (["grade", "--db", "sqlite:////nonexistent/g.db"], "no gradebook at /nonexistent/g.db"),
        (["build", "nope"], "unknown assignment 'nope' (known: toy)"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    course: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--course", str(course), *args]) == 2
    assert message in capsys.readouterr().err


def test_no_submissions_yet_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toy.write_toy_course(tmp_path)
    assert cli.main(["--course", str(tmp_path), "grade"]) == 2
    assert "no submissions yet" in capsys.readouterr().err
    assert cli.main(["--course", str(tmp_path), "grade", "toy"]) == 2
    assert "no submissions yet for assignment 'toy'" in capsys.readouterr().err


def test_missing_course_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    for command in ("grade", "build"):
        assert cli.main(["--course", str(tmp_path / "absent"), command]) == 2
        assert "does not exist" in capsys.readouterr().err


def test_build_without_source_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--course", str(tmp_path), "build"]) == 2
    assert "no assignments in" in capsys.readouterr().err


def test_build_fails_when_the_release_leaks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip(LEAK_CHECK_MODULE)
    toy.write_toy_course(tmp_path)
    source = tmp_path / "source" / "toy" / "squares.ipynb"
    notebook = nbformat.read(source, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell("Compare with cnn_solutions.conv2d"))
    nbformat.write(notebook, source)
    assert cli.main(["--course", str(tmp_path), "build"]) == 1
    captured = capsys.readouterr()
    assert "built release/toy" in captured.out
    assert "build failed: toy/squares.ipynb: cell 0 mentions cnn_solutions" in captured.err


# ----------------------------------------------------------------- end to end


def test_build_then_grade_end_to_end(tmp_path: Path) -> None:
    root = tmp_path / "course"
    toy.write_toy_course(root)
    built = run_cli("build", cwd=root)
    assert built.returncode == 0, built.stderr
    assert "built release/toy" in built.stdout
    assert "### BEGIN SOLUTION" not in (root / "release" / "toy" / "squares.ipynb").read_text()

    toy.write_submissions(root, {"ada": "correct", "bob": "wrong", "eve": "broken"})
    graded = run_cli("--course", str(root), "grade", "--jobs", "2", "--progress")
    # One broken notebook: the others are graded, the run reports it and exits 1.
    assert graded.returncode == 1, graded.stderr
    assert "autograded 2 of 3 submissions (0 already graded, 1 failed)" in graded.stdout
    assert "feedback: 2 generated" in graded.stdout
    assert "autograde toy/eve: nbformat.reader.NotJSONError" in graded.stderr
    assert "3/3" in graded.stderr and "failed=1" in graded.stderr  # the forced progress bar
    csv_text = (root / "grades.csv").read_text()
    assert "toy,,,ada,,,,3.0" in csv_text and "toy,,,bob,,,,0.0" in csv_text

    again = run_cli("grade", "toy", "--student", "ada", "--jobs", "1", "--no-export", cwd=root)
    assert again.returncode == 0, again.stderr
    assert "autograded 0 of 1 submissions (1 already graded, 0 failed)" in again.stdout
    assert again.stderr == ""  # not a terminal: no progress bar
