"""The service-event log: appending live events, ingesting shop orders, importing a
shop's history (DESIGN.md section 4). Every SLA metric is computed from this log
alone; it is only ever appended to."""

from __future__ import annotations

import asyncio
import hashlib
import json
import operator
import uuid
from collections.abc import AsyncIterable, Iterable
from datetime import datetime
from typing import Annotated

import msgspec

from fuwu.clock import now
from fuwu.db import atomic, dump_json, executemany, fetch, fetchrow, is_postgres
from fuwu.errors import InvalidInput
from fuwu.i18n import N_
from sla import sql, states
from sla.calendar import to_us
from sla.errors import SlaError

MAX_REF = 100
MAX_LINE_BYTES = 64 * 1024
MAX_REPORTED_ERRORS = 20
IMPORT_BATCH = 5000
# Lines read between two turns of the event loop: the batches being written advance
# (their COPY is sent, PostgreSQL inserts them) while the next batch is read and checked,
# also when the file comes from a source that never waits (a local file).
LINES_PER_TURN = 200
ANALYZE_AFTER = 10_000  # events added by one import

# The fields each kind of history line holds besides "type", "at" and the optional "text".
HISTORY_FIELDS = {
    states.CONVERSATION_OPENED: ("conversation", "buyer"),
    states.BUYER_MESSAGE: ("conversation", "buyer"),
    states.AGENT_REPLY: ("conversation", "agent"),
    states.NOTICE: ("conversation",),
    states.CONVERSATION_CLOSED: ("conversation",),
    states.CHAT_RATED: ("conversation", "rating"),
    states.ORDER_PLACED: ("buyer", "order", "amount", "currency"),
}
# What each kind of live event must carry.
_REQUIRED = {
    states.CONVERSATION_OPENED: ("conversation",),
    states.BUYER_MESSAGE: ("conversation",),
    states.AGENT_REPLY: ("conversation",),
    states.NOTICE: ("conversation",),
    states.CONVERSATION_CLOSED: ("conversation",),
    states.CHAT_RATED: ("conversation", "rating"),
    states.ORDER_PLACED: ("buyer", "order"),
    states.MILESTONE_CREATED: ("milestone", "due"),
    states.MILESTONE_SUBMITTED_EVENT: ("milestone",),
    states.MILESTONE_ACCEPTED_EVENT: ("milestone",),
    states.MILESTONE_REJECTED_EVENT: ("milestone",),
}


def order_key(source: str, shop: uuid.UUID, order: str) -> str:
    return f"{source}:{shop}:{order}"


def line_key(shop: uuid.UUID, number: int, digest: str) -> str:
    """A history line's key, "<shop>:<line number, 10 digits>:<sha256 of the number and
    the line>": the same line imported again has the same key and is skipped. The
    line number comes before the digest so that an import's keys arrive in order and
    its unique index grows at one end, instead of at a random page for every line
    (measured: an import of 1,000,000 lines took 11 % less time)."""
    return f"{shop}:{number:010d}:{digest}"


_row = operator.itemgetter(*sql.EVENT_COLUMNS)  # an event's values in the insert's column order


def _event_values(kind: str, *, shop: uuid.UUID, at: datetime, source: str = states.LIVE,
                  contract: uuid.UUID | None = None, conversation: str | None = None, buyer: str | None = None,
                  agent: str | None = None, milestone: str | None = None, due: datetime | None = None,
                  rating: int | None = None, order: str | None = None, amount: int | None = None,
                  currency: str | None = None, shop_time: datetime | None = None, import_id: uuid.UUID | None = None,
                  line: int | None = None, line_key: str | None = None) -> dict:
    return {
        "contract": contract, "shop": shop, "source": source, "import_id": import_id, "line": line, "kind": kind,
        "at": at, "at_us": to_us(at), "conversation": conversation, "buyer": buyer, "agent": agent,
        "order_ref": order, "milestone": milestone, "due_us": to_us(due) if due is not None else None,
        "rating": rating, "amount": amount, "currency": currency, "shop_time": shop_time,
        "order_key": order_key(source, shop, order) if kind == states.ORDER_PLACED else None,
        "line_key": line_key,
    }


