"""The tender pages as people use them: the merchant's form, publishing, amending,
inviting and answering; the provider's open tenders, questions and declining."""

from __future__ import annotations

import datetime
import html
import re
import uuid
from zoneinfo import ZoneInfo

import pytest

from fuwu.clock import now
from fuwu.app import create_app
from fuwu.wiring import wiring
from tenders import pages
from tenders.tables import Amendment, Question, Tender, TenderInvitation
from tests.conftest import add_member, csrf_token, new_actor, web_login
from tests.tendering import give_tier

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_input(days: float, hour: int = 18) -> str:
    """A datetime-local value `days` from now at `hour`:00, Shanghai time."""
    moment = (now() + datetime.timedelta(days=days)).astimezone(SHANGHAI)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")


def tender_form(token: str, **overrides) -> dict:
    """What a merchant types into the tender form (customer service, pre-sales)."""
    data = {
        "_csrf_token": token,
        "category": "cs_presales",
        "title": f"Pre-sales service {uuid.uuid4().hex[:8]}",
        "brief": "Peak season; apparel; 2,000 conversations a day.",
        "cs_seats": "12", "cs_coverage_hours": "09:00-24:00", "cs_time_zone": "Asia/Shanghai",
        "cs_daily_conversations": "2000", "cs_languages": "zh, en",
        "photo_skus": "999", "design_deliverables": "ignored\nlines",  # other categories: ignored
        "budget_min": "30000.00", "budget_max": "12345.67", "currency": "CNY",
        "pricing_models": ["periodic_fee", "metered"],
        "sla_0_metric": "first_response_time", "sla_0_statistic": "mean", "sla_0_comparator": "<=",
        "sla_0_target": "25", "sla_0_window": "month", "sla_0_weight": "50", "sla_0_credit": "5",
        "sla_1_metric": "", "sla_1_statistic": "mean", "sla_1_comparator": "<=", "sla_1_target": "",
        "sla_1_window": "month", "sla_1_weight": "", "sla_1_credit": "",
        "round_proposal_review": "1",
        "round_proposal_review_0_name": "Price", "round_proposal_review_0_weight": "40",
        "round_proposal_review_0_price": "1",
        "round_proposal_review_1_name": "Proposal quality", "round_proposal_review_1_weight": "60",
        "round_proposal_review_2_name": "", "round_proposal_review_2_weight": "",
        # an unticked round's rows are ignored
        "round_presentation_0_name": "Presentation", "round_presentation_0_weight": "70",
        "visibility": "public", "min_bids": "1",
        "questions_deadline": local_input(5), "bid_deadline": local_input(10), "evaluation_end": local_input(20),
    }
    data["budget_min"] = "10000.00"
    data.update(overrides)
    return data


async def create_through_form(client, merchant, **overrides) -> tuple[uuid.UUID, object]:
    token = await csrf_token(client, "/tenders/new")
    response = await client.post("/tenders/new", data=tender_form(token, **overrides))
    assert response.status_code == 200, response.text[:2000]
    match = re.search(r"/tenders/([0-9a-f-]{36})$", str(response.url))
    assert match, response.url
    return uuid.UUID(match.group(1)), response


async def stored(tender_id) -> dict:
    return await Tender.select().where(Tender.id == tender_id).output(load_json=True).first()


async def logged_in(make_client, actor):
    client = await make_client()
    await web_login(client, actor)
    return client


# --- the form ------------------------------------------------------------------------


