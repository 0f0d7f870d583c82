"""Scheduled jobs: APScheduler 3.11, one scheduler per deployment.

Domains declare their jobs in `jobs.py` as `Job`s; `fuwu.app` collects them. The
scheduler runs inside the web process by default (one process), or alone in
`fuwu worker` when several web processes serve (FUWU_RUN_SCHEDULER=0 for them).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("fuwu.scheduler")


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[], Awaitable[object]]
    trigger: str  # "interval" or "cron"
    trigger_args: dict = field(default_factory=dict)


def build_scheduler(jobs: list[Job]) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="UTC",
    )
    for job in jobs:
        scheduler.add_job(_logged(job), job.trigger, id=job.id, replace_existing=True, **job.trigger_args)
    return scheduler


def _logged(job: Job):
    async def run() -> None:
        try:
            result = await job.func()
            log.info("job %s done: %s", job.id, result)
        except Exception:
            log.exception("job %s failed", job.id)

    run.__name__ = job.id
    return run
