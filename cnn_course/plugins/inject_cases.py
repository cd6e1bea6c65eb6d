"""Before a submission runs: this submission's cases into each hidden check, as plain data.

Runs in ``Autograde`` right before ``Execute`` (see :func:`autograde_preprocessors`). For
every graded code cell it finds the probe calls (:func:`cnn_course.grading.judging.probe_calls`)
in the cell's source, which nbgrader's ``OverwriteCells`` has just restored from the
gradebook; draws each function check's cases with the submission's seed (an HMAC, under
the course's secret, of who submitted which notebook with which content); and adds their
inputs to the call as ``remote=...``. The plan (cells, calls, cases, original sources)
stays in this process's ``resources`` for :class:`~cnn_course.plugins.JudgeResults`;
the kernel only ever sees inputs.
"""

from __future__ import annotations

from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from cnn_course.grading import judging

PLAN_KEY = "cnn_course_plan"


class InjectCases(NbGraderPreprocessor):
    """Give each hidden check this submission's cases; remember them for the judge."""

    secret_file = Unicode(
        "",
        help=(
            "File holding the course's grading secret, which makes each submission's case "
            "seed unguessable (made, mode 600, on first use). Default: "
            f"{judging.SECRET_NAME} in the course directory. Several graders of one course "
            "must share it, or the same submission gets different cases on each."
        ),
    ).tag(config=True)

    def _secret_path(self) -> Path:
        if self.secret_file:
            return Path(self.secret_file)
        root = self.config.get("CourseDirectory", {}).get("root") or "."
        return Path(root) / judging.SECRET_NAME

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        info = resources.get("nbgrader", {})
        identity = [
            str(self.config.get("CourseDirectory", {}).get("course_id", "")),
            str(info.get("student", "")),
            str(info.get("assignment", "")),
            str(info.get("notebook", "")),
        ]
        seed = judging.submission_seed(
            judging.course_secret(self._secret_path()), identity, [c.source for c in nb.cells]
        )
        plan = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not utils.is_grade(cell):
                continue
            calls = judging.probe_calls(cell.source)
            if not calls:
                continue
            planned = [judging.plan(call, seed) for call in calls]
            plan[index] = (cell.source, planned)
            cell.source = judging.with_remote(cell.source, calls, [p.remote() for p in planned])
        resources[PLAN_KEY] = plan
        return nb, resources
