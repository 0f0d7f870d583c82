"""The ratings domain: ratings and reviews, disputes, scorecards, tiers and admin
grading (DESIGN.md section 6)."""

from __future__ import annotations

from pathlib import Path

from litestar.static_files import create_static_files_router

from fuwu.wiring import Domain, NavItem, Panel
from ratings import analytics_pages, api, demo, jobs, pages, scorecard_pages
from ratings.services import scorecards
from tenders.hooks import TenderHooks

DOMAIN = Domain(
    name="ratings",
    route_handlers=[*api.ROUTES, *pages.ROUTES, *scorecard_pages.ROUTES, *analytics_pages.ROUTES,
                    # The scorecard's and the analytics' scripts and styles.
                    create_static_files_router(path="/static/ratings", directories=[Path(__file__).parent / "static"])],
    jobs=jobs.JOBS,
    nav=[NavItem("Scorecard", "/scorecard", ("provider",), order=25),
         NavItem("Tiers", "/admin/tiers", ("platform",), ("admin",), order=55),
         NavItem("Analytics", "/admin/analytics", ("platform",), ("admin",), order=56)],
    panels=[Panel("provider", pages.provider_panel, order=10),
            Panel("admin_organisation", pages.admin_panel, order=30),
            Panel("contract", pages.contract_panel, order=20)],
    # Recommendations rank providers with their tiers, looked up for a batch at once.
    # Invitations: the lowest standing cannot be invited, the one above it is warned of.
    hooks=[TenderHooks(provider_tiers=scorecards.provider_tiers,
                       invitation_standings=scorecards.invitation_standings)],
    demo=demo.load,
    templates=Path(__file__).parent / "templates",
)