async def append_event(kind: str, *, shop: uuid.UUID, contract: uuid.UUID | None = None, at: datetime | None = None,
                       conversation: str | None = None, buyer: str | None = None, agent: str | None = None,
                       milestone: str | uuid.UUID | None = None, due: datetime | None = None,
                       rating: int | None = None, order: str | None = None, amount: int | None = None,
                       currency: str | None = None, shop_time: datetime | None = None) -> int | None:
    """Appends one live event to the log, inside the caller's transaction (chat stores
    its message and the event together; a transaction of its own otherwise).

    Checks the kind and what it must carry (a conversation for chat events, a rating
    1-5, an order id and buyer for orders, a milestone and its due time). `at` is the
    server time, now unless the caller stored its own record at a given server time.
    Returns the event's id (its place in the log), or None for an order whose id the
    shop already reported (the first wins). Emits nothing: the log is the record."""
    values = event_values(kind, shop=shop, contract=contract, at=at, conversation=conversation, buyer=buyer,
                          agent=agent, milestone=milestone, due=due, rating=rating, order=order, amount=amount,
                          currency=currency, shop_time=shop_time)
    async with atomic():
        row = await fetchrow(sql.INSERT_EVENT, *_row(values))
        if row is not None:
            await mark_stale(_step_pairs([values]))
    return row["id"] if row else None


async def append_events(events: list[dict]) -> None:
    """Appends several live events (each from `event_values`, so checked as
    `append_event` checks one) inside the caller's transaction, in one round trip: the
    chat stores a batch of messages and their events together (group commit)."""
    if events:
        async with atomic():
            await executemany(sql.INSERT_EVENTS, [_row(values) for values in events])
            await mark_stale(_step_pairs(events))


# The kinds of event a contract's chat steps are made of (sla.sql, "chat steps").
STEP_KINDS = frozenset({states.BUYER_MESSAGE, states.AGENT_REPLY, states.CONVERSATION_CLOSED, states.CHAT_RATED})
REBUILD_BATCH = 500  # conversations a rebuild statement takes


def _step_pairs(events: Iterable[dict]) -> list[tuple]:
    return [(values["contract"], values["conversation"]) for values in events
            if values["kind"] in STEP_KINDS and values["contract"] is not None and values["conversation"]]


def _pairs_json(conversations: Iterable[tuple]) -> str | None:
    pairs = sorted({(str(contract), str(conversation)) for contract, conversation in conversations})
    return dump_json(pairs) if pairs else None


async def mark_stale(conversations: Iterable[tuple[uuid.UUID, str]]) -> None:
    """Marks these (contract, conversation) pairs' chat steps stale, inside the
    caller's transaction: whoever appends a chat event to a contract's conversation
    does (`append_event` and `append_events` do; the chat's batch statement marks its
    own, sla.sql.mark_stale_select). Until the rebuild, the metrics read those
    conversations from the log."""
    text = _pairs_json(conversations)
    if text is not None:
        await fetch(sql.MARK_STALE_POSTGRES if is_postgres() else sql.MARK_STALE_SQLITE, text)


async def rebuild_stale_steps(most: int = 100 * REBUILD_BATCH) -> int:
    """Rebuilds the chat steps of stale conversations from the log, REBUILD_BATCH at a
    time in short transactions of their own, until none is left or `most` are done;
    returns how many. The job runs it, and the evaluation before it reads. Skips what
    another rebuilder or an open append holds (sla.sql, "chat steps", says why the
    metrics stay exact either way)."""
    postgres = is_postgres()
    done = 0
    while done < most:
        async with atomic():
            if postgres and not (await fetchrow(sql.REBUILDER_LOCK))["taken"]:
                return done
            taken = await fetch(sql.TAKE_STALE_POSTGRES if postgres else sql.TAKE_STALE_SQLITE,
                                min(REBUILD_BATCH, most - done))
            text = _pairs_json((row["contract"], row["conversation"]) for row in taken)
            if text is not None:
                await fetch(sql.DELETE_STEPS_POSTGRES if postgres else sql.DELETE_STEPS_SQLITE, text)
                await fetch(sql.INSERT_STEPS_POSTGRES if postgres else sql.INSERT_STEPS_SQLITE, text)
        done += len(taken)
        if len(taken) < REBUILD_BATCH:
            return done
    return done


