"""Every main page holds from a phone to a wide screen (issue 8, point 16), in Chromium.

For each role (merchant owner and evaluator, provider owner and agent, platform admin,
a visitor not signed in) the test visits the role's menu entries and the pages behind
them (account, notifications, a tender open for bids, a tender after its deadline with
its evaluation and comparison, the new-tender form, the API documentation) at 360,
390, 1280 and 1440 px wide and checks that:

- the page never scrolls sideways (document.scrollingElement.scrollWidth <= innerWidth);
- on a wide screen the menu is one row;
- on a phone the menu sits behind a Menu button that opens it, every entry visible
  and the page still no wider than the screen;
- the Content-Security-Policy refused nothing (no inline script or style left).

Phone-size screenshots of every page go to tests/e2e/screenshots/ (phone-<role>-*.png).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.async_api import Page, expect

from fuwu.services import accounts
from tests.conftest import PASSWORD, add_member, new_actor, unique
from tests.e2e.conftest import screenshot_path
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.e2e

PHONES = (360, 390)
WIDE = (1280, 1440)
NAV_LINKS = "nav.mainnav a"


@dataclass
class Visitor:
    name: str
    email: str | None
    pages: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
async def people(app) -> dict[str, Visitor]:
    """A merchant with an evaluator, a provider with an agent, a platform admin; one
    tender open for bids and one past its deadline, both bid on by the provider."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as api:
        merchant = await new_actor("merchant")
        evaluator = await add_member(merchant, "evaluator")
        provider = await new_actor("provider")
        agent = await add_member(provider, "agent")
        admin_email = f"{unique('admin')}@example.test"
        await accounts.create_admin(admin_email, PASSWORD, "Admin")
        open_tender = (await published_tender(api, merchant))["id"]
        closed_tender = (await published_tender(api, merchant, title="Live-stream pre-sales support for 12.12"))["id"]
        for tender_id in (open_tender, closed_tender):
            placed = await api.post(tender_url(provider, tender_id, "/bid"), json=bid_body(), headers=provider.headers)
            assert placed.status_code == 201, placed.text
        await pass_bid_deadline(closed_tender)
    closed = f"/tenders/{closed_tender}"
    return {
        "merchant-owner": Visitor("merchant-owner", merchant.email, [
            "/tenders/new", f"/tenders/{open_tender}", closed, f"{closed}/evaluation", f"{closed}/comparison",
            f"/tenders/{open_tender}/audit"]),
        "merchant-evaluator": Visitor("merchant-evaluator", evaluator.email, [
            closed, f"{closed}/evaluation", f"{closed}/comparison"]),
        "provider-owner": Visitor("provider-owner", provider.email, [
            f"/tenders/{open_tender}", closed, f"/providers/{provider.org_id}"]),
        "provider-agent": Visitor("provider-agent", agent.email),
        "platform-admin": Visitor("platform-admin", admin_email),
        "visitor": Visitor("visitor", None, ["/", "/login", "/signup", "/signup?kind=provider", "/providers",
                                            "/schema"]),
    }


def watch_policy(page: Page) -> list[str]:
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    return refused


async def log_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def pages_of(page: Page, visitor: Visitor) -> list[str]:
    if visitor.email is None:
        return visitor.pages
    menu = await page.eval_on_selector_all(NAV_LINKS, "links => links.map(a => a.getAttribute('href'))")
    assert menu, "no menu entries"
    return list(dict.fromkeys(["/dashboard", *menu, "/account", "/notifications", *visitor.pages]))


async def page_width(page: Page) -> tuple[int, int]:
    return tuple(await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]"))


CULPRITS = """() => {
  // What sticks out: boxes past the right edge, or text wider than its box, outside
  // any box that scrolls by itself. For the failure message.
  const width = window.innerWidth, found = [];
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    const x = getComputedStyle(p).overflowX; if (x === 'auto' || x === 'scroll' || x === 'hidden') return true; }
    return false; };
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    const spills = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'
      && box.left + el.scrollWidth > width;
    if ((box.right > width + 0.5 || spills) && !scrolls(el)) {
      found.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().replace(/ +/g, '.') : '')
                 + ' ' + (el.textContent || '').trim().slice(0, 40));
    }
  }
  return found.slice(-4);
}"""


async def too_wide_report(page: Page, path: str, width: int, scroll: int) -> str:
    return f"{path} at {width}px: {scroll}px wide, {await page.evaluate(CULPRITS)}"


def shot_name(role: str, width: int, index: int, path: str) -> str:
    slug = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "x", path).strip("/")
    slug = re.sub(r"[^a-z0-9]+", "-", slug) or "home"
    return f"phone-{role}-{index:02d}-{slug}-{width}.png"


