"""Ratings and reviews (DESIGN.md section 6): the merchant party of a real contract
rates the provider, and the provider reviews the merchant, once per contract month
or accepted milestone; each stays blind until the other side has written for the
same occasion or 14 days passed; the other side replies once; either party
disputes a published one to an admin, who upholds it or hides it with a written
reason (a hidden one stays listed as hidden and never counts).

    blind -> published -> hidden
    blind -> hidden

Every change is audited and told to the party it concerns.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fuwu import roles
from fuwu.clock import now
from fuwu.db import atomic, is_postgres, is_unique_violation
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.i18n import N_, Term
from fuwu.pagination import Page, paginate
from fuwu.services import audit, notifications
from fuwu.services.accounts import Member, Viewer, member_user_ids
from ratings import states
from ratings.errors import RatingsError
from ratings.tables import Dispute, ProviderReview, Rating
from sla import states as sla_states
from sla.services import contracts
from sla.tables import Milestone

MAX_COMMENT = 2000
MIN_REASON = 10
SCORES = ("overall", "quality", "communication", "timeliness")
TABLES = {states.RATING: Rating, states.PROVIDER_REVIEW: ProviderReview}
# Which side writes each kind, and which side replies to it.
AUTHOR_SIDE = {states.RATING: "merchant", states.PROVIDER_REVIEW: "provider"}
SIGNERS = {"merchant": contracts.MERCHANT_SIGNERS, "provider": contracts.PROVIDER_SIGNERS}


@dataclass(frozen=True)
class Scores:
    overall: int
    quality: int
    communication: int
    timeliness: int
    comment: str = ""

    def check(self) -> None:
        for name in SCORES:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
                raise InvalidInput(RatingsError.SCORE, N_("Give {score} as a whole number from 1 to 5."),
                                   params={"score": name})
        if len(self.comment or "") > MAX_COMMENT:
            raise InvalidInput(RatingsError.COMMENT, N_("The comment is at most {limit} characters."),
                               params={"limit": MAX_COMMENT})


def _columns(table):
    return (table.id, table.contract.as_alias("contract_id"), table.merchant.as_alias("merchant_id"),
            table.merchant.name.as_alias("merchant_name"), table.provider.as_alias("provider_id"),
            table.provider.name.as_alias("provider_name"), table.occasion, table.milestone.as_alias("milestone_id"),
            table.overall, table.quality, table.communication, table.timeliness, table.comment,
            table.author.display_name.as_alias("author_name"), table.created_at, table.publish_after,
            table.published_at, table.status, table.reply, table.replied_at)


# --- occasions -----------------------------------------------------------------------


def add_months(moment: datetime.datetime, months: int, zone: str) -> datetime.datetime:
    """The same local day and time `months` later in the zone (the month's last day
    where it is shorter), in UTC."""
    local = moment.astimezone(ZoneInfo(zone))
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30,
            31, 30, 31][month - 1]
    shifted = local.replace(year=year, month=month, day=min(local.day, days), tzinfo=None)
    return shifted.replace(tzinfo=ZoneInfo(zone)).astimezone(datetime.timezone.utc)


def period_bounds(contract: dict, number: int) -> tuple[datetime.datetime, datetime.datetime]:
    """Contract month `number` (1 for the first): [start, end), cut at the contract's end."""
    start = add_months(contract["starts_at"], number - 1, contract["time_zone"])
    end = add_months(contract["starts_at"], number, contract["time_zone"])
    return start, min(end, contract["ends_at"])


def _real(contract: dict) -> bool:
    """Signed by both parties and run: a contract that never started cannot be rated."""
    return (contract["merchant_signed_at"] is not None and contract["provider_signed_at"] is not None
            and contract["status"] in (sla_states.ACTIVE, sla_states.COMPLETED, sla_states.TERMINATED))


async def _occasion(contract: dict, period: int | None, milestone_id: uuid.UUID | None) -> tuple[str, uuid.UUID | None]:
    if (period is None) == (milestone_id is None):
        raise InvalidInput(RatingsError.OCCASION, N_("Rate either one contract month or one accepted milestone."))
    if period is not None:
        if not isinstance(period, int) or period < 1 or period_bounds(contract, period)[0] >= contract["ends_at"]:
            raise InvalidInput(RatingsError.OCCASION, N_("This contract has no month {period}."),
                               params={"period": str(period)[:10]})
        if period_bounds(contract, period)[0] > now():
            raise Conflict(RatingsError.OCCASION, N_("Month {period} of this contract has not started yet."),
                           params={"period": period})
        return f"{states.PERIOD}:{period}", None
    row = await Milestone.select(Milestone.id, Milestone.status).where(
        (Milestone.id == milestone_id) & (Milestone.contract == contract["id"])).first()
    if row is None:
        raise not_found("Milestone")
    if row["status"] != sla_states.MILESTONE_ACCEPTED:
        raise Conflict(RatingsError.OCCASION, N_("A milestone is rated once it has been accepted."))
    return f"{states.MILESTONE}:{milestone_id}", milestone_id


