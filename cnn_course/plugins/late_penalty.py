"""A late-submission penalty for nbgrader: a share of the score per started day late.

nbgrader's own :class:`~nbgrader.plugins.LateSubmissionPlugin` knows two rules, no
penalty or a zero. This plugin takes ``percent_per_day`` of the notebook's score for every
day or part of a day after the due date (after an optional grace period), capped at the
whole score. Register it in ``nbgrader_config.py``::

    from cnn_course.plugins.late_penalty import PerDayLatePenalty
    c.AssignLatePenalties.plugin_class = PerDayLatePenalty
    c.PerDayLatePenalty.percent_per_day = 10.0

``nbgrader autograde`` (and ``cnn-course grade``) then record the penalty in the gradebook
(``SubmittedNotebook.late_submission_penalty``); ``nbgrader export`` and the report subtract
it from the score. Due dates live in the gradebook (``nbgrader db assignment add ID
--duedate=...`` or ``Gradebook.update_or_create_assignment(ID, duedate=...)``).
"""

from __future__ import annotations

import math

from nbgrader.plugins import BasePlugin
from traitlets import Float

SECONDS_PER_DAY = 24 * 60 * 60


class PerDayLatePenalty(BasePlugin):
    """Deduct ``percent_per_day`` percent of the score per started day late, at most all of it."""

    percent_per_day = Float(
        10.0,
        min=0.0,
        help="Percent of the notebook's score deducted for each started day (24 h) after "
        "the due date; a submission 1 second late loses one day's share.",
    ).tag(config=True)

    max_percent = Float(
        100.0,
        min=0.0,
        max=100.0,
        help="Largest penalty, in percent of the score: 100 lets a very late submission "
        "score 0, 50 keeps at least half of what it earned.",
    ).tag(config=True)

    grace_minutes = Float(
        0.0,
        min=0.0,
        help="Minutes after the due date during which a submission is not penalised "
        "(e.g. for a slow upload); after them, days are counted from the due date.",
    ).tag(config=True)

    def days_late(self, total_seconds_late: float) -> int:
        """Started days late, 0 within the grace period.

        Parameters
        ----------
        total_seconds_late : float
            Seconds between the due date (with any extension) and the submission.

        Returns
        -------
        int
            ``ceil(total_seconds_late / 86400)``, or 0 within ``grace_minutes``.
        """
        if total_seconds_late <= self.grace_minutes * 60:
            return 0
        return math.ceil(total_seconds_late / SECONDS_PER_DAY)

    def penalty_fraction(self, total_seconds_late: float) -> float:
        """The share of the score deducted, between 0 and ``max_percent / 100``."""
        percent = self.days_late(total_seconds_late) * self.percent_per_day
        return min(percent, self.max_percent) / 100.0

    def late_submission_penalty(
        self, student_id: str, score: float, total_seconds_late: float
    ) -> float:
        """Points deducted from one notebook (nbgrader's plugin interface).

        Parameters
        ----------
        student_id : str
            The student (unused: the rule is the same for everyone).
        score : float
            The notebook's score before the penalty.
        total_seconds_late : float
            Seconds after the due date, > 0 (nbgrader asks only for late submissions).

        Returns
        -------
        float
            ``score * penalty_fraction(total_seconds_late)``: never more than the score.
        """
        fraction = self.penalty_fraction(total_seconds_late)
        penalty = (score or 0.0) * fraction
        self.log.info(
            "Late by %g s (%d started day(s)): penalty %.4g of %.4g points for %s",
            total_seconds_late,
            self.days_late(total_seconds_late),
            penalty,
            score or 0.0,
            student_id,
        )
        return penalty
