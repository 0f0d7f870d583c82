"""The API documentation renders in Chromium with every other host out of reach
(issue 8, point 9): Redoc comes from /static, and the page asks no other host."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import screenshot_path

pytestmark = pytest.mark.e2e


async def test_the_api_documentation_renders_offline(page: Page, live_server):
    elsewhere: list[str] = []
    refused: list[str] = []

    async def only_this_site(route: Route) -> None:
        url = route.request.url
        if url.startswith(live_server) or url.startswith(("blob:", "data:")):
            await route.continue_()
        else:
            elsewhere.append(url)
            await route.abort()

    await page.route("**/*", only_this_site)
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    await page.goto("/schema")
    # Redoc parses the whole document in the browser before it draws anything: seconds
    # on a busy two-core machine, so the heading gets more than the default 5 s.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Fuwu API", timeout=30_000)
    await expect(page.get_by_text("/api/v1/orgs/{org_id}/tenders").first).to_be_attached()
    await page.screenshot(path=screenshot_path("api-docs.png"))
    assert not elsewhere, elsewhere
    assert not refused, refused