# --- writing -------------------------------------------------------------------------


async def rate_provider(viewer: Viewer, member: Member, contract_id: uuid.UUID, scores: Scores, *,
                        period: int | None = None, milestone_id: uuid.UUID | None = None) -> dict:
    """The merchant (owner or operator) of a signed contract rates its provider for one
    contract month that has started or one accepted milestone: overall, quality,
    communication and timeliness 1-5 and a comment. Once per occasion (409 after).
    Blind until the provider has reviewed the merchant for the same occasion (then
    both are published) or 14 days passed. Audited; the provider is told a rating
    waits for its own review."""
    return await _write(states.RATING, viewer, member, contract_id, scores, period, milestone_id)


async def review_merchant(viewer: Viewer, member: Member, contract_id: uuid.UUID, scores: Scores, *,
                          period: int | None = None, milestone_id: uuid.UUID | None = None) -> dict:
    """The provider (owner or manager) reviews the merchant of a signed contract: the
    mirror of `rate_provider`, by the same rules. Audited; the merchant is told."""
    return await _write(states.PROVIDER_REVIEW, viewer, member, contract_id, scores, period, milestone_id)


async def _write(kind: str, viewer: Viewer, member: Member, contract_id: uuid.UUID, scores: Scores,
                 period: int | None, milestone_id: uuid.UUID | None) -> dict:
    scores.check()
    table, side = TABLES[kind], AUTHOR_SIDE[kind]
    contract = await contracts.get_contract(member, contract_id)
    if contract["side"] != side:
        raise Forbidden("role_not_allowed", N_("Only the {side} of the contract can write this."),
                        params={"side": Term(side)})
    if member.role not in SIGNERS[side]:
        raise Forbidden("role_not_allowed", N_("Your role ({role}) cannot rate contracts."),
                        params={"role": Term(member.role)})
    if not _real(contract):
        raise Conflict(RatingsError.CONTRACT, N_("Only a contract both parties signed can be rated."))
    occasion, milestone = await _occasion(contract, period, milestone_id)
    moment = now()
    key = f"{contract_id}:{occasion}"
    row = table(contract=contract_id, merchant=contract["merchant_id"], provider=contract["provider_id"],
                occasion=occasion, milestone=milestone, key=key, overall=scores.overall, quality=scores.quality,
                communication=scores.communication, timeliness=scores.timeliness,
                comment=(scores.comment or "").strip(), author=viewer.user_id, created_at=moment,
                publish_after=moment + datetime.timedelta(days=states.BLIND_DAYS), status=states.BLIND)
    other_kind = states.PROVIDER_REVIEW if kind == states.RATING else states.RATING
    other = TABLES[other_kind]
    try:
        async with atomic():
            await row.save()
            own_org = member.organisation_id
            await audit.record(actor=viewer.user_id, organisation=own_org, object_type=kind, object_id=row.id,
                               action="rated" if kind == states.RATING else "reviewed",
                               after={"contract": str(contract_id), "occasion": occasion, "overall": scores.overall})
            counterpart_org = contract["provider_id"] if side == "merchant" else contract["merchant_id"]
            # Both sides have written: neither can now be swayed by the other, so both are shown.
            if is_postgres():
                await other.select(other.id).where(other.key == key).lock_rows("UPDATE")
            counterpart = await other.select(other.id, other.status).where(other.key == key).first()
            if counterpart is not None and counterpart["status"] == states.BLIND:
                await _publish(table, row.id, kind, moment)
                await _publish(other, counterpart["id"], other_kind, moment)
                for org_id in (contract["merchant_id"], contract["provider_id"]):
                    await _tell(org_id, kind="review_published", title=N_("Both reviews are published: {title}"),
                                title_text=contract["title"] or "", link=f"/contracts/{contract_id}")
            else:
                await _tell(counterpart_org, kind="review_waiting",
                            title=N_("A review of your work waits for yours: {title}"),
                            title_text=contract["title"] or "", link=f"/contracts/{contract_id}",
                            body=N_("It is shown once you have written yours, or in 14 days."))
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict(RatingsError.DUPLICATE, N_("This occasion has been rated already: it is rated once."))
        raise
    return await read(kind, row.id)


