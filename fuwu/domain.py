"""The shell as a domain: accounts, organisations, notifications, audit, admin."""

from __future__ import annotations

from pathlib import Path

from litestar.static_files import create_static_files_router

from fuwu import admin_pages, api, demo, jobs, pages
from fuwu.wiring import Domain, NavItem

HERE = Path(__file__).parent

DOMAIN = Domain(
    name="fuwu",
    route_handlers=[*api.ROUTES, *pages.ROUTES, *admin_pages.ROUTES, create_static_files_router(path="/static", directories=[HERE / "static"])],
    jobs=jobs.JOBS,
    nav=[
        NavItem("Dashboard", "/dashboard", ("merchant", "provider", "platform"), order=0),
        NavItem("Providers", "/providers", ("merchant", "provider", "platform"), order=20),
        NavItem("Organisation", "/org", ("merchant", "provider", "platform"), order=30),
        NavItem("Audit log", "/audit", ("merchant", "provider", "platform"), ("owner", "operator", "manager", "admin"),
                order=40),
        NavItem("Admin", "/admin", ("platform",), ("admin",), order=50),
    ],
    demo=demo.load,
    templates=HERE / "templates",
)
