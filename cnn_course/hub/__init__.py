"""The course on JupyterHub: one command sets up a multi-user deployment on this machine.

``cnn-course hub setup`` builds it (:mod:`cnn_course.hub.deploy`): Unix accounts for the
instructor and the students, a Python environment every user can read, the grader's code
where only graders can read it, nbgrader's exchange, Jupyter configuration per role, the
narrow sudo rule that confines grading kernels, and a JupyterHub configuration
(:mod:`cnn_course.hub.jupyterhub_config`, driven by the settings of
:mod:`cnn_course.hub.settings`). ``cnn-course hub start`` runs the hub;
``cnn-course hub remove`` undoes the setup.
"""

from cnn_course.hub.command import register

__all__ = ["register"]
