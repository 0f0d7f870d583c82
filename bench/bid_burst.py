"""Bid burst across the deadline: 1,000 sealed bids against a running Fuwu server.

One merchant publishes a tender whose bid deadline falls in the middle of the burst;
1,000 provider organisations (category cs_presales, each an owner with an API token)
each POST one bid, evenly spread over --spread-seconds, from a separate load process
(raw asyncio HTTP/1.1 over a pool of --concurrency keep-alive connections, opened
before the burst; no retries). Afterwards the database is checked:

  accepted          201 answers
  rejected          409 with code bid_deadline_passed
  lost              201 answers whose bid is not stored, and requests with no answer,
                    a time-out or a 5xx
  wrongly accepted  stored bids with submitted_at >= deadline, 201s sent at or after
                    the deadline (one clock: client and server share this machine),
                    and 201s whose body says submitted_at >= deadline
  wrongly rejected  409 bid_deadline_passed whose received_at < deadline although the
                    server decided within the grace (server_time < deadline + grace),
                    and 409s for which the database nevertheless holds a bid
  refused in time   409s for bids sent, or received by the server (received_at), at
                    least 100 ms before the deadline: the rule (DESIGN.md section 3)
                    says the outcome depends on when a bid reached Fuwu, so the
                    target is 0 whatever the load
  errors            any other answer (4xx other than the above)

A bid counts if the server received it before the deadline (the time stamped when its
body had arrived, stored as submitted_at and returned as received_at in a 409) and it
commits within the grace after the deadline (FUWU_BID_GRACE_SECONDS, --grace); the
tender stays sealed until the grace has passed. After the burst the load process waits
for the grace to pass and reads the tender as the merchant (which closes bidding), so
the check also covers the closing: status and the closing notice's count.

The script prints them with p50/p90/p99/max latency (send -> answer, and from the
scheduled send time; the latency target uses the larger p99) and throughput, then a
diagnosis: where the time went (send -> received, the server's stamp; received ->
answer), how long closing bidding held the tender, what PostgreSQL's sessions were
waiting on during the burst (pg_stat_activity sampled every 25 ms), and CPU use.

    .venv/bin/python bench/bid_burst.py [--engine postgres|sqlite] [--bids 1000] [--workers 1]
        [--concurrency 200] [--spread-seconds 2.0] [--deadline-after SECONDS] [--timeout 30]
        [--lead-seconds 2.5] [--grace 30] [--scheduler] [--fresh-tokens] [--seed 1] [--keep-json PATH]

A bid counts as lost when it has no answer --timeout seconds after its scheduled send
(waiting for a free client connection included), which also bounds the run. The
scheduled jobs are off (FUWU_RUN_SCHEDULER=0) unless --scheduler: then the tender is
also closed by the 15-second job (in the server, or in a `fuwu worker` with several
workers), not only by requests. Tokens are seeded as recently used, as for providers
who work through the API; --fresh-tokens makes each token's first request write
last_used_at.

The database is fresh every run (a PostgreSQL database created and dropped, or a
SQLite file in a temporary FUWU_DATA_DIR), migrated with `fuwu migrate`, seeded in a
subprocess (bulk inserts and one precomputed password hash, so 1,000 providers take
seconds), and served by `fuwu serve --port <free port> --workers N` on loopback.
Not a test: it prints figures. Everything it starts it stops, also on errors and
Ctrl-C. Exit status 0 when the target is met, 1 when not, 2 on a failed run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from harness import PG_HOST, PG_PORT, PG_USER, Cleanup, free_port, proc_cpu_seconds, raise_exit, venv_bin  # noqa: E402  (bench/ is on sys.path when run)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TARGET_P99_MS = 250.0
IN_TIME_MARGIN = 0.1  # a bid sent or received this many seconds before the deadline must count
CATEGORY = "cs_presales"
WARM_PROVIDERS = 20  # extra providers that warm the server up on a separate tender


# --- processes and clean-up ------------------------------------------------------------


def run_checked(what: str, command: list[str], env: dict, timeout: float) -> str:
    done = subprocess.run(command, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=timeout,
                          start_new_session=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def http_get_status(url: str, timeout: float = 1.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def base_env(folder: str) -> dict:
    env = dict(os.environ)
    for key in ("DATABASE_URL", "REDIS_URL", "FUWU_DEBUG"):
        env.pop(key, None)
    env.update(
        PICCOLO_CONF="fuwu.piccolo_conf",
        FUWU_DATA_DIR=folder,
        FUWU_RUN_SCHEDULER="0",
        FUWU_MIN_BIDDING_SECONDS="1",
        FUWU_SECRET_KEY=secrets.token_urlsafe(48),
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
    )
    return env


def create_database(cleanup: Cleanup) -> str:
    name = f"fuwu_burst_{os.getpid()}_{secrets.token_hex(3)}"
    cleanup.databases.append(name)
    deadline = time.monotonic() + 90
    while True:
        done = subprocess.run(["createdb", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, name],
                              capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            return name
        # A shared server may be out of connection slots for a moment.
        if "too many clients" not in done.stderr or time.monotonic() > deadline:
            raise RuntimeError(f"createdb failed: {done.stderr.strip()}")
        time.sleep(2)


def start_server(cleanup: Cleanup, env: dict, workers: int, log_path: Path) -> tuple[str, subprocess.Popen]:
    port = free_port()
    log = open(log_path, "wb")
    proc = subprocess.Popen([venv_bin("fuwu"), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
                            env=env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    cleanup.processes.append(proc)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if http_get_status(base + "/healthz") == 200:
                # With several workers /healthz answers once one is up; give the others a moment.
                if workers > 1:
                    time.sleep(1.5)
                return base, proc
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not answer /healthz within 90 s")


# --- seeding (hidden sub-command `_seed`, run with the engine's environment) -------------


async def _seed(out_path: str, providers: int, warm: int, fresh_tokens: bool) -> None:
    from fuwu import db, roles
    from fuwu.clock import now
    from fuwu.db import atomic
    from fuwu.schemas import OrganisationCreate
    from fuwu.security import hash_password, new_token
    from fuwu.services import accounts
    from fuwu.tables import ApiToken, Membership, Organisation, User

    await db.start()
    try:
        user, org = await accounts.sign_up(
            "merchant@burst.example", "burst-password-123", "Burst Merchant", "en",
            OrganisationCreate(kind="merchant", name="Burst Shop", size="medium", province="Zhejiang",
                               city="Hangzhou"),
        )
        viewer = accounts.Viewer(user_id=user["id"], email=user["email"], display_name=user["display_name"],
                                 locale="en", timezone="Asia/Shanghai", via="token")
        merchant_token = (await accounts.create_token(viewer, "burst"))["token"]

        password_hash = hash_password(secrets.token_urlsafe(16))  # one hash for everyone: nobody logs in
        used = None if fresh_tokens else now()
        people = []
        for i in range(providers + warm):
            label = f"p{i:05d}" if i < providers else f"w{i - providers:03d}"
            u = User(email=f"{label}@burst.example", display_name=f"Provider {label}", password_hash=password_hash)
            o = Organisation(kind=roles.PROVIDER, name=f"Burst Provider {label}", province="Guangdong",
                             city="Shenzhen", categories=[CATEGORY], profile="Customer service for online shops.")
            m = Membership(user=u.id, organisation=o.id, role=roles.TOP_ROLE[roles.PROVIDER], pair=f"{u.id}:{o.id}")
            token, hashed = new_token("fw")
            t = ApiToken(user=u.id, name="burst", token_hash=hashed, prefix=token[:10], last_used_at=used)
            people.append((u, o, m, t, token))
        chunk = 100  # stays under SQLite's bound-variable limit
        for table, index in ((User, 0), (Organisation, 1), (Membership, 2), (ApiToken, 3)):
            for start in range(0, len(people), chunk):
                async with atomic():
                    await table.insert(*(p[index] for p in people[start:start + chunk]))
        records = [{"user_id": str(p[0].id), "org_id": str(p[1].id), "token": p[4]} for p in people]
        Path(out_path).write_text(json.dumps({
            "merchant": {"org_id": str(org["id"]), "token": merchant_token},
            "providers": records[:providers],
            "warm": records[providers:],
        }))
    finally:
        await db.stop()


# --- verification (hidden sub-command `_verify`) ------------------------------------------


async def _verify(out_path: str, tender_id: str) -> None:
    from fuwu import db
    from fuwu.tables import AuditEvent, IdempotencyRecord, Notification
    from bids.tables import Bid
    from tenders.tables import Tender

    await db.start()
    try:
        tid = uuid.UUID(tender_id)
        bids = await Bid.select(Bid.id, Bid.provider, Bid.status, Bid.submitted_at, Bid.first_submitted_at).where(
            Bid.tender == tid)
        tender = await Tender.select(Tender.status, Tender.bid_deadline, Tender.updated_at).where(
            Tender.id == tid).first()
        audit = await AuditEvent.select(AuditEvent.action, AuditEvent.at).where(
            (AuditEvent.object_type == "tender") & (AuditEvent.object_id == str(tid)))
        keys = await IdempotencyRecord.select(IdempotencyRecord.scope_key, IdempotencyRecord.created_at)
        notes = await Notification.select(Notification.kind, Notification.created_at).where(
            Notification.link == f"/tenders/{tid}")
    finally:
        await db.stop()

    def iso(moment):
        return moment.isoformat() if moment is not None else None

    Path(out_path).write_text(json.dumps({
        "bids": [{"id": str(b["id"]), "provider": str(b["provider"]), "status": b["status"],
                  "submitted_at": iso(b["submitted_at"]), "first_submitted_at": iso(b["first_submitted_at"])}
                 for b in bids],
        "tender": {"status": tender["status"], "bid_deadline": iso(tender["bid_deadline"]),
                   "updated_at": iso(tender["updated_at"])},
        "audit": [{"action": a["action"], "at": iso(a["at"])} for a in audit],
        "idempotency": [{"scope_key": k["scope_key"], "created_at": iso(k["created_at"])} for k in keys],
        "notifications": [{"kind": n["kind"], "created_at": iso(n["created_at"])} for n in notes],
    }))


# --- the load process (hidden sub-command `_load`) ---------------------------------------


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; raw asyncio streams (far cheaper per request
    than an HTTP client library, which matters on 2 shared cores)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def ensure_open(self) -> None:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        await self.ensure_open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            self.close()
            raise HttpError("connection closed before the answer") from exc
        status = int(head[9:12])
        length, chunked, close = None, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            payload = b"".join(p[:-2] for p in parts)
        elif length is not None:
            payload = await self.reader.readexactly(length)
        else:
            payload = await self.reader.read()
            close = True
        if close:
            self.close()
        return status, payload


def _tender_body(bid_deadline: datetime.datetime, questions_deadline: datetime.datetime, title: str) -> dict:
    return {
        "category": CATEGORY,
        "title": title,
        "brief": "Peak season 11.11; apparel; 2,000 conversations a day.",
        "requirements": {"seats": 12, "coverage_hours": "09:00-24:00", "time_zone": "Asia/Shanghai",
                         "daily_conversations": 2000, "languages": ["zh", "en"]},
        "budget_min": 3_000_000, "budget_max": 6_000_000, "currency": "CNY",
        "pricing_models": ["periodic_fee", "metered"],
        "sla_targets": [{"metric": "first_response_time", "statistic": "mean", "comparator": "<=", "target": 25,
                         "window": "month", "weight": 50, "service_credit_percent": 5}],
        "rounds": [
            {"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                     {"name": "Team and experience", "weight": 60}]},
        ],
        "visibility": "public",
        "min_bids": 1,
        "questions_deadline": questions_deadline.isoformat(),
        "bid_deadline": bid_deadline.isoformat(),
        "evaluation_end": (bid_deadline + datetime.timedelta(days=7)).isoformat(),
    }


def _bid_body(price: int) -> bytes:
    valid_until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=90)
    return json.dumps({
        "price_amount": price, "pricing_model": "periodic_fee", "currency": "CNY",
        "proposal": "12 trained agents, 09:00-24:00, first response under 20 s.",
        "valid_until": valid_until.isoformat(),
        "sla_commitment": [{"metric": "first_response_time", "statistic": "mean", "comparator": "<=",
                            "target": 20, "window": "month"}],
        "team": {"seats": 12, "agents": ["Sun Li", "Ma Jun"], "lead": "Liu Yang"},
    }).encode()


def _json_headers(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json",
            **extra}


async def _load(config_path: str, out_path: str) -> None:
    cfg = json.loads(Path(config_path).read_text())
    host, port = cfg["host"], cfg["port"]
    merchant = cfg["merchant"]
    providers, warm = cfg["providers"], cfg["warm"]
    n, concurrency, spread = cfg["bids"], cfg["concurrency"], cfg["spread"]
    utc = datetime.timezone.utc
    control = Connection(host, port)

    async def call(conn: Connection, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, dict]:
        status, payload = await asyncio.wait_for(conn.request(method, path, headers, body), 30)
        try:
            return status, json.loads(payload) if payload else {}
        except ValueError:
            return status, {"raw": payload[:500].decode(errors="replace")}

    async def publish(title: str, bid_deadline: datetime.datetime, questions_deadline: datetime.datetime) -> str:
        base = f"/api/v1/orgs/{merchant['org_id']}/tenders"
        body = json.dumps(_tender_body(bid_deadline, questions_deadline, title)).encode()
        status, created = await call(control, "POST", base, _json_headers(merchant["token"]), body)
        if status != 201:
            raise RuntimeError(f"creating the tender: HTTP {status}: {created}")
        status, published = await call(control, "POST", f"{base}/{created['id']}/publish",
                                       _json_headers(merchant["token"]))
        if status != 200:
            raise RuntimeError(f"publishing the tender: HTTP {status}: {published}")
        return created["id"]

    # Warm-up on a separate tender: code paths, the database pool, the warm-up tokens.
    moment = datetime.datetime.now(utc)
    warm_tender = await publish("Warm-up tender", moment + datetime.timedelta(hours=1),
                                moment + datetime.timedelta(minutes=30))
    warm_conns = [Connection(host, port) for _ in warm]

    async def warm_bid(conn: Connection, person: dict, i: int) -> int:
        path = f"/api/v1/orgs/{person['org_id']}/tenders/{warm_tender}/bid"
        status, _ = await call(conn, "POST", path, _json_headers(person["token"], **{"Idempotency-Key": f"w-{i}"}),
                               _bid_body(3_000_000 + i))
        await call(conn, "GET", f"/api/v1/orgs/{person['org_id']}/tenders/{warm_tender}",
                   _json_headers(person["token"]))
        return status

    warm_status = await asyncio.gather(*(warm_bid(c, p, i) for i, (c, p) in enumerate(zip(warm_conns, warm))))
    if any(s != 201 for s in warm_status):
        raise RuntimeError(f"warm-up bids failed: {warm_status}")
    for conn in warm_conns:
        conn.close()

    # The burst tender: its deadline falls `deadline_after` seconds after the first bid is sent.
    start_wall = time.time() + cfg["lead"]
    deadline_wall = start_wall + cfg["deadline_after"]
    deadline = datetime.datetime.fromtimestamp(deadline_wall, utc)
    questions = datetime.datetime.fromtimestamp(time.time() + cfg["lead"] * 0.75, utc)
    tender_id = await publish("Burst tender: pre-sales customer service for a Tmall store", deadline, questions)
    # The server stores microseconds; read the deadline back as stored.
    status, row = await call(control, "GET", f"/api/v1/orgs/{merchant['org_id']}/tenders/{tender_id}",
                             _json_headers(merchant["token"]))
    if status != 200 or row.get("status") != "published":
        raise RuntimeError(f"reading the burst tender: HTTP {status}: {row}")
    control.close()  # idle during the burst; it reconnects afterwards

    # Open every connection before the burst (uvicorn keeps idle ones for 5 s).
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    conns = [Connection(host, port) for _ in range(concurrency)]

    async def prime(conn: Connection) -> None:
        status, _ = await conn.request("GET", "/healthz", {})
        if status != 200:
            raise RuntimeError(f"/healthz: HTTP {status}")

    await asyncio.gather(*(prime(c) for c in conns))
    for conn in conns:
        pool.put_nowait(conn)
    if time.time() > start_wall - 0.05:
        raise RuntimeError(f"set-up took longer than the lead of {cfg['lead']} s: raise --lead-seconds")

    order = list(range(n))
    random.Random(cfg["seed"]).shuffle(order)
    bodies = [_bid_body(3_000_000 + 997 * i % 3_000_000) for i in range(n)]
    loop = asyncio.get_running_loop()
    offset = time.time() - loop.time()
    timeout = cfg["timeout"]
    records: list[dict] = [None] * n  # type: ignore[list-item]

    async def fire(slot: int) -> None:
        """One bid, sent at its scheduled time; it must be answered within `timeout`
        seconds of that time (waiting for a free client connection included)."""
        person = providers[order[slot]]
        scheduled = start_wall + spread * slot / n
        await asyncio.sleep(max(0.0, scheduled - offset - loop.time()))
        rec = {"slot": slot, "provider": person["org_id"], "scheduled": scheduled, "status": None, "error": None}
        records[slot] = rec
        try:
            conn = await asyncio.wait_for(pool.get(), max(0.001, scheduled + timeout - time.time()))
        except asyncio.TimeoutError:
            rec["sent"] = rec["received"] = time.time()
            rec["error"] = f"not sent: no free client connection within {timeout:g} s"
            return
        path = f"/api/v1/orgs/{person['org_id']}/tenders/{tender_id}/bid"
        headers = _json_headers(person["token"], **{"Idempotency-Key": f"burst-{uuid.uuid4()}"})
        started = time.perf_counter()
        rec["sent"] = time.time()
        try:
            status, payload = await asyncio.wait_for(conn.request("POST", path, headers, bodies[slot]),
                                                     max(0.001, scheduled + timeout - rec["sent"]))
            rec["received"] = time.time()
            rec["latency_ms"] = (time.perf_counter() - started) * 1000
            rec["status"] = status
            rec["body"] = payload[:4000].decode(errors="replace")
        except asyncio.TimeoutError:
            rec["received"] = time.time()
            rec["error"] = f"no answer within {timeout:g} s of the scheduled send"
            conn.close()
        except (OSError, HttpError, asyncio.IncompleteReadError, ValueError) as exc:
            rec["received"] = time.time()
            rec["error"] = f"{type(exc).__name__}: {exc}"
            conn.close()
        finally:
            pool.put_nowait(conn)

    await asyncio.gather(*(fire(slot) for slot in range(n)))
    for conn in conns:
        conn.close()
    # The tender stays sealed until the grace has passed; read it then, as the merchant
    # (every read closes a tender that is due), and once more a moment later.
    sealed = {}
    status, during = await call(control, "GET", f"/api/v1/orgs/{merchant['org_id']}/tenders/{tender_id}",
                                _json_headers(merchant["token"]))
    sealed["status_before_grace_end"] = during.get("status") if time.time() < deadline_wall + cfg["grace"] else None
    control.close()  # the server drops an idle keep-alive connection after 5 s
    await asyncio.sleep(max(0.0, deadline_wall + cfg["grace"] + 0.2 - time.time()))
    status, after = await call(control, "GET", f"/api/v1/orgs/{merchant['org_id']}/tenders/{tender_id}",
                               _json_headers(merchant["token"]))
    sealed["status_after_grace"] = after.get("status")
    control.close()
    Path(out_path).write_text(json.dumps({
        "tender_id": tender_id, "deadline": row["bid_deadline"], "deadline_wall": deadline_wall,
        "start_wall": start_wall, "records": records, "grace": cfg["grace"], **sealed,
    }))


# --- PostgreSQL activity sampler and CPU accounting ----------------------------------------


class Sampler:
    """Every 25 ms, in a thread: the CPU seconds used so far by the machine, the server's
    processes, the load process and the server's PostgreSQL backends, and (PostgreSQL)
    what those backends are doing, from pg_stat_activity."""

    def __init__(self, database: str | None, server_pid: int) -> None:
        self.database = database
        self.server_pids = _process_tree(server_pid)
        self.load_pid: int | None = None
        self.samples: list[tuple[float, list[tuple[str, str, str, int]]]] = []
        self.backends: set[int] = set()
        # (time, machine busy CPU-s, server CPU-s, load CPU-s, {backend pid: CPU-s})
        self.cpu: list[tuple[float, float, float, float, dict[int, float]]] = []
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def cpu_between(self, start: float, end: float) -> dict | None:
        inside = [c for c in self.cpu if start <= c[0] <= end]
        if len(inside) < 2:
            return None
        first, last = inside[0], inside[-1]
        seen: dict[int, float] = {}
        for sample in inside:
            for pid, value in sample[4].items():
                seen.setdefault(pid, value)
        result = {"seconds": last[0] - first[0], "machine": last[1] - first[1], "server": last[2] - first[2],
                  "load": last[3] - first[3]}
        if self.database:
            result["postgres"] = sum(value - seen[pid] for pid, value in last[4].items())
        return result

    def _cpu_sample(self) -> None:
        self.cpu.append((time.time(), _machine_busy(), sum(proc_cpu_seconds(p) for p in self.server_pids),
                         proc_cpu_seconds(self.load_pid) if self.load_pid else 0.0,
                         {pid: proc_cpu_seconds(pid) for pid in self.backends}))

    def _run(self) -> None:
        try:
            asyncio.run(self._sample())
        except Exception as exc:  # the sampler is diagnosis only
            self.error = f"{type(exc).__name__}: {exc}"

    async def _sample(self) -> None:
        if not self.database:
            while not self._stop.is_set():
                self._cpu_sample()
                await asyncio.sleep(0.025)
            return
        import asyncpg

        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=self.database)
        try:
            statement = await conn.prepare(
                "SELECT pid, coalesce(state, ''), coalesce(wait_event_type, ''), coalesce(wait_event, '') "
                "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'")
            while not self._stop.is_set():
                rows = await statement.fetch(self.database)
                grouped: dict[tuple[str, str, str], int] = {}
                for pid, state, wait_type, wait_event in rows:
                    self.backends.add(pid)
                    grouped[(state, wait_type, wait_event)] = grouped.get((state, wait_type, wait_event), 0) + 1
                self.samples.append((time.time(), [(*k, c) for k, c in grouped.items()]))
                self._cpu_sample()
                await asyncio.sleep(0.025)
        finally:
            await conn.close()


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _machine_busy() -> float:
    """CPU-seconds the whole machine has been busy (all cores, everything but idle and I/O wait)."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