def event_values(kind: str, *, shop: uuid.UUID, contract: uuid.UUID | None = None, at: datetime | None = None,
                 conversation: str | None = None, buyer: str | None = None, agent: str | None = None,
                 milestone: str | uuid.UUID | None = None, due: datetime | None = None,
                 rating: int | None = None, order: str | None = None, amount: int | None = None,
                 currency: str | None = None, shop_time: datetime | None = None) -> dict:
    """One live event, checked (see `append_event`), ready for `append_events`."""
    if kind not in states.EVENT_KINDS:
        raise InvalidInput(SlaError.EVENT, N_("Unknown service event kind {kind}."), params={"kind": str(kind)[:40]})
    given = {"conversation": conversation, "buyer": buyer, "order": order, "milestone": milestone, "due": due,
             "rating": rating}
    for name in _REQUIRED[kind]:
        if given[name] in (None, ""):
            raise InvalidInput(SlaError.EVENT, N_("A {kind} event needs its {field}."),
                               params={"kind": kind, "field": name})
    if rating is not None and (not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5):
        raise InvalidInput(SlaError.EVENT, N_("A rating is a whole number from 1 to 5."))
    for value in (conversation, buyer, agent, order, milestone):
        if value is not None and len(str(value)) > MAX_REF:
            raise InvalidInput(SlaError.EVENT, N_("Reference ids are at most {limit} characters."),
                               params={"limit": MAX_REF})
    return _event_values(kind, shop=shop, contract=contract, at=at or now(), conversation=conversation,
                         buyer=buyer, agent=agent, milestone=str(milestone) if milestone is not None else None,
                         due=due, rating=rating, order=order, amount=amount, currency=currency,
                         shop_time=shop_time)


async def ingest_order(*, shop: uuid.UUID, order: str, buyer: str, amount: int, currency: str,
                       placed_at: datetime | None = None) -> dict:
    """Records an order the merchant's shop reports, idempotent by order id: the first
    report wins and a repeat returns it unchanged (`created` False).

    Checks the ids, a non-negative amount in minor units and a three-letter currency.
    Attribution uses the server time at which the order arrived; the shop's own
    `placed_at` is kept for reference."""
    if not isinstance(order, str) or not order or len(order) > MAX_REF:
        raise InvalidInput(SlaError.ORDER, N_("The order id is 1 to {limit} characters."), params={"limit": MAX_REF})
    if not isinstance(buyer, str) or not buyer or len(buyer) > MAX_REF:
        raise InvalidInput(SlaError.ORDER, N_("The buyer id is 1 to {limit} characters."), params={"limit": MAX_REF})
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise InvalidInput(SlaError.ORDER, N_("The amount is a whole number of minor units (fen), 0 or more."))
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise InvalidInput(SlaError.ORDER, N_("The currency is a three-letter code such as CNY."))
    async with atomic():
        event_id = await append_event(states.ORDER_PLACED, shop=shop, order=order, buyer=buyer, amount=amount,
                                      currency=currency, shop_time=placed_at)
        existing = await fetchrow(sql.ORDER_EVENT, order_key(states.LIVE, shop, order))
    return {"id": existing["id"], "order": order, "buyer": existing["buyer"], "amount": existing["amount"],
            "currency": existing["currency"], "at": existing["at"], "created": event_id is not None}


# --- history import ---------------------------------------------------------------------


class _LineError(Exception):
    def __init__(self, detail: str, **params) -> None:
        self.detail = detail
        self.params = params


