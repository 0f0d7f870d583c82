"""Measurement windows: day, ISO week and month as local calendar periods in the
contract's time zone, half-open [start, end) (DESIGN.md section 4).

A period starts at the first instant of its first local date: local midnight, or,
where midnight falls in a DST gap, the first instant after the gap. A report's
windows are the periods that meet [from, to), each cut to it. Times are integer
microseconds since the epoch, as in sla.calendar.
"""

from __future__ import annotations

from datetime import date, timedelta

from fuwu.errors import InvalidInput
from fuwu.i18n import N_
from sla import states
from sla.calendar import DAY, first_instant_at_or_after, local_day_number, offset_us, zone_info
from sla.errors import SlaError

_EPOCH_DATE = date(1970, 1, 1)
# A report may not ask for more windows than this (a year of days fits).
MAX_WINDOWS = 800


def _period_first_day(size: str, day: date) -> date:
    if size == states.DAY:
        return day
    if size == states.WEEK:
        return day - timedelta(days=day.weekday())
    if size == states.MONTH:
        return day.replace(day=1)
    raise InvalidInput(SlaError.WINDOW, N_("The window size must be day, week or month."))


def _next_first_day(size: str, first: date) -> date:
    if size == states.DAY:
        return first + timedelta(days=1)
    if size == states.WEEK:
        return first + timedelta(days=7)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _start_of(zone_name: str, day: date) -> int:
    return first_instant_at_or_after(zone_info(zone_name), local_day_number(day) * DAY)


def _local_date(zone_name: str, instant_us: int) -> date:
    zone = zone_info(zone_name)
    return _EPOCH_DATE + timedelta(days=(instant_us + offset_us(zone, instant_us)) // DAY)


def period_of(zone_name: str, size: str, instant_us: int) -> tuple[int, int]:
    """The period of `size` that contains the instant."""
    first = _period_first_day(size, _local_date(zone_name, instant_us))
    start = _start_of(zone_name, first)
    if instant_us < start:  # the instant is on a date that began before its midnight existed
        first = _period_first_day(size, first - timedelta(days=1))
        start = _start_of(zone_name, first)
    following = _next_first_day(size, first)
    end = _start_of(zone_name, following)
    while end <= instant_us:  # pragma: no cover - defensive
        first, following = following, _next_first_day(size, following)
        start, end = end, _start_of(zone_name, following)
    return start, end


def periods(zone_name: str, size: str, from_us: int, to_us: int) -> list[tuple[int, int]]:
    """The periods of `size` meeting [from, to), each cut to it, in order."""
    if to_us <= from_us:
        return []
    result = []
    start, end = period_of(zone_name, size, from_us)
    first = _period_first_day(size, _local_date(zone_name, start))
    while start < to_us:
        result.append((max(start, from_us), min(end, to_us)))
        if len(result) > MAX_WINDOWS:
            raise InvalidInput(SlaError.RANGE, N_(
                "That range holds more than {limit} windows. Choose a shorter range or a larger window size."),
                params={"limit": MAX_WINDOWS})
        first = _next_first_day(size, first)
        start, end = end, _start_of(zone_name, _next_first_day(size, first))
    return result
