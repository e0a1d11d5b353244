"""Schedules as people type them, read the same way by every front end (the CLI, the magics, the REST API and so
the JupyterLab form)::

    every     5m  1h30m  90s  '2 days'  '1 hour, 30 minutes'  1w  1.5h  or a number of seconds (90)
    cron      a crontab line with crontab's meaning: "0 9 * * 1-5", "@daily" (CronTrigger.from_posix)
    at        a date and time in the future: "2026-12-01 08:00", "2026-12-01T08:00+02:00"
    timezone  an IANA zone name: Europe/Paris, UTC, local

Each function takes the ``owner`` and the ``field`` its front end names in messages (``add`` and ``--every`` for
the CLI, ``JobCreate`` and ``trigger.every`` for REST, ``%%schedule`` and ``--every`` for the magics) and raises
:class:`~nbsched.exceptions.InvalidArgumentError` as ``<owner>: <field> <value> <problem>``::

    add: --every '5x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')
    JobCreate: trigger.every 'soon' is not a duration (e.g. '5m', '1h30m', '90s')
    %%schedule: --every '-5m' must be longer than zero
    add: --at '2001-01-01 08:00' is in the past (now is 2026-05-04 09:00 Europe/Berlin)

A crontab line is checked by :class:`~nbsched.triggers.cron.CronTrigger` itself, whose errors name it
(``CronTrigger: minute '61' is out of range 0-59``). Nothing here reads the clock: ``now`` is given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from nbsched.abc import Trigger
from nbsched.datetimes import as_timezone, convert_to_datetime, local_timezone, timezone_name
from nbsched.exceptions import InvalidArgumentError

__all__ = [
    "DASHED_OPTIONS",
    "EVERY_EXAMPLES",
    "KINDS",
    "format_every",
    "join_dashed_values",
    "parse_at",
    "parse_every",
    "parse_timezone",
    "typed_trigger",
]

#: the kinds of schedule, in the order front ends list them
KINDS = ("cron", "every", "at")
#: the examples every message about an interval gives
EVERY_EXAMPLES = "(e.g. '5m', '1h30m', '90s')"
#: options whose value may start with a dash (``--every -5m``, ``--at -1d``): see :func:`join_dashed_values`
DASHED_OPTIONS = ("--every", "--at")

_UNITS = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 604800),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
}
_SECONDS = re.compile(r"[+-]?\d+(?:\.\d+)?")
# An optional sign for the whole duration (so "-5m" is a negative duration, not an unreadable one), then
# number-unit parts, optionally separated by spaces or commas.
_DURATION = re.compile(r"([+-]?)\s*((?:\d+(?:\.\d+)?\s*[a-z]+(?:\s*,\s*|\s+)?)+)")
#: the longest text read as a duration (longer input is refused before any pattern sees it)
_MAX_DURATION_TEXT = 100
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_LONGEST = timedelta.max.total_seconds()


def parse_every(value: Any, owner: str, field: str) -> timedelta:
    """An interval typed by a person: ``5m``, ``1h30m``, ``90s``, ``2 days``, ``1 hour, 30 minutes``, ``1w``,
    ``1.5h`` (units are case-insensitive), or a number of seconds (``90``, ``"90"``).

    :param value: the text (or, from JSON, a number)
    :param owner: who reads it, for messages (``add``, ``JobCreate``, ``%%schedule``)
    :param field: the option or field it came in (``--every``, ``trigger.every``)
    :raises InvalidArgumentError: for anything else, an unknown unit, or an interval that is not longer than zero
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if len(text) > _MAX_DURATION_TEXT:
            raise InvalidArgumentError(
                owner, field, value[:40] + "...", f"is too long to be a duration ({len(text)} characters)"
            )
        match = _DURATION.fullmatch(text)
        if _SECONDS.fullmatch(text):
            seconds = float(text)
        elif match:
            seconds = 0.0
            for number, unit in _PART.findall(match.group(2)):
                if unit not in _UNITS:
                    raise InvalidArgumentError(owner, field, value, f"has an unknown unit {unit!r} {EVERY_EXAMPLES}")
                seconds += float(number) * _UNITS[unit]
            if match.group(1) == "-":
                seconds = -seconds
        else:
            raise InvalidArgumentError(owner, field, value, f"is not a duration {EVERY_EXAMPLES}")
    else:
        raise InvalidArgumentError(owner, field, value, f"is not a duration {EVERY_EXAMPLES}")
    if not math.isfinite(seconds):
        raise InvalidArgumentError(owner, field, value, f"is not a duration {EVERY_EXAMPLES}")
    if seconds <= 0:
        raise InvalidArgumentError(owner, field, value, "must be longer than zero")
    if seconds > _LONGEST:
        raise InvalidArgumentError(owner, field, value, f"is too long (at most {timedelta.max.days} days)")
    interval = timedelta(seconds=seconds)
    if not interval:  # shorter than the microsecond a timedelta counts in
        raise InvalidArgumentError(owner, field, value, "must be longer than zero")
    return interval


