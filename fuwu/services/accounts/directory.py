"""The public directory of providers."""

from __future__ import annotations

import uuid

from fuwu import roles
from fuwu.errors import not_found
from fuwu.tables import Organisation

async def list_providers(category: str | None, province: str | None, cursor: str | None, limit: int):
    """The public directory of providers, newest first, by category and province."""
    from fuwu.pagination import paginate

    query = Organisation.select(
        Organisation.id, Organisation.name, Organisation.province, Organisation.city, Organisation.categories,
        Organisation.profile, Organisation.created_at,
    ).where(Organisation.kind == roles.PROVIDER).output(load_json=True)
    if province:
        query = query.where(Organisation.province == province)
    if category:
        # Categories are a short JSON list; a LIKE on its text works on both engines.
        query = query.where(category_filter(category))
    return await paginate(query, Organisation.created_at, Organisation.id, cursor, limit)


def category_filter(category: str):
    """Providers listed in a category. Categories are a short JSON list; its text is
    matched on both engines (PostgreSQL needs the cast from json)."""
    from piccolo.columns.combination import WhereRaw

    return WhereRaw("CAST(fuwu_organisation.categories AS TEXT) LIKE {}", f'%"{category}"%')


async def provider_profile(org_id: uuid.UUID) -> dict:
    row = await Organisation.select(
        Organisation.id, Organisation.name, Organisation.province, Organisation.city, Organisation.categories,
        Organisation.profile,
    ).where((Organisation.id == org_id) & (Organisation.kind == roles.PROVIDER)).output(load_json=True).first()
    if row is None:
        raise not_found("Provider")
    return row
