"""Contracts, milestones and the shop's order ingestion under /api/v1/orgs/{org_id}/…"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import csv
import datetime
import io

from litestar import Controller, Request, Response, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from fuwu import api_contract
from fuwu.api import MEMBER, Cursor, IdempotencyKey, Limit, page_of, to
from fuwu.auth import MemberDep, ViewerDep, requires_user
from fuwu.errors import Forbidden, InvalidInput
from fuwu.clock import now
from fuwu.services import accounts
from fuwu.i18n import N_
from fuwu.pagination import DEFAULT_LIMIT, Page
from fuwu.services import idempotency
from sla.schemas import (
    HistoryImportRead,
    ReportRead,
    ContractRead,
    ContractStatus,
    ContractTermsUpdate,
    MilestoneCreate,
    MilestoneDecision,
    MilestoneRead,
    MilestoneSubmit,
    OrderCreate,
    OrderRead,
    TerminateRequest,
)
from sla.services import contracts, evaluation, events, milestones
from sla import states


class ContractController(Controller):
    """Contracts the member's organisation is a party of."""

    path = "/api/v1/orgs/{org_id:uuid}/contracts"
    tags = ["contracts"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def list_contracts(self, member: MemberDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
                             status: Annotated[ContractStatus | None, QueryParameter()] = None) -> Page[ContractRead]:
        """The organisation's contracts (as merchant or as provider), newest first, by status."""
        return page_of(ContractRead, await contracts.list_contracts(member, status, cursor, limit))

    @get("/{contract_id:uuid}")
    async def read_contract(self, member: MemberDep, contract_id: FromPath[uuid.UUID]) -> ContractRead:
        """One contract with its SLA targets."""
        return to(ContractRead, await contracts.get_contract(member, contract_id))

    @patch("/{contract_id:uuid}")
    async def update_terms(self, viewer: ViewerDep, member: MemberDep, contract_id: FromPath[uuid.UUID],
                           data: JSONBody[ContractTermsUpdate]) -> ContractRead:
        """The merchant changes the terms of a contract waiting for signatures (dates, time zone, coverage
        calendar, attribution window in seconds); both signatures are cleared."""
        row = await contracts.update_terms(viewer, member, contract_id, starts_at=data.starts_at, ends_at=data.ends_at,
                                           time_zone=data.time_zone, calendar=data.calendar,
                                           attribution_window_seconds=data.attribution_window_seconds)
        return to(ContractRead, row)

    @post("/{contract_id:uuid}/sign", status_code=200)
    async def sign(self, viewer: ViewerDep, member: MemberDep, contract_id: FromPath[uuid.UUID]) -> ContractRead:
        """Signs for your side; when both sides have signed the contract is active. Signing twice changes nothing."""
        return to(ContractRead, await contracts.sign(viewer, member, contract_id))

    @post("/{contract_id:uuid}/terminate", status_code=200)
    async def terminate(self, viewer: ViewerDep, member: MemberDep, contract_id: FromPath[uuid.UUID],
                        data: JSONBody[TerminateRequest]) -> ContractRead:
        """Ends a pending or active contract early, with a written reason."""
        return to(ContractRead, await contracts.terminate(viewer, member, contract_id, data.reason))

    @get("/{contract_id:uuid}/milestones")
    async def list_milestones(self, member: MemberDep, contract_id: FromPath[uuid.UUID]) -> list[MilestoneRead]:
        """The contract's milestones by due time, each with its deliveries (at most 100 a contract)."""
        return [to(MilestoneRead, row) for row in await milestones.list_milestones(member, contract_id)]

    @post("/{contract_id:uuid}/milestones")
    async def add_milestone(self, request: Request, viewer: ViewerDep, member: MemberDep,
                            contract_id: FromPath[uuid.UUID], data: JSONBody[MilestoneCreate],
                            idempotency_key: IdempotencyKey = None) -> MilestoneRead:
        """The merchant adds a deliverable with its due time and staged payment (minor units). Send an
        Idempotency-Key to retry safely."""
        body = await request.body()

        async def create() -> MilestoneRead:
            return to(MilestoneRead, await milestones.add_milestone(viewer, member, contract_id, data.deliverable,
                                                                    data.due_at, data.amount))

        result, _ = await idempotency.run_once(viewer.user_id, idempotency_key,
                                               idempotency.fingerprint("POST", request.url.path, body), create,
                                               MilestoneRead)
        return result

    @post("/{contract_id:uuid}/milestones/{milestone_id:uuid}/submit", status_code=200)
    async def submit_milestone(self, viewer: ViewerDep, member: MemberDep, contract_id: FromPath[uuid.UUID],
                               milestone_id: FromPath[uuid.UUID], data: JSONBody[MilestoneSubmit]) -> MilestoneRead:
        """The provider delivers a pending or sent-back milestone, with a note."""
        return to(MilestoneRead, await milestones.submit(viewer, member, contract_id, milestone_id, data.note))

    @post("/{contract_id:uuid}/milestones/{milestone_id:uuid}/accept", status_code=200)
    async def accept_milestone(self, viewer: ViewerDep, member: MemberDep, contract_id: FromPath[uuid.UUID],
                               milestone_id: FromPath[uuid.UUID]) -> MilestoneRead:
        """The merchant accepts a delivered milestone: final, and its staged payment is released."""
        return to(MilestoneRead, await milestones.decide(viewer, member, contract_id, milestone_id, True))

    @post("/{contract_id:uuid}/milestones/{milestone_id:uuid}/reject", status_code=200)
    async def reject_milestone(self, viewer: ViewerDep, member: MemberDep, contract_id: FromPath[uuid.UUID],
                               milestone_id: FromPath[uuid.UUID], data: JSONBody[MilestoneDecision]) -> MilestoneRead:
        """The merchant sends a delivered milestone back with the reason (10 characters or more)."""
        return to(MilestoneRead, await milestones.decide(viewer, member, contract_id, milestone_id, False,
                                                         data.reason))


WindowSize = Annotated[Literal["day", "week", "month"], QueryParameter()]
Source = Annotated[Literal["live", "history"], QueryParameter()]
FROM_TEXT = "Start of the range (ISO 8601 with a zone); by default the contract's start (a shop's history: 90 days ago)."
TO_TEXT = "End of the range, not included; by default now."
CSV_COLUMNS = ("window_start", "window_end", "metric", "statistic", "value", "sample_size", "comparator", "target",
               "met")
STREAMED = ("application/x-ndjson", "application/jsonl")
MAX_HISTORY_BYTES = 2 * 1024**3  # streamed: never held in memory


CSV_SPEC = {200: ResponseSpec(data_container=str, media_type="text/csv",
                              description="One row per window and metric: " + ", ".join(CSV_COLUMNS) + ".")}


def report_csv(report: dict) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for window in report["windows"]:
        for row in window["metrics"]:
            writer.writerow([window["start"].isoformat(), window["end"].isoformat(), row["metric"], row["statistic"],
                             "" if row["value"] is None else repr(row["value"]), row["sample_size"],
                             row["comparator"] or "", "" if row["target"] is None else row["target"],
                             "" if row["met"] is None else ("met" if row["met"] else "breached")])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="sla-report.csv"'})


def _require_shop(member) -> None:
    if member.kind != "merchant" or member.role not in contracts.MERCHANT_SIGNERS:
        raise Forbidden("role_not_allowed", N_("Only the shop's owner or operator sends its orders and history."))


class ContractReportController(Controller):
    path = "/api/v1/orgs/{org_id:uuid}/contracts/{contract_id:uuid}"
    tags = ["contracts"]
    guards = [requires_user]
    dependencies = MEMBER

    @get("/report")
    async def contract_report(self, member: MemberDep, contract_id: FromPath[uuid.UUID],
                              start: Annotated[datetime.datetime | None, QueryParameter(name="from", description=FROM_TEXT)] = None,
                              end: Annotated[datetime.datetime | None, QueryParameter(name="to", description=TO_TEXT)] = None,
                              window: WindowSize = "month", source: Source = "live") -> ReportRead:
        """The SLA report of a contract over [from, to) in day, week or month windows (local periods in the
        contract's zone, cut to the range), from its live events or the shop's imported history (source):
        per window and metric the value, sample size, target and met or breached. The same as CSV at report.csv."""
        return to(ReportRead, await _contract_report(member, contract_id, start, end, window, source))

    @get("/report.csv", responses=CSV_SPEC)
    async def contract_report_csv(self, member: MemberDep, contract_id: FromPath[uuid.UUID],
                                  start: Annotated[datetime.datetime | None, QueryParameter(name="from", description=FROM_TEXT)] = None,
                                  end: Annotated[datetime.datetime | None, QueryParameter(name="to", description=TO_TEXT)] = None,
                                  window: WindowSize = "month", source: Source = "live") -> Response:
        """The contract's SLA report as CSV, one row per window and metric."""
        return report_csv(await _contract_report(member, contract_id, start, end, window, source))


async def _contract_report(member, contract_id, start, end, window, source) -> dict:
    contract = await contracts.get_contract(member, contract_id)
    end = end or now()
    start = start or min(contract["starts_at"], end - datetime.timedelta(days=1))
    return await evaluation.report(contract_id=contract_id, start=start, end=end, window_size=window, source=source)


async def _history_report(member, start, end, window) -> dict:
    _require_shop(member)
    org = await accounts.get_organisation(member.organisation_id)
    end = end or now()
    start = start or end - datetime.timedelta(days=90)
    return await evaluation.report(shop_id=member.organisation_id, start=start, end=end, window_size=window,
                                   source=states.HISTORY, time_zone=org["timezone"])


class HistoryController(Controller):
    """The shop's earlier chat and order history, for the before and after."""

    path = "/api/v1/orgs/{org_id:uuid}/history"
    tags = ["contracts"]
    guards = [requires_user]
    dependencies = MEMBER

    @post(status_code=201, request_max_body_size=MAX_HISTORY_BYTES)
    async def import_history(self, request: Request, viewer: ViewerDep, member: MemberDep) -> HistoryImportRead:
        """Imports the shop's history from a JSON Lines body (Content-Type application/x-ndjson), streamed:
        one event a line with its own RFC 3339 `at` (types conversation_opened, buyer_message, agent_reply,
        notice, conversation_closed, chat_rated, order_placed); a bad line is refused with its number and
        nothing of the file stays. Sending the same file again adds nothing."""
        _require_shop(member)
        if not request.headers.get("content-type", "").startswith(STREAMED):
            raise InvalidInput("history_content_type", N_("Send the file as application/x-ndjson (JSON Lines)."))
        result = await events.import_history(member.organisation_id, request.stream())
        await events.record_import(viewer.user_id, member.organisation_id, result)
        return to(HistoryImportRead, result)

    @get("/report")
    async def history_report(self, member: MemberDep,
                             start: Annotated[datetime.datetime | None, QueryParameter(name="from", description=FROM_TEXT)] = None,
                             end: Annotated[datetime.datetime | None, QueryParameter(name="to", description=TO_TEXT)] = None,
                             window: WindowSize = "month") -> ReportRead:
        """The shop's history as a report.

        Over [from, to), around the clock in the shop's time zone, without targets (a contract's report with
        source=history uses its calendar and targets). The same as CSV at report.csv."""
        return to(ReportRead, await _history_report(member, start, end, window))

    @get("/report.csv", responses=CSV_SPEC)
    async def history_report_csv(self, member: MemberDep,
                                 start: Annotated[datetime.datetime | None, QueryParameter(name="from", description=FROM_TEXT)] = None,
                                 end: Annotated[datetime.datetime | None, QueryParameter(name="to", description=TO_TEXT)] = None,
                                 window: WindowSize = "month") -> Response:
        """The shop's history report as CSV, one row per window and metric."""
        return report_csv(await _history_report(member, start, end, window))


class OrderController(Controller):
    """Orders the merchant's shop reports, for inquiry conversion."""

    path = "/api/v1/orgs/{org_id:uuid}/orders"
    tags = ["contracts"]
    guards = [requires_user]
    dependencies = MEMBER

    @post(status_code=201)
    async def report_order(self, member: MemberDep, data: JSONBody[OrderCreate]) -> OrderRead:
        """Records an order from the shop (buyer id, amount in minor units); idempotent by the shop's order id:
        a repeat answers the first report with created false."""
        _require_shop(member)
        row = await events.ingest_order(shop=member.organisation_id, order=data.order, buyer=data.buyer,
                                        amount=data.amount, currency=data.currency, placed_at=data.placed_at)
        return to(OrderRead, row)


ROUTES = api_contract.document([ContractController, ContractReportController, HistoryController, OrderController])
