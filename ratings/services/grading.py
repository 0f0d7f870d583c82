"""Admin grading (DESIGN.md section 6): platform admins grade the brand dimension
with evidence, and change tiers only with a second admin. A 6-star promotion an
evaluation earned, and any override of a tier (with a written reason and an
expiry), take effect only when a second, different admin approves. Everything is
audited on the provider's timeline."""

from __future__ import annotations

import datetime
import uuid

from fuwu import roles
from fuwu.clock import now
from fuwu.db import atomic, is_postgres
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.i18n import N_
from fuwu.pagination import Page, paginate
from fuwu.services import audit, notifications
from fuwu.services.accounts import Viewer, is_platform_admin, member_user_ids
from fuwu.tables import Organisation
from ratings import states
from ratings.errors import RatingsError
from ratings.services.reviews import MAX_COMMENT, MIN_REASON, admin_user_ids
from ratings.tables import BrandGrade, Standing, TierApproval

MAX_VALIDITY = datetime.timedelta(days=731)


async def _admin(viewer: Viewer) -> None:
    if not await is_platform_admin(viewer.user_id):
        raise not_found("Page")


async def _provider(provider_id: uuid.UUID) -> dict:
    row = await Organisation.select(Organisation.id, Organisation.name).where(
        (Organisation.id == provider_id) & (Organisation.kind == roles.PROVIDER)).first()
    if row is None:
        raise not_found("Provider")
    return row


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not MIN_REASON <= len(value) <= MAX_COMMENT:
        raise InvalidInput(RatingsError.REASON, N_("Write the {what} in {low} to {high} characters."),
                           params={"what": what, "low": MIN_REASON, "high": MAX_COMMENT})
    return value


def _expiry(expires_at: datetime.datetime) -> datetime.datetime:
    if expires_at.tzinfo is None:
        raise InvalidInput(RatingsError.GRADE, N_("Give times with a time zone offset."))
    if not now() < expires_at <= now() + MAX_VALIDITY:
        raise InvalidInput(RatingsError.GRADE, N_("The expiry must be in the future, within two years."))
    return expires_at


async def grade_brand(viewer: Viewer, provider_id: uuid.UUID, *, score: int, evidence: str,
                      expires_at: datetime.datetime, brands_served: int = 0, key_accounts_served: int = 0) -> dict:
    """An admin grades a provider's brand capability 0-100 with its evidence (brands
    and key accounts served) until an expiry; the latest unexpired grade is the
    brand dimension from the next evaluation on. Audited; the provider is told."""
    await _admin(viewer)
    if not isinstance(score, int) or not 0 <= score <= 100:
        raise InvalidInput(RatingsError.GRADE, N_("The brand score is a whole number from 0 to 100."))
    if min(brands_served, key_accounts_served) < 0:
        raise InvalidInput(RatingsError.GRADE, N_("Counts of brands and key accounts are 0 or more."))
    evidence = _text(evidence, N_("evidence"))
    _expiry(expires_at)
    async with atomic():
        provider = await _provider(provider_id)
        row = BrandGrade(provider=provider_id, score=score, brands_served=brands_served,
                         key_accounts_served=key_accounts_served, evidence=evidence, graded_by=viewer.user_id,
                         graded_at=now(), expires_at=expires_at)
        await row.save()
        await audit.record(actor=viewer.user_id, organisation=provider_id, object_type="provider",
                           object_id=provider_id, action="brand_graded",
                           after={"score": score, "brands_served": brands_served,
                                  "key_accounts_served": key_accounts_served, "evidence": evidence,
                                  "expires_at": expires_at})
        await _tell_provider(provider_id, kind="brand_graded", title=N_("Your brand capability was graded {score}"),
                             params={"score": score})
    return {"id": row.id, "provider_id": provider_id, "provider_name": provider["name"], "score": score,
            "brands_served": brands_served, "key_accounts_served": key_accounts_served, "evidence": evidence,
            "graded_at": row.graded_at, "expires_at": expires_at}


async def request_override(viewer: Viewer, provider_id: uuid.UUID, *, tier: int, reason: str,
                           expires_at: datetime.datetime) -> dict:
    """An admin asks to set a provider's tier (0 unrated, or 3-6 stars) with a written
    reason until an expiry; nothing changes until a second admin approves. Audited;
    the other admins are told."""
    await _admin(viewer)
    if tier not in (states.UNRATED, *states.TIERS):
        raise InvalidInput(RatingsError.TIER, N_("A tier is 3, 4, 5 or 6 stars, or 0 for unrated."))
    reason = _text(reason, N_("reason"))
    _expiry(expires_at)
    return await _request(viewer, provider_id, states.OVERRIDE, tier, reason, expires_at)


async def request_promotion(viewer: Viewer, provider_id: uuid.UUID, reason: str) -> dict:
    """An admin endorses the 6-star promotion a provider's evaluation earned (its
    standing holds it pending); it takes effect when a second admin approves."""
    await _admin(viewer)
    reason = _text(reason, N_("reason"))
    standing = await Standing.select(Standing.pending_tier).where(Standing.provider == provider_id).first()
    if standing is None or standing["pending_tier"] != 6:
        raise Conflict(RatingsError.APPROVAL, N_("This provider has no 6-star promotion waiting."))
    return await _request(viewer, provider_id, states.PROMOTION, 6, reason, None)


