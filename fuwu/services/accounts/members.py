"""Memberships and roles: who belongs to which organisation, as what."""

from __future__ import annotations

import uuid

from fuwu import roles
from fuwu import sql
from fuwu.db import atomic, fetchrow
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.i18n import Term, Terms
from fuwu.services import audit
from fuwu.services.accounts.viewer import Member, Viewer
from fuwu.tables import Membership, WebSession



async def _add_member(org_id: uuid.UUID, user_id: uuid.UUID, role: str) -> uuid.UUID:
    membership = Membership(user=user_id, organisation=org_id, role=role, pair=f"{user_id}:{org_id}")
    await membership.save()
    return membership.id


def _require_top_role(member: Member) -> None:
    if member.role != roles.TOP_ROLE[member.kind]:
        raise Forbidden("owner_only", "Only the organisation's owner can do this. Ask your owner.")


async def membership(user_id: uuid.UUID, org_id: uuid.UUID) -> Member:
    """The user's membership of an organisation; 404 (not 403) when there is none, so
    that outsiders cannot tell which organisations exist."""
    row = await fetchrow(sql.MEMBERSHIP_BY_PAIR, f"{user_id}:{org_id}")  # every API request: hand-written
    if row is None:
        raise not_found("Organisation")
    return Member(membership_id=row["id"], organisation_id=org_id, kind=row["kind"], role=row["role"], name=row["name"],
                  suspended=row["suspended_at"] is not None)


async def is_platform_admin(user_id: uuid.UUID) -> bool:
    return await Membership.exists().where(
        (Membership.user == user_id)
        & (Membership.organisation.kind == roles.PLATFORM)
        & (Membership.role == roles.ADMIN)
    )


async def list_members(org_id: uuid.UUID) -> list[dict]:
    return await Membership.select(
        Membership.id,
        Membership.user.as_alias("user_id"),
        Membership.user.email.as_alias("email"),
        Membership.user.display_name.as_alias("display_name"),
        Membership.role,
        Membership.created_at,
    ).where(Membership.organisation == org_id).order_by(Membership.created_at)


async def member_user_ids(org_id: uuid.UUID | list, *allowed_roles: str) -> list[uuid.UUID]:
    """The people of one organisation (or of several, in one query) with these roles."""
    org_ids = org_id if isinstance(org_id, list) else [org_id]
    if not org_ids:
        return []
    query = Membership.select(Membership.user).where(Membership.organisation.is_in(org_ids))
    if allowed_roles:
        query = query.where(Membership.role.is_in(list(allowed_roles)))
    return list(dict.fromkeys(row["user"] for row in await query))


def _check_role_for_kind(kind: str, role: str) -> None:
    if role not in roles.ROLES_BY_KIND[kind]:
        raise InvalidInput("role_not_in_kind", "A {kind} organisation's roles are: {roles}.",
                           params={"kind": Term(kind), "roles": Terms(roles.ROLES_BY_KIND[kind])})


async def change_member_role(viewer: Viewer, member: Member, membership_id: uuid.UUID, role: str) -> dict:
    """Owner changes a member's role; the last owner cannot be demoted. Audited."""
    _require_top_role(member)
    _check_role_for_kind(member.kind, role)
    async with atomic():
        target = await _member_row(member.organisation_id, membership_id)
        if target["role"] == role:
            return target
        await _keep_an_owner(member, target)
        await Membership.update({Membership.role: role}).where(Membership.id == membership_id)
        await audit.record(
            actor=viewer.user_id, organisation=member.organisation_id, object_type="membership",
            object_id=membership_id, action="role_changed", before={"role": target["role"]}, after={"role": role},
        )
        target["role"] = role
    return target


async def remove_member(viewer: Viewer, member: Member, membership_id: uuid.UUID) -> None:
    """Owner removes a member (or a member leaves); the last owner cannot. Audited."""
    async with atomic():
        target = await _member_row(member.organisation_id, membership_id)
        if target["user_id"] != viewer.user_id:
            _require_top_role(member)
        await _keep_an_owner(member, target)
        await Membership.delete().where(Membership.id == membership_id)
        await WebSession.update({WebSession.current_organisation: None}).where(
            (WebSession.user == target["user_id"]) & (WebSession.current_organisation == member.organisation_id)
        )
        await audit.record(
            actor=viewer.user_id, organisation=member.organisation_id, object_type="membership",
            object_id=membership_id, action="removed", before={"user": target["email"], "role": target["role"]},
        )


async def _member_row(org_id: uuid.UUID, membership_id: uuid.UUID) -> dict:
    row = await Membership.select(
        Membership.id, Membership.user.as_alias("user_id"), Membership.user.email.as_alias("email"),
        Membership.user.display_name.as_alias("display_name"), Membership.role, Membership.created_at,
    ).where((Membership.id == membership_id) & (Membership.organisation == org_id)).first()
    if row is None:
        raise not_found("Member")
    return row


async def _keep_an_owner(member: Member, target: dict) -> None:
    top = roles.TOP_ROLE[member.kind]
    if target["role"] == top:
        owners = await Membership.count().where(
            (Membership.organisation == member.organisation_id) & (Membership.role == top)
        )
        if owners <= 1:
            raise Conflict("last_owner", "An organisation needs at least one owner. Make someone else owner first.")
