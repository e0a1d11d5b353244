"""The cron trigger: APScheduler 3's ``CronTrigger``, plus crontab lines with their crontab meaning.

``CronTrigger(hour=9, day_of_week="mon-fri")`` and :meth:`CronTrigger.from_crontab` keep APScheduler 3's
meaning (0 = Monday, all fields ANDed); :meth:`CronTrigger.from_posix` reads a crontab line the way cron does.

Fire times are found in the trigger's time zone, as wall-clock times, then mapped to instants. Where the
wall clock jumps (DST), nbsched follows its design rather than APScheduler's accidents:

- a wall-clock time in the spring gap fires at the first instant after the gap (all such times of one gap
  collapse into that one fire);
- in the repeated autumn hour, a schedule whose hour is fixed (``9``, ``1-3``, ``2,14``) fires once, at the
  first pass; one whose hour is a wildcard or stepped (``*``, ``*/2``, ``0-23/4``) fires on both passes, as
  cron does.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_timezone
from typing import TYPE_CHECKING, Any

from nbsched.abc import Trigger
from nbsched.datetimes import (
    as_timezone,
    convert_to_datetime,
    datetime_repr,
    local_timezone,
    native_timezone,
    timezone_name,
)
from nbsched.exceptions import SerializationError, TriggerArgumentError
from nbsched.triggers.base import apply_jitter, check_jitter, check_state, reject_unknown
from nbsched.triggers.cron.fields import FIELDS, CronField, CronSchedule, compile_field
from nbsched.triggers.cron.posix import PosixExpression, parse_posix

if TYPE_CHECKING:
    from typing import Self

#: compiled triggers by their JSON state (see :meth:`CronTrigger.from_dict`)
_LOADED: dict[str, Any] = {}

__all__ = ["CronTrigger"]

_OWNER = "CronTrigger"
_Wall = tuple[int, int, int, int, int, int]  # year, month, day, hour, minute, second
_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET_RE = re.compile(r"UTC(?P<sign>[+-])(?P<hours>\d\d):(?P<minutes>\d\d)")
_STATE_KEYS = {"type", "version", "fields", "posix", "start_date", "end_date", "timezone", "jitter"}


class CronTrigger(Trigger):
    """Fires when the wall-clock time in ``timezone`` matches every given field, like cron.

    Fields more significant than the least significant given field default to ``*``, less significant ones
    to their minimum (``CronTrigger(hour=9)`` fires at 09:00:00 every day).

    :param year: 4-digit year
    :param month: month (1-12 or ``jan``..``dec``)
    :param day: day of month (1-31, ``last``, ``last fri``, ``2nd wed``)
    :param week: ISO week (1-53)
    :param day_of_week: weekday (0-6 or ``mon``..``sun``; **0 is Monday**, as in APScheduler 3)
    :param hour: hour (0-23)
    :param minute: minute (0-59)
    :param second: second (0-59)
    :param start_date: earliest time to fire (inclusive): datetime, date or ISO string
    :param end_date: latest time to fire (inclusive)
    :param timezone: zone name or ``tzinfo``; default: ``start_date``'s (or ``end_date``'s) zone if aware,
        else the local zone
    :param jitter: fire up to this many seconds late, at random
    :raises TriggerArgumentError: for an invalid or unknown argument
    """

    alias = "cron"
    #: the fields, most significant first (APScheduler 3's attribute)
    FIELD_NAMES = tuple(FIELDS)

    timezone: tzinfo
    start_date: datetime | None
    end_date: datetime | None
    jitter: float | None
    #: the eight fields (APScheduler 3's attribute); empty for a trigger made by :meth:`from_posix`
    fields: list[CronField]

    def __init__(
        self,
        year: int | str | None = None,
        month: int | str | None = None,
        day: int | str | None = None,
        week: int | str | None = None,
        day_of_week: int | str | None = None,
        hour: int | str | None = None,
        minute: int | str | None = None,
        second: int | str | None = None,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        timezone: tzinfo | str | None = None,
        jitter: float | None = None,
        **unknown: Any,
    ) -> None:
        reject_unknown(_OWNER, unknown, [*self.FIELD_NAMES, "start_date", "end_date", "timezone", "jitter"])
        self._init_common(timezone, start_date, end_date, jitter)
        given = dict(zip(self.FIELD_NAMES, (year, month, day, week, day_of_week, hour, minute, second), strict=True))
        remaining = {name for name, value in given.items() if value is not None}
        self.fields = []
        assign_defaults = False
        for name in self.FIELD_NAMES:
            if name in remaining:
                remaining.discard(name)
                self.fields.append(compile_field(name, given[name]))
                assign_defaults = not remaining
            else:
                default = FIELDS[name].default if assign_defaults else "*"
                self.fields.append(compile_field(name, default, is_default=True))
        self._posix: PosixExpression | None = None
        hour_field = self.fields[self.FIELD_NAMES.index("hour")]
        self._setup(CronSchedule.from_fields(self.fields), any(e.repeating for e in hour_field.expressions))

    @classmethod
    def from_crontab(
        cls,
        expr: str,
        timezone: tzinfo | str | None = None,
        *,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        jitter: float | None = None,
    ) -> Self:
        """A trigger from ``minute hour day month day_of_week`` with APScheduler 3's meaning.

        As in APScheduler 3, the fields are ANDed and the day of week uses APScheduler's numbering
        (**0 = Monday**). For crontab's meaning (0 = Sunday, day fields ORed, macros) use :meth:`from_posix`.

        :raises TriggerArgumentError: for a wrong number of fields or an invalid field
        """
        values = expr.split() if isinstance(expr, str) else None
        if values is None or len(values) != 5:
            count = "no" if values is None else len(values)
            raise TriggerArgumentError(_OWNER, "expression", expr, f"has {count} fields, expected 5")
        minute, hour, day, month, day_of_week = values
        return cls(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone=timezone,
            start_date=start_date,
            end_date=end_date,
            jitter=jitter,
        )

    @classmethod
    def from_posix(
        cls,
        expr: str,
        timezone: tzinfo | str | None = None,
        *,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        jitter: float | None = None,
    ) -> Self:
        """A trigger from a crontab line as people type it (``0 9 * * 1-5``, ``@daily``).

        0 and 7 are Sunday; day of month and day of week are ORed when neither begins with ``*`` (as cron
        does, so ``*/2`` counts as unrestricted), else ANDed; the macros ``@yearly``/``@annually``,
        ``@monthly``, ``@weekly``, ``@daily``/``@midnight`` and ``@hourly`` work. See
        :mod:`nbsched.triggers.cron.posix`.

        :raises TriggerArgumentError: for a wrong number of fields, ``@reboot`` or an invalid field
        """
        parsed = parse_posix(expr)
        trigger = cls.__new__(cls)
        trigger._init_common(timezone, start_date, end_date, jitter)
        trigger.fields = []
        trigger._posix = parsed
        trigger._setup(parsed.schedule(), parsed.hour_repeats)
        return trigger

    def _init_common(self, timezone: Any, start_date: Any, end_date: Any, jitter: Any) -> None:
        if timezone:
            tz = as_timezone(timezone, _OWNER)
        elif isinstance(start_date, datetime) and start_date.tzinfo is not None:
            tz = start_date.tzinfo
        elif isinstance(end_date, datetime) and end_date.tzinfo is not None:
            tz = end_date.tzinfo
        else:
            tz = local_timezone()
        assert tz is not None
        self.timezone = native_timezone(tz)
        self.start_date = convert_to_datetime(start_date, self.timezone, _OWNER, "start_date")
        self.end_date = convert_to_datetime(end_date, self.timezone, _OWNER, "end_date")
        self.jitter = check_jitter(_OWNER, jitter)
        # Refused as the interval triggers refuse it: such a trigger would never fire (its job ends up paused).
        if (
            self.start_date is not None
            and self.end_date is not None
            and self.end_date.astimezone(UTC) < self.start_date.astimezone(UTC)
        ):
            raise TriggerArgumentError(
                _OWNER, "end_date", self.end_date.isoformat(), f"is before start_date {self.start_date.isoformat()}"
            )

    def _setup(self, schedule: CronSchedule, hour_repeats: bool) -> None:
        self._schedule = schedule
        self._repeat_fold = hour_repeats
        self._fixed_offset = isinstance(self.timezone, fixed_timezone)
        self._start_utc = self.start_date.astimezone(UTC) if self.start_date else None
        self._start_seconds = -((_EPOCH - self.start_date) // _SECOND) if self.start_date else None
        self._end_utc = self.end_date.astimezone(UTC) if self.end_date else None

    @property
    def posix(self) -> str | None:
        """The crontab line this trigger was made from by :meth:`from_posix`, else ``None``."""
        return self._posix.text if self._posix else None

    @property
    def schedule(self) -> CronSchedule:
        """The allowed values of every field (what :meth:`describe` and the search read)."""
        return self._schedule

    @property
    def repeats_in_fold(self) -> bool:
        """Whether the hour is a wildcard or stepped, so the repeated autumn hour fires on both passes."""
        return self._repeat_fold

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The next fire time strictly after ``previous_fire_time``, or the first at/after ``now``.

        Without a previous fire time the search starts at the later of ``now`` and ``start_date``; with one
        it starts just after it (as APScheduler 3 does, ``start_date`` is then not consulted). The result
        is in the trigger's zone; ``None`` after ``end_date`` or when no match exists up to year 9999.
        """
        # Whole seconds since the epoch: fire times are whole seconds, so search from the next whole second
        # after the previous fire time, or from ``now`` rounded up.
        if previous_fire_time is not None:
            start = (previous_fire_time - _EPOCH) // _SECOND + 1
        else:
            start = -((_EPOCH - now) // _SECOND)
            if self._start_seconds is not None and self._start_seconds > start:
                start = self._start_seconds
        try:
            fire = self._search(start)
        except (OverflowError, ValueError):  # beyond year 9999 in this zone
            return None
        if fire is None or (self._end_utc is not None and fire > self._end_utc):
            return None
        if self.jitter:
            jittered = apply_jitter(fire.astimezone(UTC), self.jitter)
            assert jittered is not None
            if self._end_utc is not None and self.end_date is not None and jittered > self._end_utc:
                return self.end_date
            fire = jittered.astimezone(self.timezone)
        return fire

    def _search(self, start: int) -> datetime | None:
        """The first fire instant at or after ``start`` (seconds since the epoch), in the trigger's zone."""
        tz = self.timezone
        local = datetime.fromtimestamp(start, tz)
        wall = (local.year, local.month, local.day, local.hour, local.minute, local.second)
        match = self._schedule.next_match(*wall)
        if self._fixed_offset:
            return None if match is None else datetime(*match, 0, tz)
        just_before = datetime.fromtimestamp(start - 1, tz)
        offset, offset_before = local.utcoffset(), just_before.utcoffset()
        if offset is not None and offset_before is not None and offset_before < offset:
            # ``start`` is the first instant after a spring gap: wall times of the gap fire now.
            in_gap = self._schedule.next_match_after(just_before.replace(tzinfo=None) + _SECOND)
            if in_gap is not None and in_gap < datetime(*wall):
                return local
        if self._repeat_fold and local.fold == 0 and _is_repeated(wall, tz):
            # ``start`` lies in the first pass of a repeated hour: times of that hour earlier than ``start``
            # come round again in the second pass, before any time after the repeated hour.
            fold_start, fold_end = _fold_walls(datetime(*wall), tz)
            if match is None or datetime(*match) >= fold_end:
                early = self._schedule.next_match_after(fold_start)
                if early is not None and early < fold_end:
                    return early.replace(tzinfo=tz, fold=1)
        while match is not None:
            aware = datetime(*match, 0, tz)
            first, second = _offsets(match, tz)
            if first == second:
                return aware
            naive = datetime(*match)
            if first < second:  # in the spring gap: the first instant after it
                gap_end = _transition(naive - second, naive - first, tz)
                return gap_end.replace(tzinfo=UTC).astimezone(tz)
            if naive - first >= datetime.fromtimestamp(start, UTC).replace(
                tzinfo=None
            ):  # first pass of a repeated time
                return aware
            if self._repeat_fold:
                return aware.replace(fold=1)
            # a fixed hour fires on the first pass only: look past the repeated period
            end = _fold_walls(naive, tz)[1]
            match = self._schedule.next_match(end.year, end.month, end.day, end.hour, end.minute, end.second)
        return None

    def describe(self) -> str:
        """A short text for people: ``every weekday at 09:00 (Europe/Berlin)``."""
        from nbsched.triggers.cron.describe import describe_cron

        return describe_cron(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state: the given field expressions (or the crontab line), dates, zone and jitter."""
        return {
            "type": self.alias,
            "version": 1,
            "fields": {field.name: str(field) for field in self.fields if not field.is_default},
            "posix": self.posix,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "timezone": timezone_name(self.timezone),
            "jitter": self.jitter,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Self:
        """Rebuild a trigger from :meth:`to_dict` output.

        :raises SerializationError: for state of another type, a newer version or with unknown keys
        """
        # Stores load the same cron state over and over (every pass that finds the job due); compiling the
        # expressions is the costly part, and a compiled trigger never changes, so copies share it.
        try:
            key = json.dumps(state, sort_keys=True)
        except (TypeError, ValueError):
            key = None
        cached = _LOADED.get(key) if key is not None else None
        if cached is None or type(cached) is not cls:
            check_state(cls, state)
            unknown = set(state) - _STATE_KEYS
            if unknown:
                raise SerializationError(cls.__name__, "state", sorted(unknown), "has unknown keys")
            cached = cls._from_state(state, _timezone_from_state(state.get("timezone")))
            if key is not None:
                if len(_LOADED) >= 1024:
                    _LOADED.clear()
                _LOADED[key] = cached
        return copy.copy(cached)

    def __copy__(self) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    @classmethod
    def _from_state(cls, state: dict[str, Any], timezone: tzinfo | None) -> Self:
        options: dict[str, Any] = {
            "timezone": timezone,
            "start_date": state.get("start_date"),
            "end_date": state.get("end_date"),
            "jitter": state.get("jitter"),
        }
        if state.get("posix") is not None:
            return cls.from_posix(state["posix"], **options)
        fields = state.get("fields") or {}
        if not isinstance(fields, dict) or not set(fields) <= set(cls.FIELD_NAMES):
            raise SerializationError(cls.__name__, "fields", fields, "is not a mapping of cron field names")
        return cls(**fields, **options)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled for process pools only (never into a store); keeps the tzinfo object itself.
        state = self.to_dict()
        state["timezone"] = self.timezone
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(self._from_state(state, state["timezone"]).__dict__)

    def _key(self) -> tuple[Any, ...]:
        fields = tuple((field.name, str(field)) for field in self.fields if not field.is_default)
        return (fields, self.posix, timezone_name(self.timezone), self._start_utc, self._end_utc, self.jitter)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CronTrigger):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _options(self) -> list[str]:
        if self._posix is not None:
            return [f"posix='{self._posix.text}'"]
        return [f"{field.name}='{field}'" for field in self.fields if not field.is_default]

    def __str__(self) -> str:
        return f"cron[{', '.join(self._options())}]"

    def __repr__(self) -> str:
        options = self._options()
        if self.start_date:
            options.append(f"start_date={datetime_repr(self.start_date)!r}")
        if self.end_date:
            options.append(f"end_date={datetime_repr(self.end_date)!r}")
        if self.jitter:
            options.append(f"jitter={self.jitter}")
        options.append(f"timezone='{self.timezone}'")
        return f"<{type(self).__name__} ({', '.join(options)})>"


def _timezone_from_state(name: Any) -> tzinfo | None:
    if isinstance(name, str) and (match := _OFFSET_RE.fullmatch(name)):
        offset = timedelta(hours=int(match.group("hours")), minutes=int(match.group("minutes")))
        return fixed_timezone(-offset if match.group("sign") == "-" else offset)
    try:
        return as_timezone(name, _OWNER)
    except TriggerArgumentError as exc:
        raise SerializationError(_OWNER, "timezone", name, exc.problem) from None


def _offsets(wall: _Wall, tz: tzinfo) -> tuple[timedelta, timedelta]:
    """The UTC offsets of a wall time (year .. second) read with ``fold=0`` and ``fold=1``.

    Equal: an ordinary time. First smaller: the time is in a gap. First larger: the time repeats.
    """
    first = tz.utcoffset(datetime(*wall, 0, tz))
    second = tz.utcoffset(datetime(*wall, 0, tz, fold=1))
    assert first is not None
    assert second is not None
    return first, second


def _is_repeated(wall: _Wall, tz: tzinfo) -> bool:
    first, second = _offsets(wall, tz)
    return first > second


def _offset_at(utc: datetime, tz: tzinfo) -> timedelta | None:
    return utc.replace(tzinfo=UTC).astimezone(tz).utcoffset()


def _transition(low: datetime, high: datetime, tz: tzinfo) -> datetime:
    """The first instant (naive UTC, whole seconds) in ``(low, high]`` whose offset differs from ``low``'s."""
    before = _offset_at(low, tz)
    while high - low > _SECOND:
        middle = (low + (high - low) / 2).replace(microsecond=0)
        if _offset_at(middle, tz) == before:
            low = middle
        else:
            high = middle
    return high


def _fold_walls(wall: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The wall-clock span ``[start, end)`` that repeats around the repeated time ``wall``."""
    first, second = _offsets((wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second), tz)
    transition = _transition(wall - first, wall - second, tz)
    return transition + second, transition + first