# --- analysis ------------------------------------------------------------------------------


def _parse_time(text: str | None) -> float | None:
    if not text:
        return None
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))  # nearest rank
    return ordered[index]


def _fmt_pcts(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"p50 {_pct(values, .5):7.1f}  p90 {_pct(values, .9):7.1f}  p99 {_pct(values, .99):7.1f}  "
            f"max {max(values):7.1f} ms  (n={len(values)})")


def analyse(load: dict, db: dict, args, engine: str, sampler: Sampler | None, loadavg: str) -> bool:
    records = load["records"]
    deadline = _parse_time(load["deadline"])
    stored = {b["provider"]: b for b in db["bids"]}
    total = len(records)

    accepted, rejected, other, no_answer, server_errors = [], [], [], [], []
    for rec in records:
        status = rec["status"]
        body = {}
        if rec.get("body"):
            try:
                body = json.loads(rec["body"])
            except ValueError:
                body = {}
        rec["json"] = body
        if status is None:
            no_answer.append(rec)
        elif status == 201:
            accepted.append(rec)
        elif status == 409 and body.get("code") == "bid_deadline_passed":
            rejected.append(rec)
        elif status >= 500:
            server_errors.append(rec)
        else:
            other.append(rec)

    acked_missing = [r for r in accepted if r["provider"] not in stored]
    lost = len(acked_missing) + len(no_answer) + len(server_errors)
    acked = {r["provider"] for r in accepted}
    stored_unacked = [p for p in stored if p not in acked]

    late_stored = [b for b in db["bids"] if _parse_time(b["submitted_at"]) >= deadline]
    sent_late_accepted = [r for r in accepted if r["sent"] >= deadline]
    body_late_accepted = [r for r in accepted if _parse_time(r["json"].get("submitted_at")) is None
                          or _parse_time(r["json"].get("submitted_at")) >= deadline]
    wrongly_accepted = {b["provider"] for b in late_stored} | {r["provider"] for r in sent_late_accepted} | {
        r["provider"] for r in body_late_accepted}

    grace = load.get("grace", 0.0)

    def received_at(r):  # the server's stamp: submitted_at of a 201, received_at of a 409
        return _parse_time(r["json"].get("submitted_at") if r["status"] == 201 else r["json"].get("received_at"))

    early_rejected = [r for r in rejected if (received_at(r) or deadline) < deadline
                      and (_parse_time(r["json"].get("server_time")) or 0) < deadline + grace]
    rejected_but_stored = [r for r in rejected if r["provider"] in stored]
    wrongly_rejected = {r["provider"] for r in early_rejected} | {r["provider"] for r in rejected_but_stored}
    sent_in_time = [r for r in records if r["sent"] < deadline - IN_TIME_MARGIN]
    received_in_time = [r for r in records if r["status"] in (201, 409)
                        and (received_at(r) or deadline) < deadline - IN_TIME_MARGIN]
    refused_sent_in_time = [r for r in sent_in_time if r["status"] != 201]
    refused_received_in_time = [r for r in received_in_time if r["status"] != 201]
    deadline_field_wrong = [r for r in rejected if _parse_time(r["json"].get("deadline")) != deadline]

    latencies = [r["latency_ms"] for r in records if r["status"] is not None]
    from_scheduled = [(r["received"] - r["scheduled"]) * 1000 for r in records if r["status"] is not None]
    client_waits = [(r["sent"] - r["scheduled"]) * 1000 for r in records]
    first_sent = min(r["sent"] for r in records)
    last_answer = max(r["received"] for r in records)
    answered = len(latencies)
    acc_window = (max(r["received"] for r in accepted) - first_sent) if accepted else 0.0
    # The target is judged on the latency from the scheduled send, which includes any wait
    # for a free client connection (so a slow server cannot hide behind a full client pool).
    p99 = max(_pct(latencies, 0.99), _pct(from_scheduled, 0.99))

    keys = [k for k in db["idempotency"] if k["scope_key"].split(":", 1)[0] in load.get("burst_users", [])]

    label = f"bid burst on {engine}"
    print()
    print(f"{label}: {total} bids over {args.spread_seconds:g} s, deadline {args.deadline_after:g} s after the first "
          f"send ({load['deadline']}), uvicorn workers {args.workers}, {args.concurrency} client connections, "
          f"scheduled jobs {'on' if args.scheduler else 'off'}")
    print("-" * 78)
    rows = [
        ("total", total, ""),
        ("accepted (201)", len(accepted), f"stored bids: {len(db['bids'])}, idempotency records: {len(keys)}"),
        ("rejected (409 bid_deadline_passed)", len(rejected), ""),
        ("lost", lost, f"201 not stored {len(acked_missing)}, no answer/time-out {len(no_answer)}, "
                       f"5xx {len(server_errors)}"),
        ("wrongly accepted", len(wrongly_accepted), f"stored >= deadline {len(late_stored)}, 201 sent >= deadline "
                                                    f"{len(sent_late_accepted)}"),
        ("wrongly rejected", len(wrongly_rejected), f"received < deadline and decided within the grace "
                                                    f"{len(early_rejected)}, 409 but stored {len(rejected_but_stored)}"),
        (f"refused, sent >= {1000 * IN_TIME_MARGIN:.0f} ms before deadline", len(refused_sent_in_time),
         f"of {len(sent_in_time)} sent then"),
        (f"refused, received >= {1000 * IN_TIME_MARGIN:.0f} ms before", len(refused_received_in_time),
         f"of {len(received_in_time)} received then (server's stamp)"),
        ("errors (other answers)", len(other), ""),
    ]
    for name, value, note in rows:
        print(f"{name:<36} {value:>6}   {note}")
    print(f"{'latency (ms)':<36} p50 {_pct(latencies, .5):.1f} / p90 {_pct(latencies, .9):.1f} / "
          f"p99 {_pct(latencies, .99):.1f} / max {max(latencies) if latencies else float('nan'):.1f}"
          "   (send -> answer)")
    print(f"{'  from the scheduled send time':<36} p50 {_pct(from_scheduled, .5):.1f} / "
          f"p90 {_pct(from_scheduled, .9):.1f} / "
          f"p99 {_pct(from_scheduled, .99):.1f} / max {max(from_scheduled) if from_scheduled else float('nan'):.1f}"
          + ("   (client connections were all busy: requests queued before sending)"
             if _pct(client_waits, .99) > 5 else ""))
    print(f"{'throughput':<36} {answered / (last_answer - first_sent):.0f} answered req/s "
          f"({answered} in {last_answer - first_sent:.2f} s, offered {total / args.spread_seconds:.0f} req/s); "
          f"{len(accepted) / acc_window if acc_window else 0:.0f} accepted bids/s")
    print("-" * 78)
    closed = load.get("status_after_grace")
    fair = (lost == 0 and not wrongly_accepted and not wrongly_rejected and not refused_sent_in_time
            and not refused_received_in_time and closed in ("bidding_closed", "unsuccessful")
            and load.get("status_before_grace_end") in (None, "published"))
    fast = p99 < TARGET_P99_MS
    print(f"deadline target: 0 lost, 0 wrongly accepted or rejected, 0 refused of those sent or received >= "
          f"{1000 * IN_TIME_MARGIN:.0f} ms before the deadline, sealed until the grace ({grace:g} s) ended, then "
          f"closed -> {'MET' if fair else 'NOT MET'}")
    print(f"latency target: p99 < {TARGET_P99_MS:.0f} ms (p99 {p99:.0f} ms) -> {'MET' if fast else 'NOT MET'}")
    ok = fair and fast

    # --- diagnosis ---
    print()
    print("diagnosis")
    for title, items in (("other answers", other), ("5xx", server_errors), ("no answer", no_answer)):
        if items:
            kinds: dict[str, int] = {}
            for r in items:
                key = r["error"] or f"{r['status']} {r['json'].get('code', r.get('body', '')[:80])}"
                kinds[key] = kinds.get(key, 0) + 1
            print(f"  {title}: " + "; ".join(f"{k} x{v}" for k, v in sorted(kinds.items(), key=lambda x: -x[1])[:6]))
    if stored_unacked:
        print(f"  stored bids without a 201 answer: {len(stored_unacked)}")
    if deadline_field_wrong:
        print(f"  409s whose deadline field differs from the tender's: {len(deadline_field_wrong)}")
    sent_before = [r for r in records if r["sent"] < deadline]
    rejected_slots = {r["slot"] for r in rejected}
    print(f"  sent before the deadline: {len(sent_before)}; of them accepted "
          f"{sum(1 for r in sent_before if r['status'] == 201)}, rejected "
          f"{sum(1 for r in sent_before if r['slot'] in rejected_slots)} (received by the server at or after the "
          f"deadline: {sum(1 for r in sent_before if r['slot'] in rejected_slots and received_at(r) >= deadline)})")
    print(f"  the tender after the burst: {load.get('status_before_grace_end') or '-'} while the grace ran, "
          f"{closed} once it had passed")
    print(f"  latency, accepted:             {_fmt_pcts([r['latency_ms'] for r in accepted])}")
    print(f"  latency, rejected:             {_fmt_pcts([r['latency_ms'] for r in rejected])}")
    for name, group in (("sent before deadline", sent_before),
                        ("sent after deadline", [r for r in records if r["sent"] >= deadline])):
        print(f"  latency, {name + ':':<21} {_fmt_pcts([r['latency_ms'] for r in group if r['status']])}")
    to_stamp = [((received_at(r) - r["sent"]) * 1000, (r["received"] - received_at(r)) * 1000)
                for r in accepted if received_at(r) is not None]
    rej_stamp = [((received_at(r) - r["sent"]) * 1000, (r["received"] - received_at(r)) * 1000)
                 for r in rejected if received_at(r) is not None]
    rej_lock = [((_parse_time(r["json"]["server_time"]) - r["sent"]) * 1000) for r in rejected
                if r["json"].get("server_time")]
    print("  where the time went (received: the server's stamp once the body had arrived; decided: the server "
          "time read once the tender is held, a shared advisory lock on PostgreSQL, the write lock on SQLite):")
    print(f"    accepted, send -> received:   {_fmt_pcts([a for a, _ in to_stamp])}")
    print(f"    accepted, received -> answer: {_fmt_pcts([b for _, b in to_stamp])}")
    print(f"    rejected, send -> received:   {_fmt_pcts([a for a, _ in rej_stamp])}")
    print(f"    rejected, received -> answer: {_fmt_pcts([b for _, b in rej_stamp])}")
    print(f"    rejected, send -> decided:    {_fmt_pcts(rej_lock)}")
    print(f"  client-side delay before sending (no free connection / busy loop): {_fmt_pcts(client_waits)}")

    closed_at = next((_parse_time(a["at"]) for a in db["audit"] if a["action"] == "status_bidding_closed"), None)
    notes = [_parse_time(n["created_at"]) for n in db["notifications"] if n["kind"].startswith("bidding_closed")]
    if closed_at:
        line = (f"  bidding closed (audit) {1000 * (closed_at - deadline):.0f} ms after the deadline; tender "
                f"status {db['tender']['status']}")
        if notes:
            line += (f"; the closing transaction wrote {len(notes)} notifications up to "
                     f"{1000 * (max(notes) - closed_at):.0f} ms after it began, holding "
                     + ("the tender exclusively" if engine == "postgres" else "the database's write lock"))
        print(line)
        first_409 = min((r["received"] for r in rejected), default=None)
        if first_409:
            print(f"  first 409 answered {1000 * (first_409 - deadline):.0f} ms after the deadline")
    else:
        line = f"  tender status {db['tender']['status']}: nothing committed the closing of bidding"
        if db["tender"]["status"] == "published" and rejected:
            line += (f" although {len(rejected)} requests after the deadline were answered (a closing done inside "
                     "a late bid's transaction rolls back with its 409)")
        print(line)

    if sampler is not None and sampler.samples:
        def counts(sample):
            active = sum(c for s, _, _, c in sample if s == "active")
            lock = sum(c for s, w, _, c in sample if w == "Lock")
            idle_tx = sum(c for s, _, _, c in sample if s.startswith("idle in transaction"))
            conns = sum(c for _, _, _, c in sample)
            events: dict[str, int] = {}
            for s, w, e, c in sample:
                if w == "Lock":
                    events[e] = events.get(e, 0) + c
            return active, lock, idle_tx, conns, events

        window = [(t, counts(s)) for t, s in sampler.samples if first_sent - 0.1 <= t <= last_answer + 0.1]
        if window:
            print(f"  PostgreSQL sessions of the server during the burst ({len(window)} samples every 25 ms): "
                  f"max connections {max(c[3] for _, c in window)}, max active {max(c[0] for _, c in window)}, "
                  f"max idle in transaction {max(c[2] for _, c in window)}, max waiting on a lock "
                  f"{max(c[1] for _, c in window)}")
            lock_events: dict[str, int] = {}
            for _, c in window:
                for e, k in c[4].items():
                    lock_events[e] = lock_events.get(e, 0) + k
            if lock_events:
                print("    lock waits by event (session-samples): " + ", ".join(
                    f"{e} {k}" for e, k in sorted(lock_events.items(), key=lambda x: -x[1])))
            print("    from (ms after the deadline)  conns active idle-in-tx lock-wait   (max in each interval)")
            # 250 ms intervals over the burst and the second after it, then at most 12 longer ones.
            edges = [first_sent]
            while edges[-1] < min(last_answer, first_sent + args.spread_seconds + 1.0):
                edges.append(edges[-1] + 0.25)
            if edges[-1] < last_answer:
                rest = (last_answer - edges[-1]) / 12
                edges += [edges[-1] + rest * (i + 1) for i in range(12)]
            for low, high in zip(edges, edges[1:]):
                part = [c for t, c in window if low <= t < high]
                if part:
                    print(f"    {1000 * (low - deadline):>+28.0f}  {max(c[3] for c in part):>5} "
                          f"{max(c[0] for c in part):>6} {max(c[2] for c in part):>10} {max(c[1] for c in part):>9}")
    cpu = sampler.cpu_between(first_sent, last_answer) if sampler is not None else None
    if cpu and cpu["seconds"] > 0:
        cores = os.cpu_count() or 1
        others = max(0.0, cpu["machine"] - cpu["server"] - cpu["load"] - cpu.get("postgres", 0.0))
        print(f"  CPU from the first send to the last answer ({cpu['seconds']:.2f} s, {cores} cores = "
              f"{cores * cpu['seconds']:.1f} CPU-s): machine busy {cpu['machine']:.1f} CPU-s "
              f"({cpu['machine'] / (cores * cpu['seconds']):.0%}); server processes {cpu['server']:.2f} "
              f"({cpu['server'] / cpu['seconds']:.0%} of one core), "
              + (f"its PostgreSQL backends {cpu['postgres']:.2f}, " if "postgres" in cpu else "")
              + f"load process {cpu['load']:.2f}, everything else on the machine {others:.2f}")
        if answered:
            per = 1000 * (cpu["server"] + cpu.get("postgres", 0.0)) / answered
            print(f"  CPU per answered request: server {1000 * cpu['server'] / answered:.1f} ms"
                  + (f" + PostgreSQL {1000 * cpu['postgres'] / answered:.1f} ms" if "postgres" in cpu else "")
                  + f" = {per:.1f} ms; {cores} cores could answer at most ~{1000 * cores / per:.0f} req/s "
                  f"if nothing else ran")
    print(f"  load average before the run: {loadavg}" + (f"; sampler error: {sampler.error}"
                                                          if sampler is not None and sampler.error else ""))
    return ok