def _ref(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_REF:
        raise _LineError(N_("Line {line}: {field} must be a text id of 1 to {limit} characters."), field=name,
                         limit=MAX_REF)
    return value


def _history_values(shop: uuid.UUID, import_id: uuid.UUID, number: int, text: str) -> dict:
    # Streamed uploads skip the request-wide NUL check: each line is checked here.
    if "\x00" in text or "\\u0000" in text.lower():
        raise _LineError(N_("Line {line} holds a NUL character, which cannot be stored."))
    try:
        data = json.loads(text)
    except ValueError:
        raise _LineError(N_("Line {line} is not valid JSON. Each line holds one JSON object.")) from None
    if not isinstance(data, dict):
        raise _LineError(N_("Line {line} is not valid JSON. Each line holds one JSON object."))
    kind = data.get("type")
    if kind not in HISTORY_FIELDS:
        raise _LineError(N_("Line {line}: type must be one of {types}."), types=", ".join(HISTORY_FIELDS))
    fields = HISTORY_FIELDS[kind]
    for name in data:
        if name not in ("type", "at", "text") and name not in fields:
            raise _LineError(N_("Line {line}: the field {field} is not part of a {type} event."),
                             field=str(name)[:40], type=kind)
    at_text = data.get("at")
    try:
        at = datetime.fromisoformat(at_text) if isinstance(at_text, str) and "T" in at_text else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise _LineError(N_("Line {line}: at must be an RFC 3339 time with an offset, such as "
                            "2026-03-02T09:00:03+08:00."))
    if "text" in data and not isinstance(data["text"], str):
        raise _LineError(N_("Line {line}: text must be a string."))
    values: dict = {}
    for name in fields:
        if name == "rating":
            rating = data.get("rating")
            if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
                raise _LineError(N_("Line {line}: rating must be a whole number from 1 to 5."))
            values["rating"] = rating
        elif name == "amount":
            amount = data.get("amount")
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise _LineError(N_("Line {line}: amount must be a whole number of minor units, 0 or more."))
            values["amount"] = amount
        elif name == "currency":
            currency = data.get("currency")
            if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
                raise _LineError(N_("Line {line}: currency must be a three-letter code such as CNY."))
            values["currency"] = currency
        else:
            values[name] = _ref(data, name)
    digest = hashlib.sha256(f"{number}\n{text}".encode()).hexdigest()
    return _event_values(kind, shop=shop, at=at, source=states.HISTORY, import_id=import_id, line=number,
                         line_key=line_key(shop, number, digest), **values)


# The fast path of a history line: msgspec decodes and checks a well-formed line into
# one of these (tagged by "type"; other fields refused) in one C call. Any line it
# refuses, and any line whose edges or content need a closer look, goes through
# `_history_values`, the reference path, which accepts or refuses it with its message:
# the fast path accepts only lines that path accepts, with the same values.
_Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REF)]


class _Line(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    at: str
    text: str = ""


class _Opened(_Line, tag=states.CONVERSATION_OPENED):
    conversation: _Ref = ""
    buyer: _Ref = ""


class _BuyerMessage(_Line, tag=states.BUYER_MESSAGE):
    conversation: _Ref = ""
    buyer: _Ref = ""


class _AgentReply(_Line, tag=states.AGENT_REPLY):
    conversation: _Ref = ""
    agent: _Ref = ""


class _Notice(_Line, tag=states.NOTICE):
    conversation: _Ref = ""


class _Closed(_Line, tag=states.CONVERSATION_CLOSED):
    conversation: _Ref = ""


class _Rated(_Line, tag=states.CHAT_RATED):
    conversation: _Ref = ""
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)] = 0


class _Order(_Line, tag=states.ORDER_PLACED):
    buyer: _Ref = ""
    order: _Ref = ""
    amount: Annotated[int, msgspec.Meta(ge=0)] = -1
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")] = ""


_decode_line = msgspec.json.Decoder(_Opened | _BuyerMessage | _AgentReply | _Notice | _Closed | _Rated | _Order).decode
# The fields each line type must hold (a default above marks one as missing).
_MISSING = {"conversation": "", "buyer": "", "agent": "", "order": "", "rating": 0, "amount": -1, "currency": ""}


