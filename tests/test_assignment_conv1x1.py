"""03_conv1x1 through the real nbgrader apps: generate, submit, autograde, read grades.

The checks every assignment passes are in :class:`assignment_helpers.PipelineChecks`; here,
the written answer that waits for a human. To keep the run short, mistakes in *different*
contract names share a submission; ``test_grading_conv1x1.py`` checks every mistake alone.
"""

from __future__ import annotations

from assignment_helpers import CONV1X1, Graded, PipelineChecks


class TestConv1x1Pipeline(PipelineChecks):
    assignment = CONV1X1

    def test_written_answer_waits_for_a_human(self, graded: Graded) -> None:
        name, points = "why_1x1", CONV1X1.manual_points["why_1x1"]
        with graded.course.gradebook() as gb:
            answered = gb.find_submission_notebook("conv1x1", CONV1X1.name, "correct")
            written = next(g for g in answered.grades if g.name == name)
            assert written.max_score == points
            assert written.auto_score is None and written.needs_manual_grade
            # nbgrader scores an untouched answer 0 by itself: nothing for a human to read.
            blank = gb.find_submission_notebook("conv1x1", CONV1X1.name, "blank")
            unanswered = next(g for g in blank.grades if g.name == name)
            assert unanswered.auto_score == 0 and not unanswered.needs_manual_grade
        text = next(
            c.source
            for c in graded.course.autograded_notebook(CONV1X1.name, "correct").cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == name
        )
        assert text == CONV1X1.written[name]
