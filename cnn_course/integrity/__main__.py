"""``python -m cnn_course.integrity``: review a course after plain ``nbgrader autograde``."""

import sys

from cnn_course.integrity import main

sys.exit(main())
