"""Conversations and messages: storing, routing, closing, rating (DESIGN.md section 5).

Delivery rules kept here:
- A message is stored with its per-conversation `seq` (taken by a conditional update
  of the conversation row, in the storing transaction) before it is acknowledged or
  fanned out; fan-out happens after commit.
- A unique (conversation, client id): a resend returns the stored message and its seq,
  never an error.
- Every message, open, close, automatic notice and rating appends its event to the SLA
  service-event log (sla.services.events) in the same transaction, with server time.
- Routing: a new conversation goes to an online agent with free capacity, least
  loaded first, by a conditional update of the agent's seat in the assigning
  transaction (exact across processes); with none it waits in the queue, and the
  buyer gets an automatic notice with their place. Queued conversations are assigned
  the moment capacity appears (an agent comes online, a conversation closes).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
import weakref
from collections import deque
from dataclasses import dataclass, field

from chat import sql, states
from chat.errors import ChatError
from chat.layer import publish, publish_many
from chat.tables import Conversation
from fuwu import i18n
from fuwu.clock import now
from fuwu.db import after_commit, atomic, fetch, fetchrow, is_postgres, is_unique_violation
from fuwu.errors import Conflict, Forbidden, FuwuError, InvalidInput, not_found
from fuwu.i18n import N_
from sla import states as sla_states
from sla.services import contracts
from sla.calendar import to_us
from sla.services.events import append_event, append_events, event_values

log = logging.getLogger("fuwu.chat.conversations")
MAX_CLIENT_ID = 100
SEAT_TRIES = 100  # at most, waiting for a seat that concurrent assignments hold


@dataclass(frozen=True)
class Participant:
    """Who is on a socket or calling: a shop's buyer (by visitor id), or a signed-in
    person with their organisations and roles."""

    user_id: uuid.UUID | None = None
    display_name: str = ""
    organisations: dict = field(default_factory=dict)  # organisation id -> role
    shop: uuid.UUID | None = None  # a buyer's shop
    buyer: str | None = None

    @property
    def is_buyer(self) -> bool:
        return self.buyer is not None

    def key(self) -> str:
        return f"buyer:{self.shop}:{self.buyer}" if self.is_buyer else f"user:{self.user_id}"


CONVERSATION_COLUMNS = (
    Conversation.id, Conversation.kind, Conversation.shop.as_alias("shop_id"),
    Conversation.shop.name.as_alias("shop_name"), Conversation.provider.as_alias("provider_id"),
    Conversation.contract.as_alias("contract_id"), Conversation.buyer, Conversation.agent.as_alias("agent_id"),
    Conversation.agent.display_name.as_alias("agent_name"), Conversation.status, Conversation.seq,
    Conversation.epoch, Conversation.buyer_read, Conversation.agent_read, Conversation.opened_at,
    Conversation.queued_at, Conversation.assigned_at, Conversation.closed_at, Conversation.rating,
    Conversation.rating_comment, Conversation.tender.as_alias("tender_id"),
    Conversation.tender.title.as_alias("tender_title"), Conversation.provider.name.as_alias("provider_name"),
)


async def read(conversation_id: uuid.UUID) -> dict | None:
    return await Conversation.select(*CONVERSATION_COLUMNS).where(Conversation.id == conversation_id).first()


def can_view(participant: Participant, conversation: dict) -> bool:
    if participant.is_buyer:
        return (conversation["kind"] == states.SHOP and conversation["shop_id"] == participant.shop
                and conversation["buyer"] == participant.buyer)
    return conversation["provider_id"] in participant.organisations or conversation["shop_id"] in participant.organisations


def serves(participant: Participant, conversation: dict) -> bool:
    """A member of the organisation that serves the conversation (the contracted
    provider, or the merchant itself without a contract)."""
    return not participant.is_buyer and conversation["provider_id"] in participant.organisations


async def visible(participant: Participant, conversation_id: uuid.UUID) -> dict:
    conversation = await read(conversation_id)
    if conversation is None or not can_view(participant, conversation):
        raise not_found("Conversation")
    return conversation


def sender_kind(participant: Participant, conversation: dict) -> str:
    if participant.is_buyer:
        return states.BUYER
    if conversation["kind"] == states.BUSINESS:
        return states.MERCHANT if conversation["shop_id"] in participant.organisations else states.PROVIDER
    if conversation["kind"] == states.SHOP and serves(participant, conversation):
        return states.AGENT
    return states.MEMBER


def frame(message: dict, conversation: dict | None = None, epoch: int = 1) -> dict:
    """A stored message as the protocol sends it."""
    return {
        "type": "message", "conversation": str(message["conversation"]), "seq": int(message["seq"]),
        "epoch": epoch, "id": str(message["id"]), "client_id": message["client_key"].split(":", 1)[1],
        "sender": message["sender_kind"], "sender_id": str(message["sender"]) if message.get("sender") else None,
        "text": message["text"], "at": message["at"].isoformat() if hasattr(message["at"], "isoformat")
        else str(message["at"]),
    }


def _group(conversation_id) -> str:
    return f"chat.conv.{conversation_id}"


def user_group(user_id) -> str:
    return f"chat.user.{user_id}"


def org_group(org_id) -> str:
    return f"chat.org.{org_id}"


def sla_group(contract_id) -> str:
    """The sockets watching a contract's live SLA panel (its page sent `watch_sla`)."""
    return f"chat.sla.{contract_id}"


