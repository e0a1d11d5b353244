"""A trigger that fires once, at a given date and time (APScheduler 3's ``date`` trigger).

This module also holds the small helpers every non-cron trigger uses to pick its zone and to read and write
datetimes as JSON. They belong in :mod:`nbsched.datetimes` eventually; they live here because this is the
simplest trigger module and the others already depend on it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from nbsched.abc import Trigger
from nbsched.datetimes import (
    as_timezone,
    convert_to_datetime,
    datetime_repr,
    local_timezone,
    normalize,
    timezone_name,
)
from nbsched.exceptions import SerializationError
from nbsched.triggers.base import apply_jitter, check_state, reject_unknown

if TYPE_CHECKING:
    from typing import Self

__all__ = ["DateTrigger"]

_OFFSET_RE = re.compile(r"^(?:UTC)?([+-])(\d\d):(\d\d)$")


def _resolve_zone(owner: str, zone: Any, *dates: Any) -> tzinfo:
    """The trigger's zone: the ``timezone`` argument, else that of the first aware datetime, else local."""
    if zone is None or zone == "":
        zone = next((value.tzinfo for value in dates if isinstance(value, datetime) and value.tzinfo), None)
    if zone is None:
        return local_timezone()
    resolved = as_timezone(zone, owner, "timezone")  # pytz and dateutil zones become ZoneInfo
    assert resolved is not None  # only None maps to None
    return resolved


def _to_datetime(value: Any, zone: tzinfo, owner: str, field: str) -> datetime | None:
    """An aware datetime in ``zone``; naive wall-clock times in a spring gap move forward (as APScheduler)."""
    converted = convert_to_datetime(value, zone, owner, field)
    return None if converted is None else normalize(converted)


def _utc(dt: datetime | None) -> datetime | None:
    """``dt`` in UTC, for comparing instants.

    Python compares (and subtracts) two datetimes that share a ``tzinfo`` as wall-clock times, ignoring
    ``fold``: 02:30 before and after a fall-back change would compare equal. Every comparison of instants in
    these triggers goes through UTC.
    """
    return None if dt is None else dt.astimezone(UTC)


def _in_zone(dt: datetime, zone: tzinfo) -> datetime:
    """``dt`` (aware) as wall-clock time in ``zone``, computed through UTC so DST folds come out right."""
    return dt.astimezone(UTC).astimezone(zone)


def _jittered(fire_time: datetime, jitter: float | None, zone: tzinfo) -> datetime:
    """Add jitter in absolute time (adding a timedelta to a zoned datetime would add wall-clock time)."""
    if not jitter:
        return fire_time.astimezone(zone)
    result = apply_jitter(fire_time.astimezone(UTC), jitter)
    assert result is not None
    return result.astimezone(zone)


def _zone_to_json(zone: tzinfo, owner: str) -> str:
    """A zone as text that :func:`_zone_from_json` reads back: an IANA name or a fixed ``+HH:MM`` offset."""
    if isinstance(zone, timezone) and zone is not UTC:
        offset = zone.utcoffset(None)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    name = timezone_name(zone)
    try:
        as_timezone(name, owner)
    except ValueError:
        raise SerializationError(owner, "timezone", zone, "has no name that can be stored") from None
    return name


def _zone_from_json(text: Any, owner: str) -> tzinfo:
    if isinstance(text, str):
        match = _OFFSET_RE.match(text)
        if match:
            sign, hours, minutes = match.groups()
            delta = timedelta(hours=int(hours), minutes=int(minutes))
            return timezone(-delta if sign == "-" else delta)
    resolved = as_timezone(text, owner, "timezone")
    if resolved is None:
        raise SerializationError(owner, "timezone", text, "is missing")
    return resolved


