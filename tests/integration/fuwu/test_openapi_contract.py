"""The OpenAPI document is a contract a client can be generated from: every operation
has a summary and a description, declares the bearer scheme where it needs a token,
and lists each status it can answer with, errors as problem details; money and
durations say their units; lists that can grow are cursor pages. The schema fuzzer
(tests/fuzz/run_schemathesis.sh) checks the answers against it."""

from __future__ import annotations

import re
import uuid

import pytest

PROBLEM = {"$ref": "#/components/schemas/Problem"}
UNIT_FIELDS = re.compile(r"(amount|budget|price_amount|_seconds|_bytes|percent|^target$|^weight$)")
UNITS = re.compile(r"(minor units|seconds|bytes|percent|fraction|points)", re.I)


@pytest.fixture(scope="module")
async def document(app):
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as c:
        response = await c.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/"):
                yield method.upper(), path, operation


async def test_the_document_declares_the_bearer_scheme_and_the_units(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert "minor units" in document["info"]["description"]


async def test_every_operation_has_a_summary_a_description_and_its_error_statuses(document):
    operations = list(_operations(document))
    assert len(operations) > 50
    for method, path, operation in operations:
        where = f"{method} {path}"
        summary = operation.get("summary", "")
        # Litestar's default is the handler name run together ("ReadMe"): a real one has spaces.
        assert " " in summary and len(summary) <= 80, where
        assert len(operation.get("description", "")) > len(summary), where
        responses = operation["responses"]
        for status in ("400", "503"):
            assert status in responses, where
        if operation.get("security"):
            assert operation["security"] == [{"bearer": []}], where
            assert "401" in responses, where
        if "{" in path:
            assert "404" in responses, where
        if method != "GET" and operation.get("security"):
            assert "403" in responses, where
        if "requestBody" in operation:
            assert {"413", "422"} <= set(responses), where
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/problem+json"]["schema"] == PROBLEM, (where, status)
                assert response["description"], (where, status)


async def test_every_amount_and_duration_says_its_unit(document):
    missing = []
    for name, schema in document["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if UNIT_FIELDS.search(field) and prop.get("type") in ("integer", "number"):
                if not UNITS.search(prop.get("description", "")):
                    missing.append(f"{name}.{field}")
    # Add Meta(description=...) naming the unit (see tenders/schemas.py's MONEY).
    assert missing == []


async def test_lists_that_can_grow_are_cursor_pages(document):
    schemas = document["components"]["schemas"]
    bare = []
    for method, path, operation in _operations(document):
        if method != "GET":
            continue
        content = operation["responses"]["200"].get("content", {}).get("application/json", {})
        schema = content.get("schema", {})
        if schema.get("type") == "array":
            bare.append(path)
        elif "$ref" in schema:
            target = schemas[schema["$ref"].rsplit("/", 1)[1]]
            if "items" in target.get("properties", {}):
                assert "next_cursor" in target["properties"], path
    # Short, bounded lists stay arrays: memberships, tokens, members, invitations of an
    # organisation or a tender, recommendations (top 20), presentation slots, a
    # contract's milestones (at most 100), an organisation's chat seats (one a member)
    # and canned replies (at most 200).
    # Any other list can grow: answer a fuwu.pagination.Page (see fuwu/api.py's page_of).
    assert sorted(set(bare)) == sorted({
        "/api/v1/tokens",
        "/api/v1/orgs",
        "/api/v1/orgs/{org_id}/members",
        "/api/v1/orgs/{org_id}/invitations",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/invitations",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/recommendations",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/slots",
        "/api/v1/orgs/{org_id}/contracts/{contract_id}/milestones",
        "/api/v1/orgs/{org_id}/seats",
        "/api/v1/orgs/{org_id}/canned-replies",
    })


async def test_every_operation_that_needs_a_token_answers_401_without_one(document, client):
    for method, path, operation in _operations(document):
        if not operation.get("security"):
            continue
        url = re.sub(r"\{number\}", "1", re.sub(r"\{\w+_id\}", str(uuid.uuid4()), path))
        response = await client.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), (method, path)
        body = response.json()
        assert {"type", "title", "status", "detail", "code"} <= set(body), (method, path)


# --- what the schema fuzzer found: the document and the server disagreed ------------


async def test_request_bodies_that_refuse_unknown_fields_say_so(document):
    schemas = document["components"]["schemas"]
    for name in ("TenderCreate", "BidSubmit", "SignUp", "OrganisationCreate", "SLATarget", "Team"):
        assert schemas[name]["additionalProperties"] is False, name
    assert "additionalProperties" not in schemas["TenderRead"]


async def test_constraints_litestar_drops_are_in_the_document(document):
    schemas = document["components"]["schemas"]
    # The items of a list keep their own bounds (an agent's name is 1 to 100 characters).
    assert schemas["Team"]["properties"]["agents"]["items"] == {"type": "string", "minLength": 1, "maxLength": 100}
    # A bound of 0 on a query parameter is not dropped.
    operation = document["paths"]["/api/v1/orgs/{org_id}/open-tenders"]["get"]
    budgets = [p["schema"] for p in operation["parameters"] if p["name"].startswith("budget_")]
    assert len(budgets) == 2 and all(schema["minimum"] == 0 for schema in budgets)
    # An attachment upload must carry its file.
    upload = document["paths"]["/api/v1/orgs/{org_id}/tenders/{tender_id}/bid/attachments"]["post"]
    assert upload["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == ["file"]


async def test_options_lists_every_method_of_the_path(client):
    from tests.conftest import new_actor

    merchant = await new_actor("merchant")
    client.headers.update(merchant.headers)
    org = merchant.org_id
    for path, methods in (("/api/v1/me", {"GET", "PATCH"}), ("/api/v1/orgs", {"GET", "POST"}),
                          (f"/api/v1/orgs/{org}/members/{uuid.uuid4()}", {"PATCH", "DELETE"})):
        response = await client.options(path)
        assert response.status_code == 204
        assert set(response.headers["allow"].split(", ")) == methods | {"OPTIONS"}, (path, response.headers)


async def test_a_whole_number_written_with_a_decimal_point_is_a_number(client):
    from tests.conftest import new_actor
    from tests.tendering import tender_body, tender_url

    merchant = await new_actor("merchant")
    # JSON Schema counts 3000000.0 as an integer; the server reads it as one. A
    # fraction, or a number in a string, is still refused.
    created = await client.post(tender_url(merchant), json=tender_body(budget_min=3000000.0, budget_max=5000000.0),
                                headers=merchant.headers)
    assert created.status_code == 201, created.text
    assert created.json()["budget_min"] == 3_000_000
    for wrong in (3000000.5, "3000000"):
        refused = await client.post(tender_url(merchant), json=tender_body(budget_min=wrong), headers=merchant.headers)
        assert refused.status_code == 400 and refused.json()["errors"][0]["key"] == "$.budget_min", refused.text


async def test_an_sla_target_outside_its_metric_is_a_422_in_the_readers_language(client):
    from tests.conftest import new_actor
    from tests.tendering import tender_body, tender_url

    merchant = await new_actor("merchant")
    target = {"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=", "target": 30}
    response = await client.post(tender_url(merchant), json=tender_body(sla_targets=[target]),
                                 headers={**merchant.headers, "Accept-Language": "zh-CN"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_value" and "$.sla_targets[0]" in problem["detail"]
    assert re.search(r"[\u4e00-\u9fff]", problem["detail"]) and "send a fraction" not in problem["detail"], problem
    assert "fraction from 0 to 1" in problem["errors"][0]["message"]


async def test_a_moment_in_the_query_is_iso_8601_text_not_a_number(client):
    from tests.conftest import new_actor

    provider = await new_actor("provider")
    url = f"/api/v1/orgs/{provider.org_id}/open-tenders"
    for number in ("0.5", "1700000000"):
        problem = (await client.get(url, params={"deadline_before": number}, headers=provider.headers)).json()
        assert problem["status"] == 400 and problem["errors"][0]["key"] == "deadline_before", problem
    for moment in ("2031-03-10T10:00:00Z", "2031-03-10T18:00:00+08:00"):
        assert (await client.get(url, params={"deadline_before": moment}, headers=provider.headers)).status_code == 200


async def test_a_bound_of_zero_on_an_optional_field_is_documented(document):
    criterion = document["components"]["schemas"]["CriterionScore"]["properties"]["criterion"]
    assert criterion["minimum"] == 0 and criterion["maximum"] == 19
