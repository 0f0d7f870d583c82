"""Demo tenders in every state, drawn from the market cases: a fashion brand seeking
pre-sales customer service, a food brand seeking page design, a women's-wear shop
seeking photography — so that a newcomer sees the whole lifecycle.

Tenders are made through the real services. Those that must look older (closed,
evaluated, awarded) are published with future deadlines and then moved back in time,
as if the days had passed, before the deadline is processed by the real service.
"""

from __future__ import annotations

import datetime
import uuid

from fuwu.clock import now
from fuwu.services import accounts
from fuwu.tables import Organisation, User
from bids.schemas import BidSubmit, CriterionScore
from bids.services import award, evaluation, submission
from bids.tables import Bid, BidRevision
from tenders.schemas import TenderCreate, TenderUpdate
from tenders.services import invitations, lifecycle, questions
from tenders.tables import Tender

DAY = datetime.timedelta(days=1)


async def _actor(email: str) -> tuple[accounts.Viewer, accounts.Member]:
    user = await User.select(User.id, User.display_name).where(User.email == email).first()
    viewer = accounts.Viewer(user_id=user["id"], email=email, display_name=user["display_name"], locale="zh_Hans",
                             timezone="Asia/Shanghai", via="session")
    memberships = await accounts.memberships_of(user["id"])
    member = await accounts.membership(user["id"], memberships[0]["organisation"]["id"])
    return viewer, member


def _deadlines(days_to_bid: int = 7) -> dict:
    moment = now()
    return {"questions_deadline": moment + (days_to_bid - 2) * DAY, "bid_deadline": moment + days_to_bid * DAY,
            "evaluation_end": moment + (days_to_bid + 14) * DAY}


def _tender(**fields) -> TenderCreate:
    """Validated exactly as a request body would be."""
    import msgspec

    return msgspec.convert(fields, TenderCreate)


def _cs_tender(title: str, category: str = "cs_presales", **extra) -> TenderCreate:
    fields = dict(
        category=category, title=title,
        brief="Apparel flagship store on Tmall. Peak season around 11.11 and 12.12; buyers ask about sizing, "
              "fabric and delivery. We want faster first responses and higher inquiry conversion.",
        requirements={"seats": 12, "coverage_hours": "09:00-24:00", "time_zone": "Asia/Shanghai",
                      "daily_conversations": 2500, "languages": ["zh", "en"]},
        budget_min=3_000_000, budget_max=6_000_000, pricing_models=["periodic_fee", "metered"],
        sla_targets=[
            {"metric": "first_response_time", "statistic": "mean", "comparator": "<=", "target": 25, "window": "month",
             "weight": 40, "service_credit_percent": 5},
            {"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=", "target": 0.54,
             "window": "month", "weight": 40, "service_credit_percent": 5},
            {"metric": "service_attitude", "statistic": "mean", "comparator": ">=", "target": 4.8, "window": "month",
             "weight": 20, "service_credit_percent": 2},
        ],
        rounds=[
            {"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                     {"name": "Team and apparel experience", "weight": 35},
                                                     {"name": "SLA commitment", "weight": 25}]},
            {"kind": "presentation", "criteria": [{"name": "Pitch and live test", "weight": 70},
                                                  {"name": "Price", "weight": 30, "price": True}]},
        ],
        **_deadlines(),
    )
    fields.update(extra)
    return _tender(**fields)


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
    """Moves a published tender back in time so its bid deadline passed `bid_days_ago` days ago."""
    moment = now()
    await Tender.update({
        Tender.published_at: moment - (bid_days_ago + 8) * DAY,
        Tender.questions_deadline: moment - (bid_days_ago + 2) * DAY,
        Tender.bid_deadline: moment - bid_days_ago * DAY,
    }).where(Tender.id == tender_id)
    await Bid.update({Bid.submitted_at: moment - (bid_days_ago + 1) * DAY,
                      Bid.first_submitted_at: moment - (bid_days_ago + 1) * DAY}).where(Bid.tender == tender_id)
    await BidRevision.update({BidRevision.at: moment - (bid_days_ago + 1) * DAY}).where(
        BidRevision.bid.is_in(Bid.select(Bid.id).where(Bid.tender == tender_id)))
    await lifecycle.close_bidding(tender_id)


