"""The admins' analytics and the scorecard's history chart in a real browser (Chromium),
at desktop and phone size: the map of China by province and the charts render (a
canvas each, with ink on it, and the map holds every province), the tables are there
with their CSV links, nothing scrolls sideways; the analytics also in Chinese.
Screenshots in tests/e2e/screenshots/."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.async_api import expect

from fuwu.clock import now
from fuwu.services import accounts
from fuwu.tables import Organisation
from ratings.services import scorecards
from ratings.tables import Evaluation, Standing
from tests.conftest import new_actor
from tests.e2e.conftest import screenshot_path
from tests.e2e.test_tendering_flow import logged_in_page

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# What a canvas of the chart holding `selector` shows: its size, the pixels with ink (not
# transparent, not near white) and how many colours they have (a blank or one-colour canvas fails).
INK = """(holder) => {
  const canvas = holder.querySelector('canvas');
  if (!canvas || !canvas.width || !canvas.height) { return null; }
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0; const colours = new Set();
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] > 0 && !(pixels[i] > 245 && pixels[i + 1] > 245 && pixels[i + 2] > 245)) {
      ink += 1;
      if (colours.size < 64) { colours.add(pixels[i] + ',' + pixels[i + 1] + ',' + pixels[i + 2]); }
    }
  }
  return {width: canvas.width, height: canvas.height, ink: ink, colours: colours.size};
}"""


async def _drawn(page, testid: str, least_share: float = 0.01) -> dict:
    holder = page.get_by_test_id(testid)
    await expect(holder.locator("canvas")).to_be_visible()
    # ECharts draws on the next animation frames: wait until the canvas holds ink.
    await page.wait_for_function(f"""() => {{
      const holder = document.querySelector('[data-testid="{testid}"]');
      const found = ({INK})(holder);
      return found && found.ink > {least_share} * found.width * found.height && found.colours > 2;
    }}""", timeout=10_000)
    return await holder.evaluate(INK)


async def _no_sideways_scroll(page, what: str) -> None:
    scroll_width, inner_width = await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"{what} scrolls sideways at {inner_width} px: {scroll_width} px"


async def _providers_in_provinces() -> None:
    """A few evaluated providers placed in provinces, so the map has colours to show."""
    for province, city, composite, tier in (("Guangdong", "Shenzhen", 88.0, 6), ("浙江省", "Hangzhou", 72.0, 5),
                                            ("Sichuan", "Chengdu", 58.0, 4), ("Xinjiang", "Urumqi", 45.0, 3)):
        provider = await new_actor("provider", categories=["video", "design"])
        await Organisation.update({Organisation.province: province, Organisation.city: city}).where(
            Organisation.id == provider.org_id)
        await Standing(provider=provider.org_id, tier=tier, composite=composite, evaluated_as_of=now()).save()


async def test_the_analytics_map_and_charts_render_at_desktop_and_phone_size(new_page, admin):
    await _providers_in_provinces()
    page = await logged_in_page(new_page, admin)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    await expect(page).to_have_url(re.compile(r"/admin/analytics$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")
    for size, name in ((DESKTOP, "1280"), (PHONE, "390")):
        await page.set_viewport_size(size)
        await page.reload()
        drawn = await _drawn(page, "analytics-map", least_share=0.05)
        assert drawn["colours"] > 4, drawn  # provinces in several shades, borders
        # The map registered from the vendored file holds the 34 divisions, each with its index
        # (ECharts adds the South China Sea islands to a map named "china", without a value).
        shown = await page.get_by_test_id("analytics-map").evaluate(
            "(holder) => window.echarts.getInstanceByDom(holder).getOption().series[0].data"
            ".filter((d) => typeof d.value === 'number').length")
        assert shown == 34
        assert await page.evaluate("() => !!window.echarts.getMap('china')")
        for chart in ("chart-index", "chart-categories", "chart-tiers"):
            await _drawn(page, chart)
        for table in ("provinces", "cities", "categories", "tiers"):
            await expect(page.get_by_test_id(f"table-{table}")).to_be_visible()
            await expect(page.get_by_test_id(f"csv-{table}")).to_have_attribute("href", f"/admin/analytics/{table}.csv")
        await expect(page.get_by_test_id("table-provinces")).to_contain_text("Guangdong")
        await expect(page.get_by_test_id("population-source")).to_contain_text("Seventh National Population Census")
        await _no_sideways_scroll(page, f"the analytics page at {name} px")
        await page.screenshot(path=screenshot_path(f"admin-analytics-{name}.png"), full_page=True)
        await page.get_by_test_id("analytics-charts").screenshot(
            path=screenshot_path(f"admin-analytics-charts-{name}.png"))

    # A CSV file comes down as a download.
    async with page.expect_download() as download:
        await page.get_by_test_id("csv-provinces").click()
    assert (await download.value).suggested_filename.startswith("fuwu-provinces-")

    # In Chinese: headings, province names and the map's names.
    await accounts.set_locale(admin.user_id, "zh_Hans")
    try:
        await page.set_viewport_size(PHONE)
        await page.goto("/admin/analytics")
        await expect(page.get_by_role("heading", level=1)).to_have_text("数据分析")
        await expect(page.get_by_test_id("table-provinces")).to_contain_text("广东省")
        await _drawn(page, "analytics-map", least_share=0.05)
        await _no_sideways_scroll(page, "the analytics page in Chinese at 390 px")
        await page.screenshot(path=screenshot_path("admin-analytics-zh-390.png"), full_page=True)
    finally:
        await accounts.set_locale(admin.user_id, "en")


async def test_the_scorecard_history_chart_renders_at_desktop_and_phone_size(new_page):
    provider = await new_actor("provider", categories=["video"])
    # Stored evaluations as the weekly job leaves them: promoted to 4 and 5 stars, then at risk.
    first = scorecards.evaluation_moment(now()) - datetime.timedelta(days=35)
    history = ((48.0, 0, 3, False), (57.5, 3, 4, False), (63.25, 4, 4, False), (71.0, 4, 5, False),
               (68.5, 5, 5, True), (72.75, 5, 5, False))
    for week, (composite, before, after, at_risk) in enumerate(history):
        as_of = first + datetime.timedelta(days=7 * week)
        await Evaluation(provider=provider.org_id, as_of=as_of, key=f"{provider.org_id}:{week}", operating=composite,
                         brand=composite, service=composite, growth=composite, composite=composite,
                         tier_before=before, tier_after=after, at_risk=at_risk, explanation=_explanation(composite),
                         computed_at=as_of).save()
    # And the standing the last of them left: 5 stars, the badge beside the chart.
    await Standing(provider=provider.org_id, tier=5, composite=72.75, evaluated_as_of=as_of).save()
    page = await logged_in_page(new_page, provider)
    for size, name in ((DESKTOP, "1280"), (PHONE, "390")):
        await page.set_viewport_size(size)
        await page.goto("/scorecard")
        drawn = await _drawn(page, "history-chart")
        assert drawn["width"] > 0 and drawn["colours"] > 2, drawn
        series = await page.get_by_test_id("history-chart").evaluate(
            "(holder) => window.echarts.getInstanceByDom(holder).getOption().series.map((s) => s.data)")
        assert series == [[row[0] for row in history], [row[2] for row in history]]  # composite, tier
        await expect(page.get_by_test_id("scorecard-history").locator("tbody tr")).to_have_count(len(history))
        await _no_sideways_scroll(page, f"the scorecard at {name} px")
        await page.screenshot(path=screenshot_path(f"provider-scorecard-history-{name}.png"), full_page=True)


def _explanation(composite: float) -> dict:
    """What the evaluation job stores beside the scores: each dimension and its figures."""
    figures = {
        "operating": {"sla_attainment": 92.5, "milestones_on_time": 80.0, "merchants_served": 4},
        "brand": {"grade": None, "score": None, "expires_at": None},
        "service": {"ratings": 12, "bayesian_mean": 4.4, "platform_mean": 4.1, "chat_positive": 30, "chat_rated": 34},
        "growth": {"contracts": 5, "contracts_before": 3, "merchants": 4, "merchants_before": 3},
    }
    weights = {"operating": 40.0, "brand": 15.0, "service": 30.0, "growth": 15.0}
    explained = {name: {"score": composite, "weight": weights[name], "contribution": round(composite * weights[name]
                                                                                            / 100, 2),
                        "figures": figures[name]} for name in weights}
    explained["gates"] = {"completed_contracts": 6, "distinct_merchants": 4}
    return explained
