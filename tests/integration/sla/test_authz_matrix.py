"""The sla domain's authorisation matrix: contracts, milestones and orders under
/api/v1/orgs/{org_id}/…, and the contract pages (see tests/authz.py for the
convention; the tenders domain's matrix supplies the entry and runner).

Who may do what (sla/services/contracts.py, milestones.py):

* every member of either party reads the contract and its milestones;
* each party's signers (merchant owner or operator; provider owner or manager) sign
  and terminate;
* only the merchant's signers change the terms, add milestones, accept and reject; only
  the provider's signers deliver — the other party gets 403 on the contract it is a
  party of;
* the merchant's owner and operator report orders; a provider gets 403;
* anyone else gets 404.
"""

from __future__ import annotations

import datetime
import uuid

import pytest

from fuwu import roles
from fuwu.clock import now
from sla import states
from sla.services import milestones
from sla.tables import Contract, SlaTarget
from tests.authz import ORG, Call, Target
from tests.integration.tenders.test_authz_matrix import (
    BOTH,
    EVERY_MEMBER,
    MERCHANT,
    PROVIDER,
    WRITERS,
    Entry,
    acted_on,
    cases,
    member_of,
    merchant,
    provider,
    shared,
)

SIGNERS = (roles.OWNER, roles.OPERATOR, roles.MANAGER)  # contracts.MERCHANT_SIGNERS + PROVIDER_SIGNERS
DELIVERERS = (roles.OWNER, roles.MANAGER)  # the provider's signers


def _parties(t: Target):
    """The contract's merchant and provider owners: the target's organisation is one party."""
    if t.kind == MERCHANT:
        return t.owner, provider(t)
    return merchant(t), t.owner


async def _new_contract(t: Target) -> uuid.UUID:
    m, p = _parties(t)
    starts = now() + datetime.timedelta(days=1)
    row = Contract(merchant=m.org_id, provider=p.org_id, category="cs_presales", status=states.PENDING_SIGNATURE,
                   starts_at=starts, ends_at=starts + datetime.timedelta(days=365), currency="CNY",
                   pricing_model="periodic_fee", pricing_terms={"amount": 4_000_000, "unit": "", "period": "month"},
                   period_fee=4_000_000, time_zone="Asia/Shanghai", calendar={})
    await row.save()
    await SlaTarget(contract=row.id, metric="first_response_time", statistic="mean", comparator="<=", target=25,
                    window="month", weight=100, credit_percent=5).save()
    return row.id


async def contract(t: Target) -> uuid.UUID:
    return await acted_on(("contract", t.kind), lambda: _new_contract(t))


async def read_contract(t: Target) -> uuid.UUID:
    return await shared(("contract", t.kind, t.org_id), lambda: _new_contract(t))


async def _milestone(t: Target, delivered: bool) -> tuple[uuid.UUID, uuid.UUID]:
    async def make():
        cid = await _new_contract(t)
        m, p = _parties(t)
        row = await milestones.add_milestone(m.viewer, await member_of(m), cid, "40 styles",
                                             now() + datetime.timedelta(days=3), 100_000)
        if delivered:
            await milestones.submit(p.viewer, await member_of(p), cid, row["id"], "All 40 styles.")
        return cid, row["id"]

    return await acted_on(("milestone", t.kind, delivered), make)


def api(t: Target, contract_id, suffix: str = "") -> str:
    return f"/api/v1/orgs/{t.org_id}/contracts/{contract_id}{suffix}"


async def _api_read(t: Target, suffix: str = "") -> Call:
    return Call(api(t, await read_contract(t), suffix))


async def _api_patch(t: Target) -> Call:
    return Call(api(t, await contract(t)), json={"attribution_window_seconds": 7200})


async def _api_sign(t: Target) -> Call:
    return Call(api(t, await contract(t), "/sign"))


async def _api_terminate(t: Target) -> Call:
    return Call(api(t, await contract(t), "/terminate"), json={"reason": "The season ended early this year."})