async def _publish(table, review_id: uuid.UUID, kind: str, moment: datetime.datetime) -> bool:
    moved = await table.update({table.status: states.PUBLISHED, table.published_at: moment}).where(
        (table.id == review_id) & (table.status == states.BLIND)).returning(table.id)
    if moved:
        await audit.record(actor=None, organisation=None, object_type=kind, object_id=review_id, action="published")
    return bool(moved)


async def publish_due() -> dict:
    """The job: reviews blind for 14 days are published, and so are both reviews of
    an occasion that the two sides wrote at the same moment (each transaction could
    not yet see the other's, so neither published the pair). A conditional update
    each: safe to run twice, in any process. Reads already treat a review past its
    14 days as published, so a late run changes nothing anyone sees of those."""
    moment, done = now(), 0
    for kind, table in TABLES.items():
        other = TABLES[states.PROVIDER_REVIEW if kind == states.RATING else states.RATING]
        due = await table.select(table.id).where(
            (table.status == states.BLIND) & ((table.publish_after <= moment) | table.key.is_in(
                other.select(other.key).where(other.status != states.HIDDEN)))).limit(500)
        for row in due:
            async with atomic():
                done += await _publish(table, row["id"], kind, moment)
    return {"published": done}


# --- replies and disputes --------------------------------------------------------------


async def _review(kind: str, review_id: uuid.UUID) -> dict:
    table = TABLES[kind]
    row = await table.select(*_columns(table)).where(table.id == review_id).first()
    if row is None:
        raise not_found("Rating")
    return _effective(row, kind)


def _effective(row: dict, kind: str, moment: datetime.datetime | None = None) -> dict:
    """A blind review past its 14 days is published, whether the job ran yet or not."""
    if row["status"] == states.BLIND and row["publish_after"] <= (moment or now()):
        row["status"] = states.PUBLISHED
        row["published_at"] = row["publish_after"]
    row["kind"] = kind
    return row


def _party(member: Member, row: dict) -> str:
    if member.organisation_id == row["merchant_id"]:
        return "merchant"
    if member.organisation_id == row["provider_id"]:
        return "provider"
    raise not_found("Rating")


async def reply(viewer: Viewer, member: Member, kind: str, review_id: uuid.UUID, text: str) -> dict:
    """The reviewed side (the provider to a rating, owner or manager; the merchant to a
    provider review, owner or operator) replies once to a published review.
    Audited; the author's side is told."""
    text = (text or "").strip()
    if not 1 <= len(text) <= MAX_COMMENT:
        raise InvalidInput(RatingsError.REPLY, N_("Write the reply in 1 to {limit} characters."),
                           params={"limit": MAX_COMMENT})
    table = TABLES[kind]
    async with atomic():
        row = await _review(kind, review_id)
        side = _party(member, row)
        replier = "provider" if AUTHOR_SIDE[kind] == "merchant" else "merchant"
        if side != replier:
            raise Forbidden("role_not_allowed", N_("Only the {side} replies to this."), params={"side": Term(replier)})
        if member.role not in SIGNERS[side]:
            raise Forbidden("role_not_allowed", N_("Your role ({role}) cannot reply to ratings."),
                            params={"role": Term(member.role)})
        if row["status"] != states.PUBLISHED:
            raise Conflict(RatingsError.REPLY, N_("Only a published rating can be replied to."))
        moved = await table.update({table.reply: text, table.replied_by: viewer.user_id,
                                    table.replied_at: now()}).where(
            (table.id == review_id) & table.replied_at.is_null()).returning(table.id)
        if not moved:
            raise Conflict(RatingsError.REPLIED, N_("This rating has a reply already: a reply is written once."))
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type=kind,
                           object_id=review_id, action="replied", after={"reply": text})
        author_org = row["merchant_id"] if replier == "provider" else row["provider_id"]
        await _tell(author_org, kind="review_replied", title=N_("Your review has a reply: {title}"),
                    title_text=row["provider_name"] if replier == "provider" else row["merchant_name"],
                    link=f"/contracts/{row['contract_id']}")
    return await read(kind, review_id)


