"""Live chat over real WebSocket connections to a real server process: delivery in
order and once, resends stored once, resume by position, routing by capacity and the
queue, closing and rating, error frames, and the SLA events the chat appends."""

from __future__ import annotations

import asyncio
import uuid

from chat.tables import Conversation, Message, Seat
from sla.tables import ServiceEvent
from tests.integration.chat.conftest import agent_client, buyer_client, open_conversation, shop_with_contract, ws_url


async def test_a_buyers_messages_reach_the_agent_in_order_once_and_each_is_acknowledged(chat_server):
    merchant, provider, contract_id, (agent,) = await shop_with_contract()
    console = await agent_client(chat_server, agent)
    buyer, visitor = await buyer_client(chat_server, merchant.org_id)
    conversation = await open_conversation(buyer)
    assigned = await console.next("assigned", conversation=conversation)
    await console.send({"type": "subscribe", "conversation": assigned["conversation"], "last_seq": 0})
    await console.next("subscribed", conversation=conversation)
    for number in range(1, 21):
        await buyer.send({"type": "send", "conversation": conversation, "client_id": f"m{number}",
                          "text": f"Does size {number} fit?"})
    acks = [await buyer.next("ack", client_id=f"m{number}") for number in range(1, 21)]
    assert [a["seq"] for a in acks] == list(range(1, 21))
    await console.next("message", seq=20)
    seen = console.messages(conversation)
    assert [m["seq"] for m in seen] == list(range(1, 21))
    assert [m["text"] for m in seen] == [f"Does size {n} fit?" for n in range(1, 21)]
    await console.send({"type": "send", "conversation": conversation, "client_id": "r1", "text": "Yes, <b>it</b> fits."})
    reply = await buyer.next("message", seq=21)
    assert reply["sender"] == "agent" and reply["text"] == "Yes, <b>it</b> fits."  # stored as typed; views escape
    kinds = [row["kind"] for row in await ServiceEvent.select(ServiceEvent.kind).where(
        ServiceEvent.contract == contract_id).order_by(ServiceEvent.id)]
    assert kinds == ["conversation_opened", *["buyer_message"] * 20, "agent_reply"]
    await buyer.close()
    await console.close()


async def test_a_resend_with_the_same_client_id_is_stored_once(chat_server):
    merchant, _, _, (agent,) = await shop_with_contract()
    buyer, _ = await buyer_client(chat_server, merchant.org_id)
    conversation = await open_conversation(buyer)
    for _ in range(3):
        await buyer.send({"type": "send", "conversation": conversation, "client_id": "same", "text": "Hello?"})
    acks = [await buyer.next("ack", client_id="same") for _ in range(3)]
    assert {a["seq"] for a in acks} == {acks[0]["seq"]} and [a["duplicate"] for a in acks] == [False, True, True]
    assert await Message.count().where((Message.conversation == conversation) & (Message.text == "Hello?")) == 1
    await buyer.close()


async def test_a_view_that_reconnects_with_its_last_seq_gets_exactly_what_it_missed(chat_server):
    merchant, _, _, (agent,) = await shop_with_contract()
    console = await agent_client(chat_server, agent)
    buyer, _ = await buyer_client(chat_server, merchant.org_id)
    conversation = await open_conversation(buyer)
    await console.next("assigned", conversation=conversation)
    await console.send({"type": "subscribe", "conversation": conversation})
    await console.next("subscribed", conversation=conversation)
    for number in range(1, 6):
        await buyer.send({"type": "send", "conversation": conversation, "client_id": f"a{number}", "text": f"a{number}"})
    await console.next("message", seq=5)
    await console.close()
    for number in range(6, 12):
        await buyer.send({"type": "send", "conversation": conversation, "client_id": f"a{number}", "text": f"a{number}"})
    await buyer.next("ack", client_id="a11")
    again = await agent_client(chat_server, agent, online=False)
    await again.send({"type": "subscribe", "conversation": conversation, "last_seq": 5})
    await again.next("subscribed", conversation=conversation)
    assert [m["seq"] for m in again.messages(conversation)] == list(range(6, 12))
    await buyer.send({"type": "send", "conversation": conversation, "client_id": "a12", "text": "a12"})
    await again.next("message", seq=12)
    assert [m["seq"] for m in again.messages(conversation)] == list(range(6, 13))
    await again.close()
    await buyer.close()


