"""Submitting, revising, confirming and withdrawing sealed bids.

Sealed: before the deadline nothing about a bid reaches anyone but its own
provider — not through lists, counts, notifications, audit timelines of the tender
or error messages. Exact deadline: a bid counts if Fuwu received its request before
the deadline (`fuwu.received`: stamped when the body had arrived, before any queue
in the server), whatever Fuwu's load. Inside its transaction, once the tender is
held (shared on PostgreSQL; SQLite's IMMEDIATE transaction holds the write lock),
the bid is accepted if it was received before the deadline and the server time is
still within the grace after it (`lifecycle.sealed_until`); its time is the server
time then, or the time it was received if that is past the deadline. Closing
bidding comes only after the grace and holds the tender exclusively, so it waits for
bids in flight and counts exactly the accepted ones.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from pathlib import Path

import msgspec

from fuwu import roles
from fuwu.clock import now
from fuwu.db import atomic, dump_json, fetch
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.pagination import Page, paginate
from fuwu.i18n import Term, Terms
from fuwu.jsonable import jsonable
from fuwu.received import received_at
from fuwu.services import admin, audit
from fuwu.services.accounts import Member, Viewer
from fuwu.settings import get_settings
from bids import sql, states
from bids.errors import BidError
from bids.services import file_types
from bids.schemas import BidSubmit
from bids.tables import Bid, BidAttachment, BidRevision
from tenders import states as tender_states
from tenders.services.lifecycle import get_tender, lock_tender_for_provider, request_close, sealed_until

PROVIDER_BIDDERS = (roles.OWNER, roles.MANAGER)

BID_COLUMNS = (
    Bid.id, Bid.tender.as_alias("tender_id"), Bid.provider.as_alias("provider_id"),
    Bid.provider.name.as_alias("provider_name"), Bid.status, Bid.price_amount, Bid.pricing_model, Bid.price_unit,
    Bid.currency, Bid.proposal, Bid.sla_commitment, Bid.team, Bid.valid_until, Bid.version,
    Bid.first_submitted_at, Bid.submitted_at, Bid.withdrawn_at, Bid.result, Bid.rank,
)

MAX_ATTACHMENTS = 20


def _require_bidder(member: Member) -> None:
    if member.kind != roles.PROVIDER:
        raise not_found("Tender")
    if member.role not in PROVIDER_BIDDERS:
        raise Forbidden("role_not_allowed", "Only the provider's owner or a manager can bid.")


def _closed(row: dict, moment: datetime.datetime, received: datetime.datetime) -> Conflict:
    deadline = row["bid_deadline"].isoformat() if row["bid_deadline"] else "-"
    times = {"deadline": deadline, "server_time": moment.isoformat(), "received_at": received.isoformat()}
    if row["status"] == tender_states.PUBLISHED or row["status"] in tender_states.UNSEALED:
        return Conflict(BidError.DEADLINE_PASSED,
                        "Bidding closed at the deadline {deadline}; bids are no longer accepted.",
                        params={"deadline": deadline}, **times)
    return Conflict(BidError.NOT_OPEN, "The tender is {status}; it does not take bids.",
                    params={"status": Term(row["status"])}, **times)


async def _open_tender_locked(member: Member, tender_id: uuid.UUID,
                              withdrawing: bool = False) -> tuple[dict, datetime.datetime]:
    """Locks the tender, checks that this provider may see the tender (404 as for a
    tender that does not exist) and decides by the time the request was received:
    before the deadline, and the server time, read once the lock is held, still
    within the grace. Returns the tender and the bid's time: the server time read
    under the lock while bidding is open (so it orders the bid against amendments,
    as before), or, for a bid that waited past the deadline, the time it was
    received. A suspended provider may only withdraw."""
    _require_bidder(member)
    if not withdrawing:
        await admin.require_active(member)
    received = received_at() or now()
    row = await lock_tender_for_provider(member.organisation_id, tender_id)
    moment = now()
    if row is None:
        raise not_found("Tender")
    if row["status"] != tender_states.PUBLISHED or received >= row["bid_deadline"] or moment >= sealed_until(row):
        if row["status"] == tender_states.PUBLISHED:
            # Bidding closes at the end of the grace, not before: bids received in time may still be on their way.
            request_close(tender_id, at=max(moment, sealed_until(row)))
        raise _closed(row, moment, received)
    return row, (moment if moment < row["bid_deadline"] else received)


def _after(moment: datetime.datetime, earlier: datetime.datetime | None) -> datetime.datetime:
    """A change's time: when it was received, but never before the change it follows
    (two requests of one provider may commit in another order than received)."""
    return max(moment, earlier) if earlier is not None else moment


def _check_terms(row: dict, data: BidSubmit) -> dict:
    if data.pricing_model not in row["pricing_models"]:
        raise InvalidInput(BidError.PRICING, "This tender accepts these pricing models: {models}.",
                           params={"models": Terms(row["pricing_models"])})
    if data.currency != row["currency"]:
        raise InvalidInput(BidError.PRICING, "Prices in this tender are in {currency}.",
                           params={"currency": row["currency"]})
    if data.pricing_model == "metered" and not data.price_unit.strip():
        raise InvalidInput(BidError.PRICING, "A metered price needs its unit, e.g. 'conversation' or 'order'.")
    if data.valid_until.tzinfo is None:
        raise InvalidInput(BidError.VALIDITY, "valid_until needs a time zone, e.g. 2027-03-01T00:00:00+08:00.")
    if data.valid_until <= (row["evaluation_end"] or row["bid_deadline"]):
        raise InvalidInput(BidError.VALIDITY, "The bid must stay valid past the tender's evaluation end.")
    values = msgspec.structs.asdict(data)
    values["sla_commitment"] = msgspec.to_builtins(data.sla_commitment)
    values["team"] = msgspec.to_builtins(data.team)
    values["price_unit"] = data.price_unit.strip()
    values["valid_until"] = data.valid_until.astimezone(datetime.timezone.utc)
    return values


def _snapshot(values: dict) -> dict:
    return jsonable({k: values[k] for k in ("price_amount", "pricing_model", "price_unit", "currency", "proposal",
                                            "sla_commitment", "team", "valid_until")})


async def _visible_for_bidding(member: Member, tender_id: uuid.UUID) -> dict:
    """404 unless the provider may see the tender. It does not close a due tender:
    the locked deadline check refuses late bids, and closing is asked for apart."""
    _require_bidder(member)
    return await get_tender(member, tender_id, close_due=False)


async def _record_revision(bid_id: uuid.UUID, version: int, action: str, moment: datetime.datetime,
                           user_id: uuid.UUID, snapshot: dict) -> None:
    await fetch(sql.INSERT_REVISION, uuid.uuid4(), bid_id, version, action, moment, user_id, dump_json(snapshot))


async def submit_bid(viewer: Viewer, member: Member, tender_id: uuid.UUID, data: BidSubmit) -> dict:
    """Submits the provider's bid. One live bid per provider and tender; accepted only
    if Fuwu received it before the deadline and it commits within the grace after it
    (409 naming the deadline otherwise). Audited on the provider's own timeline only."""
    async with atomic():
        row, moment = await _open_tender_locked(member, tender_id)
        values = _check_terms(row, data)
        bid_id = uuid.uuid4()
        inserted = await fetch(
            sql.INSERT_BID, bid_id, tender_id, member.organisation_id, viewer.user_id, states.SUBMITTED,
            f"{tender_id}:{member.organisation_id}", values["price_amount"], values["pricing_model"],
            values["price_unit"], values["currency"], values["proposal"], dump_json(values["sla_commitment"]),
            dump_json(values["team"]), values["valid_until"], moment,
        )
        if not inserted:
            raise Conflict(BidError.ALREADY_BID, "You already have a live bid on this tender: revise it instead.")
        await _record_revision(bid_id, 1, "submitted", moment, viewer.user_id, _snapshot(values))
        # The terms live in the bid's revisions; the audit event names the version only.
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="bid",
                           object_id=bid_id, action="submitted", after={"version": 1})
    # Exactly what was written: no need to read it back.
    return {"id": bid_id, "tender_id": tender_id, "provider_id": member.organisation_id, "provider_name": member.name,
            "status": states.SUBMITTED, **values, "version": 1, "first_submitted_at": moment, "submitted_at": moment,
            "withdrawn_at": None, "result": "", "rank": None, "attachments": []}