def summarise_server_log(text: str) -> None:
    """Counts the server's tracebacks by their final exception line."""
    lines = text.splitlines()
    tracebacks = sum(1 for line in lines if line.startswith("Traceback"))
    errors = sum(1 for line in lines if " ERROR " in line)
    if not tracebacks and not errors:
        return
    kinds: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or lines[j].startswith("Traceback")):
                j += 1
            if j < len(lines):
                kinds[lines[j][:160]] = kinds.get(lines[j][:160], 0) + 1
    print(f"  server log: {errors} ERROR lines, {tracebacks} tracebacks: " + "; ".join(
        f"{k} x{v}" for k, v in sorted(kinds.items(), key=lambda x: -x[1])[:4]))


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--bids", type=int, default=1000, help="bids in the burst, one per provider (default 1000)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of `fuwu serve` (default 1)")
    parser.add_argument("--concurrency", type=int, default=200, help="client connections (default 200)")
    parser.add_argument("--spread-seconds", type=float, default=2.0,
                        help="the bids are sent evenly over this many seconds (default 2.0)")
    parser.add_argument("--deadline-after", type=float, default=None,
                        help="bid deadline, seconds after the first bid is sent (default: half the spread)")
    parser.add_argument("--lead-seconds", type=float, default=2.5,
                        help="time between publishing the tender and the first bid (default 2.5)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="a bid unanswered this many seconds after its scheduled send is lost (default 30)")
    parser.add_argument("--grace", type=int, default=30,
                        help="FUWU_BID_GRACE_SECONDS: how long the tender stays sealed after the deadline so that "
                             "bids received in time commit (default 30, the server's default)")
    parser.add_argument("--scheduler", action="store_true",
                        help="run the scheduled jobs (the 15 s job that closes due tenders) as deployed")
    parser.add_argument("--fresh-tokens", action="store_true",
                        help="leave the tokens' last_used_at empty, so each first request also writes it")
    parser.add_argument("--seed", type=int, default=1, help="shuffles which provider bids when")
    parser.add_argument("--keep-json", metavar="PATH", help="also write the raw per-request records here")
    args = parser.parse_args()
    if args.deadline_after is None:
        args.deadline_after = args.spread_seconds / 2
    if args.bids < 1 or args.concurrency < 1 or args.workers < 1 or args.spread_seconds <= 0:
        parser.error("--bids, --concurrency, --workers and --spread-seconds must be positive")
    if args.lead_seconds < 1.5:
        parser.error("--lead-seconds must be at least 1.5 (the minimum bidding time is 1 s)")

    cleanup = Cleanup()
    previous = {sig: signal.signal(sig, raise_exit) for sig in (signal.SIGTERM, signal.SIGHUP)}
    # Ctrl-C must interrupt even when started with SIGINT ignored (e.g. as a background job).
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    sampler: Sampler | None = None
    try:
        folder = tempfile.mkdtemp(prefix=f"fuwu-burst-{args.engine}-")
        cleanup.folders.append(folder)
        env = base_env(folder)
        env["FUWU_BID_GRACE_SECONDS"] = str(args.grace)
        database = None
        if args.engine == "postgres":
            database = create_database(cleanup)
            env["DATABASE_URL"] = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"
        where = f"database {database}" if database else f"SQLite in {folder}"
        print(f"[{args.engine}] fresh {where}; migrating ...", flush=True)
        run_checked("fuwu migrate", [venv_bin("fuwu"), "migrate"], env, 300)

        started = time.monotonic()
        seed_path = Path(folder) / "seed.json"
        run_checked("seeding", [sys.executable, __file__, "_seed", str(seed_path), str(args.bids), str(WARM_PROVIDERS),
                                "1" if args.fresh_tokens else "0"], env, 600)
        seed = json.loads(seed_path.read_text())
        print(f"[{args.engine}] seeded 1 merchant and {args.bids} + {WARM_PROVIDERS} (warm-up) providers with tokens "
              f"in {time.monotonic() - started:.1f} s", flush=True)

        if args.scheduler:
            env["FUWU_RUN_SCHEDULER"] = "1"
        base, server = start_server(cleanup, env, args.workers, Path(folder) / "server.log")
        if args.scheduler and args.workers > 1:
            # `fuwu serve` turns the jobs off in its workers; a deployment runs `fuwu worker` once.
            log = open(Path(folder) / "worker.log", "wb")
            cleanup.processes.append(subprocess.Popen([venv_bin("fuwu"), "worker"], env=env, cwd=str(ROOT), stdout=log,
                                                      stderr=subprocess.STDOUT, start_new_session=True))
            log.close()
        port = int(base.rsplit(":", 1)[1])
        print(f"[{args.engine}] fuwu serve on {base} ({args.workers} worker(s), scheduled jobs "
              f"{'on' if args.scheduler else 'off'}); warming up, publishing the tender, "
              f"firing {args.bids} bids ...", flush=True)

        config_path = Path(folder) / "load-config.json"
        load_path = Path(folder) / "load.json"
        config_path.write_text(json.dumps({
            "host": HOST, "port": port, "merchant": seed["merchant"], "providers": seed["providers"],
            "warm": seed["warm"], "bids": args.bids, "concurrency": args.concurrency, "spread": args.spread_seconds,
            "deadline_after": args.deadline_after, "lead": args.lead_seconds, "timeout": args.timeout,
            "seed": args.seed, "grace": args.grace,
        }))
        loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        sampler = Sampler(database, server.pid)
        load_proc = subprocess.Popen([sys.executable, __file__, "_load", str(config_path), str(load_path)],
                                     env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        cleanup.processes.append(load_proc)
        sampler.load_pid = load_proc.pid
        sampler.start()
        budget = 60 + args.lead_seconds + args.spread_seconds + max(args.timeout, args.grace + 5)
        try:
            output, _ = load_proc.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the load process did not finish within {budget:.0f} s") from None
        finally:
            sampler.stop()
        if load_proc.returncode != 0 or not load_path.exists():
            raise RuntimeError(f"the load process failed ({load_proc.returncode}):\n"
                               f"{output.decode(errors='replace')[-4000:]}")
        load = json.loads(load_path.read_text())
        load["burst_users"] = [p["user_id"] for p in seed["providers"]]

        verify_path = Path(folder) / "verify.json"
        run_checked("verification", [sys.executable, __file__, "_verify", str(verify_path), load["tender_id"]],
                    env, 300)
        db = json.loads(verify_path.read_text())
        server_log = (Path(folder) / "server.log").read_text(errors="replace")
        if args.keep_json:
            Path(args.keep_json).write_text(json.dumps(
                {"load": load, "db": db, "pg_samples": sampler.samples, "cpu_samples": sampler.cpu}, indent=1))
        ok = analyse(load, db, args, args.engine, sampler, loadavg)
        summarise_server_log(server_log)
        return 0 if ok else 1
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        try:
            if sampler:
                sampler.stop()
        finally:
            cleanup.run()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _hidden() -> int | None:
    if len(sys.argv) > 1 and sys.argv[1] in ("_seed", "_load", "_verify"):
        os.environ.setdefault("PICCOLO_CONF", "fuwu.piccolo_conf")
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        command, rest = sys.argv[1], sys.argv[2:]
        if command == "_seed":
            asyncio.run(_seed(rest[0], int(rest[1]), int(rest[2]), rest[3] == "1"))
        elif command == "_verify":
            asyncio.run(_verify(rest[0], rest[1]))
        else:
            try:
                import uvloop

                uvloop.install()
            except ImportError:
                pass
            asyncio.run(_load(rest[0], rest[1]))
        return 0
    return None


if __name__ == "__main__":
    hidden = _hidden()
    if hidden is not None:
        sys.exit(hidden)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; the server stopped, temporary database and folder removed", file=sys.stderr)
        sys.exit(130)
