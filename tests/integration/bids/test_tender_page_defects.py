"""The tender page and its audit timeline after questions, bids and the award (issue 8,
point 19): the merchant's page names the winner and no longer says the bids are open
to evaluators; a provider who has bid is not offered to decline the invitation; the
tender's audit timeline shows its questions and answers, without naming the asker."""

from __future__ import annotations

import re

import pytest

from tests.conftest import add_member, new_actor, web_login
from tests.tendering import bid_body, give_tier, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")
PRICE_ONLY = [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 100, "price": True}]}]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_after_the_award_the_tender_page_names_the_winner(client, make_client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    cheap, dear = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant, rounds=PRICE_ONLY))["id"]
    for provider, price in ((cheap, 3_500_000), (dear, 5_000_000)):
        assert (await client.post(tender_url(provider, tid, "/bid"), json=bid_body(price),
                                  headers=provider.headers)).status_code == 201
    await pass_bid_deadline(tid)
    browser = await make_client()
    await web_login(browser, evaluator)
    before = text_of((await browser.get(f"/tenders/{tid}")).text)
    assert "the bids are open to your evaluators" in before

    assert (await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)).status_code == 200
    closed = await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    assert closed.status_code == 200, closed.text
    winner = next(e for e in closed.json()["entries"] if e["rank"] == 1)
    awarded = await client.post(tender_url(merchant, tid, "/award"), headers=merchant.headers,
                                json={"bid_id": winner["bid_id"], "reason": ""})
    assert awarded.status_code in (200, 201), awarded.text

    cheap_name = (await client.get(f"/api/v1/orgs/{cheap.org_id}", headers=cheap.headers)).json()["name"]
    for person in (merchant, evaluator):
        viewer = await make_client()
        await web_login(viewer, person)
        after = text_of((await viewer.get(f"/tenders/{tid}")).text)
        assert "the bids are open to your evaluators" not in after
        assert f"Awarded to {cheap_name} on" in after


async def test_a_provider_who_has_bid_is_not_offered_to_decline_the_invitation(client, make_client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    await give_tier(provider)
    tid = (await published_tender(client, merchant, visibility="invited"))["id"]
    invited = await client.post(tender_url(merchant, tid, "/invitations"), headers=merchant.headers,
                                json={"provider_ids": [str(provider.org_id)]})
    assert invited.status_code in (200, 201), invited.text
    browser = await make_client()
    await web_login(browser, provider)
    page = await browser.get(f"/tenders/{tid}")
    assert 'data-testid="decline-form"' in page.text  # invited, not yet bid: may decline

    assert (await client.post(tender_url(provider, tid, "/bid"), json=bid_body(),
                              headers=provider.headers)).status_code == 201
    page = await browser.get(f"/tenders/{tid}")
    assert page.status_code == 200
    assert 'data-testid="decline-form"' not in page.text
    assert "Decline the invitation" not in page.text


async def test_the_tender_audit_timeline_shows_its_questions_and_answers_without_naming_the_asker(client, make_client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    asked = await client.post(tender_url(provider, tid, "/questions"), headers=provider.headers,
                              json={"text": "Do you need English coverage at night?"})
    assert asked.status_code == 201, asked.text
    question = asked.json()
    answered = await client.post(tender_url(merchant, tid, f"/questions/{question['id']}/answer"),
                                 headers=merchant.headers, json={"answer": "Yes, until 24:00."})
    assert answered.status_code == 200

    browser = await make_client()
    await web_login(browser, merchant)
    timeline = await browser.get(f"/tenders/{tid}/audit")
    assert timeline.status_code == 200
    events = re.findall(r"<li>(.*?)</li>", timeline.text, re.S)
    question_events = [text_of(e) for e in events if question["id"][:8] in e]
    assert len(question_events) == 2, events
    asked_event = next(e for e in question_events if "Yes, until 24:00." not in e)
    assert question["pseudonym"] in asked_event
    assert provider.name not in timeline.text
    assert any("Yes, until 24:00." in e for e in question_events)
    # The tender's own events are still there.
    assert len(events) >= 3
