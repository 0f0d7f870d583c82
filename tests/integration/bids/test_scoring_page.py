"""Scoring a whole round on one page (issue 8, point 21): every bid of the round with
its proposal, team, SLA commitment and files beside the round's criteria; all scores
saved with one post in one transaction; a failed save stores nothing and brings the
page back with what was typed and the error beside the field."""

from __future__ import annotations

import html
import re

import pytest

from bids.tables import Score
from tests.conftest import add_member, new_actor, web_login
from tests.integration.bids.test_bid_pages import post_form
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

# Price (index 0) is scored automatically; Quality (1) and Team (2) by the evaluators.
ROUNDS = [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                   {"name": "Quality", "weight": 30},
                                                   {"name": "Team", "weight": 30}]}]


async def _round_in_evaluation(client) -> tuple:
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant, rounds=ROUNDS))["id"]
    bids = {}
    for provider, lead, proposal in ((alpha, "Liu Yang", "Alpha: twelve trained agents, night cover."),
                                     (beta, "Zhao Min", "Beta: eight agents and a chatbot.")):
        body = bid_body(proposal=proposal, team={"seats": 12, "agents": ["Sun Li"], "lead": lead})
        response = await client.post(tender_url(provider, tid, "/bid"), json=body, headers=provider.headers)
        assert response.status_code == 201, response.text
        bids[provider.org_id] = response.json()["id"]
    upload = await client.post(tender_url(alpha, tid, "/bid/attachments"), headers=alpha.headers,
                               files={"data": ("alpha-plan.pdf", b"%PDF-1.4 staffing plan", "application/pdf")})
    assert upload.status_code == 201, upload.text
    await pass_bid_deadline(tid)
    started = await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)
    assert started.status_code == 200, started.text
    return merchant, alpha, beta, tid, bids


def _value(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    assert match, f"no field {name}"
    return html.unescape(match.group(1))


def _comment(page: str, name: str) -> str:
    match = re.search(rf'<textarea name="{re.escape(name)}"[^>]*>([^<]*)</textarea>', page)
    assert match, f"no comment field {name}"
    return html.unescape(match.group(1))


async def test_the_round_page_shows_every_bid_beside_the_criteria(client, make_client):
    merchant, alpha, beta, tid, bids = await _round_in_evaluation(client)
    evaluator = await add_member(merchant, "evaluator")
    browser = await make_client()
    await web_login(browser, evaluator)
    evaluation = (await browser.get(f"/tenders/{tid}/evaluation")).text
    assert f'href="/tenders/{tid}/rounds/1/scoring"' in evaluation
    page = await browser.get(f"/tenders/{tid}/rounds/1/scoring")
    assert page.status_code == 200, page.text[:500]
    shown = page.text
    assert shown.count('data-testid="scoring-bid"') == 2
    for text in ("Alpha: twelve trained agents, night cover.", "Beta: eight agents and a chatbot.", "Liu Yang",
                 "Zhao Min", "alpha-plan.pdf", "First response time"):
        assert text in shown, text
    for bid_id in bids.values():
        assert f'name="score-{bid_id}-1"' in shown and f'name="score-{bid_id}-2"' in shown
        assert f'name="score-{bid_id}-0"' not in shown, "price is scored automatically"
    assert shown.count("<form") - shown.count('action="/language"') - shown.count('action="/switch-org"') \
        - shown.count('action="/logout"') == 1, "one form for the whole round"


async def test_all_scores_of_a_round_are_saved_with_one_post(client, make_client):
    merchant, alpha, beta, tid, bids = await _round_in_evaluation(client)
    browser = await make_client()
    await web_login(browser, merchant)
    page = f"/tenders/{tid}/rounds/1/scoring"
    a, b = bids[alpha.org_id], bids[beta.org_id]
    saved = await post_form(browser, page, page, {
        f"score-{a}-1": "8", f"score-{a}-2": "7.5", f"comment-{a}-1": "Clear staffing plan",
        f"score-{b}-1": "6", f"score-{b}-2": "9",
    })
    assert saved.status_code == 303, saved.text[:800]
    assert saved.headers["location"] == f"{page}?saved=1"
    shown = (await browser.get(saved.headers["location"])).text
    assert "Your scores were saved." in shown
    assert [_value(shown, f"score-{a}-1"), _value(shown, f"score-{a}-2")] == ["8", "7.5"]
    assert [_value(shown, f"score-{b}-1"), _value(shown, f"score-{b}-2")] == ["6", "9"]
    assert _comment(shown, f"comment-{a}-1") == "Clear staffing plan"
    # Every bid now has a score on every criterion: the round closes.
    closed = await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    assert closed.status_code == 200, closed.text
    totals = {entry["bid_id"]: entry["score"] for entry in closed.json()["entries"]}
    assert totals[a] == pytest.approx(40 + 24 + 22.5) and totals[b] == pytest.approx(40 + 18 + 27)
    # A closed round's page says so and offers no form.
    after = (await browser.get(page)).text
    assert "This round is closed; its scores are final." in after and 'data-testid="scoring-form"' not in after


async def test_a_failed_save_stores_nothing_and_keeps_what_was_typed(client, make_client):
    merchant, alpha, beta, tid, bids = await _round_in_evaluation(client)
    browser = await make_client()
    await web_login(browser, merchant)
    page = f"/tenders/{tid}/rounds/1/scoring"
    a, b = bids[alpha.org_id], bids[beta.org_id]
    typed = {f"score-{a}-1": "8", f"comment-{a}-1": "Strong <plan> & team", f"score-{b}-1": "11",
             f"score-{b}-2": "abc"}
    failed = await post_form(browser, page, page, typed)
    assert failed.status_code == 422
    shown = failed.text
    assert "Nothing was saved" in shown
    # The error sits beside each wrong field, and every field keeps what was typed.
    for name in (f"score-{b}-1", f"score-{b}-2"):
        assert re.search(rf'id="{name}"[^>]*aria-invalid="true"', shown.replace("\n", " "))
        assert f'id="{name}-error"' in shown
    assert shown.count('data-testid="field-error"') == 2
    assert _value(shown, f"score-{a}-1") == "8" and _value(shown, f"score-{b}-1") == "11"
    assert _value(shown, f"score-{b}-2") == "abc"
    assert _comment(shown, f"comment-{a}-1") == "Strong <plan> & team"
    assert await Score.count().where(Score.round.tender == tid) == 0

    # A refusal by the rules (the price criterion is scored automatically) is one
    # transaction too: the valid score of the other bid is not stored either.
    refused = await post_form(browser, page, page, {f"score-{a}-1": "8", f"score-{b}-0": "5"})
    assert refused.status_code == 422 and "The price criterion is scored automatically." in refused.text
    assert _value(refused.text, f"score-{a}-1") == "8"
    assert await Score.count().where(Score.round.tender == tid) == 0

    empty = await post_form(browser, page, page, {})
    assert empty.status_code == 422 and "Enter at least one score from 0 to 10." in empty.text


async def test_the_round_page_is_for_the_merchants_team_only(client, make_client):
    merchant, alpha, beta, tid, bids = await _round_in_evaluation(client)
    browser = await make_client()
    await web_login(browser, alpha)
    assert (await browser.get(f"/tenders/{tid}/rounds/1/scoring")).status_code == 404
    team = await make_client()
    await web_login(team, merchant)
    assert (await team.get(f"/tenders/{tid}/rounds/2/scoring")).status_code == 404
