"""Page layout in a real browser: the evaluation page is centred at the width of the
other pages (issue 8, point 19)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.conftest import PASSWORD, new_actor
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("quick_password_hashing")]


async def log_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def main_box(page: Page) -> dict:
    return await page.evaluate("(() => { const r = document.querySelector('main').getBoundingClientRect();"
                               " return {left: r.left, width: r.width}; })()")


async def test_the_evaluation_page_is_as_wide_and_centred_as_the_other_pages(new_page, client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    assert (await client.post(tender_url(provider, tid, "/bid"), json=bid_body(),
                              headers=provider.headers)).status_code == 201
    await pass_bid_deadline(tid)

    page = await new_page()
    await page.set_viewport_size({"width": 1440, "height": 900})
    await log_in(page, merchant.email)
    dashboard = await main_box(page)
    await page.goto(f"/tenders/{tid}")
    tender = await main_box(page)
    await page.goto(f"/tenders/{tid}/evaluation")
    await expect(page.get_by_test_id("evaluation-page")).to_be_visible()
    evaluation = await main_box(page)
    assert evaluation == tender == dashboard, (evaluation, tender, dashboard)
    assert dashboard["left"] > 100  # centred, with room either side
