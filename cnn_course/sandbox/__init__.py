"""A restricted Jupyter kernel for autograding students' notebooks.

nbgrader runs students' code in a kernel; the "cnn-grader" kernel confines it:

* always: resource limits (memory, CPU time, open files, file size, no core dumps);
* when grading as root: an unprivileged user (``cnn-sandbox``) that cannot read the
  gradebook, ``source/`` or other students' work, and no network.

Use it with::

    python -m cnn_course.sandbox install      # kernelspec (and, as root, the user)

    config.merge(sandbox_config(course_root)) # autograde runs in the kernel
    with protect_course(course_root):         # as root: permissions for grading
        ...autograde...
"""

from cnn_course.sandbox.kernelspec import (
    DEFAULT_CELL_TIMEOUT,
    DISPLAY_NAME,
    KERNEL_NAME,
    Limits,
    ensure_kernelspec,
    sandbox_config,
)
from cnn_course.sandbox.permissions import (
    SANDBOX_USER,
    after_autograde,
    before_autograde,
    ensure_sandbox_user,
    protect_course,
    restore_ownership,
    tighten_course,
)

__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "DISPLAY_NAME",
    "KERNEL_NAME",
    "Limits",
    "SANDBOX_USER",
    "after_autograde",
    "before_autograde",
    "ensure_kernelspec",
    "ensure_sandbox_user",
    "protect_course",
    "restore_ownership",
    "sandbox_config",
    "tighten_course",
]