async def test_new_conversations_go_to_free_capacity_and_wait_in_the_queue_with_a_notice(chat_server):
    merchant, provider, _, (agent,) = await shop_with_contract(capacity=1)
    console = await agent_client(chat_server, agent)
    first, _ = await buyer_client(chat_server, merchant.org_id)
    second, _ = await buyer_client(chat_server, merchant.org_id)
    one = await open_conversation(first)
    await console.next("assigned", conversation=one)
    two = await open_conversation(second)
    waiting = await second.next("message", conversation=two, sender="system")
    assert "number 1 in the queue" in waiting["text"]
    row = await Conversation.select(Conversation.status).where(Conversation.id == two).first()
    assert row["status"] == "queued"
    await console.send({"type": "close", "conversation": one})
    await first.next("closed", conversation=one)
    await console.next("assigned", conversation=two)
    seat = await Seat.select(Seat.load).where(Seat.user == agent.user_id).first()
    assert seat["load"] == 1
    # The buyer rates once; a second rating is refused with an error frame.
    await first.send({"type": "rate", "conversation": one, "rating": 5, "comment": "Quick and kind"})
    await first.next("rated", conversation=one)
    await first.send({"type": "rate", "conversation": one, "rating": 1})
    refused = await first.next("error")
    assert refused["code"] == "already_rated"
    for client in (first, second, console):
        await client.close()


async def test_bad_frames_get_error_frames_and_leave_other_connections_alone(chat_server):
    merchant, _, _, _ = await shop_with_contract()
    buyer, _ = await buyer_client(chat_server, merchant.org_id)
    conversation = await open_conversation(buyer)
    bystander, _ = await buyer_client(chat_server, merchant.org_id)
    other = await open_conversation(bystander)
    await buyer.connection.send("not json")
    assert (await buyer.next("error"))["code"] == "malformed_frame"
    await buyer.send({"type": "dance"})
    assert (await buyer.next("error"))["code"] == "unknown_frame_type"
    await buyer.send({"type": "send", "conversation": conversation, "client_id": "long", "text": "x" * 4001})
    assert (await buyer.next("error", ref="long"))["code"] == "message_too_long"
    await buyer.send({"type": "send", "conversation": str(uuid.uuid4()), "client_id": "nowhere", "text": "hi"})
    assert (await buyer.next("error", ref="nowhere"))["code"] == "conversation_not_found"
    await buyer.send({"type": "subscribe", "conversation": other})  # someone else's conversation
    assert (await buyer.next("error"))["code"] == "conversation_not_found"
    for number in range(40):  # far past the burst
        await buyer.send({"type": "send", "conversation": conversation, "client_id": f"f{number}", "text": "spam"})
    limited = await buyer.next("error", code="rate_limited")
    assert limited["retry_after"] == 1
    for _ in range(10):
        await buyer.connection.send("{")
    await asyncio.sleep(0.5)
    assert buyer.closed_code == 4400
    await bystander.send({"type": "send", "conversation": other, "client_id": "ok", "text": "still here"})
    assert (await bystander.next("ack", client_id="ok"))["seq"] >= 1
    await bystander.close()


async def test_a_socket_without_credentials_is_closed_as_unauthorised(chat_server):
    from websockets.asyncio.client import connect

    connection = await connect(ws_url(chat_server) + "?visitor_token=fv1.forged.token.0.sig")
    text = await connection.recv()
    assert '"visitor_token_invalid"' in text
    await asyncio.sleep(0.2)
    try:
        await connection.recv()
    except Exception:
        pass
    assert connection.close_code == 4401


async def test_buyers_opening_at_once_all_reach_an_agent_with_room(chat_server):
    """Concurrent assignments hold the one agent's seat in turn: none of them may
    queue a conversation while the agent still has room."""
    merchant, _, _, (agent,) = await shop_with_contract(capacity=30)
    console = await agent_client(chat_server, agent)
    buyers = [await buyer_client(chat_server, merchant.org_id) for _ in range(12)]
    opened = await asyncio.gather(*(open_conversation(buyer) for buyer, _ in buyers))
    statuses = await Conversation.select(Conversation.status).where(Conversation.id.is_in(list(opened)))
    assert [row["status"] for row in statuses] == ["assigned"] * 12
    assert not any(frame.get("sender") == "system" for buyer, _ in buyers for frame in buyer.frames)
    for conversation in opened:
        await console.next("assigned", conversation=conversation)
    assert (await Seat.select(Seat.load).where(Seat.user == agent.user_id).first())["load"] == 12
    for client in [console, *(buyer for buyer, _ in buyers)]:
        await client.close()


async def test_visitor_tokens_are_limited_per_address(client, monkeypatch):
    from tests.conftest import new_actor

    merchant = await new_actor("merchant")
    monkeypatch.setenv("FUWU_VISITOR_TOKENS_PER_MINUTE", "3")
    answers = [await client.get(f"/api/v1/shops/{merchant.org_id}/visitor-token", headers={"X-Test": str(n)})
               for n in range(6)]
    statuses = [a.status_code for a in answers]
    assert 429 in statuses and statuses.count(200) <= 3, statuses
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert answers[0].json()["visitor"].startswith("v-")  # a new visitor gets an id to keep
    document = (await client.get("/schema/openapi.json")).json()
    assert "429" in document["paths"]["/api/v1/shops/{shop_id}/visitor-token"]["get"]["responses"]
