"""nbgrader plugins of the CNN course: its preprocessors (one per module), the late penalty
(:mod:`~cnn_course.plugins.late_penalty`) and the export that withholds flagged scores
(:mod:`~cnn_course.integrity.export`).

Register them in ``nbgrader_config.py``: :func:`sanitize_preprocessors` and
:func:`autograde_preprocessors` for ``Autograde``, ``HideHiddenTests`` for
``GenerateFeedback`` (then :class:`FeedbackSummary` and :class:`RenderMath`, with
:func:`feedback_template_basedirs` as ``HTMLExporter.extra_template_basedirs``).
"""

from pathlib import Path

import nbgrader
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, LimitOutput

from cnn_course.plugins.feedback_summary import FeedbackSummary
from cnn_course.plugins.hide_hidden_tests import HideHiddenTests
from cnn_course.plugins.inject_cases import InjectCases
from cnn_course.plugins.judge_results import JudgeResults
from cnn_course.plugins.limit_output_size import LimitOutputSize
from cnn_course.plugins.refuse_links import RefuseLinks
from cnn_course.plugins.render_math import TEMPLATE_DIR, RenderMath

__all__ = [
    "FeedbackSummary",
    "HideHiddenTests",
    "InjectCases",
    "JudgeResults",
    "LimitOutputSize",
    "RefuseLinks",
    "RenderMath",
    "autograde_preprocessors",
    "feedback_template_basedirs",
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


def feedback_template_basedirs() -> list[str]:
    """nbconvert template base directories for feedback: the course's, then nbgrader's.

    nbgrader sets its own only when none are configured, so both are named here; the
    course's ``feedback/mathjax.html.j2`` comes first and shadows nbconvert's macro, which
    would load MathJax from a CDN.
    """
    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    return [str(TEMPLATE_DIR), str(formgrader / "templates")]
