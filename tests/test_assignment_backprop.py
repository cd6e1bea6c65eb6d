"""04_conv_backprop through the real nbgrader apps: generate, submit, autograde, read grades.

Every check is in :class:`assignment_helpers.PipelineChecks`. The worked example's answer
cells come before the functions. To keep the run short, mistakes in *different* contract
names share a submission; ``test_grading_backprop.py`` checks every mistake alone.
"""

from __future__ import annotations

from assignment_helpers import BACKPROP, PipelineChecks


class TestBackpropPipeline(PipelineChecks):
    assignment = BACKPROP
