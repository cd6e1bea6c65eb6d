"""nbgrader's submit with the submission kept from other students (deployed as ``cnn_hub_submit``).

nbgrader 0.9.6 leaves each submission in the exchange's inbound folder world-readable, and
its folder world-writable (``0777``: "hidden from other users by the timestamp"), trusting
that nobody learns its name (nbgrader issues #978, #1225). Anyone who does can read a
classmate's answers, replace them, or read the submission secret that names their
feedback file (#1202).

The inbound folder is the instructor's, with the set-group-id bit, so each submission's
folder is made in the instructor's group (the course's graders group, on the course's
hub: ``cnn-course hub setup`` makes the course's exchange folder so). This submit closes
those folders to everyone else (``0770``): the instructor collects (and may remove) the
submission, and other students cannot enter it, whatever its files' modes. The files stay
readable by their folder's users (``0644``): the two files nbgrader writes last are in
the student's own group, since copying drops the folder's set-group-id bit.

``cnn-course hub setup`` copies this file into the students' Python as a module of its own
(the course's package is readable by graders only) and names it in their nbgrader
configuration (``c.ExchangeFactory.submit``).
"""

import os

from nbgrader.exchange.default.submit import ExchangeSubmit

FOLDER_MODE = 0o770
FILE_MODE = 0o644


class PrivateSubmit(ExchangeSubmit):
    """``nbgrader submit`` whose copy in the exchange only the instructor's group reaches."""

    def copy_files(self) -> None:
        super().copy_files()
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        # Innermost first: the folder stays enterable while its entries change.
        for folder, _dirs, files in os.walk(dest, topdown=False):
            for name in files:
                os.chmod(os.path.join(folder, name), FILE_MODE)
            os.chmod(folder, FOLDER_MODE)
