"""`fuwu demo` loads realistic data with tenders across the lifecycle and a running
contract with its SLA history, and a second run changes nothing."""

from __future__ import annotations

from fuwu.demo import load_demo
from fuwu.tables import Organisation, User
from sla.tables import Contract, Measurement, ServiceEvent
from tenders.tables import Tender


async def test_demo_shows_the_whole_tender_lifecycle():
    lines: list[str] = []
    await load_demo(echo=lines.append)
    statuses = {row["status"] for row in await Tender.select(Tender.status).where(
        Tender.merchant.name.like("%Lanfei%") | Tender.merchant.name.like("%Xiangwei%")
        | Tender.merchant.name.like("%Yiran%"))}
    # The awarded tender's contract is signed by both parties in the demo: it is contracted.
    assert {"draft", "published", "bidding_closed", "evaluating", "contracted", "cancelled", "unsuccessful"} <= statuses
    assert any("fuwu-demo-2026" in line for line in lines)
    active = await Contract.select(Contract.id).where(
        (Contract.status == "active") & Contract.merchant.name.like("%Lanfei%")).first()
    assert active is not None
    assert await ServiceEvent.count().where(ServiceEvent.contract == active["id"]) > 1000
    assert await ServiceEvent.count().where(ServiceEvent.source == "history") > 1000
    assert await Measurement.count().where(Measurement.contract == active["id"]) >= 3
    users, orgs, tenders = await User.count(), await Organisation.count(), await Tender.count()
    events = await ServiceEvent.count()
    await load_demo(echo=lines.append)
    assert (await User.count(), await Organisation.count(), await Tender.count(), await ServiceEvent.count()) == (
        users, orgs, tenders, events)
