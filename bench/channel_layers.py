"""The chat's channel layers measured against channels' and channels_redis' other
layers: one group of 1,000 channels (1,000 sockets in one chat room), one sender.

    .venv/bin/python bench/channel_layers.py [--runs 3] [--layers inprocess,inmemory,pubsub,core]
        [--messages N] [--redis redis://127.0.0.1:6379/9]

Layers: `chat.layer.InProcessLayer` (the chat's layer for one process),
channels' `InMemoryChannelLayer` (constructed directly), channels_redis'
`RedisPubSubChannelLayer` (the chat's layer with REDIS_URL, as `build_layer` makes it)
and its core `RedisChannelLayer`. Every layer that has a capacity gets 2,000
(`--capacity`, InProcessLayer's; the pub/sub layer's queues are unbounded); with the
default message counts that keeps InMemoryChannelLayer
(default capacity 100, dropping silently beyond it) from dropping, so its speed is
what shows. The Redis layers get hosts=[{"address": --redis, "max_connections": 10_000}]
and the prefix "fuwu-bench-layers-<pid>"; the keys under it are deleted at the end.

Each receiving channel joins the group and has one task awaiting `layer.receive` in a
loop. The sender does `group_send` of N small frames ({"type": "chat.frame", "seq",
"sent", "text"}) as fast as it can. In-process layers: everything in one process, the
sender yielding to the loop after each send (it shares the loop with the receivers, as
a server's handler does). Redis layers: as two server workers, the channels split
over 2 receiving processes (each with its own layer instance), the sender in a third
process; the parent starts them (multiprocessing, spawn), collects their results and
stops them.

Per run: deliveries a second (frames received on all channels / wall time from the
first send to the last receipt, time.time() in every process), delivery latency p50
and p99 (receipt time minus the send time stamped in the frame; from a histogram of 1 %
buckets), CPU per 1,000 deliveries of the benchmark's processes (getrusage of each,
from before the first send to its last receipt or send) and, for the Redis layers, of
the Redis server (INFO cpu: the whole server, other clients' work included), and lost
frames (sent x channels - received). The Redis senders are not paced and outrun the
receivers, so their latency is mostly the backlog (it grows with N): compare it only at
the same --messages; the in-process sender, yielding after each frame, is paced by
its receivers, and its latency is a frame's fan-out. A run ends when every frame arrived or nothing
arrived for --quiet seconds. Per layer: the median and the spread ((max-min)/median) of
each figure over --runs runs, then ratios to InProcessLayer and of pub/sub to core.
Not a test: it prints figures, it asserts none.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import resource
import signal
import statistics
import sys
import time
from array import array
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import raise_exit  # noqa: E402

GROUP = "fuwu-bench-room"
TEXT = "Hello, is the blue one still available in size M?"
NAMES = {"inprocess": "InProcessLayer", "inmemory": "channels InMemoryChannelLayer",
         "pubsub": "channels_redis RedisPubSubChannelLayer", "core": "channels_redis RedisChannelLayer"}
MESSAGES = {"inprocess": 1500, "inmemory": 30, "pubsub": 3000, "core": 100}  # a few seconds each here
BUCKET = math.log(1.01)


def make_layer(kind: str, opts: dict):
    if kind == "inprocess":
        from chat.layer import InProcessLayer

        return InProcessLayer(capacity=opts["capacity"])
    if kind == "inmemory":
        from channels.layers import InMemoryChannelLayer

        return InMemoryChannelLayer(capacity=opts["capacity"])
    hosts = [{"address": opts["redis"], "max_connections": 10_000}]
    if kind == "pubsub":
        from channels_redis.pubsub import RedisPubSubChannelLayer

        return RedisPubSubChannelLayer(hosts=hosts, prefix=opts["prefix"])  # it has no capacity (unbounded queues)
    from channels_redis.core import RedisChannelLayer

    return RedisChannelLayer(hosts=hosts, prefix=opts["prefix"], capacity=opts["capacity"])


async def close_layer(kind: str, layer) -> None:
    if kind == "pubsub":
        await layer.flush()  # closes its connections; pub/sub stores no keys
    elif kind == "core":
        await layer.close_pools()  # the keys are deleted by the parent
    else:
        await layer.close() if hasattr(layer, "close") else None


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def histogram(latencies: array) -> Counter:
    return Counter(int(math.log(max(x, 1e-6) / 1e-6) / BUCKET) for x in latencies)


def percentile(hist: Counter, q: float) -> float:
    total, seen = sum(hist.values()), 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= q * total:
            return 1e-6 * math.exp((bucket + 0.5) * BUCKET)
    return float("nan")


class Receivers:
    """One task a channel, each awaiting `receive` in a loop and timing each frame."""

    def __init__(self, kind: str, layer, channels: list[str]) -> None:
        self.layer, self.received, self.last, self.overflowed = layer, 0, 0.0, 0
        self.latencies = array("d")
        self.overflow = None
        if kind == "inprocess":
            from chat.layer import Overflowed

            self.overflow = Overflowed
        self.tasks = [asyncio.create_task(self._loop(channel)) for channel in channels]

    async def _loop(self, channel: str) -> None:
        receive, record, now = self.layer.receive, self.latencies.append, time.time
        try:
            while True:
                message = await receive(channel)
                received = now()
                record(received - message["sent"])
                self.received += 1
                self.last = received
        except Exception as exc:  # InProcessLayer's overflow: its socket would resync
            if self.overflow is None or not isinstance(exc, self.overflow):
                raise
            self.overflowed += 1

    async def finish(self, expected: int, quiet: float, cpu_start: float) -> dict:
        seen, since, cpu_end = -1, time.monotonic(), cpu_seconds()
        while self.received < expected and time.monotonic() - since < (quiet if self.received else 60):
            await asyncio.sleep(0.02)
            if self.received != seen:
                seen, since, cpu_end = self.received, time.monotonic(), cpu_seconds()
        cpu_end = cpu_seconds() if self.received >= expected else cpu_end
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        return {"received": self.received, "last": self.last, "cpu": cpu_end - cpu_start,
                "overflowed": self.overflowed, "hist": histogram(self.latencies)}


async def join(kind: str, layer, count: int) -> list[str]:
    channels = [await layer.new_channel() for _ in range(count)]
    for channel in channels:
        await layer.group_add(GROUP, channel)
    return channels


async def send_all(layer, messages: int, yield_each: bool) -> float:
    group_send, first = layer.group_send, time.time()
    for seq in range(messages):
        await group_send(GROUP, {"type": "chat.frame", "seq": seq, "sent": time.time(), "text": TEXT})
        if yield_each:
            await asyncio.sleep(0)
    return first


async def run_local(kind: str, opts: dict) -> dict:
    layer = make_layer(kind, opts)
    try:
        receivers = Receivers(kind, layer, await join(kind, layer, opts["channels"]))
        await asyncio.sleep(0)
        cpu_start = cpu_seconds()
        first = await send_all(layer, opts["messages"], yield_each=True)
        result = await receivers.finish(opts["messages"] * opts["channels"], opts["quiet"], cpu_start)
        return {**result, "first": first, "redis_cpu": None}
    finally:
        await close_layer(kind, layer)


def child(role: str, kind: str, opts: dict, conn) -> None:
    signal.signal(signal.SIGTERM, raise_exit)
    try:
        asyncio.run(child_main(role, kind, opts, conn))
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        conn.close()


async def child_main(role: str, kind: str, opts: dict, conn) -> None:
    layer = make_layer(kind, opts)
    try:
        if role == "sender":
            await layer.group_send("fuwu-bench-warmup", {"type": "warmup"})  # the connection, made before timing
            conn.send("ready")
            conn.recv()  # the go; nothing else runs on this loop
            cpu_start = cpu_seconds()
            first = await send_all(layer, opts["messages"], yield_each=False)
            conn.send({"first": first, "cpu": cpu_seconds() - cpu_start})
        else:
            receivers = Receivers(kind, layer, await join(kind, layer, opts["channels"]))
            await asyncio.sleep(0.2)  # every task waiting in receive
            cpu_start = cpu_seconds()
            conn.send("ready")
            conn.send(await receivers.finish(opts["messages"] * opts["channels"], opts["quiet"], cpu_start))
    finally:
        await close_layer(kind, layer)


def redis_cpu(client) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def run_redis(kind: str, opts: dict, processes: int, client) -> dict:
    ctx = multiprocessing.get_context("spawn")
    share = opts["channels"] // processes
    roles = [("receiver", {**opts, "channels": share + (opts["channels"] % processes if n == 0 else 0)})
             for n in range(processes)] + [("sender", opts)]
    procs, conns = [], []
    try:
        for role, role_opts in roles:
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=child, args=(role, kind, role_opts, child_end), daemon=True)
            proc.start()
            child_end.close()
            procs.append(proc)
            conns.append(parent_end)
        for conn, proc in zip(conns, procs):
            if not conn.poll(120) or conn.recv() != "ready":
                raise RuntimeError(f"{kind}: a process (exit code {proc.exitcode}) did not get ready")
        cpu_before = redis_cpu(client)
        conns[-1].send("go")
        results = []
        for conn, proc in zip(conns, procs):
            if not conn.poll(opts["quiet"] + 600):
                raise RuntimeError(f"{kind}: no result from a process (exit code {proc.exitcode})")
            results.append(conn.recv())
        cpu_after = redis_cpu(client)
        for proc in procs:
            proc.join(60)
        *received, sent = results
        hist = Counter()
        for result in received:
            hist.update(result["hist"])
        return {"received": sum(r["received"] for r in received), "last": max(r["last"] for r in received),
                "first": sent["first"], "cpu": sum(r["cpu"] for r in results), "hist": hist,
                "overflowed": 0, "redis_cpu": cpu_after - cpu_before}
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(15)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        for conn in conns:
            conn.close()


def figures(result: dict, opts: dict) -> dict:
    received = result["received"]
    wall = max(result["last"] - result["first"], 1e-9)
    per_1k = 1000 / received if received else float("nan")
    return {"deliveries/s": received / wall, "p50 ms": percentile(result["hist"], 0.5) * 1000,
            "p99 ms": percentile(result["hist"], 0.99) * 1000, "CPU ms/1k": result["cpu"] * 1000 * per_1k,
            "Redis CPU ms/1k": (result["redis_cpu"] * 1000 * per_1k) if result["redis_cpu"] is not None else None,
            "lost": opts["messages"] * opts["channels"] - received, "wall s": wall}


def spread(values: list[float]) -> str:
    med = statistics.median(values)
    return f"{(max(values) - min(values)) / med * 100:.0f} %" if med else f"{max(values) - min(values):.0f} abs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", default="inprocess,inmemory,pubsub,core")
    parser.add_argument("--messages", type=int, help="frames sent per run, every layer (default: per layer)")
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2, help="receiving processes for the Redis layers")
    parser.add_argument("--capacity", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quiet", type=float, default=3.0, help="seconds without a frame that end a run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, raise_exit)
    kinds = [k.strip() for k in args.layers.split(",") if k.strip()]
    prefix = f"fuwu-bench-layers-{os.getpid()}-"
    client = None
    if any(kind in ("pubsub", "core") for kind in kinds):
        import redis

        client = redis.Redis.from_url(args.redis)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  "
          f"({os.cpu_count()} cores; {args.channels} channels in one group, capacity {args.capacity})")
    table: dict[str, list[dict]] = {}
    try:
        for kind in kinds:
            opts = {"channels": args.channels, "capacity": args.capacity, "quiet": args.quiet,
                    "redis": args.redis, "prefix": prefix, "messages": args.messages or MESSAGES[kind]}
            for run in range(1, args.runs + 1):
                if kind in ("pubsub", "core"):
                    result = run_redis(kind, opts, args.processes, client)
                else:
                    result = asyncio.run(run_local(kind, opts))
                row = figures(result, opts)
                table.setdefault(kind, []).append(row)
                redis_part = f"  Redis {row['Redis CPU ms/1k']:6.2f} ms" if row["Redis CPU ms/1k"] is not None else ""
                print(f"{NAMES[kind]:<40} run {run}: {opts['messages']:>5} frames x {args.channels}  "
                      f"{row['deliveries/s']:>9,.0f} deliveries/s in {row['wall s']:5.2f} s  "
                      f"p50 {row['p50 ms']:8.2f} ms  p99 {row['p99 ms']:8.2f} ms  "
                      f"CPU {row['CPU ms/1k']:6.2f} ms/1k{redis_part}  lost {row['lost']}"
                      + (f" ({result['overflowed']} channels overflowed)" if result["overflowed"] else ""), flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            keys = list(client.scan_iter(match=prefix + "*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    columns = ["deliveries/s", "p50 ms", "p99 ms", "CPU ms/1k", "Redis CPU ms/1k", "lost"]
    medians = {kind: {c: statistics.median([r[c] for r in rows]) if rows[0][c] is not None else None
                      for c in columns} for kind, rows in table.items()}
    print(f"\nmedian (spread) of {args.runs} runs; CPU ms/1k = CPU milliseconds per 1,000 deliveries")
    print("| layer | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns))
    for kind, rows in table.items():
        cells = []
        for c in columns:
            med = medians[kind][c]
            values = [r[c] for r in rows] if med is not None else []
            cells.append("-" if med is None else f"{med:,.0f} ({min(values)}-{max(values)})" if c == "lost" else
                         f"{med:,.0f} ({spread(values)})" if c == "deliveries/s" else f"{med:.2f} ({spread(values)})")
        print(f"| {NAMES[kind]} | " + " | ".join(cells) + " |")
    pairs = [(k, "inprocess") for k in ("inmemory",) if k in medians and "inprocess" in medians]
    pairs += [("pubsub", "core")] if "pubsub" in medians and "core" in medians else []
    for a, b in pairs:
        # An unpaced sender's latency is the backlog, which grows with N: compared only at the same N.
        same = a in ("inmemory", "inprocess") or (args.messages or MESSAGES[a]) == (args.messages or MESSAGES[b])
        ratios = ", ".join(f"{c} {medians[a][c] / medians[b][c]:.3g}x" for c in columns[:4]
                           if medians[b][c] and (same or c in ("deliveries/s", "CPU ms/1k")))
        print(f"{NAMES[a]} / {NAMES[b]}: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
