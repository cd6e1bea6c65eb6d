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

from cnn_course.plugins import (  # noqa: E402
    FeedbackSummary,
    HideHiddenTests,
    RenderMath,
    feedback_template_basedirs,
)

# FeedbackSummary puts, at the top of each page, every graded cell's points and, for a cell
# that lost points, what failed and the named mistake (cnn_course/plugins/).
# RenderMath typesets the formulas as MathML and the course's template loads no MathJax
# from a CDN: the pages work offline.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    HideHiddenTests,
    FeedbackSummary,
    RenderMath,
    CSSHTMLHeaderPreprocessor,
]
c.HTMLExporter.extra_template_basedirs = feedback_template_basedirs()

# Late work loses 10% of its score per started day after the due date (due dates live in
# the gradebook: `nbgrader db assignment add ID --duedate=...`).
from cnn_course.plugins.late_penalty import PerDayLatePenalty  # noqa: E402

c.AssignLatePenalties.plugin_class = PerDayLatePenalty
c.PerDayLatePenalty.percent_per_day = 10.0

# Students' code runs in the restricted "cnn-grader" kernel when autograding (not when an
# instructor validates): resource limits always; as root also a uid of its own, its own
# PID, network and mount namespaces in which the course and the reference are not to be
# seen, and a scratch folder that vanishes with it (cnn_course/sandbox). The hooks keep
# the course's modes tight around each submission, so plain `nbgrader autograde` and the
# formgrader's button are protected as well as `cnn-course grade`.
from functools import partial  # noqa: E402

from cnn_course.sandbox import after_autograde, before_autograde, sandbox_config  # noqa: E402

c.merge(sandbox_config(HERE, cell_timeout=30))
c.Autograde.pre_convert_hook = partial(before_autograde, HERE)
c.Autograde.post_convert_hook = partial(after_autograde, HERE)

# --- Faulty submissions (tests/test_faults.py) -----------------------------------------
# The per-cell timeout is the sandbox block's cell_timeout above; a student function stuck
# inside a hidden check is stopped sooner, by the probe (5 s of CPU time per call).
#
# Test cells fail by raising (assert, GradingFailure), never by writing to stderr; but
# nbgrader scores any stderr output in a test cell as a failure, so a warning, a debug
# print to sys.stderr or a C-level write to fd 2 from correct code called in a test cell's
# visible asserts (outside the engine's capture), or a library's warning, would cost the
# cell its points. IgnorePattern (run right after Execute) drops every stderr output of
# graded notebooks: errors are separate outputs and still fail their cells.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?s)."
# Output a cell keeps in the graded notebook and the feedback: a print loop in a student's
# cell is cut to 200 lines; tracebacks to 200 lines, so that the grading engine's reports
# (a few dozen lines) stay whole. Both count lines; one enormous line, a huge result or
# error message is cut by LimitOutputSize, run right after: 50,000 characters of text per
# cell, and 3 million of plots and other formats (one of the course's plots is 0.3 million).
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 200
# The verdicts: InjectCases gives each hidden check this submission's cases before the
# notebook runs, JudgeResults judges what the kernel sent back, in this process, and
# replaces the test cells' outputs (cnn_course/grading/judging.py, docs/trust-model.md).
# RefuseLinks fails a submission holding a symbolic link, which nbgrader would follow.
from cnn_course.plugins import autograde_preprocessors, sanitize_preprocessors  # noqa: E402

c.Autograde.sanitize_preprocessors = sanitize_preprocessors()
c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.LimitOutputSize.max_chars = 50_000
c.LimitOutputSize.max_data_chars = 3_000_000
# A test cell a student deleted comes back, hidden tests included, and is graded; without
# this nbgrader leaves it ungraded and "needing manual grading".
c.OverwriteCells.add_missing_cells = True