def _datetime_to_json(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def _datetime_from_json(text: Any, zone: tzinfo, owner: str, field: str) -> datetime | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise SerializationError(owner, field, text, "must be an ISO 8601 string or null")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise SerializationError(owner, field, text, "is not an ISO 8601 date/time") from None
    if value.tzinfo is None:
        raise SerializationError(owner, field, text, "has no UTC offset")
    return _in_zone(value, zone)


def _same_zone(a: tzinfo, b: tzinfo) -> bool:
    return a is b or timezone_name(a) == timezone_name(b)


class DateTrigger(Trigger):
    """Fires once, at ``run_date``.

    A plain class with ``__slots__`` rather than attrs: the constructor keeps APScheduler 3's positional
    signature and derives the zone from the arguments, which reads more plainly as code than as converters.

    ``run_date=None`` differs from APScheduler 3 on purpose. APScheduler reads the clock in the constructor
    ("now"); triggers here are pure, so ``None`` means "fire at the first ``now`` I am asked with":
    ``get_next_fire_time(None, now)`` returns ``now``; the scheduler stores that as the job's next run time.

    :param run_date: the date/time to fire at (datetime, date or ISO string; naive values are read in
        ``timezone``)
    :param timezone: zone for a naive ``run_date`` (default: local); an aware ``run_date`` keeps its own zone
    :raises TriggerArgumentError: for a ``run_date`` that is not a date/time, a bad zone, or an argument it
        does not have
    """

    __slots__ = ("run_date", "timezone")

    alias = "date"

    def __init__(
        self, run_date: datetime | str | None = None, timezone: tzinfo | str | None = None, **unknown: Any
    ) -> None:
        owner = type(self).__name__
        reject_unknown(owner, unknown, ("run_date", "timezone"))
        zone = _resolve_zone(owner, timezone)
        if isinstance(run_date, datetime) and run_date.tzinfo is not None:
            # As APScheduler 3: an aware run_date is kept as given, in its own zone (``timezone`` only
            # interprets naive values); the trigger then reports fire times in that zone.
            zone = _resolve_zone(owner, None, run_date)
        #: the zone fire times are given in
        self.timezone: tzinfo = zone
        #: the one fire time (``None``: the first ``now`` the trigger is asked with)
        self.run_date: datetime | None = _to_datetime(run_date, zone, owner, "run_date")

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """``run_date`` (or ``now`` when it is ``None``) if the trigger has not fired yet, else ``None``."""
        if previous_fire_time is not None:
            return None
        return _in_zone(now, self.timezone) if self.run_date is None else self.run_date

    def skip_to(self, now: datetime) -> datetime | None:
        """``run_date`` if it is still ahead (at or after ``now``), else ``None``: a past date is used up."""
        if self.run_date is None:
            return _in_zone(now, self.timezone)
        return self.run_date if self.run_date.astimezone(UTC) >= now.astimezone(UTC) else None

    def describe(self) -> str:
        """``once at 2026-12-01 08:00 (Europe/Paris)``."""
        if self.run_date is None:
            return "once, as soon as it is scheduled"
        fmt = "%Y-%m-%d %H:%M" if self.run_date.second == 0 == self.run_date.microsecond else "%Y-%m-%d %H:%M:%S"
        return f"once at {self.run_date.strftime(fmt)} ({timezone_name(self.timezone)})"

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "date", "version": 1, "run_date": ISO string or null, "timezone": zone name}``."""
        return {
            "type": self.alias,
            "version": 1,
            "run_date": _datetime_to_json(self.run_date),
            "timezone": _zone_to_json(self.timezone, type(self).__name__),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Self:
        """Rebuild a trigger from :meth:`to_dict` output."""
        check_state(cls, state)
        zone = _zone_from_json(state.get("timezone"), cls.__name__)
        run_date = _datetime_from_json(state.get("run_date"), zone, cls.__name__, "run_date")
        return cls(run_date, zone)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, DateTrigger)
        return _utc(self.run_date) == _utc(other.run_date) and _same_zone(self.timezone, other.timezone)

    def __hash__(self) -> int:
        return hash((type(self), self.run_date, timezone_name(self.timezone)))

    def __str__(self) -> str:
        return f"date[{datetime_repr(self.run_date)}]"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (run_date='{datetime_repr(self.run_date)}')>"
