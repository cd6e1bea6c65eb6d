"""The verbs of ``cnn-course``, one module per subcommand (:mod:`cnn_course.commands.cli`).

Each module parses its arguments, calls the packages that do the work (the grading
pipeline, the report, the integrity review, the exchange) and prints their results; nothing
outside this package imports it. ``report`` and ``hub`` register their verbs from their own
packages.
"""
