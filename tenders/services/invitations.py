"""Invitations of providers to a tender, and recommendations of whom to invite."""

from __future__ import annotations

import uuid

from fuwu import roles, values
from fuwu.clock import now
from fuwu.i18n import N_, gettext
from fuwu.db import atomic, is_unique_violation
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.services import admin, audit
from fuwu.services import accounts
from fuwu.services.accounts import Member, Viewer
from fuwu.tables import Organisation
from tenders import states
from tenders.errors import TenderError
from tenders.hooks import InvitationStanding, hooks
from tenders.services.lifecycle import _notify_org, _require_role, get_own_tender, get_tender
from tenders.tables import TenderInvitation


async def invite_providers(viewer: Viewer, member: Member, tender_id: uuid.UUID, provider_ids: list[uuid.UUID]) -> list[dict]:
    """Invites providers to a draft or published tender (already invited ones are
    kept as they are). Published tenders notify the invited at once; drafts at
    publication. Audited. Refuses the whole request (422, nothing stored) if one of
    the providers may not be invited (the ratings domain's standing: unrated)."""
    async with atomic():
        row = await get_own_tender(member, tender_id, what=N_("invite providers"))
        if row["status"] not in (states.DRAFT, states.PUBLISHED):
            raise Conflict(TenderError.INVITATION, "Providers can be invited to drafts and open tenders only.")
        wanted = list(dict.fromkeys(provider_ids))
        found = await Organisation.select(Organisation.id).where(
            Organisation.id.is_in(wanted) & (Organisation.kind == roles.PROVIDER))
        found_ids = {r["id"] for r in found}
        missing = [str(p) for p in wanted if p not in found_ids]
        if missing:
            raise InvalidInput(TenderError.INVITATION, "These are not providers: {ids}.",
                               params={"ids": ", ".join(missing)})
        await _refuse_uninvitable(wanted)
        existing = {r["provider"] for r in await TenderInvitation.select(TenderInvitation.provider).where(
            TenderInvitation.tender == tender_id)}
        for provider_id in wanted:
            if provider_id in existing:
                continue
            invitation = TenderInvitation(tender=tender_id, provider=provider_id, pair=f"{tender_id}:{provider_id}",
                                          invited_by=viewer.user_id)
            try:
                await invitation.save()
            except Exception as exc:  # a concurrent invite of the same provider
                if not is_unique_violation(exc):
                    raise
                continue
            await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="tender",
                               object_id=tender_id, action="provider_invited", after={"provider": str(provider_id)})
            if row["status"] == states.PUBLISHED:
                await _notify_org(provider_id, row, kind="tender_invitation", title=N_("You are invited to bid: {title}"))
    return await list_invitations(member, tender_id)


async def invitation_standings(provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, InvitationStanding]:
    """Whether each provider may be invited and what merchants are warned of (the
    ratings domain's hook; unwired, everyone may be invited)."""
    standings = hooks().invitation_standings
    found = await standings(list(provider_ids)) if standings is not None and provider_ids else {}
    return {pid: found.get(pid, InvitationStanding(True)) for pid in provider_ids}


async def _refuse_uninvitable(provider_ids: list[uuid.UUID]) -> None:
    """Refuses the whole invitation, before anything is stored, when one of the
    providers cannot be invited (its standing is the lowest)."""
    standings = await invitation_standings(provider_ids)
    refused = [pid for pid in provider_ids if not standings[pid].invitable]
    if not refused:
        return
    names = {r["id"]: r["name"] for r in await Organisation.select(Organisation.id, Organisation.name).where(
        Organisation.id.is_in(refused))}
    raise InvalidInput(TenderError.NOT_INVITABLE,
                       "These providers cannot be invited: {providers}. Invite others, or publish the tender to "
                       "its whole category so that they can bid.",
                       params={"providers": "; ".join(
                           f"{names.get(pid, pid)} ({gettext(standings[pid].reason or N_('not invitable'))})"
                           for pid in refused)},
                       providers=[str(pid) for pid in refused])


