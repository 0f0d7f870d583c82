"""Contracts: opened by an award, signed by both parties, run, completed or
terminated (DESIGN.md section 4).

    pending_signature -> active -> completed | terminated
    pending_signature -> terminated

Every change is audited on the contract's timeline and told to both parties.
"""

from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

from bids.services import award
from fuwu import roles
from fuwu.clock import now
from fuwu.db import atomic
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.i18n import N_, Term
from fuwu.pagination import Page, paginate
from fuwu.services import audit, notifications
from fuwu.services.accounts import Member, Viewer, member_user_ids
from fuwu.tables import Organisation
from sla import states
from sla.calendar import CoverageCalendar
from sla.errors import SlaError
from sla.tables import Contract, SlaTarget
from tenders import states as tender_states
from tenders.services import lifecycle

# Who may act for each party.
MERCHANT_SIGNERS = (roles.OWNER, roles.OPERATOR)
PROVIDER_SIGNERS = (roles.OWNER, roles.MANAGER)
# Work delivered in pieces is contracted for a season; services run for a year.
DELIVERABLE_CATEGORIES = ("photography", "design", "video", "consulting")
DELIVERABLE_DAYS, SERVICE_DAYS = 90, 365
DEFAULT_ATTRIBUTION_SECONDS = 24 * 3600

CONTRACT_COLUMNS = (
    Contract.id, Contract.merchant.as_alias("merchant_id"), Contract.merchant.name.as_alias("merchant_name"),
    Contract.provider.as_alias("provider_id"), Contract.provider.name.as_alias("provider_name"),
    Contract.tender.as_alias("tender_id"), Contract.tender.title.as_alias("title"), Contract.bid.as_alias("bid_id"),
    Contract.category, Contract.seats, Contract.status, Contract.starts_at, Contract.ends_at, Contract.currency,
    Contract.pricing_model, Contract.pricing_terms, Contract.period_fee, Contract.attribution_window_seconds,
    Contract.time_zone, Contract.calendar, Contract.merchant_signed_at, Contract.provider_signed_at,
    Contract.status_reason, Contract.created_at,
)
TARGET_COLUMNS = (
    SlaTarget.id, SlaTarget.metric, SlaTarget.statistic, SlaTarget.comparator, SlaTarget.target, SlaTarget.window,
    SlaTarget.weight, SlaTarget.credit_percent, SlaTarget.bonus_percent, SlaTarget.bonus_margin,
)


# --- opening --------------------------------------------------------------------------


def _better(comparator: str, offered: float, asked: float) -> float:
    """The stricter of the two targets: a provider's commitment counts where it beats
    what the tender asked for."""
    return min(offered, asked) if comparator == "<=" else max(offered, asked)


def merge_targets(asked: list[dict], offered: list[dict]) -> list[dict]:
    """The contract's SLA targets: each target the tender asked for, at the provider's
    committed level where that is stricter (same metric, statistic and window), and
    each further commitment the provider made (weight 0, no credit unless the tender
    set one)."""
    key = lambda t: (t["metric"], t["statistic"], t.get("window", "month"))  # noqa: E731
    offers = {key(t): t for t in offered}
    merged = []
    for target in asked:
        offer = offers.pop(key(target), None)
        value = float(target["target"])
        if offer is not None and offer.get("comparator") == target["comparator"]:
            value = _better(target["comparator"], float(offer["target"]), value)
        merged.append({"metric": target["metric"], "statistic": target["statistic"],
                       "comparator": target["comparator"], "target": value, "window": target.get("window", "month"),
                       "weight": int(target.get("weight", 0)),
                       "credit_percent": float(target.get("service_credit_percent", 0)),
                       "bonus_percent": float(offer.get("bonus_percent", 0)) if offer else 0.0,
                       "bonus_margin": float(offer.get("bonus_margin", 0)) if offer else 0.0})
    for offer in offers.values():
        merged.append({"metric": offer["metric"], "statistic": offer["statistic"], "comparator": offer["comparator"],
                       "target": float(offer["target"]), "window": offer.get("window", "month"), "weight": 0,
                       "credit_percent": 0.0, "bonus_percent": float(offer.get("bonus_percent", 0)),
                       "bonus_margin": float(offer.get("bonus_margin", 0))})
    return merged


