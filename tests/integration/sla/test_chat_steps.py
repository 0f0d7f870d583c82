"""A contract's chat steps (sla.sql, "chat steps") are what the evaluation reads of its
conversations once they are rebuilt; until then, an append marks its conversation
stale and the metrics read it from the log. Either way, in any order of appends and
beside a rebuild running at the same time, the metrics are those of the log."""

from __future__ import annotations

import asyncio

from fuwu.db import atomic, fetch
from sla import sql
from sla.calendar import CoverageCalendar
from sla.metrics import Scope, measure
from sla.services.events import rebuild_stale_steps
from tests.integration.sla.conftest import Log, make_contract

STEP_ROWS = f"SELECT id, kind, at_us, step, first_buyer_us, stop_us, next_us, rating FROM {sql.STEPS} " \
            "WHERE contract = $1 ORDER BY id"
MARKS = f"SELECT conversation FROM {sql.STALE} WHERE contract = $1 ORDER BY conversation"


async def steps(contract) -> list[dict]:
    return [dict(row) for row in await fetch(STEP_ROWS, contract.id)]


async def marked(contract) -> list[str]:
    return [row["conversation"] for row in await fetch(MARKS, contract.id)]


async def figures(contract, log: Log) -> dict:
    scope, calendar = Scope.live(contract.id, contract.merchant), CoverageCalendar.always("Asia/Shanghai")
    start, end, as_of = log.us("2026-01-05 00:00:00"), log.us("2026-01-06 00:00:00"), log.us("2026-01-05 11:00:10")
    found = {}
    for metric in ("first_response_time", "next_response_time", "resolution_time", "service_attitude"):
        result = await measure(metric, scope, calendar, start, end, as_of)
        found[metric] = (result.sample_size, result.value("mean"))
    return found


async def test_steps_are_rebuilt_from_the_log_and_late_events_mark_them_stale(parties):
    contract = await make_contract(parties)
    log = Log(contract)
    await log.add("buyer_message", "2026-01-05 10:00:00", conversation="c1", buyer="b1")
    await log.add("conversation_closed", "2026-01-05 10:20:00", conversation="c1")
    await log.add("chat_rated", "2026-01-05 10:21:00", conversation="c1", rating=5)
    await log.add("agent_reply", "2026-01-05 10:00:30", conversation="c1")
    await log.add("buyer_message", "2026-01-05 11:00:00", conversation="c2", buyer="b2")  # never answered
    expected = {"first_response_time": (2, (30 + 10) / 2),  # c2's runs to T
                "next_response_time": (0, None), "resolution_time": (1, 20 * 60), "service_attitude": (1, 5)}
    assert await marked(contract) == ["c1", "c2"] and await steps(contract) == []
    assert await figures(contract, log) == expected  # read from the log

    assert await rebuild_stale_steps() >= 2
    assert await marked(contract) == []
    found = await steps(contract)
    assert [(row["kind"], row["step"]) for row in found] == [
        ("buyer_message", 1), ("conversation_closed", 3), ("chat_rated", 4), ("buyer_message", 1)]
    first, close, rating, unanswered = found
    assert first["stop_us"] == log.us("2026-01-05 10:00:30") and unanswered["stop_us"] is None
    assert close["first_buyer_us"] == log.us("2026-01-05 10:00:00") and close["next_us"] is None
    assert rating["rating"] == 5
    assert await figures(contract, log) == expected  # read from the steps

    # Late: a second question and its answer, which the log places before the close.
    await log.add("buyer_message", "2026-01-05 10:05:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-01-05 10:06:00", conversation="c1")
    expected["next_response_time"] = (1, 60)
    assert await marked(contract) == ["c1"]
    assert await figures(contract, log) == expected  # c1 from the log, c2 from its steps
    await rebuild_stale_steps()
    assert [(row["kind"], row["step"]) for row in await steps(contract)] == [
        ("buyer_message", 1), ("conversation_closed", 3), ("chat_rated", 4), ("buyer_message", 1),
        ("buyer_message", 2)]
    assert await figures(contract, log) == expected


async def test_a_rebuild_beside_an_open_append_leaves_the_figures_exact(parties):
    """The rebuild cannot see an append whose transaction is still open. Its mark
    holds the conversation's row until it commits, so the rebuild leaves that
    conversation marked (PostgreSQL: skipped; SQLite: one writer at a time), and the
    metrics read it from the log until the next rebuild."""
    contract = await make_contract(parties)
    log = Log(contract)
    await log.add("buyer_message", "2026-01-05 10:00:00", conversation="c1", buyer="b1")  # marked, committed
    appended = asyncio.Event()

    async def reply():
        async with atomic():
            await log.add("agent_reply", "2026-01-05 10:00:40", conversation="c1")
            appended.set()
            await asyncio.sleep(0.5)  # still open while the rebuild runs

    async def rebuild():
        await appended.wait()
        await rebuild_stale_steps()

    await asyncio.wait_for(asyncio.gather(reply(), rebuild()), 30)
    assert (await figures(contract, log))["first_response_time"] == (1, 40)
    await rebuild_stale_steps()
    assert await marked(contract) == []
    (step,) = await steps(contract)
    assert step["stop_us"] == log.us("2026-01-05 10:00:40")
    assert (await figures(contract, log))["first_response_time"] == (1, 40)
