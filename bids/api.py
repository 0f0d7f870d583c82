"""Bids and evaluation under /api/v1/orgs/{org_id}/tenders/{tender_id}/…"""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.response import File

from fuwu import api_contract
from fuwu.api import MEMBER, Cursor, IdempotencyKey, Limit, once, page_of, to
from fuwu.auth import MemberDep, ViewerDep, requires_member, requires_user
from fuwu.errors import InvalidInput, not_found
from fuwu.pagination import DEFAULT_LIMIT, Page
from fuwu.services import idempotency
from bids.schemas import (
    AttachmentRead,
    AwardRead,
    AwardRequest,
    BidRead,
    BidRevisionRead,
    BidSubmit,
    FindingCreate,
    FindingRead,
    MyBidRead,
    RoundRead,
    ScoreSubmit,
    ScoresRecorded,
    ShortlistRequest,
    SlotCreate,
)
from bids.services import award, evaluation, pipeline, submission
from tenders.schemas import CancelRequest, TenderRead

Number = Annotated[int, FromPath]


class SlotRead(msgspec.Struct):
    id: uuid.UUID
    bid_id: uuid.UUID
    starts_at: object
    ends_at: object
    place: str
    confirmed_at: object | None


class BidController(Controller):
    """The provider's own bid on a tender."""

    path = "/api/v1/orgs/{org_id:uuid}/tenders/{tender_id:uuid}"
    tags = ["bids"]
    guards = [requires_user]
    dependencies = MEMBER

    @get("/bid")
    async def read_my_bid(self, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> BidRead:
        """Your organisation's bid on the tender, with its attachments."""
        bid = await submission.my_bid(member, tender_id)
        if bid is None:
            raise not_found("Bid")
        return to(BidRead, bid)

    @post("/bid")
    async def submit_bid(self, request: Request, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                         data: JSONBody[BidSubmit], idempotency_key: IdempotencyKey = None) -> BidRead:
        """Submits a sealed bid; accepted only if it commits before the deadline (409
        naming the deadline otherwise). Send an Idempotency-Key to retry safely."""
        body = await request.body()

        async def create() -> BidRead:
            return to(BidRead, await submission.submit_bid(viewer, member, tender_id, data))

        result, _ = await idempotency.run_once(viewer.user_id, idempotency_key,
                                               idempotency.fingerprint("POST", request.url.path, body), create, BidRead)
        return result

    @put("/bid")
    async def revise_bid(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                         data: JSONBody[BidSubmit]) -> BidRead:
        """Revises the live bid before the deadline (earlier versions are kept)."""
        return to(BidRead, await submission.revise_bid(viewer, member, tender_id, data))

    @post("/bid/confirm", status_code=200)
    async def confirm_bid(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> BidRead:
        """Confirms the bid unchanged after an amendment."""
        return to(BidRead, await submission.confirm_bid(viewer, member, tender_id))

    @delete("/bid")
    async def withdraw_bid(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> None:
        """Withdraws the bid before the deadline."""
        await submission.withdraw_bid(viewer, member, tender_id)

    @get("/bid/history")
    async def bid_history(self, member: MemberDep, tender_id: FromPath[uuid.UUID], cursor: Cursor = None,
                          limit: Limit = DEFAULT_LIMIT) -> Page[BidRevisionRead]:
        """Every version of your bid, first version first."""
        return page_of(BidRevisionRead, await submission.my_bid_history_page(member, tender_id, cursor, limit))

    @post("/bid/attachments", guards=[requires_member], operation_class=api_contract.FileUpload)
    async def upload_attachment(
        self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
        data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> AttachmentRead:
        """Adds a file (PDF, image, Office, text, zip, mp4) to the live bid."""
        content = await data.read()
        row = await submission.add_attachment(viewer, member, tender_id, data.filename, data.content_type, content)
        return to(AttachmentRead, row)

    @get("/attachments/{attachment_id:uuid}")
    async def download_attachment(self, member: MemberDep, tender_id: FromPath[uuid.UUID],
                                  attachment_id: FromPath[uuid.UUID]) -> File:
        """Downloads a file of a bid (its bidder, or the merchant once bids are unsealed)."""
        path, row = await submission.attachment_for_download(member, tender_id, attachment_id)
        return File(path=path, filename=row["filename"], media_type=row["content_type"])

    @get("/slots")
    async def my_slots(self, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> list[SlotRead]:
        """The provider's presentation slots."""
        return [to(SlotRead, row) for row in await evaluation.my_slots(member, tender_id)]

    @post("/slots/{slot_id:uuid}/confirm", status_code=200)
    async def confirm_slot(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                           slot_id: FromPath[uuid.UUID]) -> SlotRead:
        """The provider confirms a presentation slot."""
        return to(SlotRead, await evaluation.confirm_slot(viewer, member, tender_id, slot_id))


class EvaluationController(Controller):
    """The merchant's evaluation: unsealed bids, rounds, scores, shortlists, award."""

    path = "/api/v1/orgs/{org_id:uuid}/tenders/{tender_id:uuid}"
    tags = ["evaluation"]
    guards = [requires_user]
    dependencies = MEMBER

    @get("/bids")
    async def list_bids(self, member: MemberDep, tender_id: FromPath[uuid.UUID], cursor: Cursor = None,
                        limit: Limit = DEFAULT_LIMIT) -> Page[BidRead]:
        """Every bid live at the deadline, in the order they came in; 409 while bids are sealed."""
        return page_of(BidRead, await evaluation.bids_page(member, tender_id, cursor, limit))

    @get("/bids/{bid_id:uuid}")
    async def read_bid(self, member: MemberDep, tender_id: FromPath[uuid.UUID], bid_id: FromPath[uuid.UUID]) -> BidRead:
        """One unsealed bid; 409 while bids are sealed."""
        return to(BidRead, await evaluation.get_bid(member, tender_id, bid_id))

    @post("/evaluation/start", status_code=200)
    async def start_evaluation(self, viewer: ViewerDep, member: MemberDep,
                               tender_id: FromPath[uuid.UUID]) -> list[RoundRead]:
        """Opens the first evaluation round after the bid deadline."""
        return [to(RoundRead, r) for r in await evaluation.start_evaluation(viewer, member, tender_id)]

    @get("/rounds")
    async def list_rounds(self, member: MemberDep, tender_id: FromPath[uuid.UUID], cursor: Cursor = None,
                          limit: Limit = DEFAULT_LIMIT) -> Page[RoundRead]:
        """The evaluation rounds with their criteria and each bid's scores; first round first."""
        return page_of(RoundRead, await evaluation.rounds_page(member, tender_id, cursor, limit))

    @post("/rounds/{number:int}/scores", status_code=200)
    async def submit_scores(self, request: Request, viewer: ViewerDep, member: MemberDep,
                            tender_id: FromPath[uuid.UUID], number: Number, data: JSONBody[ScoreSubmit],
                            idempotency_key: IdempotencyKey = None) -> ScoresRecorded:
        """Your 0–10 scores for one bid on the round's non-price criteria.

        Each score names its criterion by criterion_id; scoring again replaces your earlier
        scores. The round's criteria and their ids are in GET …/rounds. Send an
        Idempotency-Key to retry safely."""

        async def create() -> ScoresRecorded:
            return to(ScoresRecorded, await evaluation.submit_scores(viewer, member, tender_id, number, data.bid_id,
                                                                     data.scores))

        return await once(request, viewer, idempotency_key, create, ScoresRecorded)

    @post("/rounds/{number:int}/close", status_code=200)
    async def close_round(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                          number: Number) -> RoundRead:
        """Closes a round once every bid is scored on every criterion; ranks the bids."""
        return to(RoundRead, await evaluation.close_round(viewer, member, tender_id, number))

    @post("/rounds/{number:int}/shortlist", status_code=200)
    async def shortlist(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID], number: Number,
                        data: JSONBody[ShortlistRequest]) -> list[RoundRead]:
        """Takes the top bids (or the named ones) of a closed round into the next round."""
        rows = await evaluation.shortlist(viewer, member, tender_id, number, data.top, data.bid_ids)
        return [to(RoundRead, r) for r in rows]

    @post("/rounds/{number:int}/slots")
    async def schedule_slot(self, request: Request, viewer: ViewerDep, member: MemberDep,
                            tender_id: FromPath[uuid.UUID], number: Number, data: JSONBody[SlotCreate],
                            idempotency_key: IdempotencyKey = None) -> SlotRead:
        """Schedules a presentation slot for a bid in a presentation round. Send an
        Idempotency-Key to retry safely."""

        async def create() -> SlotRead:
            row = await evaluation.schedule_slot(viewer, member, tender_id, number, data.bid_id, data.starts_at,
                                                 data.ends_at, data.place)
            return to(SlotRead, row)

        return await once(request, viewer, idempotency_key, create, SlotRead)

    @post("/rounds/{number:int}/findings")
    async def record_finding(self, request: Request, viewer: ViewerDep, member: MemberDep,
                             tender_id: FromPath[uuid.UUID], number: Number, data: JSONBody[FindingCreate],
                             idempotency_key: IdempotencyKey = None) -> FindingRead:
        """Records what a site visit found for a bid. Send an Idempotency-Key to retry safely."""

        async def create() -> FindingRead:
            row = await evaluation.record_finding(viewer, member, tender_id, number, data.bid_id, data.visited_at,
                                                  data.finding)
            return to(FindingRead, row)

        return await once(request, viewer, idempotency_key, create, FindingRead)

    @post("/award")
    async def award(self, request: Request, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                    data: JSONBody[AwardRequest], idempotency_key: IdempotencyKey = None) -> AwardRead:
        """Awards one bid; other than the top score needs a reason. Send an Idempotency-Key
        to retry safely."""

        async def create() -> AwardRead:
            return to(AwardRead, await award.award_bid(viewer, member, tender_id, data.bid_id, data.reason))

        return await once(request, viewer, idempotency_key, create, AwardRead)

    @get("/award")
    async def read_award(self, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> AwardRead:
        """The award: which bid won, and why."""
        await evaluation.require_unsealed(member, tender_id)
        return to(AwardRead, await award.read_award(tender_id))

    @post("/unsuccessful", status_code=200)
    async def declare_unsuccessful(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                                   data: JSONBody[CancelRequest]) -> TenderRead:
        """Ends the evaluation without award (no bid qualified)."""
        return to(TenderRead, await award.declare_unsuccessful(viewer, member, tender_id, data.reason))


class MyBidsController(Controller):
    """The provider's pipeline: every bid of the organisation."""

    path = "/api/v1/orgs/{org_id:uuid}/bids"
    tags = ["bids"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def list_my_bids(
        self, member: MemberDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
        status: Annotated[str | None, QueryParameter(max_length=20, description="A bid status: submitted, "
                                                     "needs_confirmation, withdrawn or discarded.")] = None,
        result: Annotated[str | None, QueryParameter(max_length=20, description="A result: not_confirmed, "
                                                     "eliminated, awarded or not_awarded.")] = None,
        category: Annotated[str | None, QueryParameter(max_length=20, description="The tender's category.")] = None,
        q: Annotated[str | None, QueryParameter(max_length=100, description="Words in the tender's title or "
                                                "brief.")] = None,
    ) -> Page[MyBidRead]:
        """Your organisation's bids, latest first: each with its tender (title, category,
        merchant, deadline, status), where it stands (status, current round, the rank
        you were told at a shortlist or the award) and its result.

        Only the organisation's own bids; any member of a provider may read them. A
        merchant organisation has no bids (404)."""
        page = await pipeline.my_bids(member, status=status, result=result, category=category, text=q,
                                      cursor=cursor, limit=limit)
        return page_of(MyBidRead, page)


ROUTES = api_contract.document([BidController, EvaluationController, MyBidsController])
__all__ = ["ROUTES", "InvalidInput"]
