"""nbgrader preprocessors of the CNN course, one per module.

Register them in ``nbgrader_config.py`` (see :mod:`cnn_course.preprocessors.hide_hidden_tests`).
"""

from cnn_course.preprocessors.hide_hidden_tests import HideHiddenTests
from cnn_course.preprocessors.limit_output_size import LimitOutputSize, autograde_preprocessors

__all__ = ["HideHiddenTests", "LimitOutputSize", "autograde_preprocessors"]
