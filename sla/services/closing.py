"""The evaluation job: closes every SLA window that has ended, re-evaluates the
recently closed ones when late data arrives, and warns both parties of targets at
risk in their running windows (DESIGN.md section 4).

Idempotent and safe to run twice, in any process: a window's measurement is
versioned by a unique key (a second run finds the same figure and stores nothing),
breaches are told in the transaction that changes them, warnings are keyed by target
and window. Each run takes a bounded number of contracts, those that waited longest
(`Contract.evaluated_at`), so a large deployment is gone through over several runs.
Reads happen in read transactions and every write in a short one of its own
(`evaluation.evaluate_window`), so live chat writes never wait behind the job.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid

from piccolo.query.functions.aggregate import Max

from fuwu.clock import now
from fuwu.db import atomic
from fuwu.tables import AuditEvent
from sla import states
from sla.calendar import from_us, to_us
from sla.services import evaluation, risk
from sla.services.contracts import CONTRACT_COLUMNS, TARGET_COLUMNS
from sla.tables import Contract, Measurement, ServiceEvent, SlaTarget
from sla.windows import period_of, periods

CONTRACTS_PER_RUN = 50
MAX_EVALUATIONS_PER_RUN = 2_000
# Contracts gone through at once: while one waits on the database another one's
# statements run (on SQLite the reads run side by side and the short writes queue).
CONCURRENCY = 4
# Windows read in one transaction and stored in one short write transaction.
EVALUATION_BATCH = 20
# Closed windows re-evaluated for late data, per target: the last two.
RECHECKED_WINDOWS = 2
# A completed or terminated contract's last windows are closed (and re-checked) for
# this long after it ended.
ENDED_GRACE = datetime.timedelta(days=70)
MILESTONE_KINDS = (states.MILESTONE_CREATED, states.MILESTONE_SUBMITTED_EVENT, states.MILESTONE_ACCEPTED_EVENT,
                   states.MILESTONE_REJECTED_EVENT)


async def _due_contracts(moment: datetime.datetime, limit: int) -> list[dict]:
    """Contracts to go through: active ones that have started, and completed or
    terminated ones still within the grace after their end; never evaluated first,
    then those evaluated longest ago."""
    alive = (Contract.starts_at < moment) & ((Contract.status == states.ACTIVE) | (
        Contract.status.is_in([states.COMPLETED, states.TERMINATED]) & (Contract.ends_at > moment - ENDED_GRACE)))
    columns = (*CONTRACT_COLUMNS, Contract.evaluated_at)
    rows = await Contract.select(*columns).where(alive & Contract.evaluated_at.is_null()).order_by(
        Contract.created_at).limit(limit).output(load_json=True)
    if len(rows) < limit:
        rows += await Contract.select(*columns).where(alive & Contract.evaluated_at.is_not_null()).order_by(
            Contract.evaluated_at).limit(limit - len(rows)).output(load_json=True)
    return rows


async def _ended_at(contract: dict) -> datetime.datetime:
    """When the contract stopped being measured: its end date, or when it was
    terminated (from its audit timeline) if earlier."""
    end = contract["ends_at"]
    if contract["status"] == states.TERMINATED:
        row = await AuditEvent.select(AuditEvent.at).where(
            (AuditEvent.object_type == "contract") & (AuditEvent.object_id == str(contract["id"]))
            & (AuditEvent.action == f"status_{states.TERMINATED}")).order_by(AuditEvent.at).first()
        if row is not None:
            end = min(end, row["at"])
    return end


async def _late_as_of(contract: dict, window: tuple[int, int], horizon_us: int) -> int:
    """The moment to re-evaluate a closed window [start, end) as of: the last late
    event after its end and up to its late-data horizon, or its end when none came.
    Late events are those that can change the window's figures: a reply, close or
    rating in a conversation with a buyer message or close in the window, an order
    of a buyer who chatted in the window, and any milestone event."""
    (start_us, end_us), E = window, ServiceEvent  # noqa: N806
    live = (E.contract == contract["id"]) & (E.source == states.LIVE)
    inside = (E.at_us >= start_us) & (E.at_us < end_us)
    conversations = E.select(E.conversation).where(
        live & E.kind.is_in([states.BUYER_MESSAGE, states.CONVERSATION_CLOSED]) & inside)
    buyers = E.select(E.buyer).where(live & (E.kind == states.BUYER_MESSAGE) & inside)
    chat = live & E.kind.is_in([states.AGENT_REPLY, states.CONVERSATION_CLOSED, states.CHAT_RATED]) \
        & E.conversation.is_in(conversations)
    orders = (E.shop == contract["merchant_id"]) & (E.source == states.LIVE) & (E.kind == states.ORDER_PLACED) \
        & E.buyer.is_in(buyers)
    milestones = live & E.kind.is_in(list(MILESTONE_KINDS))
    row = await E.select(Max(E.at_us, alias="last")).where(
        (E.at_us >= end_us) & (E.at_us <= horizon_us) & (chat | orders | milestones)).first()
    return max(end_us, int(row["last"])) if row and row["last"] is not None else end_us


async def close_contract(contract: dict, targets: list[dict], moment: datetime.datetime, budget: int) -> dict:
    """Goes through one contract's windows as of `moment`:

    - every window of every target that has ended since the contract started (up to
      its end or termination) and has no measurement yet is evaluated as of its end;
    - the last RECHECKED_WINDOWS closed windows of each target are re-evaluated when
      late data came: as of the last late event (`_late_as_of`) after the window's end
      and up to its late-data horizon, the end of the window that follows it (for
      the last closed window: up to `moment`). Recomputing as of the same moment
      stores nothing new, so a clock still running after the window's end gives no
      new version until an event stops it, and a window is final once its horizon
      has passed;
    - every target at risk in its running window (sla.services.risk.at_risk) is
      warned of, once per target and window (active contracts only).

    Evaluates at most `budget` windows; returns counts and whether it finished."""
    moment_us = to_us(moment)
    ended = await _ended_at(contract)
    zone = contract["time_zone"]
    counts = {"evaluated": 0, "stored": 0, "rechecked": 0, "raised": 0, "cleared": 0, "warned": 0, "finished": True}
    start_us, life_end_us = to_us(contract["starts_at"]), min(to_us(ended), moment_us)
    work: list[tuple[uuid.UUID, tuple[datetime.datetime, datetime.datetime], datetime.datetime]] = []
    async with evaluation.reading():
        measured = await Measurement.select(Measurement.target, Measurement.window_start, Measurement.as_of).where(
            Measurement.contract == contract["id"]).order_by(Measurement.version)
        latest_as_of = {(row["target"], to_us(row["window_start"])): to_us(row["as_of"]) for row in measured}
        late_cache: dict[tuple[int, int, int], int] = {}

        async def late(size: str, window: tuple[int, int]) -> int:
            horizon = period_of(zone, size, window[1])[1]  # the end of the window that follows
            key = (window[0], window[1], min(horizon, moment_us))
            if key not in late_cache:
                late_cache[key] = await _late_as_of(contract, window, key[2])
            return late_cache[key]

        for target in targets:
            closed = []
            if life_end_us > start_us:
                for piece_start, _ in periods(zone, target["window"], start_us, life_end_us):
                    window = period_of(zone, target["window"], piece_start)
                    if window[1] <= moment_us:
                        closed.append(window)
            for index, window in enumerate(closed):
                known = latest_as_of.get((target["id"], window[0]))
                span = (from_us(window[0]), from_us(window[1]))
                if known is None:
                    work.append((target["id"], span, from_us(window[1])))  # closed: as of its end
                    known = window[1]
                if index >= len(closed) - RECHECKED_WINDOWS and await late(target["window"], window) > known:
                    work.append((target["id"], span, from_us(await late(target["window"], window))))
                    counts["rechecked"] += 1  # late data: as of the last late event
        # The running windows, for the early warnings, in the same read transaction.
        running = []
        if contract["status"] == states.ACTIVE and start_us <= moment_us < to_us(ended):
            running = await risk.running_windows(contract, targets, moment)
    if len(work) > budget:
        work, counts["finished"] = work[:budget], False
    for first in range(0, len(work), EVALUATION_BATCH):
        for result in await evaluation.evaluate_windows(contract["id"], work[first:first + EVALUATION_BATCH]):
            counts["evaluated"] += 1
            counts["stored"] += bool(result["changed"])
            if result.get("breach"):
                counts[result["breach"]] += 1
    if not counts["finished"]:
        return counts
    for row in running:
        if row["at_risk"] and await risk.warn(contract, row):
            counts["warned"] += 1
    return counts


async def close_due_windows(moment: datetime.datetime | None = None, *, contracts: int = CONTRACTS_PER_RUN,
                            max_evaluations: int = MAX_EVALUATIONS_PER_RUN, concurrency: int = CONCURRENCY) -> dict:
    """The job (every few minutes): up to `contracts` contracts, those that waited
    longest, each gone through by `close_contract`, as of `moment` (now),
    `concurrency` contracts at a time (each on its own connection: the metric
    statements of one contract run while another's wait). A contract whose windows
    did not all fit in the run's `max_evaluations` keeps its place and is taken
    first next time. Returns counts of what the run did."""
    moment = moment or now()
    async with evaluation.reading():
        due = await _due_contracts(moment, contracts)
        targets: dict = {}
        if due:
            for row in await SlaTarget.select(*TARGET_COLUMNS, SlaTarget.contract).where(
                    SlaTarget.contract.is_in([contract["id"] for contract in due])).order_by(SlaTarget.metric):
                targets.setdefault(row.pop("contract"), []).append(row)
    totals = {"contracts": 0, "evaluated": 0, "stored": 0, "rechecked": 0, "raised": 0, "cleared": 0, "warned": 0}
    done: list[uuid.UUID] = []

    async def one(contract: dict, budget: int) -> dict | None:
        if contract["status"] != states.ACTIVE and await _ended_at(contract) + ENDED_GRACE < moment:
            return None  # long over: its last windows were closed within the grace
        return await close_contract(contract, targets.get(contract["id"], []), moment, budget)

    try:
        for first in range(0, len(due), concurrency):
            group = due[first:first + concurrency]
            budget = max(1, (max_evaluations - totals["evaluated"]) // len(group))
            finished = True
            for contract, counts in zip(group, await asyncio.gather(*(one(c, budget) for c in group))):
                if counts is not None:
                    for name in totals:
                        if name != "contracts":
                            totals[name] += counts[name]
                    totals["contracts"] += 1
                    if not counts["finished"]:
                        finished = False
                        continue  # keeps its place in the queue
                done.append(contract["id"])
            if not finished or totals["evaluated"] >= max_evaluations:
                break
    finally:
        if done:  # to the back of the queue
            async with atomic():
                await Contract.update({Contract.evaluated_at: now()}).where(Contract.id.is_in(done))
    return totals
