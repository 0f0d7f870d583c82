"""Scorecards computed by hand, tier bands, promotion and two-step demotion, and the
evaluation job's idempotence."""

from __future__ import annotations

import asyncio
import datetime
import math
import uuid

import pytest

from chat.tables import Conversation
from fuwu.errors import InvalidInput
from fuwu.wiring import wiring
from ratings import states
from ratings.services import scorecards
from ratings.services.scorecards import next_standing
from ratings.settings import ScorecardSettings, validate_bands
from ratings.tables import BrandGrade, Evaluation, Rating, Standing
from sla.tables import Contract, Measurement, Milestone, MilestoneSubmission, SlaTarget
from tenders.hooks import TenderHooks
from tests.conftest import new_actor
from tests.integration.ratings.conftest import UNRECOMMENDED

DAY = datetime.timedelta(days=1)
SETTINGS = ScorecardSettings(window_days=60, periods=2, volume_target=2, prior_weight=2, chat_share=0.5)


def _as_of(year: int) -> datetime.datetime:
    # A moment of its own per test, far from every other test's data: the platform
    # mean is over every provider's ratings in the window.
    return datetime.datetime(year, 1, 6, tzinfo=datetime.timezone.utc)


async def _contract(merchant, provider, starts, ends, status="active") -> uuid.UUID:
    row = Contract(merchant=merchant.org_id, provider=provider.org_id, category="cs_presales", status=status,
                   starts_at=starts, ends_at=ends, currency="CNY", pricing_model="periodic_fee",
                   pricing_terms={}, period_fee=0, time_zone="Asia/Shanghai", calendar={},
                   merchant_signed_at=starts, provider_signed_at=starts)
    await row.save()
    return row.id


async def _measurement(contract_id, target_id, end, outcome, version=1):
    start = end - DAY
    await Measurement(contract=contract_id, target=target_id, window_start=start, window_end=end, version=version,
                      key=f"{target_id}:{int(start.timestamp())}:{version}", value=1.0, sample_size=1,
                      target_value=1.0, outcome=outcome, as_of=end).save()


async def _rating(contract_id, merchant, provider, created, overall, status="published"):
    await Rating(contract=contract_id, merchant=merchant.org_id, provider=provider.org_id, occasion="period:1",
                 key=f"{contract_id}:{uuid.uuid4()}", overall=overall, quality=overall, communication=overall,
                 timeliness=overall, author=merchant.user_id, created_at=created,
                 publish_after=created + 14 * DAY if status == "blind" else created,
                 published_at=created if status != "blind" else None, status=status).save()


def wilson(positive, total, z=1.96):
    p = positive / total
    return (p + z * z / (2 * total) - z * math.sqrt((p * (1 - p) + z * z / (4 * total)) / total)) / (1 + z * z / total)


