"""The bids block of a platform admin's organisation page: a provider's bids whose
tender's bidding has closed. Sealed bids stay out, and so does their number."""

from __future__ import annotations

from fuwu import roles
from fuwu.db import where
from bids import states
from bids.tables import Bid
from tenders import sql as tender_sql
from tenders import states as tender_states

LIMIT = 50


async def organisation_bids(org: dict) -> dict | None:
    """A provider's latest unsealed bids; nothing for others."""
    if org["kind"] != roles.PROVIDER:
        return None
    rows = await Bid.select(
        Bid.id, Bid.tender.title.as_alias("tender_title"), Bid.tender.status.as_alias("tender_status"), Bid.status,
        Bid.price_amount, Bid.currency, Bid.submitted_at, Bid.result, Bid.rank,
    ).where((Bid.provider == org["id"]) & where(
        f"{Bid._meta.tablename}.tender NOT IN ({tender_sql.OPEN_FOR_BIDS_TENDER_IDS})")).order_by(
        Bid.submitted_at, ascending=False).limit(LIMIT)
    return {"template": "bids/_admin_org.html", "bids": rows, "status_label": states.BID_STATUSES.label,
            "result_label": states.RESULTS.label, "tender_status_label": tender_states.STATUSES.label}
