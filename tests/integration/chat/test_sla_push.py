"""The contract page's live SLA panel is pushed, not polled: an agent's reply in a
conversation under a contract sends the `sla` frame to every member's socket of both
parties (also members without a chat seat), and the panel's fragment then shows the
new first-response sample."""

from __future__ import annotations

import asyncio

import httpx

from sla.tables import SlaTarget
from tests.authz import sign_in
from tests.conftest import add_member
from tests.integration.chat.conftest import agent_client, buyer_client, open_conversation, shop_with_contract


async def test_an_agents_reply_tells_both_parties_sockets_and_the_panel_counts_it(chat_server, client):
    merchant, provider, contract_id, (agent,) = await shop_with_contract()
    await SlaTarget(contract=contract_id, metric="first_response_time", statistic="mean", comparator="<=", target=30,
                    window="month", weight=100, credit_percent=5).save()
    evaluator = await add_member(merchant, "evaluator")  # no chat seat: follows the contract page only
    stranger_merchant, _, _, _ = await shop_with_contract()
    watchers = [await agent_client(chat_server, person, online=False) for person in (evaluator, provider)]
    for watcher in watchers:  # as the contract page does
        await watcher.send({"type": "watch_sla", "contract": str(contract_id)})
        await watcher.next("watching", contract=str(contract_id))
    outsider = await agent_client(chat_server, stranger_merchant, online=False)
    await outsider.send({"type": "watch_sla", "contract": str(contract_id)})
    assert (await outsider.next("error"))["code"] == "contract_not_found"
    console = await agent_client(chat_server, agent)
    buyer, _ = await buyer_client(chat_server, merchant.org_id)
    conversation = await open_conversation(buyer)
    await console.next("assigned", conversation=conversation)
    await sign_in(client, evaluator)
    before = await client.get(f"/contracts/{contract_id}/sla-panel")
    assert before.status_code == 200 and 'data-testid="sla-samples">0<' in before.text
    await buyer.send({"type": "send", "conversation": conversation, "client_id": "q1", "text": "Is it silk?"})
    await buyer.next("ack", client_id="q1")

    await console.send({"type": "send", "conversation": conversation, "client_id": "a1", "text": "Yes, pure silk."})
    await console.next("ack", client_id="a1")
    for watcher in watchers:
        assert (await watcher.next("sla"))["contract"] == str(contract_id)
    await asyncio.sleep(0.3)
    assert not [f for f in outsider.frames if f.get("type") == "sla"]  # other organisations hear nothing
    assert not [f for f in console.frames if f.get("type") == "sla"]  # a console watches no contract page

    # Replies in a burst (under load, many a second) tell the page once at once and once
    # more at the end of the second: the last change is never lost, the page is not flooded.
    for number in range(2, 7):
        await console.send({"type": "send", "conversation": conversation, "client_id": f"a{number}",
                            "text": f"Also {number}"})
        await console.next("ack", client_id=f"a{number}")
    await asyncio.sleep(1.5)
    for watcher in watchers:
        told = [f for f in watcher.frames if f.get("type") == "sla"]
        assert 2 <= len(told) <= 3, told

    after = await client.get(f"/contracts/{contract_id}/sla-panel")
    assert 'data-testid="sla-samples">1<' in after.text
    await asyncio.sleep(1.1)  # answered: the sample's clock has stopped
    assert (await client.get(f"/contracts/{contract_id}/sla-panel")).text == after.text
    page = await client.get(f"/contracts/{contract_id}")
    assert 'src="/static/chat/sla-live.js"' in page.text and f'data-sla-live="/contracts/{contract_id}/sla-panel"' in page.text
    for socket in (*watchers, outsider, console, buyer):
        await socket.close()


async def test_the_panel_fragment_of_another_organisations_contract_is_not_found(client):
    merchant, _, contract_id, _ = await shop_with_contract()
    other, _, _, _ = await shop_with_contract()
    await sign_in(client, other)
    assert (await client.get(f"/contracts/{contract_id}/sla-panel")).status_code == 404
    async with httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url)) as anonymous:
        answer = await anonymous.get(f"/contracts/{contract_id}/sla-panel")
        assert answer.status_code in (302, 303) and "/login" in answer.headers["location"]
