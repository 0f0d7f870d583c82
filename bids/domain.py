"""The bids domain: everything it plugs into the app."""

from __future__ import annotations

from pathlib import Path

from bids import admin_panel, api, demo, pages, sql
from bids.services import tender_hooks
from fuwu.i18n import N_
from fuwu.wiring import AuditFilter, Domain, NavItem, Panel
from tenders.hooks import TenderHooks

DOMAIN = Domain(
    name="bids",
    route_handlers=[*api.ROUTES, *pages.ROUTES],
    # The provider's pipeline, beside the open tenders.
    nav=[NavItem(N_("My bids"), "/bids", ("provider",), order=15)],
    panels=[Panel("tender", pages.tender_panel), Panel("admin_organisation", admin_panel.organisation_bids)],
    hooks=[TenderHooks(
        count_valid_bids=tender_hooks.count_valid_bids,
        bidder_org_ids=tender_hooks.bidder_org_ids,
        provider_has_bid=tender_hooks.provider_has_bid,
        on_amended=[tender_hooks.bids_need_confirmation],
        on_cancelled=[tender_hooks.discard_bids],
    )],
    # Bid events stay off the platform's timeline while their tender is open: even the
    # platform operator learns nothing of sealed bids, not their number.
    audit_filters=[AuditFilter("bid", sql.SEALED_BID_IDS)],
    demo=demo.load,
    templates=Path(__file__).parent / "templates",
)