def _fast_values(shop: uuid.UUID, import_id: uuid.UUID, number: int, raw: bytes) -> tuple | None:
    """A line's row by the fast path, or None when the reference path must decide."""
    line = raw.strip()
    if (not line or line[0] != 0x7B or line[-1] != 0x7D or b"\x00" in line or b"\\u0000" in line
            or line.count(b'"type"') != 1):
        return None  # empty, odd edges (str.strip strips more than bytes.strip), a NUL, a doubled type
    try:
        data = _decode_line(line)
        at = datetime.fromisoformat(data.at) if "T" in data.at else None
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError):
        return None
    if at is None or at.tzinfo is None:
        return None
    kind = data.__struct_config__.tag
    values = {}
    for name in HISTORY_FIELDS[kind]:
        value = getattr(data, name)
        if value == _MISSING[name]:
            return None
        values[name] = value
    digest = hashlib.sha256(b"%d\n%b" % (number, line)).hexdigest()
    # The row `_row(_event_values(...))` gives, in sql.EVENT_COLUMNS' order, built directly
    # (a fifth of the line's time; tests/integration/sla/test_events.py compares the two).
    get = values.get
    order = get("order")
    return (None, shop, states.HISTORY, import_id, number, kind, at, to_us(at), get("conversation"), get("buyer"),
            get("agent"), order, None, None, get("rating"), get("amount"), get("currency"), None,
            order_key(states.HISTORY, shop, order) if kind == states.ORDER_PLACED else None,
            line_key(shop, number, digest))


async def _lines(stream: Iterable | AsyncIterable):
    """The stream's lines, whatever chunks it yields (bytes or text), one at a time.
    A line longer than MAX_LINE_BYTES is cut there (and refused as too long) and the
    rest of it skipped, so that a file without line breaks is never held whole."""
    pending = b""
    skipping = False

    def pieces(chunk):
        nonlocal pending, skipping
        if isinstance(chunk, str):
            chunk = chunk.encode()
        *complete, rest = (pending + chunk).split(b"\n")
        lines = []
        for line in complete:
            if skipping:
                skipping = False  # the end of an over-long line
                continue
            lines.append(line)
        if skipping:
            rest = b""
        elif len(rest) > MAX_LINE_BYTES:
            lines.append(rest)  # reported as too long; its remainder is skipped
            rest, skipping = b"", True
        pending = rest
        return lines

    if hasattr(stream, "__aiter__"):
        async for chunk in stream:
            for line in pieces(chunk):
                yield line
    else:
        for chunk in stream:
            for line in pieces(chunk):
                yield line
    if pending:
        yield pending


async def _take_ids(count: int) -> list[int] | None:
    """The ids of a batch's events, in line order, on PostgreSQL (see `_insert_batch`);
    None on SQLite, where the batches are written one after the other."""
    if not is_postgres():
        return None
    return (await fetchrow(sql.TAKE_EVENT_IDS, count))["ids"]  # one row: a list, not a dict per id


async def _insert_batch(rows: list[tuple], ids: list[int] | None, before: asyncio.Future | None) -> None:
    """One batch of history rows in a transaction of its own: on PostgreSQL copied
    (COPY) into a staging table and inserted from it; on SQLite one executemany.
    Lines imported before and orders already held are skipped.

    `before` is the previous batch's write. On PostgreSQL two batches are written at
    once, on two connections: a batch's events other than orders go in while the
    previous batch is still being written, its orders only once that batch is in, so
    that of two lines with one order id the first in the file is kept. Its ids were
    taken before the next batch's (`_take_ids`), so the log's order is the file's. On
    SQLite, one writer at a time, the batch waits for the previous one."""
    if not is_postgres():
        if before is not None:
            await before
        async with atomic():
            await executemany(sql.INSERT_EVENTS, rows)
        return
    from fuwu.piccolo_conf import DB

    async with atomic():
        connection = DB.current_transaction.get().connection
        await connection.execute(sql.CREATE_HISTORY_STAGING)
        await connection.copy_records_to_table(sql.HISTORY_STAGING, records=map(_with_id, ids, rows),
                                               columns=sql.STAGED_COLUMNS)
        await connection.execute(sql.INSERT_EVENTS_FROM_HISTORY_STAGING)
        if before is not None:
            await before
        await connection.execute(sql.INSERT_ORDERS_FROM_HISTORY_STAGING)