def calendar_from_requirements(requirements: dict) -> dict:
    """Customer-service coverage hours ("09:00-24:00") as a weekly calendar, every
    day; other categories are measured around the clock."""
    hours = (requirements or {}).get("coverage_hours")
    if not hours:
        return {}
    start, end = hours.split("-")
    if end <= start and end != "24:00":  # crosses midnight: split into two windows a day
        windows = [["00:00", end], [start, "24:00"]]
    else:
        windows = [[start, end]]
    return {"weekdays": {day: windows for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, "holidays": []}


def committed_seats(team: dict | None, requirements: dict | None) -> int:
    """The people a contract takes from its provider's capacity while it runs: the
    seats the winning bid staffs, else the seats the tender asked for, at least one."""
    for seats in ((team or {}).get("seats"), (requirements or {}).get("seats")):
        if isinstance(seats, int) and seats > 0:
            return seats
    return 1


def _next_local_midnight(moment: datetime.datetime, zone: str) -> datetime.datetime:
    local = moment.astimezone(ZoneInfo(zone))
    day = local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(), ZoneInfo(zone)).astimezone(datetime.timezone.utc)


async def open_from_award(tender_id: uuid.UUID, bid_id: uuid.UUID, actor: uuid.UUID) -> None:
    """The award hook (bids.hooks.BidHooks.on_award), inside the award's transaction:
    opens the contract `pending_signature` from the tender and the winning bid —
    parties, category, pricing terms from the bid, SLA targets (the provider's
    commitment where stricter), the coverage calendar from the tender's coverage
    hours, starting the next local day. Audited; both parties are told to sign."""
    tender = await lifecycle.read_tender(tender_id)
    bid = await award.awarded_terms(bid_id)
    merchant = await Organisation.select(Organisation.timezone).where(Organisation.id == tender["merchant_id"]).first()
    requirements = tender["requirements"] or {}
    zone = requirements.get("time_zone") or (merchant or {}).get("timezone") or "Asia/Shanghai"
    calendar = calendar_from_requirements(requirements)
    CoverageCalendar.from_json(zone, calendar)  # what the award copies must be valid
    starts = _next_local_midnight(now(), zone)
    days = DELIVERABLE_DAYS if tender["category"] in DELIVERABLE_CATEGORIES else SERVICE_DAYS
    terms = {"amount": bid["price_amount"], "unit": bid["price_unit"], "period": "month"}
    contract = Contract(seats=committed_seats(bid["team"], requirements),
        merchant=tender["merchant_id"], provider=bid["provider_id"], tender=tender_id, bid=bid_id,
        category=tender["category"], status=states.PENDING_SIGNATURE, starts_at=starts,
        ends_at=starts + datetime.timedelta(days=days), currency=bid["currency"], pricing_model=bid["pricing_model"],
        pricing_terms=terms, period_fee=bid["price_amount"] if bid["pricing_model"] == "periodic_fee" else 0,
        attribution_window_seconds=DEFAULT_ATTRIBUTION_SECONDS, time_zone=zone, calendar=calendar,
    )
    await contract.save()
    targets = merge_targets(tender["sla_targets"] or [], bid["sla_commitment"] or [])
    for target in targets:
        await SlaTarget(contract=contract.id, **target).save()
    await audit.record(actor=actor, organisation=tender["merchant_id"], object_type="contract", object_id=contract.id,
                       action="opened", after={"tender": str(tender_id), "bid": str(bid_id),
                                               "targets": len(targets)})
    await _tell_parties(contract.id, tender["merchant_id"], bid["provider_id"], kind="contract_opened",
                        title=N_("Contract ready to sign: {title}"), title_text=tender["title"])


# --- reading --------------------------------------------------------------------------


def _party_filter(member: Member):
    if member.kind == roles.MERCHANT:
        return Contract.merchant == member.organisation_id
    if member.kind == roles.PROVIDER:
        return Contract.provider == member.organisation_id
    return None


async def _read(contract_id: uuid.UUID) -> dict | None:
    return await Contract.select(*CONTRACT_COLUMNS).where(Contract.id == contract_id).output(load_json=True).first()


async def targets_of(contract_id: uuid.UUID) -> list[dict]:
    return await SlaTarget.select(*TARGET_COLUMNS).where(SlaTarget.contract == contract_id).order_by(SlaTarget.metric)


async def get_contract(member: Member, contract_id: uuid.UUID) -> dict:
    """A contract one of whose parties the member belongs to, with its SLA targets;
    404 for anyone else, whether it exists or not."""
    row = await _read(contract_id)
    if row is None or member.organisation_id not in (row["merchant_id"], row["provider_id"]):
        raise not_found("Contract")
    row["targets"] = await targets_of(contract_id)
    row["side"] = "merchant" if member.organisation_id == row["merchant_id"] else "provider"
    return row


async def list_contracts(member: Member, status: str | None, cursor: str | None, limit: int) -> Page:
    """The member's organisation's contracts, newest first, by status."""
    party = _party_filter(member)
    if party is None:
        return Page(items=[], next_cursor=None)
    if status is not None and status not in states.CONTRACT_STATUSES:
        raise InvalidInput(SlaError.CONTRACT, N_("Unknown contract status {status}."), params={"status": status[:40]})
    query = Contract.select(*CONTRACT_COLUMNS).where(party).output(load_json=True)
    if status:
        query = query.where(Contract.status == status)
    return await paginate(query, Contract.created_at, Contract.id, cursor, limit)


