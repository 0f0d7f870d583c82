"""Sealed bids (DESIGN.md section 3): before the bid deadline nobody but its own
provider can read a bid - not the merchant, not other providers, not their number.

The property: two worlds are built identically - a merchant, an observing provider
that never bids, k other providers, one published tender - except that in one world
nobody bids and in the other the k providers bid (with files) and keep revising,
withdrawing and re-bidding between the calls. A random sequence of every call the
merchant and the observer can make is run in both worlds, step by step; each answer
(status, content type and body, with per-world values such as ids, names and times
replaced by placeholders) must be the same in both worlds, and no answer may contain
a bid id, file id, price or proposal text.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuwu.clock import now
from tests.conftest import Actor, assert_problem, new_actor, unique
from tests.tendering import bid_body, give_tier, iso, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")
PROPOSAL_MARK = "SEALED-PROPOSAL"
FILE_MARK = "sealed-file"

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
PSEUDONYM_RE = re.compile(r"Bidder [0-9A-F]{6}")
SHORT_ID_RE = re.compile(r"\b[0-9a-f]{8}\b")  # pages show ids by their first 8 characters
# The merchant's tender page recommends providers of the whole platform (which differ between the worlds).
RECOMMENDATIONS_RE = re.compile(r'<table data-testid="recommendations">.*?</table>', re.S)


@dataclass
class World:
    merchant: Actor
    observer: Actor
    others: list[Actor]  # the k providers that bid in the bidding world only
    tid: str
    replacements: list[tuple[str, str]]  # per-world strings -> placeholders, longest first
    bidding: bool
    bid_ids: list[str] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)
    prices: set[int] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)  # strings no merchant or observer answer may contain
    questions: list[str] = field(default_factory=list)  # ids of the observer's unanswered questions
    fake_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # stands for a bid or file id in the empty world


async def _identity(client, actor: Actor, label: str) -> list[tuple[str, str]]:
    org = (await client.get(f"/api/v1/orgs/{actor.org_id}", headers=actor.headers)).json()
    return [(org["name"], f"<{label}.org_name>"), (actor.email, f"<{label}.email>"), (actor.name, f"<{label}.name>"),
            (str(actor.org_id), f"<{label}.org>"), (str(actor.user_id), f"<{label}.user>")]


def _tender_times() -> dict:
    """One set of tender times for both worlds: a sealed-bids answer names the bid
    deadline to the minute, and two worlds built a minute apart would differ there."""
    moment = now()
    return {"questions_deadline": iso(moment + datetime.timedelta(hours=1)),
            "bid_deadline": iso(moment + datetime.timedelta(hours=2)),
            "evaluation_end": iso(moment + datetime.timedelta(days=7))}


async def _build(client, k: int, visibility: str, bidding: bool, prices: list[int], times: dict) -> World:
    merchant = await new_actor("merchant")
    observer = await new_actor("provider")
    others = [await new_actor("provider") for _ in range(k)]
    await give_tier(observer, *others)  # unrated providers cannot be invited
    token = unique("Lot")
    tender = await published_tender(client, merchant, title=f"Customer service {token}", visibility=visibility,
                                    **times)
    tid = tender["id"]
    if visibility == "invited":
        invited = await client.post(tender_url(merchant, tid, "/invitations"), headers=merchant.headers,
                                    json={"provider_ids": [str(p.org_id) for p in (observer, *others)]})
        assert invited.status_code == 201, invited.text
    replacements = [(tid, "<tender>"), (tid[:8], "<tender8>"), (token, "<token>")]
    replacements += await _identity(client, merchant, "merchant") + await _identity(client, observer, "observer")
    for n, other in enumerate(others):
        replacements += await _identity(client, other, f"other{n}")
    world = World(merchant, observer, others, tid, sorted(replacements, key=lambda r: -len(r[0])), bidding)
    if bidding:
        for other, price in zip(others, prices):
            await _bid(client, world, other, price)
            await _upload(client, world, other)
    return world


async def _bid(client, world: World, provider: Actor, price: int, revise: bool = False) -> None:
    proposal = f"{PROPOSAL_MARK} {uuid.uuid4().hex}"
    body = bid_body(price, proposal=proposal)
    url = tender_url(provider, world.tid, "/bid")
    response = await (client.put(url, json=body, headers=provider.headers) if revise else
                      client.post(url, json=body, headers=provider.headers))
    world.prices.add(price)
    world.secrets.add(proposal)
    if response.status_code in (200, 201):
        world.bid_ids.append(response.json()["id"])
        world.secrets.add(response.json()["id"])


async def _upload(client, world: World, provider: Actor) -> None:
    name = f"{FILE_MARK}-{uuid.uuid4().hex[:8]}.pdf"
    response = await client.post(tender_url(provider, world.tid, "/bid/attachments"), headers=provider.headers,
                                 files={"data": (name, b"%PDF-1.4 sealed", "application/pdf")})
    world.secrets.add(name)
    if response.status_code == 201:
        world.file_ids.append(response.json()["id"])
        world.secrets.add(response.json()["id"])


# --- the calls ---------------------------------------------------------------------------------


def _real(world: World, ids: list[str], arg: int) -> str:
    """A real bid or file id in the bidding world; an unknown id in the empty one."""
    return ids[arg % len(ids)] if ids else world.fake_id


async def _call(client, world: World, name: str, arg: int):
    """Runs one call as the merchant or the observer; returns the response."""
    m, o, tid = world.merchant, world.observer, world.tid
    other = world.others[arg % len(world.others)]
    bid_id, file_id = _real(world, world.bid_ids, arg), _real(world, world.file_ids, arg)
    start = now().replace(microsecond=0)
    get = {
        "merchant reads the tender": (m, tender_url(m, tid)),
        "merchant lists its tenders": (m, tender_url(m)),
        "merchant lists published tenders": (m, tender_url(m) + "?status=published"),
        "merchant lists bids": (m, tender_url(m, tid, "/bids")),
        "merchant reads a bid by id": (m, tender_url(m, tid, f"/bids/{bid_id}")),
        "merchant reads rounds": (m, tender_url(m, tid, "/rounds")),
        "merchant reads the award": (m, tender_url(m, tid, "/award")),
        "merchant reads questions": (m, tender_url(m, tid, "/questions")),
        "merchant reads amendments": (m, tender_url(m, tid, "/amendments")),
        "merchant reads the tender timeline": (m, tender_url(m, tid, "/audit")),
        "merchant reads invitations": (m, tender_url(m, tid, "/invitations")),
        "merchant reads its notifications": (m, "/api/v1/notifications"),
        "merchant reads its unread notifications": (m, "/api/v1/notifications?unread=true"),
        "merchant reads its organisation's timeline": (m, f"/api/v1/orgs/{m.org_id}/audit"),
        "merchant reads 'my bid'": (m, tender_url(m, tid, "/bid")),
        "merchant reads a bidder's bid path": (m, tender_url(other, tid, "/bid")),
        "merchant reads slots": (m, tender_url(m, tid, "/slots")),
        "merchant downloads a bid's file": (m, tender_url(m, tid, f"/attachments/{file_id}")),
        "observer reads the tender": (o, tender_url(o, tid)),
        "observer browses open tenders": (o, f"/api/v1/orgs/{o.org_id}/open-tenders?limit=100&q="
                                             + next(s for s, p in world.replacements if p == "<token>")),
        "observer reads questions": (o, tender_url(o, tid, "/questions")),
        "observer reads amendments": (o, tender_url(o, tid, "/amendments")),
        "observer reads its own bid": (o, tender_url(o, tid, "/bid")),
        "observer reads its bid history": (o, tender_url(o, tid, "/bid/history")),
        "observer downloads a bid's file": (o, tender_url(o, tid, f"/attachments/{file_id}")),
        "observer reads another provider's bid": (o, tender_url(other, tid, "/bid")),
        "observer reads another provider's history": (o, tender_url(other, tid, "/bid/history")),
        "observer lists bids": (o, tender_url(o, tid, "/bids")),
        "observer reads a bid by id": (o, tender_url(o, tid, f"/bids/{bid_id}")),
        "observer reads rounds": (o, tender_url(o, tid, "/rounds")),
        "observer reads the tender timeline": (o, tender_url(o, tid, "/audit")),
        "observer reads invitations": (o, tender_url(o, tid, "/invitations")),
        "observer reads its slots": (o, tender_url(o, tid, "/slots")),
        "observer reads its notifications": (o, "/api/v1/notifications"),
        "observer reads its organisation's timeline": (o, f"/api/v1/orgs/{o.org_id}/audit"),
        "observer reads the merchant's tender path": (o, tender_url(m, tid)),
        # The web pages (bearer tokens work there too).
        "merchant opens the tender page": (m, f"/tenders/{tid}"),
        "merchant opens the comparison page": (m, f"/tenders/{tid}/comparison"),
        "merchant opens the evaluation page": (m, f"/tenders/{tid}/evaluation"),
        "merchant opens the timeline page": (m, f"/tenders/{tid}/audit"),
        "merchant opens its tenders page": (m, "/tenders"),
        "merchant opens the bid page": (m, f"/tenders/{tid}/bid"),
        "merchant downloads a file from the page": (m, f"/tenders/{tid}/attachments/{file_id}"),
        "observer opens the tender page": (o, f"/tenders/{tid}"),
        "observer opens its bid page": (o, f"/tenders/{tid}/bid"),
        "observer opens the open tenders page": (o, "/open-tenders?q="
                                                   + next(s for s, p in world.replacements if p == "<token>")),
        "observer opens the comparison page": (o, f"/tenders/{tid}/comparison"),
        "observer opens the evaluation page": (o, f"/tenders/{tid}/evaluation"),
        "observer downloads a file from the page": (o, f"/tenders/{tid}/attachments/{file_id}"),
    }
    if name in get:
        actor, url = get[name]
        return await client.get(url, headers=actor.headers)
    if name == "merchant starts the evaluation":
        return await client.post(tender_url(m, tid, "/evaluation/start"), headers=m.headers)
    if name == "merchant scores a bid":
        return await client.post(tender_url(m, tid, "/rounds/1/scores"), headers=m.headers,
                                 json={"bid_id": bid_id, "scores": [{"criterion": 1, "value": 7}]})
    if name == "merchant closes round 1":
        return await client.post(tender_url(m, tid, "/rounds/1/close"), headers=m.headers)
    if name == "merchant shortlists":
        return await client.post(tender_url(m, tid, "/rounds/1/shortlist"), json={"top": 1}, headers=m.headers)
    if name == "merchant schedules a slot":
        return await client.post(tender_url(m, tid, "/rounds/2/slots"), headers=m.headers, json={
            "bid_id": bid_id, "starts_at": iso(start), "ends_at": iso(start + datetime.timedelta(minutes=45)),
            "place": "HQ"})
    if name == "merchant records a finding":
        return await client.post(tender_url(m, tid, "/rounds/1/findings"), headers=m.headers,
                                 json={"bid_id": bid_id, "visited_at": iso(start), "finding": "Visited the floor."})
    if name == "merchant awards a bid":
        return await client.post(tender_url(m, tid, "/award"), json={"bid_id": bid_id, "reason": "A" * 12},
                                 headers=m.headers)
    if name == "merchant ends without award":
        return await client.post(tender_url(m, tid, "/unsuccessful"), json={"reason": "None fits"}, headers=m.headers)
    if name == "merchant amends the budget":
        return await client.patch(tender_url(m, tid), json={"budget_max": 6_000_000 + 1000 * (arg + 1),
                                                            "reason": f"Budget {arg}"}, headers=m.headers)
    if name == "merchant amends the brief":
        return await client.patch(tender_url(m, tid), json={"brief": f"Brief version {arg}", "reason": "Clarity"},
                                  headers=m.headers)
    if name == "merchant answers a question":
        qid = world.questions.pop(0) if world.questions else world.fake_id
        return await client.post(tender_url(m, tid, f"/questions/{qid}/answer"), json={"answer": f"Answer {arg}"},
                                 headers=m.headers)
    if name == "merchant invites the observer":
        return await client.post(tender_url(m, tid, "/invitations"), json={"provider_ids": [str(o.org_id)]},
                                 headers=m.headers)
    if name == "merchant cancels":
        return await client.post(tender_url(m, tid, "/cancel"), json={"reason": "Plans changed"}, headers=m.headers)
    if name == "observer asks a question":
        response = await client.post(tender_url(o, tid, "/questions"), json={"text": f"Question number {arg}?"},
                                     headers=o.headers)
        if response.status_code == 201:
            world.questions.append(response.json()["id"])
        return response
    if name == "observer declines":
        return await client.post(tender_url(o, tid, "/decline"), json={"reason": "Busy"}, headers=o.headers)
    if name == "observer revises a bid it does not have":
        return await client.put(tender_url(o, tid, "/bid"), json=bid_body(), headers=o.headers)
    if name == "observer withdraws a bid it does not have":
        return await client.delete(tender_url(o, tid, "/bid"), headers=o.headers)
    if name == "observer confirms a bid it does not have":
        return await client.post(tender_url(o, tid, "/bid/confirm"), headers=o.headers)
    if name == "observer uploads a file without a bid":
        return await client.post(tender_url(o, tid, "/bid/attachments"), headers=o.headers,
                                 files={"data": ("mine.pdf", b"%PDF-1.4", "application/pdf")})
    if name == "observer confirms a slot":
        return await client.post(tender_url(o, tid, f"/slots/{world.fake_id}/confirm"), headers=o.headers)
    raise AssertionError(name)


CALLS = [
    "merchant reads the tender", "merchant lists its tenders", "merchant lists published tenders", "merchant lists bids",
    "merchant reads a bid by id", "merchant reads rounds", "merchant reads the award", "merchant reads questions",
    "merchant reads amendments", "merchant reads the tender timeline", "merchant reads invitations",
    "merchant reads its notifications", "merchant reads its unread notifications",
    "merchant reads its organisation's timeline", "merchant reads 'my bid'", "merchant reads a bidder's bid path",
    "merchant reads slots", "merchant downloads a bid's file", "observer reads the tender",
    "observer browses open tenders", "observer reads questions",
    "observer reads amendments", "observer reads its own bid", "observer reads its bid history",
    "observer downloads a bid's file", "observer reads another provider's bid",
    "observer reads another provider's history", "observer lists bids", "observer reads a bid by id",
    "observer reads rounds", "observer reads the tender timeline", "observer reads invitations",
    "observer reads its slots", "observer reads its notifications", "observer reads its organisation's timeline",
    "observer reads the merchant's tender path",
    "merchant opens the tender page", "merchant opens the comparison page", "merchant opens the evaluation page",
    "merchant opens the timeline page", "merchant opens its tenders page", "merchant opens the bid page",
    "merchant downloads a file from the page", "observer opens the tender page", "observer opens its bid page",
    "observer opens the open tenders page", "observer opens the comparison page", "observer opens the evaluation page",
    "observer downloads a file from the page",
    "merchant starts the evaluation", "merchant scores a bid", "merchant closes round 1", "merchant shortlists",
    "merchant schedules a slot", "merchant records a finding", "merchant awards a bid", "merchant ends without award",
    "merchant amends the budget", "merchant amends the brief", "merchant answers a question",
    "merchant invites the observer", "merchant cancels", "observer asks a question", "observer declines",
    "observer revises a bid it does not have", "observer withdraws a bid it does not have",
    "observer confirms a bid it does not have", "observer uploads a file without a bid", "observer confirms a slot",
]
# Moves of the bidders between the calls: only in the bidding world.
BIDDER_MOVES = ["a bidder revises", "a bidder withdraws", "a bidder bids again", "a bidder confirms",
                "a bidder adds a file"]


async def _move(client, world: World, name: str, arg: int) -> None:
    bidder = world.others[arg % len(world.others)]
    price = 7_000_000 + arg * 7919 + len(world.prices)
    if name == "a bidder revises":
        await _bid(client, world, bidder, price, revise=True)
    elif name == "a bidder withdraws":
        await client.delete(tender_url(bidder, world.tid, "/bid"), headers=bidder.headers)
    elif name == "a bidder bids again":
        await _bid(client, world, bidder, price)
    elif name == "a bidder confirms":
        await client.post(tender_url(bidder, world.tid, "/bid/confirm"), headers=bidder.headers)
    else:
        await _upload(client, world, bidder)


# --- comparing answers ---------------------------------------------------------------------------


def _normalise(response, world: World):
    """(status, content type, body) with per-world values replaced: known strings by
    their role, other ids, times and pseudonyms by their order of appearance within
    this answer (so equal values stay equal); on pages every time is one placeholder."""
    seen: dict[str, str] = {}

    def ordinal(kind: str, value: str) -> str:
        return seen.setdefault(f"{kind}:{value}", f"<{kind}{sum(k.startswith(kind + ':') for k in seen)}>")

    def text(value: str, html: bool = False) -> str:
        for needle, placeholder in world.replacements:
            value = value.replace(needle, placeholder)
        value = UUID_RE.sub(lambda m: ordinal("id", m.group(0).lower()), value)
        value = SHORT_ID_RE.sub(lambda m: ordinal("id", m.group(0)), value)
        # Pages show times to the minute or second, where equal times are a matter of luck: one placeholder.
        value = TIME_RE.sub(lambda m: "<time>" if html else ordinal("time", m.group(0)), value)
        return PSEUDONYM_RE.sub(lambda m: ordinal("pseudonym", m.group(0)), value)

    def walk(value, key=None):
        if key == "next_cursor" and value:
            return "<cursor>"
        if isinstance(value, dict):
            return {text(k): walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return text(value)
        return value

    kind = response.headers.get("content-type", "").split(";")[0]
    try:
        body = walk(response.json())
    except ValueError:
        body = text(RECOMMENDATIONS_RE.sub("", response.text), html=True)
    return response.status_code, kind, body


def _assert_reveals_nothing(response, world: World, call: str) -> None:
    raw = response.text.replace(response.request.url.path, "<the path asked for>")  # pages echo it (language switch)
    for secret in world.secrets:
        assert secret not in raw, (call, secret, raw[:500])
    numbers: list = []

    def collect(value):
        if isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)
        elif isinstance(value, int) and not isinstance(value, bool):
            numbers.append(value)

    try:
        collect(json.loads(raw))
    except ValueError:
        pass
    assert not world.prices & set(numbers), (call, raw[:500])
    for price in world.prices:
        assert str(price) not in raw, (call, price, raw[:500])


async def _step(client, empty: World, full: World, name: str, arg: int) -> None:
    """One step in both worlds: a bidder's move (bidding world only) or a call whose
    answers must match and reveal nothing."""
    if name in BIDDER_MOVES:
        await _move(client, full, name, arg)
        return
    answers = []
    for world in (empty, full):
        response = await _call(client, world, name, arg)
        assert response.status_code < 500, (name, response.text[:500])
        _assert_reveals_nothing(response, world, name)
        answers.append(_normalise(response, world))
    assert answers[0] == answers[1], (name, answers)


MUTATIONS = ["merchant amends the budget", "merchant amends the brief", "merchant answers a question",
             "merchant invites the observer", "observer asks a question", "observer declines"]
# Drawn uniformly from this list: changes and bidders' moves more often than reads, cancellation rarely.
WEIGHTED = [c for c in CALLS if c != "merchant cancels"] + MUTATIONS + BIDDER_MOVES * 4 + ["merchant cancels"]
steps = st.lists(st.tuples(st.sampled_from(WEIGHTED), st.integers(0, 3)), min_size=4, max_size=14)
FINAL_READS = ["merchant lists bids", "merchant reads the tender", "merchant reads the tender timeline",
               "merchant reads its notifications", "merchant reads its organisation's timeline",
               "observer reads questions", "observer reads its notifications", "observer browses open tenders"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(k=st.integers(1, 4), visibility=st.sampled_from(["public", "invited"]),
       prices=st.lists(st.integers(7_000_000, 7_999_999), min_size=4, max_size=4, unique=True), sequence=steps)
async def test_no_call_by_the_merchant_or_another_provider_reveals_a_sealed_bid(client, k, visibility, prices,
                                                                                 sequence):
    times = _tender_times()
    empty = await _build(client, k, visibility, bidding=False, prices=prices, times=times)
    full = await _build(client, k, visibility, bidding=True, prices=prices, times=times)
    assert len(full.bid_ids) == len(full.file_ids) == k
    for name, arg in [*sequence, *((read, 0) for read in FINAL_READS)]:
        await _step(client, empty, full, name, arg)


@pytest.mark.parametrize("visibility", ["public", "invited"])
async def test_every_call_answers_the_same_with_and_without_bids(client, visibility):
    """Every call at least once, in a fixed order, bidders moving in between."""
    times = _tender_times()
    empty = await _build(client, 3, visibility, bidding=False, prices=[7_100_003, 7_200_007, 7_300_009], times=times)
    full = await _build(client, 3, visibility, bidding=True, prices=[7_100_003, 7_200_007, 7_300_009], times=times)
    plan = [c for c in CALLS if c != "merchant cancels"]
    for n, name in enumerate(plan):
        await _step(client, empty, full, name, n % 4)
        await _step(client, empty, full, BIDDER_MOVES[n % len(BIDDER_MOVES)], n % 3)
    for name in ["merchant cancels", *FINAL_READS]:
        await _step(client, empty, full, name, 0)
    assert full.bid_ids and full.file_ids and len(full.prices) > 3


async def test_merchant_sees_the_same_refusal_for_every_bid_endpoint_before_the_deadline(client):
    """Spelled out once: with or without bids, every way into the bids is the same 409."""
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    bid_id = (await client.post(tender_url(bidder, tid, "/bid"), json=bid_body(7_123_457),
                                headers=bidder.headers)).json()["id"]
    for suffix in ("/bids", f"/bids/{bid_id}", f"/bids/{uuid.uuid4()}", "/rounds", "/award"):
        problem = assert_problem(await client.get(tender_url(merchant, tid, suffix), headers=merchant.headers), 409,
                                 "bids_sealed")
        assert set(problem) == {"type", "title", "status", "detail", "code"}
        assert "7123457" not in json.dumps(problem) and bid_id not in json.dumps(problem)


async def test_bidding_leaves_every_merchant_and_observer_answer_byte_for_byte_unchanged(client):
    """Not even a timestamp moves: the tender, its timeline and lists read the same
    before and after bids, revisions, files and withdrawals."""
    merchant = await new_actor("merchant")
    observer, alpha, beta = await new_actor("provider"), await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    reads = [(merchant, tender_url(merchant, tid)), (merchant, tender_url(merchant)),
             (merchant, tender_url(merchant, tid, "/audit")), (merchant, f"/api/v1/orgs/{merchant.org_id}/audit"),
             (merchant, "/api/v1/notifications"), (merchant, tender_url(merchant, tid, "/bids")),
             (observer, tender_url(observer, tid)), (observer, f"/api/v1/orgs/{observer.org_id}/open-tenders?limit=100"),
             (observer, "/api/v1/notifications")]

    async def snapshot() -> list:
        return [(r.status_code, r.content) for r in [await client.get(url, headers=a.headers) for a, url in reads]]

    before = await snapshot()
    for provider, price in ((alpha, 7_100_001), (beta, 7_200_002)):
        await client.post(tender_url(provider, tid, "/bid"), json=bid_body(price), headers=provider.headers)
        await client.post(tender_url(provider, tid, "/bid/attachments"), headers=provider.headers,
                          files={"data": ("plan.pdf", b"%PDF-1.4 plan", "application/pdf")})
    await client.put(tender_url(alpha, tid, "/bid"), json=bid_body(7_000_003), headers=alpha.headers)
    await client.delete(tender_url(beta, tid, "/bid"), headers=beta.headers)
    after = await snapshot()
    for (url_actor, url), old, new in zip(reads, before, after):
        if "open-tenders" in url:  # other tests publish tenders meanwhile: compare this tender's entry only
            pick = [t for t in json.loads(old[1])["items"] if t["id"] == tid], [t for t in json.loads(new[1])["items"]
                                                                                if t["id"] == tid]
            assert pick[0] == pick[1]
        else:
            assert old == new, url


async def test_merchant_probing_a_file_id_learns_nothing_before_the_deadline(client):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await client.post(tender_url(bidder, tid, "/bid"), json=bid_body(), headers=bidder.headers)
    uploaded = await client.post(tender_url(bidder, tid, "/bid/attachments"), headers=bidder.headers,
                                 files={"data": ("plan.pdf", b"%PDF-1.4 plan", "application/pdf")})
    real = await client.get(tender_url(merchant, tid, f"/attachments/{uploaded.json()['id']}"), headers=merchant.headers)
    unknown = await client.get(tender_url(merchant, tid, f"/attachments/{uuid.uuid4()}"), headers=merchant.headers)
    assert (real.status_code, real.json()["code"]) == (unknown.status_code, unknown.json()["code"])
