"""Sign-up through the API (POST /api/v1/signup): a client can start from nothing. The
rules are the sign-up page's; the answer carries the person, their organisation and
an API token that works at once."""

from __future__ import annotations

from fuwu.tables import AuditEvent, Membership, Organisation, User
from tests.conftest import PASSWORD, assert_problem, unique


def _body(**overrides) -> dict:
    return {
        "email": f"{unique()}@shop.test", "password": PASSWORD, "display_name": "Chen Jing", "locale": "zh_Hans",
        "organisation": {"kind": "merchant", "name": "Lanfei Fashion", "size": "key_account", "province": "Zhejiang"},
        **overrides,
    }


async def test_api_signup_returns_the_person_the_organisation_and_a_working_token(client):
    body = _body()
    response = await client.post("/api/v1/signup", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["user"]["email"] == body["email"] and created["user"]["locale"] == "zh_Hans"
    assert created["organisation"]["name"] == "Lanfei Fashion" and created["organisation"]["kind"] == "merchant"
    assert [m["role"] for m in created["user"]["memberships"]] == ["owner"]
    token = created["token"]["token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["id"] == created["user"]["id"]
    org = await client.get(f"/api/v1/orgs/{created['organisation']['id']}", headers={"Authorization": f"Bearer {token}"})
    assert org.status_code == 200
    user = await User.select(User.id).where(User.email == body["email"]).first()
    assert await AuditEvent.exists().where((AuditEvent.object_id == str(user["id"])) & (AuditEvent.action == "signed_up"))


async def test_api_signup_keeps_the_pages_rules(client):
    body = _body()
    assert (await client.post("/api/v1/signup", json=body)).status_code == 201
    users, orgs = await User.count(), await Organisation.count()
    # The same e-mail, in other letters: taken.
    assert_problem(await client.post("/api/v1/signup", json=_body(email=body["email"].upper())), 409, "email_taken")
    # A merchant needs its size; a password needs 8 characters; unknown fields are refused.
    no_size = _body(organisation={"kind": "merchant", "name": "Shop"})
    assert (await client.post("/api/v1/signup", json=no_size)).status_code in (400, 422)
    assert_problem(await client.post("/api/v1/signup", json=_body(password="short")), 400)
    assert_problem(await client.post("/api/v1/signup", json={**_body(), "is_admin": True}), 400)
    # A platform is not something one signs up for.
    platform = _body(organisation={"kind": "platform", "name": "Mine"})
    assert_problem(await client.post("/api/v1/signup", json=platform), 400)
    assert (await User.count(), await Organisation.count()) == (users, orgs)


async def test_api_signup_makes_a_provider_with_its_categories(client):
    body = _body(organisation={"kind": "provider", "name": "Xingchen CS", "categories": ["cs_presales", "design"]})
    created = (await client.post("/api/v1/signup", json=body)).json()
    assert created["organisation"]["categories"] == ["cs_presales", "design"]
    membership = await Membership.select(Membership.role).where(
        Membership.organisation == created["organisation"]["id"]).first()
    assert membership["role"] == "owner"


async def test_api_signup_is_documented_as_public(client):
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/v1/signup"]["post"]
    assert not operation.get("security")
    assert {"201", "400", "409", "422", "429"} <= set(operation["responses"])
    assert operation["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SignUpCreated"}