async def _request(viewer: Viewer, provider_id: uuid.UUID, kind: str, tier: int, reason: str,
                   expires_at: datetime.datetime | None) -> dict:
    async with atomic():
        provider = await _provider(provider_id)
        if await TierApproval.exists().where((TierApproval.provider == provider_id) & (TierApproval.kind == kind)
                                             & (TierApproval.status == states.PENDING)):
            raise Conflict(RatingsError.APPROVAL, N_("A request of this kind already waits for a second admin."))
        row = TierApproval(provider=provider_id, kind=kind, tier=tier, reason=reason, expires_at=expires_at,
                           requested_by=viewer.user_id, requested_at=now(), status=states.PENDING)
        await row.save()
        await audit.record(actor=viewer.user_id, organisation=provider_id, object_type="provider",
                           object_id=provider_id, action="tier_requested",
                           after={"kind": kind, "tier": tier, "reason": reason, "expires_at": expires_at})
        others = [user for user in await admin_user_ids() if user != viewer.user_id]
        await notifications.notify(others, kind="tier_approval_requested",
                                   title=N_("A tier change waits for your approval: {provider}"),
                                   params={"provider": provider["name"]}, link="/admin/tiers")
    return await read_approval(row.id)


async def decide(viewer: Viewer, approval_id: uuid.UUID, approve: bool, reason: str = "") -> dict:
    """A second admin, not the one who asked, approves or rejects a pending tier
    change. An approved promotion makes the provider 6 stars (while its standing
    still holds the promotion); an approved override holds until it expires.
    Audited; the provider is told."""
    await _admin(viewer)
    async with atomic():
        query = TierApproval.select().where(TierApproval.id == approval_id)
        if is_postgres():
            query = query.lock_rows("UPDATE")
        row = await query.first()
        if row is None:
            raise not_found("Page")
        if row["requested_by"] == viewer.user_id:
            raise Forbidden(RatingsError.SAME_ADMIN, N_("A second admin, not the one who asked, decides this."))
        if row["status"] != states.PENDING:
            raise Conflict(RatingsError.APPROVAL, N_("This request has been decided already."))
        status = states.APPROVED if approve else states.REJECTED
        if approve and row["kind"] == states.PROMOTION:
            moved = await Standing.update({Standing.tier: 6, Standing.pending_tier: None, Standing.at_risk: False,
                                           Standing.below_count: 0, Standing.updated_at: now()}).where(
                (Standing.provider == row["provider"]) & (Standing.pending_tier == 6)).returning(Standing.id)
            if not moved:
                raise Conflict(RatingsError.APPROVAL, N_(
                    "The provider no longer holds the promotion: a later evaluation withdrew it."))
        await TierApproval.update({TierApproval.status: status, TierApproval.approved_by: viewer.user_id,
                                   TierApproval.decided_at: now()}).where(TierApproval.id == approval_id)
        await audit.record(actor=viewer.user_id, organisation=row["provider"], object_type="provider",
                           object_id=row["provider"], action="tier_approved" if approve else "tier_rejected",
                           before={"status": states.PENDING},
                           after={"kind": row["kind"], "tier": row["tier"], "status": status,
                                  **({"reason": reason.strip()} if reason and reason.strip() else {})})
        if approve:
            await _tell_provider(row["provider"], kind="tier_changed", title=N_("Your tier is now {tier}"),
                                 params={"tier": states.TIER_LABELS.label(str(row["tier"]))})
    return await read_approval(approval_id)


async def read_approval(approval_id: uuid.UUID) -> dict:
    row = await TierApproval.select(*_APPROVAL_COLUMNS).where(TierApproval.id == approval_id).first()
    if row is None:
        raise not_found("Page")
    return row


_APPROVAL_COLUMNS = (TierApproval.id, TierApproval.provider.as_alias("provider_id"),
                     TierApproval.provider.name.as_alias("provider_name"), TierApproval.kind, TierApproval.tier,
                     TierApproval.reason, TierApproval.expires_at, TierApproval.requested_by.as_alias("requested_by"),
                     TierApproval.requested_by.display_name.as_alias("requested_by_name"),
                     TierApproval.requested_at, TierApproval.status,
                     TierApproval.approved_by.as_alias("approved_by"), TierApproval.decided_at)


async def pending_approvals(viewer: Viewer, cursor: str | None, limit: int) -> Page:
    """Tier changes waiting for a second admin, oldest first."""
    await _admin(viewer)
    query = TierApproval.select(*_APPROVAL_COLUMNS).where(TierApproval.status == states.PENDING)
    return await paginate(query, TierApproval.requested_at, TierApproval.id, cursor, limit, oldest_first=True)


async def _tell_provider(provider_id: uuid.UUID, *, kind: str, title: str, params: dict) -> None:
    people = await member_user_ids(provider_id, roles.OWNER, roles.MANAGER)
    await notifications.notify(people, kind=kind, title=title, params=params, link="/scorecard",
                               organisation=provider_id)
