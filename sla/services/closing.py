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

from fuwu.clock import now
from fuwu.db import atomic, dump_json, fetch, is_postgres
from fuwu.tables import AuditEvent
from sla import sql, states
from sla.calendar import from_us, to_us
from sla.metrics import measure_many
from sla.services import evaluation, events, risk
from sla.services.contracts import CONTRACT_COLUMNS, TARGET_COLUMNS
from sla.tables import Contract, Measurement, SlaTarget
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


def _closed(contract: dict, targets: list[dict], moment: datetime.datetime, ended: datetime.datetime) -> list:
    """Each target's closed windows: those that have ended since the contract started
    (up to its end or termination), as (target, [(start, end), ...])."""
    moment_us = to_us(moment)
    start_us, life_end_us = to_us(contract["starts_at"]), min(to_us(ended), moment_us)
    closed_by_target = []
    for target in targets:
        closed = []
        if life_end_us > start_us:
            for piece_start, _ in periods(contract["time_zone"], target["window"], start_us, life_end_us):
                window = period_of(contract["time_zone"], target["window"], piece_start)
                if window[1] <= moment_us:
                    closed.append(window)
        closed_by_target.append((target, closed))
    return closed_by_target


def _horizon(contract: dict, size: str, window: tuple[int, int], moment_us: int) -> int:
    """How long late data re-open a closed window: up to the end of the window that
    follows it, or the present if earlier."""
    return min(period_of(contract["time_zone"], size, window[1])[1], moment_us)


async def _late_many(checks: list[tuple[dict, tuple[int, int], int]]) -> list[int]:
    """The moment to re-evaluate each closed window [start, end) as of, for many
    (contract, window, horizon) at once, in one statement (sla.sql.LATE_EVENTS_*):
    the last late event after its end and up to its late-data horizon, or its end
    when none came. Late events are those that can change the window's figures: a
    reply, close or rating in a conversation with a buyer message or close in the
    window, an order of a buyer who chatted in the window, and any milestone event."""
    if not checks:
        return []
    rows = [[number, str(contract["id"]), str(contract["merchant_id"]), window[0], window[1], horizon]
            for number, (contract, window, horizon) in enumerate(checks)]
    statement = sql.LATE_EVENTS_POSTGRES if is_postgres() else sql.LATE_EVENTS_SQLITE
    found = {int(row["item"]): int(row["last"]) for row in await fetch(statement, dump_json(rows))
             if row["last"] is not None}
    return [max(window[1], found.get(number, window[1])) for number, (_, window, _) in enumerate(checks)]


async def _plan(contract: dict, closed_by_target: list, latest_as_of: dict[tuple[uuid.UUID, int], int],
                late: dict[tuple, int]) -> list:
    """What one contract's closed windows need as of the run's moment (read inside the
    job's read transaction):

    - every window of every target that has ended since the contract started (up to
      its end or termination) and has no measurement yet is evaluated as of its end;
    - the last RECHECKED_WINDOWS closed windows of each target are re-evaluated when
      late data came: as of the last late event (`_late_many`) after the window's end
      and up to its late-data horizon, the end of the window that follows it (for
      the last closed window: up to `moment`). Recomputing as of the same moment
      stores nothing new, so a clock still running after the window's end gives no
      new version until an event stops it, and a window is final once its horizon
      has passed.

    `late` holds the last late event of each rechecked window (`_late_many`). Returns
    the work, [(target, window, T, rechecked)]."""
    work: list[tuple[uuid.UUID, tuple[datetime.datetime, datetime.datetime], datetime.datetime, bool]] = []
    for target, closed in closed_by_target:
        for index, window in enumerate(closed):
            known = latest_as_of.get((target["id"], window[0]))
            span = (from_us(window[0]), from_us(window[1]))
            if known is None:
                work.append((target["id"], span, from_us(window[1]), False))  # closed: as of its end
                known = window[1]
            if index >= len(closed) - RECHECKED_WINDOWS:
                last = late[(contract["id"], target["window"], window)]
                if last > known:
                    work.append((target["id"], span, from_us(last), True))  # late data: as of the last late event
    return work


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
    # Conversations whose chat steps are stale are read from the log (exact either way):
    # rebuilt first, the reads below take the steps.
    await events.rebuild_stale_steps()
    totals = {"contracts": 0, "evaluated": 0, "stored": 0, "rechecked": 0, "raised": 0, "cleared": 0, "warned": 0}
    done: list[uuid.UUID] = []
    jobs: list[dict] = []  # per contract: contract, targets, prepared windows, running targets, finished
    async with evaluation.reading(bulk=True):
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
        plans = []
        for contract in due:
            ended = await _ended_at(contract)
            if contract["status"] != states.ACTIVE and ended + ENDED_GRACE < moment:
                done.append(contract["id"])  # long over: its last windows were closed within the grace
                continue
            own = targets.get(contract["id"], [])
            plans.append((contract, own, ended, _closed(contract, own, moment, ended)))
        # The late data of every window to re-check, in one statement.
        checks: dict[tuple, tuple] = {}
        for contract, _own, _ended, closed_by_target in plans:
            for target, closed in closed_by_target:
                for window in closed[-RECHECKED_WINDOWS:]:
                    checks[(contract["id"], target["window"], window)] = (
                        contract, window, _horizon(contract, target["window"], window, moment_us))
        late = dict(zip(checks, await _late_many(list(checks.values()))))
        for contract, own, ended, closed_by_target in plans:
            work = await _plan(contract, closed_by_target, latest_as_of, late)
            running = own if contract["status"] == states.ACTIVE and to_us(contract["starts_at"]) <= moment_us \
                < to_us(ended) else []
            finished = len(work) <= max(1, budget)
            if not finished:
                work = work[:max(1, budget)]
                running = []
            budget -= len(work)
            jobs.append({"contract": evaluation.party_form(contract), "targets": {t["id"]: t for t in own},
                         "running": running, "finished": finished,
                         # none of its windows measured yet: the writes need not read the latest versions
                         "fresh": not any((target_id, to_us(span[0])) in latest_as_of
                                          for target_id, span, _, _ in work),
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
            for result in await evaluation.store(job["contract"], measured[first:first + EVALUATION_BATCH],
                                                 fresh=job["fresh"]):
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