async def _own_live_bid(member: Member, tender_id: uuid.UUID) -> dict:
    bid = await Bid.select(*BID_COLUMNS).where(
        (Bid.tender == tender_id) & (Bid.provider == member.organisation_id) & Bid.status.is_in(list(states.LIVE))
    ).output(load_json=True).first()
    if bid is None:
        raise Conflict(BidError.NO_BID, "You have no live bid on this tender. Submit one first.")
    return bid


async def revise_bid(viewer: Viewer, member: Member, tender_id: uuid.UUID, data: BidSubmit) -> dict:
    """Replaces the live bid's terms before the deadline, keeping every earlier
    version; a revision also confirms a bid that needed confirmation."""
    async with atomic():
        row, moment = await _open_tender_locked(member, tender_id)
        bid = await _own_live_bid(member, tender_id)
        moment = _after(moment, bid["submitted_at"])
        values = _check_terms(row, data)
        version = bid["version"] + 1
        await Bid.update({**{getattr(Bid, k): v for k, v in values.items()}, Bid.version: version,
                          Bid.status: states.SUBMITTED, Bid.submitted_at: moment}).where(Bid.id == bid["id"])
        await _record_revision(bid["id"], version, "revised", moment, viewer.user_id, _snapshot(values))
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="bid",
                           object_id=bid["id"], action="revised", before={"version": bid["version"]},
                           after={"version": version})
    return await read_bid(bid["id"])


