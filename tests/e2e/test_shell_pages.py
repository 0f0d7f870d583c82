"""The shell pages in a real browser: sign-up, log-in, language, log-out, notifications.

Each test drives Chromium against the live server (tests/e2e/conftest.py) and asserts
what a person sees on the page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from fuwu.services import accounts
from tests.conftest import PASSWORD, Actor, new_actor, unique
from tests.e2e.conftest import screenshot_path

pytestmark = pytest.mark.e2e

DASHBOARD_URL = re.compile(r"/dashboard$")


async def org_name(actor: Actor) -> str:
    return (await accounts.get_organisation(actor.org_id))["name"]


async def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(password)
    await page.get_by_test_id("login-submit").click()


async def fill_signup(page: Page, *, kind: str, name: str, email: str, org: str) -> None:
    await page.locator("input[name=display_name]").fill(name)
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_test_id(f"kind-{kind}").check()
    await page.locator("input[name=org_name]").fill(org)
    await page.locator("input[name=province]").fill("Zhejiang")
    await page.locator("input[name=city]").fill("Hangzhou")


async def test_merchant_signs_up_and_lands_on_dashboard_with_their_shop(page: Page):
    email, org = f"{unique('shop')}@example.test", unique("Tea Shop ")
    await page.goto("/")
    await page.get_by_role("link", name="I run a shop").click()
    await expect(page).to_have_url(re.compile(r"/signup\?kind=merchant$"))
    await expect(page.locator("select[name=size]")).to_be_visible()
    await expect(page.locator("input[name=categories]").first).to_be_hidden()

    await fill_signup(page, kind="merchant", name="Li Mei", email=email, org=org)
    await page.locator("select[name=size]").select_option("large")
    await page.get_by_test_id("signup-submit").click()

    await expect(page).to_have_url(DASHBOARD_URL)
    await expect(page.get_by_test_id("dashboard-title")).to_have_text(f"Dashboard · {org}")
    await expect(page.locator("main")).to_contain_text("Merchant · Owner")
    await expect(page.locator("main")).to_contain_text("Large")
    await expect(page.locator("main")).to_contain_text("Zhejiang Hangzhou")
    await expect(page.locator("header .who")).to_have_text("Li Mei")
    await page.screenshot(path=screenshot_path("signup-dashboard.png"), full_page=True)


async def test_provider_sign_up_shows_provider_fields_and_lands_on_dashboard(page: Page):
    email, org = f"{unique('studio')}@example.test", unique("Photo Studio ")
    await page.goto("/signup")
    # Merchant is the default: provider-only fields start hidden.
    await expect(page.get_by_test_id("kind-merchant")).to_be_checked()
    await expect(page.locator("input[name=categories][value=photography]")).to_be_hidden()
    await expect(page.locator("select[name=size]")).to_be_visible()

    await fill_signup(page, kind="provider", name="Wang Fang", email=email, org=org)
    categories = page.locator("input[name=categories]")
    await expect(categories).to_have_count(7)
    for index in range(7):
        await expect(categories.nth(index)).to_be_visible()
    await expect(page.locator("textarea[name=profile]")).to_be_visible()
    # fuwu.js marks the merchant-only "Shop size" label hidden (whether it is really
    # out of sight is test_provider_sign_up_does_not_show_the_shop_size, below).
    await expect(page.locator("label.merchant-only")).to_have_attribute("hidden", "")

    await page.locator("input[name=categories][value=photography]").check()
    await page.locator("input[name=categories][value=video]").check()
    await page.locator("textarea[name=profile]").fill("Product photos and short videos.")
    await page.get_by_test_id("signup-submit").click()

    await expect(page).to_have_url(DASHBOARD_URL)
    await expect(page.get_by_test_id("dashboard-title")).to_have_text(f"Dashboard · {org}")
    await expect(page.locator("main")).to_contain_text("Provider · Owner")
    await expect(page.locator("main")).to_contain_text("Browse open tenders")

    # The chosen categories were saved with the organisation.
    await page.goto("/org")
    await expect(page.locator("input[name=categories][value=photography]")).to_be_checked()
    await expect(page.locator("input[name=categories][value=video]")).to_be_checked()
    await expect(page.locator("input[name=categories][value=design]")).not_to_be_checked()


async def test_provider_sign_up_does_not_show_the_shop_size(page: Page):
    await page.goto("/signup?kind=provider")
    await expect(page.get_by_test_id("kind-provider")).to_be_checked()
    await expect(page.locator("input[name=categories][value=photography]")).to_be_visible()
    await expect(page.locator("select[name=size]")).to_be_hidden(timeout=2_000)


async def test_log_in_with_wrong_password_shows_error_then_right_password_opens_dashboard(page: Page):
    actor = await new_actor("merchant")
    await log_in(page, actor.email, "not the password")
    await expect(page).to_have_url(re.compile(r"/login$"))
    await expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password. Check both and try again.")
    await expect(page.locator("input[name=email]")).to_have_value(actor.email)
    await expect(page.get_by_test_id("logout")).to_have_count(0)

    await page.locator("input[name=password]").fill(actor.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page).to_have_url(DASHBOARD_URL)
    await expect(page.get_by_test_id("dashboard-title")).to_have_text(f"Dashboard · {await org_name(actor)}")


async def test_language_switch_to_chinese_and_back_is_kept_on_the_account(page: Page, new_page):
    actor = await new_actor("merchant")
    nav = page.locator("nav.mainnav")
    html = page.locator("html")
    await log_in(page, actor.email)
    await expect(page).to_have_url(DASHBOARD_URL)
    await expect(html).to_have_attribute("lang", "en")
    await expect(nav).to_contain_text("Dashboard")

    await page.get_by_test_id("lang-zh_Hans").click()
    await expect(page).to_have_url(DASHBOARD_URL)  # back on the same page
    await expect(html).to_have_attribute("lang", "zh-Hans")
    await expect(nav.get_by_role("link", name="仪表盘")).to_be_visible()
    await expect(nav).not_to_contain_text("Dashboard")
    await page.screenshot(path=screenshot_path("dashboard-zh.png"), full_page=True)

    # Log out and in again: still Chinese.
    await page.get_by_test_id("logout").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await log_in(page, actor.email)
    await expect(page).to_have_url(DASHBOARD_URL)
    await expect(html).to_have_attribute("lang", "zh-Hans")
    await expect(nav.get_by_role("link", name="仪表盘")).to_be_visible()

    # Logging in never switches the language someone is reading: a fresh browser whose
    # log-in page is in English stays in English (an account saved in Chinese, as the
    # demo accounts are), and English becomes the account's latest choice.
    other = await new_page(locale="en-GB")
    await other.goto("/login")
    await expect(other.locator("html")).to_have_attribute("lang", "en")
    await log_in(other, actor.email)
    await expect(other).to_have_url(DASHBOARD_URL)
    await expect(other.locator("html")).to_have_attribute("lang", "en")
    await expect(other.locator("nav.mainnav").get_by_role("link", name="Dashboard")).to_be_visible()
    await page.reload()
    await expect(html).to_have_attribute("lang", "en")
    await expect(page.get_by_test_id("dashboard-title")).to_have_text(f"Dashboard · {await org_name(actor)}")

    # Back to Chinese from the first browser: the other follows on its next page.
    await page.get_by_test_id("lang-zh_Hans").click()
    await expect(html).to_have_attribute("lang", "zh-Hans")
    await other.reload()
    await expect(other.locator("html")).to_have_attribute("lang", "zh-Hans")


async def test_log_out_returns_to_start_page_and_dashboard_then_asks_to_log_in(page: Page):
    actor = await new_actor("provider")
    await log_in(page, actor.email)
    await expect(page).to_have_url(DASHBOARD_URL)

    await page.get_by_test_id("logout").click()
    await expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Outsource your shop's services, and measure them.")
    await expect(page.get_by_test_id("logout")).to_have_count(0)
    await expect(page.locator("header").get_by_role("link", name="Log in")).to_be_visible()

    await page.goto("/dashboard")
    await expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)dashboard$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    # Logging in from there leads back to the dashboard.
    await page.locator("input[name=email]").fill(actor.email)
    await page.locator("input[name=password]").fill(actor.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page).to_have_url(DASHBOARD_URL)


async def test_invited_existing_user_sees_unread_badge_on_the_bell(page: Page, new_page):
    owner = await new_actor("merchant")
    invitee = await new_actor("merchant")
    shop = await org_name(owner)

    # The invitee has nothing unread yet.
    invitee_page = await new_page()
    await log_in(invitee_page, invitee.email)
    await expect(invitee_page).to_have_url(DASHBOARD_URL)
    await expect(invitee_page.get_by_test_id("bell")).to_be_visible()
    await expect(invitee_page.get_by_test_id("unread")).to_have_count(0)

    await log_in(page, owner.email)
    await expect(page).to_have_url(DASHBOARD_URL)
    await page.locator("nav.mainnav").get_by_role("link", name="Organisation").click()
    await expect(page).to_have_url(re.compile(r"/org$"))
    invite_form = page.locator("form[action='/org/invitations']")
    await invite_form.locator("input[name=email]").fill(invitee.email)
    await invite_form.locator("select[name=role]").select_option("evaluator")
    await invite_form.get_by_role("button", name="Invite").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Invitation created for {invitee.email}")
    await expect(page.get_by_test_id("invite-link")).to_contain_text("/invitations/")

    await invitee_page.reload()
    await expect(invitee_page.get_by_test_id("unread")).to_have_text("1")
    await invitee_page.get_by_test_id("bell").click()
    await expect(invitee_page).to_have_url(re.compile(r"/notifications$"))
    await expect(invitee_page.locator("main")).to_contain_text(f"You are invited to join {shop} as evaluator")