SLA_PUSH_SECONDS = 1.0  # a contract's `sla` frames: at most one a second per process, the last change never lost
_sla_pushes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


def _tell_sla(row: dict) -> None:
    """After commit, the `sla` frame to the sockets watching the conversation's
    contract: a reply, close or rating moved its live figures (pushed, not polled).
    Under load a contract's agents reply many times a second, and one frame makes each
    watching page fetch its panel: the first change is told at once, those within the
    next second once at its end."""
    contract = row.get("contract", row.get("contract_id"))
    if contract is None:
        return

    async def tell() -> None:
        _push_sla(str(contract))

    after_commit(tell)


_tasks: set = set()


def _spawn(coroutine) -> None:
    task = asyncio.get_running_loop().create_task(coroutine)
    _tasks.add(task)  # held until done (the loop keeps only weak references)
    task.add_done_callback(_tasks.discard)


def _push_sla(contract: str) -> None:
    loop = asyncio.get_running_loop()
    state = _sla_pushes.setdefault(loop, {})
    last, pending = state.get(contract, (float("-inf"), False))
    moment = loop.time()
    if pending:
        return
    if moment - last >= SLA_PUSH_SECONDS:
        state[contract] = (moment, False)
        _spawn(publish(sla_group(contract), {"type": "sla", "contract": contract}))
        return

    def trailing() -> None:
        state[contract] = (loop.time(), False)
        _spawn(publish(sla_group(contract), {"type": "sla", "contract": contract}))

    state[contract] = (last, True)
    loop.call_later(last + SLA_PUSH_SECONDS - moment, trailing)


