"""Evaluation and reports: each SLA target measured per window by the metric engine
(sla.metrics), stored as versioned measurements with their breaches, and the SLA
report over any range (DESIGN.md section 4)."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timezone

from fuwu import roles, values
from fuwu.clock import now
from fuwu.db import atomic, fetch, is_postgres, is_unique_violation, load_json
from fuwu.errors import InvalidInput, not_found
from fuwu.i18n import N_
from fuwu.piccolo_conf import DB
from fuwu.services import notifications
from fuwu.services.accounts import member_user_ids
from sla import sql, states
from sla.calendar import CoverageCalendar, check_time_zone, from_us, to_us
from sla.errors import SlaError
from sla.metrics import DEFAULT_ATTRIBUTION_SECONDS, MetricResult, Request, Scope, attitude_standing, measure_many
from sla.tables import Breach, Contract, Measurement, SlaTarget
from sla.windows import periods


@asynccontextmanager
async def reading(bulk: bool = False):
    """One read transaction, so that every figure of an evaluation or report sees the
    same log: a snapshot on PostgreSQL (REPEATABLE READ, READ ONLY), a deferred
    transaction on SQLite (a WAL reader, which never holds the write lock). Inside a
    caller's transaction it joins that one. `bulk` (the evaluation job's reads of all
    due contracts at once): on PostgreSQL, more memory for sorts and no JIT for this
    transaction (sla.sql.BULK_READ_SETTINGS)."""
    if DB.current_transaction.get() is not None:
        yield
        return
    async with DB.transaction():
        if is_postgres():
            await fetch("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            if bulk:
                await fetch(sql.BULK_READ_SETTINGS)
        yield


def outcome(value: float | None, comparator: str, target: float) -> str:
    """met, breached, or none for a window without samples."""
    if value is None:
        return states.NO_SAMPLES
    met = value <= target if comparator == "<=" else value >= target
    return states.MET if met else states.BREACHED


def _calendar(contract: dict) -> CoverageCalendar:
    return CoverageCalendar.from_json(contract["time_zone"], load_json(contract["calendar"]) or {})


async def _contract(contract_id: uuid.UUID) -> dict:
    contract = await Contract.select().where(Contract.id == contract_id).first()
    if contract is None:
        raise not_found("Contract")
    return contract


async def evaluate_window(contract_id: uuid.UUID, target_id: uuid.UUID, window: tuple[datetime, datetime],
                          as_of: datetime | None = None) -> dict:
    """Measures one target of a contract over one window [start, end) as of T (by
    default the window's end, or the present while the window runs), on the
    contract's live events.

    Reads in one transaction, then writes in a short one: a new version of the
    window's measurement only when value, sample size or outcome changed from the
    latest version (late data: a clock started in the window stopped after its end,
    an order came in), so recomputing as of the same T stores nothing new. A breached
    outcome raises the window's breach with its service credit (percent of the period
    fee, in minor units); a later version that is met or has no samples clears it.
    Returns the latest measurement and whether this call stored it (`changed`)."""
    return (await evaluate_windows(contract_id, [(target_id, window, as_of)]))[0]


async def evaluate_windows(contract_id: uuid.UUID,
                           items: list[tuple[uuid.UUID, tuple[datetime, datetime], datetime | None]]) -> list[dict]:
    """`evaluate_window` for several (target, window, T) of one contract: every figure
    read in one transaction (one statement per metric family, sla.metrics.measure_many),
    then stored in order in one short write transaction. Items of the same window are
    stored in the order given (its end, then a later T for late data)."""
    prepared = prepare(items)
    async with reading():
        contract = party_form(await _contract(contract_id))
        targets = {row["id"]: row for row in await SlaTarget.select().where(SlaTarget.contract == contract_id)}
        requests = requests_for(contract, targets, prepared)
        measured = measured_from(targets, prepared, await measure_many(requests))
    return await store(contract, measured)


def party_form(contract: dict) -> dict:
    """A contract row as the writes below want it, whether read with Contract.select()
    (merchant, provider) or with contracts.CONTRACT_COLUMNS (merchant_id, provider_id)."""
    if "merchant_id" in contract:
        return {**contract, "merchant": contract["merchant_id"], "provider": contract["provider_id"]}
    return {**contract, "merchant_id": contract["merchant"], "provider_id": contract["provider"]}


def prepare(items: list[tuple[uuid.UUID, tuple[datetime, datetime], datetime | None]]) -> list[tuple]:
    """(target, window, T or None) as (target, start, end, T) in UTC; T by default the
    window's end, or the present while the window runs."""
    prepared = []
    for target_id, window, as_of in items:
        start, end = (moment.astimezone(timezone.utc) for moment in window)
        if end <= start:
            raise InvalidInput(SlaError.WINDOW, N_("A window must end after it starts."))
        prepared.append((target_id, start, end, as_of or min(end, now())))
    return prepared


