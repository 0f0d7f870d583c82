"""Tender validation (DESIGN.md section 2): every invalid draft, edit or publication
gets a clear 4xx problem and changes nothing."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from fuwu.clock import now
from fuwu.settings import get_settings
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import give_tier, iso, tender_body, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def _snapshot(client, merchant) -> dict:
    """What the merchant can see of its own tenders and its organisation's audit log."""
    tenders = (await client.get(tender_url(merchant), headers=merchant.headers)).json()
    audit = (await client.get(f"/api/v1/orgs/{merchant.org_id}/audit", headers=merchant.headers)).json()
    return {"tenders": tenders, "audit": audit}


def _in(**delta) -> str:
    return iso(now() + datetime.timedelta(**delta))


_TWO_HOURS = _in(hours=2)


INVALID_DRAFTS = [
    pytest.param({"questions_deadline": _in(hours=3), "bid_deadline": _in(hours=2)}, 422, "deadlines_out_of_order",
                 id="questions-after-bid"),
    pytest.param({"questions_deadline": _TWO_HOURS, "bid_deadline": _TWO_HOURS}, 422, "deadlines_out_of_order",
                 id="questions-equal-bid"),
    pytest.param({"bid_deadline": _in(days=8)}, 422, "deadlines_out_of_order", id="bid-after-evaluation-end"),
    pytest.param({"bid_deadline": "2030-01-01T00:00:00"}, 422, "deadlines_out_of_order", id="naive-deadline"),
    pytest.param({"rounds": [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                                      {"name": "Team", "weight": 50}]}]},
                 422, "criteria_weights_not_100", id="weights-90"),
    pytest.param({"rounds": [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                                      {"name": "Team", "weight": 60}]},
                             {"kind": "presentation", "criteria": [{"name": "Pitch", "weight": 70},
                                                                   {"name": "Price", "weight": 40, "price": True}]}]},
                 422, "criteria_weights_not_100", id="second-round-weights-110"),
    pytest.param({"rounds": [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 50, "price": True},
                                                                      {"name": "Cost", "weight": 50, "price": True}]}]},
                 422, "rounds_invalid", id="two-price-criteria"),
    pytest.param({"rounds": [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 100, "price": True}]},
                             {"kind": "proposal_review", "criteria": [{"name": "Team", "weight": 100}]}]},
                 422, "rounds_invalid", id="round-kind-twice"),
    pytest.param({"budget_min": 7_000_000, "budget_max": 6_000_000}, 422, "budget_range_invalid", id="budget-min-over-max"),
    pytest.param({"category": "photography"}, 422, "requirements_invalid", id="cs-requirements-on-photography"),
    pytest.param({"requirements": {"seats": 0}}, 422, "requirements_invalid", id="zero-seats"),
    pytest.param({"requirements": {"seats": 3, "time_zone": "Mars/Olympus"}}, 422, "requirements_invalid",
                 id="unknown-time-zone"),
    pytest.param({"category": "design", "requirements": {"deliverables": []}}, 422, "requirements_invalid",
                 id="design-without-deliverables"),
    pytest.param({"category": "video", "requirements": {"videos": 2, "seats": 4}}, 422, "requirements_invalid",
                 id="unknown-requirement-field"),
    pytest.param({"category": "furniture"}, 400, "invalid_input", id="unknown-category"),
    pytest.param({"budget_max": -1}, 400, "invalid_input", id="negative-budget"),
]


@pytest.mark.parametrize(("overrides", "status", "code"), INVALID_DRAFTS)
async def test_invalid_draft_is_refused_and_changes_nothing(client, overrides, status, code):
    merchant = await new_actor("merchant")
    before = await _snapshot(client, merchant)
    response = await client.post(tender_url(merchant), json=tender_body(**overrides), headers=merchant.headers)
    assert_problem(response, status, code)
    assert await _snapshot(client, merchant) == before


async def test_weights_error_names_the_round_and_its_total(client):
    merchant = await new_actor("merchant")
    body = tender_body(rounds=[{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                                       {"name": "Team", "weight": 60}]},
                               {"kind": "site_inspection", "criteria": [{"name": "Site", "weight": 95}]}])
    problem = assert_problem(await client.post(tender_url(merchant), json=body, headers=merchant.headers), 422,
                             "criteria_weights_not_100")
    assert "round 2" in problem["detail"] and "95" in problem["detail"]


