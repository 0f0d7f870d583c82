"""The chat domain's authorisation matrix (see tests/authz.py): the widget's public
visitor-token endpoint, conversation lists and transcripts of either party's members,
agents' seats set by the owner or a manager (operator for a merchant), and the
WebSocket, which refuses a connection without credentials with close code 4401."""

from __future__ import annotations

import atexit
import datetime
import json

import pytest
from websockets.asyncio.client import connect

from chat.tables import CannedReply, Conversation, Message, Seat
from fuwu import roles
from fuwu.clock import now
from tests import authz
from tests.authz import ORG, PUBLIC, USER, Call, Target
from sla.tables import Contract
from tests.integration.bids.test_authz_matrix import shared_bid_tender
from tests.integration.tenders.test_authz_matrix import BOTH, EVERY_MEMBER, Entry, cases, merchant, provider
from tests.servers import start_server

SEAT_SETTERS = (roles.OWNER, roles.MANAGER, roles.OPERATOR)  # also canned replies' editors
CONSOLE = (roles.OWNER, roles.MANAGER, roles.AGENT, roles.OPERATOR)  # chat.services.presence.SEAT_ROLES


async def _conversation(t: Target):
    """A conversation between the cast's merchant's shop and the cast's provider."""
    m, p = merchant(t), provider(t)
    row = Conversation(kind="shop", shop=m.org_id, provider=p.org_id, buyer="visitor-authz", status="assigned",
                       opened_at=now(), assigned_at=now())
    await row.save()
    return row.id


async def _read(t: Target, suffix: str = "") -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/conversations/{await _conversation(t)}{suffix}")


async def _set_capacity(t: Target) -> Call:
    seated = t.member(roles.AGENT if t.kind == "provider" else roles.OPERATOR)
    if not await Seat.exists().where(Seat.pair == f"{t.org_id}:{seated.user_id}"):
        await Seat(organisation=t.org_id, user=seated.user_id, pair=f"{t.org_id}:{seated.user_id}").save()
    return Call(f"/api/v1/orgs/{t.org_id}/seats/{seated.user_id}", json={"capacity": 4})


async def _canned_reply(t: Target) -> Call:
    row = CannedReply(organisation=t.org_id, title="Delivery", text="We ship within 48 hours.")
    await row.save()
    return Call(f"/api/v1/orgs/{t.org_id}/canned-replies/{row.id}")


async def _transcript(t: Target) -> Call:
    return Call(f"/conversations/{await _conversation(t)}")


ERASERS = (roles.OWNER, roles.OPERATOR)  # chat.services.retention.ERASERS


async def _buyer_messages(t: Target) -> Call:
    """A buyer's conversation with the cast's merchant's shop, with one message."""
    row = Conversation(kind="shop", shop=t.org_id, provider=provider(t).org_id, buyer="visitor-authz-export",
                       status="assigned", opened_at=now(), assigned_at=now(), seq=1)
    await row.save()
    await Message(conversation=row.id, seq=1, position=f"{row.id}:1", client_key=f"{row.id}:c1",
                  sender_kind="buyer", text="Where is my parcel?", at=now()).save()
    return Call(f"/api/v1/orgs/{t.org_id}/buyers/visitor-authz-export/messages")


async def _tender_conversation(t: Target) -> Call:
    """A tender of the cast's merchant in evaluation with the cast's provider's bid in
    round 1: the merchant names the provider, the provider opens its own."""
    ids = await shared_bid_tender(t, "evaluating")
    return Call(f"/tenders/{ids.tender}/conversations",
                form={"provider": str(provider(t).org_id)} if t.kind == roles.MERCHANT else {})


async def _contract_conversation(t: Target) -> Call:
    """A contract between the cast's merchant and provider."""
    starts = now()
    contract = Contract(merchant=merchant(t).org_id, provider=provider(t).org_id, category="cs_presales",
                        status="active", starts_at=starts, ends_at=starts + datetime.timedelta(days=90),
                        currency="CNY", pricing_model="periodic_fee", pricing_terms={}, period_fee=100_000,
                        time_zone="Asia/Shanghai", calendar={})
    await contract.save()
    return Call(f"/contracts/{contract.id}/conversation", form={})


_server = None


def _socket_server():
    global _server
    if _server is None:
        _server = start_server()
        atexit.register(_server.stop)
    return _server