def requests_for(contract: dict, targets: dict, prepared: list[tuple]) -> list[Request]:
    """The engine's requests for a contract's prepared windows (its live events, its
    calendar and attribution window)."""
    calendar = _calendar(contract)
    scope = Scope.live(contract["id"], contract["merchant"])
    requests = []
    for target_id, start, end, as_of in prepared:
        target = targets.get(target_id)
        if target is None:
            raise not_found("SLA target")
        requests.append(Request(target["metric"], scope, calendar, to_us(start), to_us(end), to_us(as_of),
                                contract["attribution_window_seconds"]))
    return requests


def measured_from(targets: dict, prepared: list[tuple], results: list[MetricResult]) -> list[tuple]:
    """Each prepared window with its result, value and outcome, as `store` takes them."""
    measured = []
    for (target_id, start, end, as_of), result in zip(prepared, results):
        target = targets[target_id]
        value = result.value(target["statistic"])
        measured.append((target, start, end, as_of, result, value, outcome(value, target["comparator"],
                                                                             target["target"])))
    return measured


async def store(contract: dict, measured: list[tuple], *, fresh: bool = False) -> list[dict]:
    """Stores measured windows of one contract in one short write transaction: a new
    version of a window's measurement only when its figure changed from the latest
    version (all new versions in one insert), with its breach (see
    `evaluate_window`). `fresh`: the caller read, in its read transaction, that none of
    these windows has a measurement, so the latest versions are not read again (if
    another run stored one since, the insert meets its unique key and the store is
    retried with the latest versions read). Returns what `evaluate_window` returns,
    for each."""
    if not measured:
        return []
    for attempt in range(3):
        try:
            async with atomic():
                # The latest version of each window, in one statement.
                latest: dict = {}
                if not (fresh and attempt == 0):
                    for row in await Measurement.select().where(
                            Measurement.target.is_in(list({item[0]["id"] for item in measured}))
                            & Measurement.window_start.is_in(list({item[1] for item in measured}))).order_by(
                            Measurement.version):
                        latest[(row["target"], row["window_start"])] = row
                stored, new = [], []
                for item in measured:
                    key = (item[0]["id"], item[1])
                    previous = latest.get(key)
                    row = _version(contract, *item, latest=previous)
                    if row is None:
                        stored.append({**previous, "changed": False})
                    else:
                        new.append((item[0], row, previous))
                        stored.append(row)
                    latest[key] = {column._meta.name: getattr(row, column._meta.name)
                                   for column in Measurement._meta.columns} if row is not None else previous
                if new:
                    await Measurement.insert(*(row for _, row, _ in new))
                done = {}
                for target, row, previous in new:
                    # A window measured for the first time and not breached has no breach to clear.
                    transition = await _breach(contract, target, row) \
                        if previous is not None or row.outcome == states.BREACHED else None
                    if transition is not None:
                        await _tell_breach(contract, target, row, transition)
                    done[id(row)] = {**{column._meta.name: getattr(row, column._meta.name)
                                        for column in Measurement._meta.columns},
                                     "changed": True, "breach": transition}
                return [done[id(item)] if isinstance(item, Measurement) else item for item in stored]
        except Exception as exc:  # a concurrent evaluation stored the same version first
            if not is_unique_violation(exc):
                raise
    raise RuntimeError("measurement kept conflicting")  # pragma: no cover


def _key(target_id: uuid.UUID, start: datetime) -> str:
    return f"{target_id}:{to_us(start)}"


