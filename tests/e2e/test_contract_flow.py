"""Contracts in a real browser: the merchant's award has opened a contract; both
parties sign it on its page; a photography milestone is delivered, sent back,
delivered again and accepted; the merchant imports the shop's history; once the
customer-service contract has run (its start moved into the past, as if time passed,
and live events appended as the chat appends them) its SLA charts and the before and
after render. Screenshots at desktop and phone size, with no sideways scroll."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from playwright.async_api import Page, expect

from fuwu.clock import now
from sla.services.events import append_event
from sla.tables import Contract
from tests.conftest import new_actor
from tests.e2e.conftest import screenshot_path
from tests.e2e.test_tendering_flow import logged_in_page
from tests.integration.sla.test_contracts import awarded_contract

pytestmark = pytest.mark.e2e


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width} px"


async def open_contract(page: Page, contract_id: str) -> None:
    await page.goto("/contracts")
    await page.locator(f'[data-testid=contract-row] a[href="/contracts/{contract_id}"]').click()
    await expect(page.get_by_test_id("contract")).to_be_visible()


async def test_both_parties_sign_deliver_milestones_and_read_the_sla(new_page, client):
    merchant, cs_provider = await new_actor("merchant"), await new_actor("provider")
    photographer = await new_actor("provider", categories=["photography"])
    _, service = await awarded_contract(client, merchant, cs_provider)
    _, shoot = await awarded_contract(
        client, merchant, photographer, category="photography",
        requirements={"skus": 40, "models": 1, "location": "our studio"}, pricing_models=["per_order"],
        sla_targets=[{"metric": "milestone_on_time_rate", "statistic": "rate", "comparator": ">=", "target": 0.9,
                      "window": "month", "weight": 100, "service_credit_percent": 3}],
        bid_fields={"pricing_model": "per_order", "price_unit": "style", "sla_commitment": []})

    shop = await logged_in_page(new_page, merchant)
    studio = await logged_in_page(new_page, photographer)
    # Both parties sign; the contract becomes active.
    await open_contract(shop, shoot["id"])
    await expect(shop.get_by_test_id("contract-status")).to_have_text("Pending signature")
    await shop.get_by_test_id("sign").click()
    await expect(shop.get_by_test_id("notice")).to_contain_text("You signed the contract.")
    await open_contract(studio, shoot["id"])
    await studio.get_by_test_id("sign").click()
    await expect(studio.get_by_test_id("contract-status")).to_have_text("Active")

    # A milestone: added, delivered, sent back with a reason, delivered again, accepted.
    await shop.reload()
    await shop.get_by_test_id("add-milestone").locator("summary").click()
    await shop.locator("input[name=deliverable]").fill("First 40 styles, retouched")
    due = (now() + datetime.timedelta(days=3)).astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    await shop.locator("input[name=due_at]").fill(due.strftime("%Y-%m-%dT%H:%M"))
    await shop.locator("input[name=amount]").fill("12000")
    await shop.get_by_role("button", name="Add the milestone").click()
    await expect(shop.get_by_test_id("milestone-status")).to_have_text("Pending")
    await studio.reload()
    await studio.locator("textarea[name=note]").fill("All 40 styles in the shared folder.")
    await studio.get_by_test_id("deliver").click()
    await expect(studio.get_by_test_id("milestone-status")).to_have_text("Submitted")
    await shop.reload()
    await shop.get_by_test_id("milestone").locator("textarea[name=reason]").fill("Six styles have colour casts; retouch them.")
    await shop.get_by_test_id("reject").click()
    await expect(shop.get_by_test_id("milestone-status")).to_have_text("Rejected")
    await studio.reload()
    await studio.locator("textarea[name=note]").fill("Retouched the six styles.")
    await studio.get_by_test_id("deliver").click()
    await shop.reload()
    await shop.get_by_test_id("accept").click()
    await expect(shop.get_by_test_id("milestone-status")).to_have_text("Accepted")
    await expect(shop.get_by_test_id("milestone")).to_contain_text("Six styles have colour casts")
    await expect(shop.get_by_test_id("statement")).to_contain_text("¥12,000.00")

    # The shop's history, imported from the contracts page.
    await shop.goto("/contracts")
    history = "".join(json.dumps(line) + "\n" for line in [
        {"type": "conversation_opened", "at": "2026-03-02T09:00:03+08:00", "conversation": "h1", "buyer": "b7"},
        {"type": "buyer_message", "at": "2026-03-02T09:00:03+08:00", "conversation": "h1", "buyer": "b7"},
        {"type": "agent_reply", "at": "2026-03-02T09:01:03+08:00", "conversation": "h1", "agent": "a2"},
    ])
    await shop.locator("input[name=file]").set_input_files(
        files=[{"name": "history.jsonl", "mimeType": "application/x-ndjson", "buffer": history.encode()}])
    await shop.get_by_test_id("import").click()
    await expect(shop.get_by_test_id("imported")).to_contain_text("3 events imported")

    # The customer-service contract signed, then as if it had run for a week.
    agency = await logged_in_page(new_page, cs_provider)
    await open_contract(shop, service["id"])
    await shop.get_by_test_id("sign").click()
    await open_contract(agency, service["id"])
    await agency.get_by_test_id("sign").click()
    started = now() - datetime.timedelta(days=7)
    await Contract.update({Contract.starts_at: started}).where(Contract.id == service["id"])
    for day in range(6):
        opened = started + datetime.timedelta(days=day, hours=3)
        conversation = f"live-{day}"
        await append_event("buyer_message", shop=merchant.org_id, contract=service["id"], at=opened,
                           conversation=conversation, buyer=f"b{day}")
        await append_event("agent_reply", shop=merchant.org_id, contract=service["id"],
                           at=opened + datetime.timedelta(seconds=15 + day), conversation=conversation, agent="a1")
    await shop.reload()
    await expect(shop.get_by_test_id("sla-chart").first).to_be_visible()
    await expect(shop.get_by_test_id("sla-chart").first.locator("svg")).to_be_visible()
    rows = shop.get_by_test_id("before-after-row")
    await expect(rows.first).to_contain_text("60.0 s")
    await expect(shop.get_by_test_id("sla-panel")).to_contain_text("First response time")
    await no_sideways_scroll(shop)
    await shop.screenshot(path=screenshot_path("contract-desktop.png"), full_page=True)
    await shop.set_viewport_size({"width": 390, "height": 844})
    await shop.reload()
    await expect(shop.get_by_test_id("sla-chart").first).to_be_visible()
    await no_sideways_scroll(shop)
    await shop.screenshot(path=screenshot_path("contract-phone.png"), full_page=True)
    assert re.search(rf"/contracts/{service['id']}", shop.url)
