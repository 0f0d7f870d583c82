"""Contracts, milestones and the shop's order ingestion under /api/v1/orgs/{org_id}/…"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from fuwu import api_contract
from fuwu.api import MEMBER, Cursor, IdempotencyKey, Limit, page_of, to
from fuwu.auth import MemberDep, ViewerDep, requires_user
from fuwu.errors import Forbidden
from fuwu.i18n import N_
from fuwu.pagination import DEFAULT_LIMIT, Page
from fuwu.services import idempotency
from sla.schemas import (
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
from sla.services import contracts, events, milestones


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
        if member.kind != "merchant" or member.role not in contracts.MERCHANT_SIGNERS:
            raise Forbidden("role_not_allowed", N_("Only the shop's owner or operator reports orders."))
        row = await events.ingest_order(shop=member.organisation_id, order=data.order, buyer=data.buyer,
                                        amount=data.amount, currency=data.currency, placed_at=data.placed_at)
        return to(OrderRead, row)


ROUTES = api_contract.document([ContractController, OrderController])
