"""Live chat under load: real WebSocket clients against `fuwu serve` (2 workers,
PostgreSQL and Redis), beside a bare websockets relay on the same load.

Seeded through the tables (as tests/integration/chat/conftest.py `shop_with_contract`):
--shops merchants, each with a provider holding its active customer-service contract
and --agents / --shops agents with a chat seat of --capacity. Buyers get their visitor
tokens signed with the server's secret key by the seeding process (the public
visitor-token endpoint allows 30 a minute per address, and every client here shares
one address).

Sockets: each buyer connects with its visitor token and opens its conversation; each
agent keeps one console socket (presence online, heartbeats, `assigned` frames) and,
for every conversation assigned to it, one socket subscribed to that conversation (as
a console with a tab per conversation). 1,000 conversations make 2,000 conversation
sockets plus the agents' consoles. The bare relay (a tiny websockets server in this
script, one process, no storage) gets the same 2,000 sockets in pairs: for each
message it acks the sender and sends the `message` frame to both sockets of the pair,
the frames the chat server sends.

Load: messages at a fixed total rate, evenly spaced, conversation after conversation,
buyer and agent in turn, for --duration seconds, from --loaders processes (one
process could not drive 2,000 sockets at 3,000 messages a second on these cores;
conversations are split between them by shop). After a phase the clients wait for what
is outstanding while acks or deliveries still arrive (slow is not lost; at most 90 s),
until nothing has moved for --drain seconds, and the next phase starts once the server
has worked off its queue. Per phase:

  persisted/s  the phase's messages stored, over the span of their server timestamps
  p50/p99      delivery latency: the send call to the other party's receipt of the
               `message` frame (both parties live in one load process: one clock)
  lost         acked messages that never reached the other party, or are not in the
               database (all acked messages are looked up by their client key)
  errors       error frames and messages never acked (fails the phase like a loss)
  lag p99      how late the load process sent against its schedule (a generator that
               falls behind measures itself, not the server)

It measures --rate (default 1,000) on both targets, prints the ratio, then searches
for the highest rate holding p99 under --p99-ms with 0 lost and 0 errors on each (up
in steps of --step to --max-rate from a rate that held, or halving from one that
failed, then two bisections), and prints that ratio too. A server that falls more
than 20 s behind has its sockets closed by uvicorn's keepalive (1011): the phase
then fails with those closes as its example errors.

    .venv/bin/python bench/chat_load.py [--rate 1000] [--duration 10] [--conversations 1000]
        [--shops 10] [--agents 100] [--capacity 10] [--loaders 2] [--workers 2] [--max-rate 6000]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis (--redis, default
redis://127.0.0.1:6379/0). It creates and drops its own database; everything it starts
it stops, also on errors and Ctrl-C. Not a test: it prints figures. Exit status 0 when
--rate holds the target, 1 when not, 2 on a failed run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import HOST, PG_HOST, PG_PORT, PG_USER, Cleanup, free_port, proc_cpu_seconds, raise_exit, venv_bin  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# --- processes ----------------------------------------------------------------------------


def base_env(folder: str, database: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.pop("FUWU_DEBUG", None)
    env.update(
        PICCOLO_CONF="fuwu.piccolo_conf", FUWU_DATA_DIR=folder, FUWU_RUN_SCHEDULER="0",
        FUWU_SECRET_KEY=secrets.token_urlsafe(48), PYTHONUNBUFFERED="1",
        DATABASE_URL=f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}", REDIS_URL=redis_url,
        PYTHONPATH=str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
    )
    return env


def create_database(cleanup: Cleanup) -> str:
    name = f"fuwu_chatload_{os.getpid()}_{secrets.token_hex(3)}"
    cleanup.databases.append(name)
    done = subprocess.run(["createdb", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, name],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"createdb failed: {done.stderr.strip()}")
    return name


def run_checked(what: str, command: list[str], env: dict, timeout: float) -> str:
    done = subprocess.run(command, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=timeout,
                          start_new_session=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def wait_port(port: int, proc: subprocess.Popen, log_path: Path, path: str | None) -> None:
    import socket
    import urllib.request

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if path is None:
                socket.create_connection((HOST, port), timeout=1).close()
                return
            with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port} within 90 s")


def spawn(cleanup: Cleanup, command: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")
    proc = subprocess.Popen(command, env=env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log.close()
    cleanup.processes.append(proc)
    return proc


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def machine_busy() -> float:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


# --- seeding (hidden sub-command `_seed`) -------------------------------------------------


async def _seed(out_path: str, shops: int, agents: int, capacity: int, conversations: int) -> None:
    import datetime

    from chat import visitors
    from chat.tables import Seat
    from fuwu import db, roles
    from fuwu.clock import now
    from fuwu.db import atomic
    from fuwu.security import hash_password, new_token
    from fuwu.tables import ApiToken, Membership, Organisation, User
    from sla.tables import Contract

    await db.start()
    try:
        password_hash = hash_password(secrets.token_urlsafe(16))  # nobody logs in
        starts = now() - datetime.timedelta(days=1)
        plan = []
        for s in range(shops):
            merchant = Organisation(kind=roles.MERCHANT, name=f"Load Shop {s}", province="Zhejiang", city="Hangzhou",
                                    size="medium")
            provider = Organisation(kind=roles.PROVIDER, name=f"Load Service {s}", province="Guangdong",
                                    city="Shenzhen", categories=["cs_presales"], profile="Customer service.")
            async with atomic():
                await Organisation.insert(merchant, provider)
                await Contract(merchant=merchant.id, provider=provider.id, category="cs_presales", status="active",
                               starts_at=starts, ends_at=starts + datetime.timedelta(days=365), currency="CNY",
                               pricing_model="periodic_fee", pricing_terms={}, period_fee=100_000,
                               time_zone="Asia/Shanghai", calendar={}).save()
            people, users, rows = [], [], []
            for a in range(agents // shops):
                user = User(email=f"agent{s}-{a}@load.example", display_name=f"Agent {s}-{a}",
                            password_hash=password_hash)
                token, hashed = new_token("fw")
                users.append(user)
                rows.append((Membership(user=user.id, organisation=provider.id, role=roles.AGENT,
                                        pair=f"{user.id}:{provider.id}"),
                             ApiToken(user=user.id, name="load", token_hash=hashed, prefix=token[:10],
                                      last_used_at=now()),
                             Seat(organisation=provider.id, user=user.id, pair=f"{provider.id}:{user.id}",
                                  capacity=capacity)))
                people.append({"user": str(user.id), "token": token})
            async with atomic():
                await User.insert(*users)
                for index, table in enumerate((Membership, ApiToken, Seat)):
                    await table.insert(*(row[index] for row in rows))
            buyers = [visitors.issue(merchant.id, f"buyer-{s}-{b:05d}")[0] for b in range(conversations // shops)]
            plan.append({"shop": str(merchant.id), "agents": people, "buyers": buyers})
        Path(out_path).write_text(json.dumps(plan))
    finally:
        await db.stop()


# --- the bare relay (hidden sub-command `_relay`) -------------------------------------------


async def _relay(port: int) -> None:
    """Pairs sockets by `?pair=<n>&side=<b|a>`; for each `send` frame it acks the sender
    and sends the `message` frame to both sockets of the pair. No storage."""
    from urllib.parse import parse_qs, urlsplit

    from websockets.asyncio.server import serve

    pairs: dict[str, dict[str, object]] = {}
    counters: dict[str, int] = {}

    async def handler(connection) -> None:
        query = parse_qs(urlsplit(connection.request.path).query)
        pair, side = query["pair"][0], query["side"][0]
        members = pairs.setdefault(pair, {})
        members[side] = connection
        try:
            async for text in connection:
                frame = json.loads(text)
                if frame.get("type") != "send":
                    continue
                counters[pair] = seq = counters.get(pair, 0) + 1
                at = time.time()
                await connection.send(json.dumps({"type": "ack", "client_id": frame["client_id"],
                                                  "conversation": pair, "seq": seq, "duplicate": False},
                                                 separators=(",", ":")))
                message = json.dumps({"type": "message", "conversation": pair, "seq": seq,
                                      "client_id": frame["client_id"], "text": frame["text"], "at": at},
                                     separators=(",", ":"))
                for member in list(members.values()):
                    try:
                        await member.send(message)
                    except Exception:
                        pass
        finally:
            if members.get(side) is connection:
                members.pop(side, None)

    async with serve(handler, HOST, port, max_queue=None, compression=None):
        await asyncio.get_running_loop().create_future()


# --- load processes (hidden sub-command `_load`) --------------------------------------------


class Peer:
    """One client socket. During set-up frames are kept for `expect`; in a phase the
    reader only stamps acks and other parties' messages."""

    def __init__(self, connection, side: str, stats: "Stats") -> None:
        self.connection, self.side, self.stats = connection, side, stats
        self.frames: list[dict] = []
        self.changed = asyncio.Event()
        self.setup = True
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        stats = self.stats
        try:
            async for text in self.connection:
                moment = time.time()
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "message":
                    client_id = frame.get("client_id") or ""
                    # client ids are "<phase>.<n>.<side>": the other party's message only
                    if client_id[-1:] != self.side and client_id in stats.sent:
                        stats.received.setdefault(client_id, moment)
                    if not self.setup:
                        continue
                elif kind == "ack":
                    if frame.get("client_id") in stats.sent:
                        stats.acked.setdefault(frame["client_id"], (moment, frame.get("conversation")))
                    continue
                elif kind == "error":
                    stats.errors.append(frame)
                    if not self.setup:
                        continue
                if self.setup:
                    self.frames.append(frame)
                    self.changed.set()
        except Exception as exc:  # a socket closed under load is a failure, not a crash
            stats.closed.append(repr(exc)[:200])

    async def expect(self, kind: str, timeout: float = 60.0, **match) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for index, frame in enumerate(self.frames):
                if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                    return self.frames.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.reader.done():
                raise RuntimeError(f"no {kind} frame {match}; got {self.frames[-5:]} {self.stats.errors[-3:]}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def send(self, frame: dict) -> None:
        await self.connection.send(json.dumps(frame, separators=(",", ":")))


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sent: dict[str, tuple[float, str]] = {}
        self.acked: dict[str, tuple[float, str]] = {}
        self.received: dict[str, float] = {}
        self.errors: list[dict] = []
        self.closed: list[str] = []


async def _connect(url: str, **kwargs):
    from websockets.asyncio.client import connect

    return await connect(url, max_size=2**20, compression=None, open_timeout=60, ping_interval=None, **kwargs)


async def setup_fuwu(config: dict, stats: Stats) -> list[tuple[str, Peer, Peer]]:
    base = config["url"].replace("http://", "ws://") + "/ws/chat"
    gate = asyncio.Semaphore(config["concurrency"])
    consoles: list[Peer] = []
    assigned: dict[str, dict] = {}
    arrived = asyncio.Event()

    async def console(agent: dict) -> None:
        async with gate:
            peer = Peer(await _connect(base, additional_headers={"Authorization": f"Bearer {agent['token']}"}),
                        "a", stats)
            await peer.expect("hello")
            await peer.send({"type": "presence", "status": "online"})
            await peer.expect("presence")
        peer.agent = agent
        consoles.append(peer)

    async def watch(peer: Peer) -> None:
        while True:
            frame = await peer.expect("assigned", timeout=3600)
            assigned[frame["conversation"]] = peer.agent
            arrived.set()

    async def buyer(token: str) -> tuple[str, Peer]:
        async with gate:
            peer = Peer(await _connect(f"{base}?visitor_token={token}"), "b", stats)
            await peer.expect("hello")
            await peer.send({"type": "open"})
            opened = await peer.expect("opened")
            await peer.expect("subscribed", conversation=opened["conversation"])
            return opened["conversation"], peer

    async def agent_socket(conversation: str, agent: dict) -> Peer:
        async with gate:
            peer = Peer(await _connect(base, additional_headers={"Authorization": f"Bearer {agent['token']}"}),
                        "a", stats)
            await peer.expect("hello")
            await peer.send({"type": "subscribe", "conversation": conversation, "last_seq": 0})
            await peer.expect("subscribed", conversation=conversation)
            return peer

    agents = [agent for shop in config["shops"] for agent in shop["agents"]]
    await asyncio.gather(*(console(agent) for agent in agents))
    watchers = [asyncio.create_task(watch(peer)) for peer in consoles]
    buyers = await asyncio.gather(*(buyer(token) for shop in config["shops"] for token in shop["buyers"]))
    deadline = time.monotonic() + 120
    while any(conversation not in assigned for conversation, _ in buyers):
        if time.monotonic() > deadline:
            missing = sum(1 for conversation, _ in buyers if conversation not in assigned)
            raise RuntimeError(f"{missing} conversations were not assigned within 120 s")
        arrived.clear()
        with_timeout = asyncio.wait_for(arrived.wait(), 1)
        try:
            await with_timeout
        except asyncio.TimeoutError:
            pass
    agent_peers = await asyncio.gather(*(agent_socket(conversation, assigned[conversation])
                                         for conversation, _ in buyers))
    for task in watchers:
        task.cancel()

    async def heartbeats() -> None:  # keeps the agents' presence (the server marks silence offline)
        while True:
            await asyncio.sleep(15)
            for peer in consoles:
                try:
                    await peer.send({"type": "heartbeat"})
                except Exception:
                    pass

    config["_heartbeats"] = asyncio.create_task(heartbeats())
    return [(conversation, peer, agent) for (conversation, peer), agent in zip(buyers, agent_peers)]


async def setup_relay(config: dict, stats: Stats) -> list[tuple[str, Peer, Peer]]:
    base = config["url"]
    gate = asyncio.Semaphore(config["concurrency"])

    async def pair(n: int) -> tuple[str, Peer, Peer]:
        async with gate:
            key = f"{config['index']}-{n}"
            buyer = Peer(await _connect(f"{base}/?pair={key}&side=b"), "b", stats)
            agent = Peer(await _connect(f"{base}/?pair={key}&side=a"), "a", stats)
            return key, buyer, agent

    return await asyncio.gather(*(pair(n) for n in range(config["pairs"])))


async def run_phase(pairs, stats: Stats, phase: str, rate: float, duration: float, drain: float) -> dict:
    stats.reset()
    for _, buyer, agent in pairs:
        buyer.setup = agent.setup = False
        buyer.frames.clear()
        agent.frames.clear()
    cpu_before = time.process_time()
    interval = 1.0 / rate
    total = int(rate * duration)
    lags: list[float] = []
    count = len(pairs)
    text = "x" * 40
    start = time.time() + 0.1
    for n in range(total):
        scheduled = start + n * interval
        delay = scheduled - time.time()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        conversation, buyer, agent = pairs[n % count]
        side = "b" if (n // count) % 2 == 0 else "a"
        client_id = f"{phase}.{n}.{side}"
        moment = time.time()
        lags.append(moment - scheduled)
        stats.sent[client_id] = (moment, conversation)
        try:
            await (buyer if side == "b" else agent).send(
                {"type": "send", "conversation": conversation, "client_id": client_id, "text": text})
        except Exception as exc:
            stats.closed.append(repr(exc)[:200])
    send_end = time.time()
    # Slow is not lost: wait while acks or deliveries still arrive (up to 90 s), and
    # stop once nothing has moved for `drain` seconds.
    quiet_since, seen = time.time(), (0, 0)
    while (len(stats.acked) < len(stats.sent) or len(stats.received) < len(stats.sent)) \
            and time.time() - send_end < 90 and time.time() - quiet_since < drain:
        await asyncio.sleep(0.05)
        if (len(stats.acked), len(stats.received)) != seen:
            seen, quiet_since = (len(stats.acked), len(stats.received)), time.time()
    acked = stats.acked
    latencies = [stats.received[c] - stats.sent[c][0] for c in stats.sent if c in stats.received]
    not_received = [c for c in acked if c not in stats.received]
    lags.sort()
    return {
        "sent": len(stats.sent), "acked": len(acked), "received": len(stats.received),
        "latencies": latencies, "not_received": not_received,
        "keys": [f"{conversation}:{c}" for c, (_, conversation) in acked.items()],
        "errors": len(stats.errors) + len(stats.sent) - len(acked),
        "error_samples": stats.errors[:3], "closed": stats.closed[:3],
        "lag_p99": lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
        "send_seconds": send_end - start, "cpu": time.process_time() - cpu_before,
    }


async def _load(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    stats = Stats()
    pairs = await (setup_fuwu if config["mode"] == "fuwu" else setup_relay)(config, stats)
    print(json.dumps({"ready": len(pairs)}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        command = json.loads(line)
        if command.get("stop"):
            return
        result = await run_phase(pairs, stats, command["phase"], command["rate"], command["duration"],
                                 command["drain"])
        print(json.dumps(result), flush=True)


# --- the driver ----------------------------------------------------------------------------


class Target:
    """A server and its load processes, kept connected across phases."""

    def __init__(self, name: str, loaders: list[subprocess.Popen], server_pid: int, database: str | None) -> None:
        self.name, self.loaders, self.server_pid, self.database = name, loaders, server_pid, database
        self.broken = False  # sockets closed under overload: later phases would not measure the server


def start_loaders(cleanup: Cleanup, env: dict, folder: str, name: str, configs: list[dict]) -> list[subprocess.Popen]:
    loaders = []
    for index, config in enumerate(configs):
        path = Path(folder) / f"{name}-load-{index}.json"
        path.write_text(json.dumps(config))
        log = open(Path(folder) / f"{name}-load-{index}.log", "wb")
        proc = subprocess.Popen([sys.executable, __file__, "_load", str(path)], env=env, cwd=str(ROOT),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                start_new_session=True)
        log.close()
        cleanup.processes.append(proc)
        loaders.append(proc)
    for index, proc in enumerate(loaders):
        line = proc.stdout.readline()
        if not line:
            log = (Path(folder) / f"{name}-load-{index}.log").read_text(errors="replace")
            raise RuntimeError(f"{name} load process {index} failed during set-up:\n{log[-3000:]}")
    return loaders


async def database_check(database: str, keys: list[str], phase: str) -> tuple[int, float]:
    """How many of the acked keys are stored, and the phase's stored messages a second
    (by the server's timestamps)."""
    import asyncpg

    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=database)
    try:
        found = await connection.fetchval("SELECT count(*) FROM chat_message WHERE client_key = ANY($1::text[])",
                                          keys)
        row = await connection.fetchrow(
            "SELECT count(*) AS n, extract(epoch FROM max(at) - min(at)) AS span FROM chat_message "
            "WHERE client_key LIKE $1", f"%:{phase}.%")
        span = float(row["span"] or 0)
        return int(found), (row["n"] / span if span > 0 else 0.0)
    finally:
        await connection.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


PHASES = iter(range(1, 10_000))


def measure(target: Target, rate: float, args) -> dict:
    phase = f"r{next(PHASES)}"
    share = rate / len(target.loaders)
    server_cpu = sum(proc_cpu_seconds(p) for p in process_tree(target.server_pid))
    busy, started = machine_busy(), time.time()
    for proc in target.loaders:
        proc.stdin.write(json.dumps({"phase": phase, "rate": share, "duration": args.duration,
                                     "drain": args.drain}) + "\n")
        proc.stdin.flush()
    results = []
    for proc in target.loaders:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"a {target.name} load process died")
        results.append(json.loads(line))
    elapsed = time.time() - started
    server_cpu = sum(proc_cpu_seconds(p) for p in process_tree(target.server_pid)) - server_cpu
    busy = machine_busy() - busy
    latencies = [v for r in results for v in r["latencies"]]
    keys = [k for r in results for k in r["keys"]]
    acked = sum(r["acked"] for r in results)
    not_received = sum(len(r["not_received"]) for r in results)
    if target.database:
        stored, persisted = asyncio.run(database_check(target.database, keys, phase))
        missing_in_db = len(keys) - stored
    else:
        persisted = acked / max(r["send_seconds"] for r in results)
        missing_in_db = 0
    figure = {
        "target": target.name, "rate": rate, "sent": sum(r["sent"] for r in results), "acked": acked,
        "persisted_per_s": persisted, "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99), "max_ms": 1000 * max(latencies, default=float("nan")),
        "lost": not_received + missing_in_db, "not_delivered": not_received, "not_stored": missing_in_db,
        "errors": sum(r["errors"] for r in results), "lag_p99_ms": 1000 * max(r["lag_p99"] for r in results),
        "server_cpu_ms": 1000 * server_cpu / max(1, acked), "load_cpu_ms": 1000 * sum(r["cpu"] for r in results)
        / max(1, acked), "machine_busy": busy / (elapsed * (os.cpu_count() or 1)),
        "samples": [s for r in results for s in r["error_samples"] + r["closed"]][:3],
        "closed": sum(len(r["closed"]) for r in results),
    }
    figure["holds"] = figure["p99_ms"] < args.p99_ms and figure["lost"] == 0 and figure["errors"] == 0
    print(f"  {target.name:5} {rate:6.0f}/s: sent {figure['sent']}, persisted {figure['persisted_per_s']:.0f}/s, "
          f"p50 {figure['p50_ms']:.1f} ms, p99 {figure['p99_ms']:.1f} ms, max {figure['max_ms']:.0f} ms, "
          f"lost {figure['lost']} (undelivered {not_received}, not stored {missing_in_db}), errors "
          f"{figure['errors']}, generator lag p99 {figure['lag_p99_ms']:.1f} ms; CPU a message: server "
          f"{figure['server_cpu_ms']:.2f} ms, load {figure['load_cpu_ms']:.2f} ms; machine "
          f"{figure['machine_busy']:.0%} busy -> {'holds' if figure['holds'] else 'FAILS'}", flush=True)
    if figure["samples"]:
        print(f"        e.g. {figure['samples']}", flush=True)
    return figure


def settle(target: Target, most: float = 60.0) -> None:
    """Waits until the server has worked off what a phase left queued (its processes
    use under a fifth of a core for a second), so that phases do not overlap."""
    deadline = time.time() + most
    while time.time() < deadline:
        before = sum(proc_cpu_seconds(p) for p in process_tree(target.server_pid))
        time.sleep(1)
        if sum(proc_cpu_seconds(p) for p in process_tree(target.server_pid)) - before < 0.2:
            return


def search(target: Target, args, held: float | None, failed: float | None) -> float:
    """The highest rate that holds: steps of --step up from the last that held (or
    halves down from the first that failed) until the other side is found, then
    bisects twice between them (to 50 messages a second)."""
    def attempt(rate: float) -> bool:
        if target.broken:
            return False
        settle(target)
        figure = measure(target, rate, args)
        if figure["closed"]:
            target.broken = True
            print(f"  {target.name}: sockets were closed in that phase; the search stops (later phases would "
                  "measure dead sockets)", flush=True)
        return figure["holds"]

    if held is not None:
        rate = held + args.step
        while rate <= args.max_rate and failed is None:
            if attempt(rate):
                held, rate = rate, rate + args.step
            else:
                failed = rate
    else:
        rate = failed / 2
        while held is None and rate >= 25:
            if attempt(rate):
                held = rate
            else:
                failed, rate = rate, rate / 2
    if held is None:
        return 0.0
    for _ in range(2):
        if failed is None or failed - held <= 50:
            break
        middle = round((held + failed) / 2 / 50) * 50 or (held + failed) / 2
        if middle in (held, failed):
            break
        if attempt(middle):
            held = middle
        else:
            failed = middle
    return held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--drain", type=float, default=5)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--capacity", type=int, default=10)
    parser.add_argument("--loaders", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20, help="sockets each load process sets up at once")
    parser.add_argument("--p99-ms", type=float, default=150)
    parser.add_argument("--step", type=float, default=500)
    parser.add_argument("--max-rate", type=float, default=6000)
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    if args.conversations % args.shops or args.agents % args.shops or args.agents * args.capacity < args.conversations:
        parser.error("conversations and agents must split evenly by shop, and agents x capacity hold every conversation")

    signal.signal(signal.SIGTERM, raise_exit)
    cleanup = Cleanup()
    folder = tempfile.mkdtemp(prefix="fuwu-chatload-")
    cleanup.folders.append(folder)
    try:
        database = create_database(cleanup)
        env = base_env(folder, database, args.redis)
        run_checked("migrate", [venv_bin("fuwu"), "migrate"], env, 300)
        plan_path = str(Path(folder) / "plan.json")
        run_checked("seed", [sys.executable, __file__, "_seed", plan_path, str(args.shops), str(args.agents),
                             str(args.capacity), str(args.conversations)], env, 300)
        plan = json.loads(Path(plan_path).read_text())

        port = free_port()
        server = spawn(cleanup, [venv_bin("fuwu"), "serve", "--host", HOST, "--port", str(port), "--workers",
                                 str(args.workers)], env, Path(folder) / "server.log")
        wait_port(port, server, Path(folder) / "server.log", "/healthz")
        time.sleep(1.5)  # the other workers
        relay_port = free_port()
        relay = spawn(cleanup, [sys.executable, __file__, "_relay", str(relay_port)], env, Path(folder) / "relay.log")
        wait_port(relay_port, relay, Path(folder) / "relay.log", None)

        began = time.time()
        fuwu_configs = [{"mode": "fuwu", "url": f"http://{HOST}:{port}", "shops": plan[i::args.loaders],
                         "concurrency": args.concurrency} for i in range(args.loaders)]
        fuwu = Target("fuwu", start_loaders(cleanup, env, folder, "fuwu", fuwu_configs), server.pid, database)
        set_up = time.time() - began
        relay_configs = [{"mode": "relay", "url": f"ws://{HOST}:{relay_port}", "index": i,
                          "pairs": sum(len(shop["buyers"]) for shop in plan[i::args.loaders]),
                          "concurrency": args.concurrency} for i in range(args.loaders)]
        bare = Target("bare", start_loaders(cleanup, env, folder, "relay", relay_configs), relay.pid, None)
        print(f"{args.conversations} conversations ({2 * args.conversations} conversation sockets and "
              f"{args.agents} agents' consoles) set up on fuwu serve --workers {args.workers} (PostgreSQL, Redis) "
              f"in {set_up:.0f} s; the bare relay's {2 * args.conversations} sockets beside them. "
              f"{args.loaders} load processes, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}.",
              flush=True)

        print(f"At {args.rate:.0f} messages a second for {args.duration:.0f} s:", flush=True)
        base_bare = measure(bare, args.rate, args)
        settle(bare)
        base_fuwu = measure(fuwu, args.rate, args)
        fuwu.broken = bool(base_fuwu["closed"])
        bare.broken = bool(base_bare["closed"])
        print(f"fuwu / bare relay at {args.rate:.0f}/s: p50 {base_fuwu['p50_ms'] / base_bare['p50_ms']:.1f}x, "
              f"p99 {base_fuwu['p99_ms'] / base_bare['p99_ms']:.1f}x, server CPU a message "
              f"{base_fuwu['server_cpu_ms'] / base_bare['server_cpu_ms']:.1f}x", flush=True)
        if not args.no_search:
            print(f"Searching the highest rate with p99 under {args.p99_ms:.0f} ms, 0 lost, 0 errors:", flush=True)
            if fuwu.broken:
                print("  fuwu: sockets were closed at the first rate; no search (run again with a lower --rate)",
                      flush=True)
            best_fuwu = search(fuwu, args, *((args.rate, None) if base_fuwu["holds"] else (None, args.rate)))
            best_bare = search(bare, args, *((args.rate, None) if base_bare["holds"] else (None, args.rate)))
            capped = best_bare >= args.max_rate
            print(f"highest rate holding the target: fuwu {best_fuwu:.0f}/s, bare relay {best_bare:.0f}/s"
                  f"{' (the --max-rate cap)' if capped else ''}; ratio {best_fuwu / best_bare if best_bare else 0:.2f}"
                  f"{' (at most)' if capped else ''}", flush=True)
        for target in (fuwu, bare):
            for proc in target.loaders:
                try:
                    proc.stdin.write(json.dumps({"stop": True}) + "\n")
                    proc.stdin.flush()
                except OSError:
                    pass
        return 0 if base_fuwu["holds"] else 1
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 2
    finally:
        cleanup.run()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_seed":
        asyncio.run(_seed(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])))
    elif len(sys.argv) > 1 and sys.argv[1] == "_relay":
        asyncio.run(_relay(int(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "_load":
        asyncio.run(_load(sys.argv[2]))
    else:
        sys.exit(main())