async def confirm_bid(viewer: Viewer, member: Member, tender_id: uuid.UUID) -> dict:
    """Confirms a bid unchanged after an amendment of the tender, before the deadline."""
    async with atomic():
        row, moment = await _open_tender_locked(member, tender_id)
        bid = await _own_live_bid(member, tender_id)
        moment = _after(moment, bid["submitted_at"])
        if bid["status"] == states.SUBMITTED:
            return await read_bid(bid["id"])
        # The amendment may have changed what the tender accepts: the stored terms
        # must still fit, or the provider revises instead.
        _check_terms(row, msgspec.convert(
            {k: bid[k] for k in ("price_amount", "pricing_model", "price_unit", "currency", "proposal",
                                 "sla_commitment", "team", "valid_until")}, BidSubmit))
        await Bid.update({Bid.status: states.SUBMITTED, Bid.submitted_at: moment}).where(Bid.id == bid["id"])
        await _record_revision(bid["id"], bid["version"], "confirmed", moment, viewer.user_id, {})
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="bid",
                           object_id=bid["id"], action="confirmed", before={"status": bid["status"]},
                           after={"status": states.SUBMITTED})
    return await read_bid(bid["id"])


async def withdraw_bid(viewer: Viewer, member: Member, tender_id: uuid.UUID) -> None:
    """Withdraws the live bid before the deadline; the provider may bid again."""
    async with atomic():
        _, moment = await _open_tender_locked(member, tender_id, withdrawing=True)
        bid = await _own_live_bid(member, tender_id)
        moment = _after(moment, bid["submitted_at"])
        await Bid.update({Bid.status: states.WITHDRAWN, Bid.live_key: None, Bid.withdrawn_at: moment}).where(
            Bid.id == bid["id"])
        await _record_revision(bid["id"], bid["version"], "withdrawn", moment, viewer.user_id, {})
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="bid",
                           object_id=bid["id"], action="withdrawn", before={"status": bid["status"]},
                           after={"status": states.WITHDRAWN})


async def read_bid(bid_id: uuid.UUID) -> dict:
    bid = await Bid.select(*BID_COLUMNS).where(Bid.id == bid_id).output(load_json=True).first()
    bid["attachments"] = await BidAttachment.select(
        BidAttachment.id, BidAttachment.filename, BidAttachment.content_type, BidAttachment.size_bytes,
        BidAttachment.sha256, BidAttachment.uploaded_at,
    ).where((BidAttachment.bid == bid_id) & BidAttachment.removed_at.is_null()).order_by(BidAttachment.uploaded_at)
    return bid


async def my_bid(member: Member, tender_id: uuid.UUID) -> dict | None:
    """The provider's own latest bid on the tender (live or not), or None."""
    _require_bidder_or_agent(member)
    await get_tender(member, tender_id)
    row = await Bid.select(Bid.id).where((Bid.tender == tender_id) & (Bid.provider == member.organisation_id)).order_by(
        Bid.first_submitted_at, ascending=False).first()
    return await read_bid(row["id"]) if row else None