def _check_text(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(ChatError.EMPTY, N_("Write a message first."))
    if len(text) > states.MAX_TEXT:
        raise InvalidInput(ChatError.TOO_LONG, N_("A message holds at most {limit} characters."),
                           params={"limit": states.MAX_TEXT})
    if "\x00" in text:
        raise InvalidInput(ChatError.MALFORMED, N_("Text must not contain NUL characters."))
    return text


def _check_client_id(client_id) -> str:
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID or "\x00" in client_id:
        raise InvalidInput(ChatError.MALFORMED, N_("Each message needs a client id of 1 to {limit} characters."),
                           params={"limit": MAX_CLIENT_ID})
    return client_id


def _sla_values(conversation: dict, kind: str, **fields) -> dict | None:
    """The matching SLA event's values for `append_events` (None for a conversation
    that is not measured: see `_sla_event`)."""
    if conversation["kind"] != states.SHOP:
        return None
    return event_values(kind, shop=conversation["shop"] if "shop" in conversation else conversation["shop_id"],
                        contract=conversation.get("contract") if "contract" in conversation
                        else conversation.get("contract_id"), conversation=str(conversation["id"]), **fields)


async def _sla_event(conversation: dict, kind: str, **fields) -> None:
    """The matching SLA event, in the caller's transaction. Only shop conversations
    are measured; a contract's clock is the contract's (None without one: the shop's
    own service, counted toward no contract)."""
    if conversation["kind"] != states.SHOP:
        return
    await append_event(kind, shop=conversation["shop"] if "shop" in conversation else conversation["shop_id"],
                       contract=conversation.get("contract") if "contract" in conversation
                       else conversation.get("contract_id"),
                       conversation=str(conversation["id"]), **fields)


async def _store(conversation_id: uuid.UUID, kind: str | None, sender: uuid.UUID | None, client_id: str, text: str,
                 check=None, kind_of=None) -> tuple[dict, dict]:
    """Inside a transaction: the next seq and the message at it. `check(row)` may refuse
    before anything is written (the transaction rolls the position back); `kind_of()`
    gives the sender's kind once checked. Returns (message, conversation row)."""
    row = await fetchrow(sql.NEXT_SEQ, conversation_id)
    if row is None:
        raise not_found("Conversation")
    row["id"] = conversation_id
    if check is not None:
        check(row)
    if kind_of is not None:
        kind = kind_of()
    moment = now()
    message = {"id": uuid.uuid4(), "conversation": conversation_id, "seq": int(row["seq"]),
               "client_key": f"{conversation_id}:{client_id}", "sender_kind": kind, "sender": sender, "text": text,
               "at": moment}
    await fetch(sql.INSERT_MESSAGE, message["id"], conversation_id, message["seq"],
                f"{conversation_id}:{message['seq']}", message["client_key"], kind, sender, text, moment)
    return message, row


def _fan_out(message: dict, epoch: int) -> None:
    payload = frame(message, epoch=epoch)

    async def send() -> None:
        await publish(_group(message["conversation"]), payload)

    after_commit(send)


async def notice(conversation_id: uuid.UUID, text: str, params: dict | None = None) -> dict:
    """An automatic notice in the conversation (a system message; never a reply). The
    text is an English message id, stored in English, shown translated by the views."""
    async with atomic():
        message, row = await _store(conversation_id, states.SYSTEM, None, f"system-{uuid.uuid4()}",
                                    i18n.translate_format(text, params or {}) if params else text)
        await _sla_event(row, sla_states.NOTICE)
        _fan_out(message, int(row["epoch"]))
    return message


async def post(participant: Participant, conversation_id: uuid.UUID, client_id: str, text: str) -> tuple[dict, bool]:
    """Stores a message from a buyer or a member, idempotent by its client id: a
    resend returns the stored message (and False). A buyer's message to a closed
    conversation reopens it (routed again, never to an offline agent). Appends the
    SLA event (buyer message; agent reply from the serving provider's members) in the
    same transaction, fans out after commit.

    Group commit: the messages a process receives while its previous batch is being
    stored go to the database together, in one transaction and one flush of the log
    (on PostgreSQL one statement, sql.STORE_BATCH_POSTGRES, is the whole batch with
    its SLA events; on SQLite one IMMEDIATE transaction). Each is acknowledged (this
    returns) only after that commit, and fanned out after it, the batch's frames in
    one round trip. A message the sender may not write is left out of the batch and
    answered alone; a batch that fails whole (a resend's unique client key) is rolled
    back and its messages are stored one by one, each with its own answer."""
    client_id, text = _check_client_id(client_id), _check_text(text)
    item = _Post(participant, conversation_id, client_id, text)
    if _in_transaction():  # inside the caller's transaction: stored in it, not batched
        return await _post_alone(item)
    return await _group_commit().submit(item)


@dataclass
class _Post:
    participant: Participant
    conversation_id: uuid.UUID
    client_id: str
    text: str
    message: dict | None = None
    row: dict | None = None
    kind: str | None = None
    reopened: bool = False
    event: dict | None = None
    fanout: tuple | None = None


MAX_BATCH = 200  # messages one transaction stores at most


def _in_transaction() -> bool:
    from fuwu import db

    return db._after_commit.get() is not None


class _GroupCommit:
    """One per event loop: a queue of messages to store and the task that stores them
    a batch at a time (a batch is whatever arrived while the previous one was being
    stored, so at a low rate each message is alone and waits for nothing)."""

    def __init__(self) -> None:
        self.queue: deque[tuple[_Post, asyncio.Future]] = deque()
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.fallbacks = 0  # batches rolled back and stored one by one

    async def submit(self, item: _Post) -> tuple[dict, bool]:
        future = asyncio.get_running_loop().create_future()
        self.queue.append((item, future))
        self.wakeup.set()
        if self.task is None or self.task.done():
            # A fresh context: the caller's transaction and callbacks stay the caller's.
            self.task = asyncio.get_running_loop().create_task(self.run(), context=contextvars.Context())
        return await future

    async def run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            await asyncio.sleep(0)  # frames already read by other sockets join this batch
            while self.queue:
                batch = [self.queue.popleft() for _ in range(min(MAX_BATCH, len(self.queue)))]
                try:
                    await self.store(batch)
                except Exception as exc:  # noqa: BLE001: the writer goes on; its senders get the error
                    log.exception("storing a batch of %d messages failed", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)

    async def store(self, batch: list[tuple[_Post, asyncio.Future]]) -> None:
        try:
            if is_postgres():  # one statement, its own transaction
                await _store_batch_postgres([item for item, _ in batch])
            else:
                async with atomic():
                    for item, _ in batch:
                        await _store_post(item)
                    await append_events([item.event for item, _ in batch if item.event is not None])
        except Exception as exc:  # noqa: BLE001: every message is stored again alone, with its own answer
            if len(batch) == 1 and isinstance(exc, FuwuError):  # alone already: its own answer
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            self.fallbacks += 1
            log.info("a batch of %d messages is stored one by one (%s)", len(batch), type(exc).__name__)
            for item, future in batch:
                item.message = item.row = item.kind = item.event = item.fanout = None
                item.reopened = False
                await _answer_alone(item, future)
            return
        # Committed: acknowledged, then fanned out in one round trip, in order.
        for item, future in batch:
            if item.message is not None and not item.reopened and not future.done():
                future.set_result((item.message, True))
        await publish_many([item.fanout for item, _ in batch if item.fanout is not None])
        for item, future in batch:
            if item.message is None:  # refused by the batch's statement: alone, for its own answer
                await _answer_alone(item, future)
                continue
            if item.reopened:
                try:
                    await route(item.conversation_id)
                except Exception:  # noqa: BLE001: stored and acknowledged; the queue sweep assigns it
                    log.exception("routing reopened conversation %s failed", item.conversation_id)
                if not future.done():
                    future.set_result((item.message, True))


async def _answer_alone(item: _Post, future: asyncio.Future) -> None:
    """Stores a message of a batch on its own, in its own transaction, and hands its
    sender the result or the refusal."""
    try:
        result = await _post_alone(item)
    except Exception as alone:  # noqa: BLE001: handed to the sender
        if not future.done():
            future.set_exception(alone)
    else:
        if not future.done():
            future.set_result(result)


_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _GroupCommit]" = weakref.WeakKeyDictionary()


