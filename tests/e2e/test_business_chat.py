"""A merchant and a provider talk about their contract in real browsers: the merchant
starts the conversation from the contract page, both have its page open, messages
show live on the other side (as typed, never as markup), typing and the read receipt
show, and a message written while the connection is cut is sent once it is back.
Screenshot of the conversation page at desktop and phone size."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from chat.tables import Message
from tests.e2e.conftest import screenshot_path
from tests.e2e.test_tendering_flow import logged_in_page
from tests.integration.chat.conftest import shop_with_contract

pytestmark = pytest.mark.e2e


async def test_a_merchant_and_a_provider_talk_live_about_their_contract(new_page):
    merchant, provider, contract_id, _ = await shop_with_contract()
    boss = await logged_in_page(new_page, merchant)
    await boss.goto(f"/contracts/{contract_id}")
    await boss.get_by_test_id("contract-conversation").get_by_test_id("start-conversation").click()
    await expect(boss.get_by_test_id("live-status")).to_have_text("Live")
    conversation_url = boss.url

    rep = await logged_in_page(new_page, provider)
    await rep.goto(f"/contracts/{contract_id}")
    await rep.get_by_test_id("contract-conversation").get_by_test_id("open-conversation").click()
    assert rep.url == conversation_url
    await expect(rep.get_by_test_id("live-status")).to_have_text("Live")

    await boss.get_by_label("Message").fill("Can you add <b>weekend</b> cover?")
    await boss.get_by_role("button", name="Send").click()
    seen = rep.get_by_test_id("live-message").filter(has_text="weekend")
    await expect(seen).to_have_count(1)
    assert await seen.locator("b").count() == 0  # text, never markup
    await expect(boss.get_by_test_id("live-message").filter(has_text="weekend").get_by_test_id("live-receipt")
                 ).to_have_text("Read")  # the provider's page is open and visible

    await rep.get_by_label("Message").press_sequentially("Yes")
    await expect(boss.get_by_test_id("live-status")).to_contain_text("typing")
    await rep.get_by_label("Message").fill("Yes, from next month.")
    await rep.get_by_role("button", name="Send").click()
    await expect(boss.get_by_test_id("live-message").filter(has_text="from next month")).to_have_count(1)

    # Cut the merchant's connection, write meanwhile: sent once it is back, stored once.
    await boss.context.set_offline(True)
    await boss.evaluate("() => window.dispatchEvent(new Event('offline'))")
    await boss.get_by_label("Message").fill("Sent while offline")
    await boss.get_by_role("button", name="Send").click()
    await boss.context.set_offline(False)
    await expect(rep.get_by_test_id("live-message").filter(has_text="Sent while offline")).to_have_count(1)
    await expect(boss.get_by_test_id("live-message").filter(has_text="Sent while offline")).to_have_count(1)
    assert await Message.count().where(Message.text == "Sent while offline") == 1

    await boss.screenshot(path=screenshot_path("business-conversation-1280.png"), full_page=True)
    phone = await logged_in_page(new_page, provider)
    await phone.set_viewport_size({"width": 390, "height": 844})
    await phone.goto(conversation_url)
    await expect(phone.get_by_test_id("live-status")).to_have_text("Live")
    await expect(phone.get_by_test_id("live-message")).to_have_count(3)
    scroll_width, inner_width = await phone.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"the conversation page scrolls sideways at 390 px: {scroll_width} px"
    await phone.screenshot(path=screenshot_path("business-conversation-390.png"), full_page=True)
