"""Schedules in requests and back in responses: ``{"cron": "0 9 * * 1-5"}``, ``{"every": "1h30m"}`` or
``{"at": "2026-12-01 08:00"}``.

The texts are read by :mod:`nbsched.triggers.typed`, as the CLI and the magics read them: ``cron`` is a crontab
line with crontab's meaning; ``every`` a duration (``5m``, ``1h30m``, ``90s``, ``2 days``, ``1w``) or a number of
seconds; ``at`` a future date and time. ``start_date``, ``end_date`` and ``jitter`` may go with ``cron`` and
``every``. Messages name the request shape and the field: ``JobCreate: trigger.every '5x' has an unknown unit
'x' (e.g. '5m', '1h30m', '90s')``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from nbsched.abc import Trigger
from nbsched.datetimes import convert_to_datetime
from nbsched.exceptions import InvalidArgumentError
from nbsched.server.shapes import TriggerIn, fields_of
from nbsched.triggers.typed import KINDS, format_every, typed_trigger

__all__ = ["parse_trigger", "schedule_of"]

#: what may go with ``cron`` and ``every``: the other fields of ``TriggerIn``
_TRIGGER_EXTRAS = frozenset(fields_of(TriggerIn)) - frozenset(KINDS)


def parse_trigger(owner: str, value: Any, tz: tzinfo, now: datetime) -> Trigger:
    """The trigger of a request's ``trigger`` object (``TriggerIn``).

    :param owner: the request shape, for messages (``JobCreate``, ``JobUpdate``)
    :param tz: the zone of the schedule (the request's ``timezone``, else the server's or the job's)
    :param now: the scheduler's current time (``at`` must be after it)
    """
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            owner, "trigger", value, 'must be an object: {"cron": ...}, {"every": ...} or {"at": ...}'
        )
    kinds = [kind for kind in KINDS if kind in value]
    if len(kinds) != 1:
        raise InvalidArgumentError(owner, "trigger", dict(value), "must have exactly one of 'cron', 'every' and 'at'")
    kind = kinds[0]
    allowed = frozenset({kind}) | (_TRIGGER_EXTRAS if kind != "at" else frozenset())
    for key in value:
        if key not in allowed:
            listing = ", ".join(sorted(allowed))
            raise InvalidArgumentError(owner, "trigger.field", key, f"is not known (known: {listing})")
    extras: dict[str, Any] = {}
    if kind != "at":
        extras = {
            "start_date": convert_to_datetime(value.get("start_date"), tz, owner, "trigger.start_date"),
            "end_date": convert_to_datetime(value.get("end_date"), tz, owner, "trigger.end_date"),
            "jitter": value.get("jitter"),
        }
    return typed_trigger(kind, value[kind], owner=owner, field=f"trigger.{kind}", now=now, timezone=tz, **extras)


def schedule_of(trigger: Trigger) -> TriggerIn | None:
    """The trigger as a request's ``trigger`` object, or ``None`` when that cannot express it."""
    state = trigger.to_dict()
    kind = state.get("type")
    interval = getattr(trigger, "interval", None)
    schedule: TriggerIn
    if kind == "cron" and state.get("posix"):
        schedule = {"cron": state["posix"]}
    elif kind == "interval" and isinstance(interval, timedelta):
        schedule = {"every": format_every(interval)}
    elif kind == "date" and state.get("run_date"):
        return {"at": state["run_date"]}
    else:
        return None
    if state.get("start_date") is not None:
        schedule["start_date"] = state["start_date"]
    if state.get("end_date") is not None:
        schedule["end_date"] = state["end_date"]
    if state.get("jitter") is not None:
        schedule["jitter"] = state["jitter"]
    return schedule
