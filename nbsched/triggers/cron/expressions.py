"""The terms of a cron field: one comma-separated piece such as ``*/5``, ``1-5``, ``jan-mar`` or ``last fri``.

Each term knows the values it allows. Most terms are *static*: their values do not depend on the month
(:meth:`Expression.values`). The day-of-month terms ``last`` and ``xth weekday`` depend on the month and
answer through :meth:`Expression.day_in_month`.

The syntax and the validation rules are APScheduler 3's, so every expression it accepts is accepted here with
the same meaning; the messages are nbsched's (``CronTrigger: hour '25' is out of range 0-23``). One
difference: a step after month or weekday names (``jan-dec/3``) is honoured, where APScheduler 3 silently
ignores it.
"""

from __future__ import annotations

import re
from typing import ClassVar

from nbsched.exceptions import TriggerArgumentError

__all__ = [
    "MONTHS",
    "POSITIONS",
    "WEEKDAYS",
    "AllExpression",
    "Expression",
    "LastDayOfMonthExpression",
    "RangeExpression",
    "WeekdayPositionExpression",
    "parse_term",
]

#: weekday names, index 0 = Monday (APScheduler 3's numbering)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: month names, index 0 = January (month number 1)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: the positions a ``<position> <weekday>`` day expression may name
POSITIONS = ("1st", "2nd", "3rd", "4th", "5th", "last")

_OWNER = "CronTrigger"
_ALL_RE = re.compile(r"\*(?:/(?P<step>\d+))?")
_RANGE_RE = re.compile(r"(?P<first>\d+)(?:-(?P<last>\d+))?(?:/(?P<step>\d+))?")
_NAMED_RE = re.compile(r"(?P<first>[a-z]+)(?:-(?P<last>[a-z]+))?(?:/(?P<step>\d+))?", re.IGNORECASE)
_POSITION_RE = re.compile(r"(?P<position>1st|2nd|3rd|4th|5th|last) +(?P<weekday>\w+)", re.IGNORECASE)
_LAST_RE = re.compile(r"last", re.IGNORECASE)


class Expression:
    """One term of a field. Subclasses define the values it allows."""

    __slots__ = ()

    #: ``True`` for terms whose values depend on the month (``last``, ``2nd wed``)
    dynamic: ClassVar[bool] = False

    @property
    def repeating(self) -> bool:
        """Whether the term is a wildcard or has a step (``*``, ``*/2``, ``1-9/2``): cron's "wildcard" jobs."""
        return False

    def values(self, low: int, high: int) -> range:
        """The values this static term allows within the field's bounds ``low..high``."""
        raise NotImplementedError

    def day_in_month(self, first_weekday: int, days: int) -> int | None:
        """The day of a month this dynamic term allows (``None``: none that month).

        :param first_weekday: the weekday of the month's first day (0 = Monday)
        :param days: how many days the month has
        """
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, str(self)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class AllExpression(Expression):
    """``*`` or ``*/step``: every value of the field, or every ``step``-th from the field's minimum.

    :param step: the step, or ``None`` for every value
    """

    __slots__ = ("step",)

    def __init__(self, step: int | None = None) -> None:
        self.step = step

    @property
    def repeating(self) -> bool:
        return True

    def values(self, low: int, high: int) -> range:
        return range(low, high + 1, self.step or 1)

    def __str__(self) -> str:
        return f"*/{self.step}" if self.step else "*"


class RangeExpression(Expression):
    """``a``, ``a-b``, ``a-b/step`` or ``a/step`` (from ``a`` to the field's maximum).

    :param first: the first value
    :param last: the last value (``None`` with a step: the field's maximum)
    :param step: the step, or ``None``
    :param names: names to print the bounds with (month or weekday names), indexed by ``value - offset``
    :param offset: the value of ``names[0]``
    """

    __slots__ = ("first", "last", "names", "offset", "step")

    def __init__(
        self,
        first: int,
        last: int | None = None,
        step: int | None = None,
        names: tuple[str, ...] = (),
        offset: int = 0,
    ) -> None:
        self.first = first
        self.last = first if last is None and step is None else last
        self.step = step
        self.names = names
        self.offset = offset

    @property
    def repeating(self) -> bool:
        return self.step is not None

    def values(self, low: int, high: int) -> range:
        last = high if self.last is None else min(self.last, high)
        return range(max(self.first, low), last + 1, self.step or 1)

    def _name(self, value: int) -> str:
        return self.names[value - self.offset] if self.names else str(value)

    def __str__(self) -> str:
        text = self._name(self.first)
        if self.last is not None and self.last != self.first:
            text += f"-{self._name(self.last)}"
        return f"{text}/{self.step}" if self.step else text


