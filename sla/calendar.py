"""Coverage calendars: when an SLA clock runs (DESIGN.md section 4).

A calendar is a time zone, time windows per weekday in local clock time, and
holidays (local dates). The business time of [t1, t2) is the elapsed time of the
instants in [t1, t2) whose local clock time falls inside a window of that local
date's weekday, on a local date that is not a holiday. Elapsed, not wall-clock: a
01:00-04:00 window lasts 2 h on a spring-forward day and 4 h on a fall-back day.

Everything here counts in integer microseconds since the epoch (UTC), the form the
service-event log stores; `intervals` turns a calendar into the UTC intervals of
business time over a range, which the metric SQL joins against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fuwu.errors import InvalidInput
from fuwu.i18n import N_
from sla import states
from sla.errors import SlaError

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SECOND = 1_000_000
DAY = 86_400 * SECOND
WEEKDAYS = states.WEEKDAYS.values  # mon ... sun, the order of ISO weekdays
MAX_WINDOWS_PER_DAY = 12
MAX_HOLIDAYS = 1000
# Offsets are probed this often to find the zone's transitions; tzdb has no zone
# that changes its offset twice within six hours.
_PROBE = 6 * 3600 * SECOND
_TIME = re.compile(r"^(\d{2}):(\d{2})$")


def to_us(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    delta = moment - EPOCH  # integer arithmetic: twice as fast as dividing by a timedelta
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


@lru_cache(maxsize=64)
def zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def offset_us(zone: ZoneInfo, instant_us: int) -> int:
    """The zone's UTC offset at an instant, in microseconds."""
    return from_us(instant_us).astimezone(zone).utcoffset() // timedelta(microseconds=1)


def offset_pieces(zone: ZoneInfo, start_us: int, end_us: int) -> list[tuple[int, int, int]]:
    """[start, end) split where the zone's offset changes: (piece start, piece end,
    offset), each piece of one offset, in order."""
    pieces = []
    piece_start = start_us
    offset = offset_us(zone, start_us)
    probe = start_us
    while probe < end_us:
        following = min(probe + _PROBE, end_us)
        next_offset = offset_us(zone, following)
        if next_offset != offset:
            # The transition is in (probe, following]: find its second.
            low, high = probe // SECOND, -(-following // SECOND)
            while high - low > 1:
                middle = (low + high) // 2
                if offset_us(zone, middle * SECOND) == offset:
                    low = middle
                else:
                    high = middle
            change = max(high * SECOND, piece_start)
            if change > piece_start:
                pieces.append((piece_start, min(change, end_us), offset))
            piece_start = change
            offset = offset_us(zone, change)
            probe = change
            continue
        probe = following
    if piece_start < end_us:
        pieces.append((piece_start, end_us, offset))
    return pieces


def first_instant_at_or_after(zone: ZoneInfo, local_us: int) -> int:
    """The first instant whose local clock reads `local_us` (microseconds of local
    wall time since 1970-01-01 00:00) or later: the instant itself, the first
    instant after a DST gap, or the first of two on a fall-back."""
    for start, end, offset in offset_pieces(zone, local_us - 2 * DAY, local_us + 2 * DAY):
        candidate = local_us - offset
        if candidate < start:
            return start
        if candidate < end:
            return candidate
    raise AssertionError("no instant found")  # pragma: no cover


def local_day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


