"""HTTP throughput baseline: Fuwu's real app against a bare Litestar route.

Measures requests per second and the server's CPU time per request, side by side in
one run, on SQLite and on PostgreSQL, the latter reached twice: through TCP on loopback
(`postgres`) and through its Unix socket (`pg-socket`, `?host=<folder>` in DATABASE_URL),
the two ways a server on the database's own machine can be set up. On loopback, the
web process's send() also pays for PostgreSQL's side of TCP, which a database on
another machine would take on its own CPU:

  page       GET /providers                       public HTML page (20 providers listed)
  api list   GET /api/v1/notifications?limit=20   Bearer token, a full page of 20 rows
  bare       GET /bare                            a tiny Litestar app defined in this file

Every server is uvicorn with 1 worker, started as a subprocess with --no-access-log
and FUWU_RUN_SCHEDULER=0 on a free loopback port. The script prepares its own data
(a fresh FUWU_DATA_DIR temp folder for SQLite, a fresh PostgreSQL database it creates
and drops), runs `fuwu migrate`, seeds providers, a user with notifications and an
API token, then loads each target with wrk (installed with apt-get when missing and
possible, else a multi-process raw-asyncio load generator) and prints the median of
3 runs, their spread, and each target's ratio to the bare route (req/s and CPU).

The path measured is the one users get: no process-local cache sits in it. After the
measurements the script proves it on each engine's server: a notification stored by
another process is on the next page read, and a token revoked by another process is
refused on its next request.

Exit status 1 when any request errored (non-2xx/3xx answer, socket error) or timed
out (wrk's 2 s), or when the no-cache check fails: the figures of a run that dropped
requests are not figures.

    .venv/bin/python bench/http_baseline.py [--duration 10] [--connections 64]
                                            [--only sqlite|postgres|pg-socket ...] [--loadgen auto|wrk|python]

Not a test: it prints figures. Everything it starts it stops, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# bench/ is on sys.path when run.
from harness import (PG_HOST, PG_PORT, PG_USER, Cleanup, free_port, pg_url, proc_cpu_seconds,  # noqa: E402
                     raise_exit, venv_bin)

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
ENGINES = ("sqlite", "postgres", "pg-socket")
TARGET_RATIO = 0.30  # api list / bare route on PostgreSQL (issue 7)
PAGE_TARGET_RATIO = 0.15  # /providers page / bare route
LOADGEN_TIMEOUT = 2.0  # seconds; wrk's default, and the Python load generator's


# --- the bare route (served by uvicorn as `http_baseline:create_bare_app`) -------------


def create_bare_app():
    from litestar import Litestar, get

    @get("/bare", sync_to_thread=False)
    def bare() -> dict[str, str]:
        return {"hello": "world"}

    @get("/healthz", sync_to_thread=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[bare, healthz])


# --- seeding (run in a subprocess with the engine's environment) ----------------------

SEED_SNIPPET = r"""
import asyncio, json, sys

async def main(providers, notes):
    from fuwu import db
    from fuwu.schemas import OrganisationCreate
    from fuwu.services import accounts, notifications
    from fuwu.services.accounts import Viewer

    await db.start()
    try:
        categories = ["cs_presales", "design", "photography", "consulting", "video", "cs_postsales", "other"]
        owner, _ = await accounts.sign_up(
            "provider-owner@bench.example", "bench-password-123", "Provider Owner", "en",
            OrganisationCreate(kind="provider", name="Bench Provider 1", province="Zhejiang", city="Hangzhou",
                               categories=categories[:2], profile="Customer service outsourcing for shops."),
        )
        owner_viewer = Viewer(user_id=owner["id"], email=owner["email"], display_name=owner["display_name"],
                              locale="en", timezone="Asia/Shanghai", via="session")
        for i in range(2, providers + 1):
            await accounts.create_organisation(owner_viewer, OrganisationCreate(
                kind="provider", name=f"Bench Provider {i}", province="Guangdong", city="Shenzhen",
                categories=[categories[i % 7], categories[(i + 3) % 7]],
                profile=f"Provider number {i}: photography, design and after-sales support for online shops.",
            ))
        user, org = await accounts.sign_up(
            "merchant@bench.example", "bench-password-123", "Bench Merchant", "en",
            OrganisationCreate(kind="merchant", name="Bench Shop", size="medium", province="Shanghai",
                               city="Shanghai"),
        )
        for i in range(notes):
            await notifications.notify(
                [user["id"]], kind="member_joined", title="{name} joined {org}",
                params={"name": f"Teammate {i}", "org": "Bench Shop"}, link="/org", organisation=org["id"],
            )
        viewer = Viewer(user_id=user["id"], email=user["email"], display_name=user["display_name"],
                        locale="en", timezone="Asia/Shanghai", via="session")
        token = await accounts.create_token(viewer, "bench")
        print("SEED " + json.dumps({"token": token["token"]}))
    finally:
        await db.stop()

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


