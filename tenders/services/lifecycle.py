"""Creating, editing, publishing, amending, closing and cancelling tenders.

Server time is the only clock. The bid deadline is enforced on every read and write
(`ensure_current`) as well as by the scheduled job, so that nothing depends on the
job running on time. A bid counts if Fuwu received it before the deadline; the tender
stays published and sealed for a grace after the deadline (`sealed_until`) so that
such bids can commit, and bidding closes (and bids unseal) only once it has passed.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

import msgspec

from fuwu import roles
from fuwu.clock import now, valid_timezone
from fuwu.i18n import N_, Phrase, Term
from fuwu.db import after_transaction, atomic, contains_pattern, in_transaction, where
from fuwu.errors import Conflict, InvalidInput, not_found
from fuwu.jsonable import jsonable
from fuwu.pagination import Page, paginate
from fuwu.services import admin, audit, notifications
from fuwu.services.accounts import Member, Viewer, member_user_ids
from fuwu.settings import get_settings
from fuwu.values import CATEGORIES
from fuwu.tables import Organisation
from tenders import sql, states
from tenders.errors import TenderError
from tenders.hooks import hooks
from tenders.schemas import REQUIREMENTS_BY_CATEGORY, TenderCreate, TenderUpdate
from tenders.tables import Amendment, Question, Tender, TenderInvitation

MERCHANT_WRITERS = (roles.OWNER, roles.OPERATOR)
MERCHANT_READERS = (roles.OWNER, roles.OPERATOR, roles.EVALUATOR)
PROVIDER_BIDDERS = (roles.OWNER, roles.MANAGER)

TENDER_COLUMNS = (
    Tender.id, Tender.merchant.as_alias("merchant_id"), Tender.merchant.name.as_alias("merchant_name"),
    Tender.category, Tender.title, Tender.brief, Tender.requirements, Tender.budget_min, Tender.budget_max,
    Tender.currency, Tender.pricing_models, Tender.sla_targets, Tender.rounds, Tender.visibility, Tender.min_bids,
    Tender.region, Tender.questions_deadline, Tender.bid_deadline, Tender.evaluation_end, Tender.status,
    Tender.status_reason, Tender.amendment_count, Tender.published_at, Tender.created_at, Tender.updated_at,
)

# Fields whose change after publication is an amendment.
AMENDABLE = ("title", "brief", "requirements", "budget_min", "budget_max", "currency", "pricing_models",
             "sla_targets", "rounds", "min_bids", "questions_deadline", "bid_deadline", "evaluation_end")


def _require_role(member: Member, allowed: tuple[str, ...], what: str) -> None:
    """`what` is a phrase marked with N_ ("change tenders"), translated in the refusal."""
    from fuwu.errors import Forbidden

    if member.role not in allowed:
        raise Forbidden("role_not_allowed", "Your role ({role}) cannot {what}.",
                        params={"role": Term(member.role), "what": Term(what)})


def _require_kind(member: Member, kind: str) -> None:
    if member.kind != kind:
        raise not_found("Tender")


# --- validation ----------------------------------------------------------------------


def _check_content(values: dict[str, Any]) -> dict[str, Any]:
    """Validates the parts that depend on each other; returns normalised values."""
    category = values["category"]
    try:
        requirements = msgspec.convert(values.get("requirements") or {}, REQUIREMENTS_BY_CATEGORY[category])
    except msgspec.ValidationError as exc:
        # The detail is a whole sentence in the reader's language; msgspec's English
        # text (what was expected, and where) goes into `errors`.
        message, _, where = str(exc).rpartition(" - at ")
        if not message:
            message, where = str(exc), "$"
        where = where.strip("`").replace("$", "$.requirements", 1)
        missing = re.match(r"Object missing required field `([^`]*)`", message)
        if missing:
            where = f"{where}.{missing.group(1)}"
        raise InvalidInput(
            TenderError.REQUIREMENTS, "The requirements do not fit the category {category}: check {field}.",
            params={"category": Term(CATEGORIES.labels.get(category, category)), "field": where},
            errors=[{"message": message, "key": where, "source": "body"}],
        ) from None
    zone = getattr(requirements, "time_zone", None)
    if zone is not None and not valid_timezone(zone):
        raise InvalidInput(TenderError.REQUIREMENTS, "Unknown time zone in requirements. Use e.g. Asia/Shanghai.")
    values["requirements"] = msgspec.to_builtins(requirements)
    if values["budget_min"] > values["budget_max"] and values["budget_max"] > 0:
        raise InvalidInput(TenderError.BUDGET_RANGE, "The budget minimum must not exceed the maximum.")
    kinds = [r["kind"] for r in values["rounds"]]
    if len(set(kinds)) != len(kinds):
        raise InvalidInput(TenderError.ROUNDS, "Each evaluation round kind may be used once.")
    for number, spec in enumerate(values["rounds"], start=1):
        total = sum(c["weight"] for c in spec["criteria"])
        if total != 100:
            raise InvalidInput(TenderError.WEIGHTS,
                               "The criteria weights of round {number} add up to {total}; they must add up to 100.",
                               params={"number": number, "total": total})
        if sum(1 for c in spec["criteria"] if c.get("price")) > 1:
            raise InvalidInput(TenderError.ROUNDS, "Round {number} has more than one price criterion.",
                               params={"number": number})
        names = [c["name"].strip().lower() for c in spec["criteria"]]
        if len(set(names)) != len(names):
            raise InvalidInput(TenderError.ROUNDS, "Round {number} names a criterion twice.", params={"number": number})
    values["pricing_models"] = list(dict.fromkeys(values["pricing_models"]))
    _check_deadline_order(values)
    return values


def _aware(moment: datetime.datetime | None, name: str) -> datetime.datetime | None:
    if moment is not None and moment.tzinfo is None:
        # `name` is the field as the API spells it: the client must find it, so it stays untranslated.
        raise InvalidInput(TenderError.DEADLINES_OUT_OF_ORDER,
                           "{field} needs a time zone, e.g. 2026-12-01T18:00:00+08:00.", params={"field": name})
    return moment.astimezone(datetime.timezone.utc) if moment else None


def _check_deadline_order(values: dict[str, Any]) -> None:
    q = values["questions_deadline"] = _aware(values.get("questions_deadline"), "questions_deadline")
    b = values["bid_deadline"] = _aware(values.get("bid_deadline"), "bid_deadline")
    e = values["evaluation_end"] = _aware(values.get("evaluation_end"), "evaluation_end")
    if (q and b and not q < b) or (b and e and not b < e) or (q and e and not q < e):
        raise InvalidInput(TenderError.DEADLINES_OUT_OF_ORDER,
                           "Deadlines must be in order: questions deadline < bid deadline < evaluation end.")


# The deadlines a tender needs before publication, with their names in a sentence.
DEADLINE_NAMES = {"questions_deadline": N_("questions deadline"), "bid_deadline": N_("bid deadline"),
                  "evaluation_end": N_("evaluation end")}


def _check_publishable(values: dict[str, Any], moment: datetime.datetime) -> None:
    for name, words in DEADLINE_NAMES.items():
        if values.get(name) is None:
            raise InvalidInput(TenderError.DEADLINES_OUT_OF_ORDER, "Set the {deadline} before publishing.",
                               params={"deadline": Term(words)})
    if values["questions_deadline"] <= moment:
        raise InvalidInput(TenderError.DEADLINE_IN_PAST, "The questions deadline has passed; set a later one.")
    minimum = get_settings().min_bidding_seconds
    if (values["bid_deadline"] - moment).total_seconds() < minimum:
        raise InvalidInput(TenderError.BIDDING_TOO_SHORT,
                           "Leave providers at least {duration} to bid: move the bid deadline later.",
                           params={"duration": _duration(minimum)})
    if values["budget_max"] <= 0:
        raise InvalidInput(TenderError.BUDGET_RANGE, "Set a budget maximum before publishing.")


# Each unit as one message per number (one, more), so that a duration reads whole in any language.
DURATION_UNITS = (
    (86400, N_("{count} day"), N_("{count} days")),
    (3600, N_("{count} hour"), N_("{count} hours")),
    (60, N_("{count} minute"), N_("{count} minutes")),
    (1, N_("{count} second"), N_("{count} seconds")),
)


def _duration(seconds: int) -> Phrase:
    """In the largest unit that divides the time exactly: 3 days, 1 hour, 90 minutes."""
    for size, one, more in DURATION_UNITS:
        if seconds % size == 0:
            count = seconds // size
            return Phrase(one if count == 1 else more, count=count)
    return Phrase(N_("{count} seconds"), count=seconds)


# --- reading -------------------------------------------------------------------------


async def _row(tender_id: uuid.UUID) -> dict | None:
    return await Tender.select(*TENDER_COLUMNS).where(Tender.id == tender_id).output(load_json=True).first()


async def read_tender(tender_id: uuid.UUID) -> dict:
    """The tender as stored, for higher domains acting under their own rules (the
    contract an award opens); 404 when there is none."""
    row = await _row(tender_id)
    if row is None:
        raise not_found("Tender")
    return row


def bid_grace() -> datetime.timedelta:
    """How long after the bid deadline a bid received before it may still commit."""
    return datetime.timedelta(seconds=get_settings().bid_grace_seconds)


def sealed_until(row: dict) -> datetime.datetime:
    """When bidding closes and the bids unseal: the bid deadline plus the grace."""
    return row["bid_deadline"] + bid_grace()


def closing_due(row: dict, moment: datetime.datetime | None = None) -> bool:
    """A published tender whose deadline and grace have both passed."""
    return (row["status"] == states.PUBLISHED and row["bid_deadline"] is not None
            and sealed_until(row) <= (moment or now()))


def in_grace(row: dict, moment: datetime.datetime | None = None) -> bool:
    """A published tender past its bid deadline, still sealed while bids received in
    time commit: it takes no new bid and no amendment."""
    return (row["status"] == states.PUBLISHED and row["bid_deadline"] is not None
            and row["bid_deadline"] <= (moment or now()) < sealed_until(row))


async def ensure_current(row: dict) -> dict:
    """Closes bidding if the deadline and its grace have passed and the job has not
    done it yet."""
    if closing_due(row):
        tender_id = row["id"]
        await close_bidding(tender_id)
        if in_transaction():
            # The caller's transaction may roll back (a late bid's 409): close again
            # after it, in a transaction of its own; a no-op if this one commits.
            after_transaction(lambda: close_bidding(tender_id))
        row = await _row(tender_id)
    return row


async def provider_can_see(row: dict, provider_id: uuid.UUID) -> bool:
    if row["status"] not in states.VISIBLE_TO_PROVIDERS:
        return False
    # The commonest case first: a public tender in one of the provider's categories.
    if row["visibility"] == "public":
        org = await Organisation.select(Organisation.categories).where(Organisation.id == provider_id).output(
            load_json=True).first()
        if org and row["category"] in (org["categories"] or []):
            return True
    invited = await TenderInvitation.exists().where(
        (TenderInvitation.tender == row["id"]) & (TenderInvitation.provider == provider_id)
    )
    if invited:
        return True
    return hooks().provider_has_bid is not None and await hooks().provider_has_bid(row["id"], provider_id)


# The bid deadline is exact: a bid counts if its request was received before the
# deadline (fuwu.received) and it reads the server time before the end of the grace
# once it holds the tender shared; closing bidding (like every other change of the
# tender) holds it exclusively and only after the grace, so closing waits for the
# bids in flight and counts exactly the accepted ones. On PostgreSQL the tender is held with a transaction-level advisory
# lock, not a row lock: a thousand concurrent FOR SHARE locks on one row each wrote
# the row and a new multixact of every other holder, work that grew with the number
# of bids in flight (bench/bid_burst.py). On SQLite the IMMEDIATE transaction holds
# the database's write lock, which serialises all of it.
TENDER_LOCK_SPACE = 7301


def _lock_key(tender_id: uuid.UUID) -> tuple[int, int]:
    return TENDER_LOCK_SPACE, int.from_bytes(tender_id.bytes[:4], "big", signed=True)


async def lock_tender_for_provider(provider_id: uuid.UUID, tender_id: uuid.UUID) -> dict | None:
    """In a transaction: holds the tender shared (see TENDER_LOCK_SPACE) and returns its
    bidding terms (status, deadlines, pricing models, currency), read once the lock is
    held, or None when this provider may not see it, exactly as provider_can_see
    decides."""
    from fuwu.db import fetch, fetchrow, is_postgres, load_json

    if is_postgres():
        # Its own statement: the read after it must see whatever a change of the
        # tender committed while this one waited.
        await fetch(sql.HOLD_TENDER_SHARED, *_lock_key(tender_id))
    row = await fetchrow(sql.TENDER_FOR_BIDDER, tender_id, provider_id, f"{tender_id}:{provider_id}")
    if row is None or row["status"] not in states.VISIBLE_TO_PROVIDERS:
        return None
    row["pricing_models"] = load_json(row["pricing_models"])
    categories, invited = load_json(row.pop("provider_categories")) or [], row.pop("invited")
    if (row["visibility"] == "public" and row["category"] in categories) or invited:
        return row
    if hooks().provider_has_bid is not None and await hooks().provider_has_bid(row["id"], provider_id):
        return row
    return None


async def get_tender(member: Member, tender_id: uuid.UUID, close_due: bool = True) -> dict:
    """The tender as this member may see it: the merchant's own (any status) or, for a
    provider, a tender it may see. Anything else is 404, whether it exists or not."""
    row = await _row(tender_id)
    if row is None:
        raise not_found("Tender")
    if member.kind == roles.MERCHANT:
        if row["merchant_id"] != member.organisation_id:
            raise not_found("Tender")
    elif member.kind == roles.PROVIDER:
        if not await provider_can_see(row, member.organisation_id):
            raise not_found("Tender")
    else:
        raise not_found("Tender")
    return await ensure_current(row) if close_due else row


async def get_own_tender(member: Member, tender_id: uuid.UUID, allowed_roles=MERCHANT_WRITERS,
                         what: str = N_("change tenders")) -> dict:
    _require_kind(member, roles.MERCHANT)
    row = await get_tender(member, tender_id)
    _require_role(member, allowed_roles, what)
    return row


async def list_merchant_tenders(member: Member, status: str | None, cursor: str | None, limit: int) -> Page:
    _require_kind(member, roles.MERCHANT)
    query = Tender.select(*TENDER_COLUMNS).where(Tender.merchant == member.organisation_id).output(load_json=True)
    if status:
        query = query.where(Tender.status == status)
    page = await paginate(query, Tender.created_at, Tender.id, cursor, limit)
    page.items = [await ensure_current(row) for row in page.items]
    return page


async def browse_open_tenders(
    member: Member, *, category: str | None = None, text: str | None = None, budget_at_least: int | None = None,
    budget_at_most: int | None = None, deadline_before: datetime.datetime | None = None, region: str | None = None,
    cursor: str | None = None, limit: int = 20,
) -> Page:
    """Open tenders this provider may see: public ones in its categories, and those it
    was invited to; newest first."""
    _require_kind(member, roles.PROVIDER)
    org = await Organisation.select(Organisation.categories).where(Organisation.id == member.organisation_id).output(
        load_json=True).first()
    categories = [c for c in (org["categories"] or []) if c in states.CATEGORIES]
    moment = now()
    invited = where(sql.INVITED_PROVIDER, member.organisation_id)
    visible = invited
    if categories:
        visible = ((Tender.visibility == "public") & Tender.category.is_in(categories)) | invited
    query = Tender.select(*TENDER_COLUMNS).where(
        (Tender.status == states.PUBLISHED) & (Tender.bid_deadline > moment) & visible
    ).output(load_json=True)
    if category:
        query = query.where(Tender.category == category)
    if text:
        query = query.where(where(sql.TITLE_OR_BRIEF_LIKE, contains_pattern(text)))
    if budget_at_least is not None:
        query = query.where(Tender.budget_max >= budget_at_least)
    if budget_at_most is not None:
        query = query.where(Tender.budget_min <= budget_at_most)
    if deadline_before is not None:
        query = query.where(Tender.bid_deadline <= _aware(deadline_before, "deadline_before"))
    if region:
        query = query.where(Tender.region == region)
    return await paginate(query, Tender.published_at, Tender.id, cursor, limit)


async def amendments_page(tender_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """The tender's amendments a page at a time, first amendment first."""
    query = Amendment.select(Amendment.id, Amendment.number, Amendment.at, Amendment.reason,
                             Amendment.changes).where(Amendment.tender == tender_id).output(load_json=True)
    return await paginate(query, Amendment.at, Amendment.id, cursor, limit, oldest_first=True)