async def serving_contract(shop_id: uuid.UUID, moment: datetime.datetime | None = None) -> dict | None:
    """The shop's active customer-service contract running now (the newest if there
    are several): its id and provider. Live chat routes the shop's buyers to that
    provider's agents and appends the SLA events to that contract."""
    moment = moment or now()
    return await Contract.select(Contract.id, Contract.provider.as_alias("provider_id")).where(
        (Contract.merchant == shop_id) & (Contract.status == states.ACTIVE)
        & Contract.category.is_in(list(states.CUSTOMER_SERVICE_CATEGORIES)) & (Contract.starts_at <= moment)
        & (Contract.ends_at > moment)).order_by(Contract.starts_at, ascending=False).first()


async def contract_for_tender(tender_id: uuid.UUID) -> dict | None:
    return await Contract.select(Contract.id, Contract.status).where(Contract.tender == tender_id).first()


# --- changing -------------------------------------------------------------------------


async def _locked(member: Member, contract_id: uuid.UUID) -> dict:
    query = Contract.select(*CONTRACT_COLUMNS).where(Contract.id == contract_id).output(load_json=True)
    from fuwu.db import is_postgres

    if is_postgres():
        query = query.lock_rows("UPDATE", of=(Contract,))
    row = await query.first()
    if row is None or member.organisation_id not in (row["merchant_id"], row["provider_id"]):
        raise not_found("Contract")
    return row


def _require_signer(member: Member, row: dict, what: str) -> str:
    side = "merchant" if member.organisation_id == row["merchant_id"] else "provider"
    allowed = MERCHANT_SIGNERS if side == "merchant" else PROVIDER_SIGNERS
    if member.role not in allowed:
        raise Forbidden("role_not_allowed", "Your role ({role}) cannot {what}.",
                        params={"role": Term(member.role), "what": Term(what)})
    return side


async def _move(row: dict, target: str, actor: uuid.UUID, reason: str = "", extra: dict | None = None) -> None:
    source = row["status"]
    if target not in states.CONTRACT_TRANSITIONS[source]:
        raise Conflict(SlaError.CONTRACT_STATE, N_("A {source} contract cannot become {target}."),
                       params={"source": Term(source), "target": Term(target)})
    updates = {Contract.status: target, **(extra or {})}
    if reason:
        updates[Contract.status_reason] = reason
    moved = await Contract.update(updates).where((Contract.id == row["id"]) & (Contract.status == source)).returning(
        Contract.id)
    if not moved:
        raise Conflict(SlaError.CONTRACT_STATE, N_("The contract changed meanwhile. Reload and try again."))
    await audit.record(actor=actor, organisation=row["merchant_id"], object_type="contract", object_id=row["id"],
                       action=f"status_{target}", before={"status": source},
                       after={"status": target, **({"reason": reason} if reason else {})})
    row["status"] = target


async def sign(viewer: Viewer, member: Member, contract_id: uuid.UUID) -> dict:
    """Signs the contract for the member's side (merchant owner or operator; provider
    owner or manager). Signing twice changes nothing. When both have signed the
    contract becomes active and its tender `contracted`. Audited and told."""
    async with atomic():
        row = await _locked(member, contract_id)
        side = _require_signer(member, row, N_("sign contracts"))
        if row["status"] != states.PENDING_SIGNATURE:
            raise Conflict(SlaError.CONTRACT_STATE, N_("Only a contract waiting for signatures can be signed."))
        column = Contract.merchant_signed_at if side == "merchant" else Contract.provider_signed_at
        if row[f"{side}_signed_at"] is None:
            moment = now()
            await Contract.update({column: moment}).where(Contract.id == contract_id)
            row[f"{side}_signed_at"] = moment
            await audit.record(actor=viewer.user_id, organisation=row["merchant_id"], object_type="contract",
                               object_id=contract_id, action=f"signed_by_{side}")
            other = row["provider_id"] if side == "merchant" else row["merchant_id"]
            await _tell(other, contract_id, kind="contract_signed", title=N_("The other party signed: {title}"),
                        title_text=row["title"] or "")
        if row["merchant_signed_at"] is not None and row["provider_signed_at"] is not None:
            await _move(row, states.ACTIVE, viewer.user_id)
            if row["tender_id"] is not None:
                await lifecycle.transition(row["tender_id"], tender_states.CONTRACTED, viewer.user_id)
            await _tell_parties(contract_id, row["merchant_id"], row["provider_id"], kind="contract_active",
                                title=N_("Contract signed by both parties: {title}"), title_text=row["title"] or "")
    return await get_contract(member, contract_id)