class WeekdayPositionExpression(Expression):
    """``1st mon`` .. ``5th mon`` or ``last mon``: one weekday of the month by its position.

    :param position: index into :data:`POSITIONS` (0 = first, 5 = last)
    :param weekday: 0 = Monday
    """

    __slots__ = ("position", "weekday")
    dynamic = True

    def __init__(self, position: int, weekday: int) -> None:
        self.position = position
        self.weekday = weekday

    def day_in_month(self, first_weekday: int, days: int) -> int | None:
        first_hit = (self.weekday - first_weekday) % 7 + 1
        if self.position == 5:
            return first_hit + (days - first_hit) // 7 * 7
        day = first_hit + self.position * 7
        return day if day <= days else None

    def __str__(self) -> str:
        return f"{POSITIONS[self.position]} {WEEKDAYS[self.weekday]}"


class LastDayOfMonthExpression(Expression):
    """``last``: the last day of the month."""

    __slots__ = ()
    dynamic = True

    def day_in_month(self, first_weekday: int, days: int) -> int | None:
        return days

    def __str__(self) -> str:
        return "last"


def parse_term(field: str, term: str, low: int, high: int) -> Expression:
    """Parse one comma-separated term of an APScheduler-style field.

    :param field: the field's name (``"month"``, ``"day_of_week"``, ...): decides which names are allowed
    :param term: the term's text, stripped
    :param low: the field's minimum value
    :param high: the field's maximum value
    :raises TriggerArgumentError: for a term that is not valid in this field
    """
    if match := _ALL_RE.fullmatch(term):
        step = _step(field, term, match.group("step"))
        if step is not None and step > high - low:
            raise _step_error(field, term, step, high - low)
        return AllExpression(step)
    if match := _RANGE_RE.fullmatch(term):
        first = int(match.group("first"))
        last = None if match.group("last") is None else int(match.group("last"))
        return _checked_range(field, term, first, last, match.group("step"), low, high)
    if field == "day":
        if match := _POSITION_RE.fullmatch(term):
            position = POSITIONS.index(match.group("position").lower())
            return WeekdayPositionExpression(position, _weekday(field, term, match.group("weekday")))
        if _LAST_RE.fullmatch(term):
            return LastDayOfMonthExpression()
    if field in ("month", "day_of_week") and (match := _NAMED_RE.fullmatch(term)):
        names, offset = (MONTHS, 1) if field == "month" else (WEEKDAYS, 0)
        lookup = _month if field == "month" else _weekday
        first = lookup(field, term, match.group("first"))
        last = None if match.group("last") is None else lookup(field, term, match.group("last"))
        expression = _checked_range(field, term, first, last, match.group("step"), low, high)
        assert isinstance(expression, RangeExpression)
        expression.names, expression.offset = names, offset
        return expression
    raise TriggerArgumentError(_OWNER, field, term, _EXPECTED.get(field, _EXPECTED_NUMBER))


_EXPECTED_NUMBER = "is not a valid expression (expected e.g. '*', '5', '1-5', '*/15' or '1-5/2')"
_EXPECTED = {
    "month": "is not a month name or number",
    "day_of_week": "is not a weekday name or number",
    "day": "is not a valid day expression (expected e.g. '*', '5', '1-15', '*/2', 'last', 'last fri' or '2nd wed')",
}


def _checked_range(
    field: str, term: str, first: int, last: int | None, step_text: str | None, low: int, high: int
) -> Expression:
    step = _step(field, term, step_text)
    if first < low or first > high or (last is not None and last > high):
        raise TriggerArgumentError(_OWNER, field, term, f"is out of range {low}-{high}")
    if last is not None and first > last:
        raise TriggerArgumentError(_OWNER, field, term, "has its start after its end")
    # APScheduler 3 rejects a step larger than the span it steps over (``last or high``: its exact rule).
    span = (last or high) - first
    if step is not None and step > span:
        raise _step_error(field, term, step, span)
    return RangeExpression(first, last, step)


def _step(field: str, term: str, text: str | None) -> int | None:
    if text is None:
        return None
    step = int(text)
    if step == 0:
        raise TriggerArgumentError(_OWNER, field, term, "has a step of 0")
    return step


def _step_error(field: str, term: str, step: int, span: int) -> TriggerArgumentError:
    return TriggerArgumentError(_OWNER, field, term, f"has a step of {step}, larger than the {span} it spans")


def _weekday(field: str, term: str, name: str) -> int:
    try:
        return WEEKDAYS.index(name.lower())
    except ValueError:
        raise TriggerArgumentError(_OWNER, field, term, "is not a weekday name") from None


def _month(field: str, term: str, name: str) -> int:
    try:
        return MONTHS.index(name.lower()) + 1
    except ValueError:
        raise TriggerArgumentError(_OWNER, field, term, "is not a month name or number") from None