async def list_amendments(tender_id: uuid.UUID) -> list[dict]:
    return await Amendment.select(Amendment.id, Amendment.number, Amendment.at, Amendment.reason,
                                  Amendment.changes).where(Amendment.tender == tender_id).order_by(
        Amendment.number).output(load_json=True)


# --- writing -------------------------------------------------------------------------


async def create_tender(viewer: Viewer, member: Member, data: TenderCreate) -> dict:
    """Creates a draft tender for the merchant. Operators and owners only; audited."""
    _require_kind(member, roles.MERCHANT)
    _require_role(member, MERCHANT_WRITERS, N_("create tenders"))
    values = _check_content(jsonable_struct(data))
    org = await Organisation.select(Organisation.province).where(Organisation.id == member.organisation_id).first()
    async with atomic():
        tender = Tender(merchant=member.organisation_id, created_by=viewer.user_id, region=org["province"], **values)
        await tender.save()
        row = await _row(tender.id)
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                           object_id=tender.id, action="created", after=_snapshot(row))
    return row


def jsonable_struct(data: msgspec.Struct) -> dict[str, Any]:
    values = msgspec.structs.asdict(data)
    for key in ("sla_targets", "rounds"):
        if key in values and values[key] is not None:
            values[key] = msgspec.to_builtins(values[key])
    return values