def _require_bidder_or_agent(member: Member) -> None:
    if member.kind != roles.PROVIDER:
        raise not_found("Tender")


async def my_bid_history_page(member: Member, tender_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """Every version of the organisation's bid a page at a time, first version first."""
    bid = await my_bid(member, tender_id)
    if bid is None:
        raise not_found("Bid")
    query = BidRevision.select(BidRevision.id, BidRevision.version, BidRevision.action, BidRevision.at,
                               BidRevision.snapshot).where(BidRevision.bid == bid["id"]).output(load_json=True)
    return await paginate(query, BidRevision.at, BidRevision.id, cursor, limit, oldest_first=True)


async def my_bid_history(member: Member, tender_id: uuid.UUID) -> list[dict]:
    bid = await my_bid(member, tender_id)
    if bid is None:
        raise not_found("Bid")
    return await BidRevision.select(BidRevision.version, BidRevision.action, BidRevision.at,
                                    BidRevision.snapshot).where(BidRevision.bid == bid["id"]).order_by(
        BidRevision.at).output(load_json=True)


# --- files ---------------------------------------------------------------------------


def attachment_dir() -> Path:
    path = get_settings().data_dir / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def add_attachment(viewer: Viewer, member: Member, tender_id: uuid.UUID, filename: str,
                         declared_type: str | None, content: bytes) -> dict:
    """Adds a file to the live bid before the deadline: PDF, images, Office files,
    text, zip or mp4, within the size limit. The type is read from the content
    (`file_types.check_file`); the declared type is not trusted. The file is written
    before the row so that a stored row always has its file."""
    await _visible_for_bidding(member, tender_id)
    limit = get_settings().upload_max_bytes
    if not content or len(content) > limit:
        raise InvalidInput(BidError.ATTACHMENT, "A file must have content and at most {size} MB.",
                           params={"size": limit // (1024 * 1024)})
    name, kind = file_types.check_file(filename, content)
    stored = f"{uuid.uuid4().hex}{file_types.STORED_SUFFIX[kind]}"
    path = attachment_dir() / stored
    path.write_bytes(content)
    try:
        async with atomic():
            _, moment = await _open_tender_locked(member, tender_id)
            bid = await _own_live_bid(member, tender_id)
            count = await BidAttachment.count().where((BidAttachment.bid == bid["id"]) & BidAttachment.removed_at.is_null())
            if count >= MAX_ATTACHMENTS:
                raise InvalidInput(BidError.ATTACHMENT, "A bid holds at most {count} files.",
                                   params={"count": MAX_ATTACHMENTS})
            row = BidAttachment(bid=bid["id"], filename=name, content_type=kind, size_bytes=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), stored_name=stored,
                                uploaded_by=viewer.user_id, uploaded_at=moment)
            await row.save()
            await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="bid",
                               object_id=bid["id"], action="file_added", after={"file": name, "bytes": len(content)})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return {"id": row.id, "filename": name, "content_type": kind, "size_bytes": len(content), "sha256": row.sha256,
            "uploaded_at": moment}


async def attachment_for_download(member: Member, tender_id: uuid.UUID, attachment_id: uuid.UUID) -> tuple[Path, dict]:
    """The file, for its own provider at any time and for the merchant's team once bids
    are unsealed."""
    from bids.services.evaluation import require_unsealed

    if member.kind != roles.PROVIDER:
        # The seal first: before the deadline no file id, real or not, answers differently.
        await require_unsealed(member, tender_id)
    row = await BidAttachment.select(BidAttachment.filename, BidAttachment.content_type, BidAttachment.stored_name,
                                     BidAttachment.bid.provider.as_alias("provider_id"),
                                     BidAttachment.bid.tender.as_alias("tender_id")).where(
        (BidAttachment.id == attachment_id) & BidAttachment.removed_at.is_null()).first()
    if row is None or row["tender_id"] != tender_id:
        raise not_found("File")
    if member.kind == roles.PROVIDER and row["provider_id"] != member.organisation_id:
        raise not_found("File")
    return attachment_dir() / row["stored_name"], row
