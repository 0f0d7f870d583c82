"""Milestones of deliverable work (photography, design, video, consulting): the
merchant sets each deliverable with its due time and staged payment; the provider
delivers; the merchant accepts (final: the payment is released) or rejects with a
reason, and the provider delivers again.

    pending -> submitted -> accepted
                         -> rejected -> submitted -> ...

Each step appends its event to the SLA service-event log in the same transaction
(milestone created with its due time, submitted, accepted, rejected): the on-time
and first-pass-acceptance metrics are computed from those events alone.
"""

from __future__ import annotations

import datetime
import uuid

from fuwu.clock import now
from fuwu.db import atomic, is_unique_violation
from fuwu.errors import Conflict, Forbidden, InvalidInput, not_found
from fuwu.i18n import N_, Term
from fuwu.services import audit
from fuwu.services.accounts import Member, Viewer
from sla import states
from sla.errors import SlaError
from sla.services import contracts
from sla.services.events import append_event
from sla.tables import Milestone, MilestoneSubmission

MAX_MILESTONES = 100

MILESTONE_COLUMNS = (Milestone.id, Milestone.contract.as_alias("contract_id"), Milestone.deliverable, Milestone.due_at,
                     Milestone.amount, Milestone.status, Milestone.created_at)
SUBMISSION_COLUMNS = (MilestoneSubmission.id, MilestoneSubmission.milestone.as_alias("milestone_id"),
                      MilestoneSubmission.number, MilestoneSubmission.note, MilestoneSubmission.files,
                      MilestoneSubmission.submitted_at, MilestoneSubmission.submitted_by.display_name.as_alias(
                          "submitted_by_name"), MilestoneSubmission.decision, MilestoneSubmission.reason,
                      MilestoneSubmission.decided_at)


async def list_milestones(member: Member, contract_id: uuid.UUID) -> list[dict]:
    """The contract's milestones by due time, each with its deliveries (bounded: a
    contract has at most MAX_MILESTONES)."""
    await contracts.get_contract(member, contract_id)
    rows = await Milestone.select(*MILESTONE_COLUMNS).where(Milestone.contract == contract_id).order_by(
        Milestone.due_at).limit(MAX_MILESTONES)
    if rows:
        submissions = await MilestoneSubmission.select(*SUBMISSION_COLUMNS).where(
            MilestoneSubmission.milestone.is_in([row["id"] for row in rows])).order_by(
            MilestoneSubmission.number).output(load_json=True)
        for row in rows:
            row["submissions"] = [s for s in submissions if s["milestone_id"] == row["id"]]
    return rows


async def _contract_for(member: Member, contract_id: uuid.UUID, side: str, what: str) -> dict:
    contract = await contracts.get_contract(member, contract_id)
    if contract["side"] != side:
        raise Forbidden("role_not_allowed", N_("Only the {side} can {what}."),
                        params={"side": Term(side), "what": Term(what)})
    contracts._require_signer(member, contract, what)
    if contract["status"] not in (states.PENDING_SIGNATURE, states.ACTIVE):
        raise Conflict(SlaError.CONTRACT_STATE, N_("This contract has ended: its milestones cannot change."))
    return contract


async def add_milestone(viewer: Viewer, member: Member, contract_id: uuid.UUID, deliverable: str,
                        due_at: datetime.datetime, amount: int) -> dict:
    """The merchant adds a deliverable with its due time and staged payment (minor
    units). Appends `milestone_created` with the due time. Audited."""
    deliverable = (deliverable or "").strip()
    if not 1 <= len(deliverable) <= 200:
        raise InvalidInput(SlaError.MILESTONE, N_("Name the deliverable in 1 to 200 characters."))
    if due_at.tzinfo is None:
        raise InvalidInput(SlaError.MILESTONE, N_("Give times with a time zone offset."))
    if not isinstance(amount, int) or amount < 0:
        raise InvalidInput(SlaError.MILESTONE, N_("The payment is a whole number of minor units (fen), 0 or more."))
    async with atomic():
        contract = await _contract_for(member, contract_id, "merchant", N_("add milestones"))
        if await Milestone.count().where(Milestone.contract == contract_id) >= MAX_MILESTONES:
            raise Conflict(SlaError.MILESTONE, N_("A contract has at most {limit} milestones."),
                           params={"limit": MAX_MILESTONES})
        row = Milestone(contract=contract_id, deliverable=deliverable, due_at=due_at, amount=amount,
                        status=states.MILESTONE_PENDING)
        await row.save()
        await append_event(states.MILESTONE_CREATED, shop=contract["merchant_id"], contract=contract_id,
                           milestone=row.id, due=due_at)
        await audit.record(actor=viewer.user_id, organisation=contract["merchant_id"], object_type="contract",
                           object_id=contract_id, action="milestone_added",
                           after={"deliverable": deliverable, "due_at": due_at, "amount": amount})
        await contracts._tell(contract["provider_id"], contract_id, kind="milestone_added",
                              title=N_("New milestone on {title}: {deliverable}"), title_text=contract["title"] or "",
                              params={"deliverable": deliverable})
    return await _milestone(contract_id, row.id)


async def _milestone(contract_id: uuid.UUID, milestone_id: uuid.UUID, lock: bool = False) -> dict:
    query = Milestone.select(*MILESTONE_COLUMNS).where(
        (Milestone.id == milestone_id) & (Milestone.contract == contract_id))
    from fuwu.db import is_postgres

    if lock and is_postgres():
        query = query.lock_rows("UPDATE", of=(Milestone,))
    row = await query.first()
    if row is None:
        raise not_found("Milestone")
    return row