def _snapshot(row: dict) -> dict:
    return {k: row[k] for k in AMENDABLE + ("status", "visibility", "category") if k in row}


async def update_tender(viewer: Viewer, member: Member, tender_id: uuid.UUID, data: TenderUpdate) -> dict:
    """Edits a draft freely, or amends a published tender.

    An amendment is recorded with its changes and reason, sets every submitted bid to
    needs_confirmation (through the bids hook, in this transaction), pushes the bid
    deadline out if less than the minimum bidding time would be left, and notifies
    the providers who can act on it. Other statuses cannot change.
    """
    changes = {k: v for k, v in jsonable_struct(data).items() if v is not None and k != "reason"}
    if not changes:
        raise InvalidInput(TenderError.NOTHING_CHANGED, "Send at least one field to change.")
    async with atomic():
        row = await _locked_own_tender(member, tender_id)
        if row["status"] not in (states.DRAFT, states.PUBLISHED):
            raise Conflict(TenderError.BAD_TRANSITION,
                           "A {status} tender cannot be changed; only drafts and published tenders can.",
                           params={"status": Term(row["status"])})
        if in_grace(row):
            raise Conflict(TenderError.BAD_TRANSITION,
                           "Bidding closed at the deadline; bids received in time are being stored, so the "
                           "tender can no longer be amended.")
        if row["status"] == states.PUBLISHED and not data.reason.strip():
            raise InvalidInput(TenderError.REASON_REQUIRED,
                               "An amendment of a published tender needs a reason that providers will read.")
        if row["status"] == states.PUBLISHED and "visibility" in changes and changes["visibility"] != row["visibility"]:
            raise Conflict(TenderError.BAD_TRANSITION, "Visibility cannot change after publication.")
        merged = {**row, **changes}
        merged = _check_content(merged)
        changed = {k: merged[k] for k in list(changes) if jsonable(merged[k]) != jsonable(row[k])}
        if not changed:
            return row
        if row["status"] == states.DRAFT:
            await Tender.update({**{getattr(Tender, k): v for k, v in changed.items()}, Tender.updated_at: now()}).where(
                Tender.id == tender_id)
            await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                               object_id=tender_id, action="draft_updated",
                               before={k: row[k] for k in changed}, after=changed)
            return await _row(tender_id)
        return await _amend(viewer, member, row, merged, changed, data.reason)


