"""Scheduled jobs of the chat domain (idempotent, safe to run twice)."""

from chat.services.presence import sweep
from chat.services.retention import erase_expired
from fuwu.scheduler import Job

JOBS = [
    Job(id="chat.presence_sweep", func=sweep, trigger="interval", trigger_args={"seconds": 30}),
    # Texts older than FUWU_CHAT_RETENTION_DAYS become the erased marker.
    Job(id="chat.retention", func=erase_expired, trigger="interval", trigger_args={"hours": 6}),
]
