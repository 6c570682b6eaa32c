"""Local-time schedule arithmetic. Every push time comes from the zone, never from adding 24 h."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")


def parse_time(text: str) -> dt.time | None:
    """`HH:MM` (24 h, also with a full-width colon) or None."""
    m = _TIME.match(text.strip())
    return dt.time(int(m.group(1)), int(m.group(2))) if m else None


def looks_like_time(text: str) -> bool:
    return bool(re.match(r"^\d{1,2}[:：.]\d{1,2}$|^\d{1,4}$", text.strip()))


def valid_zone(name: str) -> bool:
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def canonical_zone(name: str) -> str | None:
    """The IANA name as spelled in the database, accepting any letter case."""
    if valid_zone(name):
        return name
    lowered = name.lower()
    for zone in available_timezones():
        if zone.lower() == lowered:
            return zone
    return None


def local_run(day: dt.date, at: dt.time, zone: str) -> dt.datetime:
    """The UTC instant of `at` on local `day`.

    A time that does not exist (the spring-forward gap) lands just after the gap; a time that occurs
    twice (fall back) is taken at its first occurrence.
    """
    local = dt.datetime.combine(day, at, ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def next_run(at: dt.time, zone: str, after: dt.datetime) -> dt.datetime:
    """The first push instant strictly after `after`."""
    day = after.astimezone(ZoneInfo(zone)).date() - dt.timedelta(days=1)
    for _ in range(4):
        candidate = local_run(day, at, zone)
        if candidate > after:
            return candidate
        day += dt.timedelta(days=1)
    raise AssertionError("a local time recurs within four days")


def local_date_of_run(run_at: dt.datetime, zone: str) -> dt.date:
    return run_at.astimezone(ZoneInfo(zone)).date()
