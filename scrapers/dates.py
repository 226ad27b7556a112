"""Expiry dates as sources write them, to timezone-aware UTC datetimes (None when unsure)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_ISO_DATE = re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)")
# "September 2, 2026", "Sep 2nd 2026"
_MONTH_FIRST = re.compile(
    rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.IGNORECASE
)
# "2 September 2026"
_DAY_FIRST = re.compile(
    rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})\b", re.IGNORECASE
)
_TIME = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"(?:\s*(?P<ampm>[AaPp])\.?[Mm]\.?)?(?![\d:])"
)
_OFFSET = re.compile(
    r"\b(?:UTC|GMT)\s*(?:(?P<sign>[+\-\u2212])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?)?",
)
_ZULU = re.compile(r"\d(?:Z|\+00:?00)\b")
# Zone abbreviations sources use; a named zone so that summer time is right.
_ZONES = {
    "PT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "ET": "America/New_York",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CET": "Europe/Berlin",
    "CEST": "Europe/Berlin",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "SGT": "Asia/Singapore",
}
_ZONE_WORD = re.compile(r"\b(?P<zone>" + "|".join(_ZONES) + r")\b")
# Words that say a code never expires (on its own) or that the source does not know.
_NO_DATE = re.compile(r"^\s*(?:unknown|indef(?:inite)?|permanent|none|n/?a|tba|tbd|-+|\?+)?\s*$")


def parse_date(text: str) -> datetime | None:
    """A date (and optional time and zone) anywhere in `text`, as an aware UTC datetime.

    A date without a time means the end of that day: "valid until September 2" includes the 2nd.
    Without a zone the time is UTC, which is what wikis state for their tables. Anything that
    cannot be read with confidence gives None.
    """
    if len(text) > 200 or _NO_DATE.match(text):
        return None
    day = _find_day(text)
    if day is None:
        return None
    zone = _find_zone(text)
    if zone is None:
        return None
    clock = _find_time(text)
    if clock is None:
        moment = datetime.combine(day, time(23, 59, 59), tzinfo=zone)
    else:
        moment = datetime.combine(day, clock, tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 9999 in a zone west of UTC
        return None


def from_unix(value: object) -> datetime | None:
    """Unix seconds (int, float or digit string) to UTC; 0, negatives and nonsense give None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _find_day(text: str) -> date | None:
    for pattern in (_ISO_DATE, _MONTH_FIRST, _DAY_FIRST):
        match = pattern.search(text)
        if match is None:
            continue
        month_text = match["month"]
        month = int(month_text) if month_text.isdigit() else _MONTHS[month_text[:3].lower()]
        try:
            return date(int(match["year"]), month, int(match["day"]))
        except ValueError:
            return None
    return None


def _find_time(text: str) -> time | None:
    match = _TIME.search(text)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    ampm = (match["ampm"] or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _find_zone(text: str) -> tzinfo | None:
    """UTC by default; None when the text names a zone it cannot be sure of."""
    offset = _OFFSET.search(text)
    if offset is not None:
        if offset["sign"] is None:
            return UTC
        hours, minutes = int(offset["hours"]), int(offset["minutes"] or 0)
        if hours > 14 or minutes > 59:
            return None
        sign = -1 if offset["sign"] in "-\u2212" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if _ZULU.search(text):
        return UTC
    named = _ZONE_WORD.search(text)
    if named is not None:
        try:
            return ZoneInfo(_ZONES[named["zone"]])
        except ZoneInfoNotFoundError:
            return None
    return UTC
