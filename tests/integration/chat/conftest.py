"""Real WebSocket clients (the websockets library) against real server processes, for
the chat tests: a shop with an active customer-service contract, its provider's
agents, and buyers with visitor tokens from the public endpoint."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect

from chat.tables import Seat
from fuwu.clock import now
from sla.tables import Contract
from tests.conftest import Actor, add_member, new_actor
from tests.servers import servers


class Client:
    """One WebSocket connection; frames are read as they come and kept by type."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.frames: list[dict] = []
        self._waiting: asyncio.Queue = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())
        self.closed_code: int | None = None

    async def _read(self) -> None:
        try:
            async for text in self.connection:
                frame = json.loads(text)
                self.frames.append(frame)
                await self._waiting.put(frame)
        except Exception:
            pass
        finally:
            self.closed_code = self.connection.close_code
            await self._waiting.put(None)

    async def send(self, frame: dict) -> None:
        await self.connection.send(json.dumps(frame))

    async def next(self, kind: str, timeout: float = 5.0, **match) -> dict:
        """The next frame of `kind` (and matching fields) not yet taken."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for frame in self.frames:
                if frame.get("type") == kind and not frame.get("_taken") and all(
                        frame.get(k) == v for k, v in match.items()):
                    frame["_taken"] = True
                    return frame
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {kind} frame {match} within {timeout} s; got {self.frames[-10:]}")
            try:
                got = await asyncio.wait_for(self._waiting.get(), remaining)
            except asyncio.TimeoutError:
                continue
            if got is None and self.closed_code is not None:
                for frame in self.frames:
                    if frame.get("type") == kind and not frame.get("_taken") and all(
                            frame.get(k) == v for k, v in match.items()):
                        frame["_taken"] = True
                        return frame
                raise AssertionError(f"closed ({self.closed_code}) before a {kind} frame; got {self.frames[-10:]}")

    def messages(self, conversation: str) -> list[dict]:
        return [f for f in self.frames if f.get("type") == "message" and f["conversation"] == conversation]

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://") + "/ws/chat"


async def agent_client(server, actor: Actor, online: bool = True) -> Client:
    connection = await connect(ws_url(server), additional_headers=actor.headers, max_size=2**20)
    client = Client(connection)
    await client.next("hello")
    if online:
        await client.send({"type": "presence", "status": "online"})
        await client.next("presence")
    return client


async def buyer_client(server, shop_id, visitor: str | None = None) -> tuple[Client, str]:
    visitor = visitor or f"visitor-{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get(f"/api/v1/shops/{shop_id}/visitor-token", params={"visitor": visitor})
    assert answer.status_code == 200, answer.text
    connection = await connect(server.url.replace("http://", "ws://") + answer.json()["websocket"])
    client = Client(connection)
    await client.next("hello")
    return client, visitor


async def open_conversation(buyer: Client) -> str:
    await buyer.send({"type": "open"})
    opened = await buyer.next("opened")
    await buyer.next("subscribed", conversation=opened["conversation"])
    return opened["conversation"]


async def shop_with_contract(capacity: int = 3, agents: int = 1):
    """A merchant, a provider holding the merchant's active pre-sales contract, and
    the provider's agents (each with a chat seat of `capacity`)."""
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    starts = now() - datetime.timedelta(days=1)
    contract = Contract(merchant=merchant.org_id, provider=provider.org_id, category="cs_presales", status="active",
                        starts_at=starts, ends_at=starts + datetime.timedelta(days=365), currency="CNY",
                        pricing_model="periodic_fee", pricing_terms={}, period_fee=100_000, time_zone="Asia/Shanghai",
                        calendar={})
    await contract.save()
    people = [await add_member(provider, "agent") for _ in range(agents)]
    for agent in people:
        await Seat(organisation=provider.org_id, user=agent.user_id, pair=f"{provider.org_id}:{agent.user_id}",
                   capacity=capacity).save()
    return merchant, provider, contract.id, people


@pytest.fixture(scope="module")
def chat_server(database):
    with servers(1) as started:
        yield started[0]


def needs_redis():
    """Guarantees across processes need the shared layer: Redis (CI's second run sets
    REDIS_URL). Without it the test is skipped, and says so."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: fan-out across server processes goes through Redis (CI's PostgreSQL and "
                    "Redis run covers it)")