async def _api_add_milestone(t: Target) -> Call:
    return Call(api(t, await contract(t), "/milestones"),
                json={"deliverable": "Spring styles", "due_at": (now() + datetime.timedelta(days=5)).isoformat(),
                      "amount": 50_000})


async def _api_submit(t: Target) -> Call:
    cid, mid = await _milestone(t, delivered=False)
    return Call(api(t, cid, f"/milestones/{mid}/submit"), json={"note": "Delivered."})


async def _api_accept(t: Target) -> Call:
    cid, mid = await _milestone(t, delivered=True)
    return Call(api(t, cid, f"/milestones/{mid}/accept"))


async def _api_reject(t: Target) -> Call:
    cid, mid = await _milestone(t, delivered=True)
    return Call(api(t, cid, f"/milestones/{mid}/reject"), json={"reason": "Colour casts on six styles."})


def _api_history(t: Target) -> Call:
    line = ('{"type": "conversation_opened", "at": "2026-03-02T09:00:03+08:00", "conversation": "%s", "buyer": "b7"}'
            % uuid.uuid4().hex[:8])
    return Call(f"/api/v1/orgs/{t.org_id}/history", content=(line + "\n").encode(),
                headers={"Content-Type": "application/x-ndjson"})


def _api_order(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/orders",
                json={"order": f"o-{uuid.uuid4().hex[:10]}", "buyer": "b7", "amount": 12_900})


async def _page_read(t: Target) -> Call:
    return Call(f"/contracts/{await read_contract(t)}")


async def _page_read_panel(t: Target) -> Call:
    return Call(f"/contracts/{await read_contract(t)}/sla-panel")


async def _page_post(t: Target, suffix: str, form: dict) -> Call:
    return Call(f"/contracts/{await contract(t)}{suffix}", form=form)


async def _page_milestone(t: Target, delivered: bool, action: str, form: dict) -> Call:
    cid, mid = await _milestone(t, delivered)
    return Call(f"/contracts/{cid}/milestones/{mid}/{action}", form=form)


PREFIX = "/api/v1/orgs/{org_id:uuid}/contracts"
ONE = PREFIX + "/{contract_id:uuid}"
MILESTONE = ONE + "/milestones/{milestone_id:uuid}"
PAGE = "/contracts/{contract_id:uuid}"

