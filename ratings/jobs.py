"""Scheduled jobs of the ratings domain (idempotent, safe to run twice, the same
result in any process)."""

from fuwu.scheduler import Job
from ratings.services.reviews import publish_due
from ratings.services.scorecards import evaluate_due

JOBS = [
    # Reads already show a review past its 14 blind days; this stores it as published.
    Job(id="ratings.publish_due", func=publish_due, trigger="interval", trigger_args={"minutes": 30}),
    # Evaluates every provider once per evaluation period (weekly): a run finding them done changes nothing.
    Job(id="ratings.evaluate_due", func=evaluate_due, trigger="interval", trigger_args={"hours": 1}),
]
