"""The chat's storing path alone, in one process on PostgreSQL: statements (database
round trips) and CPU a message, one sender at a time and with many at once (group
commit), and where the CPU goes (cProfile's top functions).

    .venv/bin/python bench/chat_store.py [--messages 3000] [--senders 200] [--profile]

Creates and drops its own database. Counts every round trip asyncpg makes
(`fetch`, `execute`, `executemany`, BEGIN and COMMIT included) while buyers and agents
post through `chat.services.conversations.post`, each message acknowledged (the call
returns) only after its commit, as over the WebSocket. No channel layer: the fan-out
is the socket benchmark's (bench/chat_load.py). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import PG_HOST, PG_PORT, PG_USER  # noqa: E402

COUNTS = {"round_trips": 0}


def count_round_trips() -> None:
    import asyncpg.connection

    for name in ("fetch", "execute", "executemany", "fetchrow", "fetchval"):
        original = getattr(asyncpg.connection.Connection, name)

        def wrapper(self, *args, __original=original, **kwargs):
            COUNTS["round_trips"] += 1
            return __original(self, *args, **kwargs)

        setattr(asyncpg.connection.Connection, name, wrapper)


async def seed(conversations: int):
    import datetime

    from chat.tables import Conversation
    from fuwu.clock import now
    from fuwu.services import accounts
    from fuwu.schemas import OrganisationCreate
    from sla.tables import Contract

    def org(kind):
        extra = {"size": "medium"} if kind == "merchant" else {"categories": ["cs_presales"]}
        return OrganisationCreate(kind=kind, name=f"{kind} {secrets.token_hex(3)}", province="Zhejiang",
                                  city="Hangzhou", **extra)

    merchant_user, merchant = await accounts.sign_up(f"m{secrets.token_hex(4)}@x.example", "correct horse battery",
                                                     "Merchant", "en", org("merchant"))
    agent_user, provider = await accounts.sign_up(f"p{secrets.token_hex(4)}@x.example", "correct horse battery",
                                                  "Agent", "en", org("provider"))
    starts = now() - datetime.timedelta(days=1)
    contract = Contract(merchant=merchant["id"], provider=provider["id"], category="cs_presales", status="active",
                        starts_at=starts, ends_at=starts + datetime.timedelta(days=365), currency="CNY",
                        pricing_model="periodic_fee", pricing_terms={}, period_fee=1, time_zone="Asia/Shanghai",
                        calendar={})
    await contract.save()
    ids = []
    for n in range(conversations):
        row = Conversation(kind="shop", shop=merchant["id"], provider=provider["id"], contract=contract.id,
                           buyer=f"buyer-{n:05d}", agent=agent_user["id"], status="assigned", opened_at=now(),
                           assigned_at=now())
        await row.save()
        ids.append(row.id)
    return merchant["id"], provider["id"], agent_user["id"], ids


async def phase(name: str, messages: int, senders: int, people, ids, profile: bool) -> None:
    from chat.services import conversations

    shop, provider, agent, _ = people
    buyer_of = {cid: conversations.Participant(shop=shop, buyer=f"buyer-{n:05d}") for n, cid in enumerate(ids)}
    agent_view = conversations.Participant(user_id=agent, organisations={provider: "agent"})
    work = [(ids[n % len(ids)], n) for n in range(messages)]
    batches = []
    group = getattr(conversations, "_GroupCommit", None)  # absent before group commit (to compare)
    original = group.store if group else None

    async def store(self, batch):
        batches.append(len(batch))
        return await original(self, batch)

    if group:
        group.store = store
    profiler = cProfile.Profile() if profile else None

    async def sender(slot: int) -> None:
        for cid, n in work[slot::senders]:
            who = buyer_of[cid] if n % 2 == 0 else agent_view
            _, created = await conversations.post(who, cid, f"{name}-{n}", f"message {n}")
            assert created

    COUNTS["round_trips"] = 0
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    await asyncio.gather(*[sender(slot) for slot in range(senders)])
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if group:
        group.store = original
    fallbacks = conversations._group_commit().fallbacks if group else 0
    batching = (f"{fallbacks} batches stored one by one, batch mean {sum(batches) / len(batches):5.1f}, "
                f"max {max(batches)}") if batches else "no group commit"
    print(f"{name:<28} {messages / wall:8.0f} msg/s  {COUNTS['round_trips'] / messages:5.2f} round trips a message  "
          f"{cpu / messages * 1000:5.3f} ms CPU a message (this process)  {batching}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
        print("\n".join(out.getvalue().splitlines()[:45]))


async def main(args) -> None:
    from fuwu import db
    from fuwu.app import wire

    wire()
    await db.start()
    try:
        await db.migrate()
        people = await seed(args.conversations)
        count_round_trips()
        await phase("one sender at a time", args.messages // 3, 1, people, people[3], False)
        await phase(f"{args.senders} senders at once", args.messages, args.senders, people, people[3], args.profile)
    finally:
        await db.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    name = f"fuwu_chatstore_{os.getpid()}"
    subprocess.run(["createdb", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, name], check=True)
    os.environ["DATABASE_URL"] = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    os.environ.setdefault("PICCOLO_CONF", "fuwu.piccolo_conf")
    try:
        print(f"load average {os.getloadavg()[0]:.1f}")
        asyncio.run(main(args))
        print(f"load average {os.getloadavg()[0]:.1f}")
    finally:
        subprocess.run(["dropdb", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "--if-exists", name], check=False)
