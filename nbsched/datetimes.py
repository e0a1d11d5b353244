"""Time zone and datetime helpers shared by triggers, jobs and schedulers.

Everything here is pure: nothing reads the clock. Time zones are :mod:`zoneinfo` names or ``tzinfo`` objects;
naive datetimes are interpreted in a given zone with ``fold=0`` (the first of a repeated hour).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbsched.exceptions import InvalidArgumentError, TriggerArgumentError

__all__ = [
    "UTC",
    "as_aware",
    "as_timedelta",
    "as_timezone",
    "convert_to_datetime",
    "datetime_repr",
    "local_timezone",
    "normalize",
    "timezone_name",
]

_DATE_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(?:\.(?P<microsecond>\d{1,6}))?)?"
    r"\s*(?P<timezone>Z|[+-]\d\d:?\d\d)?)?$"
)


@lru_cache(maxsize=1)
def local_timezone() -> tzinfo:
    """The machine's local time zone (a :class:`zoneinfo.ZoneInfo` where it can be named)."""
    from tzlocal import get_localzone

    zone: tzinfo = get_localzone()
    return zone


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    if name.upper() in {"UTC", "Z"} or name in _UTC_NAMES:
        return UTC
    return ZoneInfo(name)


def as_timezone(value: Any, owner: str = "nbsched", field: str = "timezone") -> tzinfo | None:
    """Turn a zone name or ``tzinfo`` into a ``tzinfo``; ``None`` stays ``None``.

    :raises InvalidArgumentError: for an unknown zone name or a value of another type
    """
    if value is None or isinstance(value, tzinfo):
        return value
    if isinstance(value, str):
        if value.strip().lower() == "local":
            return local_timezone()
        try:
            return _zone(value.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, a name too long
            raise _error(owner, field, value, "is not a known time zone name (e.g. 'Europe/Berlin', 'UTC')") from None
    raise _error(owner, field, value, "must be a time zone name or a tzinfo")


def timezone_name(tz: tzinfo | None) -> str:
    """A stable textual name for a zone: the IANA key where there is one."""
    if tz is None:
        return "None"
    if tz is UTC:
        return "UTC"
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if key:
        # The IANA database has several names for UTC (a machine whose local zone is "Etc/UTC" is common).
        return "UTC" if key in _UTC_NAMES else str(key)
    return str(tz)


_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "UCT", "Etc/UCT"})


def as_aware(dt: datetime, tz: tzinfo) -> datetime:
    """Attach ``tz`` to a naive datetime (``fold=0``); convert an aware one to ``tz``."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=tz)
    return dt.astimezone(tz)


def normalize(dt: datetime) -> datetime:
    """Map a wall-clock time that does not exist (spring gap) to the real instant, in the same zone."""
    tz = dt.tzinfo
    if tz is None:
        return dt
    return dt.astimezone(UTC).astimezone(tz)


def convert_to_datetime(
    value: Any, tz: tzinfo | None, owner: str = "nbsched", field: str = "run_date"
) -> datetime | None:
    """Turn a datetime, date or ISO-like string into an aware datetime in ``tz``.

    Naive input is read as wall-clock time in ``tz``; aware input keeps its instant. ``None`` stays ``None``.

    :raises InvalidArgumentError: for text that is not a date or a value of another type
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        match = _DATE_RE.match(value.strip())
        if not match:
            raise _error(owner, field, value, "is not a date/time (expected e.g. '2026-12-01 08:00')")
        parts = match.groupdict()
        tz_text = parts.pop("timezone")
        micro = parts.pop("microsecond")
        numbers = {key: int(text) for key, text in parts.items() if text is not None}
        if micro:
            numbers["microsecond"] = int(micro.ljust(6, "0"))
        try:
            dt = datetime(**numbers)  # type: ignore[arg-type]  # keys are datetime's own field names
        except ValueError as exc:
            raise _error(owner, field, value, f"is not a valid date/time ({exc})") from None
        if tz_text:
            dt = dt.replace(tzinfo=_utc_offset(tz_text, owner, field, value))
    else:
        raise _error(owner, field, value, "must be a datetime, a date or an ISO 8601 string")
    if dt.tzinfo is None:
        if tz is None:
            raise _error(owner, field, value, "has no time zone and no default time zone was given")
        return dt.replace(tzinfo=tz)
    return dt.astimezone(tz) if tz is not None else dt


def _utc_offset(text: str, owner: str, field: str, value: Any) -> tzinfo:
    """The fixed zone of a ``Z``, ``+HH:MM`` or ``-HHMM`` suffix (the date pattern has matched its shape)."""
    if text == "Z":
        return UTC
    hours, minutes = int(text[1:3]), int(text[-2:])
    if hours > 23 or minutes > 59:
        raise _error(owner, field, value, f"has an invalid UTC offset {text!r} (expected -23:59 to +23:59)")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def as_timedelta(value: Any, owner: str, field: str) -> timedelta | None:
    """Seconds (int/float) or a ``timedelta`` as a ``timedelta``; ``None`` stays ``None``."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(owner, field, value, "must be a number of seconds or a timedelta")
    return timedelta(seconds=value)


def datetime_repr(dt: datetime | None) -> str:
    """APScheduler 3's text form of a datetime: ``2026-12-01 08:00:00 CET``."""
    return dt.strftime("%Y-%m-%d %H:%M:%S %Z") if dt else "None"


def _error(owner: str, field: str, value: Any, problem: str) -> InvalidArgumentError:
    cls = TriggerArgumentError if owner.endswith("Trigger") else InvalidArgumentError
    return cls(owner, field, value, problem)
