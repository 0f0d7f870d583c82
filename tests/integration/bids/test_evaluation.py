"""Evaluation and award (DESIGN.md section 3): price scored automatically within the
same pricing model and unit, other criteria the mean of evaluators' 0-10 scores;
closing refuses unscored bids; shortlists (top K or by hand) tell the others their
rank and scores; presentation slots; site findings; award with a reason when not the
top score, kept in the audit log; losing bidders told their rank."""

from __future__ import annotations

import datetime

import pytest

from fuwu.clock import now
from bids.tables import Award, Bid
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import bid_body, iso, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

THREE_ROUNDS = [
    {"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                             {"name": "Quality", "weight": 60}]},
    {"kind": "presentation", "criteria": [{"name": "Pitch", "weight": 70}, {"name": "Price", "weight": 30, "price": True}]},
    {"kind": "site_inspection", "criteria": [{"name": "Site", "weight": 100}]},
]


async def _score(client, merchant, actor, tid, number, bid_id, scores: dict):
    """`scores` by the criterion's position in the round: sent as its id (c1, c2, ...:
    the ids given by position to criteria the tender did not name)."""
    return await client.post(tender_url(merchant, tid, f"/rounds/{number}/scores"), headers=actor.headers,
                             json={"bid_id": bid_id,
                                   "scores": [{"criterion_id": f"c{c + 1}", "value": v} for c, v in scores.items()]})


async def _notes(client, actor, tid, kind) -> list[dict]:
    items = (await client.get("/api/v1/notifications", params={"limit": 100}, headers=actor.headers)).json()["items"]
    return [n for n in items if tid in n["link"] and n["kind"] == kind]


async def _evaluating(client, merchant, offers, rounds=THREE_ROUNDS, **tender_fields) -> tuple[str, dict]:
    """A tender in evaluation with one bid per (provider, bid fields); bid ids by provider org id."""
    tid = (await published_tender(client, merchant, rounds=rounds, **tender_fields))["id"]
    bids = {}
    for provider, fields in offers:
        response = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(**fields), headers=provider.headers)
        assert response.status_code == 201, response.text
        bids[str(provider.org_id)] = response.json()["id"]
    await pass_bid_deadline(tid)
    started = await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)
    assert started.status_code == 200, started.text
    return tid, bids


async def _round_one_closed(client, merchant, providers, qualities) -> tuple[str, dict]:
    tid, bids = await _evaluating(client, merchant, [(p, {"price": 4_000_000}) for p in providers])
    for provider, quality in zip(providers, qualities):
        await _score(client, merchant, merchant, tid, 1, bids[str(provider.org_id)], {1: quality})
    closed = await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    assert closed.status_code == 200, closed.text
    return tid, bids


