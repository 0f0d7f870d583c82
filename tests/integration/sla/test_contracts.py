"""Contracts from awards: opened by the award in its own transaction, signed by both
parties (the tender becomes contracted), terms changed only before signing,
terminated with a reason; milestones delivered, rejected, delivered again and
accepted, each step in the SLA service-event log."""

from __future__ import annotations

import datetime


from fuwu.clock import now
from sla.tables import ServiceEvent
from tenders.tables import Tender
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

PRICE_ONLY = [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 100, "price": True}]}]


async def awarded_contract(client, merchant, provider, bid_fields: dict | None = None,
                           **tender_fields) -> tuple[str, dict]:
    """A tender awarded to `provider`'s bid; returns (tender id, the contract as the merchant reads it)."""
    tender = await published_tender(client, merchant, rounds=PRICE_ONLY, **tender_fields)
    tid = tender["id"]
    fields = {"sla_commitment": [
        {"metric": "first_response_time", "statistic": "mean", "comparator": "<=", "target": 18, "window": "month"},
        {"metric": "service_attitude", "statistic": "mean", "comparator": ">=", "target": 4.7, "window": "month"}],
        **(bid_fields or {})}
    bid = await client.post(tender_url(provider, tid, "/bid"), headers=provider.headers,
                            json=bid_body(price=4_500_000, **fields))
    assert bid.status_code == 201, bid.text
    await pass_bid_deadline(tid)
    for step in ("/evaluation/start", "/rounds/1/close"):
        response = await client.post(tender_url(merchant, tid, step), headers=merchant.headers)
        assert response.status_code == 200, response.text
    awarded = await client.post(tender_url(merchant, tid, "/award"), headers=merchant.headers,
                                json={"bid_id": bid.json()["id"]})
    assert awarded.status_code in (200, 201), awarded.text
    listed = await client.get(f"/api/v1/orgs/{merchant.org_id}/contracts", headers=merchant.headers)
    assert listed.status_code == 200, listed.text
    mine = [c for c in listed.json()["items"] if c["tender_id"] == tid]
    assert len(mine) == 1
    contract = await client.get(f"/api/v1/orgs/{merchant.org_id}/contracts/{mine[0]['id']}", headers=merchant.headers)
    return tid, contract.json()


def url(actor, contract_id, suffix: str = "") -> str:
    return f"/api/v1/orgs/{actor.org_id}/contracts/{contract_id}{suffix}"


async def test_an_award_opens_a_contract_both_parties_sign_and_the_tender_is_contracted(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    tid, contract = await awarded_contract(client, merchant, provider)
    assert contract["status"] == "pending_signature" and contract["provider_id"] == str(provider.org_id)
    assert contract["pricing_model"] == "periodic_fee" and contract["period_fee"] == 4_500_000
    assert contract["calendar"]["weekdays"]["mon"] == [["09:00", "24:00"]]
    targets = {t["metric"]: t for t in contract["targets"]}
    # The tender asked for 25 s; the provider committed to 18 s, the stricter one counts.
    assert targets["first_response_time"]["target"] == 18 and targets["first_response_time"]["credit_percent"] == 5
    # A commitment the tender did not ask for is kept, with no weight or credit.
    assert targets["service_attitude"]["target"] == 4.7 and targets["service_attitude"]["weight"] == 0
    cid = contract["id"]

    seen_by_provider = await client.get(url(provider, cid), headers=provider.headers)
    assert seen_by_provider.json()["side"] == "provider"
    outsider = await new_actor("merchant")
    assert_problem(await client.get(url(outsider, cid), headers=outsider.headers), 404)

    signed = await client.post(url(merchant, cid, "/sign"), headers=merchant.headers)
    assert signed.status_code == 200 and signed.json()["status"] == "pending_signature"
    again = await client.post(url(merchant, cid, "/sign"), headers=merchant.headers)
    assert again.json()["merchant_signed_at"] == signed.json()["merchant_signed_at"]
    assert (await Tender.select(Tender.status).where(Tender.id == tid).first())["status"] == "awarded"

    active = await client.post(url(provider, cid, "/sign"), headers=provider.headers)
    assert active.status_code == 200 and active.json()["status"] == "active"
    assert (await Tender.select(Tender.status).where(Tender.id == tid).first())["status"] == "contracted"
    kinds = [n["kind"] for n in (await client.get("/api/v1/notifications", headers=provider.headers)).json()["items"]]
    assert "contract_opened" in kinds and "contract_active" in kinds

    # Signed terms do not change; ending needs a reason.
    assert_problem(await client.patch(url(merchant, cid), headers=merchant.headers,
                                      json={"attribution_window_seconds": 3600}), 409)
    assert_problem(await client.post(url(provider, cid, "/terminate"), headers=provider.headers,
                                     json={"reason": "short"}), 400)
    ended = await client.post(url(provider, cid, "/terminate"), headers=provider.headers,
                              json={"reason": "The merchant closed the shop for the season."})
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"
    assert_problem(await client.post(url(merchant, cid, "/sign"), headers=merchant.headers), 409)


async def test_changed_terms_clear_the_signatures_and_only_signers_sign(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    _, contract = await awarded_contract(client, merchant, provider)
    cid = contract["id"]
    agent = await add_member(provider, "agent")
    assert_problem(await client.post(url(agent, cid, "/sign"), headers=agent.headers), 403)
    assert (await client.post(url(provider, cid, "/sign"), headers=provider.headers)).json()["provider_signed_at"]
    assert_problem(await client.patch(url(provider, cid), headers=provider.headers,
                                      json={"attribution_window_seconds": 3600}), 403)
    bad = {"weekdays": {"mon": [["10:00", "09:00"]]}}
    assert_problem(await client.patch(url(merchant, cid), headers=merchant.headers, json={"calendar": bad}), 422, "calendar_invalid")
    changed = await client.patch(url(merchant, cid), headers=merchant.headers, json={
        "attribution_window_seconds": 7200, "time_zone": "Europe/Berlin",
        "calendar": {"weekdays": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]}, "holidays": ["2026-12-25"]}})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["attribution_window_seconds"] == 7200 and body["time_zone"] == "Europe/Berlin"
    assert body["provider_signed_at"] is None and body["merchant_signed_at"] is None


