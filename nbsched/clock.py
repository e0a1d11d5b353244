"""Clocks: where every time read in nbsched comes from.

:class:`SystemClock` is the default. :class:`ManualClock` is public API: tests and users drive time with
:meth:`ManualClock.advance`, and a scheduler using it wakes when the clock moves, never on real time.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nbsched.abc import Clock
from nbsched.datetimes import convert_to_datetime
from nbsched.exceptions import InvalidArgumentError

__all__ = ["Clock", "ManualClock", "SystemClock"]


class SystemClock(Clock):
    """The real clock: ``datetime.now(UTC)``; waits last as long as asked."""

    #: ``datetime.now(UTC)`` itself, not a method calling it: read several times in every pass
    now = functools.partial(datetime.now, UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock(Clock):
    """A clock that only moves when told to.

    ``ManualClock("2026-01-01 09:00")`` starts at that instant (naive input is UTC). Schedulers using it wait
    with no real-time timeout and are woken by :meth:`advance` and :meth:`set`, so a test advances the clock and
    then lets the scheduler run its due jobs.

    :param start: the starting instant (datetime or ISO string); default 2026-01-01 00:00 UTC
    """

    def __init__(self, start: datetime | str | None = None) -> None:
        initial = convert_to_datetime(start, UTC, "ManualClock", "start") if start is not None else None
        self._now = (initial or datetime(2026, 1, 1, tzinfo=UTC)).astimezone(UTC)
        self._lock = threading.Lock()
        self._observers: list[Callable[[], Any]] = []

    def now(self) -> datetime:
        return self._now

    def wait_timeout(self, seconds: float | None) -> float | None:
        # Real time means nothing to a manual clock: wait until advance()/set() wakes the waiter.
        return None

    def add_observer(self, callback: Callable[[], Any]) -> None:
        with self._lock:
            self._observers.append(callback)

    def remove_observer(self, callback: Callable[[], Any]) -> None:
        with self._lock:
            if callback in self._observers:
                self._observers.remove(callback)

    def advance(self, delta: float | timedelta) -> datetime:
        """Move the clock forward by seconds or a timedelta, wake observers, return the new time.

        :raises InvalidArgumentError: for a negative step (time never runs backwards)
        """
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise InvalidArgumentError("ManualClock", "delta", delta, "must not be negative")
        return self.set(self._now + step)

    def set(self, moment: datetime | str) -> datetime:
        """Move the clock to an instant at or after the current one, wake observers, return it."""
        target = convert_to_datetime(moment, UTC, "ManualClock", "moment")
        assert target is not None
        target = target.astimezone(UTC)
        if target < self._now:
            raise InvalidArgumentError("ManualClock", "moment", moment, "is before the clock's current time")
        with self._lock:
            self._now = target
            observers = list(self._observers)
        for callback in observers:
            callback()
        return target

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()!r})"
