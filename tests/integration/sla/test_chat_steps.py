"""A contract's chat steps (sla.sql, "chat steps") are what the evaluation reads of its
conversations: after any appends, in any order and from concurrent transactions, they
are what rebuilding them from the whole log gives, and the metrics read from them are
those of the log."""

from __future__ import annotations

import asyncio

from fuwu.db import atomic, fetch
from sla import sql
from sla.calendar import CoverageCalendar
from sla.metrics import Scope, measure
from sla.services.events import refresh_chat_steps
from tests.integration.sla.conftest import Log, make_contract

STEP_ROWS = f"SELECT id, kind, at_us, step, first_buyer_us, stop_us, next_us, rating FROM {sql.STEPS} " \
            "WHERE contract = $1 ORDER BY id"


async def steps(contract) -> list[dict]:
    return [dict(row) for row in await fetch(STEP_ROWS, contract.id)]


async def rebuilt(contract, conversations) -> list[dict]:
    async with atomic():
        await refresh_chat_steps((contract.id, conversation) for conversation in conversations)
    return await steps(contract)


async def test_late_events_rebuild_their_conversations_steps(parties):
    contract = await make_contract(parties)
    log = Log(contract)
    await log.add("buyer_message", "2026-01-05 10:00:00", conversation="c1", buyer="b1")
    await log.add("conversation_closed", "2026-01-05 10:20:00", conversation="c1")
    await log.add("chat_rated", "2026-01-05 10:21:00", conversation="c1", rating=5)
    # Late: a reply and a second question that the log places before the close.
    await log.add("agent_reply", "2026-01-05 10:00:30", conversation="c1")
    await log.add("buyer_message", "2026-01-05 10:05:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-01-05 10:06:00", conversation="c1")
    await log.add("buyer_message", "2026-01-05 11:00:00", conversation="c2", buyer="b2")  # never answered

    found = await steps(contract)
    assert [(row["kind"], row["step"]) for row in found] == [
        ("buyer_message", 1), ("conversation_closed", 3), ("chat_rated", 4), ("buyer_message", 2),
        ("buyer_message", 1)]
    first, close, rating, second, unanswered = found
    assert first["stop_us"] == log.us("2026-01-05 10:00:30")
    assert second["stop_us"] == log.us("2026-01-05 10:06:00")
    assert close["first_buyer_us"] == log.us("2026-01-05 10:00:00") and close["next_us"] is None
    assert rating["rating"] == 5 and unanswered["stop_us"] is None
    assert found == await rebuilt(contract, ["c1", "c2"])

    scope, calendar = Scope.live(contract.id, contract.merchant), CoverageCalendar.always("Asia/Shanghai")
    start, end, as_of = log.us("2026-01-05 00:00:00"), log.us("2026-01-06 00:00:00"), log.us("2026-01-05 11:00:10")
    first_response = await measure("first_response_time", scope, calendar, start, end, as_of)
    assert (first_response.sample_size, first_response.value("mean")) == (2, (30 + 10) / 2)  # c2's runs to T
    assert (await measure("next_response_time", scope, calendar, start, end, as_of)).value("mean") == 60
    assert (await measure("resolution_time", scope, calendar, start, end, as_of)).value("mean") == 20 * 60
    assert (await measure("service_attitude", scope, calendar, start, end, as_of)).value("mean") == 5


async def test_two_transactions_appending_to_one_conversation_leave_its_steps_whole(parties):
    """Each append rebuilds its conversation from what it sees. Here the reply's
    transaction appends while the question's is still open: it must wait for the
    question to commit and rebuild with both, or the question would keep no stop."""
    contract = await make_contract(parties)
    log = Log(contract)
    question_stored = asyncio.Event()

    async def question():
        async with atomic():
            await log.add("buyer_message", "2026-01-05 10:00:00", conversation="c1", buyer="b1")
            question_stored.set()
            await asyncio.sleep(0.5)  # still open while the reply is appended

    async def reply():
        await question_stored.wait()
        async with atomic():
            await log.add("agent_reply", "2026-01-05 10:00:40", conversation="c1")

    await asyncio.wait_for(asyncio.gather(question(), reply()), 30)
    (found,) = await steps(contract)
    assert found["kind"] == "buyer_message" and found["stop_us"] == log.us("2026-01-05 10:00:40")
    assert [found] == await rebuilt(contract, ["c1"])