def _group_commit() -> _GroupCommit:
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = _GroupCommit()
    return writer


async def _store_post(item: _Post) -> None:
    """Inside the batch's transaction: the message at the conversation's next position
    (refused, which rolls back, if the sender may not write there), its SLA event
    (collected for the batch), the reopening of a closed conversation by its buyer,
    and the fan-out after commit."""
    participant, conversation_id = item.participant, item.conversation_id
    moment = now()
    message_id = uuid.uuid4()
    key = f"{conversation_id}:{item.client_id}"
    if is_postgres():
        row = await fetchrow(sql.STORE_MESSAGE_POSTGRES, conversation_id, message_id, key,
                             states.BUYER if participant.is_buyer else None,
                             [] if participant.is_buyer else list(participant.organisations),
                             participant.user_id, item.text, moment)
        if row is None:
            raise not_found("Conversation")
        seen = {"kind": row["kind"], "shop_id": row["shop"], "provider_id": row["provider"], "buyer": row["buyer"]}
        if not can_view(participant, seen):
            raise not_found("Conversation")
        if row["sender_kind"] != sender_kind(participant, seen):  # the statement's CASE mirrors sender_kind
            raise RuntimeError("the stored sender kind differs from conversations.sender_kind")
        row["id"] = conversation_id
        kind = row["sender_kind"]
        message = {"id": message_id, "conversation": conversation_id, "seq": int(row["seq"]), "client_key": key,
                   "sender_kind": kind, "sender": participant.user_id, "text": item.text, "at": moment}
    else:
        kind = None

        def check(found: dict) -> None:
            nonlocal kind
            seen = {"kind": found["kind"], "shop_id": found["shop"], "provider_id": found["provider"],
                    "buyer": found["buyer"]}
            if not can_view(participant, seen):
                raise not_found("Conversation")
            kind = sender_kind(participant, seen)

        message, row = await _store(conversation_id, None, participant.user_id, item.client_id, item.text,
                                    check=check, kind_of=lambda: kind)
    await _stored(item, message, row, kind)


