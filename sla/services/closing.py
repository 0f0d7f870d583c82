"""The evaluation job: closes every SLA window that has ended, re-evaluates the
recently closed ones when late data arrives, and warns both parties of targets at
risk in their running windows (DESIGN.md section 4).

Idempotent and safe to run twice, in any process: a window's measurement is
versioned by a unique key (a second run finds the same figure and stores nothing),
breaches are told in the transaction that changes them, warnings are keyed by target
and window. Each run takes a bounded number of contracts, those that waited longest
(`Contract.evaluated_at`), so a large deployment is gone through over several runs.
Reads happen in read transactions and every write in a short one of its own
(`evaluation.store`), so live chat writes never wait behind the job.
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
from sla.metrics import measure_many
from sla.services import evaluation, risk
from sla.services.contracts import CONTRACT_COLUMNS, TARGET_COLUMNS
from sla.tables import Contract, Measurement, ServiceEvent, SlaTarget
from sla.windows import period_of, periods

CONTRACTS_PER_RUN = 50
MAX_EVALUATIONS_PER_RUN = 2_000
# Contracts whose measurements are written at once: while one waits on the
# database another one's statements run (on SQLite the short writes queue).
CONCURRENCY = 4
# A contract's windows stored in one short write transaction.
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


async def _plan(contract: dict, targets: list[dict], moment: datetime.datetime,
                latest_as_of: dict[tuple[uuid.UUID, int], int]) -> tuple[list, list]:
    """What one contract needs as of `moment` (read inside the job's read transaction):

    - every window of every target that has ended since the contract started (up to
      its end or termination) and has no measurement yet is evaluated as of its end;
    - the last RECHECKED_WINDOWS closed windows of each target are re-evaluated when
      late data came: as of the last late event (`_late_as_of`) after the window's end
      and up to its late-data horizon, the end of the window that follows it (for
      the last closed window: up to `moment`). Recomputing as of the same moment
      stores nothing new, so a clock still running after the window's end gives no
      new version until an event stops it, and a window is final once its horizon
      has passed;
    - the running window of each target, for the early warnings (active contracts).

    Returns the work, [(target, window, T, rechecked)], and the running windows'
    targets."""
    moment_us = to_us(moment)
    ended = await _ended_at(contract)
    zone = contract["time_zone"]
    start_us, life_end_us = to_us(contract["starts_at"]), min(to_us(ended), moment_us)
    work: list[tuple[uuid.UUID, tuple[datetime.datetime, datetime.datetime], datetime.datetime, bool]] = []
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
                work.append((target["id"], span, from_us(window[1]), False))  # closed: as of its end
                known = window[1]
            if index >= len(closed) - RECHECKED_WINDOWS and await late(target["window"], window) > known:
                # late data: as of the last late event
                work.append((target["id"], span, from_us(await late(target["window"], window)), True))
    running = targets if contract["status"] == states.ACTIVE and start_us <= moment_us < to_us(ended) else []
    return work, running


async def close_due_windows(moment: datetime.datetime | None = None, *, contracts: int = CONTRACTS_PER_RUN,
                            max_evaluations: int = MAX_EVALUATIONS_PER_RUN, concurrency: int = CONCURRENCY) -> dict:
    """The job (every few minutes): up to `contracts` contracts, those that waited
    longest, as of `moment` (now).

    Reads first, in one read transaction: the due contracts, their targets and
    latest measurements, what each needs (`_plan`), and then every figure of every
    window of all of them at once, closed and running (sla.metrics.measure_many: one
    statement per metric family for all contracts, not one per contract and window).
    Then writes, in short transactions of their own (`evaluation.store`: a contract's
    windows, EVALUATION_BATCH at a time, `concurrency` contracts at a time), so live
    chat writes never wait behind the job: new measurement versions with their
    breaches, then the early warnings of targets at risk (once per target and
    window). At most `max_evaluations` windows a run: a contract whose windows did not
    all fit keeps its place and is taken first next time. Returns counts of what the
    run did."""
    moment = moment or now()
    moment_us = to_us(moment)
    totals = {"contracts": 0, "evaluated": 0, "stored": 0, "rechecked": 0, "raised": 0, "cleared": 0, "warned": 0}
    done: list[uuid.UUID] = []
    jobs: list[dict] = []  # per contract: contract, targets, prepared windows, running targets, finished
    async with evaluation.reading():
        due = await _due_contracts(moment, contracts)
        targets: dict = {}
        latest_as_of: dict[tuple[uuid.UUID, int], int] = {}
        if due:
            ids = [contract["id"] for contract in due]
            for row in await SlaTarget.select(*TARGET_COLUMNS, SlaTarget.contract).where(
                    SlaTarget.contract.is_in(ids)).order_by(SlaTarget.metric):
                targets.setdefault(row.pop("contract"), []).append(row)
            for row in await Measurement.select(Measurement.target, Measurement.window_start, Measurement.as_of).where(
                    Measurement.contract.is_in(ids)).order_by(Measurement.version):
                latest_as_of[(row["target"], to_us(row["window_start"]))] = to_us(row["as_of"])
        budget = max_evaluations
        for contract in due:
            if contract["status"] != states.ACTIVE and await _ended_at(contract) + ENDED_GRACE < moment:
                done.append(contract["id"])  # long over: its last windows were closed within the grace
                continue
            own = targets.get(contract["id"], [])
            work, running = await _plan(contract, own, moment, latest_as_of)
            finished = len(work) <= max(1, budget)
            if not finished:
                work = work[:max(1, budget)]
                running = []
            budget -= len(work)
            jobs.append({"contract": evaluation.party_form(contract), "targets": {t["id"]: t for t in own},
                         "running": running, "finished": finished,
                         "prepared": evaluation.prepare([(t, span, as_of) for t, span, as_of, _ in work]),
                         "rechecked": sum(1 for *_, rechecked in work if rechecked)})
            if not finished or budget <= 0:
                break
        requests = []
        for job in jobs:
            job["requests"] = evaluation.requests_for(job["contract"], job["targets"], job["prepared"])
            job["running_requests"] = risk.running_requests(job["contract"], job["running"], moment_us)
            requests += job["requests"] + job["running_requests"]
        results = iter(await measure_many(requests))
        for job in jobs:
            job["measured"] = evaluation.measured_from(job["targets"], job["prepared"],
                                                       [next(results) for _ in job["requests"]])
            job["running_rows"] = risk.running_rows(job["contract"], job["running"], job["running_requests"],
                                                    [next(results) for _ in job["running_requests"]])

    async def write(job: dict) -> dict:
        counts = {"evaluated": 0, "stored": 0, "raised": 0, "cleared": 0, "warned": 0}
        measured = job["measured"]
        for first in range(0, len(measured), EVALUATION_BATCH):
            for result in await evaluation.store(job["contract"], measured[first:first + EVALUATION_BATCH]):
                counts["evaluated"] += 1
                counts["stored"] += bool(result["changed"])
                if result.get("breach"):
                    counts[result["breach"]] += 1
        if job["finished"]:
            for row in job["running_rows"]:
                if row["at_risk"] and await risk.warn(job["contract"], row):
                    counts["warned"] += 1
        return counts

    try:
        for first in range(0, len(jobs), concurrency):
            group = jobs[first:first + concurrency]
            for job, counts in zip(group, await asyncio.gather(*(write(job) for job in group))):
                for name, value in counts.items():
                    totals[name] += value
                totals["contracts"] += 1
                totals["rechecked"] += job["rechecked"]
                if job["finished"]:
                    done.append(job["contract"]["id"])
    finally:
        if done:  # to the back of the queue
            async with atomic():
                await Contract.update({Contract.evaluated_at: now()}).where(Contract.id.is_in(done))
    return totals
