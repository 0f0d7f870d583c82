"""Rate limits shared by every process: counted in Redis when REDIS_URL is set (one
INCR with an expiry per window), else in this process (the only one)."""

from __future__ import annotations

import time

_local: dict[str, tuple[int, int]] = {}
_redis = None


async def start(redis_url: str | None) -> None:
    global _redis
    if redis_url and _redis is None:
        import redis.asyncio as redis

        _redis = redis.from_url(redis_url, max_connections=1000)


async def stop() -> None:
    global _redis
    current, _redis = _redis, None
    if current is not None:
        await current.aclose()


async def hit(key: str, limit: int, window_seconds: int) -> int | None:
    """Counts one hit of `key` in the current window; returns the seconds to wait when
    over `limit`, else None."""
    window = int(time.time()) // window_seconds
    name = f"fuwu:limit:{key}:{window}"
    if _redis is not None:
        count = await _redis.incr(name)
        if count == 1:
            await _redis.expire(name, window_seconds + 1)
    else:
        seen_window, count = _local.get(name, (window, 0))
        count += 1
        _local[name] = (window, count)
        if len(_local) > 50_000:
            for stale in [k for k, (w, _) in _local.items() if w < window]:
                _local.pop(stale, None)
    if count > limit:
        return window_seconds - int(time.time()) % window_seconds
    return None