def _version(contract: dict, target: dict, start: datetime, end: datetime, as_of: datetime,
             result: MetricResult, value: float | None, verdict: str, *, latest: dict | None) -> Measurement | None:
    """A new version of the window's measurement, or None when `latest` (the latest
    version) has the same figure."""
    if latest is not None and (latest["value"], latest["sample_size"], latest["outcome"]) == (
            value, result.sample_size, verdict):
        return None
    version = latest["version"] + 1 if latest else 1
    return Measurement(contract=contract["id"], target=target["id"], window_start=start, window_end=end,
                       version=version, key=f"{_key(target['id'], start)}:{version}", value=value,
                       sample_size=result.sample_size, target_value=target["target"], outcome=verdict, as_of=as_of,
                       computed_at=now())


async def _breach(contract: dict, target: dict, measurement: Measurement) -> str | None:
    """Raises, updates or clears the window's breach; returns "raised" when the window
    became breached (new, or again after being cleared), "cleared" when it stopped
    being breached, None otherwise."""
    key = _key(target["id"], measurement.window_start)
    existing = await Breach.select(Breach.id, Breach.cleared_at).where(Breach.key == key).first()
    if measurement.outcome == states.BREACHED:
        credit = contract["period_fee"] * target["credit_percent"] / 100
        values = {Breach.measurement: measurement.id, Breach.value: measurement.value,
                  Breach.target_value: target["target"], Breach.credit_percent: target["credit_percent"],
                  Breach.credit_amount: int(credit + 0.5), Breach.cleared_at: None}
        if existing is None:
            await Breach(contract=contract["id"], target=target["id"], key=key, window_start=measurement.window_start,
                         window_end=measurement.window_end, raised_at=now(),
                         **{column._meta.name: value for column, value in values.items()}).save()
            return "raised"
        await Breach.update(values).where(Breach.id == existing["id"])
        return "raised" if existing["cleared_at"] is not None else None
    if existing is not None and existing["cleared_at"] is None:
        await Breach.update({Breach.cleared_at: now(), Breach.measurement: measurement.id}).where(
            Breach.id == existing["id"])
        return "cleared"
    return None


async def _tell_breach(contract: dict, target: dict, measurement: Measurement, transition: str) -> None:
    """Both parties hear of a breach raised or cleared, in the transaction that stored
    the measurement: once per change of the window's breach, whoever evaluates."""
    raised = transition == "raised"
    await tell_parties(
        contract["id"], contract["merchant"], contract["provider"],
        kind="sla_breach" if raised else "sla_breach_cleared",
        title=N_("SLA target breached: {title}") if raised else N_("SLA breach cleared: {title}"),
        body=N_("{metric} ({statistic}) was {value} against the target {comparator} {target} in the window "
                "from {window_at}.") if raised else
        N_("{metric} ({statistic}) is {value} against the target {comparator} {target} in the window from "
           "{window_at}, after late data; the service credit no longer applies."),
        params=figure_params(target, measurement.value, measurement.window_start))


async def tell_parties(contract_id: uuid.UUID, merchant_id: uuid.UUID, provider_id: uuid.UUID, *, kind: str,
                       title: str, body: str, params: dict) -> None:
    """One notification to each party's owners, operators and managers, linking to the
    contract, with the contract's title as {title}; inside the caller's transaction."""
    row = await Contract.select(Contract.tender.title.as_alias("title")).where(Contract.id == contract_id).first()
    params = {"title": (row or {}).get("title") or "", **params}
    for org_id in (merchant_id, provider_id):
        people = await member_user_ids(org_id, roles.OWNER, roles.OPERATOR, roles.MANAGER)
        await notifications.notify(people, kind=kind, title=title, body=body, params=params,
                                   link=f"/contracts/{contract_id}", organisation=org_id)