async def _store_batch_postgres(items: list[_Post]) -> None:
    """On PostgreSQL, a batch's messages that their senders may write, with their SLA
    events, stored by one statement that is its own transaction (sql.STORE_BATCH_POSTGRES).
    Each stored one gets its `message` and `fanout`; a message left without them was
    refused (another's conversation, or none) and changed nothing."""
    moment = now()
    message_ids = [uuid.uuid4() for _ in items]
    keys = [f"{item.conversation_id}:{item.client_id}" for item in items]
    rows = await fetch(sql.STORE_BATCH_POSTGRES, [item.conversation_id for item in items], message_ids, keys,
                       [item.participant.shop for item in items], [item.participant.buyer for item in items],
                       [None if item.participant.is_buyer else ",".join(str(o) for o in item.participant.organisations)
                        for item in items],
                       [item.participant.user_id for item in items], [item.text for item in items],
                       [moment] * len(items), [to_us(moment)] * len(items))
    reopened: set = set()
    for row in rows:
        index = int(row["n"]) - 1
        item = items[index]
        participant = item.participant
        seen = {"kind": row["kind"], "shop_id": row["shop"], "provider_id": row["provider"], "buyer": row["buyer"]}
        if not can_view(participant, seen) or row["sender_kind"] != sender_kind(participant, seen):
            # The statement's conditions mirror can_view and sender_kind: a difference is a bug to fix there.
            log.error("chat.sql.STORE_BATCH_POSTGRES disagrees with can_view/sender_kind for %s", seen)
        row["id"] = item.conversation_id
        item.row, item.kind = row, row["sender_kind"]
        item.message = {"id": message_ids[index], "conversation": item.conversation_id, "seq": int(row["seq"]),
                        "client_key": keys[index], "sender_kind": item.kind, "sender": participant.user_id,
                        "text": item.text, "at": moment}
        item.fanout = (_group(item.conversation_id), frame(item.message, epoch=int(row["epoch"])))
        if item.kind == states.AGENT:
            _tell_sla(row)
        elif item.kind == states.BUYER and row["was"] == states.CLOSED and item.conversation_id not in reopened:
            reopened.add(item.conversation_id)
            item.reopened = True


async def _stored(item: _Post, message: dict, row: dict, kind: str) -> None:
    """A message stored (in the open transaction): its SLA event for the batch, the
    reopening of a closed conversation by its buyer, the fan-out after commit."""
    participant, conversation_id = item.participant, item.conversation_id
    item.message, item.row, item.kind = message, row, kind
    if kind == states.BUYER:
        item.event = _sla_values(row, sla_states.BUYER_MESSAGE, buyer=participant.buyer, at=message["at"])
        if row["status"] == states.CLOSED:
            await Conversation.update({Conversation.status: states.QUEUED, Conversation.queued_at: now(),
                                       Conversation.agent: None}).where(Conversation.id == conversation_id)
            item.reopened = True
    elif kind == states.AGENT:
        item.event = _sla_values(row, sla_states.AGENT_REPLY, agent=str(participant.user_id), at=message["at"])
        _tell_sla(row)
    # Fanned out by the caller once committed: a batch's frames in one round trip (layer.publish_many).
    item.fanout = (_group(conversation_id), frame(message, epoch=int(row["epoch"])))


async def _post_alone(item: _Post) -> tuple[dict, bool]:
    """One message in a transaction of its own (a batch that failed, or a caller's
    transaction). A resend meets the unique client key and gets the stored message."""
    key = f"{item.conversation_id}:{item.client_id}"
    try:
        async with atomic():
            await _store_post(item)
            if item.event is not None:
                await append_events([item.event])
    except Exception as exc:
        if is_unique_violation(exc):  # the same client id: a resend, or stored meanwhile by a concurrent one
            existing = await fetchrow(sql.MESSAGE_BY_CLIENT_KEY, key)
            if existing is not None:
                return existing, False
        raise
    if item.fanout is not None:
        await publish(*item.fanout)
    if item.reopened:  # routed again like a new one (never to an offline agent)
        await route(item.conversation_id)
    return item.message, True


async def messages_after(participant: Participant, conversation_id: uuid.UUID, after_seq: int,
                         limit: int = states.REPLAY_CAP) -> tuple[list[dict], dict]:
    """The messages after a position (a resume), at most `limit`; the caller answers
    with an explicit reset when there are more."""
    conversation = await visible(participant, conversation_id)
    rows = await fetch(sql.MESSAGES_AFTER, conversation_id, max(0, int(after_seq)), limit + 1)
    return rows, conversation


async def missed(conversation_id: uuid.UUID, after_seq: int, before_seq: int) -> list[dict]:
    """The stored messages strictly between two positions, in order: a hole a
    subscribed view found in the fast path (its access was checked when it subscribed,
    and a conversation's parties never change), in one statement."""
    return await fetch(sql.MESSAGES_AFTER, conversation_id, max(0, int(after_seq)),
                       max(0, int(before_seq) - int(after_seq) - 1))


