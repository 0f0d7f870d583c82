"""Agents' seats: presence by heartbeat (correct across processes: kept in the
database), capacity set by the provider, and the sweep that takes agents who went
silent offline and gives their conversations to others after a grace period."""

from __future__ import annotations

import datetime
import uuid

from chat import states
from chat.errors import ChatError
from chat.layer import publish
from chat.services import conversations
from chat.tables import Conversation, Seat
from fuwu import roles
from fuwu.clock import now
from fuwu.db import atomic, fetch, is_unique_violation
from fuwu.errors import Forbidden, InvalidInput
from fuwu.i18n import N_
from fuwu.services import audit
from fuwu.services.accounts import Member
from chat import sql

# Who may take a seat: the members who chat with buyers.
SEAT_ROLES = (roles.AGENT, roles.MANAGER, roles.OWNER, roles.OPERATOR)


async def _seat(org_id: uuid.UUID, user_id: uuid.UUID) -> dict:
    row = await Seat.select().where(Seat.pair == f"{org_id}:{user_id}").first()
    if row is not None:
        return row
    try:
        async with atomic():
            await Seat(organisation=org_id, user=user_id, pair=f"{org_id}:{user_id}",
                       capacity=states.DEFAULT_CAPACITY).save()
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    return await Seat.select().where(Seat.pair == f"{org_id}:{user_id}").first()


async def set_presence(member: Member, user_id: uuid.UUID, presence: str) -> dict:
    """The agent's presence in one organisation: online takes new conversations (and
    at once the queued ones, up to capacity), away keeps serving but takes none,
    offline takes none (its conversations go to others after the grace period)."""
    if presence not in states.PRESENCE:
        raise InvalidInput(ChatError.SEAT, N_("Presence is online, away or offline."))
    if member.role not in SEAT_ROLES:
        raise Forbidden("role_not_allowed", N_("Your role has no chat seat."))
    await _seat(member.organisation_id, user_id)
    await Seat.update({Seat.presence: presence, Seat.last_seen: now()}).where(
        Seat.pair == f"{member.organisation_id}:{user_id}")
    await publish(conversations.org_group(member.organisation_id),
                  {"type": "presence", "user": str(user_id), "presence": presence})
    if presence == states.ONLINE:
        await conversations.fill_capacity(member.organisation_id)
    return await _seat(member.organisation_id, user_id)


# When this process last wrote each agent's heartbeat: an agent's sockets (a console,
# a tab per conversation) all beat every HEARTBEAT_SECONDS, and one write in that
# time keeps the seats seen (offline only after OFFLINE_AFTER_SECONDS of silence).
_last_beat: dict = {}


async def heartbeat(user_id: uuid.UUID, organisation_ids) -> None:
    """A connected agent is still there: its seats stay as they are, seen now (written
    at most once per half heartbeat interval per agent and process)."""
    if not organisation_ids:
        return
    key = (user_id, tuple(sorted(str(o) for o in organisation_ids)))
    moment = now()
    last = _last_beat.get(key)
    if last is not None and (moment - last).total_seconds() < states.HEARTBEAT_SECONDS / 2:
        return
    if len(_last_beat) > 50_000:
        _last_beat.clear()
    _last_beat[key] = moment
    for org_id in organisation_ids:  # one short statement a seat (Piccolo's query building cost ~3 ms a beat)
        await fetch(sql.SEAT_SEEN, f"{org_id}:{user_id}", moment)


async def set_capacity(viewer_id: uuid.UUID, member: Member, agent_id: uuid.UUID, capacity: int) -> dict:
    """The provider's owner or manager sets how many conversations an agent serves at
    once (0 to 50). Audited."""
    if member.role not in (roles.OWNER, roles.MANAGER, roles.OPERATOR):
        raise Forbidden("role_not_allowed", N_("Only the owner or a manager sets agents' capacity."))
    if not isinstance(capacity, int) or not 0 <= capacity <= 50:
        raise InvalidInput(ChatError.SEAT, N_("Capacity is a whole number from 0 to 50."))
    from fuwu.services import accounts

    target = await accounts.membership(agent_id, member.organisation_id)
    if target.role not in SEAT_ROLES:
        raise InvalidInput(ChatError.SEAT, N_("That member has no chat seat."))
    await _seat(member.organisation_id, agent_id)
    async with atomic():
        await Seat.update({Seat.capacity: capacity}).where(Seat.pair == f"{member.organisation_id}:{agent_id}")
        await audit.record(actor=viewer_id, organisation=member.organisation_id, object_type="chat_seat",
                           object_id=agent_id, action="capacity_set", after={"capacity": capacity})
    await conversations.fill_capacity(member.organisation_id)
    return await _seat(member.organisation_id, agent_id)


async def seats(org_id: uuid.UUID) -> list[dict]:
    return await Seat.select(Seat.user, Seat.user.display_name.as_alias("name"), Seat.capacity, Seat.load,
                             Seat.presence, Seat.last_seen).where(Seat.organisation == org_id).order_by(
        Seat.user.display_name)


async def sweep(moment: datetime.datetime | None = None) -> dict:
    """The job: agents without a heartbeat for OFFLINE_AFTER_SECONDS go offline; the
    conversations of agents offline for REASSIGN_AFTER_SECONDS go back to the queue
    and to another agent (never to an offline one). Idempotent."""
    moment = moment or now()
    silent = moment - datetime.timedelta(seconds=states.OFFLINE_AFTER_SECONDS)
    gone = await Seat.update({Seat.presence: states.OFFLINE}).where(
        (Seat.presence != states.OFFLINE) & (Seat.last_seen < silent)).returning(Seat.organisation, Seat.user)
    long_gone = moment - datetime.timedelta(seconds=states.REASSIGN_AFTER_SECONDS)
    stranded = await Conversation.select(Conversation.id, Conversation.provider, Conversation.agent).where(
        (Conversation.status == states.ASSIGNED) & (Conversation.kind == states.SHOP)
        & Conversation.agent.is_in(Seat.select(Seat.user).where(
            (Seat.presence == states.OFFLINE) & (Seat.last_seen < long_gone)))).limit(500)
    requeued = 0
    for row in stranded:
        async with atomic():
            moved = await Conversation.update({Conversation.status: states.QUEUED, Conversation.agent: None,
                                               Conversation.queued_at: moment}).where(
                (Conversation.id == row["id"]) & (Conversation.status == states.ASSIGNED)
                & (Conversation.agent == row["agent"])).returning(Conversation.id)
            if moved:
                await fetch(sql.RELEASE_SEAT, row["provider"], row["agent"])
                requeued += 1
        if moved:
            await conversations.route(row["id"])
    return {"offline": len(gone), "requeued": requeued}