async def test_merchant_creates_a_customer_service_tender_through_the_form(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    form_page = await client.get("/tenders/new")
    assert form_page.status_code == 200
    assert 'data-testid="tender-form"' in form_page.text and 'name="_csrf_token"' in form_page.text

    tender_id, page = await create_through_form(client, merchant, questions_deadline="2031-03-01T09:30",
                                                bid_deadline="2031-03-10T18:00", evaluation_end="2031-04-01T18:00")
    assert 'data-status="draft"' in page.text
    row = await stored(tender_id)
    assert row["merchant"] == merchant.org_id and row["status"] == "draft"
    assert row["requirements"] == {"seats": 12, "coverage_hours": "09:00-24:00", "time_zone": "Asia/Shanghai",
                                   "daily_conversations": 2000, "languages": ["zh", "en"]}
    assert (row["budget_min"], row["budget_max"], row["currency"]) == (1_000_000, 1_234_567, "CNY")
    assert row["pricing_models"] == ["periodic_fee", "metered"]
    assert row["sla_targets"] == [{"metric": "first_response_time", "statistic": "mean", "comparator": "<=",
                                   "target": 25.0, "window": "month", "weight": 50, "service_credit_percent": 5.0}]
    assert row["rounds"] == [{"kind": "proposal_review", "criteria": [
        {"name": "Price", "weight": 40, "price": True, "id": "c1"},
        {"name": "Proposal quality", "weight": 60, "price": False, "id": "c2"}]}]
    # Entered in Shanghai time (UTC+8), stored in UTC.
    assert row["questions_deadline"] == datetime.datetime(2031, 3, 1, 1, 30, tzinfo=datetime.timezone.utc)
    assert row["bid_deadline"] == datetime.datetime(2031, 3, 10, 10, 0, tzinfo=datetime.timezone.utc)
    # The page shows them back in the viewer's zone, and the budget in yuan.
    assert "2031-03-10 18:00" in page.text
    assert "¥10,000.00 – ¥12,345.67" in page.text


@pytest.mark.parametrize(("category", "fields", "expected"), [
    ("cs_postsales", {"cs_seats": "3", "cs_coverage_hours": "00:00-24:00", "cs_time_zone": "Asia/Hong_Kong",
                      "cs_daily_conversations": "", "cs_languages": "zh，yue"},
     {"seats": 3, "coverage_hours": "00:00-24:00", "time_zone": "Asia/Hong_Kong", "daily_conversations": 0,
      "languages": ["zh", "yue"]}),
    ("photography", {"photo_skus": "120", "photo_models": "2", "photo_location": "Baiyun studio, Guangzhou"},
     {"skus": 120, "models": 2, "location": "Baiyun studio, Guangzhou"}),
    ("design", {"design_deliverables": "Store home page\r\n\r\n  Detail page template  \r\nCampaign banner"},
     {"deliverables": ["Store home page", "Detail page template", "Campaign banner"]}),
    ("consulting", {"consulting_topics": "Live-stream selling\nCustomer service training", "consulting_sessions": "4"},
     {"topics": ["Live-stream selling", "Customer service training"], "sessions": 4}),
    ("video", {"video_videos": "6", "video_length_seconds": "45"}, {"videos": 6, "length_seconds": 45}),
    ("other", {"other_notes": "Translate 300 product titles into English."},
     {"notes": "Translate 300 product titles into English."}),
])
async def test_each_category_keeps_only_its_own_requirement_fields(client, category, fields, expected):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, page = await create_through_form(client, merchant, category=category, **fields)
    row = await stored(tender_id)
    assert row["category"] == category
    assert row["requirements"] == expected
    for value in expected.values():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        assert html.escape(shown) in page.text


async def test_a_rejected_form_shows_the_message_keeps_the_input_and_saves_nothing(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    token = await csrf_token(client, "/tenders/new")
    before = await Tender.count().where(Tender.merchant == merchant.org_id)

    weights = await client.post("/tenders/new", data=tender_form(
        token, title="Weights that do not add up", round_proposal_review_1_weight="50"))
    assert weights.status_code == 422
    assert "add up to 90; they must add up to 100" in weights.text
    assert 'value="Weights that do not add up"' in weights.text
    assert 'data-testid="form-error"' in weights.text

    money = await client.post("/tenders/new", data=tender_form(token, budget_max="12.345"))
    assert money.status_code == 422
    assert "Budget maximum has more decimal places than CNY allows." in money.text
    assert 'value="12.345"' in money.text

    order = await client.post("/tenders/new", data=tender_form(
        token, questions_deadline=local_input(10), bid_deadline=local_input(5)))
    assert order.status_code == 422 and "Deadlines must be in order" in order.text

    no_seats = await client.post("/tenders/new", data=tender_form(token, cs_seats=""))
    assert no_seats.status_code == 422 and "check $.requirements.seats" in no_seats.text

    no_title = await client.post("/tenders/new", data=tender_form(token, title="  "))
    assert no_title.status_code == 422 and "Give the tender a title." in no_title.text

    no_bids = await client.post("/tenders/new", data=tender_form(token, min_bids="0"))
    assert no_bids.status_code == 422 and "min_bids" in no_bids.text

    no_round = await client.post("/tenders/new", data=tender_form(token, round_proposal_review=""))
    assert no_round.status_code == 422 and "Choose at least one evaluation round." in no_round.text

    assert await Tender.count().where(Tender.merchant == merchant.org_id) == before


# --- publishing, amending, cancelling ------------------------------------------------


async def test_merchant_publishes_then_amends_with_a_reason(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, draft = await create_through_form(client, merchant, budget_max="60000.00")
    assert 'data-testid="publish-form"' in draft.text

    token = await csrf_token(client, f"/tenders/{tender_id}")
    published = await client.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})
    assert published.status_code == 200
    assert 'data-status="published"' in published.text and 'data-testid="countdown"' in published.text
    assert (await stored(tender_id))["status"] == "published"

    edit = await client.get(f"/tenders/{tender_id}/edit")
    assert 'data-testid="amend-warning"' in edit.text and 'name="reason"' in edit.text
    assert 'value="60000.00"' in edit.text

    values = tender_form(token, budget_max="70000.50", title=(await stored(tender_id))["title"])
    values.pop("visibility")
    missing_reason = await client.post(f"/tenders/{tender_id}/edit", data=values)
    assert missing_reason.status_code == 422
    assert "Give the reason for the amendment" in missing_reason.text
    assert await Amendment.count().where(Amendment.tender == tender_id) == 0

    amended = await client.post(f"/tenders/{tender_id}/edit", data={**values, "reason": "Two more seats at night"})
    assert amended.status_code == 200 and str(amended.url).endswith(f"/tenders/{tender_id}")
    row = await stored(tender_id)
    assert row["budget_max"] == 7_000_050 and row["amendment_count"] == 1
    amendments = await Amendment.select().where(Amendment.tender == tender_id).output(load_json=True)
    # Only the budget changed: untouched deadlines (shown to the minute) are not amendments.
    assert set(amendments[0]["changes"]) == {"budget_max"}
    assert 'data-testid="amendments"' in amended.text
    assert "Two more seats at night" in amended.text
    assert "¥60,000.00" in amended.text and "¥70,000.50" in amended.text


async def test_a_draft_edit_changes_the_draft_without_an_amendment(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, _ = await create_through_form(client, merchant)
    edit = await client.get(f"/tenders/{tender_id}/edit")
    assert 'data-testid="amend-warning"' not in edit.text
    token = await csrf_token(client, f"/tenders/{tender_id}/edit")
    saved = await client.post(f"/tenders/{tender_id}/edit", data=tender_form(
        token, title="Renamed draft", cs_seats="20", visibility="invited"))
    assert saved.status_code == 200
    row = await stored(tender_id)
    assert (row["title"], row["requirements"]["seats"], row["visibility"]) == ("Renamed draft", 20, "invited")
    assert row["amendment_count"] == 0


async def test_publishing_without_a_budget_shows_why(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, _ = await create_through_form(client, merchant, budget_min="", budget_max="")
    token = await csrf_token(client, f"/tenders/{tender_id}")
    refused = await client.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})
    assert refused.status_code == 422
    assert "Set a budget maximum before publishing." in refused.text
    assert (await stored(tender_id))["status"] == "draft"


async def test_merchant_cancels_with_a_reason_that_the_page_shows(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, _ = await create_through_form(client, merchant)
    token = await csrf_token(client, f"/tenders/{tender_id}")
    await client.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})
    too_short = await client.post(f"/tenders/{tender_id}/cancel", data={"_csrf_token": token, "reason": "x"})
    assert too_short.status_code == 422 and (await stored(tender_id))["status"] == "published"
    cancelled = await client.post(f"/tenders/{tender_id}/cancel",
                                  data={"_csrf_token": token, "reason": "The season plan changed."})
    assert 'data-status="cancelled"' in cancelled.text
    assert 'data-testid="status-reason"' in cancelled.text and "The season plan changed." in cancelled.text