async def test_a_scorecard_computed_by_hand_and_its_explanation_adds_up_to_the_composite():
    T = _as_of(2041)
    m1, m2 = await new_actor("merchant"), await new_actor("merchant")
    p, q = await new_actor("provider", categories=UNRECOMMENDED), await new_actor("provider", categories=UNRECOMMENDED)
    a = await _contract(m1, p, T - 50 * DAY, T + 300 * DAY)
    b = await _contract(m2, p, T - 100 * DAY, T - 5 * DAY, status="completed")
    other = await _contract(m1, q, T - 50 * DAY, T + 300 * DAY)
    target = SlaTarget(contract=a, metric="first_response_time", statistic="mean", comparator="<=", target=30)
    await target.save()
    # Newest period (weight 2): met, met, breached; older (weight 1): one window whose
    # latest version is breached (its first version, met, no longer counts).
    for days, outcome in ((2, "met"), (5, "met"), (9, "breached")):
        await _measurement(a, target.id, T - days * DAY, outcome)
    await _measurement(a, target.id, T - 40 * DAY, "met", version=1)
    await _measurement(a, target.id, T - 40 * DAY, "breached", version=2)
    # Milestones: one on time in the newest period, one late in the older.
    for due, delivered in ((T - 10 * DAY, T - 11 * DAY), (T - 40 * DAY, T - 39 * DAY)):
        milestone = Milestone(contract=a, deliverable="Styles", due_at=due, amount=0, status="accepted")
        await milestone.save()
        await MilestoneSubmission(milestone=milestone.id, number=1, key=f"{milestone.id}:1", submitted_by=p.user_id,
                                  submitted_at=delivered).save()
    # Brand: the latest unexpired grade counts.
    admin_user = m1.user_id
    await BrandGrade(provider=p.org_id, score=40, evidence="Two brands.", graded_by=admin_user,
                     graded_at=T - 30 * DAY, expires_at=T + 100 * DAY).save()
    await BrandGrade(provider=p.org_id, score=80, evidence="Three key accounts.", graded_by=admin_user,
                     graded_at=T - 20 * DAY, expires_at=T + 100 * DAY).save()
    await BrandGrade(provider=p.org_id, score=95, evidence="Expired.", graded_by=admin_user,
                     graded_at=T - 10 * DAY, expires_at=T - DAY).save()
    # Ratings: 5 and 4 in the newest period, 3 in the older; a hidden 1 and a blind 1
    # do not count; another provider's 2 counts toward the platform mean only.
    await _rating(a, m1, p, T - 3 * DAY, 5)
    await _rating(a, m1, p, T - 4 * DAY, 4)
    await _rating(a, m1, p, T - 45 * DAY, 3)
    await _rating(a, m1, p, T - 6 * DAY, 1, status="hidden")
    await _rating(a, m1, p, T - 2 * DAY, 1, status="blind")
    await _rating(other, m1, q, T - 3 * DAY, 2)
    # Buyers' chat ratings: 5, 4 and 2 (two positive of three).
    for stars in (5, 4, 2):
        await Conversation(shop=m1.org_id, provider=p.org_id, contract=a, status="closed", closed_at=T - 7 * DAY,
                           rating=stars).save()

    card = (await scorecards.compute([p.org_id], T, SETTINGS))[p.org_id]

    attained, on_time, volume = 4 / 7, 2 / 3, 1.0  # (2x2 met)/(2x3 + 1x1); (2x1)/(2x1 + 1x1); 2 merchants / 2
    assert card.scores["operating"] == round(100 * (0.5 * attained + 0.3 * on_time + 0.2 * volume), 2) == 68.57
    assert card.scores["brand"] == 80
    prior = (5 + 4 + 3 + 2) / 4  # 3.5
    bayes = (2 * prior + 2 * (5 + 4) + 1 * 3) / (2 + 2 * 2 + 1)  # 4.0
    service = 0.5 * 100 * (bayes - 1) / 4 + 0.5 * 100 * wilson(2, 3)
    assert card.scores["service"] == round(service, 2) == 47.88
    assert card.scores["growth"] == 50  # one contract, one merchant, against one and one
    parts = card.explanation
    assert [parts[d]["contribution"] for d in states.DIMENSIONS] == [27.43, 12.0, 14.36, 7.5]
    assert card.composite == round(sum(parts[d]["contribution"] for d in states.DIMENSIONS), 2) == 61.29
    assert parts["service"]["figures"]["ratings"] == 3  # the hidden and the blind ones are not counted
    assert (card.completed_contracts, card.distinct_merchants) == (1, 1)
    # 61.29 reaches the 4-star band, but one completed contract gates it to 3 stars.
    assert scorecards.eligible_tier(card.composite, card.gates_met(SETTINGS), SETTINGS) == 3
    assert b


def test_bands_must_cover_0_to_100_without_gaps_or_overlaps():
    validate_bands(((3, 0, 50), (4, 50, 65), (5, 65, 80), (6, 80, 100)))
    for bands in (((3, 0, 50), (4, 55, 65), (5, 65, 80), (6, 80, 100)),  # a gap
                  ((3, 0, 55), (4, 50, 65), (5, 65, 80), (6, 80, 100)),  # an overlap
                  ((3, 10, 50), (4, 50, 65), (5, 65, 80), (6, 80, 100)),  # does not start at 0
                  ((3, 0, 50), (4, 50, 65), (5, 65, 80), (6, 80, 90)),  # does not reach 100
                  ((4, 0, 50), (3, 50, 65), (5, 65, 80), (6, 80, 100)),  # a lower tier above a higher one
                  ((3, 0, 50), (5, 50, 80), (6, 80, 100))):  # a tier missing
        with pytest.raises(InvalidInput) as refused:
            validate_bands(bands)
        assert refused.value.code == "tier_bands_invalid"
    with pytest.raises(InvalidInput):
        ScorecardSettings(bands=((3, 0, 50), (4, 55, 65), (5, 65, 80), (6, 80, 100)))


ALL_GATES = {3: True, 4: True, 5: True, 6: True}