async def submit(viewer: Viewer, member: Member, contract_id: uuid.UUID, milestone_id: uuid.UUID, note: str,
                 files: list[dict] | None = None) -> dict:
    """The provider delivers a pending or rejected milestone (a note and files).
    Appends `milestone_submitted`. Audited; the merchant is told."""
    note = (note or "").strip()
    if len(note) > 5000:
        raise InvalidInput(SlaError.MILESTONE, N_("The note is at most 5,000 characters."))
    try:
        async with atomic():
            contract = await _contract_for(member, contract_id, "provider", N_("deliver milestones"))
            row = await _milestone(contract_id, milestone_id, lock=True)
            if row["status"] not in (states.MILESTONE_PENDING, states.MILESTONE_REJECTED):
                raise Conflict(SlaError.MILESTONE_STATE, N_("This milestone is waiting for a decision or accepted."))
            number = await MilestoneSubmission.count().where(MilestoneSubmission.milestone == milestone_id) + 1
            moment = now()
            await MilestoneSubmission(milestone=milestone_id, number=number, key=f"{milestone_id}:{number}", note=note,
                                      files=files or [], submitted_by=viewer.user_id, submitted_at=moment).save()
            await Milestone.update({Milestone.status: states.MILESTONE_SUBMITTED}).where(Milestone.id == milestone_id)
            await append_event(states.MILESTONE_SUBMITTED_EVENT, shop=contract["merchant_id"], contract=contract_id,
                               milestone=milestone_id, at=moment)
            await audit.record(actor=viewer.user_id, organisation=contract["merchant_id"], object_type="contract",
                               object_id=contract_id, action="milestone_submitted",
                               after={"milestone": str(milestone_id), "delivery": number})
            await contracts._tell(contract["merchant_id"], contract_id, kind="milestone_submitted",
                                  title=N_("Delivered on {title}: {deliverable}"), title_text=contract["title"] or "",
                                  params={"deliverable": row["deliverable"]})
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict(SlaError.MILESTONE_STATE, N_("This milestone was just delivered. Reload the page.")) from None
        raise
    return await _milestone(contract_id, milestone_id)


async def decide(viewer: Viewer, member: Member, contract_id: uuid.UUID, milestone_id: uuid.UUID, accept: bool,
                 reason: str = "") -> dict:
    """The merchant accepts a delivered milestone (final; its payment is released) or
    rejects it with a reason (10 characters or more) so the provider delivers again.
    Appends `milestone_accepted` or `milestone_rejected`. Audited; the provider is told."""
    reason = (reason or "").strip()
    if not accept and len(reason) < 10:
        raise InvalidInput(SlaError.REASON, N_("Write what is missing or wrong (at least 10 characters)."))
    async with atomic():
        contract = await _contract_for(member, contract_id, "merchant", N_("accept milestones"))
        row = await _milestone(contract_id, milestone_id, lock=True)
        if row["status"] != states.MILESTONE_SUBMITTED:
            raise Conflict(SlaError.MILESTONE_STATE, N_("Only a delivered milestone can be accepted or rejected."))
        decision = states.MILESTONE_ACCEPTED if accept else states.MILESTONE_REJECTED
        moment = now()
        moved = await Milestone.update({Milestone.status: decision}).where(
            (Milestone.id == milestone_id) & (Milestone.status == states.MILESTONE_SUBMITTED)).returning(Milestone.id)
        if not moved:
            raise Conflict(SlaError.MILESTONE_STATE, N_("This milestone was just decided. Reload the page."))
        latest = await MilestoneSubmission.select(MilestoneSubmission.id).where(
            MilestoneSubmission.milestone == milestone_id).order_by(MilestoneSubmission.number, ascending=False).first()
        await MilestoneSubmission.update({
            MilestoneSubmission.decision: decision, MilestoneSubmission.reason: reason,
            MilestoneSubmission.decided_by: viewer.user_id, MilestoneSubmission.decided_at: moment,
        }).where(MilestoneSubmission.id == latest["id"])
        await append_event(states.MILESTONE_ACCEPTED_EVENT if accept else states.MILESTONE_REJECTED_EVENT,
                           shop=contract["merchant_id"], contract=contract_id, milestone=milestone_id, at=moment)
        await audit.record(actor=viewer.user_id, organisation=contract["merchant_id"], object_type="contract",
                           object_id=contract_id, action=f"milestone_{decision}",
                           after={"milestone": str(milestone_id), **({"reason": reason} if reason else {}),
                                  **({"payment_released": row["amount"]} if accept else {})})
        if accept:
            await contracts._tell(contract["provider_id"], contract_id, kind="milestone_accepted",
                                  title=N_("Accepted on {title}: {deliverable}"), title_text=contract["title"] or "",
                                  params={"deliverable": row["deliverable"]})
        else:
            await contracts._tell(contract["provider_id"], contract_id, kind="milestone_rejected",
                                  title=N_("Sent back on {title}: {deliverable}"), title_text=contract["title"] or "",
                                  body=N_("Reason: {reason}"), params={"deliverable": row["deliverable"],
                                                                      "reason": reason})
    return await _milestone(contract_id, milestone_id)
