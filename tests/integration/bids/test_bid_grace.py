"""The deadline depends on when a bid reached Fuwu, not on how busy Fuwu was
(DESIGN.md section 3, README "Tendering"): a bid received before the deadline counts
even when the server gets to it after the deadline, if it commits within the grace
(FUWU_BID_GRACE_SECONDS); a bid received after the deadline is refused with the 409
naming the deadline; and the tender stays sealed until the grace has passed.

A busy server is made real here: a transaction holds the tender (as closing bidding
or an amendment does) across the deadline, so the bid, already received, waits in
Fuwu's own queue for the tender lock until after the deadline."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import uuid

import pytest

from fuwu.clock import now
from fuwu.db import atomic
from fuwu.settings import get_settings
from bids.tables import Bid
from tenders.services.lifecycle import close_bidding, close_due_tenders, lock_tender
from tests.conftest import assert_problem, new_actor
from tests.tendering import (bid_body, enter_bid_grace, iso, parse_time, pass_bid_deadline, published_tender,
                             tender_url)

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def _tender_closing_soon(client, merchant, seconds: float = 1.3) -> tuple[str, datetime.datetime]:
    moment = now()
    tender = await published_tender(client, merchant,
                                    questions_deadline=iso(moment + datetime.timedelta(seconds=seconds - 0.3)),
                                    bid_deadline=iso(moment + datetime.timedelta(seconds=seconds)),
                                    evaluation_end=iso(moment + datetime.timedelta(days=7)))
    return tender["id"], parse_time(tender["bid_deadline"])


async def _sleep_until(moment: datetime.datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - now()).total_seconds()))


async def _hold_tender(tid, until: datetime.datetime, held: asyncio.Event) -> None:
    """Holds the tender exclusively until `until`, as a change of the tender does."""
    async with atomic():
        await lock_tender(uuid.UUID(str(tid)))
        held.set()
        await _sleep_until(until)


async def _bid_held_up_across_the_deadline(client, provider, tid, deadline, hold_until):
    held = asyncio.Event()
    holder = asyncio.create_task(_hold_tender(tid, hold_until, held))
    waiter = asyncio.create_task(held.wait())
    await asyncio.wait([holder, waiter], return_when=asyncio.FIRST_COMPLETED)
    if holder.done():
        waiter.cancel()
        holder.result()  # its error, if it failed before holding the tender
    await _sleep_until(deadline - datetime.timedelta(seconds=0.4))
    sent = now()
    response = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    await holder
    return sent, now(), response


async def test_a_bid_received_before_the_deadline_counts_though_the_server_reaches_it_after(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    assert (await client.get("/api/v1/me", headers=provider.headers)).status_code == 200
    tid, deadline = await _tender_closing_soon(client, merchant)

    sent, answered, response = await _bid_held_up_across_the_deadline(
        client, provider, tid, deadline, hold_until=deadline + datetime.timedelta(seconds=0.5))

    assert sent < deadline < answered
    assert response.status_code == 201, response.text
    bid = response.json()
    # The bid's time is when Fuwu received it: before the deadline.
    assert sent <= parse_time(bid["submitted_at"]) < deadline
    rows = await Bid.select(Bid.id, Bid.submitted_at).where(Bid.tender == tid)
    assert [str(r["id"]) for r in rows] == [bid["id"]] and rows[0]["submitted_at"] < deadline

    # Still sealed during the grace: the merchant neither reads the bids nor sees them counted.
    current = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    assert current["status"] == "published"
    assert_problem(await client.get(tender_url(merchant, tid, "/bids"), headers=merchant.headers), 409, "bids_sealed")
    told = (await client.get("/api/v1/notifications", headers=merchant.headers)).json()["items"]
    assert not [n for n in told if tid in (n["link"] or "")]

    # Once the grace has passed, the first read closes bidding with exactly that bid.
    await pass_bid_deadline(tid)
    current = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    assert current["status"] == "bidding_closed"
    listed = (await client.get(tender_url(merchant, tid, "/bids"), headers=merchant.headers)).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert [b["id"] for b in items] == [bid["id"]]


async def test_a_bid_received_before_the_deadline_that_cannot_commit_within_the_grace_is_refused(
        client, monkeypatch):
    settings = dataclasses.replace(get_settings(), bid_grace_seconds=1)
    monkeypatch.setattr("tenders.services.lifecycle.get_settings", lambda: settings)
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    assert (await client.get("/api/v1/me", headers=provider.headers)).status_code == 200
    tid, deadline = await _tender_closing_soon(client, merchant)

    sent, _, response = await _bid_held_up_across_the_deadline(
        client, provider, tid, deadline, hold_until=deadline + datetime.timedelta(seconds=1.3))

    problem = assert_problem(response, 409, "bid_deadline_passed")
    assert parse_time(problem["deadline"]) == deadline and problem["deadline"] in problem["detail"]
    assert sent <= parse_time(problem["received_at"]) < deadline
    assert parse_time(problem["server_time"]) >= deadline + datetime.timedelta(seconds=1)
    assert await Bid.count().where(Bid.tender == tid) == 0


async def test_during_the_grace_a_late_bid_is_refused_and_the_tender_stays_sealed(client):
    merchant = await new_actor("merchant")
    early, late = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    first = await client.post(tender_url(early, tid, "/bid"), json=bid_body(), headers=early.headers)
    assert first.status_code == 201, first.text
    await enter_bid_grace(tid)
    deadline = parse_time((await client.get(tender_url(late, tid), headers=late.headers)).json()["bid_deadline"])

    refused = await client.post(tender_url(late, tid, "/bid"), json=bid_body(), headers=late.headers)
    problem = assert_problem(refused, 409, "bid_deadline_passed")
    assert parse_time(problem["deadline"]) == deadline and problem["deadline"] in problem["detail"]
    assert parse_time(problem["received_at"]) >= deadline
    # Revising or withdrawing after the deadline is refused the same way.
    assert_problem(await client.put(tender_url(early, tid, "/bid"), json=bid_body(3_000_000), headers=early.headers),
                   409, "bid_deadline_passed")
    assert_problem(await client.delete(tender_url(early, tid, "/bid"), headers=early.headers),
                   409, "bid_deadline_passed")

    # Sealed: no unsealing, no count, no closing by read, job or the late bid; no amendment.
    for _ in range(2):
        current = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
        assert current["status"] == "published"
        sealed = assert_problem(await client.get(tender_url(merchant, tid, "/bids"), headers=merchant.headers),
                                409, "bids_sealed")
        assert "are unsealed at" in sealed["detail"]
        await asyncio.sleep(0.05)  # a close asked for by the late bid would have run by now
    assert await close_bidding(uuid.UUID(tid)) is None
    await close_due_tenders()  # the scheduled job (other tests' due tenders it may close)
    assert (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()["status"] == "published"
    amended = await client.patch(tender_url(merchant, tid), headers=merchant.headers,
                                 json={"brief": "Another brief.", "reason": "Late change"})
    assert_problem(amended, 409, "tender_bad_transition")
    events = (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json()["items"]
    assert "status_bidding_closed" not in [e["action"] for e in events]
    told = (await client.get("/api/v1/notifications", headers=merchant.headers)).json()["items"]
    assert not [n for n in told if n["kind"] == "bidding_closed"]

    # After the grace the scheduled job closes it, counting the one bid.
    await pass_bid_deadline(tid)
    assert (await close_due_tenders())["closed"] >= 1
    current = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    assert current["status"] == "bidding_closed"
    told = (await client.get("/api/v1/notifications", headers=merchant.headers)).json()["items"]
    closing = [n for n in told if n["kind"] == "bidding_closed" and tid in n["link"]]
    assert len(closing) == 1 and closing[0]["body"].startswith("1 valid bid(s)")
