"""Live chat in real browsers: a buyer opens the widget on the sample shop page, an
agent answers from the console, typing and read receipts show on both sides, the
agent closes, the buyer rates, and the contract's SLA panel (open on the merchant's
screen, not reloaded) shows the new first-response sample. Screenshots of the widget
(desktop and 390 px) and of the console; no page scrolls sideways. Also: the widget
in Chinese, the queue, a reload; a dropped frame each way and a cut connection; the
customer's earlier conversations and a transfer from the console."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from playwright.async_api import expect

from chat.tables import CannedReply, Conversation, Message
from fuwu.clock import now
from sla.tables import SlaTarget
from tests.e2e.conftest import screenshot_path
from tests.e2e.test_tendering_flow import logged_in_page
from tests.integration.chat.conftest import agent_client, buyer_client, open_conversation, shop_with_contract

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


async def _no_sideways_scroll(page, what: str) -> None:
    scroll_width, inner_width = await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"{what} scrolls sideways at {inner_width} px: {scroll_width} px"


async def test_a_buyer_chats_with_an_agent_rates_and_the_sla_panel_follows(new_page):
    merchant, provider, contract_id, (agent,) = await shop_with_contract()
    await SlaTarget(contract=contract_id, metric="first_response_time", statistic="mean", comparator="<=", target=60,
                    window="month", weight=100, credit_percent=5).save()

    await CannedReply(organisation=provider.org_id, title="Delivery", text="We ship within 48 hours.").save()
    console = await logged_in_page(new_page, agent)
    console.on("dialog", lambda dialog: dialog.accept())
    await console.goto("/console")
    await expect(console.get_by_test_id("link-state")).to_have_attribute("data-state", "connected")
    await console.get_by_test_id("presence").select_option("online")

    boss = await logged_in_page(new_page, merchant)
    await boss.goto(f"/contracts/{contract_id}")
    await expect(boss.get_by_test_id("sla-samples")).to_have_text("0")

    buyer = await new_page()
    await buyer.goto(f"/shops/{merchant.org_id}")
    await expect(buyer.get_by_test_id("shop")).to_be_visible()
    await buyer.get_by_test_id("chat-button").click()
    panel = buyer.get_by_test_id("chat-panel")
    await expect(panel).to_be_visible()
    await buyer.get_by_test_id("chat-input").fill("Is the silk scarf <in stock>?")
    await buyer.get_by_test_id("chat-input").press("Enter")
    own = buyer.get_by_test_id("chat-log").get_by_test_id("chat-message").filter(has_text="Is the silk scarf")
    await expect(own).to_have_count(1)

    # The agent gets it (routed to the only agent online) and the console marks it read.
    log = console.get_by_test_id("console-log")
    await expect(log).to_contain_text("Is the silk scarf <in stock>?")  # shown as typed, not as markup
    await expect(console.get_by_test_id("mine-item")).to_have_count(1)
    await expect(own.get_by_test_id("chat-receipt")).to_have_text("Read")

    # Typing shows on both sides.
    await console.get_by_test_id("console-text").press_sequentially("Yes")
    await expect(buyer.get_by_test_id("chat-typing")).to_be_visible()
    await buyer.get_by_test_id("chat-input").press_sequentially("ok")
    await expect(console.get_by_test_id("console-typing")).to_be_visible()
    await buyer.get_by_test_id("chat-input").fill("")

    await console.get_by_test_id("console-text").fill("Yes, <b>three</b> left in red.")
    await console.get_by_test_id("console-send").click()
    answer = buyer.get_by_test_id("chat-message").filter(has_text="three")
    await expect(answer).to_have_text("Agent" + "Yes, <b>three</b> left in red." + await answer.locator(
        ".fuwu-chat-meta").text_content())
    assert await answer.locator("b").count() == 0  # text, never markup
    reply = log.get_by_test_id("console-message").filter(has_text="three")
    await expect(reply.get_by_test_id("console-receipt")).to_have_text("Read")  # the buyer has the panel open

    # The merchant's SLA panel took the new first-response sample without a reload.
    await expect(boss.get_by_test_id("sla-samples")).to_have_text("1")
    await expect(boss.get_by_test_id("sla-value")).to_be_visible()

    # A canned reply goes into the reply box, to be sent as it is or changed.
    await console.get_by_test_id("canned").select_option(label="Delivery")
    await expect(console.get_by_test_id("console-text")).to_have_value("We ship within 48 hours.")
    await console.get_by_test_id("console-send").click()
    await expect(buyer.get_by_test_id("chat-message").filter(has_text="We ship within 48 hours.")).to_have_count(1)

    await buyer.set_viewport_size(DESKTOP)
    await _no_sideways_scroll(buyer, "the shop page with the chat open")
    await buyer.screenshot(path=screenshot_path("chat-widget-1280.png"))
    await _no_sideways_scroll(console, "the console")
    await console.screenshot(path=screenshot_path("chat-console-1280.png"), full_page=True)
    await console.set_viewport_size(PHONE)
    await _no_sideways_scroll(console, "the console")
    await console.screenshot(path=screenshot_path("chat-console-390.png"), full_page=True)

    # The agent closes; the buyer is asked for a rating and gives it once.
    await console.set_viewport_size(DESKTOP)
    await console.get_by_test_id("close-conversation").click()
    rate = buyer.get_by_test_id("chat-rate")
    await expect(rate).to_be_visible()
    await buyer.set_viewport_size(PHONE)
    box = await panel.bounding_box()
    assert box["width"] >= PHONE["width"] - 1 and box["height"] >= PHONE["height"] - 1  # full screen on a phone
    await _no_sideways_scroll(buyer, "the widget on a phone")
    await buyer.screenshot(path=screenshot_path("chat-widget-390.png"))
    await rate.get_by_text("5", exact=True).click()
    await buyer.get_by_test_id("chat-rate-comment").fill("Quick and kind.")
    await buyer.get_by_test_id("chat-rate-send").click()
    await expect(buyer.get_by_test_id("chat-rated")).to_be_visible()
    await expect(rate).to_be_hidden()
    rated = await Conversation.select(Conversation.rating, Conversation.rating_comment, Conversation.status).where(
        Conversation.shop == merchant.org_id).first()
    assert rated == {"rating": 5, "rating_comment": "Quick and kind.", "status": "closed"}
    await expect(console.get_by_test_id("console-log")).to_contain_text("This conversation is closed.")


async def test_the_widget_speaks_the_pages_language_queues_and_keeps_the_chat_across_a_reload(new_page):
    merchant, provider, contract_id, (agent,) = await shop_with_contract()  # the agent is offline
    buyer = await new_page(locale="zh-CN")
    await buyer.set_viewport_size(PHONE)
    await buyer.goto(f"/shops/{merchant.org_id}")
    await expect(buyer.locator("html")).to_have_attribute("lang", "zh-Hans")
    button = buyer.get_by_test_id("chat-button")
    await expect(button).to_have_text("联系客服")
    await button.click()
    # Opening the panel starts nothing: the conversation begins with the first message.
    await expect(buyer.get_by_test_id("chat-status")).to_have_text("请在下方输入您的问题。")
    assert await Conversation.count().where(Conversation.shop == merchant.org_id) == 0
    await buyer.get_by_test_id("chat-input").fill("有红色的吗？")
    await buyer.get_by_test_id("chat-send").click()
    # Nobody online: the conversation waits, and the notice gives the place in the queue.
    await expect(buyer.get_by_test_id("chat-status")).to_have_text("正在等待客服")
    await expect(buyer.get_by_test_id("chat-log")).to_contain_text(re.compile(r"客服都在忙。.*第 1 位"))
    own = buyer.get_by_test_id("chat-log").get_by_test_id("chat-message").filter(has_text="有红色的吗？")
    await expect(own.get_by_test_id("chat-receipt")).to_have_text("已发送")
    await _no_sideways_scroll(buyer, "the widget in Chinese on a phone")

    # A reload keeps the visitor and the conversation: the same messages, each once.
    await buyer.reload()
    await buyer.get_by_test_id("chat-button").click()
    await expect(own).to_have_count(1)
    await expect(buyer.get_by_test_id("chat-log").get_by_test_id("chat-message")).to_have_count(2)
    assert await Conversation.count().where(Conversation.shop == merchant.org_id) == 1


async def test_the_widget_fills_a_gap_and_resends_what_was_not_acknowledged_after_a_reconnect(new_page, live_server):
    """Between the widget and the server sits a relay that can drop one frame each way
    and cut the connection (Playwright's WebSocket routing): a message lost on its way
    to the widget is fetched again in order, and a message whose send never reached
    the server is sent again after the reconnect and stored once."""
    merchant, provider, contract_id, (agent,) = await shop_with_contract()
    server = type("Server", (), {"url": live_server})()
    console = await agent_client(server, agent)
    relay = {"drop_seq": None, "drop_sends": False, "dropped": [], "sockets": []}

    def route(ws):
        upstream = ws.connect_to_server()
        relay["sockets"].append(ws)

        def from_page(message):
            frame = json.loads(message)
            if relay["drop_sends"] and frame.get("type") == "send":
                relay["dropped"].append(frame)
                return
            upstream.send(message)

        def from_server(message):
            frame = json.loads(message)
            if frame.get("type") == "message" and frame.get("seq") == relay["drop_seq"]:
                relay["drop_seq"] = None
                return
            ws.send(message)

        ws.on_message(from_page)
        upstream.on_message(from_server)

    buyer = await new_page()
    await buyer.route_web_socket(re.compile(r".*/ws/chat.*"), route)
    await buyer.goto(f"/shops/{merchant.org_id}")
    await buyer.get_by_test_id("chat-button").click()
    await buyer.get_by_test_id("chat-input").fill("Hello?")
    await buyer.get_by_test_id("chat-input").press("Enter")
    conversation = (await console.next("assigned"))["conversation"]
    await console.send({"type": "subscribe", "conversation": conversation, "last_seq": 0})
    await console.next("message", seq=1)
    messages = buyer.get_by_test_id("chat-log").get_by_test_id("chat-message")
    await expect(messages).to_have_count(1)

    # The fast path loses seq 2 on its way to the widget: seq 3 shows the gap.
    relay["drop_seq"] = 2
    for number, text in ((1, "First answer"), (2, "Second answer")):
        await console.send({"type": "send", "conversation": conversation, "client_id": f"r{number}", "text": text})
        await console.next("ack", client_id=f"r{number}")
    await expect(messages).to_have_count(3)
    texts = await messages.locator(".fuwu-chat-text").all_text_contents()
    assert texts == ["Hello?", "First answer", "Second answer"]

    # A send that never reaches the server stays pending; after the connection drops,
    # the widget reconnects, and sends it again.
    relay["drop_sends"] = True
    await buyer.get_by_test_id("chat-input").fill("Still there?")
    await buyer.get_by_test_id("chat-input").press("Enter")
    await expect(buyer.get_by_text("Sending…")).to_be_visible()
    assert [f["text"] for f in relay["dropped"]] == ["Still there?"]
    relay["drop_sends"] = False
    await relay["sockets"][-1].close(code=4409, reason="resync")
    await expect(messages).to_have_count(4, timeout=15_000)
    await expect(buyer.get_by_text("Sending…")).to_have_count(0)
    assert len(relay["sockets"]) >= 2
    assert (await console.next("message", seq=4))["text"] == "Still there?"
    assert await Message.count().where((Message.conversation == conversation) & (Message.text == "Still there?")) == 1
    await console.close()


async def test_an_agent_sees_the_customers_earlier_conversation_and_transfers_to_a_colleague(new_page, live_server):
    merchant, provider, contract_id, (agent, colleague) = await shop_with_contract(agents=2)
    server = type("Server", (), {"url": live_server})()
    console = await logged_in_page(new_page, agent)
    await console.goto("/console")
    await expect(console.get_by_test_id("link-state")).to_have_attribute("data-state", "connected")
    await console.get_by_test_id("presence").select_option("online")

    buyer, visitor = await buyer_client(server, merchant.org_id)
    earlier = Conversation(kind="shop", shop=merchant.org_id, provider=provider.org_id, buyer=visitor,
                           status="closed", opened_at=now() - datetime.timedelta(days=3), rating=4)
    await earlier.save()
    conversation = await open_conversation(buyer)
    await buyer.send({"type": "send", "conversation": conversation, "client_id": "b1", "text": "My parcel is late."})
    await buyer.next("ack", client_id="b1")
    await expect(console.get_by_test_id("console-log")).to_contain_text("My parcel is late.")
    past = console.get_by_test_id("earlier-item")
    await expect(past).to_have_count(1)
    await expect(past.get_by_role("link")).to_have_attribute("href", f"/conversations/{earlier.id}")

    # The colleague comes online; the console offers them and hands the conversation over.
    other = await agent_client(server, colleague)
    transfer = console.get_by_test_id("transfer")
    await expect(transfer.locator("option").first).to_have_attribute("value", str(colleague.user_id))
    await transfer.get_by_role("button").click()
    assert (await other.next("assigned"))["conversation"] == conversation
    await expect(console.get_by_test_id("mine-item")).to_have_count(1)  # still shown while it is open here
    assigned = await Conversation.select(Conversation.agent).where(Conversation.id == conversation).first()
    assert assigned["agent"] == colleague.user_id
    await other.close()
    await buyer.close()