async def test_price_is_scored_within_its_pricing_model_and_unit_and_the_rest_is_the_evaluators_mean(client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    a, b, c, d, e = [await new_actor("provider") for _ in range(5)]
    offers = [(a, {"price": 4_000_000}), (b, {"price": 5_000_000}),
              (c, {"price": 100, "pricing_model": "metered", "price_unit": "conversation"}),
              (d, {"price": 125, "pricing_model": "metered", "price_unit": "conversation"}),
              (e, {"price": 50, "pricing_model": "metered", "price_unit": "order"})]
    tid, bids = await _evaluating(client, merchant, offers, rounds=THREE_ROUNDS[:1])
    quality = [(a, (8, 6)), (b, (9, 9)), (c, (5, 10)), (d, (10, 10)), (e, (0, 1))]
    # The evaluator first gives a 2 to A, then changes their mind: the later score replaces it.
    assert (await _score(client, merchant, evaluator, tid, 1, bids[str(a.org_id)], {1: 2})).status_code == 200
    for provider, (by_owner, by_evaluator) in quality:
        for actor, value in ((merchant, by_owner), (evaluator, by_evaluator)):
            response = await _score(client, merchant, actor, tid, 1, bids[str(provider.org_id)], {1: value})
            assert response.status_code == 200 and response.json()["scored"] == 1, response.text
    closed = await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    assert closed.status_code == 200, closed.text
    entries = {entry["bid_id"]: entry for entry in closed.json()["entries"]}

    def entry(provider):
        return entries[bids[str(provider.org_id)]]

    # Price (40): lowest of each group gets 40: A 4M periodic; C 100/conversation; E 50/order (alone in its unit).
    # B: 40 x 4/5 = 32; D: 40 x 100/125 = 32. Quality (60): 60 x mean / 10.
    expected = [(a, (40, 7.0, 42, 82)), (b, (32, 9.0, 54, 86)), (c, (40, 7.5, 45, 85)), (d, (32, 10.0, 60, 92)),
                (e, (40, 0.5, 3, 43))]
    for provider, (price_points, mean, quality_points, total) in expected:
        details = entry(provider)["details"]
        assert details["0"] == {"points": price_points, "price": True}
        assert details["1"] == {"points": quality_points, "mean": mean}
        assert entry(provider)["score"] == total
    assert [entry(p)["rank"] for p in (d, b, c, a, e)] == [1, 2, 3, 4, 5]
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    ranks = {str(r["id"]): r["rank"] for r in await Bid.select(Bid.id, Bid.rank).where(Bid.tender == tid)}
    assert ranks[bids[str(d.org_id)]] == 1 and ranks[bids[str(e.org_id)]] == 5
    events = (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json()["items"]
    assert events[0]["action"] == "round_closed" and events[0]["after"]["ranking"][0] == bids[str(d.org_id)]


async def test_scores_are_checked(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid, bids = await _evaluating(client, merchant, [(provider, {})])
    bid_id = bids[str(provider.org_id)]
    assert_problem(await _score(client, merchant, merchant, tid, 1, bid_id, {0: 5}), 422, "round_invalid")  # price
    assert_problem(await _score(client, merchant, merchant, tid, 1, bid_id, {2: 5}), 422, "round_invalid")
    assert_problem(await _score(client, merchant, merchant, tid, 1, bid_id, {1: 11}), 400, "invalid_input")
    assert_problem(await _score(client, merchant, merchant, tid, 1, bid_id, {1: -1}), 400, "invalid_input")
    assert_problem(await _score(client, merchant, merchant, tid, 2, bid_id, {0: 5}), 404)  # round 2 not open yet
    assert_problem(await _score(client, merchant, merchant, tid, 1, "8a0d3f7e-0000-4000-8000-000000000000", {1: 5}), 404)
    assert_problem(await _score(client, merchant, provider, tid, 1, bid_id, {1: 10}), 404)
    assert_problem(await client.get(tender_url(provider, tid, "/rounds"), headers=provider.headers), 404)


async def test_closing_a_round_is_refused_while_a_bid_is_unscored(client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid, bids = await _evaluating(client, merchant, [(alpha, {}), (beta, {"price": 4_500_000})])
    await _score(client, merchant, evaluator, tid, 1, bids[str(alpha.org_id)], {1: 7})
    problem = assert_problem(await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers),
                             409, "bids_unscored")
    assert problem["bids"] == [bids[str(beta.org_id)]]
    assert_problem(await client.post(tender_url(evaluator, tid, "/rounds/1/close"), headers=evaluator.headers), 403)
    rounds = (await client.get(tender_url(evaluator, tid, "/rounds"), headers=evaluator.headers)).json()["items"]
    assert rounds[0]["status"] == "open" and {e["score"] for e in rounds[0]["entries"]} == {None}
    await _score(client, merchant, evaluator, tid, 1, bids[str(beta.org_id)], {1: 7})
    assert (await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)).status_code == 200
    assert_problem(await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers), 409,
                   "round_invalid")
    assert_problem(await _score(client, merchant, evaluator, tid, 1, bids[str(beta.org_id)], {1: 1}), 409, "round_invalid")


async def test_shortlist_top_k_tells_the_others_their_rank_and_scores(client):
    merchant = await new_actor("merchant")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tid, bids = await _round_one_closed(client, merchant, [alpha, beta, gamma], [9, 7, 5])
    # Equal prices: 40 each; quality 54, 42, 30 -> 94, 82, 70.
    assert_problem(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2, "bid_ids": []},
                                     headers=merchant.headers), 422, "shortlist_invalid")
    assert_problem(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={},
                                     headers=merchant.headers), 422, "shortlist_invalid")
    shortlisted = await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2},
                                    headers=merchant.headers)
    assert shortlisted.status_code == 200, shortlisted.text
    first, second = shortlisted.json()[:2]
    assert {e["bid_id"]: e["shortlisted"] for e in first["entries"]} == {
        bids[str(alpha.org_id)]: True, bids[str(beta.org_id)]: True, bids[str(gamma.org_id)]: False}
    assert second["number"] == 2 and second["status"] == "open"
    assert {e["bid_id"] for e in second["entries"]} == {bids[str(alpha.org_id)], bids[str(beta.org_id)]}
    told = await _notes(client, gamma, tid, "bid_not_shortlisted")
    assert len(told) == 1 and told[0]["body"] == "Round 1: rank 3 of 3, score 70.00 of 100."
    assert (await _notes(client, beta, tid, "bid_shortlisted"))[0]["body"].startswith("Round 1: rank 2 of 3")
    assert (await Bid.select(Bid.result).where(Bid.id == bids[str(gamma.org_id)]).first())["result"] == "eliminated"
    assert_problem(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 1},
                                     headers=merchant.headers), 409, "shortlist_invalid")