async def list_invitations(member: Member, tender_id: uuid.UUID) -> list[dict]:
    await get_own_tender(member, tender_id, allowed_roles=(roles.OWNER, roles.OPERATOR, roles.EVALUATOR))
    return await TenderInvitation.select(
        TenderInvitation.id, TenderInvitation.provider.as_alias("provider_id"),
        TenderInvitation.provider.name.as_alias("provider_name"), TenderInvitation.status, TenderInvitation.created_at,
        TenderInvitation.declined_at, TenderInvitation.decline_reason,
    ).where(TenderInvitation.tender == tender_id).order_by(TenderInvitation.created_at)


async def my_invitation(member: Member, tender_id: uuid.UUID) -> dict | None:
    return await TenderInvitation.select(TenderInvitation.id, TenderInvitation.status).where(
        (TenderInvitation.tender == tender_id) & (TenderInvitation.provider == member.organisation_id)).first()


async def decline_invitation(viewer: Viewer, member: Member, tender_id: uuid.UUID, reason: str) -> None:
    """The invited provider declines; the merchant's team sees it on the invitation
    list. Audited."""
    if member.kind != roles.PROVIDER:
        raise not_found("Tender")
    _require_role(member, (roles.OWNER, roles.MANAGER), N_("decline invitations"))
    async with atomic():
        row = await get_tender(member, tender_id)
        invitation = await my_invitation(member, tender_id)
        if invitation is None:
            raise not_found("Invitation")
        if invitation["status"] == "declined":
            return
        if row["status"] not in (states.PUBLISHED,):
            raise Conflict(TenderError.INVITATION, "The tender is no longer open.")
        await TenderInvitation.update({TenderInvitation.status: "declined", TenderInvitation.declined_at: now(),
                                       TenderInvitation.decline_reason: reason.strip()}).where(
            TenderInvitation.id == invitation["id"])
        await audit.record(actor=viewer.user_id, organisation=row["merchant_id"], object_type="tender",
                           object_id=tender_id, action="invitation_declined",
                           after={"provider": member.name, "reason": reason.strip()})


# Weights of the recommendation score (out of 100).
CATEGORY_WEIGHT, CAPACITY_WEIGHT, REGION_WEIGHT, TIER_WEIGHT = 40, 25, 15, 20
# Tiers that fit a merchant's size: key accounts see top tiers first.
PREFERRED_TIER = {"key_account": 6, "large": 5, "medium": 4, "small": 3}
# How far down the SQL ranking recommendations look for providers that may be invited.
MAX_CANDIDATES = 5000


async def recommend(member: Member, tender_id: uuid.UUID, limit: int = 10) -> list[dict]:
    """Providers to invite, best first: category fit, free capacity (agent seats for
    customer service, team size otherwise, net of the seats its running contracts
    hold, against the seats asked for), same
    province, and a tier fitting the merchant's size. Every provider of the category
    is ranked in SQL; the reasons are shown to the merchant. Only providers that may
    be invited are offered (not suspended, not of the lowest standing), each with
    the warning its standing carries and, per SLA target of the tender, what it
    measurably delivered on its contracts."""
    row = await get_own_tender(member, tender_id, allowed_roles=(roles.OWNER, roles.OPERATOR),
                               what=N_("see recommendations"))
    needed = max(1, int((row["requirements"] or {}).get("seats") or 1))
    targets = [t for t in (row["sla_targets"] or []) if t.get("metric")]
    return await _rank(member, row["category"], needed, targets, limit)


async def recommend_in_category(member: Member, category: str, limit: int = 5) -> list[dict]:
    """Provider search for a merchant: the providers of a category ranked as a tender's
    recommendations are (tier fitting the merchant's size, free capacity, region),
    for one seat and without SLA targets, each with its reasons."""
    if member.kind != roles.MERCHANT:
        raise Forbidden("role_not_allowed", "Recommendations are for merchants.")
    if category not in values.CATEGORIES:
        raise InvalidInput("invalid_category", "Choose a category.")
    return await _rank(member, category, 1, [], limit)


