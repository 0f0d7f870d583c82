"""Canned replies: ready answers an organisation's agents insert with one click. Every
member reads them; the owner or a manager (an operator for a merchant) adds and
removes them, audited."""

from __future__ import annotations

import uuid

from chat.errors import ChatError
from chat.tables import CannedReply
from fuwu import roles
from fuwu.db import atomic
from fuwu.errors import Forbidden, InvalidInput, not_found
from fuwu.i18n import N_
from fuwu.services import audit
from fuwu.services.accounts import Member

EDITORS = (roles.OWNER, roles.MANAGER, roles.OPERATOR)
MAX_TITLE, MAX_TEXT = 100, 4000  # a reply is sent as a message: at most a message's length
MAX_PER_ORGANISATION = 200  # a bounded list, read whole by the console

THING = N_("Canned reply")  # what not_found names

COLUMNS = (CannedReply.id, CannedReply.title, CannedReply.text, CannedReply.created_at)


def can_edit(member: Member) -> bool:
    return member.role in EDITORS


async def list_replies(member: Member) -> list[dict]:
    """The organisation's canned replies by title (at most MAX_PER_ORGANISATION)."""
    return await CannedReply.select(*COLUMNS).where(CannedReply.organisation == member.organisation_id).order_by(
        CannedReply.title).limit(MAX_PER_ORGANISATION)


def _require_editor(member: Member) -> None:
    if not can_edit(member):
        raise Forbidden("role_not_allowed", N_("Only the owner or a manager changes the canned replies."))


async def add_reply(viewer_id: uuid.UUID, member: Member, title: str, text: str) -> dict:
    """Adds a canned reply (title 1-100 characters, text 1-4000). Refuses past
    MAX_PER_ORGANISATION. Audited as canned_reply_added."""
    _require_editor(member)
    title, text = (title or "").strip(), (text or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(ChatError.MALFORMED, N_("A canned reply needs a title of 1 to {limit} characters."),
                           params={"limit": MAX_TITLE})
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(ChatError.MALFORMED, N_("A canned reply needs a text of 1 to {limit} characters."),
                           params={"limit": MAX_TEXT})
    async with atomic():
        count = await CannedReply.count().where(CannedReply.organisation == member.organisation_id)
        if count >= MAX_PER_ORGANISATION:
            raise InvalidInput(ChatError.MALFORMED, N_("An organisation keeps at most {limit} canned replies: "
                                                       "remove one first."), params={"limit": MAX_PER_ORGANISATION})
        row = CannedReply(organisation=member.organisation_id, title=title, text=text)
        await row.save()
        await audit.record(actor=viewer_id, organisation=member.organisation_id, object_type="canned_reply",
                           object_id=row.id, action="canned_reply_added", after={"title": title})
    return await CannedReply.select(*COLUMNS).where(CannedReply.id == row.id).first()


async def remove_reply(viewer_id: uuid.UUID, member: Member, reply_id: uuid.UUID) -> None:
    """Removes one of the organisation's canned replies (404 for another's). Audited."""
    _require_editor(member)
    async with atomic():
        removed = await CannedReply.delete().where(
            (CannedReply.id == reply_id) & (CannedReply.organisation == member.organisation_id)).returning(
            CannedReply.title)
        if not removed:
            raise not_found("Canned reply")
        await audit.record(actor=viewer_id, organisation=member.organisation_id, object_type="canned_reply",
                           object_id=reply_id, action="canned_reply_removed", before={"title": removed[0]["title"]})
