"""The tendering path in a real browser, from the tender form to the award.

A merchant creates and publishes a pre-sales customer-service tender through the web
form; two providers, each in its own browser context, find it under Open tenders and
bid; one asks a question, which the merchant answers. The merchant amends the tender;
one provider confirms its bid, the other revises. After the bid deadline (moved into
the past in the database, as if time passed) the merchant evaluates in two rounds
(proposal review, then a presentation whose slot the provider confirms), compares the
bids side by side and awards. Every step asserts what the person on that page sees.
"""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.async_api import Dialog, Page, expect

from fuwu.clock import local, now
from fuwu.services import accounts
from tests.conftest import PASSWORD, Actor, new_actor, unique
from tests.e2e.conftest import screenshot_path
from tests.tendering import pass_bid_deadline

pytestmark = pytest.mark.e2e

DASHBOARD_URL = re.compile(r"/dashboard$")
TENDER_URL = re.compile(r"/tenders/([0-9a-f-]{36})(?:[?#].*)?$")
EVALUATION_URL = re.compile(r"/tenders/[0-9a-f-]{36}/evaluation(?:#.*)?$")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"

TEAM = "Team and experience"
PITCH = "Presentation"


# --- helpers ---------------------------------------------------------------------------


async def org_name(actor: Actor) -> str:
    return (await accounts.get_organisation(actor.org_id))["name"]


async def logged_in_page(new_page, actor: Actor) -> Page:
    """A page in a browser context of its own, logged in as `actor`."""
    page = await new_page()
    await page.goto("/login")
    await page.locator("input[name=email]").fill(actor.email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page).to_have_url(DASHBOARD_URL)
    return page


def in_zone(zone: str, delta: datetime.timedelta) -> str:
    """A datetime-local value `delta` from the server's now, in the viewer's zone."""
    return local(now() + delta, zone).strftime(LOCAL_INPUT)


def accept_confirms(page: Page) -> None:
    """Accept the confirm() dialogs of forms such as "Close round" (Playwright would
    dismiss them, which cancels the submission)."""
    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)


async def unread_count(page: Page) -> int:
    """The number on the notification bell (no badge means none unread)."""
    await expect(page.get_by_test_id("bell")).to_be_visible()
    badge = page.get_by_test_id("unread")
    return int(await badge.inner_text()) if await badge.count() else 0


async def status_badge(page: Page, status: str, text: str) -> None:
    badge = page.get_by_test_id("status-badge")
    await expect(badge).to_have_attribute("data-status", status)
    await expect(badge).to_have_text(text)


