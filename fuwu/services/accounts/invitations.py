"""Invitations: an owner invites a person by e-mail with a role; they accept."""

from __future__ import annotations

import datetime
import uuid

from fuwu import roles
from fuwu.clock import now
from fuwu.db import atomic
from fuwu.errors import Conflict, Forbidden, not_found
from fuwu.i18n import N_
from fuwu.security import new_token, token_hash
from fuwu.services import audit, notifications
from fuwu.services.accounts.members import _add_member, _check_role_for_kind, _require_top_role, member_user_ids
from fuwu.services.accounts.people import _normalise_email
from fuwu.services.accounts.viewer import Member, Viewer
from fuwu.tables import Invitation, Membership, User

INVITATION_DAYS = 7


_INVITATION_COLUMNS = (
    Invitation.id, Invitation.email, Invitation.role, Invitation.created_at, Invitation.expires_at,
    Invitation.accepted_at, Invitation.revoked_at,
)


async def invite(viewer: Viewer, member: Member, email: str, role: str) -> dict:
    """Owner invites a person by e-mail with a role. Returns the invitation with its
    one-time accept link; an existing user is also notified in Fuwu. Audited."""
    _require_top_role(member)
    _check_role_for_kind(member.kind, role)
    email = _normalise_email(email)
    token, hashed = new_token("inv")
    async with atomic():
        invited = await User.select(User.id).where(User.email == email).first()
        if invited and await Membership.exists().where(
            (Membership.user == invited["id"]) & (Membership.organisation == member.organisation_id)
        ):
            raise Conflict("already_member", "This person is already a member of the organisation.")
        row = Invitation(
            organisation=member.organisation_id, email=email, role=role, token_hash=hashed,
            invited_by=viewer.user_id, expires_at=now() + datetime.timedelta(days=INVITATION_DAYS),
        )
        await row.save()
        await audit.record(
            actor=viewer.user_id, organisation=member.organisation_id, object_type="invitation", object_id=row.id,
            action="created", after={"email": email, "role": role},
        )
        if invited:
            await notifications.notify(
                [invited["id"]], kind="invitation", title=N_("You are invited to join {org} as {role}"),
                params={"org": member.name, "role": role}, link=f"/invitations/{token}",
                organisation=member.organisation_id,
            )
    result = await Invitation.select(*_INVITATION_COLUMNS).where(Invitation.id == row.id).first()
    result["accept_url"] = f"/invitations/{token}"
    return result


async def list_invitations(member: Member) -> list[dict]:
    _require_top_role(member)
    return await Invitation.select(*_INVITATION_COLUMNS).where(
        Invitation.organisation == member.organisation_id
    ).order_by(Invitation.created_at, ascending=False)


async def revoke_invitation(viewer: Viewer, member: Member, invitation_id: uuid.UUID) -> None:
    _require_top_role(member)
    async with atomic():
        row = await Invitation.select(Invitation.accepted_at, Invitation.revoked_at).where(
            (Invitation.id == invitation_id) & (Invitation.organisation == member.organisation_id)
        ).first()
        if row is None:
            raise not_found("Invitation")
        if row["accepted_at"] is not None:
            raise Conflict("invitation_accepted", "This invitation was already accepted; remove the member instead.")
        if row["revoked_at"] is None:
            await Invitation.update({Invitation.revoked_at: now()}).where(Invitation.id == invitation_id)
            await audit.record(
                actor=viewer.user_id, organisation=member.organisation_id, object_type="invitation",
                object_id=invitation_id, action="revoked",
            )


async def invitation_by_token(token: str) -> dict:
    row = await Invitation.select(
        *_INVITATION_COLUMNS, Invitation.organisation.as_alias("organisation_id"),
        Invitation.organisation.name.as_alias("organisation_name"),
    ).where(Invitation.token_hash == token_hash(token)).first()
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now():
        raise not_found("Invitation")
    return row


async def accept_invitation(viewer: Viewer, token: str) -> dict:
    """The signed-in person accepts an invitation sent to their e-mail and becomes a
    member with its role. Audited; the inviter is notified."""
    async with atomic():
        row = await invitation_by_token(token)
        if row["accepted_at"] is not None:
            raise Conflict("invitation_accepted", "This invitation was already accepted.")
        if row["email"] != viewer.email:
            raise Forbidden(
                "invitation_for_other_email",
                "This invitation was sent to another e-mail address. Log in with that address to accept it.",
            )
        if await Membership.exists().where(
            (Membership.user == viewer.user_id) & (Membership.organisation == row["organisation_id"])
        ):
            raise Conflict("already_member", "You are already a member of this organisation.")
        membership_id = await _add_member(row["organisation_id"], viewer.user_id, row["role"])
        await Invitation.update({Invitation.accepted_at: now()}).where(Invitation.id == row["id"])
        await audit.record(
            actor=viewer.user_id, organisation=row["organisation_id"], object_type="membership",
            object_id=membership_id, action="joined", after={"user": viewer.email, "role": row["role"]},
        )
        owners = await member_user_ids(row["organisation_id"], roles.OWNER, roles.ADMIN)
        await notifications.notify(
            owners, kind="member_joined", title=N_("{name} joined {org}"),
            params={"name": viewer.display_name, "org": row["organisation_name"]}, link="/org",
            organisation=row["organisation_id"],
        )
    return {"organisation_id": row["organisation_id"], "role": row["role"], "membership_id": membership_id}
