"""Merchant <-> provider conversations (issue 10, first bullet) over real WebSocket
connections to a real server process and over real HTTP: one conversation per
(tender, provider in its evaluation) and per contract, even when both sides open at
once; the same delivery guarantees as a buyer's (seq, a resend stored once, resume
by the last seq); only the two organisations' members get in, sealed bids stay
sealed; not buyer service (no SLA events, no agent, no queue)."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from websockets.asyncio.client import connect

from chat.tables import Conversation, Message, Seat
from fuwu.tables import Organisation
from sla.tables import ServiceEvent
from tests.authz import sign_in
from tests.conftest import add_member, new_actor
from tests.integration.chat.conftest import Client, agent_client, shop_with_contract, ws_url
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

TWO_ROUNDS = [
    {"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                             {"name": "Quality", "weight": 60}]},
    {"kind": "presentation", "criteria": [{"name": "Pitch", "weight": 100}]},
]


async def _ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


async def tender_in_evaluation(client, shortlist: bool = True):
    """A two-round tender: alpha, beta and gamma bid; after round 1 alpha and beta are
    shortlisted and gamma is dropped. Returns (merchant, tender id, alpha, beta, gamma)."""
    merchant = await new_actor("merchant")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tid = (await published_tender(client, merchant, rounds=TWO_ROUNDS))["id"]
    bids = {}
    for provider in (alpha, beta, gamma):
        bids[provider.org_id] = (await _ok(await client.post(tender_url(provider, tid, "/bid"), json=bid_body(),
                                                      headers=provider.headers), 201))["id"]
    await pass_bid_deadline(tid)
    await _ok(await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers))
    if shortlist:
        for provider, quality in ((alpha, 9), (beta, 7), (gamma, 2)):
            await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=merchant.headers,
                                        json={"bid_id": bids[provider.org_id],
                                              "scores": [{"criterion": 1, "value": quality}]}))
        await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers))
        await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2},
                                    headers=merchant.headers))
    return merchant, tid, alpha, beta, gamma


async def member_client(server, actor) -> Client:
    return await agent_client(server, actor, online=False)


async def open_frame(client: Client, **fields) -> dict:
    await client.send({"type": "open", **fields})
    opened = await client.next("opened")
    await client.next("subscribed", conversation=opened["conversation"])
    return opened


async def test_a_tender_conversation_is_one_per_provider_and_keeps_every_delivery_guarantee(client, chat_server):
    merchant, tid, alpha, beta, _ = await tender_in_evaluation(client)
    alpha_agent = await add_member(alpha, "agent")
    seats_before = await Seat.count()
    boss = await member_client(chat_server, merchant)
    rep = await member_client(chat_server, alpha_agent)
    # Both sides open at the same moment, several times over: one conversation.
    await asyncio.gather(*[boss.send({"type": "open", "tender": tid, "provider": str(alpha.org_id)})
                           for _ in range(5)], *[rep.send({"type": "open", "tender": tid}) for _ in range(5)])
    opened = [await boss.next("opened") for _ in range(5)] + [await rep.next("opened") for _ in range(5)]
    conversation = opened[0]["conversation"]
    assert {frame["conversation"] for frame in opened} == {conversation}
    assert opened[0]["kind"] == "business" and opened[0]["tender"] == tid and opened[0]["status"] == "assigned"
    assert await Conversation.count().where(Conversation.tender == tid) == 1
    # Beta's conversation is another one.
    beta_view = await member_client(chat_server, beta)
    other = await open_frame(beta_view, tender=tid)
    assert other["conversation"] != conversation

    for number in range(1, 6):
        await boss.send({"type": "send", "conversation": conversation, "client_id": f"q{number}",
                         "text": f"Question {number} about your <pitch>"})
    acks = [await boss.next("ack", client_id=f"q{number}") for number in range(1, 6)]
    assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5]
    await rep.next("message", conversation=conversation, seq=5)
    seen = rep.messages(conversation)
    assert [m["seq"] for m in seen] == [1, 2, 3, 4, 5]
    assert {m["sender"] for m in seen} == {"merchant"} and seen[0]["text"] == "Question 1 about your <pitch>"
    assert beta_view.messages(conversation) == []  # the other bidder hears nothing of it

    # A resend with the same client id is stored once and acknowledged with the same seq.
    for _ in range(3):
        await rep.send({"type": "send", "conversation": conversation, "client_id": "a1", "text": "Answer"})
    again = [await rep.next("ack", client_id="a1") for _ in range(3)]
    assert {a["seq"] for a in again} == {6} and [a["duplicate"] for a in again] == [False, True, True]
    assert await Message.count().where((Message.conversation == conversation) & (Message.text == "Answer")) == 1
    reply = await boss.next("message", conversation=conversation, seq=6)
    assert reply["sender"] == "provider"

    # The provider's view goes away; what it missed comes on resume, exactly.
    await rep.close()
    for number in range(7, 10):
        await boss.send({"type": "send", "conversation": conversation, "client_id": f"q{number}", "text": f"q{number}"})
    await boss.next("ack", client_id="q9")
    back = await member_client(chat_server, alpha_agent)
    await back.send({"type": "subscribe", "conversation": conversation, "last_seq": 6})
    await back.next("subscribed", conversation=conversation)
    assert [m["seq"] for m in back.messages(conversation)] == [7, 8, 9]

    # Typing and read receipts name the party.
    await back.send({"type": "typing", "conversation": conversation})
    assert (await boss.next("typing", conversation=conversation))["sender"] == "provider"
    await back.send({"type": "read", "conversation": conversation, "seq": 9})
    assert (await boss.next("read", conversation=conversation))["reader"] == "provider"

    # Not buyer service: no SLA event, no agent, no seat taken; it is not closed or transferred.
    assert await ServiceEvent.count().where(ServiceEvent.conversation == conversation) == 0
    row = await Conversation.select().where(Conversation.id == conversation).first()
    assert row["agent"] is None and row["status"] == "assigned" and row["queued_at"] is None
    assert await Seat.count() == seats_before
    await back.send({"type": "close", "conversation": conversation})
    assert (await back.next("error"))["code"] == "business_conversation"
    await back.send({"type": "transfer", "conversation": conversation, "to": str(alpha.user_id)})
    assert (await back.next("error"))["code"] == "business_conversation"
    for view in (boss, back, beta_view):
        await view.close()


async def test_only_providers_in_the_evaluation_and_the_two_parties_get_in(client, chat_server):
    merchant, tid, alpha, beta, gamma = await tender_in_evaluation(client)
    stranger = await new_actor("provider")  # never bid
    other_merchant = await new_actor("merchant")
    boss = await member_client(chat_server, merchant)
    opened = await open_frame(boss, tender=tid, provider=str(alpha.org_id))
    conversation = opened["conversation"]
    await boss.send({"type": "send", "conversation": conversation, "client_id": "s1", "text": "Secret terms"})
    await boss.next("ack", client_id="s1")

    # Dropped at the shortlist, never bid, or another merchant: the same answer as for nothing.
    for actor, frame in ((gamma, {"tender": tid}), (stranger, {"tender": tid}),
                         (merchant, {"tender": tid, "provider": str(gamma.org_id)}),
                         (merchant, {"tender": tid, "provider": str(stranger.org_id)}),
                         (merchant, {"tender": tid, "provider": str(uuid.uuid4())}),
                         (other_merchant, {"tender": tid, "provider": str(alpha.org_id)}),
                         (stranger, {"tender": str(uuid.uuid4())})):
        view = await member_client(chat_server, actor)
        await view.send({"type": "open", **frame})
        error = await view.next("error")
        assert error["code"] == "conversation_not_found", (actor.name, frame, error)
        if actor is merchant:
            await view.close()
            continue
        # Nor can anyone but the two parties read or write the conversation.
        await view.send({"type": "subscribe", "conversation": conversation, "last_seq": 0})
        assert (await view.next("error"))["code"] == "conversation_not_found"
        await view.send({"type": "send", "conversation": conversation, "client_id": "x", "text": "let me in"})
        assert (await view.next("error"))["code"] == "conversation_not_found"
        assert view.messages(conversation) == []
        await view.close()
    beta_view = await member_client(chat_server, beta)  # shortlisted too, but not a party to alpha's
    await beta_view.send({"type": "subscribe", "conversation": conversation})
    assert (await beta_view.next("error"))["code"] == "conversation_not_found"
    await beta_view.close()
    assert await Message.count().where(Message.conversation == conversation) == 1
    assert await Conversation.count().where(Conversation.tender == tid) == 1
    # Over HTTP too: a transcript of someone else's conversation is a 404.
    await sign_in(client, stranger)
    assert (await client.get(f"/conversations/{conversation}")).status_code == 404
    await boss.close()


async def test_no_conversation_while_bids_are_sealed(client, chat_server):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _ok(await client.post(tender_url(bidder, tid, "/bid"), json=bid_body(), headers=bidder.headers), 201)
    for actor, frame in ((bidder, {"tender": tid}), (merchant, {"tender": tid, "provider": str(bidder.org_id)})):
        view = await member_client(chat_server, actor)
        await view.send({"type": "open", **frame})
        assert (await view.next("error"))["code"] == "conversation_not_found"
        await view.close()
    assert await Conversation.count().where(Conversation.tender == tid) == 0


async def test_every_provider_of_a_first_round_may_talk_before_any_shortlist(client, chat_server):
    merchant, tid, alpha, beta, gamma = await tender_in_evaluation(client, shortlist=False)
    view = await member_client(chat_server, gamma)
    opened = await open_frame(view, tender=tid)
    assert opened["kind"] == "business"
    await view.close()


async def test_a_contract_conversation_is_the_parties_own_and_no_sla_event(client, chat_server):
    merchant, provider, contract_id, (agent,) = await shop_with_contract()
    operator = await add_member(merchant, "operator")
    events_before = await ServiceEvent.count().where(ServiceEvent.contract == contract_id)
    views = [await member_client(chat_server, person) for person in (merchant, operator, provider, agent)]
    await asyncio.gather(*[view.send({"type": "open", "contract": str(contract_id)}) for view in views])
    opened = [await view.next("opened") for view in views]
    conversation = opened[0]["conversation"]
    assert {frame["conversation"] for frame in opened} == {conversation} and opened[0]["contract"] == str(contract_id)
    assert await Conversation.count().where(Conversation.topic == f"contract:{contract_id}") == 1
    for view in views:
        await view.next("subscribed", conversation=conversation)
    await views[3].send({"type": "send", "conversation": conversation, "client_id": "c1", "text": "Invoice sent"})
    await views[3].next("ack", client_id="c1")
    for view in views[:3]:
        message = await view.next("message", conversation=conversation, seq=1)
        assert message["sender"] == "provider" and message["text"] == "Invoice sent"
    # A provider's agent writing to the merchant is not a reply to a buyer: no SLA event, no `sla` frame.
    assert await ServiceEvent.count().where(ServiceEvent.contract == contract_id) == events_before
    assert not [f for f in views[0].frames if f.get("type") == "sla"]
    outsider = await member_client(chat_server, await new_actor("merchant"))
    await outsider.send({"type": "open", "contract": str(contract_id)})
    assert (await outsider.next("error"))["code"] == "conversation_not_found"
    await outsider.send({"type": "subscribe", "conversation": conversation})
    assert (await outsider.next("error"))["code"] == "conversation_not_found"
    for view in [*views, outsider]:
        await view.close()


async def test_a_members_open_needs_a_subject(chat_server):
    merchant = await new_actor("merchant")
    view = await member_client(chat_server, merchant)
    await view.send({"type": "open"})
    assert (await view.next("error"))["code"] == "malformed_frame"
    await view.send({"type": "open", "tender": "not-an-id"})
    assert (await view.next("error"))["code"] == "malformed_frame"
    await view.close()


# --- pages -------------------------------------------------------------------------------

async def org_name(actor) -> str:
    return (await Organisation.select(Organisation.name).where(Organisation.id == actor.org_id).first())["name"]


ID_IN_LINK = re.compile(r"/conversations/([0-9a-f-]{36})")


async def test_the_tender_page_opens_the_conversation_and_shows_it_live(client, make_client):
    merchant, tid, alpha, beta, gamma = await tender_in_evaluation(client)
    await sign_in(client, merchant)
    page = await client.get(f"/tenders/{tid}")
    assert page.status_code == 200
    panel = page.text.split('data-testid="tender-conversations"')[1].split("</section>")[0]
    names = {actor.org_id: await org_name(actor) for actor in (alpha, beta, gamma)}
    assert names[alpha.org_id] in panel and names[beta.org_id] in panel and names[gamma.org_id] not in panel
    assert panel.count('data-testid="start-conversation"') == 2
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    opened = await client.post(f"/tenders/{tid}/conversations", data={"_csrf_token": token,
                                                                      "provider": str(alpha.org_id)},
                               follow_redirects=False)
    assert opened.status_code == 303
    conversation = ID_IN_LINK.search(opened.headers["location"]).group(1)
    live = await client.get(f"/conversations/{conversation}")
    assert live.status_code == 200
    assert f'data-live-conversation="{conversation}"' in live.text and 'src="/static/chat/business.js"' in live.text
    assert names[alpha.org_id] in live.text and 'data-testid="live-compose"' in live.text
    script = await client.get("/static/chat/business.js")
    assert script.status_code == 200 and "innerHTML" not in script.text
    # The merchant's tender page now links to it; the list of conversations shows it under its kind.
    again = await client.get(f"/tenders/{tid}")
    assert f'href="/conversations/{conversation}"' in again.text
    listing = await client.get("/conversations", params={"kind": "business"})
    assert f"/conversations/{conversation}" in listing.text and "business-subject" in listing.text
    assert 'data-testid="conversation-row"' in listing.text
    buyers_only = await client.get("/conversations", params={"kind": "shop"})
    assert f"/conversations/{conversation}" not in buyers_only.text

    # Alpha sees the same conversation from its side; gamma (dropped) sees no block at all.
    alpha_client = await make_client()
    await sign_in(alpha_client, alpha)
    alpha_page = await alpha_client.get(f"/tenders/{tid}")
    assert f'href="/conversations/{conversation}"' in alpha_page.text
    assert names[beta.org_id] not in alpha_page.text.split('data-testid="tender-conversations"')[1].split("</section>")[0]
    token = re.search(r'name="_csrf_token" value="([^"]+)"', alpha_page.text).group(1)
    mine = await alpha_client.post(f"/tenders/{tid}/conversations", data={"_csrf_token": token},
                                   follow_redirects=False)
    assert ID_IN_LINK.search(mine.headers["location"]).group(1) == conversation
    gamma_client = await make_client()
    await sign_in(gamma_client, gamma)
    gamma_page = await gamma_client.get(f"/tenders/{tid}")
    assert gamma_page.status_code == 200 and 'data-testid="tender-conversations"' not in gamma_page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', gamma_page.text).group(1)
    refused = await gamma_client.post(f"/tenders/{tid}/conversations", data={"_csrf_token": token},
                                      follow_redirects=False)
    assert refused.status_code == 404
    assert (await gamma_client.get(f"/conversations/{conversation}")).status_code == 404


async def test_the_contract_page_opens_the_parties_conversation(client, make_client):
    merchant, provider, contract_id, _ = await shop_with_contract()
    await sign_in(client, provider)
    page = await client.get(f"/contracts/{contract_id}")
    assert page.status_code == 200 and 'data-testid="contract-conversation"' in page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    opened = await client.post(f"/contracts/{contract_id}/conversation", data={"_csrf_token": token},
                               follow_redirects=False)
    assert opened.status_code == 303
    conversation = ID_IN_LINK.search(opened.headers["location"]).group(1)
    merchant_client = await make_client()
    await sign_in(merchant_client, merchant)
    merchant_page = await merchant_client.get(f"/contracts/{contract_id}")
    assert f'href="/conversations/{conversation}"' in merchant_page.text
    assert (await merchant_client.get(f"/conversations/{conversation}")).status_code == 200
    outsider_client = await make_client()
    await sign_in(outsider_client, await new_actor("provider"))
    assert (await outsider_client.get(f"/conversations/{conversation}")).status_code == 404
