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

from fuwu.db import atomic, is_unique_violation
from fuwu.errors import Conflict, InvalidInput
from fuwu.tables import IdempotencyRecord

T = TypeVar("T")

MAX_KEY_LENGTH = 200


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


async def _existing(scope_key: str) -> dict | None:
    return await IdempotencyRecord.select(
        IdempotencyRecord.request_fingerprint, IdempotencyRecord.status_code, IdempotencyRecord.response_body
    ).where(IdempotencyRecord.scope_key == scope_key).first()


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
        raise InvalidInput("invalid_idempotency_key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.")
    scope_key = f"{user_id}:{key}"
    try:
        async with atomic():
            record = await _existing(scope_key)
            if record is not None:
                return _replay(record, request_fingerprint, response_type), True
            # Claim the key before creating: a concurrent request with the same key
            # waits here on the unique index until this transaction ends, then
            # replays its answer (or, if this one rolled back, runs afresh).
            await IdempotencyRecord.insert(
                IdempotencyRecord(scope_key=scope_key, request_fingerprint=request_fingerprint, status_code=0,
                                  response_body="")
            )
            result = await create()
            await IdempotencyRecord.update(
                {IdempotencyRecord.status_code: 201,
                 IdempotencyRecord.response_body: msgspec.json.encode(result).decode()}
            ).where(IdempotencyRecord.scope_key == scope_key)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        record = await _existing(scope_key)
        if record is None:
            raise
        return _replay(record, request_fingerprint, response_type), True
    return result, False
