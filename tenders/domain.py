"""The tenders domain: everything it plugs into the app."""

from __future__ import annotations

from pathlib import Path

from fuwu.wiring import Domain, NavItem, Panel
from tenders import admin_panel, api, demo, jobs, pages

DOMAIN = Domain(
    name="tenders",
    route_handlers=[*api.ROUTES, *pages.ROUTES],
    jobs=jobs.JOBS,
    nav=[NavItem("Tenders", "/tenders", ("merchant",), order=10),
         NavItem("Open tenders", "/open-tenders", ("provider",), order=10)],
    panels=[Panel("dashboard", pages.dashboard_panel), Panel("admin_organisation", admin_panel.organisation_tenders),
            Panel("directory", pages.directory_panel)],
    demo=demo.load,
    templates=Path(__file__).parent / "templates",
)