async def dispute(viewer: Viewer, member: Member, kind: str, review_id: uuid.UUID, reason: str) -> dict:
    """Either party of the contract (its signers) disputes a published review to the
    platform's admins, with a reason of 10 characters or more; each party once per
    review. Audited; the admins are told."""
    reason = _reason(reason)
    async with atomic():
        row = await _review(kind, review_id)
        side = _party(member, row)
        if member.role not in SIGNERS[side]:
            raise Forbidden("role_not_allowed", N_("Your role ({role}) cannot dispute ratings."),
                            params={"role": Term(member.role)})
        if row["status"] != states.PUBLISHED:
            raise Conflict(RatingsError.DISPUTE, N_("Only a published rating can be disputed."))
        record = Dispute(review_kind=kind, review=review_id, organisation=member.organisation_id,
                         key=f"{review_id}:{member.organisation_id}", reason=reason, raised_by=viewer.user_id,
                         status=states.OPEN)
        try:
            async with atomic():
                await record.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(RatingsError.DISPUTED, N_("You have disputed this rating already.")) from None
            raise
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type=kind,
                           object_id=review_id, action="disputed", after={"reason": reason})
        await notifications.notify(await admin_user_ids(), kind="rating_disputed",
                                   title=N_("A rating is disputed: {title}"),
                                   params={"title": row["provider_name"]}, link="/admin/ratings/disputes")
    return await read_dispute(record.id)


async def admin_user_ids() -> list[uuid.UUID]:
    """The platform's admins (a handful), who decide disputes and approve tiers."""
    from fuwu.tables import Membership

    rows = await Membership.select(Membership.user).where(
        (Membership.organisation.kind == roles.PLATFORM) & (Membership.role == roles.ADMIN)).limit(100)
    return [row["user"] for row in rows]


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not MIN_REASON <= len(reason) <= MAX_COMMENT:
        raise InvalidInput(RatingsError.REASON, N_("Write the reason in {low} to {high} characters."),
                           params={"low": MIN_REASON, "high": MAX_COMMENT})
    return reason


async def decide_dispute(viewer: Viewer, dispute_id: uuid.UUID, hide: bool, reason: str) -> dict:
    """A platform admin decides an open dispute with a written reason: upheld (the
    review stays) or hidden (the review is listed as hidden and no longer counts;
    every other open dispute of it is decided alike). Audited; both parties are told."""
    reason = _reason(reason)
    async with atomic():
        found = await Dispute.select().where(Dispute.id == dispute_id).first()
        if found is None:
            raise not_found("Dispute")
        kind, review_id = found["review_kind"], found["review"]
        row = await _review(kind, review_id)
        decision = states.DISPUTE_HIDDEN if hide else states.UPHELD
        moment = now()
        condition = (Dispute.id == dispute_id) if not hide else (Dispute.review == review_id)
        moved = await Dispute.update({Dispute.status: decision, Dispute.decided_by: viewer.user_id,
                                      Dispute.decision_reason: reason, Dispute.decided_at: moment}).where(
            condition & (Dispute.status == states.OPEN)).returning(Dispute.id)
        if dispute_id not in [m["id"] for m in moved]:
            raise Conflict(RatingsError.DISPUTE_STATE, N_("This dispute has been decided already."))
        if hide:
            table = TABLES[kind]
            await table.update({table.status: states.HIDDEN}).where(table.id == review_id)
        await audit.record(actor=viewer.user_id, organisation=row["provider_id"] if kind == states.RATING
                           else row["merchant_id"], object_type=kind, object_id=review_id,
                           action="dispute_hidden" if hide else "dispute_upheld",
                           before={"status": row["status"]},
                           after={"status": states.HIDDEN if hide else row["status"], "reason": reason})
        for org_id in (row["merchant_id"], row["provider_id"]):
            await _tell(org_id, kind="dispute_decided",
                        title=N_("A disputed rating was hidden: {title}") if hide else
                        N_("A disputed rating stays as it is: {title}"),
                        title_text=row["provider_name"], body=N_("Reason: {reason}"), params={"reason": reason},
                        link=f"/contracts/{row['contract_id']}")
    return await read_dispute(dispute_id)


# --- reading --------------------------------------------------------------------------


async def read(kind: str, review_id: uuid.UUID) -> dict:
    row = await _review(kind, review_id)
    return _with_hidden_reason([row])[0] if row["status"] != states.HIDDEN else await _hidden(row)


async def _hidden(row: dict) -> dict:
    decided = await Dispute.select(Dispute.decision_reason).where(
        (Dispute.review == row["id"]) & (Dispute.status == states.DISPUTE_HIDDEN)).first()
    row["hidden_reason"] = decided["decision_reason"] if decided else ""
    return row


def _with_hidden_reason(rows: list[dict]) -> list[dict]:
    for row in rows:
        row.setdefault("hidden_reason", "")
    return rows