async def messages_before(participant: Participant, conversation_id: uuid.UUID, before_seq: int | None,
                          limit: int = 50) -> tuple[list[dict], int | None]:
    """A page of history, older first within the page, and the cursor for the one
    before it (None at the start)."""
    await visible(participant, conversation_id)
    before = int(before_seq) if before_seq is not None else 2**62
    rows = await fetch(sql.MESSAGES_BEFORE, conversation_id, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return rows, (int(rows[0]["seq"]) if more and rows else None)


# --- opening and routing -----------------------------------------------------------------


async def open_for_buyer(shop_id: uuid.UUID, buyer: str) -> dict:
    """The buyer's open conversation with the shop, or a new one: served by the
    provider holding the shop's active customer-service contract (else by the
    merchant's own members), routed at once or queued with a notice."""
    existing = await Conversation.select(Conversation.id).where(
        (Conversation.shop == shop_id) & (Conversation.buyer == buyer) & (Conversation.kind == states.SHOP)
        & (Conversation.status != states.CLOSED)).order_by(Conversation.opened_at, ascending=False).first()
    if existing is not None:
        return await read(existing["id"])
    contract = await contracts.serving_contract(shop_id)
    moment = now()
    async with atomic():
        row = Conversation(kind=states.SHOP, shop=shop_id, provider=contract["provider_id"] if contract else shop_id,
                           contract=contract["id"] if contract else None, buyer=buyer, status=states.QUEUED,
                           opened_at=moment, queued_at=moment)
        await row.save()
        await append_event(sla_states.CONVERSATION_OPENED, shop=shop_id, contract=contract["id"] if contract else None,
                           conversation=str(row.id), buyer=buyer, at=moment)
    await route(row.id)
    return await read(row.id)


async def _take_seat(org_id: uuid.UUID) -> uuid.UUID | None:
    """A seat with room, taken in the caller's transaction. On PostgreSQL a seat that a
    concurrent assignment holds is skipped; when all are held while some still has
    room, it waits for one instead of queueing with capacity free (each failed try
    means a concurrent assignment took the last place of that seat, so the tries are
    bounded by the free places)."""
    if not is_postgres():
        row = await fetchrow(sql.TAKE_SEAT_SQLITE, org_id, now())
        return row["user"] if row else None
    row = await fetchrow(sql.TAKE_SEAT_POSTGRES, org_id, now())
    for _ in range(SEAT_TRIES):
        if row is not None or await fetchrow(sql.FREE_SEAT, org_id) is None:
            break
        row = await fetchrow(sql.TAKE_SEAT_WAIT_POSTGRES, org_id, now())
    return row["user"] if row else None


async def route(conversation_id: uuid.UUID) -> uuid.UUID | None:
    """Assigns a queued conversation to a free agent of the organisation that serves
    it, or tells the buyer their place in the queue. Returns the agent."""
    async with atomic():
        conversation = await Conversation.select(Conversation.id, Conversation.provider, Conversation.status,
                                                 Conversation.queued_at, Conversation.kind).where(
            Conversation.id == conversation_id).first()
        if conversation is None or conversation["status"] != states.QUEUED:
            return None
        agent = await _take_seat(conversation["provider"])
        if agent is not None:
            await _assign(conversation_id, conversation["provider"], agent)
            return agent
        place = await fetchrow(sql.QUEUE_PLACE, conversation["provider"], conversation["queued_at"], conversation_id)
    await notice(conversation_id, N_("All our agents are busy. You are number {place} in the queue; "
                                     "we answer as soon as one is free."), {"place": int(place["n"])})
    _announce_queue(conversation["provider"])
    return None


async def _assign(conversation_id: uuid.UUID, org_id: uuid.UUID, agent: uuid.UUID) -> None:
    await Conversation.update({Conversation.status: states.ASSIGNED, Conversation.agent: agent,
                               Conversation.assigned_at: now()}).where(
        (Conversation.id == conversation_id) & (Conversation.status == states.QUEUED))

    async def tell() -> None:
        await publish(user_group(agent), {"type": "assigned", "conversation": str(conversation_id)})
        await publish(org_group(org_id), {"type": "queue", "organisation": str(org_id)})

    after_commit(tell)


def _announce_queue(org_id: uuid.UUID) -> None:
    async def tell() -> None:
        await publish(org_group(org_id), {"type": "queue", "organisation": str(org_id)})

    after_commit(tell)


async def fill_capacity(org_id: uuid.UUID, most: int = 50) -> int:
    """Assigns the organisation's queued conversations, oldest first, while an online
    agent has free capacity (an agent came online, a conversation closed). Each in
    its own short transaction; returns how many were assigned."""
    statement = sql.OLDEST_QUEUED_POSTGRES if is_postgres() else sql.OLDEST_QUEUED_SQLITE
    assigned = 0
    for _ in range(most):
        async with atomic():
            oldest = await fetchrow(statement, org_id)
            if oldest is None:
                break
            agent = await _take_seat(org_id)
            if agent is None:
                break
            await _assign(oldest["id"], org_id, agent)
        assigned += 1
    return assigned


# --- closing, rating, transfer, reading --------------------------------------------------


def _not_business(conversation: dict) -> None:
    """A business conversation (merchant and provider) is nobody's service: it has no
    agent to transfer it and stays open as long as its tender or contract."""
    if conversation["kind"] == states.BUSINESS:
        raise Conflict(ChatError.BUSINESS, N_("A conversation between a merchant and a provider is not "
                                              "closed or transferred: it stays open for both."))


def reader_side(participant: Participant, conversation: dict) -> str:
    """Who a read receipt is from: the buyer or the serving agents in a shop
    conversation; the merchant or the provider in a business one (stored as the
    buyer's and the agents' read positions)."""
    if conversation["kind"] == states.BUSINESS:
        return "merchant" if conversation["shop_id"] in participant.organisations else "provider"
    return "buyer" if participant.is_buyer else "agent"


async def close(participant: Participant, conversation_id: uuid.UUID) -> dict:
    """A member of the serving organisation closes the conversation: the agent's place
    is freed (and given to the oldest queued conversation), the buyer is asked for a
    1-5 rating. Appends `conversation_closed`."""
    conversation = await visible(participant, conversation_id)
    _not_business(conversation)
    if not serves(participant, conversation) and conversation["shop_id"] not in participant.organisations:
        raise Forbidden("role_not_allowed", N_("Only the agents serving this conversation close it."))
    async with atomic():
        moved = await Conversation.update({Conversation.status: states.CLOSED, Conversation.closed_at: now()}).where(
            (Conversation.id == conversation_id) & (Conversation.status != states.CLOSED)).returning(Conversation.id)
        if not moved:
            raise Conflict(ChatError.CLOSED, N_("This conversation is already closed."))
        if conversation["agent_id"] is not None:
            await fetch(sql.RELEASE_SEAT, conversation["provider_id"], conversation["agent_id"])
        row = {"id": conversation_id, "kind": conversation["kind"], "shop": conversation["shop_id"],
               "contract": conversation["contract_id"]}
        await _sla_event(row, sla_states.CONVERSATION_CLOSED)
        _tell_sla({**row, "provider": conversation["provider_id"]})

        async def tell() -> None:
            await publish(_group(conversation_id), {"type": "closed", "conversation": str(conversation_id),
                                                    "rate": conversation["kind"] == states.SHOP})

        after_commit(tell)
    if conversation["kind"] == states.SHOP:
        await notice(conversation_id, N_("This conversation is closed. How did we do? Rate us from 1 to 5."))
    await fill_capacity(conversation["provider_id"])
    return await read(conversation_id)


async def rate(participant: Participant, conversation_id: uuid.UUID, rating, comment: str = "") -> dict:
    """The buyer rates a closed conversation once, 1-5 with an optional comment.
    Appends `chat_rated`."""
    if not participant.is_buyer:
        raise Forbidden("role_not_allowed", N_("Only the buyer rates the conversation."))
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidInput(ChatError.RATING, N_("Rate from 1 to 5."))
    comment = (comment or "").strip()[:1000]
    conversation = await visible(participant, conversation_id)
    async with atomic():
        moved = await Conversation.update({Conversation.rating: rating, Conversation.rating_comment: comment}).where(
            (Conversation.id == conversation_id) & (Conversation.status == states.CLOSED)
            & Conversation.rating.is_null()).returning(Conversation.id)
        if not moved:
            raise Conflict(ChatError.RATED, N_("Rate a conversation once, after it is closed."))
        await _sla_event({"id": conversation_id, "kind": conversation["kind"], "shop": conversation["shop_id"],
                          "contract": conversation["contract_id"]}, sla_states.CHAT_RATED, rating=rating)
        _tell_sla(conversation)
    return await read(conversation_id)


async def transfer(participant: Participant, conversation_id: uuid.UUID, to_user: uuid.UUID) -> dict:
    """An agent hands the conversation to a colleague of the serving organisation who
    is online or away with free capacity (exact, as routing)."""
    conversation = await visible(participant, conversation_id)
    _not_business(conversation)
    if not serves(participant, conversation) or conversation["status"] != states.ASSIGNED:
        raise Forbidden("role_not_allowed", N_("Only the agents serving an open conversation transfer it."))
    if to_user == conversation["agent_id"]:
        return conversation
    async with atomic():
        taken = await fetchrow(sql.TAKE_AGENT_SEAT, conversation["provider_id"], now(), to_user)
        if taken is None:
            raise Conflict(ChatError.NO_CAPACITY, N_("That colleague is offline or has no free capacity."))
        if conversation["agent_id"] is not None:
            await fetch(sql.RELEASE_SEAT, conversation["provider_id"], conversation["agent_id"])
        await Conversation.update({Conversation.agent: to_user}).where(Conversation.id == conversation_id)

        async def tell() -> None:
            await publish(user_group(to_user), {"type": "assigned", "conversation": str(conversation_id)})

        after_commit(tell)
    await fill_capacity(conversation["provider_id"])
    return await read(conversation_id)


async def mark_read(participant: Participant, conversation_id: uuid.UUID, seq: int) -> None:
    """A read receipt: the reader has seen up to `seq` (never moves back)."""
    conversation = await visible(participant, conversation_id)
    seq = min(int(seq), int(conversation["seq"]))
    reader = reader_side(participant, conversation)
    column = Conversation.buyer_read if reader in ("buyer", "merchant") else Conversation.agent_read
    await Conversation.update({column: seq}).where((Conversation.id == conversation_id) & (column < seq))
    await publish(_group(conversation_id), {"type": "read", "conversation": str(conversation_id),
                                            "reader": reader, "seq": seq})


POSITIONS_WINDOW = 0.05  # seconds the heartbeats of one process wait to share one read of the positions
POSITIONS_MOST = 2000  # conversations one read asks for at most
_position_reads: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


async def positions(conversation_ids: list[uuid.UUID]) -> dict[str, int]:
    """Each conversation's last seq, for heartbeats (views notice gaps while idle).
    Every socket sends one every 20 s (100 reads a second for 2,000 sockets): the
    heartbeats of a process within POSITIONS_WINDOW share one read."""
    if not conversation_ids:
        return {}
    loop = asyncio.get_running_loop()
    pending = _position_reads.get(loop)
    if pending is None or pending["started"] or len(pending["ids"]) + len(conversation_ids) > POSITIONS_MOST:
        pending = {"ids": set(), "future": loop.create_future(), "started": False}
        _position_reads[loop] = pending
        _spawn(_read_positions(loop, pending))
    pending["ids"].update(conversation_ids)
    found = await asyncio.shield(pending["future"])
    return {str(key): found[str(key)] for key in conversation_ids if str(key) in found}


async def _read_positions(loop, pending: dict) -> None:
    await asyncio.sleep(POSITIONS_WINDOW)
    pending["started"] = True
    if _position_reads.get(loop) is pending:
        del _position_reads[loop]
    try:
        rows = await Conversation.select(Conversation.id, Conversation.seq).where(
            Conversation.id.is_in(list(pending["ids"])))
    except Exception as exc:  # noqa: BLE001: every waiting heartbeat gets the error
        pending["future"].set_exception(exc)
        return
    pending["future"].set_result({str(row["id"]): int(row["seq"]) for row in rows})


async def list_for(member, *, status: str | None, mine_only_for: uuid.UUID | None, buyer: str | None,
                   cursor: str | None, limit: int):
    """The organisation's conversations, newest first: a merchant's shop conversations,
    or those a provider serves (with `mine_only_for`, one agent's). Filters by status
    and buyer. Each with its unread count for the serving side."""
    from fuwu.pagination import paginate

    if status is not None and status not in states.CONVERSATION_STATUSES:
        raise InvalidInput(ChatError.MALFORMED, N_("Unknown conversation status {status}."),
                           params={"status": str(status)[:20]})
    query = Conversation.select(*CONVERSATION_COLUMNS).where(
        (Conversation.shop == member.organisation_id) | (Conversation.provider == member.organisation_id))
    if status:
        query = query.where(Conversation.status == status)
    if mine_only_for is not None:
        query = query.where(Conversation.agent == mine_only_for)
    if buyer:
        query = query.where(Conversation.buyer == buyer)
    page = await paginate(query, Conversation.opened_at, Conversation.id, cursor, limit)
    for row in page.items:
        row["unread"] = unread(row, member.organisation_id)
    return page


def unread(row: dict, organisation_id) -> int:
    """Messages the organisation's side has not read: the serving side's in a shop
    conversation, its own party's in a business one."""
    read_up_to = row["buyer_read"] if row["kind"] == states.BUSINESS and row["shop_id"] == organisation_id \
        else row["agent_read"]
    return max(0, int(row["seq"]) - int(read_up_to))


def participant_for(viewer, member) -> Participant:
    """A signed-in member acting for one organisation through the API or a page."""
    return Participant(user_id=viewer.user_id, display_name=viewer.display_name,
                       organisations={member.organisation_id: member.role})
