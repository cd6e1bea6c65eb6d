"""Refuse a submission that holds a symbolic link, before anything of it runs.

nbgrader copies a submission's files into ``autograded/`` as root with ``shutil.copy``,
which follows links: a link in ``submitted/<student>/<assignment>`` to the reference, the
gradebook or a classmate's notebook would arrive in the student's kernel as an ordinary
file, and a linked notebook would be graded as the student's own. Links cannot come from
``nbgrader submit`` (it copies the student's files), only from someone writing into the
exchange or the course by hand, so a submission holding one is refused as a whole.

Runs first among ``Autograde.sanitize_preprocessors`` (see
:func:`cnn_course.plugins.sanitize_preprocessors`), right after nbgrader copied the
files: it removes the copies that came through links, then raises, so nbgrader records
the notebook as failed with the reason and grades nothing of it.
"""

from __future__ import annotations

import os
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor


class SubmissionRefused(ValueError):
    """A submission that cannot be graded safely; the message says why."""


def links_in(folder: Path) -> list[Path]:
    """Entries under ``folder`` that are neither regular files nor folders (links first of
    all), relative to it; links to folders are listed, never followed."""
    found = []
    for top, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(top, name)
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                found.append(path.relative_to(folder))
    return sorted(found)


class RefuseLinks(NbGraderPreprocessor):
    """Fail a submission whose folder holds a symbolic link (or a device, a pipe...)."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        bad = links_in(folder)
        if not bad:
            return nb, resources
        info = resources.get("nbgrader", {})
        coursedir = self.config.get("CourseDirectory", {})
        root = Path(coursedir.get("root") or ".")
        copies = root / coursedir.get("autograded_directory", "autograded")
        copies = copies / str(info.get("student", "")) / str(info.get("assignment", ""))
        for relative in bad:
            copy = copies / relative
            if copy.is_file() and not copy.is_symlink() and copies.name:
                copy.unlink()  # what nbgrader copied through the link
        names = ", ".join(map(str, bad[:5])) + (" ..." if len(bad) > 5 else "")
        raise SubmissionRefused(
            f"the submission holds symbolic links or special files ({names}), which "
            "nbgrader would follow as root: not graded. Remove them from the submission "
            "(a student's `nbgrader submit` never makes them) and grade again."
        )