async def _amend(viewer: Viewer, member: Member, row: dict, merged: dict, changed: dict, reason: str) -> dict:
    moment = now()
    minimum = datetime.timedelta(seconds=get_settings().min_bidding_seconds)
    if merged["bid_deadline"] - moment < minimum:
        # Providers must keep the minimum bidding time to react to the change.
        new_deadline = moment + minimum
        shift = new_deadline - merged["bid_deadline"]
        merged["bid_deadline"] = new_deadline
        changed["bid_deadline"] = new_deadline
        if merged["evaluation_end"] <= new_deadline:
            merged["evaluation_end"] = merged["evaluation_end"] + shift
            changed["evaluation_end"] = merged["evaluation_end"]
    if merged["questions_deadline"] >= merged["bid_deadline"]:
        raise InvalidInput(TenderError.DEADLINES_OUT_OF_ORDER, "The questions deadline must stay before the bid deadline.")
    number = row["amendment_count"] + 1
    diff = {k: {"before": jsonable(row[k]), "after": jsonable(v)} for k, v in changed.items()}
    await Tender.update({**{getattr(Tender, k): v for k, v in changed.items()},
                         Tender.amendment_count: number, Tender.updated_at: moment}).where(Tender.id == row["id"])
    await Amendment.insert(Amendment(tender=row["id"], number=number, changed_by=viewer.user_id, reason=reason,
                                     changes=diff))
    for hook in hooks().on_amended:
        await hook(row["id"], viewer.user_id)
    await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                       object_id=row["id"], action="amended", before={k: d["before"] for k, d in diff.items()},
                       after={k: d["after"] for k, d in diff.items()})
    amended = await _row(row["id"])
    for org_id in await _interested_providers(amended):
        await _notify_org(org_id, row, kind="tender_amended", title=N_("Tender amended: {title}"),
                          body=N_("Check the changes; a bid submitted before them must be confirmed or revised."))
    return amended


