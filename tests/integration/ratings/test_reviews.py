"""Merchants rate providers, providers review merchants: only the parties of a real
contract, once per month or accepted milestone, blind until both wrote or 14 days
passed, one reply, disputes decided by an admin."""

from __future__ import annotations

import datetime

import pytest

from fuwu.errors import Conflict, Forbidden, InvalidInput, NotFound
from fuwu.tables import AuditEvent, Notification
from ratings import states
from ratings.services import reviews
from ratings.services.reviews import Scores
from ratings.tables import Rating
from tests.conftest import add_member, new_actor
from tests.integration.ratings.conftest import member_of, milestone, signed_contract

GOOD = Scores(overall=5, quality=4, communication=5, timeliness=4, comment="Fast and careful.")


async def _parties():
    return await new_actor("merchant"), await new_actor("provider")


async def test_merchant_rates_a_month_once_and_it_stays_blind_until_the_provider_reviews(merchant, provider):
    contract = await signed_contract(merchant, provider)
    rating = await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD, period=1)
    assert rating["status"] == states.BLIND
    # The provider sees neither the scores nor the comment while it is blind.
    seen = (await reviews.contract_reviews(await member_of(provider), contract)).items
    assert seen[0]["overall"] is None and seen[0]["comment"] == ""
    assert (await reviews.provider_ratings(provider.org_id, None, 10)).items == []
    with pytest.raises(Conflict) as second:
        await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD, period=1)
    assert second.value.code == "rating_duplicate"
    # The provider's own review publishes both.
    review = await reviews.review_merchant(provider.viewer, await member_of(provider), contract,
                                           Scores(4, 4, 4, 5, "Clear brief."), period=1)
    assert review["status"] == states.PUBLISHED
    assert (await reviews.read(states.RATING, rating["id"]))["status"] == states.PUBLISHED
    listed = (await reviews.provider_ratings(provider.org_id, None, 10)).items
    assert [(r["overall"], r["comment"]) for r in listed] == [(5, "Fast and careful.")]
    told = await Notification.select(Notification.kind).where(Notification.user == merchant.user_id)
    assert {"review_published"} <= {row["kind"] for row in told}
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.object_id == str(rating["id"]))
    assert {"rated", "published"} <= {row["action"] for row in actions}


async def test_a_blind_rating_is_published_after_fourteen_days_without_the_job(merchant, provider):
    contract = await signed_contract(merchant, provider)
    rating = await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD, period=2)
    await Rating.update({Rating.publish_after: Rating.created_at - datetime.timedelta(seconds=1)}).where(
        Rating.id == rating["id"])
    listed = (await reviews.provider_ratings(provider.org_id, None, 10)).items
    assert [r["id"] for r in listed] == [rating["id"]] and listed[0]["status"] == states.PUBLISHED
    assert (await reviews.publish_due())["published"] >= 1
    assert (await reviews.publish_due())["published"] == 0  # a second run changes nothing
    assert (await Rating.select(Rating.status).where(Rating.id == rating["id"]).first())["status"] == "published"


async def test_only_the_merchant_signers_of_a_signed_contract_rate_a_started_month_or_accepted_milestone():
    merchant, provider = await _parties()
    contract = await signed_contract(merchant, provider)
    with pytest.raises(Forbidden):  # the provider cannot rate itself
        await reviews.rate_provider(provider.viewer, await member_of(provider), contract, GOOD, period=1)
    evaluator = await add_member(merchant, "evaluator")
    with pytest.raises(Forbidden):
        await reviews.rate_provider(evaluator.viewer, await member_of(evaluator), contract, GOOD, period=1)
    stranger = await new_actor("merchant")
    with pytest.raises(NotFound):
        await reviews.rate_provider(stranger.viewer, await member_of(stranger), contract, GOOD, period=1)
    with pytest.raises(Conflict):  # month 3 starts in the future
        await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD, period=3)
    with pytest.raises(InvalidInput):
        await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD, period=13)
    with pytest.raises(InvalidInput):
        await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract,
                                    Scores(6, 4, 4, 4), period=1)
    unsigned = await signed_contract(merchant, provider, status="pending_signature", signed=False)
    with pytest.raises(Conflict) as refused:
        await reviews.rate_provider(merchant.viewer, await member_of(merchant), unsigned, GOOD, period=1)
    assert refused.value.code == "rating_contract_invalid"
    moment = datetime.datetime.now(datetime.timezone.utc)
    pending = await milestone(contract, provider, due=moment, submitted=moment, status="submitted")
    with pytest.raises(Conflict):
        await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD, milestone_id=pending)
    accepted = await milestone(contract, provider, due=moment, submitted=moment)
    row = await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD,
                                      milestone_id=accepted)
    assert row["occasion"] == f"milestone:{accepted}"
    assert await Rating.count().where(Rating.contract == contract) == 1  # refused ones stored nothing


