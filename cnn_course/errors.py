"""Errors that the ``cnn-course`` command line turns into exit codes."""


class CourseInputError(ValueError):
    """The user named something that does not exist or is not ready.

    Subcommands raise it for an unknown assignment or student, a missing course
    directory, nothing submitted yet, or an unusable database URL; ``cnn-course`` prints
    the message and exits with status 2.
    """