def shown(row: dict, viewer_org: uuid.UUID | None = None) -> dict:
    """What a reader may see of a review: a blind one only by its author's side, a
    hidden one as hidden (no scores, no comment, the admin's reason)."""
    author_org = row["merchant_id"] if AUTHOR_SIDE[row["kind"]] == "merchant" else row["provider_id"]
    if row["status"] == states.HIDDEN or (row["status"] == states.BLIND and viewer_org != author_org):
        return {**row, **{name: None for name in SCORES}, "comment": "", "reply": ""}
    return row


async def provider_ratings(provider_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """A provider's ratings for its public profile, newest first: the published ones
    with their replies, and the hidden ones listed as hidden (with the reason); blind
    ones are not listed. 404 for an id that is no provider."""
    from fuwu.tables import Organisation

    if not await Organisation.exists().where((Organisation.id == provider_id) & (Organisation.kind == roles.PROVIDER)):
        raise not_found("Provider")
    moment = now()
    query = Rating.select(*_columns(Rating)).where(
        (Rating.provider == provider_id) & ((Rating.status != states.BLIND) | (Rating.publish_after <= moment)))
    page = await paginate(query, Rating.created_at, Rating.id, cursor, limit)
    items = []
    for row in page.items:
        row = _effective(row, states.RATING, moment)
        items.append(shown(await _hidden(row) if row["status"] == states.HIDDEN else {**row, "hidden_reason": ""}))
    return Page(items=items, next_cursor=page.next_cursor)


async def contract_reviews(member: Member, contract_id: uuid.UUID, kind: str = states.RATING,
                           cursor: str | None = None, limit: int = 50) -> Page:
    """One contract's ratings (or provider reviews) for its parties, oldest first, a
    blind one shown only to its author's side."""
    await contracts.get_contract(member, contract_id)
    table = TABLES[kind]
    moment = now()
    page = await paginate(table.select(*_columns(table)).where(table.contract == contract_id), table.created_at,
                          table.id, cursor, limit, oldest_first=True)
    items = []
    for row in page.items:
        row = _effective(row, kind, moment)
        row = await _hidden(row) if row["status"] == states.HIDDEN else {**row, "hidden_reason": ""}
        items.append(shown(row, member.organisation_id))
    return Page(items=items, next_cursor=page.next_cursor)


async def read_dispute(dispute_id: uuid.UUID) -> dict:
    row = await Dispute.select(Dispute.id, Dispute.review_kind, Dispute.review.as_alias("review_id"),
                               Dispute.organisation.as_alias("organisation_id"), Dispute.reason, Dispute.raised_at,
                               Dispute.status, Dispute.decision_reason, Dispute.decided_at).where(
        Dispute.id == dispute_id).first()
    if row is None:
        raise not_found("Dispute")
    return row


async def open_disputes(cursor: str | None, limit: int) -> Page:
    """Disputes waiting for an admin, oldest first."""
    query = Dispute.select(Dispute.id, Dispute.review_kind, Dispute.review.as_alias("review_id"),
                           Dispute.organisation.as_alias("organisation_id"), Dispute.reason, Dispute.raised_at,
                           Dispute.status, Dispute.decision_reason, Dispute.decided_at).where(
        Dispute.status == states.OPEN)
    return await paginate(query, Dispute.raised_at, Dispute.id, cursor, limit, oldest_first=True)


# --- telling --------------------------------------------------------------------------


async def _tell(org_id: uuid.UUID, *, kind: str, title: str, title_text: str, link: str, body: str = "",
                params: dict | None = None) -> None:
    people = await member_user_ids(org_id, roles.OWNER, roles.OPERATOR, roles.MANAGER)
    await notifications.notify(people, kind=kind, title=title, body=body,
                               params={"title": title_text, **(params or {})}, link=link, organisation=org_id)


async def open_months(member: Member, contract: dict, limit: int = 24) -> list[int]:
    """The contract months the member's side may still write its review of (started,
    not yet written by that side), newest first: what the contract page offers. None
    once the contract is not real (unsigned, never started)."""
    if not _real(contract):
        return []
    kind = states.RATING if contract["side"] == "merchant" else states.PROVIDER_REVIEW
    table = TABLES[kind]
    written = {row["occasion"] for row in await table.select(table.occasion).where(table.contract == contract["id"])}
    moment, months = now(), []
    for number in range(1, 1000):
        start, _ = period_bounds(contract, number)
        if start >= contract["ends_at"] or start > moment:
            break
        if f"{states.PERIOD}:{number}" not in written:
            months.append(number)
    return list(reversed(months))[:limit]