async def test_shortlist_by_hand_keeps_exactly_the_chosen_bids(client):
    merchant = await new_actor("merchant")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tid, bids = await _round_one_closed(client, merchant, [alpha, beta, gamma], [9, 7, 5])
    outsider = "5c3e0a3a-0000-4000-8000-000000000000"
    assert_problem(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), headers=merchant.headers,
                                     json={"bid_ids": [outsider]}), 422, "shortlist_invalid")
    assert_problem(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), headers=merchant.headers,
                                     json={"bid_ids": []}), 422, "shortlist_invalid")
    chosen = [bids[str(gamma.org_id)], bids[str(alpha.org_id)]]
    rounds = (await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"bid_ids": chosen},
                                headers=merchant.headers)).json()
    assert {e["bid_id"] for e in rounds[1]["entries"]} == set(chosen)
    told = await _notes(client, beta, tid, "bid_not_shortlisted")
    assert len(told) == 1 and told[0]["body"] == "Round 1: rank 2 of 3, score 82.00 of 100."
    assert not await _notes(client, gamma, tid, "bid_not_shortlisted")


async def test_presentation_slots_may_not_overlap_and_the_provider_confirms(client):
    merchant = await new_actor("merchant")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tid, bids = await _round_one_closed(client, merchant, [alpha, beta, gamma], [9, 7, 5])
    await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2}, headers=merchant.headers)
    start = (now() + datetime.timedelta(days=2)).replace(microsecond=0)

    def slot(provider, begin_minutes, end_minutes, place="Room 3"):
        return {"bid_id": bids[str(provider.org_id)], "starts_at": iso(start + datetime.timedelta(minutes=begin_minutes)),
                "ends_at": iso(start + datetime.timedelta(minutes=end_minutes)), "place": place}

    url = tender_url(merchant, tid, "/rounds/2/slots")
    made = await client.post(url, json=slot(alpha, 0, 45), headers=merchant.headers)
    assert made.status_code == 201, made.text
    assert_problem(await client.post(url, json=slot(beta, 30, 75), headers=merchant.headers), 409, "slot_invalid")
    assert_problem(await client.post(url, json=slot(beta, -15, 5), headers=merchant.headers), 409, "slot_invalid")
    assert_problem(await client.post(url, json=slot(beta, 60, 50), headers=merchant.headers), 422, "slot_invalid")
    assert_problem(await client.post(url, json=slot(gamma, 120, 150), headers=merchant.headers), 404)  # not shortlisted
    assert_problem(await client.post(tender_url(merchant, tid, "/rounds/1/slots"), json=slot(beta, 200, 230),
                                     headers=merchant.headers), 409, "round_invalid")  # not a presentation round
    adjacent = await client.post(url, json=slot(beta, 45, 90), headers=merchant.headers)
    assert adjacent.status_code == 201, adjacent.text
    moved = await client.post(url, json=slot(alpha, 10, 40, "Room 5"), headers=merchant.headers)  # its own slot moves
    assert moved.status_code == 201 and moved.json()["place"] == "Room 5"
    told = await _notes(client, alpha, tid, "presentation_scheduled")
    assert len(told) == 2

    alpha_slots = (await client.get(tender_url(alpha, tid, "/slots"), headers=alpha.headers)).json()
    beta_slots = (await client.get(tender_url(beta, tid, "/slots"), headers=beta.headers)).json()
    assert [s["place"] for s in alpha_slots] == ["Room 5"] and len(beta_slots) == 1
    assert (await client.get(tender_url(gamma, tid, "/slots"), headers=gamma.headers)).json() == []
    assert_problem(await client.post(tender_url(beta, tid, f"/slots/{alpha_slots[0]['id']}/confirm"),
                                     headers=beta.headers), 404, "slot_not_found")
    confirmed = await client.post(tender_url(alpha, tid, f"/slots/{alpha_slots[0]['id']}/confirm"), headers=alpha.headers)
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"]
    assert len(await _notes(client, merchant, tid, "presentation_confirmed")) == 1
    actions = [e["action"] for e in (await client.get(tender_url(merchant, tid, "/audit"),
                                                      headers=merchant.headers)).json()["items"]]
    assert actions[:4] == ["presentation_confirmed", "presentation_scheduled", "presentation_scheduled",
                           "presentation_scheduled"]


