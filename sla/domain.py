"""The sla domain: contracts, milestones, the service-event log and SLA measurement."""

from __future__ import annotations

from pathlib import Path

from bids.hooks import BidHooks
from fuwu.wiring import Domain
from sla import api, jobs
from sla.services import contracts

DOMAIN = Domain(
    name="sla",
    route_handlers=[*api.ROUTES],
    jobs=jobs.JOBS,
    # An award opens the contract in the award's own transaction.
    hooks=[BidHooks(on_award=[contracts.open_from_award])],
    templates=Path(__file__).parent / "templates",
)