async def test_the_provider_replies_once_and_disputes_go_to_an_admin_who_hides_with_a_reason(admin):
    merchant, provider = await _parties()
    contract = await signed_contract(merchant, provider)
    rating = await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract,
                                         Scores(1, 1, 1, 1, "Never answered."), period=1)
    with pytest.raises(Conflict):  # blind: nothing to reply to yet
        await reviews.reply(provider.viewer, await member_of(provider), states.RATING, rating["id"], "We did.")
    await reviews.review_merchant(provider.viewer, await member_of(provider), contract, Scores(3, 3, 3, 3), period=1)
    with pytest.raises(Forbidden):  # the merchant does not reply to its own rating
        await reviews.reply(merchant.viewer, await member_of(merchant), states.RATING, rating["id"], "Yes.")
    replied = await reviews.reply(provider.viewer, await member_of(provider), states.RATING, rating["id"],
                                  "Our logs show replies within a minute.")
    assert replied["reply"] == "Our logs show replies within a minute."
    with pytest.raises(Conflict) as again:
        await reviews.reply(provider.viewer, await member_of(provider), states.RATING, rating["id"], "More.")
    assert again.value.code == "rating_already_replied"
    with pytest.raises(InvalidInput):
        await reviews.dispute(provider.viewer, await member_of(provider), states.RATING, rating["id"], "unfair")
    raised = await reviews.dispute(provider.viewer, await member_of(provider), states.RATING, rating["id"],
                                   "The chat logs contradict this rating.")
    assert raised["status"] == states.OPEN
    with pytest.raises(Conflict):
        await reviews.dispute(provider.viewer, await member_of(provider), states.RATING, rating["id"],
                              "The chat logs contradict this rating.")
    assert raised["id"] in [d["id"] for d in (await reviews.open_disputes(None, 100)).items]
    decided = await reviews.decide_dispute(admin.viewer, raised["id"], True, "The logs show prompt replies.")
    assert decided["status"] == states.DISPUTE_HIDDEN
    with pytest.raises(Conflict):
        await reviews.decide_dispute(admin.viewer, raised["id"], False, "Changed my mind about it.")
    listed = (await reviews.provider_ratings(provider.org_id, None, 10)).items
    assert [(r["status"], r["overall"], r["comment"], r["hidden_reason"]) for r in listed] == [
        ("hidden", None, "", "The logs show prompt replies.")]
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.object_id == str(rating["id"]))
    assert {"rated", "replied", "disputed", "dispute_hidden"} <= {row["action"] for row in actions}


async def test_an_upheld_dispute_keeps_the_rating(admin):
    merchant, provider = await _parties()
    contract = await signed_contract(merchant, provider)
    await reviews.review_merchant(provider.viewer, await member_of(provider), contract, Scores(2, 2, 2, 2), period=1)
    rating = await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD, period=1)
    raised = await reviews.dispute(merchant.viewer, await member_of(merchant), states.RATING, rating["id"],
                                   "Please check this is mine.")
    await reviews.decide_dispute(admin.viewer, raised["id"], False, "The rating is genuine.")
    assert (await reviews.read(states.RATING, rating["id"]))["status"] == states.PUBLISHED


async def test_two_reviews_written_at_the_same_moment_are_published_by_the_job(merchant, provider):
    # Each transaction could not see the other's review: both stored blind.
    contract = await signed_contract(merchant, provider)
    await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract, GOOD, period=1)
    key = f"{contract}:period:1"
    from ratings.tables import ProviderReview

    await ProviderReview(contract=contract, merchant=merchant.org_id, provider=provider.org_id, occasion="period:1",
                         key=key, overall=4, quality=4, communication=4, timeliness=4, author=provider.user_id,
                         publish_after=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=14),
                         status=states.BLIND).save()
    assert (await reviews.publish_due())["published"] >= 2
    assert (await Rating.select(Rating.status).where(Rating.key == key).first())["status"] == states.PUBLISHED
    assert (await ProviderReview.select(ProviderReview.status).where(ProviderReview.key == key).first())[
        "status"] == states.PUBLISHED
