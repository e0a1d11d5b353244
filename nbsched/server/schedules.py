"""Schedules as people type them, in requests and back in responses: ``{"cron": "0 9 * * 1-5"}``,
``{"every": "1h30m"}`` or ``{"at": "2026-12-01 08:00"}``.

``cron`` is a crontab line with crontab's meaning (:meth:`~nbsched.triggers.cron.CronTrigger.from_posix`);
``every`` a duration (``5m``, ``1h30m``, ``90s``, ``2 days``, ``1w``) or a number of seconds; ``at`` a future date
and time. ``start_date``, ``end_date`` and ``jitter`` may go with ``cron`` and ``every``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from nbsched.abc import Trigger
from nbsched.datetimes import convert_to_datetime, timezone_name
from nbsched.exceptions import InvalidArgumentError

__all__ = ["format_every", "parse_every", "parse_trigger", "schedule_of"]

_TRIGGER_KINDS = ("cron", "every", "at")
_TRIGGER_EXTRAS = frozenset({"start_date", "end_date", "jitter"})


def parse_trigger(owner: str, value: Any, tz: tzinfo, now: datetime) -> Trigger:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            owner, "trigger", value, 'must be an object: {"cron": ...}, {"every": ...} or {"at": ...}'
        )
    kinds = [kind for kind in _TRIGGER_KINDS if kind in value]
    if len(kinds) != 1:
        raise InvalidArgumentError(owner, "trigger", dict(value), "must have exactly one of 'cron', 'every' and 'at'")
    kind = kinds[0]
    allowed = frozenset({kind}) | (_TRIGGER_EXTRAS if kind != "at" else frozenset())
    for key in value:
        if key not in allowed:
            listing = ", ".join(sorted(allowed))
            raise InvalidArgumentError(owner, "trigger.field", key, f"is not known (known: {listing})")
    extras: dict[str, Any] = {
        "start_date": convert_to_datetime(value.get("start_date"), tz, owner, "trigger.start_date"),
        "end_date": convert_to_datetime(value.get("end_date"), tz, owner, "trigger.end_date"),
        "jitter": value.get("jitter"),
    }
    if kind == "cron":
        from nbsched.triggers.cron import CronTrigger

        if not isinstance(value["cron"], str):
            raise InvalidArgumentError(
                owner, "trigger.cron", value["cron"], "must be a crontab line such as '0 9 * * 1-5'"
            )
        return CronTrigger.from_posix(value["cron"], timezone=tz, **extras)
    if kind == "every":
        from nbsched.triggers.interval import IntervalTrigger

        every = parse_every(value["every"], owner, "trigger.every")
        return IntervalTrigger(seconds=every.total_seconds(), timezone=tz, **extras)
    from nbsched.triggers.date import DateTrigger

    if not isinstance(value["at"], str):
        raise InvalidArgumentError(
            owner, "trigger.at", value["at"], "must be a date and time such as '2026-12-01 08:00'"
        )
    run_date = convert_to_datetime(value["at"], tz, owner, "trigger.at")
    assert run_date is not None
    if run_date <= now:
        raise InvalidArgumentError(
            owner,
            "trigger.at",
            value["at"],
            f"is in the past (now is {now.astimezone(tz):%Y-%m-%d %H:%M} {timezone_name(tz)})",
        )
    return DateTrigger(run_date, timezone=tz)


_UNITS = {
    **dict.fromkeys(("w", "wk", "week", "weeks"), 604800),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
}
_DURATION = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[a-z]+\s*,?\s*)+")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")


def parse_every(value: Any, owner: str, field: str) -> timedelta:
    """A duration typed by a person: ``5m``, ``1h30m``, ``90s``, ``2 days``, ``1w``; or a number of seconds."""
    example = "(e.g. '5m', '1h30m', '90s')"
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.fullmatch(value.lower()):
        seconds = 0.0
        for number, unit in _PART.findall(value.lower()):
            if unit not in _UNITS:
                raise InvalidArgumentError(owner, field, value, f"has an unknown unit {unit!r} {example}")
            seconds += float(number) * _UNITS[unit]
    else:
        raise InvalidArgumentError(owner, field, value, f"is not a duration {example}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidArgumentError(owner, field, value, "must be longer than zero")
    return timedelta(seconds=seconds)


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


def schedule_of(trigger: Trigger) -> dict[str, Any] | None:
    """The trigger as a request's ``trigger`` object, or ``None`` when that cannot express it."""
    state = trigger.to_dict()
    kind = state.get("type")
    extras = {key: state[key] for key in ("start_date", "end_date", "jitter") if state.get(key) is not None}
    if kind == "cron" and state.get("posix"):
        return {"cron": state["posix"], **extras}
    interval = getattr(trigger, "interval", None)
    if kind == "interval" and isinstance(interval, timedelta):
        return {"every": format_every(interval), **extras}
    if kind == "date" and state.get("run_date"):
        return {"at": state["run_date"]}
    return None