def test_promotion_at_once_demotion_only_after_two_evaluations_below_the_band_less_the_margin():
    s = ScorecardSettings()  # 3: 0-55, 4: 55-70, 5: 70-85, 6: 85-100; margin 5
    assert next_standing(0, 0, 60, ALL_GATES, s) == scorecards.Move(4, False, 0, None)  # new provider rated
    assert next_standing(0, 0, 60, {3: True}, s).tier == 3  # gated
    assert next_standing(0, 0, 90, {3: False}, s).tier == 0  # short of every gate: unrated
    assert next_standing(4, 0, 72, ALL_GATES, s) == scorecards.Move(5, False, 0, None)  # promoted at once
    # 6 stars waits for two admins: 5 now, 6 pending.
    assert next_standing(4, 0, 90, ALL_GATES, s) == scorecards.Move(5, False, 0, 6)
    # Just under the band (within the margin): at risk, no count toward demotion.
    assert next_standing(5, 0, 67, ALL_GATES, s) == scorecards.Move(5, True, 0, None)
    # Below the band less the margin: at risk first, demoted at the second in a row.
    first = next_standing(5, 0, 60, ALL_GATES, s)
    assert first == scorecards.Move(5, True, 1, None)
    assert next_standing(5, first.below_count, 60, ALL_GATES, s) == scorecards.Move(4, False, 0, None)
    # A recovery in between starts the count again.
    recovered = next_standing(5, first.below_count, 75, ALL_GATES, s)
    assert recovered == scorecards.Move(5, False, 0, None)
    assert next_standing(5, recovered.below_count, 60, ALL_GATES, s).tier == 5


async def test_the_job_evaluates_once_per_moment_in_any_process_and_tiers_reach_recommendations():
    T = _as_of(2043)
    merchant, provider = await new_actor("merchant"), await new_actor("provider", categories=UNRECOMMENDED)
    await _contract(merchant, provider, T - 400 * DAY, T - 10 * DAY, status="completed")
    # Two processes at once: one evaluation stored, one standing move.
    stored = await asyncio.gather(scorecards.evaluate_batch([provider.org_id], T, SETTINGS),
                                  scorecards.evaluate_batch([provider.org_id], T, SETTINGS))
    assert sorted(stored) == [0, 1]
    assert await scorecards.evaluate_batch([provider.org_id], T, SETTINGS) == 0
    assert await Evaluation.count().where(Evaluation.provider == provider.org_id) == 1
    standing = await Standing.select().where(Standing.provider == provider.org_id).first()
    assert standing["tier"] == 3 and standing["evaluated_as_of"] == T
    # The tenders domain's recommendations read tiers through the wired hook, in one batch.
    lookup = wiring().hooks(TenderHooks).provider_tiers
    stranger = await new_actor("provider", categories=UNRECOMMENDED)
    assert await lookup([provider.org_id, stranger.org_id]) == {provider.org_id: 3}
    # The whole job: every provider at the moment, once.
    rated_before = {row["provider"] for row in await Standing.select(Standing.provider)}
    first = await scorecards.evaluate_due(T + 7 * DAY, settings=SETTINGS)
    again = await scorecards.evaluate_due(T + 7 * DAY, settings=SETTINGS)
    assert first["evaluated"] >= 2 and again["evaluated"] == 0
    assert await Evaluation.count().where(Evaluation.provider == provider.org_id) == 2
    # Other tests' providers leave as they came: their recommendations rank them without tiers.
    ours = [provider.org_id, stranger.org_id]
    await Evaluation.delete().where((Evaluation.as_of == T + 7 * DAY) & Evaluation.provider.not_in(ours))
    await Standing.delete().where(Standing.provider.not_in([*rated_before, *ours]))


async def test_stored_evaluations_promote_at_once_and_demote_only_at_the_second_below_the_margin():
    # The brand grade alone makes the composite (the other weights are 0).
    only_brand = ScorecardSettings(weights={"operating": 0, "brand": 100, "service": 0, "growth": 0})
    T = _as_of(2045)
    provider = await new_actor("provider", categories=UNRECOMMENDED)
    for _ in range(2):  # two completed contracts with two merchants: the 4-star gates
        await _contract(await new_actor("merchant"), provider, T - 400 * DAY, T - 100 * DAY, status="completed")
    standings = []
    for week, score in enumerate((60, 52, 45, 45, 72)):
        moment = T + week * 7 * DAY
        await BrandGrade(provider=provider.org_id, score=score, evidence="Graded.", graded_by=provider.user_id,
                         graded_at=moment - DAY, expires_at=moment + 365 * DAY).save()
        assert await scorecards.evaluate_batch([provider.org_id], moment, only_brand) == 1
        row = await Standing.select().where(Standing.provider == provider.org_id).first()
        standings.append((row["tier"], row["at_risk"], row["below_count"]))
    assert standings == [
        (4, False, 0),  # 60 clears the 4-star band (55): rated 4 stars
        (4, True, 0),  # 52: under the band but within the margin (50): at risk
        (4, True, 1),  # 45: below the margin once: still 4 stars, at risk
        (3, False, 0),  # 45 again: demoted
        (4, False, 0),  # 72 clears the 5-star band, but 5 stars needs 5 completed contracts: promoted to 4 at once
    ]
    history = await Evaluation.select(Evaluation.tier_before, Evaluation.tier_after).where(
        Evaluation.provider == provider.org_id).order_by(Evaluation.as_of)
    assert [(row["tier_before"], row["tier_after"]) for row in history] == [(0, 4), (4, 4), (4, 4), (4, 3), (3, 4)]
