"""The bids domain's authorisation matrix: the provider's own bid and the merchant's
evaluation under /api/v1/orgs/{org_id}/tenders/{tender_id}/…, and the pages of
bids/pages.py (see tests/authz.py for the convention, and the tenders domain's matrix,
whose entry, runner and tender-making helpers this module shares).

Who may do what (bids/services/*.py):

* a provider's bidders (owner, manager) submit, revise, confirm, withdraw and attach
  files to its bid on a tender it may see, and confirm its presentation slots; every
  member of the provider (agents too) reads the bid, its history, slots and files;
* every member of the merchant (owner, operator, evaluator) reads the unsealed bids,
  rounds, files, comparison and award, and scores and records site findings; the
  runners (owner, operator) start the evaluation, close rounds, shortlist, schedule
  presentations, award and end without award;
* every member of a provider reads its pipeline of bids ("My bids", API and page);
* the other kind of organisation gets 404, as does a provider that may not see the
  tender and a merchant whose tender it is not.

The merchant's reads of bids are 409 bids_sealed for everyone before the deadline, which
is no refusal of a caller: those entries act on tenders whose deadline has passed
(bidding closed as the scheduled job would, before the call).
"""

from __future__ import annotations

import datetime

import msgspec
import pytest

from bids.schemas import BidSubmit, ScoreSubmit
from bids.services import award, evaluation, submission
from fuwu.clock import now
from tenders.services import lifecycle
from tests import authz
from tests.authz import ORG, Call, Target
from tests.integration.tenders.test_authz_matrix import (
    BIDDERS,
    BOTH,
    EVERY_MEMBER,
    MERCHANT,
    PROVIDER,
    SHANGHAI,
    WRITERS,
    Entry,
    acted_on,
    api,
    cases,
    local_input,
    make_tender,
    member_of,
    merchant,
    provider,
    shared,
)
from tests.tendering import bid_body, iso, pass_bid_deadline

FILES = {"file": ("proposal.pdf", b"%PDF-1.4 twelve trained agents", "application/pdf")}

AGENT_CONFIRMS_SLOT = (
    "bids/services/evaluation.py confirm_slot checks only that the caller is a provider (member.kind), not its "
    "role: a provider's agent (a chat seat) confirms the presentation slot for the provider, which the bidders "
    "(owner, manager) hold everywhere else (the tender page's panel shows the slot only to them)"
)


# --- what the setups act on ---------------------------------------------------------

ONE_ROUND = [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                      {"name": "Team and experience", "weight": 60}]}]
PRESENTATION = None  # tender_body's own rounds: proposal review, then presentation
SITE_VISIT = ONE_ROUND + [{"kind": "site_inspection", "criteria": [{"name": "Site", "weight": 50},
                                                                   {"name": "Team", "weight": 50}]}]
STAGES = ("open", "bid", "closed", "evaluating", "scored", "round_closed", "round2", "slot", "awarded")


async def make_bid_tender(t: Target, stage: str, rounds: list | None = PRESENTATION):
    """A new open tender (see make_tender) brought to `stage` through the services,
    each stage including the ones before it: a bid of the cast's provider with a file,
    the deadline passed and bidding closed (as the scheduled job would: a read must
    not be what closes it), evaluation started, round 1 scored by the merchant's owner,
    closed, then awarded or shortlisted into round 2 and a slot scheduled there."""
    upto = STAGES.index(stage)
    ids = await make_tender(t, "open", rounds)
    ids.bid = ids.attachment = ids.slot = None
    m, p = merchant(t), provider(t)
    mm, pm = await member_of(m), await member_of(p)
    if upto < STAGES.index("bid"):
        return ids
    ids.bid = (await submission.submit_bid(p.viewer, pm, ids.tender, msgspec.convert(bid_body(), BidSubmit)))["id"]
    ids.attachment = (await submission.add_attachment(p.viewer, pm, ids.tender, "proposal.pdf", "application/pdf",
                                                      b"%PDF-1.4 twelve trained agents"))["id"]
    if upto < STAGES.index("closed"):
        return ids
    await pass_bid_deadline(ids.tender)
    await lifecycle.close_bidding(ids.tender)
    if upto < STAGES.index("evaluating"):
        return ids
    await evaluation.start_evaluation(m.viewer, mm, ids.tender)
    if upto < STAGES.index("scored"):
        return ids
    rounds_now = await evaluation.rounds(mm, ids.tender)
    criterion = next(i for i, c in enumerate(rounds_now[0]["criteria"]) if not c.get("price"))
    data = msgspec.convert({"bid_id": str(ids.bid), "scores": [{"criterion": criterion, "value": 7}]}, ScoreSubmit)
    await evaluation.submit_scores(m.viewer, mm, ids.tender, 1, data.bid_id, data.scores)
    if upto < STAGES.index("round_closed"):
        return ids
    await evaluation.close_round(m.viewer, mm, ids.tender, 1)
    if stage == "awarded":
        await award.award_bid(m.viewer, mm, ids.tender, ids.bid, "")
        return ids
    if upto < STAGES.index("round2"):
        return ids
    await evaluation.shortlist(m.viewer, mm, ids.tender, 1, 1, None)
    if upto < STAGES.index("slot"):
        return ids
    start, end = slot_times()
    ids.slot = (await evaluation.schedule_slot(m.viewer, mm, ids.tender, 2, ids.bid, start, end, "Room 3"))["id"]
    return ids


