"""The chat WebSocket endpoint, `/ws/chat` (frames in chat/PROTOCOL.md).

One `ChatSocket` per connection, with three tasks: the reader (the client's frames),
the pump (the channel layer's frames for this socket's groups) and the writer (an
outbox bounded at SOCKET_BUFFER frames: a socket that falls that far behind is
closed with the resync code and the event logged, never silently dropped). The pump
delivers each conversation's messages in `seq` order and never twice: a frame at or
below the last seq sent is dropped, and a gap is filled from the database first.
A subscription joins the conversation's group first, then replays from the database
under the same lock, so frames arriving meanwhile are merged by seq (the
subscribe-then-fetch race is closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from chat import states, visitors
from chat.errors import ChatError
from chat.layer import Overflowed, layer
from chat.services import business, conversations, presence
from chat.services.conversations import Participant
from fuwu import i18n
from fuwu.errors import FuwuError, NotFound, not_found
from fuwu.services import accounts
from sla.services import contracts

log = logging.getLogger("fuwu.chat.socket")
# Frames are encoded and decoded with msgspec (several times faster than json, the
# same JSON: UTF-8 text, no ASCII escapes); a decode error is a ValueError.
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
MAX_FRAME_BYTES = 32 * 1024
MAX_MALFORMED = 10


async def participant_of(socket: WebSocket) -> Participant | None:
    """A buyer by the visitor token in the query, else the signed-in person (session
    cookie, from the page's own origin only, or an API token)."""
    token = socket.query_params.get("visitor_token")
    if token:
        found = visitors.verify(token)
        if found is None:
            return None
        shop, visitor = found
        return Participant(shop=shop, buyer=visitor)
    viewer = socket.scope.get("user")
    if viewer is None:
        return None
    if not socket.scope.get("fuwu_bearer"):
        # A cookie rides along on any site's socket: only the site's own pages may use it.
        origin = socket.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != socket.headers.get("host"):
            return None
    memberships = await accounts.memberships_of(viewer.user_id)
    return Participant(user_id=viewer.user_id, display_name=viewer.display_name,
                       organisations={m["organisation"]["id"]: m["role"] for m in memberships})


class ChatSocket:
    def __init__(self, socket: WebSocket, participant: Participant) -> None:
        self.socket = socket
        self.participant = participant
        self.channel: str | None = None
        self.groups: set[str] = set()
        self.last_sent: dict[str, int] = {}
        self.epochs: dict[str, int] = {}
        self.sides: dict[str, str] = {}  # who this socket is in each subscribed conversation (typing, read)
        self.lock = asyncio.Lock()
        self.outbox: asyncio.Queue = asyncio.Queue(states.SOCKET_BUFFER)
        self.closing: tuple[int, str] | None = None
        self.tokens = float(states.RATE_BURST)
        self.refilled = time.monotonic()
        self.refused = 0
        self.malformed = 0

    # --- output ------------------------------------------------------------------------

    def emit(self, frame: dict) -> None:
        if self.closing is not None:
            return
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("chat socket of %s fell %d frames behind: closed to resync", self.participant.key(),
                        states.SOCKET_BUFFER)
            self.close_with(states.CLOSE_RESYNC, "resync")

    def close_with(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            with contextlib.suppress(asyncio.QueueFull):
                self.outbox.put_nowait(None)

    async def writer(self) -> None:
        while True:
            frame = await self.outbox.get()
            if frame is None or self.closing is not None:
                return
            await self.socket.send_text(_encode(frame).decode())

    def error(self, code: str, detail: str, ref=None, **extra) -> None:
        self.emit({"type": "error", "code": str(code), "detail": detail, **({"ref": ref} if ref else {}), **extra})

    # --- the layer ---------------------------------------------------------------------

    async def join(self, group: str) -> None:
        if group not in self.groups:
            await layer().group_add(group, self.channel)
            self.groups.add(group)

    async def pump(self) -> None:
        while True:
            try:
                frame = await layer().receive(self.channel)
            except Overflowed:
                self.close_with(states.CLOSE_RESYNC, "resync")
                return
            await self.deliver(frame)

    async def deliver(self, frame: dict) -> None:
        kind = frame.get("type")
        conversation = frame.get("conversation")
        if kind == "message":
            if conversation not in self.last_sent:
                return
            async with self.lock:
                last = self.last_sent[conversation]
                seq = int(frame["seq"])
                if seq <= last:
                    return  # already delivered (by the replay, or twice by the layer)
                if seq > last + 1:  # a hole: the database has what the fast path missed
                    rows = await conversations.missed(uuid.UUID(conversation), last, seq)
                    for row in rows:
                        if int(row["seq"]) < seq:
                            self.emit(conversations.frame(row, epoch=self.epochs.get(conversation, 1)))
                self.emit(frame)
                self.last_sent[conversation] = seq
            return
        if conversation is not None and conversation not in self.last_sent and kind not in ("assigned",):
            return
        self.emit(frame)

    # --- the client's frames -----------------------------------------------------------

    async def reader(self) -> None:
        while self.closing is None:
            text = await self.socket.receive_text()
            if len(text.encode()) > MAX_FRAME_BYTES:
                self.error(ChatError.TOO_LONG, i18n.gettext("A frame holds at most 32 KiB."))
                await self._malformed()
                continue
            try:
                data = _decode(text)
                if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                    raise ValueError
            except ValueError:
                self.error(ChatError.MALFORMED, i18n.gettext("Each frame is one JSON object with a type."))
                await self._malformed()
                continue
            handler = HANDLERS.get(data["type"])
            ref = data.get("client_id") or data["type"]
            if handler is None:
                self.error(ChatError.UNKNOWN_TYPE, i18n.gettext("Unknown frame type."), ref=data["type"])
                continue
            try:
                await handler(self, data)
            except FuwuError as exc:
                self.error(exc.code, exc.localised(), ref=ref if isinstance(ref, str) else None,
                           **{k: v for k, v in exc.extra.items() if k in ("retry_after",)})
            except (KeyError, TypeError, ValueError):
                self.error(ChatError.MALFORMED, i18n.gettext("A field of this frame is missing or wrong."),
                           ref=ref if isinstance(ref, str) else None)
                await self._malformed()

    async def _malformed(self) -> None:
        self.malformed += 1
        if self.malformed >= MAX_MALFORMED:
            self.close_with(states.CLOSE_MALFORMED, "malformed")

    def _conversation_id(self, data: dict) -> uuid.UUID:
        return uuid.UUID(str(data["conversation"]))

    def _take_token(self) -> bool:
        moment = time.monotonic()
        self.tokens = min(states.RATE_BURST, self.tokens + (moment - self.refilled) * states.RATE_PER_SECOND)
        self.refilled = moment
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    async def subscribe(self, data: dict) -> None:
        conversation_id = self._conversation_id(data)
        key = str(conversation_id)
        last_seq = max(0, int(data.get("last_seq") or 0))
        await conversations.visible(self.participant, conversation_id)
        await self.join(conversations._group(conversation_id))  # first: frames from now on are buffered
        async with self.lock:
            rows, conversation = await conversations.messages_after(self.participant, conversation_id, last_seq)
            epoch = int(conversation["epoch"])
            self.epochs[key] = epoch
            self.sides[key] = conversations.reader_side(self.participant, conversation)
            if last_seq > int(conversation["seq"]) or len(rows) > states.REPLAY_CAP or (
                    data.get("epoch") not in (None, epoch)):
                # Past the replay cap (or another epoch): no partial replay; page the history.
                self.emit({"type": "reset", "conversation": key, "seq": int(conversation["seq"]), "epoch": epoch})
                self.last_sent[key] = int(conversation["seq"])
            else:
                for row in rows:
                    self.emit(conversations.frame(row, epoch=epoch))
                self.last_sent[key] = int(rows[-1]["seq"]) if rows else last_seq
            self.emit(self._status(conversation, "subscribed"))

    def _status(self, conversation: dict, kind: str) -> dict:
        return {"type": kind, "conversation": str(conversation["id"]), "seq": int(conversation["seq"]),
                "epoch": int(conversation["epoch"]), "status": conversation["status"],
                "agent": conversation["agent_name"] or None, "buyer_read": int(conversation["buyer_read"]),
                "agent_read": int(conversation["agent_read"]), "rating": conversation["rating"],
                "kind": conversation["kind"], "tender": str(conversation["tender_id"]) if conversation.get("tender_id")
                else None, "contract": str(conversation["contract_id"]) if conversation.get("contract_id") else None}

    async def unsubscribe(self, data: dict) -> None:
        key = str(self._conversation_id(data))
        group = conversations._group(key)
        if group in self.groups:
            await layer().group_discard(group, self.channel)
            self.groups.discard(group)
        self.last_sent.pop(key, None)
        self.sides.pop(key, None)

    async def open(self, data: dict) -> None:
        if not self.participant.is_buyer:
            conversation = await self._open_business(data)
        else:
            conversation = await conversations.open_for_buyer(self.participant.shop, self.participant.buyer)
        self.emit(self._status(conversation, "opened"))
        await self.subscribe({"conversation": str(conversation["id"]), "last_seq": data.get("last_seq", 0)})

    async def send(self, data: dict) -> None:
        client_id = data.get("client_id")
        if not self._take_token():
            self.refused += 1
            if self.refused > 5 * states.RATE_BURST:
                self.close_with(states.CLOSE_TOO_FAST, "too fast")
            self.error(ChatError.RATE_LIMITED, i18n.gettext("Slow down: at most %(rate)d messages a second.",
                                                            rate=states.RATE_PER_SECOND),
                       ref=client_id if isinstance(client_id, str) else None, retry_after=1)
            return
        message, created = await conversations.post(self.participant, self._conversation_id(data), client_id,
                                                    data.get("text"))
        self.emit({"type": "ack", "client_id": client_id, "conversation": str(message["conversation"]),
                   "seq": int(message["seq"]), "id": str(message["id"]), "at": message["at"].isoformat()
                   if hasattr(message["at"], "isoformat") else str(message["at"]), "duplicate": not created})

    async def _open_business(self, data: dict) -> dict:
        """A member's `open` of a business conversation: `contract`, or `tender` (with
        `provider` from the merchant's side), for whichever of the member's
        organisations is a party (`organisation` to choose). One answer for every
        refusal: conversation_not_found."""
        contract, tender = data.get("contract"), data.get("tender")
        if (contract is None) == (tender is None):
            raise FuwuError(ChatError.MALFORMED, "A member opens a conversation about a tender or a contract.")
        subject = uuid.UUID(str(contract or tender))
        provider = uuid.UUID(str(data["provider"])) if data.get("provider") else None
        wanted = data.get("organisation")
        for org_id in self.participant.organisations:
            if wanted is not None and str(org_id) != str(wanted):
                continue
            try:
                member = await accounts.membership(self.participant.user_id, org_id)
                if contract is not None:
                    return await business.open_for_contract(member, subject)
                return await business.open_for_tender(member, subject, provider)
            except NotFound:
                continue
        raise not_found("Conversation")

    async def typing(self, data: dict) -> None:
        conversation_id = self._conversation_id(data)
        side = self.sides.get(str(conversation_id))
        if side is None:
            side = conversations.reader_side(self.participant,
                                             await conversations.visible(self.participant, conversation_id))
        from chat.layer import publish

        await publish(conversations._group(conversation_id), {
            "type": "typing", "conversation": str(conversation_id), "sender": side, "by": self.participant.key()})

    async def read(self, data: dict) -> None:
        await conversations.mark_read(self.participant, self._conversation_id(data), int(data["seq"]))

    async def close_conversation(self, data: dict) -> None:
        await conversations.close(self.participant, self._conversation_id(data))

    async def rate(self, data: dict) -> None:
        conversation = await conversations.rate(self.participant, self._conversation_id(data), data.get("rating"),
                                                data.get("comment") or "")
        self.emit({"type": "rated", "conversation": str(conversation["id"]), "rating": conversation["rating"]})

    async def transfer(self, data: dict) -> None:
        await conversations.transfer(self.participant, self._conversation_id(data), uuid.UUID(str(data["to"])))

    async def set_presence(self, data: dict) -> None:
        for org_id, member in await self._seat_memberships(data.get("organisation")):
            seat = await presence.set_presence(member, self.participant.user_id, data["status"])
            self.emit({"type": "presence", "organisation": str(org_id), "user": str(self.participant.user_id),
                       "presence": seat["presence"], "capacity": seat["capacity"], "load": seat["load"]})

    async def _seat_memberships(self, organisation=None) -> list:
        if self.participant.is_buyer:
            raise FuwuError(ChatError.MALFORMED, "A buyer has no presence.")
        found = []
        for org_id, role in self.participant.organisations.items():
            if role in presence.SEAT_ROLES and (organisation is None or str(org_id) == str(organisation)):
                found.append((org_id, await accounts.membership(self.participant.user_id, org_id)))
        return found

    async def watch_sla(self, data: dict) -> None:
        """A contract's page follows its live SLA figures: `sla` frames for that
        contract from now on (a member of one of its two parties only)."""
        contract_id = uuid.UUID(str(data["contract"]))
        if self.participant.is_buyer:
            raise not_found("Contract")
        for org_id in self.participant.organisations:
            member = await accounts.membership(self.participant.user_id, org_id)
            try:
                await contracts.get_contract(member, contract_id)
            except NotFound:
                continue
            await self.join(conversations.sla_group(contract_id))
            self.emit({"type": "watching", "contract": str(contract_id)})
            return
        raise not_found("Contract")

    async def history(self, data: dict) -> None:
        conversation_id = self._conversation_id(data)
        rows, before = await conversations.messages_before(self.participant, conversation_id, data.get("before_seq"),
                                                           min(100, int(data.get("limit") or 50)))
        self.emit({"type": "history", "conversation": str(conversation_id), "before_seq": before,
                   "messages": [conversations.frame(row, epoch=self.epochs.get(str(conversation_id), 1))
                                for row in rows]})

    async def heartbeat(self, data: dict | None = None) -> None:
        if not self.participant.is_buyer:
            await presence.heartbeat(self.participant.user_id, list(self.participant.organisations))
        ids = [uuid.UUID(key) for key in self.last_sent]
        self.emit({"type": "heartbeat", "positions": await conversations.positions(ids)})

    async def heartbeats(self) -> None:
        while True:
            await asyncio.sleep(states.HEARTBEAT_SECONDS)
            await self.heartbeat()

    # --- the connection ------------------------------------------------------------------

    async def run(self) -> None:
        self.channel = await layer().new_channel("chat.")
        if not self.participant.is_buyer:
            await self.join(conversations.user_group(self.participant.user_id))
            for org_id, role in self.participant.organisations.items():
                if role in presence.SEAT_ROLES:
                    await self.join(conversations.org_group(org_id))
        self.emit({"type": "hello", "buyer": self.participant.is_buyer,
                   "user": str(self.participant.user_id) if self.participant.user_id else None,
                   "heartbeat_seconds": states.HEARTBEAT_SECONDS})
        tasks = [asyncio.create_task(self.reader()), asyncio.create_task(self.pump()),
                 asyncio.create_task(self.writer()), asyncio.create_task(self.heartbeats())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None and not isinstance(
                        task.exception(), (WebSocketDisconnect, ConnectionError)):
                    log.error("chat socket task failed", exc_info=task.exception())
        finally:
            # Cancelling the pump's pending receive also unsubscribes from Redis.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._leave()
            if self.closing is not None:
                with contextlib.suppress(Exception):
                    await self.socket.close(code=self.closing[0], reason=self.closing[1])

    async def _leave(self) -> None:
        current = layer()
        for group in list(self.groups):
            with contextlib.suppress(Exception):
                await current.group_discard(group, self.channel)
        discard = getattr(current, "discard_channel", None)
        if discard is not None:
            await discard(self.channel)


HANDLERS = {
    "subscribe": ChatSocket.subscribe, "unsubscribe": ChatSocket.unsubscribe, "open": ChatSocket.open,
    "send": ChatSocket.send, "typing": ChatSocket.typing, "read": ChatSocket.read,
    "close": ChatSocket.close_conversation, "rate": ChatSocket.rate, "transfer": ChatSocket.transfer,
    "presence": ChatSocket.set_presence, "history": ChatSocket.history, "heartbeat": ChatSocket.heartbeat,
    "watch_sla": ChatSocket.watch_sla,
}


@websocket("/ws/chat")
async def chat_socket(socket: WebSocket) -> None:
    participant = await participant_of(socket)
    await socket.accept()
    if participant is None:
        await socket.send_text(json.dumps({"type": "error", "code": ChatError.VISITOR,
                                           "detail": i18n.gettext("Sign in, or open the chat from the shop again.")}))
        await socket.close(code=states.CLOSE_UNAUTHORISED, reason="unauthorised")
        return
    await ChatSocket(socket, participant).run()