async def load_demo_tenders(echo) -> None:
    lanfei = await _actor("owner@lanfei-fashion.demo")
    lanfei_eval = await _actor("evaluator@lanfei-fashion.demo")
    xiangwei = await _actor("owner@xiangwei-foods.demo")
    yiran = await _actor("owner@yiran-womenswear.demo")
    xingchen = await _actor("owner@xingchen-cs.demo")
    yunduan = await _actor("owner@yunduan-cs.demo")
    mobai = await _actor("owner@mobai-design.demo")
    guangying = await _actor("owner@guangying-photo.demo")

    echo("  tenders: draft")
    await lifecycle.create_tender(*lanfei, _cs_tender(
        "Post-sales customer service: returns, exchanges and complaints", category="cs_postsales",
        rounds=[{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 50, "price": True},
                                                         {"name": "Complaint handling process", "weight": 50}]}]))

    echo("  tenders: published, with a question, an answer and a bid")
    photo = await lifecycle.create_tender(*yiran, _tender(
        category="photography", title="On-model photography for 120 spring styles",
        brief="Spring collection: on-model and flat-lay shots, white background plus two lifestyle scenes.",
        requirements={"skus": 120, "models": 2, "location": "Guangzhou studio or ours in Baiyun"},
        budget_min=2_400_000, budget_max=3_600_000, pricing_models=["per_order", "pay_after_delivery"],
        sla_targets=[{"metric": "milestone_on_time_rate", "statistic": "rate", "comparator": ">=", "target": 0.95,
                      "window": "week", "weight": 100, "service_credit_percent": 3}],
        rounds=[{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                         {"name": "Portfolio", "weight": 60}]}],
        **_deadlines(10)))
    await invitations.invite_providers(*yiran, photo["id"], [guangying[1].organisation_id])
    await lifecycle.publish(*yiran, photo["id"])
    question = await questions.ask_question(*guangying, photo["id"], "Do you supply the models, or do we cast them?")
    await questions.answer_question(*yiran, photo["id"], question["id"], "You cast them; we approve the casting.")
    await submission.submit_bid(*guangying, photo["id"], _bid_of(
        price_amount=2_880_000, pricing_model="per_order", price_unit="style", valid_until=now() + 90 * DAY,
        proposal="Two models, one studio day per 40 styles, retouched files in 5 working days.",
        team={"seats": 4, "agents": ["Xu Tao"], "lead": "Xu Tao"}))

    echo("  tenders: cancelled")
    video = await lifecycle.create_tender(*xiangwei, _tender(
        category="video", title="Product video for the new hot-pot base",
        requirements={"videos": 3, "length_seconds": 45}, budget_min=500_000, budget_max=1_200_000,
        pricing_models=["pay_after_delivery"], **_deadlines(8)))
    await lifecycle.publish(*xiangwei, video["id"])
    await lifecycle.cancel(*xiangwei, video["id"], "The product launch moved to next quarter.")

    echo("  tenders: unsuccessful (no bid at the deadline)")
    consulting = await lifecycle.create_tender(*yiran, _tender(
        category="consulting", title="Shop operations training for our new team",
        requirements={"topics": ["Traffic and advertising", "Customer service scripts"], "sessions": 6},
        budget_min=800_000, budget_max=1_500_000, **_deadlines(6)))
    await lifecycle.publish(*yiran, consulting["id"])
    await _age(consulting["id"], bid_days_ago=3)

    echo("  tenders: bidding closed, two bids waiting for evaluation")
    live = await lifecycle.create_tender(*lanfei, _cs_tender("Live-stream pre-sales support during 12.12"))
    await lifecycle.publish(*lanfei, live["id"])
    await submission.submit_bid(*xingchen, live["id"], _bid(42_000, "8 agents on live-stream nights.", 8,
                                                            ["Sun Li", "Ma Jun"], 18))
    await submission.submit_bid(*yunduan, live["id"], _bid(36_500, "Night team of 6 bilingual agents.", 6,
                                                           ["He Ping"], 22))
    await _age(live["id"], bid_days_ago=0.5)

    echo("  tenders: evaluating (design, round 1 open)")
    design = await lifecycle.create_tender(*xiangwei, _tender(
        category="design", title="Store home page and detail pages for the spicy snacks line",
        brief="Chinese New Year campaign look; 1 home page, 12 detail pages, 6 banners.",
        requirements={"deliverables": ["Home page", "12 detail pages", "6 campaign banners"]},
        budget_min=1_500_000, budget_max=3_000_000, pricing_models=["per_order", "pay_after_delivery"],
        **_deadlines(9)))
    await invitations.invite_providers(*xiangwei, design["id"], [mobai[1].organisation_id])
    await lifecycle.publish(*xiangwei, design["id"])
    await submission.submit_bid(*mobai, design["id"], _bid_of(
        price_amount=2_280_000, pricing_model="per_order", price_unit="page", valid_until=now() + 90 * DAY,
        proposal="Two rounds of concepts, final files in 15 working days.",
        team={"seats": 3, "agents": ["Lin Xue"], "lead": "Lin Xue"}))
    await _age(design["id"], bid_days_ago=2)
    await evaluation.start_evaluation(*xiangwei, design["id"])

    echo("  tenders: awarded (two rounds, presentation, award)")
    main = await lifecycle.create_tender(*lanfei, _cs_tender("Pre-sales customer service for our Tmall flagship store"))
    await invitations.invite_providers(*lanfei, main["id"], [xingchen[1].organisation_id, yunduan[1].organisation_id])
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


async def demo_tenders_loaded() -> bool:
    return await Tender.exists().where(Tender.created_by.email == "owner@lanfei-fashion.demo")


__all__ = ["load_demo_tenders", "demo_tenders_loaded", "Organisation"]