async def fill_tender_form(page: Page, title: str) -> str:
    """Every part of the form: category fields, budget, pricing, an SLA row, two
    rounds and the deadlines. Returns the viewer's time zone, which the form offers."""
    form = page.get_by_test_id("tender-form")
    await page.get_by_test_id("category").select_option("cs_presales")
    await page.get_by_test_id("title").fill(title)
    await page.get_by_test_id("brief").fill("Peak season 11.11; apparel; about 2,000 conversations a day on Tmall.")

    # The form offers the viewer's own zone as the service's time zone; the deadlines
    # are entered in that zone too.
    zone = await form.locator("input[name=cs_time_zone]").input_value()
    assert zone, "the form pre-fills the time zone"
    await expect(form.locator("input[name=cs_seats]")).to_be_visible()
    await expect(form.locator("input[name=photo_skus]")).to_be_hidden()  # another category's field
    await form.locator("input[name=cs_seats]").fill("12")
    await form.locator("input[name=cs_coverage_hours]").fill("09:00-24:00")
    await form.locator("input[name=cs_time_zone]").fill(zone)
    await form.locator("input[name=cs_daily_conversations]").fill("2000")
    await form.locator("input[name=cs_languages]").fill("zh, en")

    await page.get_by_test_id("budget-min").fill("30000.00")
    await page.get_by_test_id("budget-max").fill("60000.00")
    await form.locator("select[name=currency]").select_option("CNY")
    await form.locator("input[name=pricing_models][value=periodic_fee]").check()
    await form.locator("input[name=pricing_models][value=metered]").check()

    await form.locator("select[name=sla_0_metric]").select_option("first_response_time")
    await form.locator("select[name=sla_0_statistic]").select_option("mean")
    await form.locator("select[name=sla_0_comparator]").select_option("<=")
    await form.locator("input[name=sla_0_target]").fill("25")
    await form.locator("select[name=sla_0_window]").select_option("month")
    await form.locator("input[name=sla_0_weight]").fill("50")
    await form.locator("input[name=sla_0_credit]").fill("5")

    # Round 1: proposal review with the price criterion and one scored criterion.
    await expect(page.get_by_test_id("round-proposal_review")).to_be_checked()
    await form.locator("input[name=round_proposal_review_0_name]").fill("Price")
    await form.locator("input[name=round_proposal_review_0_weight]").fill("40")
    await form.locator("input[name=round_proposal_review_0_price]").check()
    await form.locator("input[name=round_proposal_review_1_name]").fill(TEAM)
    await form.locator("input[name=round_proposal_review_1_weight]").fill("60")
    await form.locator("input[name=round_proposal_review_1_price]").uncheck()
    # Round 2: a presentation, its criteria shown once the round is ticked.
    presentation = page.get_by_test_id("round-presentation")
    await presentation.check()
    await expect(form.locator("input[name=round_presentation_0_name]")).to_be_visible()
    await form.locator("input[name=round_presentation_0_name]").fill(PITCH)
    await form.locator("input[name=round_presentation_0_weight]").fill("70")
    await form.locator("input[name=round_presentation_1_name]").fill("Price")
    await form.locator("input[name=round_presentation_1_weight]").fill("30")
    await form.locator("input[name=round_presentation_1_price]").check()
    await expect(page.get_by_test_id("round-site_inspection")).not_to_be_checked()
    for total in await form.locator("output[data-weight-total]").all():
        if await total.is_visible():
            await expect(total).to_have_text("100")

    await form.locator("input[name=visibility][value=public]").check()
    await form.locator("input[name=min_bids]").fill("1")
    await page.get_by_test_id("questions-deadline").fill(in_zone(zone, datetime.timedelta(hours=1)))
    await page.get_by_test_id("bid-deadline").fill(in_zone(zone, datetime.timedelta(hours=2)))
    await page.get_by_test_id("evaluation-end").fill(in_zone(zone, datetime.timedelta(days=14)))
    return zone


async def submit_bid(page: Page, *, price: str, proposal: str, lead: str, agents: str) -> None:
    form = page.get_by_test_id("bid-form")
    await expect(form).to_be_visible()
    await form.get_by_test_id("bid-price").fill(price)
    await form.get_by_test_id("bid-pricing-model").select_option("periodic_fee")
    await expect(form.locator("input[name=valid_until]")).not_to_have_value("")  # suggested by the page
    await form.locator("textarea[name=proposal]").fill(proposal)
    # The SLA commitment starts from the tender's target, to match or beat: beat it.
    await expect(form.locator("select[name=sla_metric]").first).to_have_value("first_response_time")
    await form.locator("input[name=sla_target]").first.fill("20")
    await form.locator("input[name=seats]").fill("12")
    await form.locator("input[name=lead]").fill(lead)
    await form.locator("textarea[name=agents]").fill(agents)
    await form.get_by_test_id("bid-form-submit").click()
    await expect(page.get_by_test_id("bid-notice")).to_have_text(
        "Your bid was submitted. It stays sealed until the bid deadline.")
    await expect(page.get_by_test_id("bid-status")).to_have_text("Submitted")