async def open_page(page, path: str) -> None:
    """Opens a page as a reader sees it: the API documentation only once Redoc has drawn
    it (it parses the whole document first, seconds on a busy machine), so that its
    width is measured on what is shown rather than on the loading indicator."""
    await page.goto(path)
    if path.startswith("/schema"):
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Fuwu API", timeout=30_000)


@pytest.mark.parametrize("role", ["merchant-owner", "merchant-evaluator", "provider-owner", "provider-agent",
                                  "platform-admin", "visitor"])
async def test_every_main_page_holds_from_phone_to_wide_screen(new_page, people, role):
    visitor = people[role]
    page = await new_page()
    refused = watch_policy(page)
    if visitor.email:
        await log_in(page, visitor.email)
    else:
        await page.goto("/")
    paths = await pages_of(page, visitor)
    too_wide: list[str] = []

    for width in WIDE:
        await page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            await open_page(page, path)
            scroll, inner = await page_width(page)
            if scroll > inner:
                too_wide.append(await too_wide_report(page, path, width, scroll))
            if path.startswith("/schema"):
                continue
            await expect(page.get_by_test_id("menu-toggle")).to_be_hidden()
            rows = await page.eval_on_selector_all(
                NAV_LINKS, "links => new Set(links.map(a => Math.round(a.getBoundingClientRect().top))).size")
            assert rows <= 1, f"the menu of {path} takes {rows} rows at {width}px"

    for width in PHONES:
        await page.set_viewport_size({"width": width, "height": 800})
        for index, path in enumerate(paths):
            await open_page(page, path)
            scroll, inner = await page_width(page)
            if scroll > inner:
                too_wide.append(await too_wide_report(page, path, width, scroll))
            if width == 390:
                # The API documentation is one very long page: its first screen is shot.
                await page.screenshot(path=screenshot_path(shot_name(role, width, index, path)),
                                      full_page=not path.startswith("/schema"))
        if visitor.email is None:
            await page.goto("/login")
        else:
            await page.goto("/dashboard")
        # The menu folds behind its button and opens on a tap, every entry in view.
        toggle = page.get_by_test_id("menu-toggle")
        links = page.locator(NAV_LINKS)
        await expect(toggle).to_be_visible()
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        if await links.count():
            await expect(links.first).to_be_hidden()
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        for index in range(await links.count()):
            await expect(links.nth(index)).to_be_visible()
        await expect(page.locator("[data-testid=lang-zh_Hans]")).to_be_visible()
        scroll, inner = await page_width(page)
        assert scroll <= inner, f"with the menu open at {width}px the page is {scroll}px wide"
        if width == 390:
            await page.screenshot(path=screenshot_path(f"phone-{role}-menu-open-390.png"))
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "false")

    assert not too_wide, f"pages scroll sideways for {role}:\n" + "\n".join(too_wide)
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(refused)


async def test_without_javascript_the_phone_menu_shows_open_and_fits(browser, live_server, people):
    context = await browser.new_context(base_url=live_server, java_script_enabled=False,
                                        viewport={"width": 360, "height": 800}, locale="en-GB")
    try:
        page = await context.new_page()
        await log_in(page, people["provider-owner"].email)
        await expect(page.get_by_test_id("menu-toggle")).to_be_hidden()
        links = page.locator(NAV_LINKS)
        assert await links.count() >= 3
        for index in range(await links.count()):
            await expect(links.nth(index)).to_be_visible()
        scroll, inner = await page_width(page)
        assert scroll <= inner
        await page.screenshot(path=screenshot_path("phone-provider-owner-no-javascript-360.png"), full_page=True)
    finally:
        await context.close()


async def test_chinese_pages_hold_on_a_phone_and_keep_one_menu_row_when_wide(new_page, people):
    merchant = await new_actor("merchant")
    await accounts.set_locale(merchant.user_id, "zh_Hans")
    page = await new_page(locale="zh-CN")
    await log_in(page, merchant.email)
    paths = await pages_of(page, Visitor("merchant-zh", merchant.email, ["/tenders/new"]))
    for width in (390, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        for path in paths:
            await page.goto(path)
            await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
            scroll, inner = await page_width(page)
            assert scroll <= inner, f"{path} at {width}px is {scroll}px wide"
    await page.goto("/dashboard")
    rows = await page.eval_on_selector_all(
        NAV_LINKS, "links => new Set(links.map(a => Math.round(a.getBoundingClientRect().top))).size")
    assert rows == 1
