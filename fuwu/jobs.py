"""The shell's scheduled jobs."""

from fuwu.scheduler import Job
from fuwu.services import accounts

JOBS = [Job(id="fuwu.purge_expired", func=accounts.purge_expired, trigger="interval", trigger_args={"minutes": 30})]
