"""What platform admins do: find organisations, read one whole, suspend and reinstate
it with a written reason, verify a provider, search the audit log.

Every change is audited in its transaction (on the organisation's own timeline, by
the admin) and notified to the organisation's owners. A suspended provider cannot
bid and a suspended merchant cannot publish (`require_active`, called by those
services); a verified provider carries a badge wherever merchants see providers
(`verified_ids`). The audit search goes through `audit.platform_query`, so sealed
bids stay hidden from admins too.
"""

from __future__ import annotations

import datetime
import uuid

from fuwu import roles, sql
from fuwu.clock import now
from fuwu.db import atomic, contains_pattern, is_postgres, where
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.i18n import N_, Term
from fuwu.pagination import Page, paginate
from fuwu.services import audit, notifications
from fuwu.services.accounts.members import list_members, member_user_ids
from fuwu.services.accounts.organisations import ORG_COLUMNS
from fuwu.services.accounts.viewer import Member, Viewer
from fuwu.tables import AuditEvent, Organisation, User

ADMIN_ORG_COLUMNS = (*ORG_COLUMNS, Organisation.suspended_at, Organisation.suspension_reason,
                     Organisation.verified_at)
MIN_REASON = 3


async def search_organisations(q: str | None, kind: str | None, verified: bool | None, suspended: bool | None,
                               cursor: str | None, limit: int) -> Page:
    """Organisations newest first, by name (a part of it, any case), kind, verified
    and suspended."""
    query = Organisation.select(*ADMIN_ORG_COLUMNS).output(load_json=True)
    if q and q.strip():
        query = query.where(where(sql.NAME_CONTAINS, contains_pattern(q.strip())))
    if kind:
        query = query.where(Organisation.kind == kind)
    if verified is not None:
        query = query.where(Organisation.verified_at.is_not_null() if verified else Organisation.verified_at.is_null())
    if suspended is not None:
        query = query.where(Organisation.suspended_at.is_not_null() if suspended
                            else Organisation.suspended_at.is_null())
    return await paginate(query, Organisation.created_at, Organisation.id, cursor, limit)


async def organisation(org_id: uuid.UUID) -> dict:
    """One organisation with its status and members; 404 when there is none."""
    row = await Organisation.select(*ADMIN_ORG_COLUMNS).where(Organisation.id == org_id).output(
        load_json=True).first()
    if row is None:
        raise not_found("Organisation")
    row["members"] = await list_members(org_id)
    return row


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise InvalidInput("reason_required", "Give the reason; the organisation's owners will read it.")
    return reason


async def _locked(org_id: uuid.UUID) -> dict:
    query = Organisation.select(*ADMIN_ORG_COLUMNS).where(Organisation.id == org_id)
    if is_postgres():
        query = query.lock_rows("UPDATE")
    row = await query.first()
    if row is None:
        raise not_found("Organisation")
    return row


async def _tell_owners(row: dict, *, kind: str, title: str, body: str = "", params: dict | None = None) -> None:
    owners = await member_user_ids(row["id"], roles.TOP_ROLE[row["kind"]])
    await notifications.notify(owners, kind=kind, title=title, body=body,
                               params={"name": row["name"], **(params or {})}, link="/org", organisation=row["id"])


async def suspend(viewer: Viewer, org_id: uuid.UUID, reason: str) -> dict:
    """Suspends a merchant or provider with a reason its owners are told."""
    reason = _reason(reason)
    async with atomic():
        row = await _locked(org_id)
        if row["kind"] == roles.PLATFORM:
            raise Conflict("organisation_not_suspendable", "The platform organisation cannot be suspended.")
        if row["suspended_at"] is not None:
            raise Conflict("organisation_already_suspended", "The organisation is already suspended.")
        moment = now()
        await Organisation.update({Organisation.suspended_at: moment, Organisation.suspension_reason: reason}).where(
            Organisation.id == org_id)
        await audit.record(actor=viewer.user_id, organisation=org_id, object_type="organisation", object_id=org_id,
                           action="suspended", before={"suspended": False}, after={"suspended": True,
                                                                                   "reason": reason})
        await _tell_owners(row, kind="organisation_suspended", title=N_("{name} is suspended"),
                           body=N_("The platform suspended your organisation: {reason}"), params={"reason": reason})
    return await organisation(org_id)