# --- providers -----------------------------------------------------------------------


async def test_provider_finds_the_tender_asks_and_sees_the_merchants_answer(client, make_client):
    merchant = await new_actor("merchant")
    asker, other = await new_actor("provider"), await new_actor("provider")
    await web_login(client, merchant)
    tender_id, _ = await create_through_form(client, merchant, title="Night shift agents for Tmall store")
    token = await csrf_token(client, f"/tenders/{tender_id}")
    await client.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})

    provider = await logged_in(make_client, asker)
    found = await provider.get("/open-tenders")
    assert found.status_code == 200 and "Night shift agents for Tmall store" in found.text
    searched = await provider.get("/open-tenders", params={"q": "night shift", "budget_at_least": "12000"})
    assert "Night shift agents for Tmall store" in searched.text
    too_rich = await provider.get("/open-tenders", params={"q": "night shift", "budget_at_least": "12345.68"})
    assert "Night shift agents for Tmall store" not in too_rich.text
    bad = await provider.get("/open-tenders", params={"budget_at_least": "lots"})
    assert bad.status_code == 422 and 'data-testid="search-error"' in bad.text

    page = await provider.get(f"/tenders/{tender_id}")
    assert page.status_code == 200 and 'data-testid="ask-form"' in page.text
    assert 'data-testid="publish-form"' not in page.text and 'data-testid="merchant-actions"' not in page.text
    provider_token = await csrf_token(provider, f"/tenders/{tender_id}")
    asked = await provider.post(f"/tenders/{tender_id}/questions",
                                data={"_csrf_token": provider_token, "text": "Do you need English at night?"})
    assert asked.status_code == 200 and "Do you need English at night?" in asked.text
    assert "(your question)" in asked.text
    empty = await provider.post(f"/tenders/{tender_id}/questions", data={"_csrf_token": provider_token, "text": "?"})
    assert empty.status_code == 422
    assert await Question.count().where(Question.tender == tender_id) == 1

    merchant_view = await client.get(f"/tenders/{tender_id}")
    assert 'data-testid="answer-form"' in merchant_view.text and asker.name not in merchant_view.text
    question = await Question.select(Question.id).where(Question.tender == tender_id).first()
    answered = await client.post(f"/tenders/{tender_id}/questions/{question['id']}/answer",
                                 data={"_csrf_token": token, "answer": "Yes, until 24:00."})
    assert answered.status_code == 200 and 'data-testid="answer-form"' not in answered.text

    second = await logged_in(make_client, other)
    seen = await second.get(f"/tenders/{tender_id}")
    assert "Yes, until 24:00." in seen.text and "Do you need English at night?" in seen.text
    assert "(your question)" not in seen.text
    assert asker.name not in seen.text


