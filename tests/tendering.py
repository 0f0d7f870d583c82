"""Helpers for tendering tests: a published tender, bids, and moving the clock of a
tender past its deadlines (by moving the deadlines, since server time is the clock)."""

from __future__ import annotations

import datetime
import uuid

from fuwu.clock import now
from tenders.services.lifecycle import bid_grace
from tenders.tables import Tender
from tests.conftest import Actor


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


def parse_time(text: str) -> datetime.datetime:
    """A time as the API writes it."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def tender_body(**overrides) -> dict:
    moment = now()
    body = {
        "category": "cs_presales",
        "title": "Pre-sales customer service for our Tmall flagship store",
        "brief": "Peak season 11.11; apparel; 2,000 conversations a day.",
        "requirements": {"seats": 12, "coverage_hours": "09:00-24:00", "time_zone": "Asia/Shanghai",
                         "daily_conversations": 2000, "languages": ["zh", "en"]},
        "budget_min": 3_000_000, "budget_max": 6_000_000, "currency": "CNY",
        "pricing_models": ["periodic_fee", "metered"],
        "sla_targets": [{"metric": "first_response_time", "statistic": "mean", "comparator": "<=", "target": 25,
                         "window": "month", "weight": 50, "service_credit_percent": 5}],
        "rounds": [
            {"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                     {"name": "Team and experience", "weight": 60}]},
            {"kind": "presentation", "criteria": [{"name": "Pitch", "weight": 70},
                                                  {"name": "Price", "weight": 30, "price": True}]},
        ],
        "visibility": "public",
        "min_bids": 1,
        "questions_deadline": iso(moment + datetime.timedelta(hours=1)),
        "bid_deadline": iso(moment + datetime.timedelta(hours=2)),
        "evaluation_end": iso(moment + datetime.timedelta(days=7)),
    }
    body.update(overrides)
    return body


def bid_body(price: int = 4_000_000, **overrides) -> dict:
    body = {
        "price_amount": price, "pricing_model": "periodic_fee", "currency": "CNY",
        "proposal": "12 trained agents, 09:00-24:00, first response under 20 s.",
        "valid_until": iso(now() + datetime.timedelta(days=90)),
        "sla_commitment": [{"metric": "first_response_time", "statistic": "mean", "comparator": "<=",
                            "target": 20, "window": "month"}],
        "team": {"seats": 12, "agents": ["Sun Li", "Ma Jun"], "lead": "Liu Yang"},
    }
    body.update(overrides)
    return body


def tender_url(actor: Actor, tender_id=None, suffix: str = "") -> str:
    base = f"/api/v1/orgs/{actor.org_id}/tenders"
    return f"{base}/{tender_id}{suffix}" if tender_id else base


async def published_tender(client, merchant: Actor, **overrides) -> dict:
    created = await client.post(tender_url(merchant), json=tender_body(**overrides), headers=merchant.headers)
    assert created.status_code == 201, created.text
    published = await client.post(tender_url(merchant, created.json()["id"], "/publish"), headers=merchant.headers)
    assert published.status_code == 200, published.text
    return published.json()


async def pass_questions_deadline(tender_id) -> None:
    await Tender.update({Tender.questions_deadline: now() - datetime.timedelta(seconds=1)}).where(Tender.id == tender_id)


async def pass_bid_deadline(tender_id) -> None:
    """As if time moved past the bid deadline and the grace after it in which bids
    received in time still commit (the questions deadline too): bidding is due to close."""
    moment = now() - bid_grace()
    await Tender.update({Tender.questions_deadline: moment - datetime.timedelta(seconds=2),
                         Tender.bid_deadline: moment - datetime.timedelta(seconds=1)}).where(Tender.id == tender_id)


async def enter_bid_grace(tender_id, seconds_ago: float = 1.0) -> None:
    """As if the bid deadline passed `seconds_ago` seconds ago, within the grace: the
    tender is still sealed and takes only bids received before the deadline."""
    moment = now()
    await Tender.update({Tender.questions_deadline: moment - datetime.timedelta(seconds=seconds_ago + 1),
                         Tender.bid_deadline: moment - datetime.timedelta(seconds=seconds_ago)}).where(
        Tender.id == tender_id)


async def give_tier(*providers, tier: int = 4) -> None:
    """Gives providers (actors or organisation ids) a tier, as the ratings domain's
    evaluations would: every new provider is unrated, the lowest standing, which
    cannot be invited to tenders."""
    from fuwu.db import fetch
    from ratings.sql import ENSURE_STANDING
    from ratings.tables import Standing

    for provider in providers:
        org_id = getattr(provider, "org_id", provider)
        await fetch(ENSURE_STANDING, uuid.uuid4(), org_id, now())
        await Standing.update({Standing.tier: tier}).where(Standing.provider == org_id)