async def test_site_findings_are_recorded_for_shortlisted_bids(client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tid, bids = await _round_one_closed(client, merchant, [alpha, beta, gamma], [9, 7, 5])
    await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2}, headers=merchant.headers)
    visit = {"bid_id": bids[str(alpha.org_id)], "visited_at": iso(now()), "finding": "Clean floor, 14 seats ready."}
    assert_problem(await client.post(tender_url(merchant, tid, "/rounds/2/findings"), json=visit,
                                     headers=merchant.headers), 409, "round_invalid")  # a presentation round
    for provider, value in ((alpha, 9), (beta, 6)):
        await _score(client, merchant, merchant, tid, 2, bids[str(provider.org_id)], {0: value})
    await client.post(tender_url(merchant, tid, "/rounds/2/close"), headers=merchant.headers)
    await client.post(tender_url(merchant, tid, "/rounds/2/shortlist"), json={"top": 2}, headers=merchant.headers)
    url = tender_url(merchant, tid, "/rounds/3/findings")
    recorded = await client.post(url, json=visit, headers=evaluator.headers)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["finding"] == "Clean floor, 14 seats ready."
    again = await client.post(url, json={**visit, "finding": "Second visit: night shift staffed."}, headers=evaluator.headers)
    assert again.status_code == 201 and again.json()["finding"] == "Second visit: night shift staffed."
    assert_problem(await client.post(url, json={**visit, "bid_id": bids[str(gamma.org_id)]}, headers=merchant.headers),
                   404)  # eliminated in round 1
    assert_problem(await client.post(url, json={**visit, "finding": "ok"}, headers=merchant.headers), 400)
    assert_problem(await client.post(url, json={**visit, "visited_at": "2030-01-01T10:00:00"}, headers=merchant.headers),
                   422, "slot_invalid")
    assert_problem(await client.post(url, json=visit, headers=alpha.headers), 404)


