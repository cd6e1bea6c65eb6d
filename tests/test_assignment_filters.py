"""01_filters through the real nbgrader apps: generate, submit, autograde, read grades.

Every check is in :class:`assignment_helpers.PipelineChecks`; each mistake is a
submission of its own.
"""

from __future__ import annotations

from assignment_helpers import FILTERS, PipelineChecks


class TestFiltersPipeline(PipelineChecks):
    assignment = FILTERS
