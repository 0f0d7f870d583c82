"""Cursor pagination by (timestamp, id), stable under inserts: newest first for
timelines, oldest first for lists read in the order things happened (bids, rounds,
questions, amendments, a bid's versions)."""

from __future__ import annotations

import base64
import datetime
import uuid
from typing import Generic, TypeVar

import msgspec

from fuwu.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(at: datetime.datetime, row_id: uuid.UUID | str) -> str:
    raw = f"{at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, row_id = base64.urlsafe_b64decode(padded.encode()).decode().split("|", 1)
        moment = datetime.datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        # Converting to UTC overflows for moments at the ends of the calendar.
        moment = moment.astimezone(datetime.timezone.utc)
        return moment, uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError, TypeError, OverflowError):
        raise InvalidInput("invalid_cursor", "The cursor is not valid. Use the next_cursor value of the previous page.")


def check_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise InvalidInput("invalid_limit", "limit must be between 1 and {max}.", params={"max": MAX_LIMIT})
    return limit


async def paginate(query, time_column, id_column, cursor: str | None, limit: int, convert=None, *,
                   oldest_first: bool = False) -> Page:
    """Runs a Piccolo select from `cursor`, newest first (or oldest first), fetching
    one extra row to know whether another page follows."""
    limit = check_limit(limit)
    if cursor:
        at, row_id = decode_cursor(cursor)
        if oldest_first:
            query = query.where((time_column > at) | ((time_column == at) & (id_column > row_id)))
        else:
            query = query.where((time_column < at) | ((time_column == at) & (id_column < row_id)))
    rows = await query.order_by(time_column, ascending=oldest_first).order_by(
        id_column, ascending=oldest_first).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(last[time_column._meta.name], last[id_column._meta.name])
    items = [convert(row) for row in rows] if convert else rows
    return Page(items=items, next_cursor=next_cursor)
