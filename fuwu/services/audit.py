"""The audit log: append-only, one call for every state change of every domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fuwu import sql
from fuwu.clock import now
from fuwu.db import dump_json, executemany, fetch, where
from fuwu.jsonable import jsonable
from fuwu.pagination import Page, paginate
from fuwu.tables import AuditEvent, User
from fuwu.wiring import wiring


async def record(
    *,
    actor: uuid.UUID | None,
    organisation: uuid.UUID | None,
    object_type: str,
    object_id: uuid.UUID | str,
    action: str,
    before: Any = None,
    after: Any = None,
) -> None:
    """Appends one event. Call inside the transaction of the change it records, so
    that the change and its audit event commit or roll back together."""
    before, after = jsonable(before), jsonable(after)
    # Hand-written (fuwu.sql): nearly every write appends an event.
    await fetch(
        sql.RECORD_AUDIT_EVENT, uuid.uuid4(), now(), actor, organisation, object_type, str(object_id), action,
        None if before is None else dump_json(before), None if after is None else dump_json(after),
    )



async def record_many(events: Sequence[dict]) -> None:
    """Appends many events at once (each a dict of `record`'s arguments), in one
    pipelined statement: for jobs that change many objects in one transaction."""
    moment = now()
    rows = []
    for event in events:
        before, after = jsonable(event.get("before")), jsonable(event.get("after"))
        rows.append((uuid.uuid4(), moment, event.get("actor"), event.get("organisation"), event["object_type"],
                     str(event["object_id"]), event["action"], None if before is None else dump_json(before),
                     None if after is None else dump_json(after)))
    await executemany(sql.RECORD_AUDIT_EVENT, rows)


def _select():
    return AuditEvent.select(
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.actor,
        AuditEvent.actor.display_name.as_alias("actor_name"),
        AuditEvent.organisation,
        AuditEvent.object_type,
        AuditEvent.object_id,
        AuditEvent.action,
        AuditEvent.before,
        AuditEvent.after,
    ).output(load_json=True)


async def organisation_timeline(organisation_id: uuid.UUID, cursor: str | None = None, limit: int = 50) -> Page:
    query = _select().where(AuditEvent.organisation == organisation_id)
    return await paginate(query, AuditEvent.at, AuditEvent.id, cursor, limit)


async def object_timeline(object_type: str, object_id: uuid.UUID | str, cursor: str | None = None, limit: int = 50,
                          *, parts: dict[str, Sequence[uuid.UUID | str]] | None = None) -> Page:
    """Events about one object and, with `parts` (object type -> ids), about the
    objects that belong to it and are audited on their own (a tender's questions)."""
    condition = (AuditEvent.object_type == object_type) & (AuditEvent.object_id == str(object_id))
    for part_type, ids in (parts or {}).items():
        if ids:
            condition = condition | ((AuditEvent.object_type == part_type)
                                     & AuditEvent.object_id.is_in([str(i) for i in ids]))
    return await paginate(_select().where(condition), AuditEvent.at, AuditEvent.id, cursor, limit)


def platform_query():
    """Every event, less those the domains' audit filters hide for now (a sealed
    bid's events before its deadline: even the platform operator learns nothing of
    sealed bids, not their number). A select to narrow further."""
    query = _select()
    for hidden in wiring().audit_filters:
        query = query.where(where(sql.not_hidden_audit_event(hidden.hidden_ids_sql), hidden.object_type))
    return query


async def platform_timeline(cursor: str | None = None, limit: int = 50) -> Page:
    """Every event the platform may see (`platform_query`), newest first."""
    return await paginate(platform_query(), AuditEvent.at, AuditEvent.id, cursor, limit)


__all__ = ["record", "organisation_timeline", "object_timeline", "platform_query", "platform_timeline", "User"]