MATRIX = [
    Entry("GET", PREFIX, ORG, setup=lambda t: Call(f"/api/v1/orgs/{t.org_id}/contracts"), kinds=BOTH,
          roles=EVERY_MEMBER),
    Entry("GET", ONE, ORG, setup=_api_read, kinds=BOTH, roles=EVERY_MEMBER),
    Entry("PATCH", ONE, ORG, setup=_api_patch, kinds=(MERCHANT,), roles=WRITERS, other_kind=403),
    Entry("POST", ONE + "/sign", ORG, setup=_api_sign, kinds=BOTH, roles=SIGNERS, ok=(200,)),
    Entry("POST", ONE + "/terminate", ORG, setup=_api_terminate, kinds=BOTH, roles=SIGNERS, ok=(200,)),
    Entry("GET", ONE + "/milestones", ORG, setup=lambda t: _api_read(t, "/milestones"), kinds=BOTH,
          roles=EVERY_MEMBER),
    Entry("POST", ONE + "/milestones", ORG, setup=_api_add_milestone, kinds=(MERCHANT,), roles=WRITERS,
          other_kind=403),
    Entry("POST", MILESTONE + "/submit", ORG, setup=_api_submit, kinds=(PROVIDER,), roles=DELIVERERS,
          other_kind=403, ok=(200,)),
    Entry("POST", MILESTONE + "/accept", ORG, setup=_api_accept, kinds=(MERCHANT,), roles=WRITERS, other_kind=403, ok=(200,)),
    Entry("POST", MILESTONE + "/reject", ORG, setup=_api_reject, kinds=(MERCHANT,), roles=WRITERS, other_kind=403, ok=(200,)),
    Entry("POST", "/api/v1/orgs/{org_id:uuid}/orders", ORG, setup=_api_order, kinds=(MERCHANT,), roles=WRITERS,
          other_kind=403, outsider=404),
    Entry("GET", ONE + "/report", ORG, kinds=BOTH, roles=EVERY_MEMBER,
          setup=lambda t: _api_read(t, "/report?from=2026-01-01T00:00:00%2B08:00&to=2026-02-01T00:00:00%2B08:00")),
    Entry("GET", ONE + "/report.csv", ORG, kinds=BOTH, roles=EVERY_MEMBER,
          setup=lambda t: _api_read(t, "/report.csv?from=2026-01-01T00:00:00%2B08:00&to=2026-02-01T00:00:00%2B08:00")),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/history/report.csv", ORG, kinds=(MERCHANT,), roles=WRITERS,
          other_kind=403, setup=lambda t: Call(f"/api/v1/orgs/{t.org_id}/history/report.csv"
                                               "?from=2026-01-01T00:00:00%2B08:00&to=2026-02-01T00:00:00%2B08:00")),
    Entry("POST", "/api/v1/orgs/{org_id:uuid}/history", ORG, kinds=(MERCHANT,), roles=WRITERS, other_kind=403,
          setup=_api_history, ok=(201,)),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/history/report", ORG, kinds=(MERCHANT,), roles=WRITERS,
          other_kind=403, setup=lambda t: Call(f"/api/v1/orgs/{t.org_id}/history/report"
                                               "?from=2026-01-01T00:00:00%2B08:00&to=2026-02-01T00:00:00%2B08:00")),
    # pages
    Entry("GET", "/contracts", ORG, kinds=BOTH, roles=EVERY_MEMBER, outsider=None),
    Entry("POST", "/contracts/history", ORG, kinds=(MERCHANT,), roles=WRITERS, outsider=None, other_kind=403,
          ok=(200,),
          files={"file": ("history.jsonl", b'{"type": "notice", "at": "2026-03-02T09:00:00+08:00", "conversation": "c"}\n',
                          "application/x-ndjson")}),
    Entry("GET", PAGE, ORG, setup=_page_read, kinds=BOTH, roles=EVERY_MEMBER),
    Entry("GET", PAGE + "/sla-panel", ORG, setup=_page_read_panel, kinds=BOTH, roles=EVERY_MEMBER),
    Entry("POST", PAGE + "/sign", ORG, setup=lambda t: _page_post(t, "/sign", {}), kinds=BOTH, roles=SIGNERS),
    Entry("POST", PAGE + "/terminate", ORG, kinds=BOTH, roles=SIGNERS,
          setup=lambda t: _page_post(t, "/terminate", {"reason": "The season ended early this year."})),
    Entry("POST", PAGE + "/terms", ORG, kinds=(MERCHANT,), roles=WRITERS, other_kind=403,
          setup=lambda t: _page_post(t, "/terms", {"attribution_hours": "2", "calendar": "{}"})),
    Entry("POST", PAGE + "/milestones", ORG, kinds=(MERCHANT,), roles=WRITERS, other_kind=403,
          setup=lambda t: _page_post(t, "/milestones", {"deliverable": "Spring styles", "amount": "500",
                                                        "due_at": "2031-05-01T18:00"})),
    Entry("POST", PAGE + "/milestones/{milestone_id:uuid}/submit", ORG, kinds=(PROVIDER,), roles=DELIVERERS,
          other_kind=403, setup=lambda t: _page_milestone(t, False, "submit", {"note": "Delivered."})),
    Entry("POST", PAGE + "/milestones/{milestone_id:uuid}/accept", ORG, kinds=(MERCHANT,), roles=WRITERS,
          other_kind=403, setup=lambda t: _page_milestone(t, True, "accept", {})),
    Entry("POST", PAGE + "/milestones/{milestone_id:uuid}/reject", ORG, kinds=(MERCHANT,), roles=WRITERS,
          other_kind=403, setup=lambda t: _page_milestone(t, True, "reject", {"reason": "Colour casts on six."})),
]


@pytest.mark.parametrize("case", cases(MATRIX))
async def test_authz(case, make_client):
    await case.entry.run(case, make_client)
