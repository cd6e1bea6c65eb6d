"""nbgrader configuration for the CNN course.

The repository root is the course directory: instructor notebooks in ``source/``,
student versions in ``release/``, graded work in ``autograded/``.
"""

from pathlib import Path

c = get_config()  # noqa: F821 -- injected by traitlets when nbgrader loads this file

HERE = Path(__file__).resolve().parent

c.CourseDirectory.root = str(HERE)
c.CourseDirectory.course_id = "cnn-course"

# Students keep the signature and docstring; the stub says plainly what to do.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