async def reinstate(viewer: Viewer, org_id: uuid.UUID, reason: str) -> dict:
    """Lifts a suspension, with a reason its owners are told."""
    reason = _reason(reason)
    async with atomic():
        row = await _locked(org_id)
        if row["suspended_at"] is None:
            raise Conflict("organisation_not_suspended", "The organisation is not suspended.")
        await Organisation.update({Organisation.suspended_at: None, Organisation.suspension_reason: ""}).where(
            Organisation.id == org_id)
        await audit.record(actor=viewer.user_id, organisation=org_id, object_type="organisation", object_id=org_id,
                           action="reinstated", before={"suspended": True, "reason": row["suspension_reason"]},
                           after={"suspended": False, "reason": reason})
        await _tell_owners(row, kind="organisation_reinstated", title=N_("{name} is reinstated"),
                           body=N_("The platform lifted the suspension: {reason}"), params={"reason": reason})
    return await organisation(org_id)


async def set_verified(viewer: Viewer, org_id: uuid.UUID, verified: bool) -> dict:
    """Verifies a provider (a badge merchants see) or withdraws the verification."""
    async with atomic():
        row = await _locked(org_id)
        if row["kind"] != roles.PROVIDER:
            raise Conflict("organisation_not_provider", "Only providers are verified.")
        if (row["verified_at"] is not None) == verified:
            return await organisation(org_id)
        await Organisation.update({Organisation.verified_at: now() if verified else None}).where(
            Organisation.id == org_id)
        await audit.record(actor=viewer.user_id, organisation=org_id, object_type="organisation", object_id=org_id,
                           action="verified" if verified else "unverified", before={"verified": not verified},
                           after={"verified": verified})
        if verified:
            await _tell_owners(row, kind="organisation_verified", title=N_("{name} is verified"),
                               body=N_("Merchants now see a verified badge on your profile."))
    return await organisation(org_id)


async def require_active(member: Member) -> None:
    """403 when the member's organisation is suspended, naming the admin's reason."""
    if not member.suspended:
        return
    row = await Organisation.select(Organisation.suspension_reason).where(
        Organisation.id == member.organisation_id).first()
    what = N_("bid") if member.kind == roles.PROVIDER else N_("publish tenders")
    raise Forbidden("organisation_suspended",
                    "Your organisation is suspended by the platform, so it cannot {what} (reason: {reason}). "
                    "Contact the platform to be reinstated.",
                    params={"what": Term(what), "reason": row["suspension_reason"] if row else ""})


async def verified_ids(org_ids) -> set[uuid.UUID]:
    """Which of these organisations are verified providers."""
    ids = list(dict.fromkeys(org_ids))
    if not ids:
        return set()
    rows = await Organisation.select(Organisation.id).where(
        Organisation.id.is_in(ids) & Organisation.verified_at.is_not_null())
    return {row["id"] for row in rows}


async def suspended_ids(org_ids) -> set[uuid.UUID]:
    """Which of these organisations are suspended."""
    ids = list(dict.fromkeys(org_ids))
    if not ids:
        return set()
    rows = await Organisation.select(Organisation.id).where(
        Organisation.id.is_in(ids) & Organisation.suspended_at.is_not_null())
    return {row["id"] for row in rows}


async def is_verified(org_id: uuid.UUID) -> bool:
    return bool(await verified_ids([org_id]))


async def search_audit(*, actor: str | None = None, organisation: uuid.UUID | None = None,
                       object_type: str | None = None, object_id: str | None = None, action: str | None = None,
                       since: datetime.datetime | None = None, until: datetime.datetime | None = None,
                       cursor: str | None = None, limit: int = 50) -> Page:
    """The platform's audit log (sealed bids hidden), newest first, narrowed by actor
    (an e-mail address or a person's id), organisation, object, action and a time
    range [since, until)."""
    query = audit.platform_query()
    if actor and actor.strip():
        actor = actor.strip()
        try:
            actor_id = uuid.UUID(actor)
        except ValueError:
            user = await User.select(User.id).where(User.email == actor.lower()).first()
            if user is None:
                return Page(items=[], next_cursor=None)
            actor_id = user["id"]
        query = query.where(AuditEvent.actor == actor_id)
    if organisation is not None:
        query = query.where(AuditEvent.organisation == organisation)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if action:
        query = query.where(AuditEvent.action == action)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("invalid_time", "{field} needs a time zone, e.g. 2026-12-01T00:00:00+08:00.",
                               params={"field": name})
    if since is not None and until is not None and since >= until:
        raise InvalidInput("invalid_time", "since must be before until.")
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return await paginate(query, AuditEvent.at, AuditEvent.id, cursor, limit)