async def bid_tender_at(t: Target, stage: str, rounds: list | None = PRESENTATION):
    return await acted_on(("bid_tender", stage, repr(rounds)), lambda: make_bid_tender(t, stage, rounds))


async def shared_bid_tender(t: Target, stage: str, rounds: list | None = PRESENTATION):
    return await shared(("bid_tender", stage, repr(rounds)), lambda: make_bid_tender(t, stage, rounds))


def bid_form(**overrides) -> dict:
    """The bid form as a provider fills it in."""
    valid = (now().astimezone(SHANGHAI) + datetime.timedelta(days=60)).date().isoformat()
    form = {
        "price": "45000.00", "pricing_model": "periodic_fee", "price_unit": "",
        "proposal": "Twelve trained agents, 09:00-24:00, first response under 20 s.",
        "sla_metric": ["first_response_time"], "sla_statistic": ["mean"], "sla_comparator": ["<="],
        "sla_target": ["18"], "sla_window": ["month"], "seats": "12", "agents": "Sun Li\nMa Jun", "lead": "Liu Yang",
        "valid_until": valid,
    }
    form.update(overrides)
    return form


def slot_times() -> tuple[datetime.datetime, datetime.datetime]:
    start = now() + datetime.timedelta(days=1)
    return start, start + datetime.timedelta(minutes=45)


# --- setups: the API -----------------------------------------------------------------


def _read(suffix: str, stage: str, rounds: list | None = None):
    """A read of the shared tender at `stage`; `suffix` may name its {bid} or {attachment}."""

    async def setup(t: Target) -> Call:
        ids = await shared_bid_tender(t, stage, rounds)
        return Call(api(t, ids.tender, suffix.format(bid=ids.bid, attachment=ids.attachment)))

    return setup


def _act(stage: str, suffix: str, body=None, rounds: list | None = None, page: bool = False):
    """A call on a fresh tender at `stage`; `body(ids)` makes the JSON body (API) or
    the form (page), and `suffix` may name its {bid} or {slot}."""

    async def setup(t: Target) -> Call:
        ids = await bid_tender_at(t, stage, rounds)
        path = suffix.format(bid=ids.bid, slot=ids.slot)
        if page:
            return Call(f"/tenders/{ids.tender}{path}", form=body(ids) if body else {})
        if body is None:
            return Call(api(t, ids.tender, path))
        return Call(api(t, ids.tender, path), json=body(ids))

    return setup


def _slot_json(ids) -> dict:
    start, end = slot_times()
    return {"bid_id": str(ids.bid), "starts_at": iso(start), "ends_at": iso(end), "place": "Hangzhou office"}


def _finding_json(ids) -> dict:
    return {"bid_id": str(ids.bid), "visited_at": iso(now() - datetime.timedelta(hours=3)),
            "finding": "Twelve seats, quiet room, backup power."}


async def _my_bids(t: Target) -> Call:
    await shared_bid_tender(t, "bid")
    return Call(f"/api/v1/orgs/{t.org_id}/bids")


# --- setups: the pages ---------------------------------------------------------------


def _page_read(suffix: str, stage: str, rounds: list | None = None):
    async def setup(t: Target) -> Call:
        ids = await shared_bid_tender(t, stage, rounds)
        return Call(f"/tenders/{ids.tender}{suffix.format(bid=ids.bid, attachment=ids.attachment)}")

    return setup


def _page_act(stage: str, suffix: str, form=None, rounds: list | None = None):
    return _act(stage, suffix, form, rounds, page=True)


def _slot_form(ids) -> dict:
    return {"bid_id": str(ids.bid), "starts_at": local_input(1, hour=10), "ends_at": local_input(1, hour=11),
            "place": "Hangzhou office"}


def _finding_form(ids) -> dict:
    return {"bid_id": str(ids.bid), "visited_at": local_input(-1, hour=10),
            "finding": "Twelve seats, quiet room, backup power."}


# --- the matrix ----------------------------------------------------------------------

