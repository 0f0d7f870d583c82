"""The tenders domain's authorisation matrix: the API under /api/v1/orgs/{org_id}/tenders
and /open-tenders, and the pages of tenders/pages.py (see tests/authz.py for the
convention), with the helpers the bids domain's matrix shares
(tests/integration/bids/test_authz_matrix.py imports them from here).

Who may do what (tenders/services/*.py):

* merchant writers (owner, operator) create, edit, publish, cancel, invite and answer;
  every member of the merchant (evaluators too) reads its tenders, invitations and audit;
* a provider reads a tender it may see (invited, or public in its categories); bidders
  (owner, manager) ask questions; the other kind of organisation gets 404, as does a
  provider that may not see the tender.

The tenders the setups act on belong to the cast's merchant, are visible to invited
providers only, and invite the cast's provider: so for a provider route the outsider
(another provider, in the same categories) may not see the tender, and for a merchant
route the members of the provider, who may see it, still get 404.

Beyond tests/authz.py (each could become a generic part of it):

* ``Entry.other_kind``: every member (each role) of the organisation kind that is NOT
  in ``kinds`` gets this (404): a merchant on a provider-only route and the reverse.
  Their cases are named "<METHOD> <path> <kind> <role>"; mark them in ``xfail`` by
  "<kind> <role>" or "other_kind".
* The API outsider of a route naming a tender calls with ITS OWN organisation in the
  path (the target organisation's would only test membership, which every route under
  /orgs/{org_id} gets from the same dependency): so the check is the object's, an IDOR.
* ``Entry.files``: files sent with an unsafe request (multipart uploads).
* A page's "success" redirect may not carry an error (bids pages redirect a 409 to the
  tender page with ?bid_error=...).
* Only a call that may succeed (or is a known bug) gets a fresh tender (``acted_on``):
  a refusal changes nothing (the runner checks it), so an entry's refusals act on one
  tender, made at the first. Entries that only read share one tender (``shared``).
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from fuwu import roles
from fuwu.clock import now
from fuwu.services import accounts
from tenders.schemas import TenderCreate
from tenders.services import invitations, lifecycle, questions
from tests import authz
from tests.authz import ORG, Call, Target
from tests.tendering import give_tier, tender_body

MERCHANT, PROVIDER = roles.MERCHANT, roles.PROVIDER
EVERY_MEMBER = ()
WRITERS = (roles.OWNER, roles.OPERATOR)  # lifecycle.MERCHANT_WRITERS, evaluation.RUNNERS
BIDDERS = (roles.OWNER, roles.MANAGER)  # lifecycle.PROVIDER_BIDDERS
BOTH = (MERCHANT, PROVIDER)
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- the entry and its runner ----------------------------------------------------------


async def run(case: authz.Case, make_client) -> None:
    """authz.check with this module's additions (see the module's docstring)."""
    entry = case.entry
    setup = entry.setup
    if case.caller == "outsider" and not entry.is_page and "{tender_id:uuid}" in entry.path:
        setup = _with_own_org(setup)
    plain = dataclasses.replace(entry, run=None, setup=setup)
    answers: list = []
    # A refusal changes nothing (the runner checks it): its tender may be the one the
    # entry's other refusals act on. A call that may succeed (or is a known bug) gets a
    # fresh one.
    reuse = None if case.expect is authz.OK or known_bug(case) else entry.key
    token = _reuse.set(reuse)
    try:
        await authz.check(dataclasses.replace(case, entry=plain), _recording(make_client, entry.files, answers))
    finally:
        _reuse.reset(token)
    if case.expect is authz.OK and answers:
        location = answers[-1].headers.get("location", "")
        assert "error" not in location, f"{case.id}: the success redirects with an error: {location}"


def known_bug(case: authz.Case) -> str | None:
    """The reason the case is marked xfail, if it is (as `cases` marks them)."""
    entry = case.entry
    if case.category == "other_kind":
        return entry.xfail.get(f"{case.kind} {case.caller}") or entry.xfail.get("other_kind")
    return (entry.xfail.get(case.caller) or entry.xfail.get(case.category)
            or next((why for applies, why in authz.KNOWN_BUGS if applies(case)), None))


_reuse: contextvars.ContextVar = contextvars.ContextVar("reuse", default=None)


@dataclass(frozen=True)
class Entry(authz.Entry):
    # ORG: what every member of the organisation kind not in `kinds` gets; None: not checked.
    other_kind: int | None = 404
    # Files (httpx's `files=`) sent with the unsafe request.
    files: Mapping[str, Any] | None = None
    run: Callable[[authz.Case, Any], Awaitable[None]] | None = run


def _with_own_org(setup):
    async def own_org(t: Target) -> Call:
        call = setup(t)
        if inspect.isawaitable(call):
            call = await call
        url = call.url.replace(f"/orgs/{t.org_id}/", f"/orgs/{t.outsider.org_id}/", 1)
        assert url != call.url, call.url
        return dataclasses.replace(call, url=url)

    return own_org


def _recording(make_client, files, answers: list):
    """make_client whose clients send `files` with unsafe requests and keep the answers."""

    async def factory():
        client = await make_client()
        send = client.request

        async def request(method, url, **kwargs):
            if files is not None and method not in authz.SAFE_METHODS:
                kwargs["files"] = dict(files)
            response = await send(method, url, **kwargs)
            answers.append(response)
            return response

        client.request = request
        return client

    return factory


def cases(matrix: list[Entry]) -> list:
    """authz.cases, and for each ORG entry with `other_kind` every role of the other kind."""
    params = authz.cases(matrix)
    for entry in matrix:
        if entry.access != ORG or getattr(entry, "other_kind", None) is None:
            continue
        for kind in (k for k in BOTH if k not in entry.kinds):
            for role in roles.ROLES_BY_KIND[kind]:
                case = authz.Case(entry, kind, role, entry.other_kind, "other_kind")
                reason = known_bug(case)
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                params.append(pytest.param(case, id=case.id, marks=marks))
    return params


# --- what the setups act on --------------------------------------------------------------

_members: dict[tuple, accounts.Member] = {}


async def member_of(actor) -> accounts.Member:
    key = (actor.user_id, actor.org_id)
    if key not in _members:
        _members[key] = await accounts.membership(actor.user_id, actor.org_id)
    return _members[key]


def merchant(t: Target):
    """The cast's merchant, whose tenders the setups make."""
    return t.cast.owners[MERCHANT]


