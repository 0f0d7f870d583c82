"""Organisations: creating one, reading it, changing its profile, the admin's list."""

from __future__ import annotations

import uuid

import msgspec

from fuwu import roles, sql
from fuwu.clock import valid_timezone
from fuwu.db import atomic
from fuwu.errors import InvalidInput, not_found
from fuwu.services import audit
from fuwu.services.accounts.members import _add_member, _require_top_role
from fuwu.services.accounts.viewer import Member, Viewer
from fuwu.tables import Organisation

ORG_COLUMNS = sql.ORGANISATION_COLUMNS


def _check_organisation(kind: str, size: str | None, timezone: str, categories: list[str]) -> None:
    if kind == roles.MERCHANT and size is None:
        raise InvalidInput("size_required", "A merchant organisation needs a size: small, medium, large or key_account.")
    if kind != roles.MERCHANT and size is not None:
        raise InvalidInput("size_not_allowed", "Only merchant organisations have a size.")
    if kind != roles.PROVIDER and categories:
        raise InvalidInput("categories_not_allowed", "Only provider organisations are listed in service categories.")
    if not valid_timezone(timezone):
        raise InvalidInput("invalid_timezone",
                           "Unknown time zone {timezone!r}. Use an IANA name such as Asia/Shanghai.",
                           params={"timezone": timezone})


async def _create_organisation(user_id: uuid.UUID, data) -> dict:
    org = Organisation(
        kind=data.kind,
        name=data.name.strip(),
        size=data.size,
        province=data.province.strip(),
        city=data.city.strip(),
        categories=list(dict.fromkeys(data.categories)),
        profile=data.profile,
        currency=data.currency,
        timezone=data.timezone,
    )
    await org.save()
    await _add_member(org.id, user_id, roles.TOP_ROLE[data.kind])
    snapshot = await get_organisation(org.id)
    await audit.record(
        actor=user_id, organisation=org.id, object_type="organisation", object_id=org.id, action="created",
        after=snapshot,
    )
    return snapshot


async def create_organisation(viewer: Viewer, data) -> dict:
    """Creates another organisation with the viewer as its owner (audited)."""
    _check_organisation(data.kind, data.size, data.timezone, data.categories)
    async with atomic():
        return await _create_organisation(viewer.user_id, data)


async def get_organisation(org_id: uuid.UUID) -> dict:
    row = await Organisation.select(*ORG_COLUMNS).where(Organisation.id == org_id).output(load_json=True).first()
    if row is None:
        raise not_found("Organisation")
    return row


async def update_organisation(viewer: Viewer, member: Member, data) -> dict:
    """Changes an organisation's profile. Owner (or platform admin) only; audited with
    before and after."""
    _require_top_role(member)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    if not changes:
        return await get_organisation(member.organisation_id)
    before = await get_organisation(member.organisation_id)
    merged = {**before, **changes}
    _check_organisation(member.kind, merged["size"], merged["timezone"], merged["categories"])
    if member.kind != roles.MERCHANT:
        changes.pop("size", None)
    async with atomic():
        await Organisation.update({getattr(Organisation, k): v for k, v in changes.items()}).where(
            Organisation.id == member.organisation_id
        )
        after = await get_organisation(member.organisation_id)
        await audit.record(
            actor=viewer.user_id, organisation=member.organisation_id, object_type="organisation",
            object_id=member.organisation_id, action="updated",
            before={k: before[k] for k in changes}, after={k: after[k] for k in changes},
        )
    return after


async def list_organisations(kind: str | None, cursor: str | None, limit: int):
    from fuwu.pagination import paginate

    query = Organisation.select(*ORG_COLUMNS).output(load_json=True)
    if kind:
        query = query.where(Organisation.kind == kind)
    return await paginate(query, Organisation.created_at, Organisation.id, cursor, limit)
