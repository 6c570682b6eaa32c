"""Streak rules as pure functions over the ledger of counted days. No I/O, no clock.

The ledger holds the local study days a member graded a question in one chat. Everything shown
(current and longest streak, freezes held) is a fold over those days, so a zone change never
rewrites the past: the days themselves were fixed when they were counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

FREEZE_EVERY = 7  # a run of this many counted days earns one freeze
MAX_FREEZES = 2


@dataclass(frozen=True, slots=True)
class StreakStatus:
    current: int
    longest: int
    done_today: bool
    freezes: int
    frozen_days: int  # missed days covered by freezes within the current streak
    total_days: int


def study_day(instant: dt.datetime, zone: str, rollover_hour: int) -> dt.date:
    """The local study day of an instant: before the rollover hour it is still yesterday."""
    local = instant.astimezone(ZoneInfo(zone))
    return (local - dt.timedelta(hours=rollover_hour)).date()


def day_ends_at(day: dt.date, zone: str, rollover_hour: int) -> dt.datetime:
    """The instant (UTC) a study day ends: the rollover hour of the next local calendar day."""
    nxt = day + dt.timedelta(days=1)
    local = dt.datetime.combine(nxt, dt.time(rollover_hour), ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def compute(days: Iterable[dt.date], today: dt.date) -> StreakStatus:
    """Fold the ledger into a status as of `today` (the member's current study day)."""
    ordered = sorted(set(d for d in days if d <= today))
    run = longest = freezes = earned = frozen = 0
    prev: dt.date | None = None
    for day in ordered:
        gap = 0 if prev is None else (day - prev).days - 1
        if prev is None or gap > freezes:
            if prev is not None:
                freezes = 0  # spent trying to cover a gap that was too long
            run, earned, frozen = 1, 1, 0
        else:
            freezes -= gap
            frozen += gap
            run += 1
            earned += 1
        if earned == FREEZE_EVERY:
            earned = 0
            freezes = min(MAX_FREEZES, freezes + 1)
        longest = max(longest, run)
        prev = day
    if prev is None:
        return StreakStatus(0, 0, False, 0, 0, 0)
    done_today = prev == today
    missed = (today - prev).days - 1  # days missed before today; today itself is still open
    if done_today or missed <= 0:
        current = run
    elif missed <= freezes:
        current = run
        freezes -= missed
        frozen += missed
    else:
        current, freezes, frozen = 0, 0, 0
    return StreakStatus(current, longest, done_today, freezes, frozen, len(ordered))


def week_days(days: Iterable[dt.date], today: dt.date) -> int:
    """Counted days in the ISO week (Monday first) that contains `today`."""
    monday = today - dt.timedelta(days=today.weekday())
    return sum(1 for d in set(days) if monday <= d <= today)