async def save_scores(page: Page, number: int, scores: dict[str, dict[str, str]]) -> None:
    """Score every bid of round `number` on the round's scoring page ({provider:
    {criterion: value}}), save them all at once and come back to the evaluation."""
    await page.get_by_test_id(f"score-round-{number}").click()
    await expect(page.get_by_test_id("scoring-page")).to_be_visible()
    for provider, values in scores.items():
        for criterion, value in values.items():
            await page.get_by_label(f"{criterion} · {provider}", exact=True).fill(value)
    await page.get_by_test_id("save-all-scores").click()
    await expect(page.get_by_test_id("scoring-notice")).to_have_text("Your scores were saved.")
    for provider, values in scores.items():  # the saved scores come back pre-filled
        for criterion, value in values.items():
            await expect(page.get_by_label(f"{criterion} · {provider}", exact=True)).to_have_value(value)
    await page.get_by_role("link", name="Back to the evaluation").click()
    await expect(page).to_have_url(EVALUATION_URL)
    for provider, values in scores.items():
        row = page.get_by_test_id(f"scoring-table-{number}").locator("tbody tr").filter(has_text=provider)
        for value in values.values():
            await expect(row).to_contain_text(value)


async def close_round(page: Page, number: int) -> None:
    section = page.get_by_test_id(f"round-{number}")
    await section.get_by_test_id("close-round").click()
    await expect(page.get_by_test_id(f"round-{number}").get_by_role("heading", level=2)).to_contain_text("Closed")
    await expect(page.get_by_test_id(f"results-{number}")).to_be_visible()


def result_row(page: Page, number: int, provider: str):
    return page.get_by_test_id(f"results-{number}").locator("tbody tr").filter(has_text=provider)


# --- the scenario ----------------------------------------------------------------------