async def _interested_providers(row: dict) -> list[uuid.UUID]:
    """Providers that can see the tender and have shown interest in it: they bid on
    it, asked a question or were invited (whether or not they declined)."""
    invited = [r["provider"] for r in await TenderInvitation.select(TenderInvitation.provider).where(
        TenderInvitation.tender == row["id"])]
    askers = [r["provider"] for r in await Question.select(Question.provider).where(
        Question.tender == row["id"]).distinct()]
    # A bidder sees the tender through its bid; the others are checked one by one.
    bidders = await hooks().bidder_org_ids(row["id"])
    known = set(bidders)
    return [*dict.fromkeys(bidders), *[org_id for org_id in dict.fromkeys([*invited, *askers])
                                       if org_id not in known and await provider_can_see(row, org_id)]]


async def _locked_own_tender(member: Member, tender_id: uuid.UUID) -> dict:
    _require_kind(member, roles.MERCHANT)
    _require_role(member, MERCHANT_WRITERS, N_("change tenders"))
    row = await lock_tender(tender_id)
    if row is None or row["merchant_id"] != member.organisation_id:
        raise not_found("Tender")
    if closing_due(row):
        await close_bidding(tender_id)
        row = await _row(tender_id)
    return row


async def lock_tender(tender_id: uuid.UUID) -> dict | None:
    """Reads the tender holding it exclusively for this transaction (see
    TENDER_LOCK_SPACE): the advisory lock first, so that it waits for bids in flight,
    then the row FOR UPDATE. On SQLite the IMMEDIATE transaction already holds the
    database's write lock."""
    from fuwu.db import fetch, is_postgres

    query = Tender.select(*TENDER_COLUMNS).where(Tender.id == tender_id).output(load_json=True)
    if is_postgres():
        await fetch(sql.HOLD_TENDER_EXCLUSIVE, *_lock_key(tender_id))
        query = query.lock_rows("UPDATE", of=(Tender,))
    return await query.first()