# What another process does between two requests: stores a notification for the user,
# or revokes the token. The server must see it on the very next request.
CHANGE_SNIPPET = r"""
import asyncio, sys

async def main(action, token):
    from fuwu import db
    from fuwu.services import notifications
    from fuwu.services.accounts import tokens
    from fuwu.clock import now
    from fuwu.tables import ApiToken
    from fuwu.security import token_hash

    await db.start()
    try:
        row = await ApiToken.select(ApiToken.id, ApiToken.user).where(ApiToken.token_hash == token_hash(token)).first()
        if action == "notify":
            await notifications.notify([row["user"]], kind="member_joined", title="{name} joined {org}",
                                       params={"name": "Fresh teammate", "org": "Bench Shop"}, link="/org")
        else:
            await ApiToken.update({ApiToken.revoked_at: now()}).where(ApiToken.id == row["id"])
    finally:
        await db.stop()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


# --- processes and clean-up ------------------------------------------------------------


def http_get(url: str, headers: dict | None = None, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def start_server(cleanup: Cleanup, name: str, app: str, env: dict, app_dir: str | None = None) -> tuple[str, int]:
    port = free_port()
    command = [
        venv_bin("uvicorn"), app, "--factory", "--host", HOST, "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    ]
    if app_dir:
        command += ["--app-dir", app_dir]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(command, env=env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    cleanup.processes.append(proc)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{name} server exited ({proc.returncode}):\n{log.read().decode(errors='replace')}")
        try:
            if http_get(base + "/healthz", timeout=1)[0] == 200:
                return base, proc.pid
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} server did not answer /healthz within 60 s")


# --- data preparation -------------------------------------------------------------------


def base_env() -> dict:
    env = dict(os.environ)
    for key in ("DATABASE_URL", "FUWU_DATA_DIR", "REDIS_URL"):
        env.pop(key, None)
    env.update(
        PICCOLO_CONF="fuwu.piccolo_conf",
        FUWU_RUN_SCHEDULER="0",
        FUWU_SECRET_KEY=secrets.token_urlsafe(48),
        FUWU_DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def prepare_engine(cleanup: Cleanup, engine: str, providers: int, notes: int) -> tuple[dict, str]:
    """A fresh, migrated and seeded database; returns (env, api token)."""
    env = base_env()
    folder = tempfile.mkdtemp(prefix=f"fuwu-bench-{engine}-")
    cleanup.folders.append(folder)
    env["FUWU_DATA_DIR"] = folder
    if engine in ("postgres", "pg-socket"):
        name = f"fuwu_bench_{os.getpid()}_{secrets.token_hex(3)}"
        cleanup.databases.append(name)
        subprocess.run(["createdb", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, name],
                       check=True, capture_output=True, timeout=60)
        env["DATABASE_URL"] = pg_url(name, via_socket=engine == "pg-socket")
    migrate = subprocess.run([venv_bin("fuwu"), "migrate"], env=env, cwd=str(ROOT), capture_output=True,
                             text=True, timeout=300)
    if migrate.returncode != 0:
        raise RuntimeError(f"fuwu migrate failed on {engine}:\n{migrate.stdout}\n{migrate.stderr}")
    seed = subprocess.run([sys.executable, "-c", SEED_SNIPPET, str(providers), str(notes)], env=env,
                          cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    line = next((x for x in seed.stdout.splitlines() if x.startswith("SEED ")), None)
    if seed.returncode != 0 or line is None:
        raise RuntimeError(f"seeding failed on {engine}:\n{seed.stdout}\n{seed.stderr}")
    return env, json.loads(line[5:])["token"]


# --- load generators ----------------------------------------------------------------------


@dataclass
class Result:
    rps: float
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors (connect, read, write)
    timeouts: int = 0  # requests that got no answer within the load generator's timeout (2 s)
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_ms: float | None = None  # server process CPU time per request (user + system, all threads)


def ensure_wrk(allow_install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not allow_install:
        return found
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("wrk is missing: trying `apt-get install -y wrk` ...", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"],
                        ["apt-get", "install", "-y", "-q", "wrk"]):
            try:
                subprocess.run(command, env=env, capture_output=True, timeout=300)
            except subprocess.TimeoutExpired:
                break
            if shutil.which("wrk"):
                break
    return shutil.which("wrk")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def run_wrk(wrk: str, url: str, headers: dict, duration: float, connections: int, threads: int) -> Result:
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s", "--latency",
               "--timeout", f"{LOADGEN_TIMEOUT:g}s"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    timeouts = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        connect, read, write, timeouts = (int(x) for x in sock.groups())
        errors += connect + read + write
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    return Result(rps, total, errors, timeouts, _ms(p50.group(1)) if p50 else None,
                  _ms(p99.group(1)) if p99 else None)


async def _py_client(host: str, port: int, request: bytes, stop_at: float, counts: list, latencies: list) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            match = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
            if match:
                await reader.readexactly(int(match.group(1)))
            elif b"transfer-encoding: chunked" in lower:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            latencies.append(time.perf_counter() - started)
            counts[0] += 1
            if not 200 <= status < 400:
                counts[1] += 1
            if latencies[-1] > LOADGEN_TIMEOUT:
                counts[2] += 1
    except (OSError, asyncio.IncompleteReadError):
        counts[1] += 1
    finally:
        writer.close()


def _py_worker(url: str, headers: dict, duration: float, connections: int, queue) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def main():
        counts, latencies = [0, 0, 0], []
        stop_at = time.monotonic() + duration
        started = time.monotonic()
        await asyncio.gather(*(_py_client(parts.hostname, parts.port, request, stop_at, counts, latencies)
                               for _ in range(connections)))
        return counts, latencies, time.monotonic() - started

    counts, latencies, elapsed = asyncio.run(main())
    queue.put((counts[0], counts[1], elapsed, sorted(latencies)[:: max(1, len(latencies) // 2000)], counts[2]))


def run_python_loadgen(url: str, headers: dict, duration: float, connections: int, processes: int) -> Result:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    per = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    workers = [ctx.Process(target=_py_worker, args=(url, headers, duration, n, queue), daemon=True) for n in per if n]
    for worker in workers:
        worker.start()
    try:
        results = [queue.get(timeout=duration + 60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    total = sum(r[0] for r in results)
    elapsed = max(r[2] for r in results)
    lat = sorted(x for r in results for x in r[3])
    pct = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: None)
    return Result(total / elapsed, total, sum(r[1] for r in results), sum(r[4] for r in results), pct(0.50),
                  pct(0.99))


# --- main -----------------------------------------------------------------------------------


@dataclass
class Target:
    label: str
    engine: str
    url: str
    headers: dict
    pid: int
    runs: list[Result] = field(default_factory=list)

    env: dict | None = None  # the engine's environment, for the no-cache check
    token: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def failed(self) -> int:
        return sum(r.errors + r.timeouts for r in self.runs)


def spread(values) -> float:
    """(max - min) / median of the runs, in percent."""
    values = [v for v in values if v is not None]
    return (max(values) - min(values)) * 100 / statistics.median(values) if values else float("nan")


def check_no_cache(target: Target) -> list[str]:
    """Proves that the server answers from the database, not from a process-local copy:
    another process stores a notification (it must lead the next page read) and then
    revokes the token (the next request must get 401)."""
    problems = []

    def change(action: str) -> None:
        done = subprocess.run([sys.executable, "-c", CHANGE_SNIPPET, action, target.token], env=target.env,
                              cwd=str(ROOT), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{action} on {target.engine} failed:\n{done.stdout}\n{done.stderr}")

    change("notify")
    status, _, body = http_get(target.url, target.headers)
    first = json.loads(body)["items"][0]["title"] if status == 200 else None
    if first != "Fresh teammate joined Bench Shop":
        problems.append(f"{target.engine}: a notification stored by another process was not on the next page read "
                        f"(HTTP {status}, first item {first!r})")
    change("revoke")
    status, _, _ = http_get(target.url, target.headers)
    if status != 401:
        problems.append(f"{target.engine}: a token revoked by another process still answered HTTP {status}")
    return problems


def check_target(target: Target) -> str:
    status, headers, body = http_get(target.url, target.headers)
    kind = headers.get("content-type") or headers.get("Content-Type", "")
    if status != 200:
        raise RuntimeError(f"{target.label} on {target.engine}: HTTP {status}: {body[:300]!r}")
    if "/api/v1/notifications" in target.url:
        page = json.loads(body)
        if len(page["items"]) != 20 or not page["next_cursor"]:
            raise RuntimeError(f"api list returned {len(page['items'])} items, expected a full page of 20")
        return f"200 {kind}, 20 items + next_cursor, {len(body)} bytes"
    if target.url.endswith("/providers") and body.count(b"Bench Provider") < 20:
        raise RuntimeError("the providers page does not list 20 providers")
    return f"200 {kind}, {len(body)} bytes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per target (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads / Python load processes (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per target; the median is shown")
    parser.add_argument("--only", choices=ENGINES, action="append",
                        help="measure this engine only (may be given more than once); pg-socket is PostgreSQL "
                             "through its Unix socket, postgres through TCP on loopback")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk (apt-get installed if missing and possible), else Python")
    parser.add_argument("--providers", type=int, default=20, help="provider organisations to seed (default 20)")
    parser.add_argument("--notifications", type=int, default=25, help="notifications of the user (>= 21)")
    parser.add_argument("--busy-runs", type=int, default=1,
                        help="runs of the API list (16 connections) beside 48 connections on /healthz, per engine "
                             "(default 1; 0 skips them)")
    args = parser.parse_args()
    if args.notifications < 21:
        parser.error("--notifications must be at least 21 so that a full page of 20 has a next page")
    if args.providers < 20:
        parser.error("--providers must be at least 20 so that the page shows a full list")

    wrk = None if args.loadgen == "python" else ensure_wrk(allow_install=True)
    if args.loadgen == "wrk" and not wrk:
        print("wrk is not available and could not be installed", file=sys.stderr)
        return 2
    if wrk:
        version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout.split("[")[0].strip()
        loadgen = f"{version}, {args.threads} threads"

        def generate(target: Target, duration: float, connections: int | None = None) -> Result:
            return run_wrk(wrk, target.url, target.headers, duration, connections or args.connections, args.threads)
    else:
        why = "chosen with --loadgen python" if args.loadgen == "python" else "wrk unavailable"
        loadgen = (f"Python raw-asyncio load generator, {args.threads} processes ({why}; it shares the 2 cores "
                   "with the servers and takes more CPU than wrk, so figures are lower)")

        def generate(target: Target, duration: float, connections: int | None = None) -> Result:
            return run_python_loadgen(target.url, target.headers, duration, connections or args.connections,
                                      args.threads)

    def measure(target: Target, duration: float) -> Result:
        before = proc_cpu_seconds(target.pid)
        result = generate(target, duration)
        after = proc_cpu_seconds(target.pid)
        if after > before and result.requests:
            result.cpu_ms = (after - before) * 1000 / result.requests
        return result

    engines = args.only or list(ENGINES)
    cleanup = Cleanup()
    previous = {sig: signal.signal(sig, raise_exit) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        targets: list[Target] = []
        bare_base, bare_pid = start_server(cleanup, "bare", "http_baseline:create_bare_app", base_env(), str(BENCH_DIR))
        bare = Target("bare route", "-", bare_base + "/bare", {}, bare_pid)
        targets.append(bare)
        for engine in engines:
            print(f"preparing {engine}: fresh database, migrate, seed ...", flush=True)
            env, token = prepare_engine(cleanup, engine, args.providers, args.notifications)
            base, pid = start_server(cleanup, engine, "fuwu.app:create_app", env)
            targets.append(Target("page GET /providers", engine, base + "/providers", {}, pid))
            targets.append(Target("api list GET /api/v1/notifications", engine,
                                  base + "/api/v1/notifications?limit=20", {"Authorization": f"Bearer {token}"}, pid,
                                  env=env, token=token))
        for target in targets:
            print(f"  check {target.label} [{target.engine}]: {check_target(target)}", flush=True)

        print(f"load generator: {loadgen}; {args.connections} connections; {args.duration:g} s x {args.runs} "
              f"runs per target after {args.warmup:g} s warm-up; runs interleaved across targets", flush=True)
        load_before = load_average()
        print(f"load average before measuring: {load_before} ({os.cpu_count()} CPUs)", flush=True)
        if args.warmup > 0:
            for target in targets:
                measure(target, args.warmup)
        for round_no in range(1, args.runs + 1):
            for target in targets:
                result = measure(target, args.duration)
                target.runs.append(result)
                print(f"  run {round_no}/{args.runs} {target.label:<38} {target.engine:<8} {result.rps:>9.0f} req/s"
                      f"  p50 {result.p50_ms or float('nan'):.2f} ms  p99 {result.p99_ms or float('nan'):.2f} ms"
                      f"  server CPU {result.cpu_ms or float('nan'):.3f} ms/req"
                      + (f"  ERRORS {result.errors}" if result.errors else "")
                      + (f"  TIMEOUTS {result.timeouts}" if result.timeouts else ""), flush=True)
        # Issue 8, point 23: the API list while other requests keep the event loop busy
        # (48 connections on /healthz beside 16 on the list): readers must not starve.
        busy_runs: list[tuple[Target, Result, Result]] = []
        if args.busy_runs:
            import threading

            for target in [t for t in targets if t.token]:
                for _ in range(args.busy_runs):
                    other: dict = {}
                    base = target.url.split("/api/")[0]
                    thread = threading.Thread(target=lambda: other.setdefault("r", generate(
                        Target("busy", target.engine, base + "/healthz", {}, target.pid), args.duration, 48)))
                    thread.start()
                    result = generate(target, args.duration, 16)
                    thread.join()
                    busy_runs.append((target, result, other["r"]))
                    print(f"  busy {target.label:<38} {target.engine:<8} {result.rps:>9.0f} req/s  p50 "
                          f"{result.p50_ms or float('nan'):.2f} ms  p99 {result.p99_ms or float('nan'):.2f} ms  beside "
                          f"{other['r'].rps:.0f} req/s on /healthz" + (f"  ERRORS {result.errors}" if result.errors else "")
                          + (f"  TIMEOUTS {result.timeouts}" if result.timeouts else ""), flush=True)
        load_after = load_average()
        cache_problems = []
        for target in targets:
            if target.token:
                problems = check_no_cache(target)
                cache_problems += problems
                if not problems:
                    print(f"  no-cache check [{target.engine}]: a notification stored by another process led the "
                          "next page; a token revoked by another process got 401 on its next request", flush=True)
    finally:
        cleanup.run()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else float("nan")

    bare_rps = bare.median
    bare_cpu = med(r.cpu_ms for r in bare.runs)
    print()
    head = (f"{'target':<37} {'engine':<8} {'req/s':>7} {'ratio':>6}  {'runs (req/s)':<17} {'spread':>6}"
            f" {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} {'runs (CPU ms/req)':<19} {'spread':>6} {'CPU ratio':>9}"
            f" {'failed':>6}")
    print(head)
    print("-" * len(head))
    for target in targets:
        runs = "/".join(f"{r.rps:.0f}" for r in target.runs)
        cpu_runs = "/".join(f"{r.cpu_ms:.3f}" if r.cpu_ms else "?" for r in target.runs)
        cpu = med(r.cpu_ms for r in target.runs)
        print(f"{target.label:<37} {target.engine:<8} {target.median:>7.0f} {target.median / bare_rps:>6.2f}"
              f"  {runs:<17} {spread(r.rps for r in target.runs):>5.0f}%"
              f" {med(r.p50_ms for r in target.runs):>7.2f} {med(r.p99_ms for r in target.runs):>7.2f}"
              f" {cpu:>10.3f} {cpu_runs:<19} {spread(r.cpu_ms for r in target.runs):>5.0f}% {bare_cpu / cpu:>9.2f}"
              f" {target.failed:>6}")
    print("-" * len(head))
    print(f"load generator: {loadgen}; {args.connections} connections; uvicorn 1 worker per server")
    print(f"load average before/after: {load_before} / {load_after} on {os.cpu_count()} CPUs. 'ratio' is the "
          "target's median req/s over the bare route's; 'spread' is (max - min) / median of the runs. 'CPU ms/req' "
          "is the server process's CPU time per request; 'CPU ratio' (bare CPU / target CPU) is the ratio a "
          "dedicated core would give, and is less disturbed by other load on the machine than req/s. 'failed': "
          f"requests that errored or timed out (no answer within {LOADGEN_TIMEOUT:g} s).")
    for engine in engines:
        for label in ("api list", "page"):
            target = next(t for t in targets if t.engine == engine and t.label.startswith(label))
            goal = TARGET_RATIO if label == "api list" else PAGE_TARGET_RATIO
            cpu = med(r.cpu_ms for r in target.runs)
            print(f"{label} / bare on {engine}: req/s {target.median / bare_rps:.2f}, CPU {bare_cpu / cpu:.2f} "
                  f"(target >= {goal:.2f})")
    if busy_runs:
        print("API list beside a busy event loop (16 connections on the list, 48 on /healthz; issue 8, point 23):")
        for target, result, other in busy_runs:
            print(f"  {target.engine:<8} {result.rps:>6.0f} req/s  p50 {result.p50_ms or float('nan'):.2f} ms  p99 "
                  f"{result.p99_ms or float('nan'):.2f} ms  failed {result.errors + result.timeouts}  (/healthz "
                  f"{other.rps:.0f} req/s, p99 {other.p99_ms or float('nan'):.2f} ms)")
    failed = [t for t in targets if t.failed]
    failed_busy = [(t, r) for t, r, _ in busy_runs if r.errors or r.timeouts]
    if failed or cache_problems or failed_busy:
        for target, result in failed_busy:
            print(f"FAILED: {target.label} [{target.engine}] beside a busy event loop: {result.errors} requests "
                  f"errored and {result.timeouts} timed out (no answer within {LOADGEN_TIMEOUT:g} s) of "
                  f"{result.requests}", file=sys.stderr)
        for target in failed:
            errors = sum(r.errors for r in target.runs)
            timeouts = sum(r.timeouts for r in target.runs)
            print(f"FAILED: {target.label} [{target.engine}]: {errors} requests errored and {timeouts} timed out "
                  f"(no answer within {LOADGEN_TIMEOUT:g} s) of {sum(r.requests for r in target.runs)}",
                  file=sys.stderr)
        for problem in cache_problems:
            print(f"FAILED: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped and temporary databases dropped", file=sys.stderr)
        sys.exit(130)
