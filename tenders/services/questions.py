"""Questions and answers: any provider who can see a tender may ask until the
questions deadline; the merchant answers; every provider who can see the tender
sees every answer, the asker shown only as a pseudonym stable per tender."""

from __future__ import annotations

import hashlib
import hmac
import uuid

from fuwu import roles
from fuwu.clock import now
from fuwu.i18n import N_, Moment
from fuwu.db import atomic
from fuwu.errors import Conflict, not_found
from fuwu.pagination import Page, paginate
from fuwu.services import audit, notifications
from fuwu.services.accounts import Member, Viewer, member_user_ids
from fuwu.settings import get_settings
from tenders import states
from tenders.errors import TenderError
from tenders.services.lifecycle import MERCHANT_WRITERS, _require_role, get_own_tender, get_tender
from tenders.tables import Question


def pseudonym(tender_id: uuid.UUID, provider_id: uuid.UUID) -> str:
    """'Bidder 3F9A2C': the same for one provider within one tender, unrelated across
    tenders, and not reversible without the server's secret."""
    digest = hmac.new(get_settings().secret_key.encode(), f"{tender_id}:{provider_id}".encode(), hashlib.sha256)
    return "Bidder " + digest.hexdigest()[:6].upper()


async def ask_question(viewer: Viewer, member: Member, tender_id: uuid.UUID, text: str) -> dict:
    """A provider asks; allowed while the tender is published and before the
    questions deadline. The merchant's team is notified. Audited (without the asker's
    organisation on the merchant's timeline)."""
    if member.kind != roles.PROVIDER:
        raise not_found("Tender")
    _require_role(member, (roles.OWNER, roles.MANAGER), N_("ask questions"))
    async with atomic():
        row = await get_tender(member, tender_id)
        if row["status"] != states.PUBLISHED or row["questions_deadline"] <= now():
            raise Conflict(TenderError.QUESTIONS_CLOSED, "Questions closed at {deadline}. Read the published answers.",
                           params={"deadline": Moment(row["questions_deadline"])})
        question = Question(tender=tender_id, provider=member.organisation_id,
                            pseudonym=pseudonym(tender_id, member.organisation_id), text=text.strip())
        await question.save()
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="question",
                           object_id=question.id, action="asked", after={"tender": str(tender_id)})
        people = await member_user_ids(row["merchant_id"], *MERCHANT_WRITERS)
        await notifications.notify(people, kind="question_asked", title=N_("New question on {title}"),
                                   params={"title": row["title"]}, link=f"/tenders/{tender_id}#questions",
                                   organisation=row["merchant_id"])
    return await _question(question.id, member.organisation_id)


async def answer_question(viewer: Viewer, member: Member, tender_id: uuid.UUID, question_id: uuid.UUID,
                          answer: str) -> dict:
    """The merchant answers once, until bidding closes. Every provider who can act on
    the tender is notified. Audited."""
    async with atomic():
        row = await get_own_tender(member, tender_id, what=N_("answer questions"))
        question = await Question.select(Question.id, Question.answered_at).where(
            (Question.id == question_id) & (Question.tender == tender_id)).first()
        if question is None:
            raise not_found("Question")
        if question["answered_at"] is not None:
            raise Conflict(TenderError.ALREADY_ANSWERED, "This question is already answered; amend the tender to change terms.")
        if row["status"] != states.PUBLISHED:
            raise Conflict(TenderError.NOT_PUBLISHED, "Questions can be answered only while the tender is open for bids.")
        await Question.update({Question.answer: answer.strip(), Question.answered_by: viewer.user_id,
                               Question.answered_at: now()}).where(Question.id == question_id)
        await audit.record(actor=viewer.user_id, organisation=member.organisation_id, object_type="question",
                           object_id=question_id, action="answered", after={"answer": answer.strip()})
        from tenders.services.lifecycle import _notify_providers

        askers = [r["provider"] for r in await Question.select(Question.provider).where(Question.tender == tender_id)]
        await _notify_providers(row, kind="question_answered", title=N_("A question on {title} was answered"),
                                also=askers)
    return await _question(question_id, None)


async def _question(question_id: uuid.UUID, viewer_org: uuid.UUID | None) -> dict:
    row = await Question.select(Question.id, Question.pseudonym, Question.text, Question.asked_at, Question.answer,
                                Question.answered_at, Question.provider).where(Question.id == question_id).first()
    row["mine"] = viewer_org is not None and row.pop("provider") == viewer_org
    row.pop("provider", None)
    return row


async def questions_page(member: Member, tender_id: uuid.UUID, cursor: str | None, limit: int) -> Page:
    """`list_questions` a page at a time, oldest first."""
    await get_tender(member, tender_id)
    query = Question.select(Question.id, Question.pseudonym, Question.text, Question.asked_at, Question.answer,
                            Question.answered_at, Question.provider).where(Question.tender == tender_id)

    def convert(row: dict) -> dict:
        row["mine"] = row.pop("provider") == member.organisation_id
        return row

    return await paginate(query, Question.asked_at, Question.id, cursor, limit, convert, oldest_first=True)


async def list_questions(member: Member, tender_id: uuid.UUID) -> list[dict]:
    """Every question with its answer, oldest first; `mine` marks the viewer's own."""
    await get_tender(member, tender_id)
    rows = await Question.select(Question.id, Question.pseudonym, Question.text, Question.asked_at, Question.answer,
                                 Question.answered_at, Question.provider).where(Question.tender == tender_id).order_by(
        Question.asked_at).limit(1000)
    for row in rows:
        row["mine"] = row.pop("provider") == member.organisation_id
    return rows
