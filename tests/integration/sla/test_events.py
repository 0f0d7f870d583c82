"""The service-event log: live events, idempotent order ingestion and the history
import (validated line by line, streamed, re-import changes nothing; history never
counts toward a contract)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from fuwu.db import fetch
from fuwu.errors import InvalidInput
from sla.calendar import to_us
from sla.metrics import Scope, first_response_time, inquiry_conversion_rate
from sla.calendar import CoverageCalendar
from sla.services.events import append_event, import_history, ingest_order
from tests.conftest import new_actor
from tests.integration.sla.conftest import Log, make_contract

HISTORY = """\
{"type": "conversation_opened", "at": "2026-03-02T09:00:03+08:00", "conversation": "c1", "buyer": "b7"}
{"type": "buyer_message", "at": "2026-03-02T09:00:05+08:00", "conversation": "c1", "buyer": "b7", "text": "在吗"}
{"type": "agent_reply", "at": "2026-03-02T09:01:05+08:00", "conversation": "c1", "agent": "a2"}
{"type": "notice", "at": "2026-03-02T09:01:06+08:00", "conversation": "c1"}

{"type": "conversation_closed", "at": "2026-03-02T09:05:00+08:00", "conversation": "c1"}
{"type": "chat_rated", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1", "rating": 5}
{"type": "order_placed", "at": "2026-03-02T10:00:00+08:00", "buyer": "b7", "order": "o9", "amount": 12900, "currency": "CNY"}
{"type": "buyer_message", "at": "2026-03-02T01:00:00Z", "conversation": "c2", "buyer": "b8"}
{"type": "agent_reply", "at": "2026-03-02T01:00:20Z", "conversation": "c2", "agent": "a2"}
"""


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


async def events_of(shop, source="history"):
    return await fetch("SELECT kind, line, at_us FROM sla_service_event WHERE shop = $1 AND source = $2 ORDER BY id",
                       shop, source)


async def test_history_import_adds_every_line_once_and_a_reimport_changes_nothing():
    shop = (await new_actor("merchant")).org_id
    first = await import_history(shop, [HISTORY.encode()[:100], HISTORY.encode()[100:]])  # chunks split mid-line
    assert (first["lines"], first["added"]) == (10, 9)
    stored = await events_of(shop)
    assert [row["line"] for row in stored] == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    again = await import_history(shop, HISTORY.splitlines(keepends=True))
    assert again["added"] == 0
    assert len(await events_of(shop)) == 9
    # The history gives the shop's baseline, and never a contract's figures.
    scope = Scope.history(shop)
    start, end = to_us(utc("2026-03-02T00:00:00+08:00")), to_us(utc("2026-03-03T00:00:00+08:00"))
    baseline = await first_response_time(scope, CoverageCalendar.always("Asia/Shanghai"), start, end, end)
    assert (baseline.sample_size, baseline.value("mean")) == (2, 40.0)
    conversion = await inquiry_conversion_rate(scope, start, end, end)
    assert (conversion.sample_size, conversion.value("rate")) == (2, 0.5)


async def test_history_does_not_count_toward_the_contract(parties):
    contract = await make_contract(parties)
    await import_history(contract.merchant, HISTORY.splitlines(keepends=True))
    start, end = to_us(utc("2026-03-02T00:00:00+08:00")), to_us(utc("2026-03-03T00:00:00+08:00"))
    live = await first_response_time(Scope.live(contract.id, contract.merchant), CoverageCalendar.always(),
                                     start, end, end)
    assert live.sample_size == 0


@pytest.mark.parametrize("line, words", [
    ('{"type": "buyer_message", "at": "2026-03-02T09:00:05", "conversation": "c1", "buyer": "b7"}', "offset"),
    ('{"type": "buyer_message", "at": "2026-03-02T09:00:05Z", "conversation": "c1", "buyer": "b7", "vip": 1}',
     "field vip"),
    ('{"type": "refund", "at": "2026-03-02T09:00:05Z"}', "type must be one of"),
    ('{"type": "chat_rated", "at": "2026-03-02T09:00:05Z", "conversation": "c1", "rating": 6}', "rating"),
    ('{"type": "order_placed", "at": "2026-03-02T09:00:05Z", "buyer": "b", "order": "o", "amount": 1.5, '
     '"currency": "CNY"}', "amount"),
    ('{"type": "buyer_message", "at": "2026-03-02T09:00:05Z", "conversation": "", "buyer": "b7"}', "conversation"),
    ("not json", "not valid JSON"),
    ("[1, 2]", "not valid JSON"),
])
async def test_a_bad_line_is_refused_with_its_number_and_nothing_is_kept(line, words):
    shop = (await new_actor("merchant")).org_id
    lines = HISTORY.splitlines()
    lines.insert(2, line)
    with pytest.raises(InvalidInput) as caught:
        await import_history(shop, ["\n".join(lines)], batch_size=2)  # batches were written before line 3
    assert caught.value.detail.startswith("Line 3"), caught.value.detail
    assert words in caught.value.detail
    assert caught.value.extra["errors"][0]["line"] == 3
    assert await events_of(shop) == []


async def test_several_bad_lines_are_all_named():
    shop = (await new_actor("merchant")).org_id
    text = "\n".join(['{"type": "x", "at": "2026-03-02T09:00:05Z"}'] * 3 + HISTORY.splitlines())
    with pytest.raises(InvalidInput) as caught:
        await import_history(shop, [text])
    assert [error["line"] for error in caught.value.extra["errors"]] == [1, 2, 3]


async def test_an_order_reported_twice_keeps_the_first(parties):
    shop = parties[0].org_id
    first = await ingest_order(shop=shop, order="dup-1", buyer="b1", amount=12900, currency="CNY")
    again = await ingest_order(shop=shop, order="dup-1", buyer="b2", amount=1, currency="CNY")
    assert first["created"] and not again["created"]
    assert (again["id"], again["buyer"], again["amount"]) == (first["id"], "b1", 12900)
    rows = await fetch("SELECT COUNT(*) AS n FROM sla_service_event WHERE shop = $1 AND order_ref = $2", shop, "dup-1")
    assert rows[0]["n"] == 1


async def test_an_order_id_repeated_in_a_later_batch_keeps_the_first_line(monkeypatch):
    # Two batches are written at once on PostgreSQL; the later batch's orders wait for
    # the earlier batch. Here the first batch is slow to start, so that the second
    # would win without that wait.
    from sla.services import events

    write = events._insert_batch
    started = []

    async def slow_first_batch(rows, ids, before):
        started.append(len(rows))
        if len(started) == 1:
            await asyncio.sleep(0.3)
        await write(rows, ids, before)

    monkeypatch.setattr(events, "_insert_batch", slow_first_batch)
    shop = (await new_actor("merchant")).org_id
    order = ('{"type": "order_placed", "at": "2026-03-02T10:00:0%d+08:00", "buyer": "%s", "order": "o1", '
             '"amount": %d, "currency": "CNY"}\n')
    notice = '{"type": "notice", "at": "2026-03-02T09:00:00+08:00", "conversation": "c%d"}\n'
    lines = [order % (0, "b1", 100), notice % 1, notice % 2, order % (1, "b2", 200), notice % 3, notice % 4]
    result = await import_history(shop, lines, batch_size=3)
    assert (result["added"], started) == (5, [3, 3])
    rows = await fetch("SELECT line, buyer, amount FROM sla_service_event WHERE shop = $1 AND kind = 'order_placed'",
                       shop)
    assert [(row["line"], row["buyer"], row["amount"]) for row in rows] == [(1, "b1", 100)]
    assert [row["line"] for row in await events_of(shop)] == [1, 2, 3, 5, 6]  # the log's order is the file's


@pytest.mark.parametrize("fields, words", [
    ({"order": "", "buyer": "b", "amount": 1, "currency": "CNY"}, "order id"),
    ({"order": "o", "buyer": "b", "amount": -1, "currency": "CNY"}, "amount"),
    ({"order": "o", "buyer": "b", "amount": 1, "currency": "yuan"}, "currency"),
])
async def test_bad_orders_are_refused(parties, fields, words):
    with pytest.raises(InvalidInput) as caught:
        await ingest_order(shop=parties[0].org_id, **fields)
    assert words in caught.value.detail


async def test_live_events_must_carry_what_their_kind_needs(parties):
    contract = await make_contract(parties)
    for kind, fields, words in (
        ("buyer_message", {}, "conversation"),
        ("chat_rated", {"conversation": "c", "rating": 0}, "rating"),
        ("milestone_created", {"milestone": "m1"}, "due"),
        ("typing", {"conversation": "c"}, "Unknown"),
    ):
        with pytest.raises(InvalidInput) as caught:
            await append_event(kind, shop=contract.merchant, contract=contract.id, **fields)
        assert words in caught.value.detail
    event_id = await append_event("buyer_message", shop=contract.merchant, contract=contract.id, conversation="c",
                                  buyer="b")
    later = await Log(contract).add("agent_reply", "2026-03-02T10:00", conversation="c")
    assert later > event_id  # the log's order


async def test_a_file_without_line_breaks_is_refused_without_being_held_whole():
    shop = (await new_actor("merchant")).org_id
    chunks = [b'{"type": "notice", "text": "' + b"x" * 16_384 for _ in range(8)] + [b'"}\n', HISTORY.encode()]
    with pytest.raises(InvalidInput) as caught:
        await import_history(shop, iter(chunks))
    assert "Line 1 is longer than" in caught.value.detail
    assert [error["line"] for error in caught.value.extra["errors"]] == [1]


async def test_history_streams_from_an_async_source_in_batches(monkeypatch):
    monkeypatch.setattr("sla.services.events.ANALYZE_AFTER", 100)  # a bulk load refreshes the planner's statistics
    shop = (await new_actor("merchant")).org_id
    lines = [f'{{"type": "buyer_message", "at": "2026-03-02T09:00:{i % 60:02d}+08:00", "conversation": "c{i}", '
             f'"buyer": "b{i}"}}\n' for i in range(2500)]

    async def chunks():
        for line in lines:
            yield line.encode()

    result = await import_history(shop, chunks(), batch_size=1000)
    assert (result["lines"], result["added"]) == (2500, 2500)


# Lines the fast path (msgspec) must either decode exactly as the reference path does,
# or leave to it: valid lines of every type and lines that differ from them by one
# detail each.
EDGE_LINES = [line for line in HISTORY.splitlines() if line] + [
    '{"type": "chat_rated", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1", "rating": true}',
    '{"type": "chat_rated", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1", "rating": 5.0}',
    '{"type": "chat_rated", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1", "rating": 6}',
    '{"type": "chat_rated", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1"}',
    '{"type": "notice", "at": "2026-03-02T09:06:00", "conversation": "c1"}',
    '{"type": "notice", "at": "2026-03-02 09:06:00+08:00", "conversation": "c1"}',
    '{"type": "notice", "at": "2026-03-02T09:06+08:00", "conversation": "c1"}',
    '{"type": "notice", "at": "2026-03-02t09:06:00+08:00", "conversation": "c1"}',
    '{"type": "notice", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1", "text": null}',
    '{"type": "notice", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1", "agent": "a1"}',
    '{"type": "notice", "type": "buyer_message", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1"}',
    '{"type": "notice", "at": "2026-03-02T09:06:00+08:00", "conversation": ""}',
    '{"type": "notice", "at": "2026-03-02T09:06:00+08:00", "conversation": "' + "x" * 101 + '"}',
    '{"type": "notice", "at": "2026-03-02T09:06:00+08:00", "conversation": "c\\u0000"}',
    '\u3000{"type": "notice", "at": "2026-03-02T09:06:00+08:00", "conversation": "c1"}',
    '{"type": "order_placed", "at": "2026-03-02T10:00:00+08:00", "buyer": "b7", "order": "o9", "amount": -1, '
    '"currency": "CNY"}',
    '{"type": "order_placed", "at": "2026-03-02T10:00:00+08:00", "buyer": "b7", "order": "o9", "amount": 1, '
    '"currency": "cny"}',
    '{"type": "order_placed", "at": "2026-03-02T10:00:00+08:00", "buyer": "b7", "order": "o9", "amount": 1, '
    '"currency": "ÄÖÜ"}',
    '{"type": "order_placed", "at": "2026-03-02T10:00:00+08:00", "buyer": "b7", "order": "o9", "amount": 1}',
    '{"type": "mystery", "at": "2026-03-02T10:00:00+08:00"}',
    '["not", "an", "object"]',
]


@pytest.mark.parametrize("line", EDGE_LINES)
def test_the_fast_path_accepts_only_what_the_reference_path_accepts_with_the_same_row(line):
    import uuid

    from sla.services.events import _fast_values, _history_values, _LineError, _row

    shop, import_id = uuid.uuid4(), uuid.uuid4()
    fast = _fast_values(shop, import_id, 7, line.encode())
    try:
        reference = _row(_history_values(shop, import_id, 7, line.strip()))
    except _LineError:
        reference = None
    assert fast is None or fast == reference
    if line in HISTORY:
        assert fast is not None  # the well-formed lines take the fast path