async def test_invalid_edit_of_a_draft_leaves_the_draft_as_it_was(client):
    merchant = await new_actor("merchant")
    created = await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)
    tid = created.json()["id"]
    before = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    audit_before = (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json()
    for change, code in (({"budget_min": 9_000_000}, "budget_range_invalid"),
                         ({"questions_deadline": _in(days=30)}, "deadlines_out_of_order"),
                         ({"requirements": {"skus": 10}}, "requirements_invalid"),
                         ({"rounds": [{"kind": "proposal_review", "criteria": [{"name": "Team", "weight": 99}]}]},
                          "criteria_weights_not_100")):
        assert_problem(await client.patch(tender_url(merchant, tid), json=change, headers=merchant.headers), 422, code)
    assert_problem(await client.patch(tender_url(merchant, tid), json={}, headers=merchant.headers), 422,
                   "nothing_changed")
    assert (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json() == before
    assert (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json() == audit_before


async def test_valid_edit_of_a_draft_is_audited_with_before_and_after(client):
    merchant = await new_actor("merchant")
    tid = (await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)).json()["id"]
    edited = await client.patch(tender_url(merchant, tid), json={"budget_max": 6_500_000}, headers=merchant.headers)
    assert edited.status_code == 200 and edited.json()["budget_max"] == 6_500_000
    assert edited.json()["amendment_count"] == 0  # a draft edit is not an amendment
    events = (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json()["items"]
    assert [e["action"] for e in events] == ["draft_updated", "created"]
    assert events[0]["before"] == {"budget_max": 6_000_000} and events[0]["after"] == {"budget_max": 6_500_000}


async def _draft(client, merchant, **overrides) -> str:
    created = await client.post(tender_url(merchant), json=tender_body(**overrides), headers=merchant.headers)
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def _assert_still_an_unpublished_draft(client, merchant, tid, invited=None) -> None:
    tender = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    assert tender["status"] == "draft" and tender["published_at"] is None
    actions = [e["action"] for e in (await client.get(tender_url(merchant, tid, "/audit"),
                                                      headers=merchant.headers)).json()["items"]]
    assert "status_published" not in actions
    if invited is not None:
        told = (await client.get("/api/v1/notifications", headers=invited.headers)).json()["items"]
        assert not [n for n in told if tid in n["link"]]
        hidden = await client.get(tender_url(invited, tid), headers=invited.headers)
        assert_problem(hidden, 404, "tender_not_found")


async def test_publishing_without_deadlines_is_refused(client):
    merchant = await new_actor("merchant")
    invited = await new_actor("provider")
    tid = await _draft(client, merchant, questions_deadline=None, bid_deadline=None, evaluation_end=None)
    await give_tier(invited)
    await client.post(tender_url(merchant, tid, "/invitations"), json={"provider_ids": [str(invited.org_id)]},
                      headers=merchant.headers)
    problem = assert_problem(await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers), 422,
                             "deadlines_out_of_order")
    assert "questions deadline" in problem["detail"]
    await _assert_still_an_unpublished_draft(client, merchant, tid, invited)


async def test_publishing_with_only_some_deadlines_is_refused(client):
    merchant = await new_actor("merchant")
    tid = await _draft(client, merchant, evaluation_end=None)
    problem = assert_problem(await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers), 422,
                             "deadlines_out_of_order")
    assert "evaluation end" in problem["detail"]
    await _assert_still_an_unpublished_draft(client, merchant, tid)


async def test_publishing_with_a_past_questions_deadline_is_refused(client):
    merchant = await new_actor("merchant")
    tid = await _draft(client, merchant, questions_deadline=_in(minutes=-5))
    assert_problem(await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers), 422,
                   "deadline_in_past")
    await _assert_still_an_unpublished_draft(client, merchant, tid)


async def test_publishing_with_too_short_bidding_time_is_refused(client, monkeypatch):
    settings = dataclasses.replace(get_settings(), min_bidding_seconds=3600)
    monkeypatch.setattr("tenders.services.lifecycle.get_settings", lambda: settings)
    merchant = await new_actor("merchant")
    tid = await _draft(client, merchant, questions_deadline=_in(minutes=10), bid_deadline=_in(minutes=30))
    problem = assert_problem(await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers), 422,
                             "bidding_period_too_short")
    assert "bid deadline" in problem["detail"]
    await _assert_still_an_unpublished_draft(client, merchant, tid)
    # Moving the deadline out makes it publishable.
    moved = await client.patch(tender_url(merchant, tid), json={"bid_deadline": _in(minutes=70)}, headers=merchant.headers)
    assert moved.status_code == 200, moved.text
    published = await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers)
    assert published.status_code == 200 and published.json()["status"] == "published"


async def test_publishing_without_a_budget_maximum_is_refused(client):
    merchant = await new_actor("merchant")
    tid = await _draft(client, merchant, budget_min=0, budget_max=0)
    assert_problem(await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers), 422,
                   "budget_range_invalid")
    await _assert_still_an_unpublished_draft(client, merchant, tid)


async def test_only_owners_and_operators_write_tenders(client):
    merchant = await new_actor("merchant")
    operator = await add_member(merchant, "operator")
    evaluator = await add_member(merchant, "evaluator")
    provider = await new_actor("provider")
    assert (await client.post(tender_url(operator), json=tender_body(), headers=operator.headers)).status_code == 201
    assert_problem(await client.post(tender_url(evaluator), json=tender_body(), headers=evaluator.headers), 403,
                   "role_not_allowed")
    assert_problem(await client.post(tender_url(provider), json=tender_body(), headers=provider.headers), 404)
    # Another organisation's path is not found, whoever asks.
    assert_problem(await client.post(tender_url(merchant), json=tender_body(), headers=provider.headers), 404)