def provider(t: Target):
    """The cast's provider: invited to every tender, and its bidder."""
    return t.cast.owners[PROVIDER]


def api(t: Target, tender_id, suffix: str = "") -> str:
    return f"/api/v1/orgs/{t.org_id}/tenders/{tender_id}{suffix}"


_reused: dict[tuple, Any] = {}
_shared: dict[tuple, Any] = {}


async def acted_on(key: tuple, make: Callable[[], Awaitable[Any]]) -> Any:
    """What a call acts on: `make()` afresh, but for a call that must be refused the
    one made for its entry's first refusal (`key` names what `make` makes)."""
    reuse = _reuse.get()
    if reuse is None:
        return await make()
    if (reuse, *key) not in _reused:
        _reused[(reuse, *key)] = await make()
    return _reused[(reuse, *key)]


async def shared(key: tuple, make: Callable[[], Awaitable[Any]]) -> Any:
    """One of what `make` makes for the entries that only read (made once; no call of
    the matrices writes to it)."""
    if key not in _shared:
        _shared[key] = await make()
    return _shared[key]


async def make_tender(t: Target, stage: str = "open", rounds: list | None = None, question: bool = False):
    """A new tender of the cast's merchant, invited-only, the cast's provider invited;
    a "draft", or "open" (published) with, if `question`, a question of the provider.
    `rounds`: the evaluation rounds (tender_body's own when None). Returns the ids."""
    m, p = merchant(t), provider(t)
    mm = await member_of(m)
    body = tender_body(visibility="invited", **({"rounds": rounds} if rounds is not None else {}))
    row = await lifecycle.create_tender(m.viewer, mm, msgspec.convert(body, TenderCreate))
    ids = SimpleNamespace(tender=row["id"], question=None)
    await give_tier(p)  # unrated providers cannot be invited
    await invitations.invite_providers(m.viewer, mm, ids.tender, [p.org_id])
    if stage == "draft":
        return ids
    assert stage == "open", stage
    await lifecycle.publish(m.viewer, mm, ids.tender)
    if question:
        text = "Do you need night cover?"
        ids.question = (await questions.ask_question(p.viewer, await member_of(p), ids.tender, text))["id"]
    return ids


async def tender_at(t: Target, stage: str = "open", question: bool = False):
    return await acted_on(("tender", stage, question), lambda: make_tender(t, stage, question=question))


async def shared_tender(t: Target):
    """The open tender the reads of this matrix share (with a question)."""
    return await shared(("tender",), lambda: make_tender(t, "open", question=True))


def local_input(days: float, hour: int = 18) -> str:
    """A datetime-local form value `days` from now, in the cast's time zone (Shanghai)."""
    moment = (now() + datetime.timedelta(days=days)).astimezone(SHANGHAI)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")


