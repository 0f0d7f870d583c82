"""A provider's pipeline in a real browser (issue 8, point 15): "My bids" is in the
provider's menu, lists each bid with its tender and result, filters, and holds at
phone width (390 px) without sideways scrolling."""

from __future__ import annotations

import msgspec
import pytest
from playwright.async_api import expect

from bids.schemas import BidSubmit
from bids.services import submission
from fuwu.services import accounts
from tenders.schemas import TenderCreate
from tenders.services import lifecycle
from tests.conftest import new_actor
from tests.e2e.conftest import screenshot_path
from tests.e2e.test_tendering_flow import logged_in_page
from tests.tendering import bid_body, tender_body

pytestmark = pytest.mark.e2e


async def _bid_on(merchant, provider, title: str) -> None:
    merchant_member = await accounts.membership(merchant.user_id, merchant.org_id)
    tender = await lifecycle.create_tender(merchant.viewer, merchant_member,
                                           msgspec.convert(tender_body(title=title), TenderCreate))
    await lifecycle.publish(merchant.viewer, merchant_member, tender["id"])
    member = await accounts.membership(provider.user_id, provider.org_id)
    await submission.submit_bid(provider.viewer, member, tender["id"], msgspec.convert(bid_body(), BidSubmit))


async def test_a_provider_finds_its_bids_under_my_bids(new_page):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    await _bid_on(merchant, provider, "Night shift for the flagship store")
    await _bid_on(merchant, provider, "Returns desk for the spring sale")
    page = await logged_in_page(new_page, provider)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="My bids").click()
    await expect(page.get_by_test_id("my-bids")).to_be_visible()
    items = page.get_by_test_id("my-bid")
    await expect(items).to_have_count(2)
    await expect(items.first).to_contain_text("Returns desk for the spring sale")
    await expect(items.first).to_contain_text("Submitted")
    await page.get_by_test_id("my-bids-search").locator("input[name=q]").fill("night")
    await page.get_by_test_id("my-bids-filter").click()
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("Night shift for the flagship store")
    await page.goto("/bids")
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 844})
        scroll_width, inner_width = await page.evaluate(
            "[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner_width, f"/bids scrolls sideways at {width} px: {scroll_width} px"
        await page.screenshot(path=screenshot_path(f"my-bids-{width}.png"), full_page=True)