async def test_tender_from_the_form_to_the_award(new_page):
    merchant = await new_actor("merchant")
    alpha = await new_actor("provider")  # asks, confirms after the amendment, presents, wins
    beta = await new_actor("provider")  # revises after the amendment, loses
    shop, alpha_name, beta_name = await org_name(merchant), await org_name(alpha), await org_name(beta)
    title = f"Pre-sales customer service for our Tmall store {unique('t')}"

    # --- The merchant creates the tender through the form and publishes it. ---------
    boss = await logged_in_page(new_page, merchant)
    accept_confirms(boss)
    await boss.locator("nav.mainnav").get_by_role("link", name="Tenders").click()
    await expect(boss).to_have_url(re.compile(r"/tenders$"))
    await boss.get_by_test_id("new-tender").click()
    await expect(boss).to_have_url(re.compile(r"/tenders/new$"))
    await expect(boss.get_by_role("heading", level=1)).to_have_text("New tender")
    zone = await fill_tender_form(boss, title)
    await boss.get_by_test_id("evaluation-end").blur()
    await boss.screenshot(path=screenshot_path("tender-form.png"), full_page=True)
    await boss.get_by_test_id("tender-submit").click()

    await expect(boss).to_have_url(TENDER_URL)
    await expect(boss.get_by_test_id("page-error")).to_have_count(0)
    tender_id = TENDER_URL.search(boss.url).group(1)
    tender_path = f"/tenders/{tender_id}"
    await expect(boss.get_by_test_id("tender-title")).to_have_text(title)
    await status_badge(boss, "draft", "Draft")
    requirements = boss.get_by_test_id("requirements")
    for shown in ("Seats", "12", "Coverage hours", "09:00-24:00", "Expected daily conversations", "2000",
                  "Languages", "zh, en"):
        await expect(requirements).to_contain_text(shown)
    await expect(boss.get_by_test_id("budget")).to_have_text("¥30,000.00 – ¥60,000.00")
    await expect(boss.get_by_test_id("sla-targets")).to_contain_text("First response time")
    await expect(boss.get_by_test_id("sla-targets")).to_contain_text("mean <= 25")
    rounds = boss.get_by_test_id("rounds")
    await expect(rounds.locator(":scope > li")).to_have_count(2)
    await expect(rounds.locator(":scope > li").nth(0)).to_contain_text("Proposal review")
    await expect(rounds.locator(":scope > li").nth(0)).to_contain_text(f"{TEAM} · 60")
    await expect(rounds.locator(":scope > li").nth(1)).to_contain_text("Presentation")

    await boss.get_by_test_id("publish-submit").click()
    await status_badge(boss, "published", "Published")
    await expect(boss.get_by_test_id("countdown")).to_contain_text("left to bid")
    await expect(boss.get_by_test_id("bids-sealed")).to_have_text("Bids are sealed until the bid deadline.")

    # --- Provider alpha finds it under Open tenders, asks a question and bids. -------
    pa = await logged_in_page(new_page, alpha)
    accept_confirms(pa)
    await pa.locator("nav.mainnav").get_by_role("link", name="Open tenders").click()
    await expect(pa).to_have_url(re.compile(r"/open-tenders$"))
    await pa.get_by_test_id("open-search").locator("input[name=q]").fill(title)
    await pa.get_by_test_id("search-submit").click()
    row = pa.get_by_test_id("open-tender-row").filter(has_text=title)
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(shop)
    await expect(row).to_contain_text("¥30,000.00 – ¥60,000.00")
    await row.get_by_role("link", name=title).click()
    await expect(pa).to_have_url(re.compile(re.escape(tender_path) + "$"))
    await expect(pa.get_by_test_id("tender-title")).to_have_text(title)
    await status_badge(pa, "published", "Published")
    await expect(pa.get_by_test_id("merchant-name")).to_have_text(shop)

    question = "Do you need agents on duty during the 11.11 night shift, after midnight?"
    ask = pa.get_by_test_id("ask-form")
    await ask.locator("textarea[name=text]").fill(question)
    await ask.get_by_test_id("ask-submit").click()
    await expect(pa).to_have_url(re.compile(r"#questions$"))
    asked = pa.get_by_test_id("question").filter(has_text=question)
    await expect(asked).to_have_count(1)
    await expect(asked.get_by_test_id("mine")).to_be_visible()
    await expect(asked).to_contain_text("Not answered yet.")

    await submit_bid(pa, price="40000.00", proposal="12 trained agents, 09:00-24:00; first response under 20 s.",
                     lead="Liu Yang", agents="Sun Li\nMa Jun")
    await expect(pa.get_by_test_id("bid-price-shown")).to_contain_text("¥40,000.00 · Periodic fee")

    # --- Provider beta bids too. -------------------------------------------------------
    pb = await logged_in_page(new_page, beta)
    accept_confirms(pb)
    await pb.goto(f"/open-tenders?q={title}")
    await pb.get_by_test_id("open-tender-row").filter(has_text=title).get_by_role("link", name=title).click()
    await expect(pb.get_by_test_id("tender-title")).to_have_text(title)
    # The question is public, the asker anonymous: not beta's own.
    await expect(pb.get_by_test_id("question").filter(has_text=question).get_by_test_id("mine")).to_have_count(0)
    await submit_bid(pb, price="38000.00", proposal="A night team in Chengdu; bilingual agents.", lead="Zhou Min",
                     agents="He Ping\nXu Lan")

    # The merchant still sees nothing of the bids, not even how many there are.
    await boss.reload()
    await expect(boss.get_by_test_id("bids-sealed")).to_be_visible()
    await expect(boss.get_by_test_id("bids-panel")).not_to_contain_text("2")

    # --- The merchant answers the question and amends the tender. --------------------
    answer = "Yes: two agents from 00:00 to 02:00 during the 11.11 week."
    open_question = boss.get_by_test_id("question").filter(has_text=question)
    await open_question.locator("textarea[name=answer]").fill(answer)
    await open_question.get_by_test_id("answer-submit").click()
    await expect(boss).to_have_url(re.compile(r"#questions$"))
    await expect(boss.get_by_test_id("question").filter(has_text=question).get_by_test_id("answer")
                 ).to_contain_text(answer)

    await boss.get_by_test_id("amend-link").click()
    await expect(boss).to_have_url(re.compile(re.escape(tender_path) + "/edit$"))
    await expect(boss.get_by_role("heading", level=1)).to_have_text("Amend the tender")
    await expect(boss.get_by_test_id("amend-warning")).to_be_visible()
    await expect(boss.locator("input[name=cs_daily_conversations]")).to_have_value("2000")
    await boss.locator("input[name=cs_daily_conversations]").fill("2500")
    reason = "Peak-season volume is higher than we first estimated."
    await boss.get_by_test_id("amend-reason").fill(reason)
    await boss.get_by_test_id("tender-submit").click()
    await expect(boss).to_have_url(re.compile(re.escape(tender_path) + "$"))
    await status_badge(boss, "published", "Published")
    await expect(boss.locator(".tender-head")).to_contain_text("1 amendment")
    amendments = boss.get_by_test_id("amendments")
    await expect(amendments).to_contain_text("Amendment 1")
    await expect(amendments).to_contain_text(reason)
    changes = amendments.locator("table.changes tr")
    await expect(changes).to_have_count(1)  # only what was changed
    await expect(changes.first).to_contain_text("Requirements")
    await expect(changes.first.locator("td.before")).to_contain_text("Expected daily conversations: 2000")
    await expect(changes.first.locator("td.after")).to_contain_text("Expected daily conversations: 2500")
    await expect(boss.get_by_test_id("requirements")).to_contain_text("2500")

    # --- Alpha sees the answer and that its bid needs confirmation; confirms it. -----
    await pa.goto(tender_path)
    await expect(pa.get_by_test_id("question").filter(has_text=question).get_by_test_id("answer")
                 ).to_contain_text(answer)
    await expect(pa.get_by_test_id("amendments")).to_contain_text(reason)
    await expect(pa.get_by_test_id("bid-status")).to_have_text("Needs confirmation")
    attention = pa.get_by_test_id("needs-confirmation")
    await expect(attention).to_contain_text("The tender was amended after you bid.")
    await attention.get_by_test_id("confirm-bid").click()
    await expect(pa.get_by_test_id("bid-notice")).to_have_text("Your bid is confirmed.")
    await expect(pa.get_by_test_id("bid-status")).to_have_text("Submitted")
    await expect(pa.get_by_test_id("needs-confirmation")).to_have_count(0)

    # --- Beta revises its price instead (a revision confirms too). --------------------
    await pb.reload()
    await expect(pb.get_by_test_id("bid-status")).to_have_text("Needs confirmation")
    await pb.locator("details.bids-revise > summary").click()
    revise = pb.get_by_test_id("revise-form")
    await expect(revise.get_by_test_id("bid-price")).to_have_value("38000.00")
    await revise.get_by_test_id("bid-price").fill("37000.00")
    await revise.get_by_test_id("revise-form-submit").click()
    await expect(pb.get_by_test_id("bid-notice")).to_have_text("Your bid was revised.")
    await expect(pb.get_by_test_id("bid-status")).to_have_text("Submitted")
    await expect(pb.get_by_test_id("bid-terms")).to_contain_text("version 2")
    await expect(pb.get_by_test_id("bid-price-shown")).to_contain_text("¥37,000.00")

    # --- Time passes the bid deadline; the merchant starts the evaluation. -----------
    await pass_bid_deadline(tender_id)
    await boss.reload()
    await status_badge(boss, "bidding_closed", "Bidding closed")
    await expect(boss.get_by_test_id("bids-sealed")).to_have_count(0)
    await expect(boss.get_by_test_id("evaluation-link")).to_be_visible()
    await boss.get_by_test_id("bids-panel").get_by_test_id("start-evaluation").click()
    await expect(boss).to_have_url(re.compile(re.escape(tender_path) + r"/evaluation#round-1$"))
    await expect(boss.get_by_test_id("evaluation-page")).to_contain_text("2 bids counted at the deadline.")
    await expect(boss.get_by_test_id("evaluation-page")).to_contain_text("2 evaluation rounds planned.")
    await expect(boss.get_by_test_id("round-1").get_by_role("heading", level=2)).to_contain_text(
        "Round 1 of 2: Proposal review")
    await expect(boss.get_by_test_id("round-1").get_by_role("heading", level=2)).to_contain_text("Open")
    scoring = boss.get_by_test_id("scoring-table-1")
    await expect(scoring.locator("tbody tr")).to_have_count(2)
    await expect(scoring.locator("thead")).not_to_contain_text("Price ·")
    await expect(scoring.locator("tbody tr").filter(has_text=beta_name)).to_contain_text("¥37,000.00")

    # --- Round 1: score both, close, shortlist both. ----------------------------------
    await save_scores(boss, 1, {alpha_name: {TEAM: "9"}, beta_name: {TEAM: "7"}})
    await close_round(boss, 1)
    # Price 40: beta's 37,000 is lowest -> 40.00; alpha 40 x 37/40 = 37.00.
    # Team 60: alpha 9 -> 54.00; beta 7 -> 42.00. Totals: alpha 91.00, beta 82.00.
    await expect(result_row(boss, 1, alpha_name).locator("td").first).to_have_text("1")
    await expect(result_row(boss, 1, alpha_name)).to_contain_text("91.00")
    await expect(result_row(boss, 1, beta_name).locator("td").first).to_have_text("2")
    await expect(result_row(boss, 1, beta_name)).to_contain_text("82.00")

    pick = boss.get_by_test_id("shortlist-pick-form")
    await pick.get_by_label(f"1. {alpha_name}").check()
    await pick.get_by_label(f"2. {beta_name}").check()
    await pick.get_by_test_id("shortlist-picked").click()
    await expect(boss).to_have_url(re.compile(r"/evaluation#round-2$"))
    await expect(boss.get_by_test_id("shortlist-pick-form")).to_have_count(0)
    for provider in (alpha_name, beta_name):
        await expect(result_row(boss, 1, provider).locator("td").last).to_have_text("yes")
    round_two = boss.get_by_test_id("round-2")
    await expect(round_two.get_by_role("heading", level=2)).to_contain_text("Round 2 of 2: Presentation")
    await expect(round_two.get_by_role("heading", level=2)).to_contain_text("Open")

    # --- Round 2: a presentation slot for alpha, which alpha confirms. ----------------
    slot_day = local(now() + datetime.timedelta(days=2), zone).date()
    slot_row = boss.get_by_test_id("slots-table").locator("tbody tr").filter(has_text=alpha_name)
    await expect(slot_row).to_contain_text("not scheduled")
    slot_form = slot_row.get_by_test_id("slot-form")
    await slot_form.locator("input[name=starts_at]").fill(f"{slot_day.isoformat()}T10:00")
    await slot_form.locator("input[name=ends_at]").fill(f"{slot_day.isoformat()}T10:45")
    place = "Hangzhou office, meeting room 3"
    await slot_form.locator("input[name=place]").fill(place)
    await slot_form.get_by_test_id("schedule-slot").click()
    await expect(boss).to_have_url(re.compile(r"/evaluation#round-2$"))
    await expect(boss.get_by_test_id("evaluation-error")).to_have_count(0)
    slot_row = boss.get_by_test_id("slots-table").locator("tbody tr").filter(has_text=alpha_name)
    await expect(slot_row).to_contain_text(f"{slot_day.isoformat()} 10:00 · {place}")
    await expect(slot_row.get_by_test_id("slot-confirmed")).to_have_text("waiting")

    await pa.goto(tender_path)
    await status_badge(pa, "evaluating", "Evaluating")
    await expect(pa.get_by_test_id("bid-result")).to_contain_text("under evaluation")
    my_slots = pa.get_by_test_id("my-slots")
    await expect(my_slots).to_contain_text(place)
    await my_slots.get_by_test_id("confirm-slot").click()
    await expect(pa.get_by_test_id("bid-notice")).to_have_text("You confirmed the presentation slot.")
    await expect(pa.get_by_test_id("my-slots")).to_contain_text("confirmed")
    await expect(pa.get_by_test_id("confirm-slot")).to_have_count(0)

    await boss.reload()
    slot_row = boss.get_by_test_id("slots-table").locator("tbody tr").filter(has_text=alpha_name)
    await expect(slot_row.get_by_test_id("slot-confirmed")).to_have_text("confirmed")

    # --- Round 2: score, close. ---------------------------------------------------------
    await save_scores(boss, 2, {alpha_name: {PITCH: "9"}, beta_name: {PITCH: "6"}})
    await close_round(boss, 2)
    # Presentation 70: alpha 9 -> 63.00, beta 6 -> 42.00. Price 30: beta 30.00, alpha 27.75.
    await expect(result_row(boss, 2, alpha_name)).to_contain_text("90.75")
    await expect(result_row(boss, 2, alpha_name).locator("td").first).to_have_text("1")
    await expect(result_row(boss, 2, beta_name)).to_contain_text("72.00")
    await expect(result_row(boss, 2, beta_name).locator("td").first).to_have_text("2")

    # --- The award, to the top bid; the loser's bell count rises. ---------------------
    await pb.goto(tender_path)
    loser_unread = await unread_count(pb)

    award_form = boss.get_by_test_id("award-form")
    await expect(award_form).to_be_visible()
    await award_form.get_by_label(f"Rank 1 · {alpha_name}").check()
    await award_form.get_by_test_id("award-button").click()
    await expect(boss).to_have_url(re.compile(r"/evaluation#award$"))
    await expect(boss.get_by_test_id("evaluation-error")).to_have_count(0)
    await expect(boss.get_by_test_id("award-made")).to_contain_text(f"Awarded to {alpha_name}")
    await expect(boss.get_by_test_id("award-form")).to_have_count(0)

    await boss.goto(tender_path)
    await status_badge(boss, "awarded", "Awarded")

    # --- The comparison, side by side. -------------------------------------------------
    await boss.get_by_test_id("bids-panel").get_by_test_id("comparison-link").click()
    await expect(boss).to_have_url(re.compile(re.escape(tender_path) + "/comparison$"))
    table = boss.get_by_test_id("comparison-table")
    await expect(table.get_by_test_id("comparison-bid")).to_have_text([alpha_name, beta_name])  # by ranking
    for figure in ("¥40,000.00", "¥37,000.00", "91.00", "82.00", "90.75", "72.00", place, "confirmed",
                   "Liu Yang", "Zhou Min"):
        await expect(table).to_contain_text(figure)
    await expect(table.get_by_test_id("top-total")).to_have_count(2)  # one per round, both alpha's
    result = table.locator("tr").filter(has=boss.get_by_role("rowheader", name="Result", exact=True))
    await expect(result.locator("td")).to_have_text(["Awarded", "Not awarded"])
    await boss.screenshot(path=screenshot_path("comparison.png"), full_page=True)

    # --- What the providers see. -------------------------------------------------------
    await pa.reload()
    await status_badge(pa, "awarded", "Awarded")
    await expect(pa.get_by_test_id("bid-result")).to_contain_text("Awarded")

    await pb.reload()
    await expect(pb.get_by_test_id("bid-result")).to_contain_text("Not awarded")
    await expect(pb.get_by_test_id("unread")).to_have_text(str(loser_unread + 1))
    await pb.get_by_test_id("bell").click()
    await expect(pb).to_have_url(re.compile(r"/notifications$"))
    told = pb.locator("main li").filter(has_text=f"Not awarded: {title}")
    await expect(told).to_have_count(1)
    await expect(told).to_contain_text(re.compile(r"Final rank 2 of 2, score 72(\.0+)? of 100\."))
