"""A restricted Jupyter kernel for autograding students' notebooks.

nbgrader runs students' code in a kernel; the "cnn-grader" kernel treats it as hostile:
it runs the student's code and the probe (``cnn_probe``) only, and the grader judges
outside it. The kernel gets:

* always: resource limits (memory, CPU time, open files, file size, no core dumps);
* when grading as root: a uid of its own (no signalling other kernels), new PID, mount,
  IPC and network namespaces (nothing it starts outlives it; no network), a view of the
  file system without the course, the reference (``cnn_solutions``) or ``cnn_course``,
  and a private, size- and file-count-limited copy of its working folder: what it writes
  never reaches the course. Without namespaces (a container without CAP_SYS_ADMIN) it
  keeps the uid, the limits, a private copy and kill-by-uid, and logs what is lost.

Use it with::

    python -m cnn_course.sandbox install      # kernelspec (and, as root, the group user)

    config.merge(sandbox_config(course_root)) # autograde runs in the kernel
    with protect_course(course_root):         # as root: course modes, cleanup
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
