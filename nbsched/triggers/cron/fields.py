"""Cron fields and the wall-clock search over them.

A :class:`CronField` is one of APScheduler 3's eight fields (``year`` .. ``second``) parsed into terms.
A :class:`CronSchedule` is what the search needs from all fields together, precomputed: for each of month,
hour, minute and second a table giving the next allowed value, and per month the sorted allowed days. It
knows nothing about time zones: :meth:`CronSchedule.next_match` finds the next *wall-clock* time that matches;
the trigger maps wall-clock times to instants.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from nbsched.exceptions import TriggerArgumentError
from nbsched.triggers.cron.expressions import Expression, parse_term

__all__ = ["FIELDS", "CronField", "CronSchedule", "FieldSpec", "compile_field"]

_SEPARATOR = ","
_CACHE_LIMIT = 4096


class FieldSpec(NamedTuple):
    """The bounds and default of one field."""

    #: smallest allowed value
    low: int
    #: largest allowed value
    high: int
    #: the value a field less significant than every given field takes
    default: str


#: APScheduler 3's fields, most significant first
FIELDS: dict[str, FieldSpec] = {
    "year": FieldSpec(1970, 9999, "*"),
    "month": FieldSpec(1, 12, "1"),
    "day": FieldSpec(1, 31, "1"),
    "week": FieldSpec(1, 53, "*"),
    "day_of_week": FieldSpec(0, 6, "*"),
    "hour": FieldSpec(0, 23, "0"),
    "minute": FieldSpec(0, 59, "0"),
    "second": FieldSpec(0, 59, "0"),
}


class CronField:
    """One field of a cron trigger: its name, its terms and whether it was given or defaulted.

    :param name: one of :data:`FIELDS`
    :param expressions: the parsed terms
    :param is_default: ``True`` when the user did not give this field
    """

    __slots__ = ("expressions", "is_default", "name")

    def __init__(self, name: str, expressions: Sequence[Expression], is_default: bool) -> None:
        self.name = name
        self.expressions = tuple(expressions)
        self.is_default = is_default

    @property
    def spec(self) -> FieldSpec:
        """This field's bounds and default."""
        return FIELDS[self.name]

    @property
    def is_all(self) -> bool:
        """Whether the field is exactly ``*``."""
        return str(self) == "*"

    def static_values(self) -> set[int]:
        """Every value the field's static terms allow (the dynamic day terms are left out)."""
        low, high = self.spec.low, self.spec.high
        result: set[int] = set()
        for expression in self.expressions:
            if not expression.dynamic:
                result.update(expression.values(low, high))
        return result

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CronField):
            return NotImplemented
        return (self.name, self.expressions) == (other.name, other.expressions)

    def __hash__(self) -> int:
        return hash((self.name, self.expressions))

    def __str__(self) -> str:
        return _SEPARATOR.join(str(expression) for expression in self.expressions)

    def __repr__(self) -> str:
        return f"CronField({self.name!r}, {str(self)!r})"


