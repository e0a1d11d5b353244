"""Crontab lines as people type them: ``minute hour day-of-month month day-of-week``.

The meaning is crontab's (Vixie cron and cronie; cronsim, which follows them, is the reference of the
differential tests), not APScheduler 3's ``from_crontab``:

- day of week: 0 and 7 are Sunday, 1 is Monday; names ``sun`` .. ``sat``;
- day of month and day of week: when neither field *begins with* ``*``, a day matches if *either* matches;
  otherwise both must match. So ``*/2`` counts as unrestricted: ``0 0 21-27 * */2`` runs on days 21-27 that
  are also even weekdays (see :attr:`PosixExpression.day_or`);
- ``a-b/n``, ``*/n``, lists, month and weekday names; ``a-a`` is just ``a``. Beyond cron: ``a/n`` runs from
  ``a`` to the field's maximum (6, Saturday, for the day of week), and a range written backwards wraps around
  (``fri-mon``, ``nov-feb``) where cron refuses it;
- the macros ``@yearly``, ``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly``.
  ``@reboot`` has no meaning for a scheduler and is rejected.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from nbsched.exceptions import TriggerArgumentError
from nbsched.triggers.cron.fields import CronSchedule

__all__ = ["MACROS", "PosixExpression", "parse_posix"]

#: the ``@`` shorthands and the lines they stand for
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_OWNER = "CronTrigger"
_NAMES = {
    "month": ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    "day_of_week": ("sun", "mon", "tue", "wed", "thu", "fri", "sat"),
}
# name, low, high (the day of week also accepts 7 for Sunday)
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("day_of_week", 0, 6))
_TERM_RE = re.compile(r"(?P<first>\*|\w+)(?:-(?P<last>\w+))?(?:/(?P<step>\d+))?")


class PosixExpression(NamedTuple):
    """A parsed crontab line."""

    #: the expression as given (a macro stays a macro)
    text: str
    #: the five fields after macro expansion, as typed
    fields: tuple[str, str, str, str, str]
    #: the allowed values per field; day of week in crontab numbering (0 = Sunday)
    values: tuple[frozenset[int], frozenset[int], frozenset[int], frozenset[int], frozenset[int]]

    @property
    def day_or(self) -> bool:
        """Whether a day matches on day of month *or* day of week: neither field begins with ``*``.

        cron's rule, from its source (Vixie cron's and cronie's ``DOM_STAR``/``DOW_STAR`` flags are set from a
        field's first character): ``*/2`` or ``*,5`` count as unrestricted, so the fields are ANDed, while
        ``1-31`` or ``1,*`` count as restricted. ``?`` reads as ``*``.
        """
        return not any(text.startswith(("*", "?")) for text in (self.fields[2], self.fields[4]))

    @property
    def hour_repeats(self) -> bool:
        """Whether the hour is a wildcard or stepped (``*``, ``*/2``, ``1-23/2``): cron's "wildcard" jobs."""
        return any(term.startswith("*") or "/" in term for term in self.fields[1].split(","))

    def schedule(self) -> CronSchedule:
        """The search tables for this line."""
        minutes, hours, days, months, weekdays = self.values
        # ANDed unless day_or: a '*' on one side lets the other side decide alone (intersection with everything).
        return CronSchedule(
            years=None,
            months=months,
            days=days,
            weekdays={(weekday - 1) % 7 for weekday in weekdays},  # crontab 0 = Sunday -> Python's 6
            hours=hours,
            minutes=minutes,
            seconds={0},
            day_or=self.day_or,
        )


def parse_posix(expr: str) -> PosixExpression:
    """Parse a crontab line or macro.

    :raises TriggerArgumentError: for a wrong number of fields, an unknown macro, ``@reboot`` or a bad field
    """
    if not isinstance(expr, str):
        raise TriggerArgumentError(_OWNER, "expression", expr, "must be a str")
    text = expr.strip()
    line = text
    if text.startswith("@"):
        macro = text.lower()
        if macro == "@reboot":
            raise TriggerArgumentError(
                _OWNER, "expression", expr, "is not supported: it means 'at system start', not a time"
            )
        if macro not in MACROS:
            raise TriggerArgumentError(_OWNER, "expression", expr, f"is not a known macro ({', '.join(MACROS)})")
        line = MACROS[macro]
    parts = line.split()
    if len(parts) != 5:
        raise TriggerArgumentError(_OWNER, "expression", expr, f"has {len(parts)} fields, expected 5")
    values = tuple(_parse_field(name, part, low, high) for (name, low, high), part in zip(_FIELDS, parts, strict=True))
    return PosixExpression(text, tuple(parts), values)  # type: ignore[arg-type]  # five of each by zip


def _parse_field(name: str, text: str, low: int, high: int) -> frozenset[int]:
    if name in ("day", "day_of_week") and text == "?":
        text = "*"
    result: set[int] = set()
    for term in text.split(","):
        result.update(_parse_term(name, term, low, high))
    if name == "day_of_week":
        result = {value % 7 for value in result}
    return frozenset(result)


def _parse_term(name: str, term: str, low: int, high: int) -> list[int]:
    match = _TERM_RE.fullmatch(term)
    if not match:
        raise TriggerArgumentError(_OWNER, name, term, "is not a valid crontab term")
    step = match.group("step")
    step_value = int(step) if step is not None else 1
    if step_value == 0:
        raise TriggerArgumentError(_OWNER, name, term, "has a step of 0")
    # The day of week also takes 7 (Sunday); it is folded to 0 by the caller.
    top = 7 if name == "day_of_week" else high
    if match.group("first") == "*":
        if match.group("last") is not None:
            raise TriggerArgumentError(_OWNER, name, term, "is not a valid crontab term")
        return list(range(low, high + 1, step_value))
    first = _value(name, term, match.group("first"), low, top)
    if match.group("last") is None:
        # 'a/n' runs from a to the field's maximum; a bare 'a' is just a
        return list(range(first, high + 1, step_value)) if step is not None else [first]
    last = _value(name, term, match.group("last"), low, top)
    if first <= last:
        return list(range(first, last + 1, step_value))
    if step is not None:
        raise TriggerArgumentError(_OWNER, name, term, "wraps around and has a step; write it as a list")
    if name == "day_of_week" and first == 7:  # '7-2' is Sunday to Tuesday
        return list(range(0, last + 1))
    return list(range(first, high + 1)) + list(range(low, last + 1))


def _value(name: str, term: str, text: str, low: int, high: int) -> int:
    if text.isdigit():
        value = int(text)
        if not low <= value <= high:
            raise TriggerArgumentError(_OWNER, name, term, f"is out of range {low}-{high}")
        return value
    names = _NAMES.get(name)
    if names is not None and text.lower() in names:
        return names.index(text.lower()) + (1 if name == "month" else 0)
    problem = {"month": "is not a month name or number", "day_of_week": "is not a weekday name or number"}
    raise TriggerArgumentError(_OWNER, name, term, problem.get(name, "is not a number"))