async def test_a_provider_outside_the_category_or_before_publication_gets_404(client, make_client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, _ = await create_through_form(client, merchant)
    in_category = await logged_in(make_client, await new_actor("provider"))
    assert (await in_category.get(f"/tenders/{tender_id}")).status_code == 404  # still a draft

    token = await csrf_token(client, f"/tenders/{tender_id}")
    await client.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})
    assert (await in_category.get(f"/tenders/{tender_id}")).status_code == 200
    designer = await logged_in(make_client, await new_actor("provider", categories=["design"]))
    assert (await designer.get(f"/tenders/{tender_id}")).status_code == 404
    assert (await designer.get(f"/tenders/{tender_id}/audit")).status_code == 404
    assert "Pre-sales service" not in (await designer.get("/open-tenders")).text
    stranger = await logged_in(make_client, await new_actor("merchant"))
    assert (await stranger.get(f"/tenders/{tender_id}")).status_code == 404
    assert (await stranger.get(f"/tenders/{tender_id}/edit")).status_code == 404


async def test_merchant_invites_a_recommended_provider_who_then_declines(client, make_client):
    merchant = await new_actor("merchant")
    designer = await new_actor("provider", categories=["design"])
    await give_tier(designer)  # unrated providers are neither recommended nor invited
    await web_login(client, merchant)
    tender_id, page = await create_through_form(client, merchant, category="design", visibility="invited",
                                                design_deliverables="Store home page")
    assert 'data-testid="recommendations"' in page.text and str(designer.org_id) in page.text
    token = await csrf_token(client, f"/tenders/{tender_id}")
    nobody = await client.post(f"/tenders/{tender_id}/invite", data={"_csrf_token": token})
    assert nobody.status_code == 422 and "Tick at least one provider" in nobody.text
    invited = await client.post(f"/tenders/{tender_id}/invite",
                                data={"_csrf_token": token, "provider_ids": [str(designer.org_id)]})
    assert invited.status_code == 200
    assert await TenderInvitation.count().where(TenderInvitation.tender == tender_id) == 1
    await client.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})

    provider = await logged_in(make_client, designer)
    page = await provider.get(f"/tenders/{tender_id}")
    assert page.status_code == 200 and 'data-testid="decline-form"' in page.text
    assert "Pre-sales service" in (await provider.get("/open-tenders")).text
    provider_token = await csrf_token(provider, f"/tenders/{tender_id}")
    declined = await provider.post(f"/tenders/{tender_id}/decline",
                                   data={"_csrf_token": provider_token, "reason": "Fully booked in December"})
    assert 'data-testid="declined-note"' in declined.text and 'data-testid="decline-form"' not in declined.text
    merchant_view = await client.get(f"/tenders/{tender_id}")
    assert "Fully booked in December" in merchant_view.text and "Declined" in merchant_view.text


