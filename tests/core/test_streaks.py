"""Streak rules, table-driven: the fold over the ledger of counted days."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core import streaks

D = dt.date(2026, 3, 1)


def days(*offsets: int) -> list[dt.date]:
    return [D + dt.timedelta(days=o) for o in offsets]


@pytest.mark.parametrize(
    ("ledger", "today", "current", "longest", "done", "freezes"),
    [
        pytest.param([], 0, 0, 0, False, 0, id="nothing counted yet"),
        pytest.param([0], 0, 1, 1, True, 0, id="first day done today"),
        pytest.param([0], 1, 1, 1, False, 0, id="yesterday done, today still open"),
        pytest.param([0], 2, 0, 1, False, 0, id="a missed day without a freeze breaks it"),
        pytest.param([0, 1, 2], 2, 3, 3, True, 0, id="three days in a row"),
        pytest.param(list(range(7)), 6, 7, 7, True, 1, id="seven days earn a freeze"),
        pytest.param(list(range(14)), 13, 14, 14, True, 2, id="fourteen days earn two"),
        pytest.param(list(range(21)), 20, 21, 21, True, 2, id="never more than two freezes"),
        pytest.param(list(range(7)), 8, 7, 7, False, 0, id="a freeze covers one missed day"),
        pytest.param(list(range(7)), 9, 0, 7, False, 0, id="one freeze cannot cover two days"),
        pytest.param([*range(7), 8], 8, 8, 8, True, 0, id="the streak goes on after a freeze"),
        pytest.param([*range(14), 16], 16, 15, 15, True, 0, id="two missed days use both freezes"),
        pytest.param([*range(14), 17], 17, 1, 14, True, 0, id="three missed days break it"),
        pytest.param([0, 1, 5, 6], 6, 2, 2, True, 0, id="a new streak after a break"),
    ],
)
def test_the_fold_over_the_ledger_gives_the_expected_streak(
    ledger: list[int], today: int, current: int, longest: int, done: bool, freezes: int
) -> None:
    status = streaks.compute(days(*ledger) if ledger else [], D + dt.timedelta(days=today))
    assert (status.current, status.longest, status.done_today, status.freezes) == (
        current, longest, done, freezes)


def test_days_after_today_are_ignored() -> None:
    status = streaks.compute(days(0, 1, 5), D + dt.timedelta(days=1))
    assert (status.current, status.total_days) == (2, 2)


@pytest.mark.parametrize(
    ("utc", "zone", "rollover", "expected"),
    [
        pytest.param("2026-03-02T12:00", "Asia/Shanghai", 4, "2026-03-02", id="shanghai evening"),
        pytest.param("2026-03-02T15:59", "Asia/Shanghai", 4, "2026-03-02", id="23:59 local"),
        pytest.param("2026-03-02T17:30", "Asia/Shanghai", 4, "2026-03-02",
                     id="01:30 local still counts for the evening before"),
        pytest.param("2026-03-02T20:00", "Asia/Shanghai", 4, "2026-03-03",
                     id="04:00 local starts the new day"),
        pytest.param("2026-03-02T17:30", "Asia/Shanghai", 0, "2026-03-03",
                     id="no rollover hour: midnight is the boundary"),
        pytest.param("2026-03-08T08:30", "America/New_York", 4, "2026-03-08",
                     id="spring-forward morning, 04:30 EDT, is the new day"),
        pytest.param("2026-03-08T07:30", "America/New_York", 4, "2026-03-07",
                     id="03:30 EDT on the spring-forward day is still the day before"),
        pytest.param("2026-11-01T08:30", "America/New_York", 4, "2026-10-31",
                     id="03:30 EST after fall-back is still the day before"),
        pytest.param("2026-11-01T09:00", "America/New_York", 4, "2026-11-01",
                     id="04:00 EST after fall-back is the new day"),
    ],
)
def test_the_study_day_follows_the_local_rollover_hour(
    utc: str, zone: str, rollover: int, expected: str
) -> None:
    instant = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    assert streaks.study_day(instant, zone, rollover) == dt.date.fromisoformat(expected)


def test_the_study_day_that_spans_the_fall_back_night_lasts_25_hours() -> None:
    # With a 04:00 rollover, study day 10-31 runs until 11-01 04:00, across the 02:00 fall-back.
    start = streaks.day_ends_at(dt.date(2026, 10, 30), "America/New_York", 4)
    end = streaks.day_ends_at(dt.date(2026, 10, 31), "America/New_York", 4)
    assert end - start == dt.timedelta(hours=25)


def test_the_study_day_that_spans_the_spring_forward_night_lasts_23_hours() -> None:
    start = streaks.day_ends_at(dt.date(2026, 3, 6), "America/New_York", 4)
    end = streaks.day_ends_at(dt.date(2026, 3, 7), "America/New_York", 4)
    assert end - start == dt.timedelta(hours=23)


def test_week_days_count_from_monday() -> None:
    # 2026-03-01 is a Sunday, so it belongs to the week before 2026-03-04 (a Wednesday).
    assert streaks.week_days(days(0, 1, 2, 3), D + dt.timedelta(days=3)) == 3
