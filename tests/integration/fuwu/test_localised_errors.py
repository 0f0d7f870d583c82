"""Error details in the reader's language: a Chinese reader gets the whole sentence in
Chinese, with the tender's own values in it (its currency, its pricing models, its
deadline); an English reader gets the same English as before. A signed-in person's own
choice of language wins over the browser's."""

from __future__ import annotations

import dataclasses
import datetime
import re
import uuid

from fuwu.clock import now
from fuwu.services import accounts
from fuwu.settings import get_settings
from tests.conftest import Actor, add_member, assert_problem, csrf_token, new_actor, web_login
from tests.tendering import bid_body, iso, pass_bid_deadline, published_tender, tender_body, tender_url

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
CJK = re.compile(r"[\u4e00-\u9fff]")
# Latin words that may stay in a Chinese sentence: codes and the values of the request.
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def assert_chinese(detail: str, *allowed_words: str) -> None:
    """Chinese throughout: no English word left but the ones named (currency codes...)."""
    assert CJK.search(detail), detail
    left = set(LATIN_WORD.findall(detail)) - set(allowed_words)
    assert not left, (detail, left)


async def chinese_reader(kind: str = "merchant") -> Actor:
    """A person who chose Simplified Chinese for their account."""
    actor = await new_actor(kind)
    await accounts.set_locale(actor.user_id, "zh_Hans")
    return actor


async def _bid(client, provider: Actor, tender_id, headers: dict, **overrides):
    return await client.post(tender_url(provider, tender_id, "/bid"), json=bid_body(**overrides),
                             headers={**provider.headers, **headers})


async def test_an_unknown_tender_is_not_found_in_chinese_naming_the_tender(client):
    reader = await chinese_reader("merchant")
    problem = assert_problem(await client.get(tender_url(reader, uuid.uuid4()), headers={**reader.headers, **ZH}), 404,
                             "tender_not_found")
    assert problem["title"] == "未找到"
    assert "招标" in problem["detail"]
    assert_chinese(problem["detail"])


async def test_an_unknown_provider_is_not_found_in_the_browsers_language(client):
    missing = f"/api/v1/providers/{uuid.uuid4()}"
    chinese = assert_problem(await client.get(missing, headers=ZH), 404, "provider_not_found")
    assert "服务商" in chinese["detail"]
    assert_chinese(chinese["detail"])
    english = assert_problem(await client.get(missing, headers=EN), 404, "provider_not_found")
    assert english["detail"] == "Provider not found. Check the link or id."


async def test_a_bid_off_the_tenders_terms_is_refused_in_chinese_with_the_tenders_terms(client):
    merchant = await new_actor("merchant")
    provider = await chinese_reader("provider")
    tid = (await published_tender(client, merchant, currency="HKD", pricing_models=["periodic_fee", "metered"]))["id"]

    model = assert_problem(await _bid(client, provider, tid, ZH, currency="HKD", pricing_model="per_order"), 422,
                           "pricing_not_accepted")
    # The tender's pricing models, by their Chinese names, in the tender's order.
    assert "周期服务费、按量计费" in model["detail"]
    assert_chinese(model["detail"])

    currency = assert_problem(await _bid(client, provider, tid, ZH, currency="CNY"), 422, "pricing_not_accepted")
    assert "HKD" in currency["detail"] and "CNY" not in currency["detail"]
    assert_chinese(currency["detail"], "HKD")


async def test_a_late_bid_is_refused_in_chinese_naming_the_deadline(client):
    merchant = await new_actor("merchant")
    provider = await chinese_reader("provider")
    tid = (await published_tender(client, merchant))["id"]
    await pass_bid_deadline(tid)
    problem = assert_problem(await _bid(client, provider, tid, ZH), 409, "bid_deadline_passed")
    assert problem["deadline"] in problem["detail"]
    assert_chinese(problem["detail"].replace(problem["deadline"], ""))