def _with_id(event_id: int, row: tuple) -> tuple:
    return (event_id, *row)


async def import_history(shop: uuid.UUID, stream: Iterable | AsyncIterable, *, batch_size: int = IMPORT_BATCH) -> dict:
    """Imports a shop's earlier chat and order history from JSON Lines (the format in
    DESIGN.md section 4), streamed: lines are read, checked and inserted in batches,
    never held whole in memory (batches are written while the next one is read: two at
    once on PostgreSQL, see `_insert_batch`).

    Each line is one event with its own `at`; unknown types and fields, bad times and
    bad values are refused with the line number (up to 20 errors are listed), and then
    nothing of the file stays. Events are keyed by line number and content, so
    re-importing a file adds nothing; an order id the shop's history already holds is
    kept as first reported. Imported events are history: they never count toward a
    contract. Returns the import id, the lines read and the events added."""
    import_id = uuid.uuid4()
    batch: list[tuple] = []
    errors: list[dict] = []
    first_error: InvalidInput | None = None
    number = 0
    # The batches being written while the next is read: at most two, the older first.
    writing: list[asyncio.Future] = []

    async def flush() -> None:
        nonlocal batch
        if len(writing) == 2:
            await writing.pop(0)
        if batch:
            ids = await _take_ids(len(batch))
            writing.append(asyncio.ensure_future(_insert_batch(batch, ids, writing[-1] if writing else None)))
        batch = []

    try:
        async for raw in _lines(stream):
            number += 1
            if number % LINES_PER_TURN == 0:
                await asyncio.sleep(0)
            if len(raw) <= MAX_LINE_BYTES and first_error is None:
                row = _fast_values(shop, import_id, number, raw)
                if row is not None:
                    batch.append(row)
                    if len(batch) >= batch_size:
                        await flush()
                    continue
            if len(raw) > MAX_LINE_BYTES:
                problem = _LineError(N_("Line {line} is longer than {limit} bytes."), limit=MAX_LINE_BYTES)
            else:
                problem = None
                try:
                    text = raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    problem = _LineError(N_("Line {line} is not UTF-8 text."))
            if problem is None:
                if not text:
                    continue
                try:
                    values = _history_values(shop, import_id, number, text)
                except _LineError as caught:
                    problem = caught
            if problem is not None:
                detail, params = problem.detail, {"line": number, **problem.params}
                error = InvalidInput(SlaError.HISTORY_LINE, detail, params=params)
                errors.append({"line": number, "detail": error.detail})
                first_error = first_error or error
                batch.clear()
                if len(errors) >= MAX_REPORTED_ERRORS:
                    break
                continue
            if first_error is not None:
                continue  # keep checking, insert nothing more
            batch.append(_row(values))
            if len(batch) >= batch_size:
                await flush()
        if first_error is None:
            await flush()
        while writing:
            await writing.pop(0)
    finally:
        while writing:  # an error while reading: let the batches in flight finish before undoing
            try:
                await writing.pop(0)
            except Exception:  # noqa: BLE001 - the reading error is the one to report
                pass
    if first_error is not None:
        async with atomic():
            await fetch(sql.DELETE_IMPORT, import_id)
        first_error.extra["errors"] = errors
        raise first_error
    added = await fetchrow(sql.COUNT_IMPORTED, import_id)
    if is_postgres() and added["n"] >= ANALYZE_AFTER:
        # Fresh statistics for the planner: before autovacuum's analyse catches up
        # with a bulk load, PostgreSQL plans the metric queries' semi-joins as nested
        # loops (measured: minutes instead of seconds on 226k events).
        await fetch(sql.ANALYZE_EVENTS)
    return {"import_id": import_id, "lines": number, "added": int(added["n"])}


async def record_import(actor: uuid.UUID, shop: uuid.UUID, result: dict) -> None:
    """The import on the shop's audit timeline."""
    from fuwu.services import audit

    async with atomic():
        await audit.record(actor=actor, organisation=shop, object_type="organisation", object_id=shop,
                           action="history_imported", after={"import": str(result["import_id"]),
                                                             "lines": result["lines"], "added": result["added"]})