async def publish(viewer: Viewer, member: Member, tender_id: uuid.UUID) -> dict:
    """Publishes a draft: checks deadlines (questions < bid < evaluation end, all in the
    future, at least the minimum bidding time), budget and criteria. Audited;
    invited providers are notified. A suspended merchant cannot publish."""
    await admin.require_active(member)
    async with atomic():
        row = await _locked_own_tender(member, tender_id)
        if row["status"] != states.DRAFT:
            raise Conflict(TenderError.NOT_DRAFT, "Only a draft can be published.")
        values = _check_content(dict(row))
        moment = now()
        _check_publishable(values, moment)
        await _transition(row, states.PUBLISHED, viewer.user_id, extra={Tender.published_at: moment})
        invited = await TenderInvitation.select(TenderInvitation.provider).where(TenderInvitation.tender == tender_id)
        for invitation in invited:
            await _notify_org(invitation["provider"], row, kind="tender_invitation",
                              title=N_("You are invited to bid: {title}"))
    return await _row(tender_id)


async def _transition(row: dict, target: str, actor: uuid.UUID | None, reason: str = "",
                      extra: dict | None = None) -> None:
    """Moves a tender to `target` if its current status allows it, atomically: the
    UPDATE is conditional on the status read, so two racing transitions cannot both
    apply. Audited."""
    source = row["status"]
    if not states.can_move(source, target):
        raise Conflict(TenderError.BAD_TRANSITION, "A {source} tender cannot become {target}.",
                       params={"source": Term(source), "target": Term(target)})
    updates = {Tender.status: target, Tender.updated_at: now(), **(extra or {})}
    if reason:
        updates[Tender.status_reason] = reason
    moved = await Tender.update(updates).where((Tender.id == row["id"]) & (Tender.status == source)).returning(Tender.id)
    if not moved:
        raise Conflict(TenderError.BAD_TRANSITION, "The tender changed meanwhile. Reload and try again.")
    await audit.record(actor=actor, organisation=row["merchant_id"], object_type="tender", object_id=row["id"],
                       action=f"status_{target}", before={"status": source},
                       after={"status": target, **({"reason": reason} if reason else {})})
    row["status"] = target