async def _run_socket(case: authz.Case, make_client) -> None:
    """Connects as the case's caller and checks the hello, or the 4401 close."""
    people = await authz.cast()
    actor = people.caller(case)
    headers = dict(actor.headers) if actor is not None else (
        {"Authorization": "Bearer fw_not-a-token-of-anyone"} if case.caller == "bad_token" else {})
    if case.caller == "no_csrf":
        # A browser session cookie from another site's page: refused by the Origin check.
        from fuwu.auth import SESSION_COOKIE
        from fuwu.services import accounts

        session = await accounts.start_session({"id": actor.user_id})
        headers = {"Cookie": f"{SESSION_COOKIE}={session}", "Origin": "https://elsewhere.example"}
    server = _socket_server()
    connection = await connect(server.url.replace("http://", "ws://") + "/ws/chat", additional_headers=headers)
    first = json.loads(await connection.recv())
    if case.expect is authz.OK:
        assert first["type"] == "hello", (case.id, first)
        await connection.close()
        return
    assert first["type"] == "error", (case.id, first)
    try:
        await connection.recv()
    except Exception:
        pass
    assert connection.close_code == 4401, (case.id, connection.close_code)


MATRIX = [
    Entry("GET", "/api/v1/shops/{shop_id:uuid}/visitor-token", PUBLIC,
          setup=lambda t: Call(f"/api/v1/shops/{merchant(t).org_id}/visitor-token?visitor=visitor-authz-01")),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/conversations", ORG, kinds=BOTH, roles=EVERY_MEMBER,
          setup=lambda t: Call(f"/api/v1/orgs/{t.org_id}/conversations")),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/conversations/{conversation_id:uuid}", ORG, kinds=BOTH,
          roles=EVERY_MEMBER, setup=_read),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/conversations/{conversation_id:uuid}/messages", ORG, kinds=BOTH,
          roles=EVERY_MEMBER, setup=lambda t: _read(t, "/messages")),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/seats", ORG, kinds=BOTH, roles=EVERY_MEMBER,
          setup=lambda t: Call(f"/api/v1/orgs/{t.org_id}/seats")),
    Entry("PUT", "/api/v1/orgs/{org_id:uuid}/seats/{user_id:uuid}", ORG, kinds=BOTH, roles=SEAT_SETTERS,
          setup=_set_capacity),
    Entry("WS", "/ws/chat", USER, outsider=None, run=_run_socket),
    # A buyer's transcripts with the shop, on request: the merchant's owner or an operator.
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/buyers/{visitor:str}/messages", ORG, kinds=(roles.MERCHANT,),
          roles=ERASERS, setup=_buyer_messages),
    Entry("DELETE", "/api/v1/orgs/{org_id:uuid}/buyers/{visitor:str}/messages", ORG, kinds=(roles.MERCHANT,),
          roles=ERASERS, ok=(200,), setup=_buyer_messages),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/canned-replies", ORG, kinds=BOTH, roles=EVERY_MEMBER,
          setup=lambda t: Call(f"/api/v1/orgs/{t.org_id}/canned-replies")),
    Entry("POST", "/api/v1/orgs/{org_id:uuid}/canned-replies", ORG, kinds=BOTH, roles=SEAT_SETTERS,
          setup=lambda t: Call(f"/api/v1/orgs/{t.org_id}/canned-replies",
                               json={"title": "Opening hours", "text": "We answer from 9 to 21."})),
    Entry("DELETE", "/api/v1/orgs/{org_id:uuid}/canned-replies/{reply_id:uuid}", ORG, kinds=BOTH,
          roles=SEAT_SETTERS, setup=_canned_reply),
    # pages
    Entry("GET", "/shops/{shop_id:uuid}", PUBLIC, setup=lambda t: Call(f"/shops/{merchant(t).org_id}")),
    Entry("GET", "/console", ORG, kinds=BOTH, roles=CONSOLE, outsider=None),
    Entry("GET", "/conversations", ORG, kinds=BOTH, roles=EVERY_MEMBER, outsider=None),
    Entry("GET", "/conversations/{conversation_id:uuid}", ORG, kinds=BOTH, roles=EVERY_MEMBER, setup=_transcript),
    # Merchant-provider conversations, opened from the tender's and the contract's pages.
    Entry("POST", "/tenders/{tender_id:uuid}/conversations", ORG, kinds=BOTH, roles=EVERY_MEMBER,
          setup=_tender_conversation),
    Entry("POST", "/contracts/{contract_id:uuid}/conversation", ORG, kinds=BOTH, roles=EVERY_MEMBER,
          setup=_contract_conversation),
]




@pytest.mark.parametrize("case", cases(MATRIX))
async def test_authz(case, make_client):
    await case.entry.run(case, make_client)
