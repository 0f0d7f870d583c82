"""Scheduled jobs of the tenders domain."""

from fuwu.scheduler import Job
from tenders.services.lifecycle import close_due_tenders

# Every read and write checks the deadline too; the job closes tenders nobody touches.
JOBS = [Job(id="tenders.close_due", func=close_due_tenders, trigger="interval", trigger_args={"seconds": 15})]
