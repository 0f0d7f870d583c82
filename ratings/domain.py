"""The ratings domain: ratings and reviews, disputes, scorecards, tiers and admin
grading (DESIGN.md section 6)."""

from __future__ import annotations

from ratings import api, jobs
from ratings.services import scorecards
from fuwu.wiring import Domain
from tenders.hooks import TenderHooks

DOMAIN = Domain(
    name="ratings",
    route_handlers=[*api.ROUTES],
    jobs=jobs.JOBS,
    # Recommendations rank providers with their tiers, looked up for a batch at once.
    hooks=[TenderHooks(provider_tiers=scorecards.provider_tiers)],
)