async def transition(tender_id: uuid.UUID, target: str, actor: uuid.UUID | None, reason: str = "") -> dict:
    """For the bids domain: moves the tender (evaluating, awarded, unsuccessful) inside
    the caller's transaction."""
    row = await lock_tender(tender_id)
    if row is None:
        raise not_found("Tender")
    await _transition(row, target, actor, reason)
    return row


async def close_bidding(tender_id: uuid.UUID) -> str | None:
    """Closes bidding once the deadline and its grace have passed; with fewer valid
    bids than the minimum the tender becomes unsuccessful. Safe to run twice and
    concurrently with bids: it waits for bid transactions holding the tender and
    closes after them.
    Returns the new status, or None when nothing was due."""
    async with atomic():
        row = await lock_tender(tender_id)
        if row is None or not closing_due(row):
            return None
        await _transition(row, states.BIDDING_CLOSED, None, extra={})
        count = await hooks().count_valid_bids(tender_id)
        merchant_people = await member_user_ids(row["merchant_id"], *MERCHANT_READERS)
        if count < row["min_bids"]:
            await _transition(row, states.UNSUCCESSFUL, None,
                              reason=f"{count} valid bid(s) at the deadline; {row['min_bids']} required.")
            await notifications.notify(merchant_people, kind="tender_unsuccessful",
                                       title=N_("Tender unsuccessful: {title}"),
                                       body=N_("Too few valid bids arrived before the deadline."),
                                       params={"title": row["title"]}, link=f"/tenders/{tender_id}",
                                       organisation=row["merchant_id"])
        else:
            await notifications.notify(merchant_people, kind="bidding_closed", title=N_("Bidding closed: {title}"),
                                       body=N_("{count} valid bid(s) are ready for evaluation."),
                                       params={"title": row["title"], "count": count}, link=f"/tenders/{tender_id}",
                                       organisation=row["merchant_id"])
        # All bidders at once: a constant number of statements while the row is held.
        bidders = await member_user_ids(await hooks().bidder_org_ids(tender_id), roles.OWNER, roles.MANAGER)
        await notifications.notify(bidders, kind="bidding_closed_provider", title=N_("Bidding closed: {title}"),
                                   params={"title": row["title"]}, link=f"/tenders/{tender_id}")
        return row["status"]