async def terminate(viewer: Viewer, member: Member, contract_id: uuid.UUID, reason: str) -> dict:
    """Ends a pending or active contract early, for either party's signer, with a
    written reason (10 characters or more). Audited; both parties are told."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise InvalidInput(SlaError.REASON, N_("Write the reason for ending the contract (at least 10 characters)."))
    async with atomic():
        row = await _locked(member, contract_id)
        _require_signer(member, row, N_("end contracts"))
        await _move(row, states.TERMINATED, viewer.user_id, reason)
        await _tell_parties(contract_id, row["merchant_id"], row["provider_id"], kind="contract_terminated",
                            title=N_("Contract ended early: {title}"), title_text=row["title"] or "",
                            body=N_("Reason: {reason}"), params={"reason": reason})
    return await get_contract(member, contract_id)


async def update_terms(viewer: Viewer, member: Member, contract_id: uuid.UUID, *, starts_at=None, ends_at=None,
                       time_zone: str | None = None, calendar: dict | None = None,
                       attribution_window_seconds: int | None = None) -> dict:
    """The merchant adjusts the terms of a contract still waiting for signatures:
    dates, time zone, coverage calendar, attribution window. Any change clears both
    signatures, so each party signs what it agreed to. Audited; the provider is told."""
    async with atomic():
        row = await _locked(member, contract_id)
        if member.organisation_id != row["merchant_id"]:
            raise Forbidden("role_not_allowed", N_("Only the merchant changes the terms; the provider signs them."))
        _require_signer(member, row, N_("change contracts"))
        if row["status"] != states.PENDING_SIGNATURE:
            raise Conflict(SlaError.CONTRACT_STATE, N_("The terms of a signed contract cannot change."))
        changes: dict = {}
        zone = time_zone or row["time_zone"]
        if time_zone is not None or calendar is not None:
            CoverageCalendar.from_json(zone, calendar if calendar is not None else row["calendar"])
            changes.update({"time_zone": zone, "calendar": calendar if calendar is not None else row["calendar"]})
        start, end = starts_at or row["starts_at"], ends_at or row["ends_at"]
        for value in (start, end):
            if value.tzinfo is None:
                raise InvalidInput(SlaError.DATES, N_("Give times with a time zone offset."))
        if end <= start:
            raise InvalidInput(SlaError.DATES, N_("The contract must end after it starts."))
        if starts_at is not None:
            changes["starts_at"] = start
        if ends_at is not None:
            changes["ends_at"] = end
        if attribution_window_seconds is not None:
            if not 60 <= attribution_window_seconds <= 30 * 86400:
                raise InvalidInput(SlaError.ATTRIBUTION, N_(
                    "The attribution window is from 1 minute to 30 days, in seconds."))
            changes["attribution_window_seconds"] = attribution_window_seconds
        if changes:
            before = {key: row[key] for key in changes}
            await Contract.update({**{getattr(Contract, key): value for key, value in changes.items()},
                                   Contract.merchant_signed_at: None, Contract.provider_signed_at: None}).where(
                Contract.id == contract_id)
            await audit.record(actor=viewer.user_id, organisation=row["merchant_id"], object_type="contract",
                               object_id=contract_id, action="terms_changed", before=before, after=changes)
            await _tell(row["provider_id"], contract_id, kind="contract_terms_changed",
                        title=N_("Contract terms changed, sign again: {title}"), title_text=row["title"] or "")
    return await get_contract(member, contract_id)


async def complete_due_contracts() -> dict:
    """The job: active contracts past their end date become completed. Idempotent (a
    conditional update per contract)."""
    moment, done = now(), 0
    due = await Contract.select(*CONTRACT_COLUMNS).where(
        (Contract.status == states.ACTIVE) & (Contract.ends_at <= moment)).limit(500).output(load_json=True)
    for row in due:
        try:
            async with atomic():
                await _move(row, states.COMPLETED, None)
                await _tell_parties(row["id"], row["merchant_id"], row["provider_id"], kind="contract_completed",
                                    title=N_("Contract completed: {title}"), title_text=row["title"] or "")
            done += 1
        except Conflict:
            continue  # another process completed it meanwhile
    return {"completed": done}


# --- telling --------------------------------------------------------------------------


async def _tell(org_id: uuid.UUID, contract_id: uuid.UUID, *, kind: str, title: str, title_text: str,
                body: str = "", params: dict | None = None) -> None:
    people = await member_user_ids(org_id, roles.OWNER, roles.OPERATOR, roles.MANAGER)
    await notifications.notify(people, kind=kind, title=title, body=body,
                               params={"title": title_text, **(params or {})}, link=f"/contracts/{contract_id}",
                               organisation=org_id)


async def _tell_parties(contract_id: uuid.UUID, merchant_id: uuid.UUID, provider_id: uuid.UUID, **kwargs) -> None:
    for org_id in (merchant_id, provider_id):
        await _tell(org_id, contract_id, **kwargs)
