"""Push times come from the zone: DST days, bad input, next runs."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core import schedule


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00", dt.time(9, 0)), ("9:05", dt.time(9, 5)), ("23:59", dt.time(23, 59)),
     ("00:00", dt.time(0, 0)), ("21：30", dt.time(21, 30)), ("25:00", None), ("12:60", None),
     ("9", None), ("", None), ("09:00:00", None), ("٠٩:٠٠", None), ("-1:00", None)],
)
def test_times_are_24_hour_hh_mm(text: str, expected: dt.time | None) -> None:
    assert schedule.parse_time(text) == expected


@pytest.mark.parametrize("name", ["Mars/Base", "../../etc/passwd", "", "/etc/localtime",
                                  "Asia/" + "x" * 100, "Europe/Berlin\x00"])
def test_unknown_or_hostile_zone_names_are_refused(name: str) -> None:
    assert schedule.canonical_zone(name) is None


def test_zone_names_are_accepted_in_any_letter_case() -> None:
    assert schedule.canonical_zone("asia/shanghai") == "Asia/Shanghai"
    assert schedule.canonical_zone("UTC") == "UTC"


def test_the_next_run_is_later_today_when_the_time_has_not_come() -> None:
    # 08:00 in Shanghai; 09:00 local is 01:00 UTC.
    assert schedule.next_run(dt.time(9), "Asia/Shanghai", utc("2026-03-02T00:00")) == utc(
        "2026-03-02T01:00")


def test_the_next_run_is_tomorrow_once_the_time_has_passed() -> None:
    assert schedule.next_run(dt.time(9), "Asia/Shanghai", utc("2026-03-02T01:00")) == utc(
        "2026-03-03T01:00")


def test_across_spring_forward_the_local_time_stays_and_the_gap_is_23_hours() -> None:
    before = schedule.next_run(dt.time(9), "America/New_York", utc("2026-03-07T00:00"))
    after = schedule.next_run(dt.time(9), "America/New_York", before)
    assert before == utc("2026-03-07T14:00")  # 09:00 EST
    assert after == utc("2026-03-08T13:00")  # 09:00 EDT
    assert after - before == dt.timedelta(hours=23)


def test_across_fall_back_the_gap_is_25_hours() -> None:
    before = schedule.next_run(dt.time(9), "Europe/Berlin", utc("2026-10-24T00:00"))
    after = schedule.next_run(dt.time(9), "Europe/Berlin", before)
    assert after - before == dt.timedelta(hours=25)


def test_a_time_inside_the_spring_forward_gap_runs_once_just_after_the_gap() -> None:
    run = schedule.next_run(dt.time(2, 30), "America/New_York", utc("2026-03-08T05:00"))
    assert run == utc("2026-03-08T07:30")  # 03:30 EDT
    assert schedule.local_date_of_run(run, "America/New_York") == dt.date(2026, 3, 8)
    following = schedule.next_run(dt.time(2, 30), "America/New_York", run)
    assert following == utc("2026-03-09T06:30")


def test_a_time_that_occurs_twice_at_fall_back_runs_at_the_first() -> None:
    run = schedule.next_run(dt.time(1, 30), "America/New_York", utc("2026-11-01T04:00"))
    assert run == utc("2026-11-01T05:30")  # 01:30 EDT, the first of the two
    following = schedule.next_run(dt.time(1, 30), "America/New_York", run)
    assert following == utc("2026-11-02T06:30")  # not 01:30 EST the same night