@dataclass(frozen=True)
class CoverageCalendar:
    """`windows[i]` are the (start, end) seconds after local midnight of ISO weekday
    i + 1 (Monday first), sorted, not overlapping, end up to 86,400; `holidays` are
    local day numbers (days since 1970-01-01)."""

    zone_name: str
    windows: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[int] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return zone_info(self.zone_name)

    @classmethod
    def always(cls, zone_name: str = "UTC") -> CoverageCalendar:
        """Open every second of every day: business time equals elapsed time."""
        return cls(zone_name, tuple(((0, 86_400),) for _ in range(7)))

    @classmethod
    def from_json(cls, zone_name: str, data: dict | None) -> CoverageCalendar:
        """Validates a stored or submitted calendar: {"weekdays": {"mon": [["09:00",
        "18:00"], ...], ...}, "holidays": ["2026-10-01", ...]}. Without "weekdays" the
        calendar is open around the clock; a weekday left out is closed all day."""
        check_time_zone(zone_name)
        data = data or {}
        if not isinstance(data, dict) or set(data) - {"weekdays", "holidays"}:
            raise InvalidInput(SlaError.CALENDAR, N_(
                "A coverage calendar holds only weekdays (time windows per weekday) and holidays."))
        if "weekdays" not in data:
            windows = tuple(((0, 86_400),) for _ in range(7))
        else:
            weekdays = data["weekdays"]
            if not isinstance(weekdays, dict):
                raise InvalidInput(SlaError.CALENDAR, N_(
                    "A coverage calendar holds only weekdays (time windows per weekday) and holidays."))
            for key in weekdays:
                if key not in WEEKDAYS:
                    raise InvalidInput(SlaError.CALENDAR, N_(
                        "Unknown weekday {value}: use mon, tue, wed, thu, fri, sat or sun."), params={"value": str(key)})
            windows = tuple(_day_windows(name, weekdays.get(name) or []) for name in WEEKDAYS)
        holidays = data.get("holidays") or []
        if not isinstance(holidays, list) or len(holidays) > MAX_HOLIDAYS:
            raise InvalidInput(SlaError.CALENDAR, N_(
                "Holidays are a list of at most {limit} dates (YYYY-MM-DD)."), params={"limit": MAX_HOLIDAYS})
        days = set()
        for value in holidays:
            try:
                days.add(local_day_number(date.fromisoformat(value)))
            except (TypeError, ValueError):
                raise InvalidInput(SlaError.CALENDAR, N_("Holiday {value} is not a date. Use YYYY-MM-DD."),
                                   params={"value": str(value)[:40]}) from None
        return cls(zone_name, windows, frozenset(days))

    def to_json(self) -> dict:
        return {
            "weekdays": {name: [[_clock(start), _clock(end)] for start, end in self.windows[index]]
                         for index, name in enumerate(WEEKDAYS) if self.windows[index]},
            "holidays": sorted((date(1970, 1, 1) + timedelta(days=day)).isoformat() for day in self.holidays),
        }

    def intervals(self, start_us: int, end_us: int) -> list[tuple[int, int]]:
        """The business time within [start, end) as sorted, disjoint UTC intervals
        (microseconds), adjacent ones joined: a few a day."""
        result: list[list[int]] = []
        for piece_start, piece_end, offset in offset_pieces(self.zone, start_us, end_us):
            first_day = (piece_start + offset) // DAY
            last_day = (piece_end - 1 + offset) // DAY
            for day in range(first_day, last_day + 1):
                if day in self.holidays:
                    continue
                weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
                for window_start, window_end in self.windows[weekday]:
                    low = max(day * DAY + window_start * SECOND - offset, piece_start)
                    high = min(day * DAY + window_end * SECOND - offset, piece_end)
                    if low >= high:
                        continue
                    if result and result[-1][1] == low:
                        result[-1][1] = high
                    else:
                        result.append([low, high])
        return [(low, high) for low, high in result]

    def business_us(self, start_us: int, end_us: int) -> int:
        """Business microseconds of [start, end)."""
        if end_us <= start_us:
            return 0
        return sum(high - low for low, high in self.intervals(start_us, end_us))

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business seconds of [start, end) (aware datetimes)."""
        return self.business_us(to_us(start), to_us(end)) / SECOND


def check_time_zone(zone_name: str) -> None:
    try:
        if not isinstance(zone_name, str) or not zone_name:
            raise ValueError(zone_name)
        zone_info(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(SlaError.TIME_ZONE, N_(
            "The time zone {zone} is not known. Use an IANA name such as Asia/Shanghai."),
            params={"zone": str(zone_name)[:64]}) from None


def _day_windows(weekday: str, raw: list) -> tuple[tuple[int, int], ...]:
    if not isinstance(raw, list) or len(raw) > MAX_WINDOWS_PER_DAY:
        raise InvalidInput(SlaError.CALENDAR, N_(
            "{weekday} holds a list of at most {limit} time windows, each [\"HH:MM\", \"HH:MM\"]."),
            params={"weekday": weekday, "limit": MAX_WINDOWS_PER_DAY})
    windows = []
    for window in raw:
        text = _window_text(window)
        if not (isinstance(window, (list, tuple)) and len(window) == 2):
            raise InvalidInput(SlaError.CALENDAR, N_(
                "Coverage window {window} on {weekday} is not a time range from HH:MM to HH:MM (up to 24:00)."),
                params={"window": text, "weekday": weekday})
        start, end = _seconds(window[0]), _seconds(window[1])
        if start is None or end is None or start >= 86_400:
            raise InvalidInput(SlaError.CALENDAR, N_(
                "Coverage window {window} on {weekday} is not a time range from HH:MM to HH:MM (up to 24:00)."),
                params={"window": text, "weekday": weekday})
        if end <= start:
            raise InvalidInput(SlaError.CALENDAR, N_(
                "Coverage window {window} on {weekday} crosses midnight or is empty. Split a window over midnight "
                "into one that ends at 24:00 and one that starts at 00:00 on the next weekday."),
                params={"window": text, "weekday": weekday})
        windows.append((start, end, text))
    windows.sort()
    for before, after in zip(windows, windows[1:]):
        if after[0] < before[1]:
            raise InvalidInput(SlaError.CALENDAR, N_(
                "Coverage windows {first} and {second} on {weekday} overlap. Join them into one window."),
                params={"first": before[2], "second": after[2], "weekday": weekday})
    return tuple((start, end) for start, end, _ in windows)


def _seconds(value) -> int | None:
    if not isinstance(value, str):
        return None
    match = _TIME.match(value)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 3600 + minutes * 60


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _window_text(window) -> str:
    if isinstance(window, (list, tuple)):
        return "–".join(str(part)[:8] for part in window[:2])
    return str(window)[:20]
