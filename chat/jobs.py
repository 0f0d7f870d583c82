"""Scheduled jobs of the chat domain (idempotent, safe to run twice)."""

from chat.services.presence import sweep
from fuwu.scheduler import Job

JOBS = [Job(id="chat.presence_sweep", func=sweep, trigger="interval", trigger_args={"seconds": 30})]
