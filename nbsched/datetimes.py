"""Time zone and datetime helpers shared by triggers, jobs and schedulers.

Everything here is pure: nothing reads the clock. Time zones are :mod:`zoneinfo` names or ``tzinfo`` objects;
naive datetimes are interpreted in a given zone with ``fold=0`` (the first of a repeated hour).

Every zone that enters nbsched goes through :func:`native_timezone` (via :func:`as_timezone`,
:func:`as_aware` or :func:`convert_to_datetime`): pytz and dateutil zones become the ``ZoneInfo`` of the same
name (or a ``datetime.timezone`` for a fixed offset), so the plain ``datetime`` arithmetic used everywhere else
is right for them too. pytz and dateutil are never imported here: they are recognised by their attributes.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

from nbsched.exceptions import InvalidArgumentError, TriggerArgumentError

__all__ = [
    "UTC",
    "as_aware",
    "as_timedelta",
    "as_timezone",
    "convert_to_datetime",
    "datetime_repr",
    "local_timezone",
    "native_timezone",
    "normalize",
    "parse_datetime",
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
    if value is None:
        return None
    if isinstance(value, tzinfo):
        try:
            return native_timezone(value)
        except (ZoneInfoNotFoundError, ValueError):
            name = getattr(value, "zone", None)
            raise _error(owner, field, value, f"names a zone ({name!r}) that zoneinfo does not know") from None
    if isinstance(value, str):
        if value.strip().lower() == "local":
            return local_timezone()
        try:
            return _zone(value.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, a name too long
            raise _error(owner, field, value, "is not a known time zone name (e.g. 'Europe/Berlin', 'UTC')") from None
    raise _error(owner, field, value, "must be a time zone name or a tzinfo")


def native_timezone(tz: tzinfo) -> tzinfo:
    """The zone nbsched computes with for any ``tzinfo``: the same zone where it is a ``ZoneInfo`` or a
    ``datetime.timezone``; for a pytz or dateutil zone the ``ZoneInfo`` of its IANA name (``datetime.UTC`` for
    UTC), or a ``datetime.timezone`` for a fixed offset.

    pytz zones give local mean time when attached with ``replace(tzinfo=...)`` and dateutil zones differ in
    small ways (``repr``, equality, how they are stored), hence the conversion. A dateutil zone without an IANA
    name (``tzstr``, ``tzrange``, a file outside the zoneinfo folders) is kept: it honours ``fold``, so the
    arithmetic is right, but it cannot be stored by name. Other ``tzinfo`` classes are kept as they are.

    :raises zoneinfo.ZoneInfoNotFoundError: for a pytz zone whose name zoneinfo does not know
    """
    if isinstance(tz, ZoneInfo | timezone):
        return tz
    if hasattr(tz, "localize") and hasattr(tz, "normalize"):  # pytz: every zone class has both
        return _from_pytz(tz)
    if type(tz).__module__.startswith("dateutil."):
        return _from_dateutil(tz)
    return tz


def _from_pytz(tz: tzinfo) -> tzinfo:
    name = getattr(tz, "zone", None)
    if name:  # pytz.utc, DstTzInfo, StaticTzInfo (and each localized instance of a DstTzInfo)
        return _zone(name)
    offset = tz.utcoffset(None)  # pytz.FixedOffset has no name, only its offset
    if offset is None:
        raise ZoneInfoNotFoundError(f"pytz zone {tz!r} has neither a name nor a fixed offset")
    return _fixed(offset)


def _from_dateutil(tz: tzinfo) -> tzinfo:
    kind = type(tz).__name__
    if kind == "tzutc":
        return UTC
    if kind == "tzoffset":
        offset, name = tz.utcoffset(None), tz.tzname(None)
        if offset is None:
            return tz
        return timezone(offset, name) if name else _fixed(offset)
    if kind == "tzlocal":
        return local_timezone()
    if kind == "tzfile":
        # ``gettz(name)`` keeps the name (``_key``, dateutil >= 2.9); otherwise the file's path under a zoneinfo
        # folder names the zone (``gettz('/usr/share/zoneinfo/Europe/Paris')``, older dateutil)
        key = getattr(tz, "_key", None) or _key_of_path(getattr(tz, "_filename", None))
        if key:
            try:
                return _zone(key)
            except (ZoneInfoNotFoundError, ValueError):
                pass
    return tz


def _key_of_path(path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    if not os.path.isabs(path):
        return path  # dateutil's bundled zoneinfo names its files by key
    for root in (*TZPATH, "/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo"):
        relative = os.path.relpath(path, root)
        if not relative.startswith(os.pardir):
            return relative
    return None


def _fixed(offset: timedelta) -> tzinfo:
    return UTC if not offset else timezone(offset)


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
    tz = native_timezone(tz)
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
    dt = parse_datetime(value, owner, field)
    if dt is None:
        return None
    if dt.tzinfo is None:
        if tz is None:
            raise _error(owner, field, value, "has no time zone and no default time zone was given")
        return dt.replace(tzinfo=native_timezone(tz))
    if tz is not None:
        return dt.astimezone(native_timezone(tz))
    native = native_timezone(dt.tzinfo)
    return dt if native is dt.tzinfo else dt.astimezone(native)


def parse_datetime(value: Any, owner: str = "nbsched", field: str = "run_date") -> datetime | None:
    """A datetime, date or ISO-like string as a datetime, naive unless the value has a zone or UTC offset.

    :raises InvalidArgumentError: for text that is not a date or a value of another type
    """
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise _error(owner, field, value, "must be a datetime, a date or an ISO 8601 string")
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
    return dt.replace(tzinfo=_utc_offset(tz_text, owner, field, value)) if tz_text else dt


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
