"""The bid and evaluation pages, through the browser's forms: a provider bids,
revises, confirms after an amendment, uploads a file and withdraws; the merchant sees
nothing of the bids before the deadline, then evaluates, shortlists, schedules a
presentation and awards; the comparison lists every bid with its scores."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from bids.tables import Bid, PresentationSlot
from fuwu.clock import now
from tenders.tables import Tender
from tests.conftest import add_member, csrf_token, new_actor, web_login
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[3]


def panel_path(tender_id) -> str:
    """The tender page once it has its template; until then the bids panel's own page."""
    if (ROOT / "tenders" / "templates" / "tenders" / "tender.html").exists():
        return f"/tenders/{tender_id}"
    return f"/tenders/{tender_id}/bid"


def bids_panel(html: str) -> str:
    match = re.search(r'<section class="card bids-panel".*?</section>', html, re.S)
    assert match, "no bids panel on the page"
    return match.group(0)


async def post_form(browser, path: str, page: str, data: dict, files=None):
    token = await csrf_token(browser, page)
    return await browser.post(path, data={"_csrf_token": token, **data}, files=files, follow_redirects=False)


def valid_date(days: int = 60) -> str:
    return (now().astimezone(SHANGHAI) + datetime.timedelta(days=days)).date().isoformat()


def bid_form(price: str, **overrides) -> dict:
    form = {
        "price": price, "pricing_model": "periodic_fee", "price_unit": "",
        "proposal": "Twelve trained agents, 09:00-24:00, first response under 20 s.",
        "sla_metric": ["first_response_time", ""], "sla_statistic": ["mean", "mean"],
        "sla_comparator": ["<=", "<="], "sla_target": ["18", ""], "sla_window": ["month", "month"],
        "seats": "12", "agents": "Sun Li\r\nMa Jun\r\n\r\n", "lead": "Liu Yang", "valid_until": valid_date(),
    }
    form.update(overrides)
    return form


async def live_bid(tender_id, provider) -> dict | None:
    return await Bid.select().where((Bid.tender == tender_id) & (Bid.provider == provider.org_id)).order_by(
        Bid.first_submitted_at, ascending=False).output(load_json=True).first()


