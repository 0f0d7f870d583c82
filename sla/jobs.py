"""Scheduled jobs of the sla domain (idempotent, safe to run twice)."""

from fuwu.scheduler import Job
from sla.services.contracts import complete_due_contracts

JOBS = [Job(id="sla.complete_due_contracts", func=complete_due_contracts, trigger="interval",
            trigger_args={"minutes": 5})]