def figure_params(target: dict, value: float | None, window_start: datetime) -> dict:
    """A target's figure as notification parameters, rounded for reading: seconds for
    durations, percent for rates, ratings as they are."""
    unit = values.METRIC_UNITS.get(target["metric"])

    def shown(number: float | None) -> str:
        if number is None:
            return "-"
        if unit == values.RATE:
            return f"{number * 100:.1f} %"
        if unit == values.DURATION:
            return f"{number:.1f} s"
        return f"{number:.2f}"

    return {"metric": states.SLA_METRICS.label(target["metric"]), "statistic": target["statistic"],
            "value": shown(value), "comparator": target["comparator"], "target": shown(target["target"]),
            "window_at": window_start.isoformat()}


REPORT_MAX_WINDOWS = 60


async def report(*, contract_id: uuid.UUID | None = None, shop_id: uuid.UUID | None = None, start: datetime,
                 end: datetime, window_size: str, source: str = states.LIVE, time_zone: str = "Asia/Shanghai",
                 present: datetime | None = None) -> dict:
    """The SLA report over [start, end) in windows of `window_size` (the local periods
    meeting the range, each cut to it), computed as of T = the range's end or the
    present, whichever is earlier, by the same engine as evaluation.

    For a contract: its calendar, attribution window and targets, over its live
    events or (source "history") over its merchant's imported history, the baseline
    for the before-and-after. For a shop without a contract: its history, around the
    clock in `time_zone`, without targets. Each window lists every metric: for each
    target of the metric its statistic, value, sample size, target and met (True,
    False, or None without samples); a metric without a target gets its default
    statistic."""
    if end <= start:
        raise InvalidInput(SlaError.RANGE, N_("The report's end must come after its start."))
    if source not in states.SOURCES:
        raise InvalidInput(SlaError.RANGE, N_("The source must be live or history."))
    as_of = min(end, present or now())
    async with reading():
        if contract_id is not None:
            contract = await _contract(contract_id)
            zone, calendar = contract["time_zone"], _calendar(contract)
            attribution = contract["attribution_window_seconds"]
            targets = await SlaTarget.select().where(SlaTarget.contract == contract_id).order_by(SlaTarget.metric)
            shop = contract["merchant"]
            scope = Scope.live(contract_id, shop) if source == states.LIVE else Scope.history(shop)
        else:
            if shop_id is None or source != states.HISTORY:
                raise InvalidInput(SlaError.RANGE, N_("A report without a contract covers a shop's history."))
            check_time_zone(time_zone)
            zone, calendar, attribution, targets = time_zone, CoverageCalendar.always(time_zone), \
                DEFAULT_ATTRIBUTION_SECONDS, []
            shop = shop_id
            scope = Scope.history(shop_id)
        windows = []
        spans = periods(zone, window_size, to_us(start), to_us(end))
        if len(spans) > REPORT_MAX_WINDOWS:
            # Each window is every metric's statements: a bound keeps a report an answer, not a job.
            raise InvalidInput(SlaError.RANGE, N_(
                "A report holds at most {limit} windows. Choose a shorter range or a larger window size."),
                params={"limit": REPORT_MAX_WINDOWS})
        # Every metric of every window at once: one statement per metric family.
        results = iter(await measure_many([
            Request(metric, scope, calendar, window_start, window_end, to_us(as_of), attribution)
            for window_start, window_end in spans for metric in states.SLA_METRICS]))
        for window_start, window_end in spans:
            rows = []
            for metric in states.SLA_METRICS:
                result = next(results)
                own = [t for t in targets if t["metric"] == metric]
                for target in own or [None]:
                    statistic = target["statistic"] if target else states.METRIC_STATISTICS[metric][0]
                    value = result.value(statistic)
                    verdict = outcome(value, target["comparator"], target["target"]) if target else None
                    rows.append({
                        "metric": metric, "statistic": statistic, "value": value,
                        "sample_size": result.sample_size,
                        "target": target["target"] if target else None,
                        "comparator": target["comparator"] if target else None,
                        "target_id": target["id"] if target else None,
                        "met": None if verdict in (None, states.NO_SAMPLES) else verdict == states.MET,
                        # A contract's live service attitude beside its standing among the category's providers.
                        "standing": await attitude_standing(contract["category"], contract["provider"], value,
                                                            window_start, window_end, to_us(as_of))
                        if metric == states.SERVICE_ATTITUDE and contract_id is not None
                        and source == states.LIVE else None,
                    })
            windows.append({"start": from_us(window_start), "end": from_us(window_end), "metrics": rows})
    return {"contract_id": contract_id, "shop_id": shop, "source": source, "window_size": window_size,
            "start": start, "end": end, "as_of": as_of, "time_zone": zone, "windows": windows}


