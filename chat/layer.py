"""The channel layer: how a message stored in one process reaches the sockets of
every process.

The database is the source of truth (every frame carries its conversation's `seq`,
and a view that sees a gap fetches it from the database); the layer is only the fast
path. Two layers with the same interface (channels' `group_add`, `group_discard`,
`group_send`, `new_channel`, `receive`):

- `InProcessLayer` (the default, one process): plain in-process fan-out, each
  channel a bounded queue. Measured with bench/channel_layers.py (1,000 channels in
  one group), channels' own InMemoryChannelLayer took 53 times the CPU a delivery (it
  scans every channel on each send and receive) and drops silently at its capacity;
  this one never drops silently: a full channel is marked overflowed and its socket
  is closed with the "resync" code.
- channels_redis' pub/sub layer (`REDIS_URL`): fan-out across processes through
  Redis pub/sub (measured: 23 times the deliveries a second of its core layer for a
  23rd of the CPU, and no group expiry that could drop a live socket). Its redis-py
  pool gets a large `max_connections` (redis-py 8 raises instead of waiting at its
  default cap of 100). Its channel queues have no capacity (it ignores the setting):
  what bounds a socket's backlog is the socket's own outbox (chat.socket), which its
  pump fills from the layer as frames arrive and which closes the socket to resync
  when full.

Built once per process, at the chat domain's startup.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import defaultdict

log = logging.getLogger("fuwu.chat.layer")


class Overflowed(Exception):
    """The channel's queue overflowed: its socket must resync."""


class InProcessLayer:
    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._queues: dict[str, asyncio.Queue] = {}
        self._groups: dict[str, set[str]] = defaultdict(set)
        self._overflowed: set[str] = set()
        self._ids = itertools.count(1)

    async def new_channel(self, prefix: str = "specific.") -> str:
        name = f"{prefix}{next(self._ids)}"
        self._queues[name] = asyncio.Queue(self.capacity)
        return name

    async def send(self, channel: str, message: dict) -> None:
        queue = self._queues.get(channel)
        if queue is None:
            return
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:
            # Never dropped silently: the socket learns it on its next receive and resyncs.
            if channel not in self._overflowed:
                log.warning("chat channel %s overflowed: its socket is closed to resync", channel)
            self._overflowed.add(channel)

    async def receive(self, channel: str) -> dict:
        if channel in self._overflowed:
            raise Overflowed(channel)
        return await self._queues[channel].get()

    async def group_add(self, group: str, channel: str) -> None:
        self._groups[group].add(channel)

    async def group_discard(self, group: str, channel: str) -> None:
        members = self._groups.get(group)
        if members is not None:
            members.discard(channel)
            if not members:
                del self._groups[group]

    async def group_send(self, group: str, message: dict) -> None:
        for channel in list(self._groups.get(group, ())):
            await self.send(channel, message)

    async def discard_channel(self, channel: str) -> None:
        self._queues.pop(channel, None)
        self._overflowed.discard(channel)
        for group in [g for g, members in self._groups.items() if channel in members]:
            await self.group_discard(group, channel)

    async def close(self) -> None:
        self._queues.clear()
        self._groups.clear()


def build_layer(redis_url: str | None):
    if not redis_url:
        return InProcessLayer()
    from channels_redis.pubsub import RedisPubSubChannelLayer

    return RedisPubSubChannelLayer(hosts=[{"address": redis_url, "max_connections": 10_000}], prefix="fuwu")


_layer = None


def layer():
    if _layer is None:
        raise RuntimeError("the chat layer is not started (the chat domain's startup starts it)")
    return _layer


async def start(redis_url: str | None) -> None:
    global _layer
    if _layer is None:
        _layer = build_layer(redis_url)


async def stop() -> None:
    global _layer
    current, _layer = _layer, None
    if current is None:
        return
    close = getattr(current, "close", None) or getattr(current, "flush", None)
    if close is not None:
        try:
            await close()
        except Exception:  # a layer that cannot reach Redis at shutdown must not block it
            log.exception("closing the chat layer failed")


async def publish_many(messages: list[tuple[str, dict]]) -> None:
    """Fan-out of several frames at once (a group commit's messages), in their order.
    channels_redis' pub/sub layer sends each `group_send` as its own PUBLISH under a
    lock its whole process shares (one round trip at a time); here each Redis shard
    gets one pipeline of all the PUBLISHes, under that same lock, in one round trip.
    Uses the layer's shards as channels_redis 4.3 builds them; without them, one
    `group_send` each. Logged, never raised, as `publish`."""
    current = _layer
    if current is None or not messages:
        return
    try:
        shards = _shards_of(current, messages)
        if shards is None:
            for group, message in messages:
                await current.group_send(group, message)
            return
        for shard, items in shards.items():
            async with shard._lock:
                shard._ensure_redis()
                async with shard._redis.pipeline(transaction=False) as pipe:
                    for channel, data in items:
                        pipe.publish(channel, data)
                    await pipe.execute()
    except Exception:
        log.exception("chat fan-out of %d frames failed", len(messages))


def _shards_of(current, messages: list[tuple[str, dict]]) -> dict | None:
    if isinstance(current, InProcessLayer):
        return None
    try:
        loop_layer = current._get_layer()
        shards: dict = {}
        for group, message in messages:
            channel = loop_layer._get_group_channel_name(group)
            shard = loop_layer._get_shard(channel)
            shard._lock, shard._ensure_redis  # noqa: B018: the parts used, checked before anything is sent
            shards.setdefault(shard, []).append((channel, current.serialize(message)))
        return shards
    except AttributeError:  # another channels_redis: one group_send each
        return None


async def publish(group: str, message: dict) -> None:
    """Fan-out after commit; a failure is logged, never raised: the message is stored,
    and views fetch what they miss from the database."""
    current = _layer
    if current is None:
        return
    try:
        await current.group_send(group, message)
    except Exception:
        log.exception("chat fan-out to %s failed", group)