def compile_field(name: str, value: Any, is_default: bool = False) -> CronField:
    """Parse a field value (an int or a string like ``"1-5,10"``) into a :class:`CronField`.

    :raises TriggerArgumentError: for a value that is not a valid expression of this field
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TriggerArgumentError("CronTrigger", name, value, "must be an int or a str")
    spec = FIELDS[name]
    text = str(value).strip()
    if not text:
        raise TriggerArgumentError("CronTrigger", name, value, "is empty")
    terms = [term.strip() for term in text.split(_SEPARATOR)]
    return CronField(name, [parse_term(name, term, spec.low, spec.high) for term in terms], is_default)


def _next_table(values: Iterable[int], high: int) -> tuple[int | None, ...]:
    """``table[v]`` is the smallest allowed value >= v; one extra ``None`` at ``high + 1``."""
    allowed = set(values)
    table: list[int | None] = [None] * (high + 2)
    upcoming: int | None = None
    for value in range(high, -1, -1):
        if value in allowed:
            upcoming = value
        table[value] = upcoming
    return tuple(table)


class CronSchedule:
    """The allowed values of every field, precomputed for a fast search of the next matching wall time.

    :param years: the allowed years as ranges (``None``: every year from 1970)
    :param months: allowed months (1-12)
    :param days: allowed days of the month from static terms (1-31)
    :param day_rules: dynamic day terms (``last``, ``2nd wed``)
    :param weekdays: allowed weekdays (0 = Monday)
    :param weeks: allowed ISO weeks, ``None`` for every week
    :param hours: allowed hours
    :param minutes: allowed minutes
    :param seconds: allowed seconds
    :param day_or: crontab's rule: a day matches if its day of month *or* its weekday is allowed
    """

    def __init__(
        self,
        *,
        years: Sequence[range] | None,
        months: Iterable[int],
        days: Iterable[int],
        day_rules: Sequence[Expression] = (),
        weekdays: Iterable[int],
        weeks: Iterable[int] | None = None,
        hours: Iterable[int],
        minutes: Iterable[int],
        seconds: Iterable[int],
        day_or: bool = False,
    ) -> None:
        self.years = tuple(years) if years is not None else (range(1970, 10000),)
        self.months = frozenset(months)
        self.days = frozenset(days)
        self.day_rules = tuple(day_rules)
        self.weekdays = frozenset(weekdays)
        self.weeks = frozenset(weeks) if weeks is not None else None
        self.hours = frozenset(hours)
        self.minutes = frozenset(minutes)
        self.seconds = frozenset(seconds)
        self.day_or = day_or
        self._next_month = _next_table(self.months, 12)
        self._next_hour = _next_table(self.hours, 23)
        self._next_minute = _next_table(self.minutes, 59)
        self._next_second = _next_table(self.seconds, 59)
        first_hour, first_minute, first_second = self._next_hour[0], self._next_minute[0], self._next_second[0]
        if first_hour is None or first_minute is None or first_second is None or not self.months:
            raise ValueError("a cron schedule needs at least one month, hour, minute and second")
        self._first_time = (first_hour, first_minute, first_second)
        self._month_days: dict[tuple[int, int], tuple[int, ...]] = {}
        self._kind_days: dict[tuple[Any, ...], tuple[int, ...]] = {}
        self._year_possible: dict[int, bool] = {}

    @classmethod
    def from_fields(cls, fields: Sequence[CronField]) -> CronSchedule:
        """Build the schedule of APScheduler-style fields (all ANDed)."""
        by_name = {field.name: field for field in fields}
        years = [e.values(1970, 9999) for e in by_name["year"].expressions]
        week = by_name["week"]
        return cls(
            years=years,
            months=by_name["month"].static_values(),
            days=by_name["day"].static_values(),
            day_rules=[e for e in by_name["day"].expressions if e.dynamic],
            weekdays=by_name["day_of_week"].static_values(),
            weeks=None if week.is_all else week.static_values(),
            hours=by_name["hour"].static_values(),
            minutes=by_name["minute"].static_values(),
            seconds=by_name["second"].static_values(),
        )

    def next_match(
        self, year: int, month: int, day: int, hour: int, minute: int, second: int
    ) -> tuple[int, int, int, int, int, int] | None:
        """The first wall-clock time at or after the given one that matches, as a tuple of the same fields.

        Returns ``None`` when no match exists up to the end of year 9999.
        """
        time: tuple[int, int, int] | None = (hour, minute, second)
        candidate_year = self._next_year(year)
        while candidate_year is not None:
            if candidate_year != year:
                year, month, day, time = candidate_year, 1, 1, None
            if self._year_is_possible(year):
                candidate_month = self._next_month[month]
                while candidate_month is not None:
                    if candidate_month != month:
                        month, day, time = candidate_month, 1, None
                    days = self._days(year, month)
                    index = bisect_left(days, day)
                    while index < len(days):
                        found_day = days[index]
                        found_time = self._first_time
                        if found_day == day and time is not None:
                            later = self._next_time(*time)
                            if later is None:
                                index += 1
                                continue
                            found_time = later
                        return (year, month, found_day, *found_time)
                    month, day, time = month + 1, 1, None
                    candidate_month = self._next_month[month] if month <= 12 else None
            candidate_year = self._next_year(year + 1)
        return None

    def next_match_after(self, wall: datetime) -> datetime | None:
        """:meth:`next_match` for a naive datetime (whole seconds), returning one."""
        found = self.next_match(wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second)
        return None if found is None else datetime(*found)

    def _next_time(self, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
        next_hour, next_minute, next_second = self._next_hour, self._next_minute, self._next_second
        found_hour = next_hour[hour]
        if found_hour is None:
            return None
        if found_hour == hour:
            found_minute = next_minute[minute]
            if found_minute is not None:
                if found_minute == minute:
                    found_second = next_second[second]
                    if found_second is not None:
                        return hour, minute, found_second
                    found_minute = next_minute[minute + 1]
                if found_minute is not None:
                    return hour, found_minute, self._first_time[2]
            found_hour = next_hour[hour + 1]
            if found_hour is None:
                return None
        return found_hour, self._first_time[1], self._first_time[2]

    def _next_year(self, year: int) -> int | None:
        best: int | None = None
        for allowed in self.years:
            if year <= allowed.start:
                candidate = allowed.start
            else:
                steps = -(-(year - allowed.start) // allowed.step)
                candidate = allowed.start + steps * allowed.step
            if candidate < allowed.stop and (best is None or candidate < best):
                best = candidate
        return best

    def _year_is_possible(self, year: int) -> bool:
        """Whether any allowed month of ``year`` has an allowed day (makes impossible searches end fast)."""
        possible = self._year_possible.get(year)
        if possible is None:
            possible = any(self._days(year, month) for month in self.months)
            self._year_possible[year] = possible
        return possible

    def _days(self, year: int, month: int) -> tuple[int, ...]:
        days = self._month_days.get((year, month))
        if days is None:
            if len(self._month_days) >= _CACHE_LIMIT:
                self._month_days.clear()
            first_weekday, length = calendar.monthrange(year, month)
            # The allowed days depend only on the month's length and first weekday, unless ISO weeks are
            # involved; those depend on the year's shape (leap, weekday of 1 January, previous year leap).
            if self.weeks is None:
                kind: tuple[Any, ...] = (first_weekday, length)
            else:
                kind = (month, calendar.isleap(year), calendar.isleap(year - 1), date(year, 1, 1).weekday())
            days = self._kind_days.get(kind)
            if days is None:
                days = self._compute_days(year, month, first_weekday, length)
                self._kind_days[kind] = days
            self._month_days[(year, month)] = days
        return days

    def _compute_days(self, year: int, month: int, first_weekday: int, length: int) -> tuple[int, ...]:
        by_date = {day for day in self.days if day <= length}
        for rule in self.day_rules:
            day = rule.day_in_month(first_weekday, length)
            if day is not None:
                by_date.add(day)
        result = []
        for day in range(1, length + 1):
            weekday_ok = (first_weekday + day - 1) % 7 in self.weekdays
            if self.day_or:
                ok = day in by_date or weekday_ok
            else:
                ok = day in by_date and weekday_ok
                if ok and self.weeks is not None:
                    ok = date(year, month, day).isocalendar()[1] in self.weeks
            if ok:
                result.append(day)
        return tuple(result)
