"""The public directory of providers."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from fuwu import roles, sql
from fuwu.clock import now
from fuwu.db import fetch, load_json, where
from fuwu.errors import not_found
from fuwu.tables import Organisation

async def list_providers(category: str | None, province: str | None, cursor: str | None, limit: int):
    """The public directory of providers, newest first, by category and province,
    each with whether the platform verified it (`verified`).

    Every visitor of /providers runs it: one hand-written statement (fuwu.sql), where
    Piccolo's query builder took a third of the page's server time."""
    from fuwu.pagination import Page, check_limit, decode_cursor, encode_cursor

    limit = check_limit(limit)
    at, after = decode_cursor(cursor) if cursor else (now(), uuid.UUID(int=0))
    rows = await fetch(sql.PROVIDER_PAGE, bool(province), province or "", bool(category),
                       f'%"{category}"%' if category else "", cursor is None, at, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row["id"] = row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"]))
        row["categories"] = load_json(row["categories"]) if row["categories"] is not None else None
        row["created_at"] = _aware(row["created_at"])
        row["verified"] = bool(row["verified"])  # SQLite answers 0 or 1
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)


def _aware(value):
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    parsed = datetime.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


async def _list_providers_builder(category: str | None, province: str | None, cursor: str | None, limit: int):
    """The same list through Piccolo's query builder: kept as the reference that a
    test compares the hand-written statement against."""
    from fuwu.pagination import paginate
    from fuwu.services.admin import verified_ids

    query = Organisation.select(
        Organisation.id, Organisation.name, Organisation.province, Organisation.city, Organisation.categories,
        Organisation.profile, Organisation.created_at,
    ).where(Organisation.kind == roles.PROVIDER).output(load_json=True)
    if province:
        query = query.where(Organisation.province == province)
    if category:
        # Categories are a short JSON list; a LIKE on its text works on both engines.
        query = query.where(category_filter(category))
    page = await paginate(query, Organisation.created_at, Organisation.id, cursor, limit)
    verified = await verified_ids([row["id"] for row in page.items])
    for row in page.items:
        row["verified"] = row["id"] in verified
    return page


def category_filter(category: str):
    """Providers listed in a category. Categories are a short JSON list; its text is
    matched on both engines (PostgreSQL needs the cast from json)."""
    return where(sql.IN_CATEGORY, f'%"{category}"%')


async def provider_profile(org_id: uuid.UUID) -> dict:
    row = await Organisation.select(
        Organisation.id, Organisation.name, Organisation.province, Organisation.city, Organisation.categories,
        Organisation.profile,
    ).where((Organisation.id == org_id) & (Organisation.kind == roles.PROVIDER)).output(load_json=True).first()
    if row is None:
        raise not_found("Provider")
    return row


async def ranked_provider_candidates(category: str, seats: int, agents_only: bool, province: str, limit: int, *,
                                     capacity_weight: float, region_weight: float,
                                     committed_seats: Callable[[str, str], str] | None = None) -> list[dict]:
    """Providers of a category for a tender, best first, ranked in SQL: free capacity
    (all members, or agents only for customer service, net of the seats committed on
    running contracts) against the seats asked for, times `capacity_weight`, plus
    `region_weight` in the merchant's province. `committed_seats` builds the SQL of a
    provider's committed seats (a higher domain's fragment, see
    tenders.hooks.TenderHooks); without it the whole team is free. Each row: id,
    name, province, city, categories (a list), capacity, committed and free."""
    import json

    statement = sql.ranked_provider_candidates(committed_seats("o.id", "$2")) if committed_seats is not None \
        else sql.RANKED_PROVIDER_CANDIDATES
    rows = await fetch(statement, f'%"{category}"%', agents_only, seats, float(capacity_weight),
                       province or "", float(region_weight), limit)
    ranked = []
    for row in rows:
        capacity, committed_here = int(row["capacity"]), int(row["committed"])
        ranked.append({**row, "id": row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"])),
                       "categories": json.loads(row["categories"] or "[]"), "capacity": capacity,
                       "committed": committed_here, "free": max(0, capacity - committed_here)})
    return ranked
