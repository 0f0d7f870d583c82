"""Demo data of the ratings domain: every demo provider has served one earlier contract
to its end, for a demo merchant other than the fashion brand, and was rated for its
first month (the provider reviewed the merchant back, so both are published); then
the demo providers are evaluated as the weekly job evaluates them. One completed
contract earns 3 stars, so a newcomer sees tier badges, scorecards with their history,
ratings on the profiles, and recommendations that rank providers by tier and by free
capacity (Xingchen's running contract holds its agents)."""

from __future__ import annotations

import datetime

from fuwu.clock import now
from fuwu.db import atomic
from ratings.services import reviews, scorecards
from ratings.tables import Evaluation
from sla import states as sla_states
from sla.tables import Contract
from tenders.demo import actor

DAY = datetime.timedelta(days=1)

# (provider owner, merchant owner, category, seats, rating, comment, the provider's review of the merchant)
EARLIER_CONTRACTS = (
    ("owner@xingchen-cs.demo", "owner@xiangwei-foods.demo", "cs_postsales", 2, 5,
     "Fast, polite answers through the Spring Festival rush; refunds handled the same day.", 5),
    ("owner@yunduan-cs.demo", "owner@yiran-womenswear.demo", "cs_presales", 1, 4,
     "Good product knowledge; slower at night.", 4),
    ("owner@mobai-design.demo", "owner@xiangwei-foods.demo", "design", 1, 5,
     "The new store front lifted our conversion; delivered a day early.", 5),
    ("owner@guangying-photo.demo", "owner@yiran-womenswear.demo", "photography", 1, 4,
     "Sharp on-model shots; one retake needed.", 5),
)


async def loaded() -> bool:
    provider = await actor(EARLIER_CONTRACTS[0][0])
    return await Evaluation.exists().where(Evaluation.provider == provider[1].organisation_id)


async def load(echo) -> None:
    if await loaded():
        return
    echo("  ratings: an earlier contract of every provider, rated; tiers evaluated")
    moment = now()
    starts, ends = moment - 200 * DAY, moment - 30 * DAY
    providers = []
    for provider_email, merchant_email, category, seats, rating, comment, review in EARLIER_CONTRACTS:
        provider, merchant = await actor(provider_email), await actor(merchant_email)
        async with atomic():
            contract = Contract(merchant=merchant[1].organisation_id, provider=provider[1].organisation_id,
                                category=category, status=sla_states.COMPLETED, seats=seats, starts_at=starts,
                                ends_at=ends, pricing_model="periodic_fee", pricing_terms={"period": "month"},
                                period_fee=1_800_000, merchant_signed_at=starts - 2 * DAY,
                                provider_signed_at=starts - DAY, status_reason="Ran to its end date.")
            await contract.save()
        await reviews.rate_provider(*merchant, contract.id, reviews.Scores(
            overall=rating, quality=rating, communication=rating, timeliness=max(1, rating - 1), comment=comment),
            period=1)
        await reviews.review_merchant(*provider, contract.id, reviews.Scores(
            overall=review, quality=review, communication=review, timeliness=review,
            comment="Clear briefs and quick answers to our questions."), period=1)
        providers.append(provider[1].organisation_id)
    await scorecards.evaluate_batch(providers, scorecards.evaluation_moment(moment))