def tender_form(**overrides) -> dict:
    """The tender form as a merchant fills it in (customer service, pre-sales)."""
    form = {
        "category": "cs_presales", "title": f"Pre-sales service {uuid.uuid4().hex[:8]}",
        "brief": "Peak season; apparel; 2,000 conversations a day.",
        "cs_seats": "12", "cs_coverage_hours": "09:00-24:00", "cs_time_zone": "Asia/Shanghai",
        "cs_daily_conversations": "2000", "cs_languages": "zh, en",
        "budget_min": "30000.00", "budget_max": "60000.00", "currency": "CNY", "pricing_models": ["periodic_fee"],
        "round_proposal_review": "1",
        "round_proposal_review_0_name": "Price", "round_proposal_review_0_weight": "40",
        "round_proposal_review_0_price": "1",
        "round_proposal_review_1_name": "Proposal quality", "round_proposal_review_1_weight": "60",
        "visibility": "invited", "min_bids": "1",
        "questions_deadline": local_input(3), "bid_deadline": local_input(6), "evaluation_end": local_input(12),
    }
    form.update(overrides)
    return form


# --- setups: the API -----------------------------------------------------------------


async def _tenders(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/tenders")


async def _tender_create(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/tenders", json=tender_body())


def _read(suffix: str = ""):
    """A read of the shared tender."""

    async def setup(t: Target) -> Call:
        return Call(api(t, (await shared_tender(t)).tender, suffix))

    return setup


async def _tender_update(t: Target) -> Call:
    ids = await tender_at(t, "open")
    return Call(api(t, ids.tender), json={"brief": "Now with night cover.", "reason": "Night cover added"})


async def _publish(t: Target) -> Call:
    return Call(api(t, (await tender_at(t, "draft")).tender, "/publish"))


async def _cancel(t: Target) -> Call:
    return Call(api(t, (await tender_at(t, "open")).tender, "/cancel"), json={"reason": "Budget withdrawn"})


async def _ask(t: Target) -> Call:
    return Call(api(t, (await tender_at(t, "open")).tender, "/questions"), json={"text": "Is English needed at night?"})


async def _answer(t: Target) -> Call:
    ids = await tender_at(t, "open", question=True)
    return Call(api(t, ids.tender, f"/questions/{ids.question}/answer"), json={"answer": "Yes, until 24:00."})


async def _invite(t: Target) -> Call:
    ids = await tender_at(t, "open")
    await give_tier(t.cast.outsiders[PROVIDER])
    return Call(api(t, ids.tender, "/invitations"), json={"provider_ids": [str(t.cast.outsiders[PROVIDER].org_id)]})


async def _decline(t: Target) -> Call:
    return Call(api(t, (await tender_at(t, "open")).tender, "/decline"), json={"reason": "Fully booked in November"})


async def _open_tenders(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/open-tenders")


# --- setups: the pages ---------------------------------------------------------------


async def _page_create(t: Target) -> Call:
    return Call("/tenders/new", form=tender_form())


def _page_read(suffix: str = ""):
    async def setup(t: Target) -> Call:
        return Call(f"/tenders/{(await shared_tender(t)).tender}{suffix}")

    return setup


async def _page_edit(t: Target) -> Call:
    ids = await tender_at(t, "open")
    return Call(f"/tenders/{ids.tender}/edit", form=tender_form(reason="Night cover added"))


async def _page_publish(t: Target) -> Call:
    return Call(f"/tenders/{(await tender_at(t, 'draft')).tender}/publish")


async def _page_cancel(t: Target) -> Call:
    return Call(f"/tenders/{(await tender_at(t, 'open')).tender}/cancel", form={"reason": "Budget withdrawn"})


async def _page_invite(t: Target) -> Call:
    ids = await tender_at(t, "open")
    return Call(f"/tenders/{ids.tender}/invite", form={"provider_ids": [str(t.cast.outsiders[PROVIDER].org_id)]})


async def _page_answer(t: Target) -> Call:
    ids = await tender_at(t, "open", question=True)
    return Call(f"/tenders/{ids.tender}/questions/{ids.question}/answer", form={"answer": "Yes, until 24:00."})


async def _page_ask(t: Target) -> Call:
    ids = await tender_at(t, "open")
    return Call(f"/tenders/{ids.tender}/questions", form={"text": "Is English needed at night?"})


async def _page_decline(t: Target) -> Call:
    return Call(f"/tenders/{(await tender_at(t, 'open')).tender}/decline", form={"reason": "Fully booked in November"})


# --- the matrix ----------------------------------------------------------------------

AGENT_DECLINES = (
    "tenders/services/invitations.py decline_invitation checks only that the caller is a provider (member.kind), "
    "not its role: a provider's agent (a chat seat) declines the invitation for the whole provider (the invitation "
    "is marked declined), though asking and bidding are the bidders' (owner, manager) and the tender page offers "
    "declining to them only (tenders/pages.py, can_decline)"
)
ROLE_BEFORE_KIND = (
    "tenders/pages.py merchant_member checks the roles (require_member(viewer, *allowed_roles)) before the kind: a "
    "provider's manager or agent gets 403 (role_not_allowed) on the merchant's tender form, its owner 404"
)

T = "/api/v1/orgs/{org_id:uuid}/tenders"
TID = T + "/{tender_id:uuid}"

MATRIX = [
    # the merchant's tenders
    Entry("GET", T, ORG, setup=_tenders, kinds=(MERCHANT,), roles=EVERY_MEMBER),
    Entry("POST", T, ORG, setup=_tender_create, kinds=(MERCHANT,), roles=WRITERS),
    Entry("GET", TID, ORG, setup=_read(), kinds=BOTH, roles=EVERY_MEMBER),
    Entry("PATCH", TID, ORG, setup=_tender_update, kinds=(MERCHANT,), roles=WRITERS),
    Entry("POST", TID + "/publish", ORG, setup=_publish, kinds=(MERCHANT,), roles=WRITERS, ok=(200,)),
    Entry("POST", TID + "/cancel", ORG, setup=_cancel, kinds=(MERCHANT,), roles=WRITERS, ok=(200,)),
    Entry("GET", TID + "/amendments", ORG, setup=_read("/amendments"), kinds=BOTH, roles=EVERY_MEMBER),
    Entry("GET", TID + "/questions", ORG, setup=_read("/questions"), kinds=BOTH, roles=EVERY_MEMBER),
    Entry("POST", TID + "/questions", ORG, setup=_ask, kinds=(PROVIDER,), roles=BIDDERS),
    Entry("POST", TID + "/questions/{question_id:uuid}/answer", ORG, setup=_answer, kinds=(MERCHANT,),
          roles=WRITERS, ok=(200,)),
    Entry("GET", TID + "/invitations", ORG, setup=_read("/invitations"), kinds=(MERCHANT,), roles=EVERY_MEMBER),
    Entry("POST", TID + "/invitations", ORG, setup=_invite, kinds=(MERCHANT,), roles=WRITERS),
    Entry("POST", TID + "/decline", ORG, setup=_decline, kinds=(PROVIDER,), roles=BIDDERS, ok=(204,)),
    Entry("GET", TID + "/recommendations", ORG, setup=_read("/recommendations"), kinds=(MERCHANT,), roles=WRITERS),
    Entry("GET", TID + "/audit", ORG, setup=_read("/audit"), kinds=(MERCHANT,), roles=EVERY_MEMBER),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/open-tenders", ORG, setup=_open_tenders, kinds=(PROVIDER,),
          roles=EVERY_MEMBER),
    # pages of the merchant (the session's current organisation)
    Entry("GET", "/tenders", ORG, kinds=(MERCHANT,), roles=EVERY_MEMBER, outsider=None),
    Entry("GET", "/tenders/new", ORG, kinds=(MERCHANT,), roles=WRITERS, outsider=None),
    Entry("POST", "/tenders/new", ORG, setup=_page_create, kinds=(MERCHANT,), roles=WRITERS, outsider=None),
    Entry("GET", "/tenders/{tender_id:uuid}", ORG, setup=_page_read(), kinds=BOTH, roles=EVERY_MEMBER),
    Entry("GET", "/tenders/{tender_id:uuid}/edit", ORG, setup=_page_read("/edit"), kinds=(MERCHANT,), roles=WRITERS),
    Entry("POST", "/tenders/{tender_id:uuid}/edit", ORG, setup=_page_edit, kinds=(MERCHANT,), roles=WRITERS),
    Entry("POST", "/tenders/{tender_id:uuid}/publish", ORG, setup=_page_publish, kinds=(MERCHANT,), roles=WRITERS),
    Entry("POST", "/tenders/{tender_id:uuid}/cancel", ORG, setup=_page_cancel, kinds=(MERCHANT,), roles=WRITERS),
    Entry("POST", "/tenders/{tender_id:uuid}/invite", ORG, setup=_page_invite, kinds=(MERCHANT,), roles=WRITERS),
    Entry("POST", "/tenders/{tender_id:uuid}/questions/{question_id:uuid}/answer", ORG, setup=_page_answer,
          kinds=(MERCHANT,), roles=WRITERS),
    Entry("GET", "/tenders/{tender_id:uuid}/audit", ORG, setup=_page_read("/audit"), kinds=(MERCHANT,),
          roles=EVERY_MEMBER),
    # pages of the provider
    Entry("POST", "/tenders/{tender_id:uuid}/questions", ORG, setup=_page_ask, kinds=(PROVIDER,), roles=BIDDERS),
    Entry("POST", "/tenders/{tender_id:uuid}/decline", ORG, setup=_page_decline, kinds=(PROVIDER,), roles=BIDDERS),
    Entry("GET", "/open-tenders", ORG, kinds=(PROVIDER,), roles=EVERY_MEMBER, outsider=None),
]


@pytest.mark.parametrize("case", cases(MATRIX))
async def test_authz(case, make_client):
    await authz.check(case, make_client)
