"""What every trigger shares: jitter, serialisation dispatch and argument helpers.

:class:`BaseTrigger` keeps APScheduler 3's name so ``from nbsched.triggers.base import BaseTrigger`` works for
custom triggers written against APScheduler: it is :class:`nbsched.abc.Trigger` itself, whose only abstract
method is ``get_next_fire_time(previous_fire_time, now)``, as in APScheduler, and which keeps APScheduler's
``_apply_jitter`` helper. Such a trigger runs on the memory store; a persistent store also needs its
``to_dict``/``from_dict`` (and an alias under the ``nbsched.triggers`` entry points to load it by) and refuses
it, naming the class, until it has them.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from nbsched.abc import Trigger
from nbsched.exceptions import SerializationError, TriggerArgumentError
from nbsched.limits import check_seconds

__all__ = ["BaseTrigger", "apply_jitter", "check_jitter", "check_state", "reject_unknown", "trigger_from_dict"]

BaseTrigger = Trigger


def apply_jitter(fire_time: datetime | None, jitter: float | None) -> datetime | None:
    """Delay ``fire_time`` by a random 0..``jitter`` seconds (APScheduler 3's behaviour)."""
    if fire_time is None or not jitter:
        return fire_time
    # Add in absolute time: wall-clock arithmetic would be an hour off across a DST change.
    try:
        delayed = fire_time.astimezone(UTC) + timedelta(seconds=random.uniform(0, jitter))
        return delayed.astimezone(fire_time.tzinfo)
    except OverflowError:  # a fire time near the year 9999: no room left to delay it
        return fire_time


def check_jitter(owner: str, jitter: Any) -> float | None:
    """Validate a ``jitter`` argument: ``None`` or a non-negative number of seconds, at most
    :data:`nbsched.limits.MAX_SECONDS` (beyond it, delaying a fire time overflows ``datetime``)."""
    if jitter is None:
        return None
    if isinstance(jitter, bool) or not isinstance(jitter, int | float) or not jitter >= 0:  # NaN too
        raise TriggerArgumentError(owner, "jitter", jitter, "must be a non-negative number of seconds")
    check_seconds(owner, "jitter", jitter, TriggerArgumentError)
    return jitter


def reject_unknown(owner: str, unknown: Mapping[str, Any], known: Sequence[str]) -> None:
    """Refuse keyword arguments a trigger does not have, naming the first, with the closest known one and the
    list of them all (every built-in trigger reports a misspelt argument the same way).

    :raises TriggerArgumentError: when ``unknown`` is not empty
    """
    for name, value in unknown.items():
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TriggerArgumentError(
            owner, name, value, f"is not an argument of {owner}{hint} (known: {', '.join(known)})"
        )


def check_state(cls: type[Trigger], state: dict[str, Any], supported_version: int = 1) -> None:
    """Refuse serialised state of another trigger type or a newer version, with a clear error."""
    if state.get("type") != cls.alias:
        raise SerializationError(cls.__name__, "type", state.get("type"), f"is not {cls.alias!r}")
    version = state.get("version")
    if not isinstance(version, int) or version > supported_version:
        raise SerializationError(
            cls.__name__, "version", version, f"is not supported (this nbsched reads up to {supported_version})"
        )


def trigger_from_dict(state: dict[str, Any]) -> Trigger:
    """Rebuild any trigger from its :meth:`~nbsched.abc.Trigger.to_dict` state, by its ``"type"``."""
    from nbsched.plugins import load_plugin

    if not isinstance(state, dict) or "type" not in state:
        raise SerializationError("Trigger", "state", state, "has no 'type' key")
    cls = load_plugin("trigger", state["type"])
    return cls.from_dict(state)  # type: ignore[no-any-return]
