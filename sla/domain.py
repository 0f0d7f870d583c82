"""The sla domain: contracts, milestones, the service-event log and SLA measurement."""

from __future__ import annotations

from pathlib import Path

from bids.hooks import BidHooks
from fuwu.wiring import Domain, NavItem, Panel
from sla import api, demo, jobs, pages, sql
from sla.services import contracts, evaluation
from tenders.hooks import TenderHooks

DOMAIN = Domain(
    name="sla",
    route_handlers=[*api.ROUTES, *pages.ROUTES],
    jobs=jobs.JOBS,
    nav=[NavItem("Contracts", "/contracts", ("merchant", "provider"), order=15)],
    panels=[Panel("dashboard", pages.dashboard_panel, order=60), Panel("tender", pages.tender_panel, order=10),
            Panel("provider", pages.provider_panel, order=20)],
    # An award opens the contract in the award's own transaction.
    # Promise against delivery: bids' comparison and tenders' recommendations show what
    # each provider measurably delivered beside what it promises.
    hooks=[BidHooks(on_award=[contracts.open_from_award], track_records=evaluation.track_records),
           TenderHooks(track_records=evaluation.track_records, committed_seats=sql.committed_seats)],
    demo=demo.load,
    templates=Path(__file__).parent / "templates",
)
