"""A trigger firing on calendar intervals at one wall-clock time (APScheduler 3's ``calendarinterval``)."""

from __future__ import annotations

from datetime import MAXYEAR, UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from nbsched.abc import Trigger
from nbsched.datetimes import timezone_name
from nbsched.exceptions import SerializationError, TriggerArgumentError, TriggerSearchError
from nbsched.triggers.base import check_jitter, check_state, reject_unknown
from nbsched.triggers.date import (
    _in_zone,
    _jittered,
    _resolve_zone,
    _same_zone,
    _zone_from_json,
    _zone_to_json,
)

if TYPE_CHECKING:
    from typing import Self

__all__ = ["CalendarIntervalTrigger"]

_ARGUMENTS = (
    "years",
    "months",
    "weeks",
    "days",
    "hour",
    "minute",
    "second",
    "start_date",
    "end_date",
    "timezone",
    "jitter",
)
#: how many consecutive dates may be skipped (nonexistent wall-clock time) before the search gives up
MAX_SKIPPED_DATES = 10_000

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December")  # fmt: skip


class CalendarIntervalTrigger(Trigger):
    """Fires every ``years``/``months``/``weeks``/``days`` at the same wall-clock time of day.

    Same rules as APScheduler 3.11: the next date is the previous one plus ``years`` and ``months`` keeping
    the day of the month, repeated until that date exists (31 March + 1 month is 31 May), then plus ``weeks``
    and ``days``. A date whose wall-clock time falls in a DST gap is skipped (and counts as a period); in a
    repeated hour the earlier occurrence is used. With no previous fire time the first fire time is the one
    on ``start_date``, even when that is before ``now`` (APScheduler 3.11 does the same); :meth:`skip_to`
    gives the first one at or after ``now``.

    ``start_date=None`` differs from APScheduler 3 on purpose: APScheduler reads the clock (today's date) in
    the constructor; triggers here are pure, so the start date is set to ``now``'s date (in ``timezone``)
    the first time the trigger is asked for a fire time. That anchor is state kept by :meth:`to_dict` and
    pickle, but not part of ``==``.

    A plain class with ``__slots__`` rather than attrs: it mirrors APScheduler 3's attributes (``_time``
    included) and carries the lazily set anchor.

    :param years: number of years to wait
    :param months: number of months to wait
    :param weeks: number of weeks to wait
    :param days: number of days to wait
    :param hour: hour to fire at
    :param minute: minute to fire at
    :param second: second to fire at
    :param start_date: first date to fire on (date, datetime or ISO ``YYYY-MM-DD``)
    :param end_date: last possible date to fire on
    :param timezone: zone of the wall-clock time (default: local)
    :param jitter: delay each fire time by a random 0..``jitter`` seconds
    :raises TriggerArgumentError: for a negative or non-integer count, an interval shorter than a day, a time
        out of range, a bad date, zone or jitter, an ``end_date`` before ``start_date``, or an argument it does
        not have
    """

    __slots__ = (
        "_anchor",
        "_time",
        "days",
        "end_date",
        "jitter",
        "months",
        "start_date",
        "timezone",
        "weeks",
        "years",
    )

    alias = "calendarinterval"

    def __init__(
        self,
        *,
        years: int = 0,
        months: int = 0,
        weeks: int = 0,
        days: int = 0,
        hour: int = 0,
        minute: int = 0,
        second: int = 0,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        timezone: tzinfo | str | None = None,
        jitter: float | None = None,
        **unknown: Any,
    ) -> None:
        owner = type(self).__name__
        reject_unknown(owner, unknown, _ARGUMENTS)
        counts = {"years": years, "months": months, "weeks": weeks, "days": days}
        for field, value in counts.items():
            _check_int(owner, field, value, 0, None)
        _check_int(owner, "hour", hour, 0, 23)
        _check_int(owner, "minute", minute, 0, 59)
        _check_int(owner, "second", second, 0, 59)
        if not any(counts.values()):
            raise TriggerArgumentError(
                owner, "interval", 0, "must be at least 1 day long (give years, months, weeks or days)"
            )
        #: number of years to wait
        self.years: int = years
        #: number of months to wait
        self.months: int = months
        #: number of weeks to wait
        self.weeks: int = weeks
        #: number of days to wait
        self.days: int = days
        #: the zone of the wall-clock time
        self.timezone: tzinfo = _resolve_zone(owner, timezone)
        self._time = time(hour, minute, second, tzinfo=self.timezone)
        #: the first date as given (``None``: anchored lazily, see the class docstring)
        self.start_date: date | None = _as_date(owner, "start_date", start_date)
        #: the last possible date
        self.end_date: date | None = _as_date(owner, "end_date", end_date)
        #: the maximum random delay in seconds
        self.jitter: float | None = check_jitter(owner, jitter)
        self._anchor: date | None = self.start_date
        if self.start_date is not None and self.end_date is not None and self.end_date < self.start_date:
            raise TriggerArgumentError(
                owner,
                "end_date",
                self.end_date.isoformat(),
                f"is before start_date {self.start_date.isoformat()}",
            )

    @property
    def hour(self) -> int:
        """The hour of day to fire at."""
        return self._time.hour

    @property
    def minute(self) -> int:
        """The minute to fire at."""
        return self._time.minute

    @property
    def second(self) -> int:
        """The second to fire at."""
        return self._time.second

    @property
    def anchor(self) -> date | None:
        """The first date of the sequence: ``start_date``, or where it was anchored lazily, or ``None``."""
        return self._anchor

    # -- the sequence of dates -------------------------------------------------------------------------------

    def _advance(self, year: int, month: int, day: int) -> date | None:
        """The next date after (``year``, ``month``, ``day``), which itself need not exist; None past 9999."""
        while True:
            month += self.months
            year += self.years + (month - 1) // 12
            month = (month - 1) % 12 + 1
            if year > MAXYEAR:
                return None
            try:
                next_date = date(year, month, day)
            except ValueError:
                continue  # 30 February and the like: keep adding years/months to the original day
            try:
                return next_date + timedelta(days=self.days + self.weeks * 7)
            except OverflowError:
                return None

    def _fire_time_on(self, day: date) -> tuple[datetime, bool]:
        """The instant of the wall-clock time on ``day`` and whether that wall-clock time exists."""
        wall = datetime.combine(day, self._time)  # fold=0: the earlier of a repeated hour
        fire_time = _in_zone(wall, self.timezone)
        return fire_time, fire_time.time() == self._time.replace(tzinfo=None)

    def _first_from(self, day: date | None, now: datetime | None) -> datetime | None:
        """The first existing fire time from ``day`` on (and at/after ``now`` when given), bounded."""
        for _ in range(MAX_SKIPPED_DATES):
            if day is None or (self.end_date is not None and day > self.end_date):
                return None
            fire_time, exists = self._fire_time_on(day)
            if exists and (now is None or fire_time.astimezone(UTC) >= now.astimezone(UTC)):
                return _jittered(fire_time, self.jitter, self.timezone)
            # as APScheduler: the next date follows the (normalised) date of this one
            following = fire_time.date()
            day = self._advance(following.year, following.month, following.day)
        raise TriggerSearchError(f"{self!r}: no existing wall-clock time within {MAX_SKIPPED_DATES} dates after {day}")

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The fire time one interval after ``previous_fire_time``, or the first one on the start date.

        ``previous_fire_time`` is read in the trigger's zone (APScheduler 3 uses its date as given).
        """
        if previous_fire_time is None:
            if self._anchor is None:
                self._anchor = _in_zone(now, self.timezone).date()
            return self._first_from(self._anchor, None)
        previous = _in_zone(previous_fire_time, self.timezone).date()
        if self._anchor is None:
            self._anchor = previous
        return self._first_from(self._advance(previous.year, previous.month, previous.day), None)

    def skip_to(self, now: datetime) -> datetime | None:
        """The first fire time at or after ``now`` in the sequence from the start date.

        The whole number of periods between the start date and ``now`` is computed arithmetically when the
        interval is only years/months or only weeks/days; an interval mixing both (``months=1, days=1``)
        walks its dates, at most one step per elapsed period (about 12 per year).
        """
        target = _in_zone(now, self.timezone).date()
        if self._anchor is None:
            self._anchor = target
        return self._first_from(self._date_before(target), now)

    def _date_before(self, target: date) -> date | None:
        """A date of the sequence no later than the first one on or after ``target``."""
        start = self._anchor
        assert start is not None
        if target <= start:
            return start
        if self.years == self.months == 0:
            period = self.days + self.weeks * 7
            return start + timedelta(days=max(0, ((target - start).days - 1) // period) * period)
        if self.weeks == self.days == 0:
            # the day of the month never changes: the sequence is every valid (start + j * step months)
            step = self.years * 12 + self.months
            elapsed = (target.year - start.year) * 12 + target.month - start.month
            periods = max(0, (elapsed - 1) // step)
            if periods == 0:
                return start
            year, month0 = divmod(start.year * 12 + start.month - 1 + periods * step, 12)
            try:
                return date(year, month0 + 1, start.day)
            except ValueError:  # a nonexistent date: the sequence goes on from it
                return self._advance(year, month0 + 1, start.day)
        day: date | None = start
        while day is not None:
            following = self._advance(day.year, day.month, day.day)
            if following is None or following >= target:
                break
            day = following
        return day

    # -- presentation and state ------------------------------------------------------------------------------

    def describe(self) -> str:
        """``every month on day 1 at 00:00 (UTC)``, ``every 2 weeks at 09:00 (Europe/Berlin)``."""
        parts = [
            (count, name)
            for count, name in (
                (self.years, "year"),
                (self.months, "month"),
                (self.weeks, "week"),
                (self.days, "day"),
            )
            if count
        ]
        if len(parts) == 1 and parts[0][0] == 1:
            text = f"every {parts[0][1]}"
        else:
            text = "every " + " ".join(f"{count} {name}{'' if count == 1 else 's'}" for count, name in parts)
        start = self._anchor
        if start is not None and self.weeks == self.days == 0:
            if self.months % 12 == 0:
                text += f" on {_MONTH_NAMES[start.month - 1]} {start.day}"
            else:
                text += f" on day {start.day}"
        text += f" at {self._time.strftime('%H:%M:%S' if self._time.second else '%H:%M')}"
        text += f" ({timezone_name(self.timezone)})"
        if self.start_date is not None and (self.weeks or self.days):
            text += f" from {self.start_date.isoformat()}"
        if self.end_date is not None:
            text += f" until {self.end_date.isoformat()}"
        if self.jitter:
            text += f", jitter up to {self.jitter:g} s"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state; ``anchor`` is set only for a trigger without ``start_date`` that has fired."""
        return {
            "type": self.alias,
            "version": 1,
            "years": self.years,
            "months": self.months,
            "weeks": self.weeks,
            "days": self.days,
            "hour": self.hour,
            "minute": self.minute,
            "second": self.second,
            "start_date": None if self.start_date is None else self.start_date.isoformat(),
            "end_date": None if self.end_date is None else self.end_date.isoformat(),
            "timezone": _zone_to_json(self.timezone, type(self).__name__),
            "jitter": self.jitter,
            "anchor": None if self.start_date is not None or self._anchor is None else self._anchor.isoformat(),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Self:
        """Rebuild a trigger from :meth:`to_dict` output."""
        check_state(cls, state)
        fields = (
            "years",
            "months",
            "weeks",
            "days",
            "hour",
            "minute",
            "second",
            "start_date",
            "end_date",
            "jitter",
        )
        missing = [field for field in fields if field not in state]
        if missing:
            raise SerializationError(cls.__name__, "state", state, f"lacks {', '.join(missing)}")
        trigger = cls(
            **{field: state[field] for field in fields},
            timezone=_zone_from_json(state.get("timezone"), cls.__name__),
        )
        if trigger.start_date is None:
            trigger._anchor = _as_date(cls.__name__, "anchor", state.get("anchor"))
        return trigger

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, CalendarIntervalTrigger)
        return (
            (self.years, self.months, self.weeks, self.days) == (other.years, other.months, other.weeks, other.days)
            and self._time.replace(tzinfo=None) == other._time.replace(tzinfo=None)
            and (self.start_date, self.end_date, self.jitter) == (other.start_date, other.end_date, other.jitter)
            and _same_zone(self.timezone, other.timezone)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.years, self.months, self.weeks, self.days, self.hour, self.start_date))

    def __repr__(self) -> str:
        fields = [f"{name}={value}" for name in ("years", "months", "weeks", "days") if (value := getattr(self, name))]
        fields.append(f"time={self._time.isoformat()!r}")
        if self._anchor is not None:
            fields.append(f"start_date='{self._anchor}'")
        if self.end_date is not None:
            fields.append(f"end_date='{self.end_date}'")
        zone = self.timezone.key if isinstance(self.timezone, ZoneInfo) else repr(self.timezone)
        fields.append(f"timezone={zone!r}")
        return f"{type(self).__name__}({', '.join(fields)})"

    __str__ = __repr__  # APScheduler 3.11 defines no __str__ for this trigger either


def _check_int(owner: str, field: str, value: Any, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TriggerArgumentError(owner, field, value, "must be a whole number")
    if value < low:
        raise TriggerArgumentError(owner, field, value, "must not be negative")
    if high is not None and value > high:
        raise TriggerArgumentError(owner, field, value, f"must be in {low}..{high}")


def _as_date(owner: str, field: str, value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()  # the date as written, like APScheduler 3 (which combines the datetime's date)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise TriggerArgumentError(owner, field, value, "is not a date (expected e.g. '2026-12-01')") from None
    raise TriggerArgumentError(owner, field, value, "must be a date or an ISO 8601 date string")
