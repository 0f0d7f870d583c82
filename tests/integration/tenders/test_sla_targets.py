"""SLA targets as merchants and providers type and read them: rates in percent from 0
to 100 (kept as a fraction), times with their unit (kept in seconds), a clear message
for a target out of bounds, and the API refusing a rate sent as a percentage."""

from __future__ import annotations

from tests.conftest import assert_problem, csrf_token, new_actor, web_login
from tests.integration.bids.test_bid_pages import bid_form, live_bid, panel_path, post_form
from tests.integration.tenders.test_tender_pages import create_through_form, stored, tender_form
from tests.tendering import published_tender, tender_body, tender_url

CONVERSION = {"sla_1_metric": "inquiry_conversion_rate", "sla_1_statistic": "rate", "sla_1_comparator": ">=",
              "sla_1_target": "30", "sla_1_window": "month", "sla_1_weight": "20", "sla_1_credit": "3"}


async def test_a_conversion_rate_of_30_is_30_percent(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    tender_id, page = await create_through_form(client, merchant, sla_0_target="5", sla_0_unit="minutes",
                                                **CONVERSION)
    targets = (await stored(tender_id))["sla_targets"]
    assert [(t["metric"], t["target"]) for t in targets] == [("first_response_time", 300),
                                                             ("inquiry_conversion_rate", 0.3)]
    assert "&gt;= <span data-testid=\"sla-target\">30 %</span>" in page.text
    assert "&lt;= <span data-testid=\"sla-target\">5 min</span>" in page.text
    edit = await client.get(f"/tenders/{tender_id}/edit")
    assert 'name="sla_1_target" value="30"' in edit.text and 'name="sla_0_target" value="5"' in edit.text
    assert '<option value="minutes" selected>' in edit.text


async def test_a_rate_above_100_percent_is_refused_with_its_bounds(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    token = await csrf_token(client, "/tenders/new")
    response = await client.post("/tenders/new", data=tender_form(token, **{**CONVERSION, "sla_1_target": "130"}))
    assert response.status_code == 422
    assert "SLA target 2: Inquiry conversion rate is a percentage from 0 to 100." in response.text
    assert 'name="sla_1_target" value="130"' in response.text  # what was typed stays


async def test_chinese_readers_get_the_bounds_in_chinese(client):
    merchant = await new_actor("merchant")
    await web_login(client, merchant)
    from fuwu.services import accounts

    await accounts.set_locale(merchant.user_id, "zh_Hans")
    token = await csrf_token(client, "/tenders/new")
    response = await client.post("/tenders/new", data=tender_form(token, sla_0_metric="service_attitude",
                                                                  sla_0_target="6"))
    assert response.status_code == 422 and "SLA 目标 1：服务态度是 0 至 5 分的评分。" in response.text


async def test_the_api_refuses_a_rate_sent_as_a_percentage(client):
    merchant = await new_actor("merchant")
    body = tender_body(sla_targets=[{"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=",
                                     "target": 30}])
    refused = await client.post(tender_url(merchant), json=body, headers=merchant.headers)
    # The schema allows the number; the metric's rule refuses it: 422, as for any rule.
    problem = assert_problem(refused, 422, "invalid_value")
    assert "fraction from 0 to 1" in problem["detail"]
    body["sla_targets"][0]["target"] = 0.3
    assert (await client.post(tender_url(merchant), json=body, headers=merchant.headers)).status_code == 201


async def test_a_provider_commits_to_a_rate_in_percent(client, make_client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    tender = await published_tender(client, merchant, sla_targets=[
        {"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=", "target": 0.3}])
    browser = await make_client()
    await web_login(browser, provider)
    page = panel_path(tender["id"])
    form = await browser.get(page)
    assert 'name="sla_target" inputmode="decimal" size="8" maxlength="20" value="30"' in form.text  # the tender's 0.3
    too_much = bid_form("42000", sla_metric=["inquiry_conversion_rate"], sla_statistic=["rate"],
                        sla_comparator=[">="], sla_target=["350"], sla_unit=["seconds"], sla_window=["month"])
    refused = await post_form(browser, f"/tenders/{tender['id']}/bid", page, too_much)
    assert refused.status_code == 422 and "Inquiry conversion rate is a percentage from 0 to 100." in refused.text
    sent = await post_form(browser, f"/tenders/{tender['id']}/bid", page, {**too_much, "sla_target": ["35"]})
    assert sent.status_code in (302, 303), sent.text[:500]
    bid = await live_bid(tender["id"], provider)
    assert bid["sla_commitment"][0]["target"] == 0.35
    shown = (await browser.get(page)).text
    assert "&gt;= 35 %" in shown, [line for line in shown.splitlines() if "35" in line]
