"""The tenders block of a platform admin's organisation page: a merchant's tenders."""

from __future__ import annotations

from fuwu import roles
from tenders import states
from tenders.tables import Tender

LIMIT = 50


async def organisation_tenders(org: dict) -> dict | None:
    """A merchant's latest tenders (title, status, deadline); nothing for others."""
    if org["kind"] != roles.MERCHANT:
        return None
    rows = await Tender.select(Tender.id, Tender.title, Tender.status, Tender.bid_deadline, Tender.created_at).where(
        Tender.merchant == org["id"]).order_by(Tender.created_at, ascending=False).limit(LIMIT)
    return {"template": "tenders/_admin_org.html", "tenders": rows, "status_label": states.STATUSES.label}
