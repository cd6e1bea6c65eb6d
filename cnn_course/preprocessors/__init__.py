"""nbgrader preprocessors of the CNN course, one per module.

Register them in ``nbgrader_config.py``: :func:`sanitize_preprocessors` and
:func:`autograde_preprocessors` for ``Autograde``, ``HideHiddenTests`` for
``GenerateFeedback`` (then :class:`FeedbackSummary`).
"""

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, LimitOutput

from cnn_course.preprocessors.feedback_summary import FeedbackSummary
from cnn_course.preprocessors.hide_hidden_tests import HideHiddenTests
from cnn_course.preprocessors.inject_cases import InjectCases
from cnn_course.preprocessors.judge_results import JudgeResults
from cnn_course.preprocessors.limit_output_size import LimitOutputSize
from cnn_course.preprocessors.refuse_links import RefuseLinks

__all__ = [
    "FeedbackSummary",
    "HideHiddenTests",
    "InjectCases",
    "JudgeResults",
    "LimitOutputSize",
    "RefuseLinks",
    "autograde_preprocessors",
    "sanitize_preprocessors",
]


def sanitize_preprocessors() -> list[type]:
    """nbgrader's sanitizing preprocessors, with :class:`RefuseLinks` first."""
    return [RefuseLinks, *Autograde.class_traits()["sanitize_preprocessors"].default()]


def autograde_preprocessors() -> list[type]:
    """nbgrader's autograde preprocessors, in its order, with the course's inserted.

    :class:`InjectCases` right before ``Execute`` and :class:`JudgeResults` right after
    it (the verdicts are the grader's, whatever the kernel did), :class:`LimitOutputSize`
    right after ``LimitOutput``.
    """
    default = list(Autograde.class_traits()["autograde_preprocessors"].default())
    at = default.index(Execute)
    default[at : at + 1] = [InjectCases, Execute, JudgeResults]
    at = default.index(LimitOutput) + 1
    return [*default[:at], LimitOutputSize, *default[at:]]