async def test_milestones_are_delivered_sent_back_delivered_again_and_accepted(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider", categories=["photography"])
    _, contract = await awarded_contract(
        client, merchant, provider, category="photography",
        requirements={"skus": 40, "models": 1, "location": "our studio"}, pricing_models=["per_order"],
        sla_targets=[{"metric": "milestone_on_time_rate", "statistic": "rate", "comparator": ">=", "target": 0.9,
                      "window": "month", "weight": 100, "service_credit_percent": 3}],
        bid_fields={"pricing_model": "per_order", "price_unit": "style", "sla_commitment": []})
    cid = contract["id"]
    due = now() + datetime.timedelta(days=3)
    assert_problem(await client.post(url(provider, cid, "/milestones"), headers=provider.headers,
                                     json={"deliverable": "40 styles", "due_at": due.isoformat(), "amount": 100}), 403)
    created = await client.post(url(merchant, cid, "/milestones"), headers={**merchant.headers, "Idempotency-Key": "m1"},
                                json={"deliverable": "First 40 styles, retouched", "due_at": due.isoformat(),
                                      "amount": 1_200_000})
    assert created.status_code == 201, created.text
    retried = await client.post(url(merchant, cid, "/milestones"), headers={**merchant.headers, "Idempotency-Key": "m1"},
                                json={"deliverable": "First 40 styles, retouched", "due_at": due.isoformat(),
                                      "amount": 1_200_000})
    assert retried.json()["id"] == created.json()["id"]
    mid = created.json()["id"]
    assert_problem(await client.post(url(merchant, cid, f"/milestones/{mid}/accept"), headers=merchant.headers), 409)

    delivered = await client.post(url(provider, cid, f"/milestones/{mid}/submit"), headers=provider.headers,
                                  json={"note": "Shared folder with all 40 styles."})
    assert delivered.status_code == 200 and delivered.json()["status"] == "submitted"
    assert_problem(await client.post(url(merchant, cid, f"/milestones/{mid}/reject"), headers=merchant.headers,
                                     json={"reason": "no"}), 422, "reason_required")
    rejected = await client.post(url(merchant, cid, f"/milestones/{mid}/reject"), headers=merchant.headers,
                                 json={"reason": "Six styles have colour casts; retouch them."})
    assert rejected.json()["status"] == "rejected"
    again = await client.post(url(provider, cid, f"/milestones/{mid}/submit"), headers=provider.headers,
                              json={"note": "Retouched the six styles."})
    assert again.json()["status"] == "submitted"
    accepted = await client.post(url(merchant, cid, f"/milestones/{mid}/accept"), headers=merchant.headers)
    assert accepted.json()["status"] == "accepted"
    assert_problem(await client.post(url(merchant, cid, f"/milestones/{mid}/reject"), headers=merchant.headers,
                                     json={"reason": "Changed my mind about it."}), 409)

    listed = (await client.get(url(provider, cid, "/milestones"), headers=provider.headers)).json()
    deliveries = listed[0]["submissions"]
    assert [(d["number"], d["decision"]) for d in deliveries] == [(1, "rejected"), (2, "accepted")]
    kinds = [row["kind"] for row in await ServiceEvent.select(ServiceEvent.kind).where(
        ServiceEvent.contract == cid).order_by(ServiceEvent.id)]
    assert kinds == ["milestone_created", "milestone_submitted", "milestone_rejected", "milestone_submitted",
                     "milestone_accepted"]


async def test_orders_are_recorded_once_per_order_id(client):
    merchant = await new_actor("merchant")
    body = {"order": "o-9001", "buyer": "b7", "amount": 12_900, "currency": "CNY"}
    first = await client.post(f"/api/v1/orgs/{merchant.org_id}/orders", headers=merchant.headers, json=body)
    assert first.status_code == 201 and first.json()["created"] is True
    repeat = await client.post(f"/api/v1/orgs/{merchant.org_id}/orders", headers=merchant.headers,
                               json={**body, "amount": 99})
    assert repeat.json()["created"] is False and repeat.json()["amount"] == 12_900
    assert repeat.json()["id"] == first.json()["id"]
    provider = await new_actor("provider")
    assert_problem(await client.post(f"/api/v1/orgs/{provider.org_id}/orders", headers=provider.headers,
                                     json=body), 403)
    assert_problem(await client.post(f"/api/v1/orgs/{merchant.org_id}/orders", headers=merchant.headers,
                                     json={**body, "amount": -1}), 400)





HISTORY = "\n".join([
    '{"type": "conversation_opened", "at": "2026-03-02T09:00:03+08:00", "conversation": "c1", "buyer": "b7"}',
    '{"type": "buyer_message", "at": "2026-03-02T09:00:03+08:00", "conversation": "c1", "buyer": "b7"}',
    '{"type": "agent_reply", "at": "2026-03-02T09:01:03+08:00", "conversation": "c1", "agent": "a2"}',
    '{"type": "order_placed", "at": "2026-03-02T10:00:00+08:00", "buyer": "b7", "order": "o9", "amount": 12900,'
    ' "currency": "CNY"}',
]) + "\n"


async def test_the_shop_imports_its_history_once_and_reads_it_back_as_a_report(client):
    merchant = await new_actor("merchant")
    url = f"/api/v1/orgs/{merchant.org_id}/history"
    headers = {**merchant.headers, "Content-Type": "application/x-ndjson"}
    first = await client.post(url, headers=headers, content=HISTORY.encode())
    assert first.status_code == 201, first.text
    assert (first.json()["lines"], first.json()["added"]) == (4, 4)
    again = await client.post(url, headers=headers, content=HISTORY.encode())
    assert again.json()["added"] == 0
    bad = HISTORY + '{"type": "buyer_message", "at": "yesterday", "conversation": "c2", "buyer": "b8"}\n'
    refused = assert_problem(await client.post(url, headers=headers, content=bad.encode()), 422)
    assert refused["errors"][0]["line"] == 5
    assert_problem(await client.post(url, headers={**merchant.headers, "Content-Type": "text/plain"},
                                     content=HISTORY.encode()), 422)
    report = await client.get(f"{url}/report", headers=merchant.headers,
                              params={"from": "2026-03-01T00:00:00+08:00", "to": "2026-04-01T00:00:00+08:00"})
    assert report.status_code == 200, report.text
    metrics = {m["metric"]: m for m in report.json()["windows"][0]["metrics"]}
    assert metrics["first_response_time"]["value"] == 60 and metrics["inquiry_conversion_rate"]["value"] == 1
    as_csv = await client.get(f"{url}/report.csv", headers=merchant.headers,
                              params={"from": "2026-03-01T00:00:00+08:00", "to": "2026-04-01T00:00:00+08:00"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.text.splitlines()
    assert lines[0].startswith("window_start,window_end,metric") and any(",first_response_time,mean,60" in line
                                                                          for line in lines)


async def test_a_contract_report_compares_live_figures_with_their_targets(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    _, contract = await awarded_contract(client, merchant, provider)
    cid = contract["id"]
    response = await client.get(url(provider, cid, "/report"), headers=provider.headers,
                                params={"from": contract["starts_at"], "to": contract["ends_at"], "window": "month"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["window_size"] == "month" and len(body["windows"]) >= 12
    first = {m["metric"]: m for m in body["windows"][0]["metrics"]}
    assert first["first_response_time"]["target"] == 18 and first["first_response_time"]["met"] is None
    assert_problem(await client.get(url(provider, cid, "/report"), headers=provider.headers,
                                    params={"from": contract["ends_at"], "to": contract["starts_at"]}), 422)
    # A report is an answer, not a job: at most 60 windows (26 years of months is refused at once).
    too_long = assert_problem(await client.get(url(provider, cid, "/report"), headers=provider.headers,
                                               params={"from": "2000-01-01T00:00:00Z"}), 422)
    assert "at most 60 windows" in too_long["detail"]