def format_every(interval: timedelta) -> str:
    """The short text :func:`parse_every` reads back: ``timedelta(minutes=90)`` -> ``1h30m``."""
    total = interval.total_seconds()
    if total != int(total):
        return f"{total:g}s"
    seconds = int(total)
    if seconds % 604800 == 0:
        return f"{seconds // 604800}w"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_timezone(value: Any, owner: str, field: str) -> tzinfo | None:
    """A time zone name (``Europe/Paris``, ``UTC``, ``local``) as a ``tzinfo``; ``None`` stays ``None`` (the
    triggers then use the local zone).

    :raises InvalidArgumentError: for a name the zone database does not know
    """
    return as_timezone(value, owner, field)


def parse_at(value: Any, timezone: tzinfo | None, now: datetime, owner: str, field: str) -> datetime:
    """A date and time typed by a person, in the future: ``2026-12-01 08:00`` (read in ``timezone``, else the
    local zone) or an ISO 8601 time with an offset.

    :param now: the current time (the front end's clock)
    :raises InvalidArgumentError: for text that is not a date and time, or one that is not after ``now``
    """
    zone = timezone or local_timezone()
    if not isinstance(value, str):
        raise InvalidArgumentError(owner, field, value, "must be a date and time such as '2026-12-01 08:00'")
    when = convert_to_datetime(value, zone, owner, field)
    assert when is not None  # only None converts to None
    if when <= now:
        local_now = now.astimezone(zone)
        raise InvalidArgumentError(
            owner, field, value, f"is in the past (now is {local_now:%Y-%m-%d %H:%M} {timezone_name(zone)})"
        )
    return when


def typed_trigger(
    kind: str,
    value: Any,
    *,
    owner: str,
    field: str,
    now: datetime,
    timezone: tzinfo | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    jitter: float | None = None,
) -> Trigger:
    """The trigger of one typed schedule.

    :param kind: ``"every"``, ``"cron"`` or ``"at"`` (see :data:`KINDS`)
    :param value: what was typed for it
    :param owner: who reads it, for messages
    :param field: the option or field ``value`` came in, for messages
    :param now: the current time (``at`` must be after it)
    :param timezone: the schedule's zone (see :func:`parse_timezone`; ``None``: the local zone)
    :param start_date: first possible fire time (``every`` and ``cron``); an interval's grid starts there
    :param end_date: last possible fire time (``every`` and ``cron``)
    :param jitter: delay each fire by up to this many seconds (``every`` and ``cron``)
    :raises InvalidArgumentError: as the ``parse_*`` functions, and ``CronTrigger``'s errors for a crontab line
    """
    extras: dict[str, Any] = {"start_date": start_date, "end_date": end_date, "jitter": jitter}
    if kind == "every":
        from nbsched.triggers.interval import IntervalTrigger

        interval = parse_every(value, owner, field)
        return IntervalTrigger(seconds=interval.total_seconds(), timezone=timezone, **extras)
    if kind == "cron":
        from nbsched.triggers.cron import CronTrigger

        if not isinstance(value, str):
            raise InvalidArgumentError(owner, field, value, "must be a crontab line such as '0 9 * * 1-5'")
        return CronTrigger.from_posix(value, timezone=timezone, **extras)
    if kind == "at":
        from nbsched.triggers.date import DateTrigger

        for name, extra in extras.items():
            if extra is not None:
                raise InvalidArgumentError(owner, name, extra, "goes with every or cron, not with at")
        run_date = parse_at(value, timezone, now, owner, field)
        return DateTrigger(run_date)  # aware, in the schedule's zone: the trigger keeps it
    raise InvalidArgumentError(owner, "kind", kind, f"must be one of {', '.join(KINDS)}")


def join_dashed_values(words: Sequence[str], options: Collection[str]) -> list[str]:
    """Command-line words with ``--every -5m`` joined as ``--every=-5m`` (also ``--at``), so that such a value
    reaches :func:`parse_every` and its message ("must be longer than zero") instead of argparse's "expected one
    argument". A following word that is itself one of ``options`` (the parser's own) or ``--`` is left alone.
    """
    joined: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else None
        if (
            word in DASHED_OPTIONS
            and following is not None
            and following.startswith("-")
            and following != "--"
            and following not in options
        ):
            joined.append(f"{word}={following}")
            index += 2
            continue
        joined.append(word)
        index += 1
    return joined