async def _rank(member: Member, category: str, needed: int, targets: list[dict], limit: int) -> list[dict]:
    merchant = await Organisation.select(Organisation.size, Organisation.province).where(
        Organisation.id == member.organisation_id).first()
    # Take more than asked when tiers re-rank, so the tier bonus can lift a provider in.
    provider_tiers = hooks().provider_tiers
    pool = limit * 5 if provider_tiers is not None else limit
    wanted = pool
    while True:
        candidates = await accounts.ranked_provider_candidates(
            category, needed, category.startswith("cs_"), merchant["province"] or "", wanted,
            capacity_weight=CAPACITY_WEIGHT, region_weight=REGION_WEIGHT, committed_seats=hooks().committed_seats)
        # A suspended provider cannot bid, one of the lowest standing cannot be invited:
        # neither is recommended. A verified one shows its badge, a warned one its warning.
        suspended = await admin.suspended_ids([c["id"] for c in candidates])
        standings = await invitation_standings([c["id"] for c in candidates])
        offered = [c for c in candidates if c["id"] not in suspended and standings[c["id"]].invitable]
        # Many providers that cannot be invited (every new one is unrated) must not
        # crowd the invitable ones out of the list: look further down, a bounded number.
        if len(offered) >= pool or len(candidates) < wanted or wanted >= MAX_CANDIDATES:
            break
        wanted = min(wanted * 4, MAX_CANDIDATES)
    candidates = offered[:pool]
    preferred = PREFERRED_TIER.get(merchant["size"] or "small", 3)
    # One look-up for every candidate, not one a candidate.
    tiers = await provider_tiers([c["id"] for c in candidates]) if provider_tiers is not None else {}
    verified = await admin.verified_ids([c["id"] for c in candidates])
    # Promise against delivery: for each SLA target the tender asks for, what each
    # provider measurably delivered on its contracts (the sla domain), for all at once.
    track_records = hooks().track_records
    records = await track_records([c["id"] for c in candidates], sorted({t["metric"] for t in targets})) \
        if track_records is not None and targets and candidates else {}
    ranked = []
    for c in candidates:
        capacity, free = c["capacity"], c["free"]
        reasons = ["category"]
        score = CATEGORY_WEIGHT + CAPACITY_WEIGHT * min(1.0, free / needed)
        if capacity:
            # "capacity:5" a free team of five; "capacity:2/5" two of five free, three
            # on running contracts.
            reasons.append(f"capacity:{free}" if free == capacity else f"capacity:{free}/{capacity}")
        if merchant["province"] and c["province"] == merchant["province"]:
            score += REGION_WEIGHT
            reasons.append("region")
        provider_id = c["id"]
        tier = tiers.get(provider_id, 0)
        if tier:
            score += TIER_WEIGHT * max(0.0, 1 - abs(tier - preferred) / 3)
            reasons.append(f"tier:{tier}")
        ranked.append({"provider_id": provider_id, "id": provider_id, "name": c["name"], "province": c["province"],
                       "city": c["city"], "categories": c["categories"], "verified": provider_id in verified,
                       "score": round(score, 1), "reasons": reasons, "tier": tier, "capacity": capacity,
                       "committed": c["committed"], "free_capacity": free,
                       "warning": standings[provider_id].warning,
                       "delivered": [{"metric": t["metric"], "statistic": t.get("statistic"),
                                      "comparator": t.get("comparator"), "target": t.get("target"),
                                      "record": records.get((provider_id, t["metric"], t.get("statistic")))}
                                     for t in targets]})
    ranked.sort(key=lambda r: (-r["score"], r["name"]))
    return ranked[:limit]
