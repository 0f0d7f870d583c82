"""Idempotency keys for creates that a client may retry (bids, messages, orders, …).

The key's record is written in the same transaction as the thing it creates, so a
retry either finds the committed answer and gets it again, or finds nothing because
the first attempt rolled back and may safely run again. Two concurrent requests
with one key cannot both create: the second waits on the key's unique index (or
SQLite's write lock) and then replays the first's answer.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec

from fuwu.clock import now
from fuwu import sql
from fuwu.db import atomic, fetch, fetchrow, in_transaction
from fuwu.errors import Conflict, InvalidInput

T = TypeVar("T")

MAX_KEY_LENGTH = 200


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


# Hand-written: every retried-safe create runs them (see fuwu.db.fetch).


class _AlreadyAnswered(Exception):
    """Another request with the key committed first: undo this one and replay that."""


async def _existing(scope_key: str) -> dict | None:
    return await fetchrow(sql.IDEMPOTENT_ANSWER, scope_key)


def _replay(record: dict, request_fingerprint: str, response_type: type[T]) -> T:
    if record["status_code"] == 0:  # cannot be seen committed; kept as a guard
        raise Conflict("idempotency_key_in_use", "A request with this Idempotency-Key is still running; retry shortly.")
    if record["request_fingerprint"] != request_fingerprint:
        raise Conflict(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request. Use a new key for a new request.",
        )
    return msgspec.json.decode(record["response_body"].encode(), type=response_type)


async def run_once(
    user_id: uuid.UUID,
    key: str | None,
    request_fingerprint: str,
    create: Callable[[], Awaitable[T]],
    response_type: type[T],
) -> tuple[T, bool]:
    """Runs `create` at most once per (user, key). Returns the result and whether it is
    a replay of an earlier request."""
    if key is None:
        async with atomic():
            return await create(), False
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput("invalid_idempotency_key", "Idempotency-Key must be 1 to {max} printable characters.",
                           params={"max": MAX_KEY_LENGTH})
    scope_key = f"{user_id}:{key}"
    if in_transaction():
        raise RuntimeError("run_once needs its own transaction: call it outside atomic()")
    # The answer is stored with what it answers, in one transaction, and the key's
    # unique index decides: a request with a key already answered either fails inside
    # `create` (its bid exists, the deadline has passed...) or creates again and then
    # meets the stored key; both roll back and replay the stored answer. A concurrent
    # request with the same key waits on the index until the first one ends.
    try:
        async with atomic():
            result = await create()
            stored = await fetch(sql.STORE_IDEMPOTENT_ANSWER, uuid.uuid4(), scope_key, request_fingerprint, 201,
                                 msgspec.json.encode(result).decode(), now())
            if not stored:
                raise _AlreadyAnswered
        return result, False
    except Exception as exc:
        record = await _existing(scope_key)
        if record is None:
            if isinstance(exc, _AlreadyAnswered):  # the stored answer was removed meanwhile
                raise Conflict("idempotency_key_in_use", "A request with this Idempotency-Key is still running; retry shortly.") from None
            raise
        return _replay(record, request_fingerprint, response_type), True