def json_moment(moment: datetime) -> str:
    """A moment as a JSON parameter of a hand-written statement compares with stored
    ones: ISO text that PostgreSQL casts to timestamptz, and on SQLite the very text
    Piccolo stores (the UTC time, `str` of the datetime)."""
    utc = moment.astimezone(timezone.utc)
    return utc.isoformat() if is_postgres() else str(utc)


async def attainment(provider_ids: list[uuid.UUID],
                     periods: list[tuple[datetime, datetime]]) -> dict[uuid.UUID, list[dict]]:
    """What providers measurably delivered in each of a list of periods [start, end),
    for the ratings domain's scorecards, in two aggregate statements whatever the
    number of providers, contracts and periods: per provider and period, `measured`
    windows (the latest version of each SLA measurement whose window ended in the
    period and that was met or breached), of which `met`; `due` milestones (due in
    the period) of which `on_time` (first delivery at or before the due time).
    Providers without any are left out; each list has an entry for every period."""
    from fuwu.db import dump_json
    from sla import sql

    found: dict[uuid.UUID, list[dict]] = {}
    if not provider_ids or not periods:
        return found
    wanted = sorted(dict.fromkeys(provider_ids), key=str)
    ids, low, high = dump_json([str(pid) for pid in wanted]), wanted[0], wanted[-1]
    spans = dump_json([[k, json_moment(start), json_moment(end)] for k, (start, end) in enumerate(periods)])
    postgres = is_postgres()

    def entry(provider) -> list[dict]:
        provider = provider if isinstance(provider, uuid.UUID) else uuid.UUID(str(provider))
        return found.setdefault(provider, [{"measured": 0, "met": 0, "due": 0, "on_time": 0} for _ in periods])

    for row in await fetch(sql.MEASURED_BY_PERIOD_POSTGRES if postgres else sql.MEASURED_BY_PERIOD_SQLITE, ids, spans,
                           low, high):
        counts = entry(row["provider"])[int(row["k"])]
        counts["measured"], counts["met"] = int(row["measured"]), int(row["met"] or 0)
    for row in await fetch(sql.MILESTONES_BY_PERIOD_POSTGRES if postgres else sql.MILESTONES_BY_PERIOD_SQLITE,
                           ids, spans, low, high):
        counts = entry(row["provider"])[int(row["k"])]
        counts["due"], counts["on_time"] = int(row["due"]), int(row["on_time"] or 0)
    return found


async def track_records(provider_ids: list[uuid.UUID], metrics: list[str] | None = None) -> dict[tuple, dict]:
    """Promise against delivery: what each provider measurably delivered on its
    contracts for each metric and statistic, in one statement for the whole batch:
    {(provider, metric, statistic): {windows, met, share_met (0..1), median,
    contracts, lowest_target, highest_target, comparator}} (the targets it
    promised). A provider without measured windows of a metric has no entry
    (pages say "no measured history", never zeros)."""
    from fuwu.db import dump_json
    from sla import sql

    ids = [str(pid) for pid in dict.fromkeys(provider_ids)]
    wanted = list(dict.fromkeys(metrics if metrics is not None else values.SLA_METRICS.values))
    if not ids or not wanted:
        return {}
    statement = sql.TRACK_RECORD_POSTGRES if is_postgres() else sql.TRACK_RECORD_SQLITE
    found = {}
    for row in await fetch(statement, dump_json(ids), dump_json(wanted)):
        provider = row["provider"] if isinstance(row["provider"], uuid.UUID) else uuid.UUID(str(row["provider"]))
        windows = int(row["windows"])
        found[(provider, row["metric"], row["statistic"])] = {
            "windows": windows, "met": int(row["met"]), "share_met": int(row["met"]) / windows,
            "median": float(row["median"]), "contracts": int(row["contracts"]),
            "lowest_target": float(row["lowest_target"]), "highest_target": float(row["highest_target"]),
            "comparator": row["comparator"]}
    return found