TID = "/api/v1/orgs/{org_id:uuid}/tenders/{tender_id:uuid}"
PAGE = "/tenders/{tender_id:uuid}"
PROVIDER_ONLY = {"kinds": (PROVIDER,)}
MERCHANT_ONLY = {"kinds": (MERCHANT,)}

MATRIX = [
    # the provider's own bid (API)
    Entry("GET", TID + "/bid", ORG, setup=_read("/bid", "bid"), roles=EVERY_MEMBER, **PROVIDER_ONLY),
    Entry("POST", TID + "/bid", ORG, setup=_act("open", "/bid", lambda ids: bid_body()), roles=BIDDERS,
          **PROVIDER_ONLY),
    Entry("PUT", TID + "/bid", ORG, setup=_act("bid", "/bid", lambda ids: bid_body(3_900_000)), roles=BIDDERS,
          **PROVIDER_ONLY),
    Entry("POST", TID + "/bid/confirm", ORG, setup=_act("bid", "/bid/confirm"), roles=BIDDERS, ok=(200,),
          **PROVIDER_ONLY),
    Entry("DELETE", TID + "/bid", ORG, setup=_act("bid", "/bid"), roles=BIDDERS, **PROVIDER_ONLY),
    Entry("GET", TID + "/bid/history", ORG, setup=_read("/bid/history", "bid"), roles=EVERY_MEMBER, **PROVIDER_ONLY),
    Entry("POST", TID + "/bid/attachments", ORG, setup=_act("bid", "/bid/attachments"), files=FILES, roles=BIDDERS,
          **PROVIDER_ONLY),
    Entry("GET", TID + "/slots", ORG, setup=_read("/slots", "bid"), roles=EVERY_MEMBER, **PROVIDER_ONLY),
    Entry("POST", TID + "/slots/{slot_id:uuid}/confirm", ORG, setup=_act("slot", "/slots/{slot}/confirm"),
          roles=BIDDERS, ok=(200,), **PROVIDER_ONLY),
    # a bid's file: its provider at any time, the merchant's team once unsealed
    Entry("GET", TID + "/attachments/{attachment_id:uuid}", ORG, setup=_read("/attachments/{attachment}", "closed"),
          kinds=BOTH, roles=EVERY_MEMBER),
    # the merchant's evaluation (API), after the deadline
    Entry("GET", TID + "/bids", ORG, setup=_read("/bids", "closed"), roles=EVERY_MEMBER, **MERCHANT_ONLY),
    Entry("GET", TID + "/bids/{bid_id:uuid}", ORG, setup=_read("/bids/{bid}", "closed"), roles=EVERY_MEMBER,
          **MERCHANT_ONLY),
    Entry("POST", TID + "/evaluation/start", ORG, setup=_act("closed", "/evaluation/start"), roles=WRITERS, ok=(200,),
          **MERCHANT_ONLY),
    Entry("GET", TID + "/rounds", ORG, setup=_read("/rounds", "closed"), roles=EVERY_MEMBER, **MERCHANT_ONLY),
    Entry("POST", TID + "/rounds/{number:int}/scores", ORG, roles=EVERY_MEMBER, ok=(200,), **MERCHANT_ONLY,
          setup=_act("evaluating", "/rounds/1/scores",
                     lambda ids: {"bid_id": str(ids.bid), "scores": [{"criterion": 1, "value": 8}]})),
    Entry("POST", TID + "/rounds/{number:int}/close", ORG, setup=_act("scored", "/rounds/1/close"), roles=WRITERS,
          ok=(200,), **MERCHANT_ONLY),
    Entry("POST", TID + "/rounds/{number:int}/shortlist", ORG, roles=WRITERS, ok=(200,), **MERCHANT_ONLY,
          setup=_act("round_closed", "/rounds/1/shortlist", lambda ids: {"top": 1})),
    Entry("POST", TID + "/rounds/{number:int}/slots", ORG, setup=_act("round2", "/rounds/2/slots", _slot_json),
          roles=WRITERS, **MERCHANT_ONLY),
    Entry("POST", TID + "/rounds/{number:int}/findings", ORG, roles=EVERY_MEMBER, **MERCHANT_ONLY,
          setup=_act("round2", "/rounds/2/findings", _finding_json, rounds=SITE_VISIT)),
    Entry("POST", TID + "/award", ORG, roles=WRITERS, **MERCHANT_ONLY,
          setup=_act("round_closed", "/award", lambda ids: {"bid_id": str(ids.bid)}, rounds=ONE_ROUND)),
    Entry("GET", TID + "/award", ORG, setup=_read("/award", "awarded", rounds=ONE_ROUND), roles=EVERY_MEMBER,
          **MERCHANT_ONLY),
    Entry("POST", TID + "/unsuccessful", ORG, roles=WRITERS, ok=(200,), **MERCHANT_ONLY,
          setup=_act("closed", "/unsuccessful", lambda ids: {"reason": "No bid qualified"})),
    # the provider's pages
    Entry("GET", PAGE + "/bid", ORG, setup=_page_read("/bid", "bid"), kinds=BOTH, roles=EVERY_MEMBER),
    Entry("POST", PAGE + "/bid", ORG, setup=_page_act("open", "/bid", lambda ids: bid_form()), roles=BIDDERS,
          **PROVIDER_ONLY),
    Entry("POST", PAGE + "/bid/revise", ORG, setup=_page_act("bid", "/bid/revise", lambda ids: bid_form(price="39000")),
          roles=BIDDERS, **PROVIDER_ONLY),
    Entry("POST", PAGE + "/bid/confirm", ORG, setup=_page_act("bid", "/bid/confirm"), roles=BIDDERS, **PROVIDER_ONLY),
    Entry("POST", PAGE + "/bid/withdraw", ORG, setup=_page_act("bid", "/bid/withdraw"), roles=BIDDERS,
          **PROVIDER_ONLY),
    Entry("POST", PAGE + "/bid/attachments", ORG, setup=_page_act("bid", "/bid/attachments"), files=FILES,
          roles=BIDDERS, **PROVIDER_ONLY),
    Entry("GET", PAGE + "/attachments/{attachment_id:uuid}", ORG, kinds=BOTH, roles=EVERY_MEMBER,
          setup=_page_read("/attachments/{attachment}", "closed")),
    Entry("POST", PAGE + "/slots/{slot_id:uuid}/confirm", ORG, setup=_page_act("slot", "/slots/{slot}/confirm"),
          roles=BIDDERS, **PROVIDER_ONLY),
    # the merchant's evaluation pages
    Entry("GET", PAGE + "/evaluation", ORG, setup=_page_read("/evaluation", "closed"), roles=EVERY_MEMBER,
          **MERCHANT_ONLY),
    Entry("POST", PAGE + "/evaluation/start", ORG, setup=_page_act("closed", "/evaluation/start"), roles=WRITERS,
          **MERCHANT_ONLY),
    Entry("GET", PAGE + "/rounds/{number:int}/scoring", ORG, setup=_page_read("/rounds/1/scoring", "evaluating"),
          roles=EVERY_MEMBER, **MERCHANT_ONLY),
    Entry("POST", PAGE + "/rounds/{number:int}/scoring", ORG, roles=EVERY_MEMBER, **MERCHANT_ONLY,
          setup=_page_act("evaluating", "/rounds/1/scoring", lambda ids: {f"score-{ids.bid}-1": "8"})),
    Entry("POST", PAGE + "/rounds/{number:int}/close", ORG, setup=_page_act("scored", "/rounds/1/close"),
          roles=WRITERS, **MERCHANT_ONLY),
    Entry("POST", PAGE + "/rounds/{number:int}/shortlist", ORG, roles=WRITERS, **MERCHANT_ONLY,
          setup=_page_act("round_closed", "/rounds/1/shortlist", lambda ids: {"mode": "top", "top": "1"})),
    Entry("POST", PAGE + "/rounds/{number:int}/slots", ORG, setup=_page_act("round2", "/rounds/2/slots", _slot_form),
          roles=WRITERS, **MERCHANT_ONLY),
    Entry("POST", PAGE + "/rounds/{number:int}/findings", ORG, roles=EVERY_MEMBER, **MERCHANT_ONLY,
          setup=_page_act("round2", "/rounds/2/findings", _finding_form, rounds=SITE_VISIT)),
    Entry("POST", PAGE + "/award", ORG, roles=WRITERS, **MERCHANT_ONLY,
          setup=_page_act("round_closed", "/award", lambda ids: {"bid_id": str(ids.bid)}, rounds=ONE_ROUND)),
    Entry("POST", PAGE + "/unsuccessful", ORG, roles=WRITERS, **MERCHANT_ONLY,
          setup=_page_act("closed", "/unsuccessful", lambda ids: {"reason": "No bid qualified"})),
    Entry("GET", PAGE + "/comparison", ORG, setup=_page_read("/comparison", "closed"), roles=EVERY_MEMBER,
          **MERCHANT_ONLY),
    # the provider's pipeline ("My bids"): every member of the provider reads its own bids
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/bids", ORG, setup=_my_bids, roles=EVERY_MEMBER, **PROVIDER_ONLY),
    Entry("GET", "/bids", ORG, roles=EVERY_MEMBER, outsider=None, **PROVIDER_ONLY),
]


@pytest.mark.parametrize("case", cases(MATRIX))
async def test_authz(case, make_client):
    await authz.check(case, make_client)