# --- lists, timeline, dashboard, roles ------------------------------------------------


async def test_merchant_lists_tenders_by_status_and_pages_through_them(client, monkeypatch):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    first, _ = await create_through_form(client, merchant, title="First tender")
    second, _ = await create_through_form(client, merchant, title="Second tender")
    token = await csrf_token(client, f"/tenders/{second}")
    await client.post(f"/tenders/{second}/publish", data={"_csrf_token": token})

    everything = await client.get("/tenders")
    assert "First tender" in everything.text and "Second tender" in everything.text
    drafts = await client.get("/tenders", params={"status": "draft"})
    assert "First tender" in drafts.text and "Second tender" not in drafts.text

    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    page_one = await client.get("/tenders")
    assert "Second tender" in page_one.text and "First tender" not in page_one.text
    more = re.search(r'href="(\?[^"]+)" data-testid="more"', page_one.text).group(1)
    page_two = await client.get("/tenders" + html.unescape(more))
    assert "First tender" in page_two.text and "Second tender" not in page_two.text


async def test_tender_timeline_shows_its_audit_events(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, _ = await create_through_form(client, merchant)
    token = await csrf_token(client, f"/tenders/{tender_id}")
    await client.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})
    timeline = await client.get(f"/tenders/{tender_id}/audit")
    assert timeline.status_code == 200 and 'data-testid="tender-audit"' in timeline.text
    assert "status published" in timeline.text and "created" in timeline.text
    assert "status_published" not in timeline.text  # labels, not codes


async def test_an_evaluator_reads_but_cannot_change_tenders(client, make_client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    await web_login(client, merchant)
    tender_id, _ = await create_through_form(client, merchant)
    reader = await logged_in(make_client, evaluator)
    page = await reader.get(f"/tenders/{tender_id}")
    assert page.status_code == 200 and 'data-testid="publish-form"' not in page.text
    assert (await reader.get("/tenders/new")).status_code == 403
    token = await csrf_token(reader, f"/tenders/{tender_id}")
    refused = await reader.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})
    assert refused.status_code == 403 and (await stored(tender_id))["status"] == "draft"


async def test_dashboards_show_tenders_and_open_tenders(client, make_client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, _ = await create_through_form(client, merchant, title="Dashboard tender")
    token = await csrf_token(client, f"/tenders/{tender_id}")
    await client.post(f"/tenders/{tender_id}/publish", data={"_csrf_token": token})
    await create_through_form(client, merchant, title="Dashboard draft")
    dashboard = await client.get("/dashboard")
    assert 'data-testid="tenders-panel"' in dashboard.text and "Dashboard draft" in dashboard.text
    assert "Published · 1" in dashboard.text and "Draft · 1" in dashboard.text
    assert 'href="/tenders"' in dashboard.text

    provider = await logged_in(make_client, await new_actor("provider"))
    seen = await provider.get("/dashboard")
    assert "Dashboard tender" in seen.text and "Dashboard draft" not in seen.text
    assert 'href="/open-tenders"' in seen.text and 'href="/tenders"' not in seen.text


def test_navigation_and_dashboard_panel_are_registered_once(app):
    create_app(run_scheduler=False)  # a second app wires afresh, never twice over
    labels = [item.label for item in wiring().nav]
    assert labels.count("Tenders") == 1 and labels.count("Open tenders") == 1
    assert [panel.render for panel in wiring().panels("dashboard")].count(pages.dashboard_panel) == 1


async def test_pages_need_a_login(client):
    response = await client.get("/tenders/new", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")
