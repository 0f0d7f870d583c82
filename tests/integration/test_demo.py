"""`fuwu demo` loads realistic data with tenders across the lifecycle, and a second
run changes nothing."""

from __future__ import annotations

from fuwu.demo import load_demo
from fuwu.tables import Organisation, User
from tenders.tables import Tender


async def test_demo_shows_the_whole_tender_lifecycle():
    lines: list[str] = []
    await load_demo(echo=lines.append)
    statuses = {row["status"] for row in await Tender.select(Tender.status).where(
        Tender.merchant.name.like("%Lanfei%") | Tender.merchant.name.like("%Xiangwei%")
        | Tender.merchant.name.like("%Yiran%"))}
    assert {"draft", "published", "bidding_closed", "evaluating", "awarded", "cancelled", "unsuccessful"} <= statuses
    assert any("fuwu-demo-2026" in line for line in lines)
    users, orgs, tenders = await User.count(), await Organisation.count(), await Tender.count()
    await load_demo(echo=lines.append)
    assert (await User.count(), await Organisation.count(), await Tender.count()) == (users, orgs, tenders)
