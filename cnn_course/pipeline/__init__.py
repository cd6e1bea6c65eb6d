"""The one grading pipeline that ``cnn-course grade``, the demo and the labs all run.

:func:`cnn_course.pipeline.runner.grade` autogrades submissions on a pool of worker
processes (:mod:`~cnn_course.pipeline.runner_tasks`: one nbgrader step for one submission),
with the judge (:mod:`~cnn_course.pipeline.judging`) in a process the student's kernel
cannot reach, then makes feedback, exports grades and runs the integrity review.
:mod:`~cnn_course.pipeline.cluster` spreads it over Dask workers;
:mod:`~cnn_course.pipeline.completion`, :mod:`~cnn_course.pipeline.grade_status` and
:mod:`~cnn_course.pipeline.progress` say what is done. Plain ``nbgrader autograde`` and the
formgrader's button reach the same judge through :mod:`cnn_course.plugins`.
"""