async def test_award_of_other_than_the_top_needs_a_reason_kept_in_the_audit_log(client):
    merchant = await new_actor("merchant")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tid, bids = await _round_one_closed(client, merchant, [alpha, beta, gamma], [9, 7, 5])
    await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2}, headers=merchant.headers)
    award_url = tender_url(merchant, tid, "/award")
    beta_bid = bids[str(beta.org_id)]
    assert_problem(await client.post(award_url, json={"bid_id": beta_bid}, headers=merchant.headers), 409,
                   "round_invalid")  # round 2 still open
    for provider, value in ((alpha, 8), (beta, 6)):
        await _score(client, merchant, merchant, tid, 2, bids[str(provider.org_id)], {0: value})
    await client.post(tender_url(merchant, tid, "/rounds/2/close"), headers=merchant.headers)
    assert_problem(await client.post(award_url, json={"bid_id": beta_bid}, headers=merchant.headers), 422,
                   "award_reason_required")
    assert_problem(await client.post(award_url, json={"bid_id": beta_bid, "reason": "   cheaper  "},
                                     headers=merchant.headers), 422, "award_reason_required")
    assert_problem(await client.post(award_url, json={"bid_id": bids[str(gamma.org_id)], "reason": "x" * 20},
                                     headers=merchant.headers), 404)  # not in the final round
    assert not await Award.exists().where(Award.tender == tid)
    reason = "Their night shift covers our overseas buyers."
    awarded = await client.post(award_url, json={"bid_id": beta_bid, "reason": reason}, headers=merchant.headers)
    assert awarded.status_code == 201, awarded.text
    assert awarded.json()["bid_id"] == beta_bid and awarded.json()["reason"] == reason
    assert (await client.get(award_url, headers=merchant.headers)).json()["reason"] == reason
    events = (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json()["items"]
    award_event = next(e for e in events if e["action"] == "awarded")
    assert award_event["after"]["reason"] == reason and award_event["after"]["rank"] == 2
    assert award_event["after"]["bid"] == beta_bid and award_event["actor"] == str(merchant.user_id)
    status_event = next(e for e in events if e["action"] == "status_awarded")
    assert status_event["after"] == {"status": "awarded", "reason": reason}
    # Losing bidders are told with their rank; the winner is told it won.
    lost = await _notes(client, alpha, tid, "bid_not_awarded")
    assert len(lost) == 1 and lost[0]["body"].startswith("Final rank 1 of 2")
    assert len(await _notes(client, beta, tid, "bid_awarded")) == 1
    results = {str(r["id"]): r["result"] for r in await Bid.select(Bid.id, Bid.result).where(Bid.tender == tid)}
    assert results == {bids[str(alpha.org_id)]: "not_awarded", beta_bid: "awarded", bids[str(gamma.org_id)]: "eliminated"}
    assert_problem(await client.get(tender_url(beta, tid, "/award"), headers=beta.headers), 404)


async def test_award_of_the_top_score_needs_no_reason(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid, bids = await _evaluating(client, merchant, [(alpha, {"price": 4_000_000}), (beta, {"price": 5_000_000})],
                                  rounds=THREE_ROUNDS[:1])
    for provider in (alpha, beta):
        await _score(client, merchant, merchant, tid, 1, bids[str(provider.org_id)], {1: 8})
    await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    awarded = await client.post(tender_url(merchant, tid, "/award"), json={"bid_id": bids[str(alpha.org_id)]},
                                headers=merchant.headers)
    assert awarded.status_code == 201, awarded.text
    assert awarded.json()["reason"] == "" and awarded.json()["provider_id"] == str(alpha.org_id)
    lost = await _notes(client, beta, tid, "bid_not_awarded")
    assert lost[0]["body"] == "Final rank 2 of 2, score 80.00 of 100."  # 40 x 4/5 + 60 x 8/10


async def test_award_of_a_bid_tied_for_the_top_score_needs_no_reason(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid, bids = await _evaluating(client, merchant, [(alpha, {"price": 4_000_000}), (beta, {"price": 4_000_000})],
                                  rounds=THREE_ROUNDS[:1])
    for provider in (alpha, beta):
        await _score(client, merchant, merchant, tid, 1, bids[str(provider.org_id)], {1: 8})
    closed = (await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)).json()
    assert sorted((e["score"], e["rank"]) for e in closed["entries"]) == [(88.0, 1), (88.0, 2)]
    awarded = await client.post(tender_url(merchant, tid, "/award"), json={"bid_id": bids[str(beta.org_id)]},
                                headers=merchant.headers)
    assert awarded.status_code == 201, awarded.text


async def test_scores_name_criteria_by_their_stable_ids(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    rounds = [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True, "id": "price"},
                                                       {"name": "Quality", "weight": 40, "id": "quality"},
                                                       {"name": "Team", "weight": 20}]}]
    tid, bids = await _evaluating(client, merchant, [(provider, {"price": 4_000_000})], rounds=rounds)
    tender = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    # Ids the merchant gave are kept; one left out is given by its position.
    assert [c["id"] for c in tender["rounds"][0]["criteria"]] == ["price", "quality", "c3"]
    listed = (await client.get(tender_url(merchant, tid, "/rounds"), headers=merchant.headers)).json()["items"]
    assert [c["id"] for c in listed[0]["criteria"]] == ["price", "quality", "c3"]

    bid_id = bids[str(provider.org_id)]
    url = tender_url(merchant, tid, "/rounds/1/scores")
    scored = await client.post(url, headers=merchant.headers, json={"bid_id": bid_id, "scores": [
        {"criterion_id": "quality", "value": 8}, {"criterion_id": "c3", "value": 6.5}]})
    assert scored.status_code == 200, scored.text
    assert scored.json() == {"round": 1, "bid_id": bid_id, "scored": 2, "criterion_ids": ["quality", "c3"]}
    # An id the round does not have, the price (scored automatically), or no criterion at all: refused.
    unknown = assert_problem(await client.post(url, headers=merchant.headers, json={
        "bid_id": bid_id, "scores": [{"criterion_id": "speed", "value": 5}]}), 422)
    assert "price, quality, c3" in unknown["detail"]
    assert_problem(await client.post(url, headers=merchant.headers, json={
        "bid_id": bid_id, "scores": [{"criterion_id": "price", "value": 5}]}), 422)
    assert_problem(await client.post(url, headers=merchant.headers, json={
        "bid_id": bid_id, "scores": [{"value": 5}]}), 422)
    closed = await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    assert closed.status_code == 200, closed.text


async def test_a_criterion_id_used_twice_in_a_round_is_refused(client):
    merchant = await new_actor("merchant")
    rounds = [{"kind": "proposal_review", "criteria": [{"name": "Quality", "weight": 60, "id": "q"},
                                                       {"name": "Team", "weight": 40, "id": "q"}]}]
    from tests.tendering import tender_body

    problem = assert_problem(await client.post(tender_url(merchant), json=tender_body(rounds=rounds),
                                               headers={**merchant.headers, "Accept-Language": "zh-CN"}), 422,
                             "invalid_value")
    assert "q" in problem["detail"] and "两次" in problem["detail"], problem


async def test_the_score_answer_is_declared(client):
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/v1/orgs/{org_id}/tenders/{tender_id}/rounds/{number}/scores"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScoresRecorded"}
    recorded = document["components"]["schemas"]["ScoresRecorded"]
    assert set(recorded["required"]) == {"round", "bid_id", "scored", "criterion_ids"}
    score = document["components"]["schemas"]["CriterionScore"]["properties"]
    assert "criterion_id" in score and "Deprecated" in score["criterion"]["description"]
