"""Coverage calendars and measurement windows: business time across time zones,
holidays and daylight-saving changes, and the refusal of bad calendars."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from fuwu.errors import InvalidInput
from sla.calendar import WEEKDAYS, CoverageCalendar, from_us, to_us
from sla.windows import period_of, periods


def at(text: str, zone: str) -> int:
    return to_us(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)))


def local(value: int, zone: str) -> str:
    return from_us(value).astimezone(ZoneInfo(zone)).isoformat()


def every_day(*windows, zone="Asia/Shanghai", holidays=()):
    return CoverageCalendar.from_json(zone, {"weekdays": {day: [list(w) for w in windows] for day in WEEKDAYS},
                                             "holidays": list(holidays)})


def test_a_01_to_04_window_lasts_two_hours_on_spring_forward_and_four_on_fall_back():
    calendar = every_day(("01:00", "04:00"), zone="America/New_York")
    zone = "America/New_York"
    hours = lambda d1, d2: calendar.business_us(at(d1, zone), at(d2, zone)) / 3_600_000_000  # noqa: E731
    assert hours("2026-03-08T00:00", "2026-03-09T00:00") == 2
    assert hours("2026-11-01T00:00", "2026-11-02T00:00") == 4
    assert hours("2026-11-02T00:00", "2026-11-03T00:00") == 3


def test_a_short_window_inside_the_repeated_hour_counts_both_passes():
    calendar = every_day(("01:30", "01:45"), zone="America/New_York")
    zone = "America/New_York"
    assert calendar.business_us(at("2026-11-01T00:00", zone), at("2026-11-02T00:00", zone)) == 30 * 60 * 1_000_000


def test_message_at_2359_answered_at_0901_the_next_open_day_after_a_holiday():
    # Shanghai office hours 09:00-18:00 Monday to Friday; Friday 2 Oct is a holiday.
    zone = "Asia/Shanghai"
    calendar = CoverageCalendar.from_json(zone, {"weekdays": {d: [["09:00", "18:00"]] for d in WEEKDAYS[:5]},
                                                 "holidays": ["2026-10-02"]})
    asked, answered = at("2026-10-01T23:59", zone), at("2026-10-05T09:01", zone)  # Thu night -> Mon
    assert calendar.business_us(asked, answered) == 60 * 1_000_000
    # A window to 24:00 counts the last minute of the day as well.
    late = CoverageCalendar.from_json(zone, {"weekdays": {d: [["09:00", "24:00"]] for d in WEEKDAYS}})
    assert late.business_us(at("2026-10-01T23:59", zone), at("2026-10-02T09:01", zone)) == 120 * 1_000_000


def test_business_time_follows_the_contract_zone_not_the_server_zone():
    calendar = every_day(("09:00", "18:00"), zone="Europe/London")
    # 08:30 UTC in January is 08:30 in London: the clock starts at 09:00 London time.
    start = to_us(datetime.fromisoformat("2026-01-05T08:30+00:00"))
    end = to_us(datetime.fromisoformat("2026-01-05T09:30+00:00"))
    assert calendar.business_us(start, end) == 30 * 60 * 1_000_000
    shanghai = every_day(("09:00", "18:00"), zone="Asia/Shanghai")
    assert shanghai.business_us(start, end) == 60 * 60 * 1_000_000  # 16:30-17:30 in Shanghai


def test_always_open_calendar_counts_elapsed_time_across_a_dst_change():
    calendar = CoverageCalendar.from_json("America/New_York", {})
    zone = "America/New_York"
    assert calendar.business_us(at("2026-03-08T00:00", zone), at("2026-03-09T00:00", zone)) == 23 * 3_600_000_000


@pytest.mark.parametrize("data, words", [
    ({"weekdays": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "overlap"),
    ({"weekdays": {"mon": [["22:00", "02:00"]]}}, "crosses midnight"),
    ({"weekdays": {"mon": [["09:00", "24:30"]]}}, "not a time range"),
    ({"weekdays": {"mon": [["9", "10"]]}}, "not a time range"),
    ({"weekdays": {"monday": [["09:00", "10:00"]]}}, "Unknown weekday"),
    ({"weekdays": {"mon": [["09:00", "10:00"]]}, "holidays": ["1 Oct"]}, "not a date"),
    ({"hours": []}, "only weekdays"),
])
def test_bad_calendars_are_refused_with_what_to_fix(data, words):
    with pytest.raises(InvalidInput) as caught:
        CoverageCalendar.from_json("Asia/Shanghai", data)
    assert words in caught.value.detail
    assert caught.value.status_code == 422


def test_unknown_time_zone_is_refused():
    with pytest.raises(InvalidInput) as caught:
        CoverageCalendar.from_json("Mars/Olympus", {})
    assert "Asia/Shanghai" in caught.value.detail


def test_touching_windows_and_24_00_are_accepted_and_round_trip():
    data = {"weekdays": {"sat": [["00:00", "09:00"], ["09:00", "24:00"]]}, "holidays": ["2026-10-01"]}
    assert CoverageCalendar.from_json("Asia/Shanghai", data).to_json() == data


def test_day_windows_start_after_a_dst_gap_at_midnight():
    zone = "America/Santiago"  # 6 Sep 2026: 00:00 jumps to 01:00
    windows = periods(zone, "day", at("2026-09-05T12:00", zone), at("2026-09-07T00:00", zone))
    assert [(local(s, zone), local(e, zone)) for s, e in windows] == [
        ("2026-09-05T12:00:00-04:00", "2026-09-06T01:00:00-03:00"),
        ("2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"),
    ]


def test_iso_weeks_and_months_are_local_periods_cut_to_the_range():
    zone = "Europe/London"
    weeks = periods(zone, "week", at("2026-03-25T12:00", zone), at("2026-04-10T00:00", zone))
    assert [local(s, zone) for s, _ in weeks] == [
        "2026-03-25T12:00:00+00:00", "2026-03-30T00:00:00+01:00", "2026-04-06T00:00:00+01:00"]
    assert local(weeks[-1][1], zone) == "2026-04-10T00:00:00+01:00"
    start, end = period_of("Asia/Shanghai", "month", at("2026-02-14T08:00", "Asia/Shanghai"))
    assert (local(start, "Asia/Shanghai"), local(end, "Asia/Shanghai")) == (
        "2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00")
