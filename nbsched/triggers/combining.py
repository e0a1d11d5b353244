"""Triggers that combine others: ``and`` (times all agree on) and ``or`` (the earliest of any)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nbsched.abc import Trigger
from nbsched.exceptions import SerializationError, TriggerArgumentError, TriggerSearchError
from nbsched.triggers.base import check_jitter, check_state, reject_unknown, trigger_from_dict
from nbsched.triggers.date import _jittered

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

__all__ = ["AndTrigger", "BaseCombiningTrigger", "OrTrigger"]

#: how many rounds :class:`AndTrigger` tries to make its triggers agree before giving up
MAX_AND_ITERATIONS = 10_000


class BaseCombiningTrigger(Trigger):
    """What :class:`AndTrigger` and :class:`OrTrigger` share: a list of triggers and a jitter.

    A plain class with ``__slots__`` rather than attrs, like APScheduler 3's: the positional
    ``(triggers, jitter=None)`` constructor validates its list in one place.

    :param triggers: the triggers to combine (at least one)
    :param jitter: delay each fire time by a random 0..``jitter`` seconds
    :raises TriggerArgumentError: for an empty list, an item that is not a trigger, a bad jitter, or an argument
        it does not have
    """

    __slots__ = ("jitter", "triggers")

    #: the word between the children in :meth:`describe`
    _conjunction = ""

    def __init__(self, triggers: Iterable[Trigger], jitter: float | None = None, **unknown: Any) -> None:
        owner = type(self).__name__
        reject_unknown(owner, unknown, ("triggers", "jitter"))
        if isinstance(triggers, Trigger) or not isinstance(triggers, Iterable) or isinstance(triggers, str | bytes):
            raise TriggerArgumentError(owner, "triggers", triggers, "must be a list of triggers")
        items = list(triggers)
        if not items:
            raise TriggerArgumentError(owner, "triggers", items, "must contain at least one trigger")
        for index, item in enumerate(items):
            if not isinstance(item, Trigger):
                raise TriggerArgumentError(owner, f"triggers[{index}]", item, "is not a trigger")
        #: the combined triggers
        self.triggers: list[Trigger] = items
        #: the maximum random delay in seconds
        self.jitter: float | None = check_jitter(owner, jitter)

    def _jitter(self, fire_time: datetime) -> datetime:
        assert fire_time.tzinfo is not None
        return _jittered(fire_time, self.jitter, fire_time.tzinfo)

    def describe(self) -> str:
        """``(every day at 09:00 (UTC)) and (every 5 minutes)``."""
        text = f" {self._conjunction} ".join(f"({trigger.describe()})" for trigger in self.triggers)
        return f"{text}, jitter up to {self.jitter:g} s" if self.jitter else text

    def to_dict(self) -> dict[str, Any]:
        """``{"type", "version": 1, "triggers": [each trigger's to_dict()], "jitter"}``."""
        return {
            "type": self.alias,
            "version": 1,
            "triggers": [trigger.to_dict() for trigger in self.triggers],
            "jitter": self.jitter,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Self:
        """Rebuild the trigger and its children (each by its ``"type"``) from :meth:`to_dict` output."""
        check_state(cls, state)
        children = state.get("triggers")
        if not isinstance(children, list):
            raise SerializationError(cls.__name__, "triggers", children, "must be a list of trigger states")
        return cls([trigger_from_dict(child) for child in children], state.get("jitter"))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, BaseCombiningTrigger)
        return self.triggers == other.triggers and self.jitter == other.jitter

    def __hash__(self) -> int:
        return hash((type(self), len(self.triggers), self.jitter))

    def __str__(self) -> str:
        return f"{self.alias}[{', '.join(str(trigger) for trigger in self.triggers)}]"

    def __repr__(self) -> str:
        jitter = f", jitter={self.jitter}" if self.jitter else ""
        return f"<{type(self).__name__}({self.triggers}{jitter})>"


class AndTrigger(BaseCombiningTrigger):
    """Fires at the earliest time all the given triggers agree on; done when any of them is done.

    As in APScheduler 3, it asks every trigger for its next fire time and, while they differ, asks again from
    the latest of them. APScheduler loops forever when they never agree (two interval triggers whose grids
    never meet); this trigger gives up after :data:`MAX_AND_ITERATIONS` rounds with
    :class:`~nbsched.exceptions.TriggerSearchError`. Combine triggers that fire at times of day (cron,
    calendar interval); an interval trigger given a previous fire time ignores ``now`` and cannot catch up.

    :param triggers: the triggers to combine (at least one)
    :param jitter: delay each fire time by a random 0..``jitter`` seconds
    """

    __slots__ = ()

    alias = "and"
    _conjunction = "and"

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The earliest time after ``previous_fire_time`` (or from ``now``) that every trigger fires at."""
        return self._agree(lambda trigger, at: trigger.get_next_fire_time(previous_fire_time, at), now)

    def skip_to(self, now: datetime) -> datetime | None:
        """The earliest time at or after ``now`` that every trigger's :meth:`skip_to` agrees on."""
        return self._agree(lambda trigger, at: trigger.skip_to(at), now)

    def _agree(self, ask: Callable[[Trigger, datetime], datetime | None], now: datetime) -> datetime | None:
        start = now
        for _ in range(MAX_AND_ITERATIONS):
            fire_times = [ask(trigger, now) for trigger in self.triggers]
            known = [fire_time for fire_time in fire_times if fire_time is not None]
            if len(known) < len(fire_times):
                return None
            # compare instants in UTC: datetimes sharing a zone compare as wall-clock times
            instants = [fire_time.astimezone(UTC) for fire_time in known]
            if min(instants) == max(instants):
                return self._jitter(known[0])
            now = known[instants.index(max(instants))]
        raise TriggerSearchError(
            f"{self}: the triggers found no common fire time in {MAX_AND_ITERATIONS} rounds "
            f"(searched from {start.isoformat()} to {now.isoformat()})"
        )


class OrTrigger(BaseCombiningTrigger):
    """Fires at the earliest next fire time of any of the given triggers; done when all of them are done.

    As in APScheduler 3, every trigger is given the same previous fire time, whichever trigger produced it.

    :param triggers: the triggers to combine (at least one)
    :param jitter: delay each fire time by a random 0..``jitter`` seconds
    """

    __slots__ = ()

    alias = "or"
    _conjunction = "or"

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The earliest of the triggers' next fire times, or ``None`` when none has one."""
        return self._earliest(trigger.get_next_fire_time(previous_fire_time, now) for trigger in self.triggers)

    def skip_to(self, now: datetime) -> datetime | None:
        """The earliest of the triggers' :meth:`skip_to` answers."""
        return self._earliest(trigger.skip_to(now) for trigger in self.triggers)

    def _earliest(self, fire_times: Iterable[datetime | None]) -> datetime | None:
        known = [fire_time for fire_time in fire_times if fire_time is not None]
        return self._jitter(min(known, key=lambda fire_time: fire_time.astimezone(UTC))) if known else None
