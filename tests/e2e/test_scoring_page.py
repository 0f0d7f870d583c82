"""Scoring a round on one page, in a real browser (issue 8, point 21): an evaluator
sees each bid's proposal, team, SLA commitment and files beside the round's criteria,
scores two bids and saves them with one button; a save that fails keeps what was
typed, with the error beside the field. At desktop and phone width (390 px) the page
does not scroll sideways; screenshots of both are kept in tests/e2e/screenshots/."""

from __future__ import annotations

import msgspec
import pytest
from playwright.async_api import expect

from bids.schemas import BidSubmit
from bids.services import evaluation, submission
from bids.tables import Score
from fuwu.services import accounts
from tenders.services import lifecycle
from tests.conftest import add_member, new_actor
from tests.e2e.conftest import screenshot_path
from tests.e2e.test_tendering_flow import logged_in_page, org_name
from tests.tendering import bid_body, pass_bid_deadline, tender_body

pytestmark = pytest.mark.e2e

ROUNDS = [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                   {"name": "Service quality", "weight": 30},
                                                   {"name": "Team and experience", "weight": 30}]}]
LONG_PROPOSAL = ("Twelve trained agents across two shifts, 09:00-24:00, with a night escalation line; "
                 "first response under 20 seconds; weekly quality reviews with your team lead. " * 4).strip()


async def _round_to_score():
    """A tender in evaluation with two bids (one with a file), through the services."""
    from tenders.schemas import TenderCreate

    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    merchant_member = await accounts.membership(merchant.user_id, merchant.org_id)
    data = msgspec.convert(tender_body(rounds=ROUNDS), TenderCreate)
    tender = await lifecycle.create_tender(merchant.viewer, merchant_member, data)
    await lifecycle.publish(merchant.viewer, merchant_member, tender["id"])
    for provider, lead, price in ((alpha, "Liu Yang", 4_000_000), (beta, "Zhao Min", 3_700_000)):
        member = await accounts.membership(provider.user_id, provider.org_id)
        body = bid_body(price, proposal=LONG_PROPOSAL, team={"seats": 12, "agents": ["Sun Li", "Ma Jun"], "lead": lead})
        await submission.submit_bid(provider.viewer, member, tender["id"], msgspec.convert(body, BidSubmit))
        if provider is alpha:
            await submission.add_attachment(provider.viewer, member, tender["id"], "alpha-staffing-plan.pdf",
                                            "application/pdf", b"%PDF-1.4 staffing plan for the night shift")
    await pass_bid_deadline(tender["id"])
    await lifecycle.close_bidding(tender["id"])
    await evaluation.start_evaluation(merchant.viewer, merchant_member, tender["id"])
    return evaluator, alpha, beta, tender["id"]


async def _no_sideways_scroll(page) -> None:
    scroll_width, inner_width = await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, f"the page scrolls sideways: {scroll_width} px in {inner_width} px"


async def test_an_evaluator_scores_two_bids_on_one_page(new_page):
    evaluator, alpha, beta, tender_id = await _round_to_score()
    alpha_name, beta_name = await org_name(alpha), await org_name(beta)
    page = await logged_in_page(new_page, evaluator)
    await page.goto(f"/tenders/{tender_id}/evaluation")
    await page.get_by_test_id("score-round-1").click()
    await expect(page.get_by_test_id("scoring-page")).to_be_visible()

    bids = page.get_by_test_id("scoring-bid")
    await expect(bids).to_have_count(2)
    alpha_sheet = bids.filter(has_text=alpha_name)
    for text in ("Twelve trained agents", "Liu Yang", "Sun Li, Ma Jun", "First response time",
                 "alpha-staffing-plan.pdf", "¥40,000.00"):
        await expect(alpha_sheet).to_contain_text(text)
    await expect(bids.filter(has_text=beta_name)).to_contain_text("Zhao Min")
    await expect(page.get_by_label(f"Price · {alpha_name}", exact=True)).to_have_count(0)

    # A failed save: one score out of range. Nothing is stored; everything typed stays.
    await page.get_by_label(f"Service quality · {alpha_name}", exact=True).fill("8")
    await page.get_by_label(f"Team and experience · {alpha_name}", exact=True).fill("7.5")
    await page.get_by_label(f"Comment · Service quality · {alpha_name}", exact=True).fill("Clear escalation path")
    await page.get_by_label(f"Service quality · {beta_name}", exact=True).fill("6")
    beta_team = page.get_by_label(f"Team and experience · {beta_name}", exact=True)
    # The browser's own range check would stop the post; the server must hold without it.
    await page.get_by_test_id("scoring-form").evaluate("form => form.noValidate = true")
    await beta_team.fill("12")
    await page.get_by_test_id("save-all-scores").click()
    await expect(page.get_by_test_id("scoring-error")).to_contain_text("Nothing was saved")
    beta_team = page.get_by_label(f"Team and experience · {beta_name}", exact=True)
    await expect(beta_team).to_have_value("12")
    await expect(beta_team).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("field-error")).to_have_count(1)
    await expect(page.get_by_test_id("field-error")).to_have_text("Enter a score from 0 to 10.")
    await expect(page.get_by_label(f"Service quality · {alpha_name}", exact=True)).to_have_value("8")
    await expect(page.get_by_label(f"Team and experience · {alpha_name}", exact=True)).to_have_value("7.5")
    await expect(page.get_by_label(f"Service quality · {beta_name}", exact=True)).to_have_value("6")
    await expect(page.get_by_label(f"Comment · Service quality · {alpha_name}", exact=True)).to_have_value(
        "Clear escalation path")
    assert await Score.count().where(Score.round.tender == tender_id) == 0

    # Corrected, the one button saves both bids' scores.
    await beta_team.fill("9")
    await page.get_by_test_id("save-all-scores").click()
    await expect(page.get_by_test_id("scoring-notice")).to_have_text("Your scores were saved.")
    await expect(page.get_by_test_id("field-error")).to_have_count(0)
    for label, value in (("Service quality", "8"), ("Team and experience", "7.5")):
        await expect(page.get_by_label(f"{label} · {alpha_name}", exact=True)).to_have_value(value)
    for label, value in (("Service quality", "6"), ("Team and experience", "9")):
        await expect(page.get_by_label(f"{label} · {beta_name}", exact=True)).to_have_value(value)
    assert await Score.count().where(Score.round.tender == tender_id) == 4

    await page.set_viewport_size({"width": 1280, "height": 900})
    await _no_sideways_scroll(page)
    await page.screenshot(path=screenshot_path("scoring-round-1280.png"), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await _no_sideways_scroll(page)
    # On a phone the scores follow each bid rather than sit beside it, and stay usable.
    field = page.get_by_label(f"Service quality · {beta_name}", exact=True)
    await field.scroll_into_view_if_needed()
    box = await field.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    await page.screenshot(path=screenshot_path("scoring-round-390.png"), full_page=True)
