"""Demo tenders in the states that need no bid, drawn from the market cases: a
fashion brand seeking customer service, a food brand seeking a video, a women's-wear
shop seeking photography and training. The bids domain's demo adds the tenders that
bids move on (bidding closed, evaluating, awarded).

Tenders are made through the real services. Those that must look older are published
with future deadlines and then moved back in time (`age`), as if the days had passed,
before the deadline is processed by the real service.
"""

from __future__ import annotations

import datetime
import uuid

from fuwu.clock import now
from fuwu.services import accounts
from fuwu.tables import User
from tenders.schemas import TenderCreate
from tenders.services import lifecycle, questions
from tenders.tables import Tender

DAY = datetime.timedelta(days=1)


async def actor(email: str) -> tuple[accounts.Viewer, accounts.Member]:
    user = await User.select(User.id, User.display_name).where(User.email == email).first()
    viewer = accounts.Viewer(user_id=user["id"], email=email, display_name=user["display_name"], locale="zh_Hans",
                             timezone="Asia/Shanghai", via="session")
    memberships = await accounts.memberships_of(user["id"])
    member = await accounts.membership(user["id"], memberships[0]["organisation"]["id"])
    return viewer, member


def deadlines(days_to_bid: int = 7) -> dict:
    moment = now()
    return {"questions_deadline": moment + (days_to_bid - 2) * DAY, "bid_deadline": moment + days_to_bid * DAY,
            "evaluation_end": moment + (days_to_bid + 14) * DAY}


def tender(**fields) -> TenderCreate:
    """Validated exactly as a request body would be."""
    import msgspec

    return msgspec.convert(fields, TenderCreate)


def cs_tender(title: str, category: str = "cs_presales", **extra) -> TenderCreate:
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
        **deadlines(),
    )
    fields.update(extra)
    return tender(**fields)


async def age(tender_id: uuid.UUID, bid_days_ago: float = 1) -> None:
    """Moves a published tender back in time so its bid deadline passed `bid_days_ago`
    days ago, then lets the real service process the deadline."""
    moment = now()
    await Tender.update({
        Tender.published_at: moment - (bid_days_ago + 8) * DAY,
        Tender.questions_deadline: moment - (bid_days_ago + 2) * DAY,
        Tender.bid_deadline: moment - bid_days_ago * DAY,
    }).where(Tender.id == tender_id)
    await lifecycle.close_bidding(tender_id)


async def loaded() -> bool:
    return await Tender.exists().where(Tender.created_by.email == "owner@lanfei-fashion.demo")


async def load(echo) -> None:
    if await loaded():
        return
    lanfei = await actor("owner@lanfei-fashion.demo")
    xiangwei = await actor("owner@xiangwei-foods.demo")
    yiran = await actor("owner@yiran-womenswear.demo")
    guangying = await actor("owner@guangying-photo.demo")

    echo("  tenders: draft")
    await lifecycle.create_tender(*lanfei, cs_tender(
        "Post-sales customer service: returns, exchanges and complaints", category="cs_postsales",
        rounds=[{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 50, "price": True},
                                                         {"name": "Complaint handling process", "weight": 50}]}]))

    echo("  tenders: published, with a question and an answer")
    photo = await lifecycle.create_tender(*yiran, tender(
        category="photography", title="On-model photography for 120 spring styles",
        brief="Spring collection: on-model and flat-lay shots, white background plus two lifestyle scenes.",
        requirements={"skus": 120, "models": 2, "location": "Guangzhou studio or ours in Baiyun"},
        budget_min=2_400_000, budget_max=3_600_000, pricing_models=["per_order", "pay_after_delivery"],
        sla_targets=[{"metric": "milestone_on_time_rate", "statistic": "rate", "comparator": ">=", "target": 0.95,
                      "window": "week", "weight": 100, "service_credit_percent": 3}],
        rounds=[{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                         {"name": "Portfolio", "weight": 60}]}],
        **deadlines(10)))
    await lifecycle.publish(*yiran, photo["id"])
    question = await questions.ask_question(*guangying, photo["id"], "Do you supply the models, or do we cast them?")
    await questions.answer_question(*yiran, photo["id"], question["id"], "You cast them; we approve the casting.")

    echo("  tenders: cancelled")
    video = await lifecycle.create_tender(*xiangwei, tender(
        category="video", title="Product video for the new hot-pot base",
        requirements={"videos": 3, "length_seconds": 45}, budget_min=500_000, budget_max=1_200_000,
        pricing_models=["pay_after_delivery"], **deadlines(8)))
    await lifecycle.publish(*xiangwei, video["id"])
    await lifecycle.cancel(*xiangwei, video["id"], "The product launch moved to next quarter.")

    echo("  tenders: unsuccessful (no bid at the deadline)")
    consulting = await lifecycle.create_tender(*yiran, tender(
        category="consulting", title="Shop operations training for our new team",
        requirements={"topics": ["Traffic and advertising", "Customer service scripts"], "sessions": 6},
        budget_min=800_000, budget_max=1_500_000, **deadlines(6)))
    await lifecycle.publish(*yiran, consulting["id"])
    await age(consulting["id"], bid_days_ago=3)