async def test_provider_bids_revises_confirms_uploads_and_withdraws_through_the_forms(client, make_client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tender = await published_tender(client, merchant)
    tid = tender["id"]
    browser = await make_client()
    await web_login(browser, provider)
    page = panel_path(tid)

    first = await browser.get(page)
    assert first.status_code == 200
    panel = bids_panel(first.text)
    assert 'data-testid="bid-form"' in panel
    # Only the pricing models the tender accepts are offered.
    assert 'value="periodic_fee"' in panel and 'value="metered"' in panel and 'value="per_order"' not in panel

    # Yuan to fen exactly: 45,678.91 is 4567891 fen (a float would give 4567890).
    sent = await post_form(browser, f"/tenders/{tid}/bid", page, bid_form("45,678.91"))
    assert sent.status_code == 303, sent.text[:500]
    assert sent.headers["location"].startswith(f"/tenders/{tid}")
    bid = await live_bid(tid, provider)
    assert bid["price_amount"] == 4567891 and bid["status"] == "submitted" and bid["version"] == 1
    assert bid["team"] == {"seats": 12, "agents": ["Sun Li", "Ma Jun"], "lead": "Liu Yang"}
    assert bid["sla_commitment"][0]["metric"] == "first_response_time" and bid["sla_commitment"][0]["target"] == 18
    assert len(bid["sla_commitment"]) == 1, "the empty row is dropped"
    until = bid["valid_until"].astimezone(SHANGHAI)
    assert until.date().isoformat() == valid_date() and (until.hour, until.minute) == (23, 59)

    shown = bids_panel((await browser.get(page)).text)
    assert "¥45,678.91" in shown and 'data-testid="revise-form"' in shown and 'data-testid="withdraw-bid"' in shown
    assert 'data-testid="bid-form"' not in shown
    assert 'value="45678.91"' in shown, "the revise form is prefilled with the bid"

    # A price with three decimals is refused, and the typed proposal stays in the form.
    refused = await post_form(browser, f"/tenders/{tid}/bid/revise", page,
                              bid_form("10.005", proposal="My long proposal text"))
    assert refused.status_code == 422
    assert "at most two decimals" in refused.text and "My long proposal text" in refused.text
    # A pricing model the tender does not take is refused by the service, shown on the page.
    refused = await post_form(browser, f"/tenders/{tid}/bid/revise", page, bid_form("100", pricing_model="per_order"))
    assert refused.status_code == 422 and "accepts these pricing models" in refused.text
    assert (await live_bid(tid, provider))["version"] == 1

    revised = await post_form(browser, f"/tenders/{tid}/bid/revise", page, bid_form("50000"))
    assert revised.status_code == 303
    bid = await live_bid(tid, provider)
    assert bid["price_amount"] == 5_000_000 and bid["version"] == 2

    # The merchant amends the tender: the panel asks for confirmation, and confirming works.
    amended = await client.patch(tender_url(merchant, tid), json={"budget_max": 7_000_000, "reason": "More seats"},
                                 headers=merchant.headers)
    assert amended.status_code == 200, amended.text
    shown = bids_panel((await browser.get(page)).text)
    assert 'data-testid="needs-confirmation"' in shown and 'data-testid="confirm-bid"' in shown
    confirmed = await post_form(browser, f"/tenders/{tid}/bid/confirm", page, {})
    assert confirmed.status_code == 303
    assert (await live_bid(tid, provider))["status"] == "submitted"
    shown = bids_panel((await browser.get(page)).text)
    assert 'data-testid="confirm-bid"' not in shown

    # A file goes up through the multipart form and comes back through its link.
    uploaded = await post_form(browser, f"/tenders/{tid}/bid/attachments", page, {},
                               files={"file": ("plan.pdf", b"%PDF-1.4 our plan", "application/pdf")})
    assert uploaded.status_code == 303, uploaded.text[:500]
    shown = bids_panel((await browser.get(page)).text)
    link = re.search(rf'href="(/tenders/{tid}/attachments/[0-9a-f-]+)"[^>]*>plan.pdf<', shown)
    assert link, shown
    download = await browser.get(link.group(1))
    assert download.status_code == 200 and download.content == b"%PDF-1.4 our plan"
    assert "attachment" in download.headers["content-disposition"]

    # The history lists every step.
    history = re.search(r'data-testid="bid-history".*?</table>', shown, re.S).group(0)
    for action in ("Submitted", "Revised", "Confirmed"):
        assert f"<td>{action}</td>" in history

    withdrawn = await post_form(browser, f"/tenders/{tid}/bid/withdraw", page, {})
    assert withdrawn.status_code == 303
    assert (await live_bid(tid, provider))["status"] == "withdrawn"
    shown = bids_panel((await browser.get(page)).text)
    assert 'data-testid="bid-form"' in shown

    # Bidding again works; a second submission while one is live is a 409 shown by a fixed code.
    again = await post_form(browser, f"/tenders/{tid}/bid", page, bid_form("42000"))
    assert again.status_code == 303
    twice = await post_form(browser, f"/tenders/{tid}/bid", page, bid_form("42000"))
    assert twice.status_code == 303 and "bid_error=bid_already_exists" in twice.headers["location"]
    shown = bids_panel((await browser.get(twice.headers["location"])).text)
    assert "revise it instead" in shown
    # Only known codes turn into a message; nothing from the address is echoed.
    shown = bids_panel((await browser.get(f"{page}?bid_error=%3Cscript%3Ealert(1)%3C/script%3E")).text)
    assert "<script>alert" not in shown and 'data-testid="bid-error"' not in shown

    # After the deadline the bid is read-only and a late change is refused with the deadline message.
    await pass_bid_deadline(tid)
    late = await post_form(browser, f"/tenders/{tid}/bid/revise", page, bid_form("1"))
    assert late.status_code == 303 and "bid_error=bid_deadline_passed" in late.headers["location"]
    shown = bids_panel((await browser.get(late.headers["location"])).text)
    assert "Bidding closed at the bid deadline" in shown
    assert 'data-testid="revise-form"' not in shown and 'data-testid="withdraw-bid"' not in shown
    assert "¥42,000.00" in shown
    assert (await live_bid(tid, provider))["price_amount"] == 4_200_000


async def test_merchant_sees_bids_sealed_and_no_count_before_the_deadline(client, make_client):
    merchant = await new_actor("merchant")
    with_bids = await published_tender(client, merchant)
    without_bids = await published_tender(client, merchant)
    for _ in range(2):
        provider = await new_actor("provider")
        response = await client.post(tender_url(provider, with_bids["id"], "/bid"), json=bid_body(),
                                     headers=provider.headers)
        assert response.status_code == 201
    browser = await make_client()
    await web_login(browser, merchant)

    panels = []
    for tender in (with_bids, without_bids):
        response = await browser.get(panel_path(tender["id"]))
        assert response.status_code == 200
        panel = bids_panel(response.text)
        assert "Bids are sealed until the bid deadline." in panel
        assert "evaluation-link" not in panel and "start-evaluation" not in panel
        panels.append(panel.replace(str(tender["id"]), "ID"))
    assert panels[0] == panels[1], "the panel must not depend on the bids"
    assert not re.search(r"\d", re.sub(r"<[^>]+>", "", panels[0])), "no number at all in the sealed panel"

    for suffix in ("/evaluation", "/comparison"):
        sealed = await browser.get(f"/tenders/{with_bids['id']}{suffix}")
        assert sealed.status_code == 409 and "Bids are sealed until the bid deadline" in sealed.text
        assert "2 bids" not in sealed.text


async def test_merchant_evaluates_shortlists_schedules_and_awards_through_the_forms(client, make_client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tender = await published_tender(client, merchant)
    tid = tender["id"]
    for actor, price in ((alpha, 4_000_000), (beta, 3_800_000), (gamma, 4_500_000)):
        response = await client.post(tender_url(actor, tid, "/bid"), json=bid_body(price), headers=actor.headers)
        assert response.status_code == 201
    await pass_bid_deadline(tid)
    bid_of = {actor.org_id: (await live_bid(tid, actor))["id"] for actor in (alpha, beta, gamma)}

    boss = await make_client()
    await web_login(boss, merchant)
    page = panel_path(tid)
    panel = bids_panel((await boss.get(page)).text)
    assert 'data-testid="evaluation-link"' in panel and 'data-testid="comparison-link"' in panel
    assert 'data-testid="start-evaluation"' in panel
    evaluation = f"/tenders/{tid}/evaluation"
    started = await post_form(boss, f"/tenders/{tid}/evaluation/start", page, {})
    assert started.status_code == 303 and started.headers["location"].startswith(evaluation)
    shown = (await boss.get(evaluation)).text
    assert 'data-testid="scoring-table-1"' in shown and 'data-testid="score-round-1"' in shown
    scoring = f"/tenders/{tid}/rounds/1/scoring"
    sheet = (await boss.get(scoring)).text
    assert sum(sheet.count(f'name="score-{bid_id}-1"') for bid_id in bid_of.values()) == 3
    assert not any(f'name="score-{bid_id}-0"' in sheet for bid_id in bid_of.values()), "price is scored automatically"

    # Scores through the round's form; an evaluator scores too; the boss's own scores come back prefilled.
    second = await make_client()
    await web_login(second, evaluator)
    for browser, base in ((boss, 8), (second, 6)):
        typed = {f"score-{bid_of[actor.org_id]}-1": str(base + bonus) for actor, bonus in ((alpha, 1), (beta, 0))}
        saved = await post_form(browser, scoring, scoring, typed)
        assert saved.status_code == 303, saved.text[:800]
    shown = (await boss.get(evaluation)).text
    mine = re.findall(r'data-testid="my-score-1-\d+-1">([^<]*)<', shown)
    assert sorted(mine) == ["8", "9", "—"]
    out_of_range = await post_form(boss, scoring, scoring, {f"score-{bid_of[gamma.org_id]}-1": "11"})
    assert out_of_range.status_code == 422 and 'data-testid="field-error"' in out_of_range.text

    # Closing with gamma unscored is refused with the service's message; an evaluator may not close.
    early = await post_form(boss, f"/tenders/{tid}/rounds/1/close", evaluation, {})
    assert early.status_code == 409 and "Score every bid on every criterion" in early.text
    await post_form(boss, scoring, scoring, {f"score-{bid_of[gamma.org_id]}-1": "5"})
    assert 'data-testid="close-round"' not in (await second.get(evaluation)).text
    not_allowed = await post_form(second, f"/tenders/{tid}/rounds/1/close", evaluation, {})
    assert not_allowed.status_code == 403
    closed = await post_form(boss, f"/tenders/{tid}/rounds/1/close", evaluation, {})
    assert closed.status_code == 303
    shown = (await boss.get(evaluation)).text
    results = re.search(r'data-testid="results-1".*?</table>', shown, re.S).group(0)
    # Price 40: beta lowest -> 40; alpha 38. Team 60: alpha mean 8 -> 48; beta 7 -> 42; gamma 5 -> 30.
    assert "86.00" in results and "82.00" in results
    assert 'data-testid="shortlist-top"' in shown

    shortlisted = await post_form(boss, f"/tenders/{tid}/rounds/1/shortlist", evaluation, {"mode": "top", "top": "2"})
    assert shortlisted.status_code == 303
    assert (await Bid.select(Bid.result).where(Bid.id == bid_of[gamma.org_id]).first())["result"] == "eliminated"

    # Round 2 is a presentation: a slot in the merchant's zone; the provider confirms it on its panel.
    shown = (await boss.get(evaluation)).text
    assert 'data-testid="slot-form"' in shown and 'data-testid="shortlist-top"' not in shown
    scheduled = await post_form(boss, f"/tenders/{tid}/rounds/2/slots", evaluation, {
        "bid_id": str(bid_of[beta.org_id]), "starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T10:45",
        "place": "Hangzhou office, room 3"})
    assert scheduled.status_code == 303, scheduled.text[:800]
    slot = await PresentationSlot.select().where(PresentationSlot.bid == bid_of[beta.org_id]).first()
    assert slot["starts_at"] == datetime.datetime(2030, 1, 2, 2, 0, tzinfo=datetime.timezone.utc)
    backwards = await post_form(boss, f"/tenders/{tid}/rounds/2/slots", evaluation, {
        "bid_id": str(bid_of[alpha.org_id]), "starts_at": "2030-01-02T12:00", "ends_at": "2030-01-02T11:00"})
    assert backwards.status_code == 422 and "start before its end" in backwards.text

    pitcher = await make_client()
    await web_login(pitcher, beta)
    shown = bids_panel((await pitcher.get(page)).text)
    assert "Hangzhou office, room 3" in shown and 'data-testid="confirm-slot"' in shown
    assert "Rank 2" in shown
    confirmed = await post_form(pitcher, f"/tenders/{tid}/slots/{slot['id']}/confirm", page, {})
    assert confirmed.status_code == 303
    shown = (await boss.get(evaluation)).text
    assert re.search(r'data-testid="slot-confirmed"><span class="tag bids-ok">confirmed', shown)

    round_two = f"/tenders/{tid}/rounds/2/scoring"
    saved = await post_form(boss, round_two, round_two, {f"score-{bid_of[alpha.org_id]}-0": "9",
                                                         f"score-{bid_of[beta.org_id]}-0": "7"})
    assert saved.status_code == 303, saved.text[:800]
    assert (await post_form(boss, f"/tenders/{tid}/rounds/2/close", evaluation, {})).status_code == 303
    shown = (await boss.get(evaluation)).text
    assert 'data-testid="award-form"' in shown and 'data-testid="shortlist-top"' not in shown

    # Beta is second: without a reason the service refuses, and the choice stays ticked.
    refused = await post_form(boss, f"/tenders/{tid}/award", evaluation, {"bid_id": str(bid_of[beta.org_id]),
                                                                          "reason": ""})
    assert refused.status_code == 422 and "not the top score" in refused.text
    assert re.search(rf'value="{bid_of[beta.org_id]}"[^>]*data-rank="2"\s*checked', refused.text)
    reason = "Their night shift covers our overseas buyers."
    awarded = await post_form(boss, f"/tenders/{tid}/award", evaluation, {"bid_id": str(bid_of[beta.org_id]),
                                                                          "reason": reason})
    assert awarded.status_code == 303
    assert (await Tender.select(Tender.status).where(Tender.id == tid).first())["status"] in ("awarded", "contracted")
    shown = (await boss.get(evaluation)).text
    assert 'data-testid="award-made"' in shown and reason in shown and 'data-testid="award-form"' not in shown

    # The comparison: a column per bid with its scores, the top total marked.
    comparison = await boss.get(f"/tenders/{tid}/comparison")
    assert comparison.status_code == 200
    table = re.search(r'data-testid="comparison-table".*?</table>', comparison.text, re.S).group(0)
    assert table.count('data-testid="comparison-bid"') == 3
    names = [row["name"] for row in await Bid.select(Bid.provider.name.as_alias("name")).where(Bid.tender == tid)]
    for name in names:
        assert name in table
    for figure in ("86.00", "82.00", "63.78", "91.50", "79.00", "¥38,000.00", "¥40,000.00", "¥45,000.00"):
        assert figure in table, figure
    assert table.count('data-testid="top-total"') == 2  # one per round
    assert "Hangzhou" in table and "confirmed" in table

    # The losing provider sees its result on its panel.
    loser = await make_client()
    await web_login(loser, gamma)
    assert "Not shortlisted" in bids_panel((await loser.get(page)).text)


async def test_provider_gets_404_on_the_merchants_evaluation_pages(client, make_client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tender = await published_tender(client, merchant)
    tid = tender["id"]
    await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    await pass_bid_deadline(tid)
    browser = await make_client()
    await web_login(browser, provider)
    for suffix in ("/evaluation", "/comparison"):
        assert (await browser.get(f"/tenders/{tid}{suffix}")).status_code == 404
    started = await post_form(browser, f"/tenders/{tid}/evaluation/start", "/dashboard", {})
    assert started.status_code == 404
    assert (await Tender.select(Tender.status).where(Tender.id == tid).first())["status"] != "evaluating"


async def test_merchant_ends_the_evaluation_without_award(client, make_client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tender = await published_tender(client, merchant)
    tid = tender["id"]
    await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    await pass_bid_deadline(tid)
    browser = await make_client()
    await web_login(browser, merchant)
    evaluation = f"/tenders/{tid}/evaluation"
    assert 'data-testid="unsuccessful-form"' in (await browser.get(evaluation)).text
    too_short = await post_form(browser, f"/tenders/{tid}/unsuccessful", evaluation, {"reason": "no"})
    assert too_short.status_code == 422
    ended = await post_form(browser, f"/tenders/{tid}/unsuccessful", evaluation,
                            {"reason": "No bid met our night-shift needs."})
    assert ended.status_code == 303
    assert (await Tender.select(Tender.status).where(Tender.id == tid).first())["status"] == "unsuccessful"
    assert 'data-testid="ended-without-award"' in (await browser.get(evaluation)).text


async def test_revision_history_is_the_providers_own(client, make_client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tender = await published_tender(client, merchant)
    tid = tender["id"]
    await client.post(tender_url(alpha, tid, "/bid"), json=bid_body(4_000_000), headers=alpha.headers)
    browser = await make_client()
    await web_login(browser, beta)
    panel = bids_panel((await browser.get(panel_path(tid))).text)
    assert 'data-testid="bid-history"' not in panel and "¥40,000.00" not in panel
    assert 'data-testid="bid-form"' in panel
