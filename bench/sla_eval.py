"""SLA evaluation at scale: 100 contracts, 100,000 conversations and 1,000,000 events
of one month, evaluated through the real evaluation job, beside one raw SQL aggregate
over the same rows; the import of 1,000,000 history events from JSON Lines; the same
evaluation on SQLite. See bench/README.md.

    .venv/bin/python bench/sla_eval.py                 # PostgreSQL and SQLite, 3 runs each
    .venv/bin/python bench/sla_eval.py --scale 0.05    # a quick check (5 % of the events)
    .venv/bin/python bench/sla_eval.py --only postgres --runs 1

Each engine gets a fresh database (PostgreSQL: created and dropped; SQLite: a temp
folder), migrated with `fuwu migrate`. The data are generated in one child process
(COPY on PostgreSQL, executemany batches on SQLite); each measured step runs in a
child process of its own, so that its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import Cleanup, child_result, fresh_engine, raise_exit, run_child, runs  # noqa: E402

CONTRACTS = 100
CONVERSATIONS_PER_CONTRACT = 1_000
EVENTS_PER_CONVERSATION = 10
ZONE = ZoneInfo("Asia/Shanghai")
MONTH_START = datetime(2026, 3, 1, tzinfo=ZONE)
MONTH_END = datetime(2026, 4, 1, tzinfo=ZONE)
# The job runs an hour after the month closed.
MOMENT = MONTH_END + timedelta(hours=1)
COVERAGE = {"weekdays": {day: [["09:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "holidays": []}
TARGETS = [  # metric, statistic, comparator, target
    ("first_response_time", "mean", "<=", 25.0),
    ("next_response_time", "p90", "<=", 60.0),
    ("resolution_time", "median", "<=", 600.0),
    ("inquiry_conversion_rate", "rate", ">=", 0.45),
    ("service_attitude", "mean", ">=", 4.5),
]
# Count and mean response gap per contract: each buyer message answered by the next
# event of its conversation being an agent reply. Both engines.
RAW_AGGREGATE = """
SELECT contract, COUNT(*) AS n, AVG(gap) AS mean_gap FROM (
  SELECT contract, kind,
    LEAD(kind) OVER (PARTITION BY contract, conversation ORDER BY at_us, id) AS next_kind,
    LEAD(at_us) OVER (PARTITION BY contract, conversation ORDER BY at_us, id) - at_us AS gap
  FROM sla_service_event
  WHERE source = 'live' AND contract IS NOT NULL AND at_us >= $1 AND at_us < $2
) pairs
WHERE kind = 'buyer_message' AND next_kind = 'agent_reply'
GROUP BY contract
"""


# --- the child processes ------------------------------------------------------------------


def _conversation(rng: random.Random, number: int, prefix: str) -> list[tuple[str, datetime, dict]]:
    """One conversation of EVENTS_PER_CONVERSATION events in the month, inside the
    coverage hours: a first response near 20 s, next responses near 25 s, a close,
    then a rating or an order."""
    day = MONTH_START + timedelta(days=rng.randrange(31))
    opened = day + timedelta(hours=9, seconds=rng.random() * 13.5 * 3600)
    conversation, buyer = f"{prefix}c{number}", f"{prefix}b{number}"
    gap = lambda mean: timedelta(seconds=max(1.0, rng.gauss(mean, mean / 3)))  # noqa: E731
    at = opened
    events = [("conversation_opened", at, {"conversation": conversation, "buyer": buyer}),
              ("buyer_message", at, {"conversation": conversation, "buyer": buyer})]
    at += gap(20)
    events.append(("agent_reply", at, {"conversation": conversation, "agent": "a1"}))
    at += timedelta(seconds=40 + rng.random() * 60)
    events.append(("buyer_message", at, {"conversation": conversation, "buyer": buyer}))
    at += timedelta(seconds=10)
    events.append(("buyer_message", at, {"conversation": conversation, "buyer": buyer}))
    at += gap(25)
    events.append(("agent_reply", at, {"conversation": conversation, "agent": "a2"}))
    at += timedelta(seconds=60)
    events.append(("buyer_message", at, {"conversation": conversation, "buyer": buyer}))
    at += gap(25)
    events.append(("agent_reply", at, {"conversation": conversation, "agent": "a1"}))
    at += timedelta(minutes=5)
    events.append(("conversation_closed", at, {"conversation": conversation}))
    if number % 2:
        events.append(("chat_rated", at + timedelta(minutes=1),
                       {"conversation": conversation, "rating": rng.choice((3, 4, 5, 5, 5))}))
    else:
        events.append(("order_placed", opened + timedelta(hours=1),
                       {"buyer": buyer, "order": f"o{number}", "amount": 12_900, "currency": "CNY"}))
    return events


async def _generate(scale: float) -> dict:
    from fuwu.db import atomic, executemany, fetch, is_postgres
    from fuwu.piccolo_conf import DB
    from fuwu.tables import Organisation
    from sla import sql
    from sla.calendar import to_us
    from sla.services.events import order_key
    from sla.tables import Contract, SlaTarget

    started = time.perf_counter()
    rng = random.Random(2026)
    per_contract = max(1, round(CONVERSATIONS_PER_CONTRACT * scale))
    merchants = [Organisation(kind="merchant", name=f"Bench merchant {i}", size="medium") for i in range(CONTRACTS)]
    providers = [Organisation(kind="provider", name=f"Bench provider {i}", categories=["cs_presales"])
                 for i in range(10)]
    contracts = []
    async with atomic():
        await Organisation.insert(*merchants, *providers)
        for index, merchant in enumerate(merchants):
            contract = Contract(merchant=merchant.id, provider=providers[index % 10].id, category="cs_presales",
                                status="active", starts_at=MONTH_START, ends_at=MONTH_START + timedelta(days=365),
                                currency="CNY", pricing_model="periodic_fee",
                                pricing_terms={"amount": 1_000_000, "unit": "month", "period": "month"},
                                period_fee=1_000_000, time_zone="Asia/Shanghai", calendar=COVERAGE)
            contracts.append(contract)
        await Contract.insert(*contracts)
        await SlaTarget.insert(*[
            SlaTarget(contract=contract.id, metric=metric, statistic=statistic, comparator=comparator,
                      target=target, window="month", weight=20, credit_percent=5.0)
            for contract in contracts for metric, statistic, comparator, target in TARGETS])
    columns = list(sql.EVENT_COLUMNS)
    total = 0
    for contract in contracts:
        rows = []
        for number in range(per_contract):
            for kind, at, fields in _conversation(rng, number, ""):
                order = fields.get("order")
                rows.append({
                    "contract": None if kind == "order_placed" else contract.id, "shop": contract.merchant,
                    "source": "live", "kind": kind, "at": at, "at_us": to_us(at),
                    "conversation": fields.get("conversation"), "buyer": fields.get("buyer"),
                    "agent": fields.get("agent"), "order_ref": order, "rating": fields.get("rating"),
                    "amount": fields.get("amount"), "currency": fields.get("currency"),
                    "order_key": order_key("live", contract.merchant, order) if order else None})
        rows.sort(key=lambda row: row["at_us"])
        records = [tuple(row.get(name) for name in columns) for row in rows]
        async with atomic():
            if is_postgres():
                connection = DB.current_transaction.get().connection
                await connection.copy_records_to_table(sql.EVENTS, records=records, columns=columns)
            else:
                for first in range(0, len(records), 5_000):
                    await executemany(sql.INSERT_EVENTS, records[first:first + 5_000])
        total += len(records)
    # The chat steps of the events copied in above, built once, as the migration builds
    # them for a log: live, each append marks its conversation stale and the rebuild
    # job (every 30 s) rebuilds it (sla.services.events.rebuild_stale_steps), so a
    # month after the fact the evaluation finds them built.
    async with atomic():
        for statement in sql.REBUILD_ALL_STEPS:
            await fetch(statement)
    if is_postgres():
        await DB._run_in_new_connection(f"VACUUM ANALYZE {sql.EVENTS}")
        await DB._run_in_new_connection(f"VACUUM ANALYZE {sql.STEPS}")
    else:
        await fetch("ANALYZE")
    return {"contracts": len(contracts), "conversations": per_contract * len(contracts), "events": total,
            "seconds": time.perf_counter() - started}


async def _evaluate() -> dict:
    from fuwu.db import atomic
    from sla.services.closing import close_due_windows
    from sla.tables import Breach, Contract, Measurement, SlaWarning

    async with atomic():  # every run starts from nothing measured
        await SlaWarning.delete(force=True)
        await Breach.delete(force=True)
        await Measurement.delete(force=True)
        await Contract.update({Contract.evaluated_at: None}, force=True)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    totals = await close_due_windows(MOMENT, contracts=CONTRACTS, max_evaluations=100 * CONTRACTS)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    measured = await Measurement.count()
    return {"seconds": seconds, "cpu_s": cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_before_mb": rss_before / 1024, "measurements": measured, **totals}


async def _raw() -> dict:
    """The raw aggregate with the server's settings, then (PostgreSQL) once more in a
    read transaction with the settings the evaluation job's reads take
    (sla.sql.BULK_READ_SETTINGS: more memory for sorts, no JIT), for a like-for-like
    ratio beside the plain one."""
    from fuwu.db import fetch, is_postgres
    from fuwu.piccolo_conf import DB
    from sla import sql
    from sla.calendar import to_us

    started = time.perf_counter()
    rows = await fetch(RAW_AGGREGATE, to_us(MONTH_START), to_us(MONTH_END))
    seconds = time.perf_counter() - started
    tuned = None
    if is_postgres():
        async with DB.transaction():
            await fetch(sql.BULK_READ_SETTINGS)
            began = time.perf_counter()
            await fetch(RAW_AGGREGATE, to_us(MONTH_START), to_us(MONTH_END))
            tuned = time.perf_counter() - began
    return {"seconds": seconds, "tuned_seconds": tuned, "contracts": len(rows),
            "responses": sum(int(row["n"]) for row in rows),
            "mean_gap_s": statistics.fmean(float(row["mean_gap"]) for row in rows) / 1e6 if rows else None}


def _write_history(path: Path, events: int) -> int:
    rng = random.Random(7)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        number = 0
        while written < events:
            for kind, at, fields in _conversation(rng, number, "h"):
                if written >= events:
                    break
                out.write(json.dumps({"type": kind, "at": at.isoformat(), **fields}, separators=(",", ":")) + "\n")
                written += 1
            number += 1
    return written


async def _import(scale: float) -> dict:
    from fuwu.db import atomic
    from fuwu.tables import Organisation
    from sla.services.events import import_history

    events = round(CONTRACTS * CONVERSATIONS_PER_CONTRACT * EVENTS_PER_CONVERSATION * scale)
    folder = Path(os.environ["FUWU_DATA_DIR"])
    path = folder / "history.jsonl"
    _write_history(path, events)
    shop = Organisation(kind="merchant", name=f"Bench history shop {uuid.uuid4().hex[:6]}", size="medium")
    async with atomic():
        await shop.save()
    started = time.perf_counter()
    with path.open("rb") as source:
        result = await import_history(shop.id, iter(lambda: source.read(1 << 20), b""))
    seconds = time.perf_counter() - started
    path.unlink()
    return {"seconds": seconds, "lines": result["lines"], "added": result["added"],
            "per_second": result["added"] / seconds,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


async def _child(mode: str, scale: float) -> dict:
    from fuwu import db

    await db.start()
    try:
        if mode == "generate":
            return await _generate(scale)
        if mode == "evaluate":
            return await _evaluate()
        if mode == "raw":
            return await _raw()
        if mode == "import":
            return await _import(scale)
        raise SystemExit(f"unknown mode {mode}")
    finally:
        await db.stop()


# --- the parent -------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the 1,000,000 events (default 1)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("postgres", "sqlite"))
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_result(asyncio.run(_child(args.child, args.scale)))

    cleanup = Cleanup()
    signal.signal(signal.SIGTERM, raise_exit)
    verdicts = []
    try:
        print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
        for engine in [args.only] if args.only else ["postgres", "sqlite"]:
            print(f"\n== {engine}: fresh database, migrate ...", flush=True)
            env = fresh_engine(cleanup, engine, "sla")
            data = run_child(__file__, env, "generate", args.scale)
            print(f"data: {data['contracts']} contracts, {data['conversations']:,} conversations, "
                  f"{data['events']:,} events, generated in {data['seconds']:.1f} s", flush=True)
            evaluations, raws, tuned, peaks, cpus = [], [], [], [], []
            for number in range(args.runs):
                evaluated = run_child(__file__, env, "evaluate", args.scale)
                raw = run_child(__file__, env, "raw", args.scale)
                evaluations.append(evaluated["seconds"])
                raws.append(raw["seconds"])
                if raw["tuned_seconds"] is not None:
                    tuned.append(raw["tuned_seconds"])
                peaks.append(evaluated["peak_mb"])
                cpus.append(evaluated["cpu_s"])
                print(f"run {number + 1}: evaluation {evaluated['seconds']:.2f} s ({evaluated['evaluated']} windows, "
                      f"{evaluated['measurements']} measurements, {evaluated['raised']} breaches, "
                      f"{evaluated['warned']} warnings), peak memory {evaluated['peak_mb']:.0f} MB "
                      f"({evaluated['peak_before_mb']:.0f} MB before it); raw aggregate {raw['seconds']:.2f} s "
                      f"({raw['contracts']} contracts, {raw['responses']:,} responses, mean gap "
                      f"{raw['mean_gap_s']:.1f} s)"
                      + (f", with the job's settings {raw['tuned_seconds']:.2f} s" if raw["tuned_seconds"] else "")
                      + f"; evaluation process CPU {evaluated['cpu_s']:.2f} s; load average "
                      f"{os.getloadavg()[0]:.2f}", flush=True)
            ratio = statistics.median(evaluations) / statistics.median(raws)
            print(f"{engine}: evaluate one month, all contracts: {runs(evaluations, 's', 2)}; raw aggregate: "
                  f"{runs(raws, 's', 2)}; ratio {ratio:.2f} (target <= 3); peak memory {max(peaks):.0f} MB "
                  f"(target < 300)", flush=True)
            if tuned:
                print(f"{engine}: raw aggregate with the job's read settings: {runs(tuned, 's', 2)}; ratio "
                      f"{statistics.median(evaluations) / statistics.median(tuned):.2f}", flush=True)
            verdicts.append((engine, ratio, max(peaks)))
            if engine == "postgres" and not args.skip_import:
                imported = run_child(__file__, env, "import", args.scale)
                print(f"{engine}: import {imported['added']:,} history events from JSON Lines in "
                      f"{imported['seconds']:.1f} s: {imported['per_second']:,.0f} events/s (target > 50,000); "
                      f"peak memory {imported['peak_mb']:.0f} MB", flush=True)
        print(f"\nload average {os.getloadavg()[0]:.2f}")
        for engine, ratio, peak in verdicts:
            print(f"{engine}: evaluation / raw aggregate {ratio:.2f}, peak memory {peak:.0f} MB")
    finally:
        cleanup.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
