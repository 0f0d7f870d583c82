"""Early warning: each SLA target over its running window, and whether it is at risk
(DESIGN.md section 4). The contract's SLA panel and the warnings both parties get
follow the same rule, `at_risk`; a warning goes out once per target and window.
"""

from __future__ import annotations

import datetime
import math
import uuid

from fuwu import values
from fuwu.clock import now
from fuwu.db import atomic, is_unique_violation
from fuwu.i18n import N_
from sla import states
from sla.calendar import CoverageCalendar, from_us, to_us
from sla.metrics import MetricResult, Request, Scope, attitude_standing, measure_many
from sla.services import evaluation
from sla.tables import SlaWarning
from sla.windows import period_of

# Why a target is at risk.
BEHIND = "behind"  # the figure so far misses the target with half or more of the window gone
OUT_OF_REACH = "out_of_reach"  # no outcome of the rest of the window (at its pace so far) can bring it back

_PERCENTILES = {"median": 50, "p90": 90}


def _rank(percent: int, count: int) -> int:
    """Nearest rank, as the engine: max(1, ceil(p/100 * n))."""
    return max(1, (percent * count + 99) // 100)


def _business_seconds(calendar: CoverageCalendar, start_us: int, end_us: int) -> int:
    if end_us <= start_us:
        return 0
    return sum(e - s for s, e in calendar.intervals(start_us, end_us))


def _best_case(target: dict, result: MetricResult, more: int) -> float | None:
    """The best figure the window can still end with if `more` further samples come,
    each the best possible, and no sample so far improves; None when the figure can
    still become anything (the rule cannot tell)."""
    statistic, n = target["statistic"], result.sample_size
    unit = values.METRIC_UNITS.get(target["metric"])
    lower_is_better = target["comparator"] == "<="
    if statistic == "rate":
        if target["metric"] == "inquiry_conversion_rate":
            return None  # a buyer counted so far may still order within the attribution window
        if lower_is_better:
            return result.hits / (n + more)
        return (result.hits + more) / (n + more)
    if unit != values.DURATION or not lower_is_better:
        return None  # ratings: a conversation may still be rated again; nothing for ">=" durations
    # Durations, lower is better: a closed sample is final and an open clock only grows,
    # so the best further samples are 0 s.
    if statistic == "mean":
        return result.total / (n + more)
    percent = _PERCENTILES[statistic]
    # Samples so far above the target: at least those from a percentile's rank up, when
    # that percentile (the median or p90, both known) is above it.
    above = max([n - _rank(p, n) + 1 for p, value in ((50, result.p50), (90, result.p90))
                 if value is not None and value > target["target"]] or [0])
    # With `more` samples of 0 s, the percentile is the sample at rank r of n + more;
    # it meets the target when the samples at or under the target reach that rank.
    return 0.0 if _rank(percent, n + more) <= n + more - above else float("inf")


def at_risk(target: dict, result: MetricResult, start_us: int, end_us: int, as_of_us: int,
            calendar: CoverageCalendar) -> str | None:
    """Whether a target is at risk in its running window [start, end) as of T, and why
    (None: not at risk; a window without samples never is):

    - `behind`: the figure so far misses the target and half or more of the window
      (elapsed time) is gone;
    - `out_of_reach`: even if every further sample were the best possible, the figure
      could not meet the target by the window's end, given a bound on how many samples
      are still to come. The bound is the window's pace so far in business time:
      m = ceil(n * B_rest / B_gone), where n is the samples so far and B_gone, B_rest
      the business seconds of the coverage calendar gone and left in the window (the
      hours in which customers are served, where the samples come from). No business
      time gone yet: no bound, so never out of reach. The best case, with m more
      samples (the rule is sound for whatever the rest of the window brings within
      that bound, because a sample so far never gets better):
        * mean duration, target "<=": the sum so far over n + m (further samples 0 s);
        * median or p90 duration, "<=": k = the samples so far above the target (at
          least n - rank + 1 for the median's or p90's rank when that one is above
          it); out of reach when the
          rank max(1, ceil(p/100 * (n + m))) exceeds n + m - k;
        * rates (milestone on-time, first-pass acceptance): (hits + m) / (n + m) for
          ">=", hits / (n + m) for "<=";
      and no verdict where a sample so far may still improve (inquiry conversion: a
      buyer may still order within the attribution window; service attitude: a
      conversation may be rated again) or where the best case is unbounded.
    """
    value = result.value(target["statistic"])
    if value is None:
        return None
    meets = value <= target["target"] if target["comparator"] == "<=" else value >= target["target"]
    if meets:
        return None
    if (as_of_us - start_us) * 2 >= end_us - start_us:
        return BEHIND
    gone = _business_seconds(calendar, start_us, as_of_us)
    if gone <= 0:
        return None
    rest = _business_seconds(calendar, as_of_us, end_us)
    more = math.ceil(result.sample_size * rest / gone)
    best = _best_case(target, result, more)
    if best is None:
        return None
    reachable = best <= target["target"] if target["comparator"] == "<=" else best >= target["target"]
    return None if reachable else OUT_OF_REACH


def _calendar(contract: dict) -> CoverageCalendar:
    return CoverageCalendar.from_json(contract["time_zone"], contract["calendar"] or {})


def running_requests(contract: dict, targets: list[dict], moment_us: int) -> list[Request]:
    """The engine's requests for each target over the window running at `moment`, as
    of then (`running_windows` reads them; the evaluation job batches them with its
    closed windows)."""
    scope = Scope.live(contract["id"], contract["merchant_id"])
    calendar = _calendar(contract)
    requests = []
    for target in targets:
        start_us, end_us = period_of(contract["time_zone"], target["window"], moment_us)
        requests.append(Request(target["metric"], scope, calendar, start_us, end_us, moment_us,
                                contract["attribution_window_seconds"]))
    return requests


def running_rows(contract: dict, targets: list[dict], requests: list[Request],
                 results: list[MetricResult]) -> list[dict]:
    """`running_windows`' rows from the results of `running_requests`."""
    calendar = _calendar(contract)
    rows = []
    for target, request, result in zip(targets, requests, results):
        start_us, end_us, moment_us = request.start_us, request.end_us, request.as_of_us
        value = result.value(target["statistic"])
        met = None if value is None else (
            value <= target["target"] if target["comparator"] == "<=" else value >= target["target"])
        risk = at_risk(target, result, start_us, end_us, moment_us, calendar)
        rows.append({**target, "value": value, "sample_size": result.sample_size, "met": met,
                     "window_start": from_us(start_us), "window_end": from_us(end_us),
                     "gone": (moment_us - start_us) / max(1, end_us - start_us),
                     "at_risk": risk is not None, "risk": risk})
    return rows


async def running_windows(contract: dict, targets: list[dict], moment: datetime.datetime | None = None) -> list[dict]:
    """Each target over the window running at `moment` (as of then): its figure so
    far, the share of the window gone, whether it is at risk (`at_risk`, and `risk`:
    why), and for service attitude its `standing` among the category's providers
    (sla.metrics.attitude_standing). `contract` is a row of
    `contracts.CONTRACT_COLUMNS` (merchant_id, calendar as loaded JSON)."""
    requests = running_requests(contract, targets, to_us(moment or now()))
    async with evaluation.reading():
        rows = running_rows(contract, targets, requests, await measure_many(requests))
        for row, request in zip(rows, requests):
            # Service attitude beside its standing among the category's providers.
            row["standing"] = await attitude_standing(
                contract["category"], contract["provider_id"], row["value"], request.start_us, request.end_us,
                request.as_of_us) if row["metric"] == states.SERVICE_ATTITUDE else None
    return rows


def warning_key(target_id: uuid.UUID, window_start: datetime.datetime) -> str:
    return f"{target_id}:{to_us(window_start)}"


async def warn(contract: dict, row: dict) -> bool:
    """Tells both parties that a target is at risk in its running window, once per
    target and window: the warning's unique key makes a second attempt (another run,
    another process) store and send nothing. `row` is one of `running_windows`.
    Returns whether this call sent it."""
    try:
        async with atomic():
            await SlaWarning(contract=contract["id"], target=row["id"], window_start=row["window_start"],
                             window_end=row["window_end"], key=warning_key(row["id"], row["window_start"]),
                             reason=row["risk"], value=row["value"], sample_size=row["sample_size"],
                             target_value=row["target"], sent_at=now()).save()
            await evaluation.tell_parties(
                contract["id"], contract["merchant_id"], contract["provider_id"], kind="sla_at_risk",
                title=N_("SLA target at risk: {title}"),
                body=N_("{metric} ({statistic}) is {value} so far against the target {comparator} {target} in the "
                        "window from {window_at}. The window ends {end_at}.") if row["risk"] == BEHIND else
                N_("{metric} ({statistic}) is {value} so far against the target {comparator} {target} in the "
                   "window from {window_at}: at the pace so far the rest of the window cannot bring it back. "
                   "The window ends {end_at}."),
                params={**evaluation.figure_params(row, row["value"], row["window_start"]),
                        "end_at": row["window_end"].isoformat()})
        return True
    except Exception as exc:
        if is_unique_violation(exc):
            return False  # warned already
        raise
