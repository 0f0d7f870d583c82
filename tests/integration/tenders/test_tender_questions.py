"""Questions and answers (DESIGN.md section 2): providers who can see a tender ask
until the questions deadline; the merchant answers once; every provider who can see
the tender reads every answer; the asker is only a pseudonym, stable per tender."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import give_tier, pass_bid_deadline, pass_questions_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def _ask(client, provider, tid, text):
    return await client.post(tender_url(provider, tid, "/questions"), json={"text": text}, headers=provider.headers)


async def _answer(client, merchant, tid, qid, answer):
    return await client.post(tender_url(merchant, tid, f"/questions/{qid}/answer"), json={"answer": answer},
                             headers=merchant.headers)


async def test_providers_ask_until_the_questions_deadline(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tender = await published_tender(client, merchant)
    tid = tender["id"]
    asked = await _ask(client, provider, tid, "  Is weekend cover included?  ")
    assert asked.status_code == 201, asked.text
    question = asked.json()
    assert question["text"] == "Is weekend cover included?" and question["answer"] is None and question["mine"] is True
    assert re.fullmatch(r"Bidder [0-9A-F]{6}", question["pseudonym"])
    told = (await client.get("/api/v1/notifications", headers=merchant.headers)).json()["items"]
    assert [n["kind"] for n in told if tid in n["link"]] == ["question_asked"]
    await pass_questions_deadline(tid)
    late = assert_problem(await _ask(client, provider, tid, "And public holidays?"), 409, "questions_closed")
    assert "Questions closed at" in late["detail"]
    listed = (await client.get(tender_url(provider, tid, "/questions"), headers=provider.headers)).json()["items"]
    assert [q["text"] for q in listed] == ["Is weekend cover included?"]
    # The merchant may still answer until bidding closes.
    assert (await _answer(client, merchant, tid, question["id"], "Yes.")).status_code == 200


async def test_questions_refused_once_bidding_closed_or_cancelled(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    closed = (await published_tender(client, merchant))["id"]
    question = (await _ask(client, provider, closed, "Is weekend cover included?")).json()
    await pass_bid_deadline(closed)
    assert_problem(await _ask(client, provider, closed, "Still there?"), 409, "questions_closed")
    assert_problem(await _answer(client, merchant, closed, question["id"], "Too late."), 409, "tender_not_published")
    cancelled = (await published_tender(client, merchant))["id"]
    await client.post(tender_url(merchant, cancelled, "/cancel"), json={"reason": "Budget cut"}, headers=merchant.headers)
    assert_problem(await _ask(client, provider, cancelled, "Why cancelled?"), 409, "questions_closed")


async def test_answer_is_visible_to_every_provider_who_can_see_the_tender(client):
    merchant = await new_actor("merchant")
    asker, reader = await new_actor("provider"), await new_actor("provider")
    outsider = await new_actor("provider", categories=["video"])
    tid = (await published_tender(client, merchant))["id"]
    qid = (await _ask(client, asker, tid, "Do you need English coverage at night?")).json()["id"]
    answered = await _answer(client, merchant, tid, qid, "  Yes, until 24:00.  ")
    assert answered.status_code == 200
    assert answered.json()["answer"] == "Yes, until 24:00." and answered.json()["answered_at"]
    for provider, mine in ((asker, True), (reader, False)):
        listed = (await client.get(tender_url(provider, tid, "/questions"), headers=provider.headers)).json()["items"]
        assert [(q["id"], q["answer"], q["mine"]) for q in listed] == [(qid, "Yes, until 24:00.", mine)]
    merchant_view = (await client.get(tender_url(merchant, tid, "/questions"), headers=merchant.headers)).json()["items"]
    assert merchant_view[0]["answer"] == "Yes, until 24:00." and merchant_view[0]["mine"] is False
    assert_problem(await client.get(tender_url(outsider, tid, "/questions"), headers=outsider.headers), 404)
    # Answered once: changing the terms is an amendment.
    assert_problem(await _answer(client, merchant, tid, qid, "No."), 409, "question_already_answered")
    last = (await client.get(tender_url(merchant, tid, "/questions"), headers=merchant.headers)).json()["items"][0]
    assert last["answer"] == "Yes, until 24:00."


async def test_answers_on_an_invited_tender_reach_only_those_who_can_see_it(client):
    merchant = await new_actor("merchant")
    invited, uninvited = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant, visibility="invited"))["id"]
    await give_tier(invited)
    await client.post(tender_url(merchant, tid, "/invitations"), json={"provider_ids": [str(invited.org_id)]},
                      headers=merchant.headers)
    qid = (await _ask(client, invited, tid, "Is the brief final?")).json()["id"]
    await _answer(client, merchant, tid, qid, "Yes.")
    assert (await client.get(tender_url(invited, tid, "/questions"), headers=invited.headers)).json()["items"][0]["answer"] == "Yes."
    assert_problem(await client.get(tender_url(uninvited, tid, "/questions"), headers=uninvited.headers), 404)
    told = (await client.get("/api/v1/notifications", headers=invited.headers)).json()["items"]
    assert "question_answered" in [n["kind"] for n in told if tid in n["link"]]


async def test_only_the_merchant_writers_answer_and_only_provider_bidders_ask(client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    provider = await new_actor("provider")
    agent = await add_member(provider, "agent")
    tid = (await published_tender(client, merchant))["id"]
    assert_problem(await _ask(client, merchant, tid, "Can merchants ask?"), 404)
    assert_problem(await _ask(client, agent, tid, "Can agents ask?"), 403, "role_not_allowed")
    qid = (await _ask(client, provider, tid, "Fine to ask?")).json()["id"]
    assert_problem(await _answer(client, provider, tid, qid, "I answer myself"), 404)
    assert_problem(await _answer(client, evaluator, tid, qid, "Evaluator answer"), 403, "role_not_allowed")
    assert_problem(await _answer(client, merchant, tid, "0b7c3c39-9f57-4c0e-9d61-000000000000", "Who?"), 404,
                   "question_not_found")
    assert_problem(await _ask(client, provider, tid, "no"), 400, "invalid_input")


async def test_asker_is_a_stable_pseudonym_and_never_named(client):
    merchant = await new_actor("merchant")
    asker, other = await new_actor("provider"), await new_actor("provider")
    manager = await add_member(asker, "manager")
    tid = (await published_tender(client, merchant))["id"]
    second_tender = (await published_tender(client, merchant))["id"]
    first = (await _ask(client, asker, tid, "What is the peak volume?")).json()
    again = (await _ask(client, manager, tid, "And the off-peak volume?")).json()
    others = (await _ask(client, other, tid, "Which ticketing tool?")).json()
    elsewhere = (await _ask(client, asker, second_tender, "Same question elsewhere?")).json()
    assert first["pseudonym"] == again["pseudonym"]  # one provider, one pseudonym within a tender
    assert others["pseudonym"] != first["pseudonym"]
    assert elsewhere["pseudonym"] != first["pseudonym"]  # unrelated across tenders
    answered = await _answer(client, merchant, tid, first["id"], "About 3,000 a day.")

    org = (await client.get(f"/api/v1/orgs/{asker.org_id}", headers=asker.headers)).json()
    secrets = [org["name"], str(asker.org_id), str(asker.user_id), asker.email, asker.name, str(manager.user_id),
               manager.email, manager.name]
    seen = [
        answered.text,
        (await client.get(tender_url(merchant, tid, "/questions"), headers=merchant.headers)).text,
        (await client.get(tender_url(other, tid, "/questions"), headers=other.headers)).text,
        (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).text,
        (await client.get(f"/api/v1/orgs/{merchant.org_id}/audit", headers=merchant.headers)).text,
        (await client.get("/api/v1/notifications", headers=merchant.headers)).text,
        (await client.get("/api/v1/notifications", headers=other.headers)).text,
        (await client.get(tender_url(merchant, tid), headers=merchant.headers)).text,
    ]
    for text in seen:
        for secret in secrets:
            assert secret not in text, (secret, text[:400])
    listed = json.loads(seen[1])["items"]
    assert {q["pseudonym"] for q in listed} == {first["pseudonym"], others["pseudonym"]}
    assert set(listed[0]) == {"id", "pseudonym", "text", "asked_at", "answer", "answered_at", "mine"}


async def test_the_asker_is_told_when_its_question_is_answered(client):
    from tests.conftest import new_actor
    from tests.tendering import published_tender, tender_url

    merchant = await new_actor("merchant")
    asker = await new_actor("provider")
    tender = await published_tender(client, merchant)
    question = (await client.post(tender_url(asker, tender["id"], "/questions"), json={"text": "Night shifts?"},
                                  headers=asker.headers)).json()
    await client.post(tender_url(merchant, tender["id"], f"/questions/{question['id']}/answer"),
                      json={"answer": "Yes."}, headers=merchant.headers)
    told = (await client.get("/api/v1/notifications", headers=asker.headers)).json()["items"]
    assert any(n["kind"] == "question_answered" for n in told)


async def test_questions_come_in_cursor_pages_oldest_first(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    asked = [(await _ask(client, provider, tid, f"Question number {n}?")).json()["id"] for n in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(tender_url(merchant, tid, "/questions"), params=params, headers=merchant.headers)).json()
        assert len(page["items"]) <= 2
        seen += [q["id"] for q in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == asked and pages == 3
    assert_problem(await client.get(tender_url(merchant, tid, "/questions"), params={"cursor": "garbage"},
                                    headers=merchant.headers), 422, "invalid_cursor")
