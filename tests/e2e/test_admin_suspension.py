"""A platform admin suspends a provider in a real browser at phone size, and the
provider's next bid is refused with the admin's reason (issue 8, point 20)."""

from __future__ import annotations

import msgspec
import pytest
from playwright.async_api import expect

from fuwu.services import accounts
from fuwu.tables import Organisation
from tenders.schemas import TenderCreate
from tenders.services import lifecycle
from tests.conftest import new_actor, unique
from tests.e2e.conftest import screenshot_path
from tests.e2e.test_tendering_flow import logged_in_page
from tests.tendering import tender_body

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


async def _no_sideways_scroll(page, what: str) -> None:
    scroll_width, inner_width = await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"{what} scrolls sideways at {inner_width} px: {scroll_width} px"


async def test_an_admin_suspends_a_provider_who_then_cannot_bid(new_page, admin):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    name = unique("Suspended agency ")
    await Organisation.update({Organisation.name: name}).where(Organisation.id == provider.org_id)
    member = await accounts.membership(merchant.user_id, merchant.org_id)
    tender = await lifecycle.create_tender(merchant.viewer, member,
                                           msgspec.convert(tender_body(title="Weekend live chat"), TenderCreate))
    await lifecycle.publish(merchant.viewer, member, tender["id"])

    boss = await logged_in_page(new_page, admin)
    await boss.set_viewport_size(PHONE)
    await boss.goto("/admin")
    search = boss.get_by_test_id("org-search")
    await search.locator("input[name=q]").fill(name)
    await search.locator("select[name=kind]").select_option("provider")
    await search.get_by_role("button").click()
    await boss.get_by_test_id("organisations").get_by_role("link", name=name).click()
    await expect(boss.get_by_role("heading", level=1)).to_have_text(name)
    await expect(boss.get_by_test_id("members")).to_contain_text(provider.email)
    form = boss.get_by_test_id("suspend-form")
    await form.locator("textarea[name=reason]").fill("Fake customer reviews on the profile")
    await form.get_by_role("button", name="Suspend").click()
    await expect(boss.get_by_test_id("suspended-note")).to_contain_text("Fake customer reviews on the profile")
    await expect(boss.get_by_test_id("reinstate-form")).to_be_visible()
    await _no_sideways_scroll(boss, "the admin's organisation page")
    await boss.screenshot(path=screenshot_path("admin-suspended-provider-390.png"), full_page=True)

    seller = await logged_in_page(new_page, provider)
    await seller.set_viewport_size(PHONE)
    await seller.goto(f"/tenders/{tender['id']}")
    form = seller.get_by_test_id("bid-form")
    await form.get_by_test_id("bid-price").fill("40000.00")
    await form.get_by_test_id("bid-pricing-model").select_option("periodic_fee")
    await form.locator("textarea[name=proposal]").fill("12 trained agents.")
    await form.locator("input[name=seats]").fill("12")
    await form.get_by_test_id("bid-form-submit").click()
    refusal = seller.get_by_role("main")
    await expect(refusal).to_contain_text("Your organisation is suspended by the platform, so it cannot bid (reason: ")
    await expect(refusal).to_contain_text("Fake customer reviews on the profile")
    await _no_sideways_scroll(seller, "the refusal")
    await seller.screenshot(path=screenshot_path("provider-bid-refused-suspended-390.png"), full_page=True)
    # The owner was told, with the reason.
    await seller.goto("/notifications")
    await expect(seller.get_by_role("main")).to_contain_text("Fake customer reviews on the profile")
