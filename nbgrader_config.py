"""nbgrader configuration for the CNN course.

The repository root is the course directory: instructor notebooks in ``source/``,
student versions in ``release/``, graded work in ``autograded/``.
"""

from pathlib import Path

c = get_config()  # noqa: F821 -- injected by traitlets when nbgrader loads this file

HERE = Path(__file__).resolve().parent

c.CourseDirectory.root = str(HERE)
c.CourseDirectory.course_id = "cnn-course"
# The exchange lives inside the course, so a course cycle needs no root and no server.
c.Exchange.root = str(HERE / "exchange")

# Students keep the signature and docstring; the stub says plainly what to do.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback shows each test's points and messages, never the hidden tests' code
# (nbgrader issues #917, #1363). Classes, not dotted names: nbgrader reads their traits.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from cnn_course.preprocessors import HideHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