async def test_an_english_reader_keeps_the_english_details(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")  # chose English at sign-up: the default when a request names no language
    tid = (await published_tender(client, merchant, currency="HKD"))["id"]

    missing = assert_problem(await client.get(tender_url(provider, uuid.uuid4()), headers=provider.headers),
                             404, "tender_not_found")
    assert missing["detail"] == "Tender not found. Check the link or id."
    model = assert_problem(await _bid(client, provider, tid, {}, currency="HKD", pricing_model="per_order"), 422)
    assert model["detail"] == "This tender accepts these pricing models: periodic_fee, metered."
    currency = assert_problem(await _bid(client, provider, tid, EN, currency="CNY"), 422)
    assert currency["detail"] == "Prices in this tender are in HKD."
    await pass_bid_deadline(tid)
    late = assert_problem(await _bid(client, provider, tid, {}, currency="HKD"), 409, "bid_deadline_passed")
    assert late["detail"] == f"Bidding closed at the deadline {late['deadline']}; bids are no longer accepted."


async def test_for_the_api_accept_language_comes_before_the_accounts_language(client):
    english, chinese = await new_actor("merchant"), await chinese_reader("merchant")
    for reader, headers, language in ((english, ZH, "zh"), (english, EN, "en"), (english, {}, "en"),
                                      (chinese, EN, "en"), (chinese, ZH, "zh"), (chinese, {}, "zh"),
                                      (chinese, {"Accept-Language": "fr-FR"}, "zh")):
        response = await client.get(tender_url(reader, uuid.uuid4()), headers={**reader.headers, **headers})
        problem = assert_problem(response, 404, "tender_not_found")
        if language == "zh":
            assert_chinese(problem["detail"])
        else:
            assert problem["detail"] == "Tender not found. Check the link or id.", (headers, problem)


async def test_a_refused_role_names_the_role_and_the_action_in_chinese(client):
    owner = await new_actor("merchant")
    evaluator = await add_member(owner, "evaluator")
    await accounts.set_locale(evaluator.user_id, "zh_Hans")
    problem = assert_problem(await client.post(tender_url(evaluator), json=tender_body(), headers=evaluator.headers),
                             403, "role_not_allowed")
    assert "评审员" in problem["detail"] and "创建招标" in problem["detail"]
    assert_chinese(problem["detail"])


async def test_too_short_bidding_time_names_the_minimum_in_chinese(client, monkeypatch):
    settings = dataclasses.replace(get_settings(), min_bidding_seconds=2 * 3600)
    monkeypatch.setattr("tenders.services.lifecycle.get_settings", lambda: settings)
    merchant = await chinese_reader("merchant")
    moment = now()
    body = tender_body(questions_deadline=iso(moment + datetime.timedelta(minutes=10)),
                       bid_deadline=iso(moment + datetime.timedelta(minutes=30)))
    created = await client.post(tender_url(merchant), json=body, headers=merchant.headers)
    assert created.status_code == 201, created.text
    problem = assert_problem(await client.post(tender_url(merchant, created.json()["id"], "/publish"),
                                               headers=merchant.headers), 422, "bidding_period_too_short")
    assert "2 小时" in problem["detail"]
    assert_chinese(problem["detail"])


async def test_the_bid_form_shows_a_refusal_in_chinese_with_the_tenders_pricing_models(client, make_client):
    merchant = await new_actor("merchant")
    provider = await chinese_reader("provider")
    tid = (await published_tender(client, merchant, pricing_models=["periodic_fee", "metered"]))["id"]
    browser = await make_client()
    await web_login(browser, provider)
    token = await csrf_token(browser, f"/tenders/{tid}")
    valid_until = (now() + datetime.timedelta(days=60)).date().isoformat()
    response = await browser.post(f"/tenders/{tid}/bid", data={
        "_csrf_token": token, "price": "45000", "pricing_model": "per_order", "price_unit": "",
        "proposal": "Twelve trained agents.", "seats": "12", "agents": "Sun Li", "lead": "Liu Yang",
        "valid_until": valid_until,
    }, follow_redirects=False)
    assert response.status_code == 422, response.text[:500]
    error = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', response.text, re.S)
    assert error, response.text[:2000]
    assert "周期服务费、按量计费" in error.group(1)
    assert_chinese(error.group(1))


async def test_an_address_that_does_not_exist_answers_in_the_browsers_language(client):
    # English first, so that a language left over from an earlier request cannot pass the test.
    english = assert_problem(await client.get("/api/v1/nowhere", headers=EN), 404, "not_found")
    assert english["detail"] == "Nothing is here. Check the address."
    chinese = assert_problem(await client.get("/api/v1/nowhere", headers=ZH), 404, "not_found")
    assert_chinese(chinese["detail"])
    assert_chinese(chinese["title"])


async def test_a_wrong_query_parameter_is_refused_in_chinese(client):
    reader = await chinese_reader("merchant")
    problem = assert_problem(await client.get(tender_url(reader) + "?limit=many", headers=reader.headers), 400,
                             "invalid_input")
    assert_chinese(problem["title"])
    assert_chinese(problem["detail"], "errors")


async def test_a_body_with_missing_fields_is_refused_with_a_chinese_sentence_naming_the_field(client):
    reader = await chinese_reader("merchant")
    problem = assert_problem(await client.post(tender_url(reader), json={"title": "x"}, headers=reader.headers), 400,
                             "invalid_input")
    assert_chinese(problem["title"])
    # The sentence is Chinese and names the field; the decoder's own English text is
    # in `errors`, never inside the Chinese sentence.
    assert CJK.search(problem["detail"]) and "$.category" in problem["detail"], problem["detail"]
    assert not re.search(r"[A-Za-z]{4,}", problem["detail"].replace("$.category", "").replace("errors", "")), problem
    assert problem["errors"] == [{"message": "Object missing required field `category`", "key": "$.category",
                                  "source": "body"}]


async def test_a_changed_language_applies_to_the_next_token_request(client):
    """API tokens are cached for a moment; changing one's language forgets them at once."""
    reader = await new_actor("merchant")
    missing = tender_url(reader, uuid.uuid4())
    english = assert_problem(await client.get(missing, headers=reader.headers), 404, "tender_not_found")
    assert english["detail"] == "Tender not found. Check the link or id."
    response = await client.patch("/api/v1/me", json={"locale": "zh_Hans"}, headers=reader.headers)
    assert response.status_code == 200, response.text
    chinese = assert_problem(await client.get(missing, headers=reader.headers), 404, "tender_not_found")
    assert "招标" in chinese["detail"]


async def test_a_chinese_detail_never_embeds_the_validators_english(client):
    reader = await chinese_reader("merchant")
    body = tender_body(category="photography", requirements={"models": 2})
    problem = assert_problem(await client.post(tender_url(reader), json=body, headers=reader.headers), 422,
                             "requirements_invalid")
    # Was "需求与服务类别不符：Object missing required field `skus`". The field's path is
    # the one thing not in Chinese: it is what the client sent.
    assert_chinese(problem["detail"], "requirements", "skus")
    assert "$.requirements.skus" in problem["detail"] and "Object" not in problem["detail"], problem["detail"]
    assert problem["errors"] == [{"message": "Object missing required field `skus`", "key": "$.requirements.skus",
                                  "source": "body"}]
