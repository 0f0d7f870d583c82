"""Scheduled jobs of the sla domain (idempotent, safe to run twice)."""

from fuwu.scheduler import Job
from sla.services.closing import close_due_windows
from sla.services.contracts import complete_due_contracts
from sla.services.events import rebuild_stale_steps

JOBS = [
    Job(id="sla.complete_due_contracts", func=complete_due_contracts, trigger="interval",
        trigger_args={"minutes": 5}),
    # Closes ended SLA windows, re-evaluates late data, warns of targets at risk.
    Job(id="sla.close_due_windows", func=close_due_windows, trigger="interval", trigger_args={"minutes": 10}),
    # Rebuilds the chat steps of conversations appended to since (sla.sql, "chat steps"),
    # so that the metrics read few conversations from the log.
    Job(id="sla.rebuild_stale_steps", func=rebuild_stale_steps, trigger="interval", trigger_args={"seconds": 30}),
]
