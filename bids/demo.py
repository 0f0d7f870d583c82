"""Demo bids, evaluations and an award on the demo tenders: a bid on the published
photography tender, and tenders whose bids closed, are being evaluated, and were
awarded after two rounds with a presentation."""

from __future__ import annotations

import datetime
import uuid

from bids.schemas import BidSubmit, CriterionScore
from bids.services import award, evaluation, submission
from bids.tables import Bid, BidRevision
from fuwu.clock import now
from tenders import demo as tender_demo
from tenders.demo import DAY, actor, cs_tender, deadlines, tender
from tenders.schemas import TenderUpdate
from tenders.services import lifecycle
from tenders.tables import Tender


def _bid(price_yuan: int, proposal: str, seats: int, agents: list[str], first_response: float) -> BidSubmit:
    return _bid_of(
        price_amount=price_yuan * 100, pricing_model="periodic_fee", valid_until=now() + 120 * DAY,
        proposal=proposal,
        sla_commitment=[{"metric": "first_response_time", "statistic": "mean", "comparator": "<=",
                         "target": first_response, "window": "month"}],
        team={"seats": seats, "agents": agents, "lead": agents[0]},
    )


def _bid_of(**fields) -> BidSubmit:
    import msgspec

    return msgspec.convert(fields, BidSubmit)


async def _age(tender_id: uuid.UUID, bid_days_ago: float = 1) -> None:
    """Bids submitted a day before the deadline, which then passed `bid_days_ago` days ago."""
    submitted = now() - (bid_days_ago + 1) * DAY
    await Bid.update({Bid.submitted_at: submitted, Bid.first_submitted_at: submitted}).where(Bid.tender == tender_id)
    await BidRevision.update({BidRevision.at: submitted}).where(
        BidRevision.bid.is_in(Bid.select(Bid.id).where(Bid.tender == tender_id)))
    await tender_demo.age(tender_id, bid_days_ago)


async def loaded() -> bool:
    return await Bid.exists().where(Bid.provider.name.like("Xingchen Customer Service%"))


async def load(echo) -> None:
    if await loaded():
        return
    lanfei = await actor("owner@lanfei-fashion.demo")
    lanfei_eval = await actor("evaluator@lanfei-fashion.demo")
    xiangwei = await actor("owner@xiangwei-foods.demo")
    yiran = await actor("owner@yiran-womenswear.demo")
    xingchen = await actor("owner@xingchen-cs.demo")
    yunduan = await actor("owner@yunduan-cs.demo")
    mobai = await actor("owner@mobai-design.demo")
    guangying = await actor("owner@guangying-photo.demo")

    echo("  bids: on the published photography tender")
    photo = await Tender.select(Tender.id).where(
        (Tender.merchant == yiran[1].organisation_id) & (Tender.category == "photography")
        & (Tender.status == "published")).first()
    if photo is not None:
        await submission.submit_bid(*guangying, photo["id"], _bid_of(
            price_amount=2_880_000, pricing_model="per_order", price_unit="style", valid_until=now() + 90 * DAY,
            proposal="Two models, one studio day per 40 styles, retouched files in 5 working days.",
            team={"seats": 4, "agents": ["Xu Tao"], "lead": "Xu Tao"}))

    echo("  tenders: bidding closed, two bids waiting for evaluation")
    live = await lifecycle.create_tender(*lanfei, cs_tender("Live-stream pre-sales support during 12.12"))
    await lifecycle.publish(*lanfei, live["id"])
    await submission.submit_bid(*xingchen, live["id"], _bid(42_000, "8 agents on live-stream nights.", 8,
                                                            ["Sun Li", "Ma Jun"], 18))
    await submission.submit_bid(*yunduan, live["id"], _bid(36_500, "Night team of 6 bilingual agents.", 6,
                                                           ["He Ping"], 22))
    await _age(live["id"], bid_days_ago=0.5)

    echo("  tenders: evaluating (design, round 1 open)")
    design = await lifecycle.create_tender(*xiangwei, tender(
        category="design", title="Store home page and detail pages for the spicy snacks line",
        brief="Chinese New Year campaign look; 1 home page, 12 detail pages, 6 banners.",
        requirements={"deliverables": ["Home page", "12 detail pages", "6 campaign banners"]},
        budget_min=1_500_000, budget_max=3_000_000, pricing_models=["per_order", "pay_after_delivery"],
        **deadlines(9)))
    await lifecycle.publish(*xiangwei, design["id"])
    await submission.submit_bid(*mobai, design["id"], _bid_of(
        price_amount=2_280_000, pricing_model="per_order", price_unit="page", valid_until=now() + 90 * DAY,
        proposal="Two rounds of concepts, final files in 15 working days.",
        team={"seats": 3, "agents": ["Lin Xue"], "lead": "Lin Xue"}))
    await _age(design["id"], bid_days_ago=2)
    await evaluation.start_evaluation(*xiangwei, design["id"])

    echo("  tenders: awarded (two rounds, presentation, award)")
    main = await lifecycle.create_tender(*lanfei, cs_tender("Pre-sales customer service for our Tmall flagship store"))
    await lifecycle.publish(*lanfei, main["id"])
    await submission.submit_bid(*xingchen, main["id"], _bid(48_000, "12 agents trained on apparel sizing.", 12,
                                                            ["Sun Li", "Ma Jun", "Liu Yang"], 20))
    await submission.submit_bid(*yunduan, main["id"], _bid(43_000, "10 agents, bilingual night shift.", 10,
                                                           ["He Ping"], 24))
    await lifecycle.update_tender(*lanfei, main["id"], TenderUpdate(
        budget_max=6_500_000, reason="Budget raised for the 12.12 peak."))
    await submission.confirm_bid(*xingchen, main["id"])
    await submission.confirm_bid(*yunduan, main["id"])
    await _age(main["id"], bid_days_ago=4)
    await evaluation.start_evaluation(*lanfei, main["id"])
    bids = {b["provider_id"]: b["id"] for b in await evaluation.list_bids(lanfei[1], main["id"])}
    xc, yd = bids[xingchen[1].organisation_id], bids[yunduan[1].organisation_id]
    for who, marks in ((lanfei, {xc: (9, 8), yd: (7, 7)}), (lanfei_eval, {xc: (8, 9), yd: (8, 6)})):
        for bid_id, (team, sla) in marks.items():
            await evaluation.submit_scores(*who, main["id"], 1, bid_id, [
                CriterionScore(criterion=1, value=team), CriterionScore(criterion=2, value=sla)])
    await evaluation.close_round(*lanfei, main["id"], 1)
    await evaluation.shortlist(*lanfei, main["id"], 1, 2, None)
    slot_day = now() - 2 * DAY
    await evaluation.schedule_slot(*lanfei, main["id"], 2, xc, slot_day, slot_day + datetime.timedelta(minutes=45),
                                   "Hangzhou office, room 3")
    await evaluation.schedule_slot(*lanfei, main["id"], 2, yd, slot_day + datetime.timedelta(hours=1),
                                   slot_day + datetime.timedelta(hours=1, minutes=45), "Video call")
    for bid_id, value in ((xc, 9), (yd, 7)):
        await evaluation.submit_scores(*lanfei, main["id"], 2, bid_id, [CriterionScore(criterion=0, value=value)])
    await evaluation.close_round(*lanfei, main["id"], 2)
    await award.award_bid(*lanfei, main["id"], xc, "")
