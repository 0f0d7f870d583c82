"""Chat across server processes sharing one database and Redis: delivery from one
process to another, a process killed with SIGKILL in the middle of a conversation
(nothing acknowledged is lost once the client reconnects to the other), and routing
that never assigns past an agent's capacity when two processes assign at once."""

from __future__ import annotations

import asyncio

import pytest

from chat.tables import Conversation, Message, Seat
from tests.integration.chat.conftest import (
    agent_client,
    buyer_client,
    needs_redis,
    open_conversation,
    shop_with_contract,
)
from tests.servers import servers


@pytest.fixture(scope="module")
def two_servers(database):
    needs_redis()
    with servers(2) as started:
        yield started


async def test_a_message_sent_to_one_process_reaches_a_view_on_the_other(two_servers):
    a, b = two_servers
    merchant, _, _, (agent,) = await shop_with_contract()
    console = await agent_client(b, agent)
    buyer, _ = await buyer_client(a, merchant.org_id)
    conversation = await open_conversation(buyer)
    await console.next("assigned", conversation=conversation)
    await console.send({"type": "subscribe", "conversation": conversation})
    await console.next("subscribed", conversation=conversation)
    for number in range(1, 11):
        await buyer.send({"type": "send", "conversation": conversation, "client_id": f"x{number}", "text": str(number)})
    await console.next("message", seq=10)
    assert [m["seq"] for m in console.messages(conversation)] == list(range(1, 11))
    await console.send({"type": "typing", "conversation": conversation})
    assert (await buyer.next("typing", conversation=conversation))["sender"] == "agent"
    await buyer.close()
    await console.close()


async def test_a_killed_process_loses_nothing_acknowledged(database):
    needs_redis()
    merchant, _, _, (agent,) = await shop_with_contract()
    with servers(2) as (doomed, survivor):
        buyer, visitor = await buyer_client(doomed, merchant.org_id)
        conversation = await open_conversation(buyer)
        acknowledged = []
        for number in range(1, 31):
            await buyer.send({"type": "send", "conversation": conversation, "client_id": f"k{number}",
                              "text": f"k{number}"})
        for number in range(1, 31):
            try:
                ack = await buyer.next("ack", client_id=f"k{number}", timeout=2)
            except AssertionError:
                break
            acknowledged.append(ack["seq"])
            if number == 15:
                doomed.kill()  # SIGKILL in the middle of the conversation
        assert len(acknowledged) >= 15
        again, _ = await buyer_client(survivor, merchant.org_id, visitor)
        await again.send({"type": "subscribe", "conversation": conversation, "last_seq": 0})
        await again.next("subscribed", conversation=conversation)
        seqs = [m["seq"] for m in again.messages(conversation)]
        assert set(acknowledged) <= set(seqs) and seqs == sorted(set(seqs)) == list(range(1, len(seqs) + 1))
        # Resending what was not acknowledged stores each once.
        for number in range(1, 31):
            await again.send({"type": "send", "conversation": conversation, "client_id": f"k{number}",
                              "text": f"k{number}"})
        await again.next("ack", client_id="k30")
        assert await Message.count().where((Message.conversation == conversation)
                                           & (Message.sender_kind == "buyer")) == 30
        await again.close()


async def test_two_processes_assigning_at_once_never_pass_an_agents_capacity(two_servers):
    a, b = two_servers
    merchant, provider, _, (agent,) = await shop_with_contract(capacity=2)
    console = await agent_client(a, agent)
    buyers = [await buyer_client(server, merchant.org_id) for server in (a, b) * 5]
    await asyncio.gather(*(client.send({"type": "open"}) for client, _ in buyers))
    opened = [await client.next("opened", timeout=10) for client, _ in buyers]
    await asyncio.sleep(0.5)
    ids = [frame["conversation"] for frame in opened]
    rows = await Conversation.select(Conversation.status, Conversation.agent).where(Conversation.id.is_in(ids))
    assert sum(1 for row in rows if row["status"] == "assigned") == 2
    assert sum(1 for row in rows if row["status"] == "queued") == 8
    seat = await Seat.select(Seat.load).where(Seat.user == agent.user_id).first()
    assert seat["load"] == 2
    await console.close()
    for client, _ in buyers:
        await client.close()