_closing: set = set()


def request_close(tender_id: uuid.UUID, at: datetime.datetime | None = None) -> None:
    """Asks for bidding to be closed soon (or at `at`, the end of the grace), without
    waiting: for a late bid, whose own request must answer 409 at once rather than
    queue on the tender row behind every other late bid. One close per tender at a
    time in this process, run outside any transaction (a fresh context) after the
    caller's request; idempotent, and the job and every read close too, so nothing
    depends on it."""
    import asyncio
    import contextvars
    import logging

    if tender_id in _closing:
        return
    _closing.add(tender_id)

    async def close() -> None:
        try:
            if at is not None:
                await asyncio.sleep(max(0.0, (at - now()).total_seconds()) + 0.01)
            await close_bidding(tender_id)
        except Exception:
            logging.getLogger("fuwu.tenders").exception("closing bidding of %s failed; the job will retry", tender_id)
        finally:
            _closing.discard(tender_id)

    asyncio.get_running_loop().create_task(close(), context=contextvars.Context())


async def close_due_tenders() -> dict:
    """Scheduled: closes every published tender whose bid deadline and grace have passed."""
    due = await Tender.select(Tender.id).where(
        (Tender.status == states.PUBLISHED) & (Tender.bid_deadline <= now() - bid_grace())
    ).limit(500)
    closed = 0
    for row in due:
        if await close_bidding(row["id"]):
            closed += 1
    return {"closed": closed}


async def cancel(viewer: Viewer, member: Member, tender_id: uuid.UUID, reason: str) -> dict:
    """Cancels a published, closed or evaluating tender with a reason (before award).
    Before the deadline the bids are discarded unread. Bidders, invited providers and
    the merchant's team are told. Audited."""
    if len(reason.strip()) < 3:
        raise InvalidInput(TenderError.REASON_REQUIRED, "Give the reason for cancelling; bidders will read it.")
    async with atomic():
        row = await _locked_own_tender(member, tender_id)
        before_deadline = row["status"] == states.PUBLISHED
        await _transition(row, states.CANCELLED, viewer.user_id, reason=reason.strip())
        bidders = await hooks().bidder_org_ids(tender_id)
        for hook in hooks().on_cancelled:
            await hook(tender_id, not before_deadline)
        invited = [r["provider"] for r in await TenderInvitation.select(TenderInvitation.provider).where(
            TenderInvitation.tender == tender_id)]
        for org_id in dict.fromkeys([*bidders, *invited]):
            await _notify_org(org_id, row, kind="tender_cancelled", title=N_("Tender cancelled: {title}"),
                              body=N_("Reason: {reason}"), extra_params={"reason": reason.strip()})
    return await _row(tender_id)


async def _notify_org(org_id: uuid.UUID, row: dict, *, kind: str, title: str, body: str = "",
                      extra_params: dict | None = None) -> None:
    people = await member_user_ids(org_id, roles.OWNER, roles.MANAGER)
    await notifications.notify(people, kind=kind, title=title, body=body,
                               params={"title": row["title"], **(extra_params or {})},
                               link=f"/tenders/{row['id']}", organisation=org_id)


async def _notify_providers(row: dict, *, kind: str, title: str, body: str = "", also: list | None = None) -> None:
    """Tells the providers that act on a tender: invited ones, bidders, and `also`."""
    invited = [r["provider"] for r in await TenderInvitation.select(TenderInvitation.provider).where(
        (TenderInvitation.tender == row["id"]) & (TenderInvitation.status == "invited"))]
    bidders = await hooks().bidder_org_ids(row["id"])
    for org_id in dict.fromkeys([*invited, *bidders, *(also or [])]):
        await _notify_org(org_id, row, kind=kind, title=title, body=body)
