"""A trigger that fires at a fixed interval of absolute time (APScheduler 3's ``interval`` trigger)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from nbsched.abc import Trigger
from nbsched.datetimes import datetime_repr
from nbsched.exceptions import SerializationError, TriggerArgumentError
from nbsched.triggers.base import check_jitter, check_state, reject_unknown
from nbsched.triggers.date import (
    _datetime_from_json,
    _datetime_to_json,
    _in_zone,
    _jittered,
    _resolve_zone,
    _same_zone,
    _to_datetime,
    _utc,
    _zone_from_json,
    _zone_to_json,
)

if TYPE_CHECKING:
    from typing import Self

__all__ = ["IntervalTrigger"]

_MICROSECOND = timedelta(microseconds=1)
_UNITS = (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))
_ARGUMENTS = ("weeks", "days", "hours", "minutes", "seconds", "start_date", "end_date", "timezone", "jitter")


class IntervalTrigger(Trigger):
    """Fires every ``interval`` of absolute time, on the grid ``start_date + n * interval``.

    Interval arithmetic is done in absolute (UTC) time, as APScheduler 3 does: ``hours=24`` across a DST
    change fires at 10:00 one day and 11:00 (wall clock) the next. Use
    :class:`~nbsched.triggers.calendarinterval.CalendarIntervalTrigger` to keep the wall-clock time.

    ``start_date=None`` differs from APScheduler 3 on purpose. APScheduler reads the clock in the constructor
    and starts at ``now + interval``; triggers here are pure, so the grid is anchored the first time the
    trigger is asked for a fire time: ``get_next_fire_time(None, now)`` (or :meth:`skip_to`) anchors it at
    ``now + interval``, and ``get_next_fire_time(previous, now)`` on a trigger that was never anchored (a
    replaced trigger that kept the stored next run time) anchors it at ``previous``. The anchor is state:
    it is kept in :meth:`to_dict` and pickles, but it is not part of ``==``, so a trigger rebuilt from the
    same arguments compares equal to the stored one.

    A plain class with ``__slots__`` rather than attrs: the constructor keeps APScheduler 3's positional
    signature, derives the zone from three arguments and carries the lazily set anchor.

    :param weeks: number of weeks to wait
    :param days: number of days to wait
    :param hours: number of hours to wait
    :param minutes: number of minutes to wait
    :param seconds: number of seconds to wait
    :param start_date: the first fire time, and the origin of the grid
    :param end_date: latest possible fire time
    :param timezone: zone of the fire times and of naive dates (default: the zone of an aware
        ``start_date``/``end_date``, else local)
    :param jitter: delay each fire time by a random 0..``jitter`` seconds
    :raises TriggerArgumentError: for a negative, non-numeric or zero interval, a bad date, zone or jitter,
        an ``end_date`` before ``start_date``, or an argument it does not have
    """

    __slots__ = (
        "_anchor",
        "_end_utc",
        "end_date",
        "interval",
        "interval_length",
        "jitter",
        "start_date",
        "timezone",
    )

    alias = "interval"

    def __init__(
        self,
        weeks: float = 0,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        timezone: tzinfo | str | None = None,
        jitter: float | None = None,
        **unknown: Any,
    ) -> None:
        owner = type(self).__name__
        reject_unknown(owner, unknown, _ARGUMENTS)
        units = {"weeks": weeks, "days": days, "hours": hours, "minutes": minutes, "seconds": seconds}
        for field, value in units.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TriggerArgumentError(owner, field, value, "must be a number")
            if not math.isfinite(value):
                raise TriggerArgumentError(owner, field, value, "must be a finite number")
            if value < 0:
                raise TriggerArgumentError(owner, field, value, "must not be negative")
        try:
            interval = timedelta(**units)
        except OverflowError:
            raise TriggerArgumentError(owner, "interval", units, "is too long") from None
        self._setup(interval, start_date, end_date, timezone, jitter)

    def _setup(self, interval: timedelta, start_date: Any, end_date: Any, timezone: Any, jitter: Any) -> None:
        owner = type(self).__name__
        if interval <= timedelta(0):
            raise TriggerArgumentError(
                owner,
                "interval",
                interval,
                "must be longer than zero (give weeks, days, hours, minutes or seconds)",
            )
        #: the time between fire times
        self.interval: timedelta = interval
        #: ``interval`` in seconds (APScheduler 3 has this attribute)
        self.interval_length: float = interval.total_seconds()
        #: the zone fire times are given in
        self.timezone: tzinfo = _resolve_zone(owner, timezone, start_date, end_date)
        #: the first fire time as given (``None``: anchored lazily, see the class docstring)
        self.start_date: datetime | None = _to_datetime(start_date, self.timezone, owner, "start_date")
        #: the latest possible fire time
        self.end_date: datetime | None = _to_datetime(end_date, self.timezone, owner, "end_date")
        #: the maximum random delay in seconds
        self.jitter: float | None = check_jitter(owner, jitter)
        self._anchor: datetime | None = self.start_date
        self._end_utc: datetime | None = self.end_date.astimezone(UTC) if self.end_date is not None else None
        if (
            self.start_date is not None
            and self.end_date is not None
            and self.end_date.astimezone(UTC) < self.start_date.astimezone(UTC)
        ):
            raise TriggerArgumentError(
                owner,
                "end_date",
                self.end_date.isoformat(),
                f"is before start_date {self.start_date.isoformat()}",
            )

    @property
    def anchor(self) -> datetime | None:
        """The origin of the fire-time grid: ``start_date``, or where it was anchored lazily, or ``None``."""
        return self._anchor

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """``previous_fire_time + interval``, or the first grid point at or after ``now`` when it is None."""
        if previous_fire_time is None:
            return self.skip_to(now)
        if self._anchor is None:
            self._anchor = _in_zone(previous_fire_time, self.timezone)
        return self._finish(previous_fire_time.astimezone(UTC), self.interval)

    def skip_to(self, now: datetime) -> datetime | None:
        """The first grid point at or after ``now``, computed directly (no walk over the missed ones)."""
        now_utc = now.astimezone(UTC)
        if self._anchor is None:
            try:
                self._anchor = _in_zone(now_utc + self.interval, self.timezone)
            except OverflowError:
                return None
        anchor = self._anchor.astimezone(UTC)
        if anchor >= now_utc:
            return self._finish(anchor, timedelta(0))
        # exact integer arithmetic in microseconds: ceil((now - anchor) / interval)
        steps = -((anchor - now_utc) // _MICROSECOND // (self.interval // _MICROSECOND))
        return self._finish(anchor, self.interval * steps)

    def _finish(self, origin: datetime, offset: timedelta) -> datetime | None:
        try:
            # As in APScheduler 3, jitter is added before the end_date check.
            fire_time = _jittered(origin + offset, self.jitter, self.timezone)
        except OverflowError:
            return None  # past datetime.max: there is no next fire time
        if self._end_utc is not None and fire_time > self._end_utc:  # aware comparison: by instant
            return None
        return fire_time

    def describe(self) -> str:
        """``every 5 minutes``, ``every 2 hours 30 minutes``."""
        total_us = self.interval // _MICROSECOND
        whole, micro = divmod(total_us, 1_000_000)
        parts: list[tuple[float, str]] = []
        for name, size in _UNITS:
            if name == "week" and whole % size:
                continue  # "10 days" reads better than "1 week 3 days"
            count, whole = divmod(whole, size)
            if count:
                parts.append((count, name))
        if whole or micro:
            parts.append((whole + micro / 1_000_000, "second"))
        if len(parts) == 1 and parts[0][0] == 1:
            text = f"every {parts[0][1]}"
        else:
            text = "every " + " ".join(f"{count:g} {name}{'' if count == 1 else 's'}" for count, name in parts)
        if self.start_date is not None:
            text += f" from {self.start_date.strftime('%Y-%m-%d %H:%M:%S')}"
        if self.end_date is not None:
            text += f" until {self.end_date.strftime('%Y-%m-%d %H:%M:%S')}"
        if self.jitter:
            text += f", jitter up to {self.jitter:g} s"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state; ``anchor`` is set only for a trigger without ``start_date`` that has fired."""
        owner = type(self).__name__
        return {
            "type": self.alias,
            "version": 1,
            "interval": {
                "days": self.interval.days,
                "seconds": self.interval.seconds,
                "microseconds": self.interval.microseconds,
            },
            "start_date": _datetime_to_json(self.start_date),
            "end_date": _datetime_to_json(self.end_date),
            "timezone": _zone_to_json(self.timezone, owner),
            "jitter": self.jitter,
            "anchor": None if self.start_date is not None else _datetime_to_json(self._anchor),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Self:
        """Rebuild a trigger from :meth:`to_dict` output."""
        check_state(cls, state)
        owner = cls.__name__
        parts = state.get("interval")
        if not isinstance(parts, dict) or not all(
            isinstance(parts.get(key), int) for key in ("days", "seconds", "microseconds")
        ):
            raise SerializationError(owner, "interval", parts, "must hold integer days, seconds and microseconds")
        zone = _zone_from_json(state.get("timezone"), owner)
        trigger = cls.__new__(cls)
        trigger._setup(
            timedelta(days=parts["days"], seconds=parts["seconds"], microseconds=parts["microseconds"]),
            _datetime_from_json(state.get("start_date"), zone, owner, "start_date"),
            _datetime_from_json(state.get("end_date"), zone, owner, "end_date"),
            zone,
            state.get("jitter"),
        )
        if trigger.start_date is None:
            trigger._anchor = _datetime_from_json(state.get("anchor"), zone, owner, "anchor")
        return trigger

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, IntervalTrigger)
        return (
            self.interval == other.interval
            and _utc(self.start_date) == _utc(other.start_date)
            and _utc(self.end_date) == _utc(other.end_date)
            and self.jitter == other.jitter
            and _same_zone(self.timezone, other.timezone)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.interval, self.start_date, self.end_date, self.jitter))

    def __str__(self) -> str:
        return f"interval[{self.interval!s}]"

    def __repr__(self) -> str:
        options = [f"interval={self.interval!r}"]
        if self._anchor is not None:
            options.append(f"start_date={datetime_repr(self._anchor)!r}")
        if self.end_date is not None:
            options.append(f"end_date={datetime_repr(self.end_date)!r}")
        if self.jitter:
            options.append(f"jitter={self.jitter}")
        return f"<{type(self).__name__} ({', '.join(options)}, timezone='{self.timezone}')>"
