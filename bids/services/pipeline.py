"""A provider's pipeline ("My bids"): every bid of its organisation with its tender,
where it stands and how it ended.

Sealed rules hold: the list is the organisation's own bids only, and the rank is shown
once the provider has been told it (at a shortlist, or at the award), never while
evaluators are still scoring.
"""

from __future__ import annotations

import uuid

from piccolo.query.functions.aggregate import Count

from fuwu import roles
from fuwu.clock import now
from fuwu.db import where
from fuwu.errors import InvalidInput, not_found
from fuwu.pagination import Page, paginate
from fuwu.services.accounts import Member
from bids import sql, states
from bids.tables import Bid, RoundEntry
from tenders import states as tender_states

COLUMNS = (
    Bid.id, Bid.tender.as_alias("tender_id"), Bid.tender.title.as_alias("tender_title"),
    Bid.tender.category.as_alias("category"), Bid.tender.merchant.name.as_alias("merchant_name"),
    Bid.tender.bid_deadline.as_alias("bid_deadline"), Bid.tender.status.as_alias("tender_status"),
    Bid.tender.rounds.as_alias("tender_rounds"), Bid.status, Bid.result, Bid.price_amount, Bid.currency,
    Bid.pricing_model, Bid.price_unit, Bid.version, Bid.first_submitted_at, Bid.submitted_at,
)

# Results after which the final standing is known to the provider.
FINAL = (states.AWARDED, states.NOT_AWARDED)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _check_filters(status: str | None, result: str | None, category: str | None) -> None:
    # The values to send stay untranslated in the message.
    for name, value, allowed in (("status", status, states.BID_STATUSES), ("result", result, states.RESULTS),
                                 ("category", category, tender_states.CATEGORIES)):
        if value is not None and value not in allowed:
            raise InvalidInput(f"invalid_{name}", "{name} must be one of: {values}.",
                               params={"name": name, "values": ", ".join(allowed)})


async def my_bids(member: Member, *, status: str | None = None, result: str | None = None,
                  category: str | None = None, text: str | None = None, cursor: str | None = None,
                  limit: int = 20) -> Page:
    """The organisation's bids, latest first, each with its tender (title, category,
    merchant, deadline, status), its current round and its rank when the provider has
    been told it. Every member of a provider may read it; anyone else gets 404."""
    if member.kind != roles.PROVIDER:
        raise not_found("Page")
    _check_filters(status, result, category)
    query = Bid.select(*COLUMNS).where(Bid.provider == member.organisation_id).output(load_json=True)
    if status:
        query = query.where(Bid.status == status)
    if result:
        query = query.where(Bid.result == result)
    if category:
        query = query.where(Bid.tender.category == category)
    text = (text or "").strip()
    if text:
        query = query.where(where(sql.BID_TENDER_TEXT_LIKE, _like(text)))
    page = await paginate(query, Bid.first_submitted_at, Bid.id, cursor, limit)
    await _add_standing(page.items)
    return page


async def _add_standing(items: list[dict]) -> None:
    """Adds each bid's rounds: the one it is in now (or last was), and the rank it was
    told. One query for the page's entries, one for the rounds' sizes."""
    if not items:
        return
    entries = await RoundEntry.select(
        RoundEntry.bid, RoundEntry.rank, RoundEntry.score, RoundEntry.round.as_alias("round_id"),
        RoundEntry.round.number.as_alias("number"), RoundEntry.round.kind.as_alias("kind"),
        RoundEntry.round.status.as_alias("round_status"), RoundEntry.round.shortlisted_at.as_alias("shortlisted_at"),
    ).where(RoundEntry.bid.is_in([item["id"] for item in items])).order_by(RoundEntry.round.number)
    sizes: dict = {}
    round_ids = list({entry["round_id"] for entry in entries})
    if round_ids:
        for row in await RoundEntry.select(RoundEntry.round, Count(RoundEntry.id, alias="size")).where(
                RoundEntry.round.is_in(round_ids)).group_by(RoundEntry.round):
            sizes[row["round"]] = row["size"]
    by_bid: dict = {}
    for entry in entries:
        by_bid.setdefault(entry["bid"], []).append(entry)
    moment = now()
    for item in items:
        mine = by_bid.get(item["id"], [])
        latest = mine[-1] if mine else None
        item["round"] = None if latest is None else {"number": latest["number"], "kind": latest["kind"],
                                                     "status": latest["round_status"],
                                                     "of": len(item["tender_rounds"] or [])}
        told = [e for e in mine if e["shortlisted_at"] is not None
                or (item["result"] in FINAL and e["round_status"] == states.ROUND_CLOSED)]
        known = told[-1] if told else None
        item["rank"] = None if known is None else known["rank"]
        item["rank_of"] = None if known is None else sizes.get(known["round_id"])
        item["rank_round"] = None if known is None else known["number"]
        item["open_for_bids"] = (item["tender_status"] == tender_states.PUBLISHED and item["bid_deadline"] is not None
                                 and moment < item["bid_deadline"])
        if item["tender_status"] == tender_states.PUBLISHED and not item["open_for_bids"]:
            # Past its deadline: closed, whether or not a read or the job closed it yet.
            item["tender_status"] = tender_states.BIDDING_CLOSED
        del item["tender_rounds"]
        item["tender"] = {"id": item.pop("tender_id"), "title": item.pop("tender_title"),
                          "category": item.pop("category"), "merchant_name": item.pop("merchant_name"),
                          "bid_deadline": item.pop("bid_deadline"), "status": item.pop("tender_status")}
