"""Ratings and tiers in a real browser: after a contract, the merchant rates the
provider on the contract page (blind until the provider has written its own review
of the merchant), the provider reviews the merchant, reads the rating and replies;
an admin grades the provider's brand; the weekly evaluation (run through its
service, as the scheduler would) earns the provider 6 stars, which one admin
endorses and a second admin approves; the provider's scorecard then explains its
tier dimension by dimension. The provider's history (ten completed contracts with
five merchants, their SLA measurements and ratings) is set up through the tables
and services, as if it had happened. Screenshots at desktop and phone size, with no
sideways scroll."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.async_api import Page, expect

from fuwu.clock import now
from fuwu.db import atomic
from fuwu.services import accounts
from ratings.services import scorecards
from ratings.tables import Rating
from sla.tables import Measurement, SlaTarget
from tests.conftest import PASSWORD, Actor, new_actor, unique
from tests.e2e.conftest import screenshot_path
from tests.e2e.test_contract_flow import no_sideways_scroll
from tests.e2e.test_tendering_flow import logged_in_page
from tests.integration.ratings.conftest import UNRECOMMENDED, signed_contract

pytestmark = pytest.mark.e2e

DAY = datetime.timedelta(days=1)


async def new_admin() -> Actor:
    email = f"{unique('admin')}@example.test"
    user = await accounts.create_admin(email, PASSWORD, "Admin")
    return Actor(user_id=user["id"], email=email, password=PASSWORD,
                 org_id=user["memberships"][0]["organisation"]["id"], org_kind="platform", role="admin",
                 token="", name="Admin")


async def track_record(merchants: list[Actor], provider: Actor) -> None:
    """Ten contracts completed with five merchants in the last five months, each SLA
    window met, and each rated five stars by its merchant (published: both sides wrote)."""
    moment = now()
    for number in range(10):
        merchant = merchants[number % 5]
        contract = await signed_contract(merchant, provider, starts=moment - 150 * DAY, days=100,
                                         status="completed")
        async with atomic():
            target = SlaTarget(contract=contract, metric="first_response_time", statistic="mean", comparator="<=",
                               target=30.0, window="month", weight=100)
            await target.save()
            for month in range(3):
                start = moment - (150 - 30 * month) * DAY
                await Measurement(contract=contract, target=target.id, window_start=start, window_end=start + 30 * DAY,
                                  version=1, key=f"{target.id}:{month}:1", value=18.0 + month, sample_size=200,
                                  target_value=30.0, outcome="met", as_of=start + 31 * DAY).save()
            created = moment - (40 + number) * DAY
            await Rating(contract=contract, merchant=merchant.org_id, provider=provider.org_id, occasion="period:3",
                         key=f"{contract}:period:3", overall=5, quality=5, communication=5, timeliness=5,
                         comment="On time, every time.", author=merchant.user_id, created_at=created,
                         publish_after=created + 14 * DAY, published_at=created + DAY, status="published").save()


async def open_ratings(page: Page, contract_id) -> None:
    await page.goto(f"/contracts/{contract_id}#ratings")
    await expect(page.get_by_test_id("contract-ratings")).to_be_visible()


async def test_rating_reply_brand_grade_and_a_two_admin_promotion_explained_on_the_tier_page(new_page, client):
    provider = await new_actor("provider", categories=UNRECOMMENDED)
    merchant = await new_actor("merchant")
    history = [await new_actor("merchant") for _ in range(5)]
    await track_record(history, provider)
    contract = await signed_contract(merchant, provider, starts=now() - 45 * DAY)
    first_admin, second_admin = await new_admin(), await new_admin()

    # The merchant rates the provider for the contract's first month.
    shop = await logged_in_page(new_page, merchant)
    await open_ratings(shop, contract)
    form = shop.get_by_test_id("rate-form")
    await form.locator("select[name=period]").select_option("1")
    await form.locator("select[name=overall]").select_option("5")
    await form.locator("select[name=timeliness]").select_option("4")
    await form.locator("textarea[name=comment]").fill("Replies within seconds, even on 12.12.")
    await shop.get_by_test_id("rate-submit").click()
    rating = shop.get_by_test_id("rating")
    await expect(rating).to_contain_text("Blind")
    await expect(rating).to_contain_text("Replies within seconds, even on 12.12.")

    # The provider cannot read it yet (blind), reviews the merchant, then reads it and replies.
    studio = await logged_in_page(new_page, provider)
    await open_ratings(studio, contract)
    await expect(studio.get_by_test_id("rating").get_by_test_id("blind-note")).to_be_visible()
    await expect(studio.get_by_test_id("rating")).not_to_contain_text("Replies within seconds")
    review = studio.get_by_test_id("rate-form")
    await review.locator("select[name=period]").select_option("1")
    await review.locator("textarea[name=comment]").fill("Clear brief, quick answers, paid on time.")
    await studio.get_by_test_id("rate-submit").click()
    await expect(studio.get_by_test_id("rating")).to_contain_text("Published")
    await expect(studio.get_by_test_id("rating").get_by_test_id("review-comment")).to_have_text(
        "Replies within seconds, even on 12.12.")
    await studio.get_by_test_id("reply-form").locator("textarea[name=reply]").fill(
        "Thank you: the night team will stay on for the spring sale.")
    await studio.get_by_test_id("reply-form").get_by_role("button", name="Reply").click()
    await expect(studio.get_by_test_id("rating").get_by_test_id("review-reply")).to_contain_text(
        "the night team will stay on")
    await expect(studio.get_by_test_id("reply-form")).to_have_count(0)  # once only
    # The merchant sees the reply, and the provider's review of it.
    await shop.reload()
    await expect(shop.get_by_test_id("rating").get_by_test_id("review-reply")).to_contain_text(
        "the night team will stay on")
    await expect(shop.get_by_test_id("provider_review")).to_contain_text("paid on time")
    await shop.get_by_test_id("contract-ratings").scroll_into_view_if_needed()
    await shop.screenshot(path=screenshot_path("ratings-contract-desktop.png"), full_page=True)
    # The public profile lists the rating with its reply.
    await shop.goto(f"/providers/{provider.org_id}")
    await expect(shop.get_by_test_id("provider-ratings")).to_contain_text("the night team will stay on")

    # An admin grades the brand dimension with evidence.
    admin = await logged_in_page(new_page, first_admin)
    await admin.goto(f"/admin/orgs/{provider.org_id}")
    grade = admin.get_by_test_id("brand-grade-form")
    await grade.locator("input[name=score]").fill("95")
    await grade.locator("input[name=brands_served]").fill("12")
    await grade.locator("input[name=key_accounts_served]").fill("3")
    await grade.locator("textarea[name=evidence]").fill("Serves 12 brands, 3 of them key accounts (contracts seen).")
    await grade.locator("input[name=expires_on]").fill((now() + 365 * DAY).date().isoformat())
    await grade.get_by_role("button", name="Grade the brand").click()
    await expect(admin).to_have_url(re.compile(f"/admin/orgs/{provider.org_id}$"))

    # The weekly evaluation (the scheduler's job, for this provider): 6 stars earned, pending two admins.
    assert await scorecards.evaluate_batch([provider.org_id], now() + datetime.timedelta(seconds=1)) == 1
    await studio.goto("/scorecard")
    await expect(studio.get_by_test_id("pending-promotion")).to_be_visible()
    await expect(studio.get_by_test_id("tier-badge")).to_contain_text("5 stars")

    # One admin endorses it; the same admin cannot approve it; a second admin approves.
    await admin.reload()
    endorse = admin.get_by_test_id("promotion-form")
    await endorse.locator("textarea[name=reason]").fill("Ten contracts, every SLA window met, five-star ratings.")
    await endorse.get_by_role("button", name="Endorse the 6-star promotion").click()
    await admin.goto("/admin/tiers")
    ours = f'a[href="/admin/orgs/{provider.org_id}"]'
    await expect(admin.get_by_test_id("approval").filter(has=admin.locator(ours))).to_contain_text(
        "A second admin decides your request.")
    approver = await logged_in_page(new_page, second_admin)
    await approver.goto("/admin/tiers")
    waiting = approver.get_by_test_id("approval").filter(has=approver.locator(ours))
    await expect(waiting).to_contain_text("6-star promotion")
    await waiting.get_by_role("button", name="Approve").click()
    await expect(approver.get_by_test_id("approval").filter(has=approver.locator(ours))).to_have_count(0)

    # The provider's tier page explains the result, dimension by dimension.
    await studio.goto("/scorecard")
    await expect(studio.get_by_test_id("tier-badge")).to_contain_text("6 stars")
    await expect(studio.get_by_test_id("pending-promotion")).to_have_count(0)
    dimensions = studio.get_by_test_id("scorecard-dimensions")
    contributions = [float(text) for text in await dimensions.locator("tbody tr td:nth-child(4)").all_inner_texts()]
    composite = float(await studio.get_by_test_id("composite").inner_text())
    assert len(contributions) == 4 and abs(sum(contributions) - composite) < 0.005
    assert composite >= 85  # the 6-star band
    await expect(studio.get_by_test_id("dimension-brand")).to_contain_text("95.00")
    await expect(studio.locator("dl.figures")).to_contain_text("Graded 95 by the platform")
    await expect(studio.locator("dl.figures")).to_contain_text("SLA windows met: 100.0 %")
    await studio.screenshot(path=screenshot_path("ratings-scorecard-desktop.png"), full_page=True)
    await no_sideways_scroll(studio)
    await studio.set_viewport_size({"width": 390, "height": 844})
    await studio.reload()
    await expect(studio.get_by_test_id("tier-badge")).to_contain_text("6 stars")
    await no_sideways_scroll(studio)
    await studio.screenshot(path=screenshot_path("ratings-scorecard-phone.png"), full_page=True)
