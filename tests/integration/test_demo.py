"""`fuwu demo` loads realistic data with tenders across the lifecycle, a running
contract with its SLA history, and rated providers with their tiers, so that the
fashion brand's recommendations rank them; a second run changes nothing."""

from __future__ import annotations

from fuwu.demo import load_demo
from fuwu.services import accounts
from fuwu.tables import Organisation, User
from ratings.tables import Evaluation, Rating, Standing
from sla.tables import Contract, Measurement, ServiceEvent
from tenders.demo import actor
from tenders.hooks import hooks as tender_hooks
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
    # Every demo provider served an earlier contract to its end and was rated for it:
    # 3 stars, so merchants see it recommended (with the 3-star warning).
    providers = [(await actor(email))[1].organisation_id for email in (
        "owner@xingchen-cs.demo", "owner@yunduan-cs.demo", "owner@mobai-design.demo", "owner@guangying-photo.demo")]
    tiers = [row["tier"] for row in await Standing.select(Standing.tier).where(Standing.provider.is_in(providers))]
    assert tiers == [3, 3, 3, 3], tiers
    # Xingchen's two agents are all on its running contract (12 seats): none is free,
    # as the recommendations rank it (the suite's database holds many more providers).
    candidates = await accounts.ranked_provider_candidates(
        "cs_presales", 1, True, "", 1_000_000, capacity_weight=25, region_weight=15,
        committed_seats=tender_hooks().committed_seats)
    xingchen = next(row for row in candidates if row["id"] == providers[0])
    assert (xingchen["capacity"], xingchen["committed"], xingchen["free"]) == (2, 12, 0)
    users, orgs, tenders = await User.count(), await Organisation.count(), await Tender.count()
    events, ratings, evaluations = await ServiceEvent.count(), await Rating.count(), await Evaluation.count()
    await load_demo(echo=lines.append)
    assert (await User.count(), await Organisation.count(), await Tender.count(), await ServiceEvent.count(),
            await Rating.count(), await Evaluation.count()) == (users, orgs, tenders, events, ratings, evaluations)
