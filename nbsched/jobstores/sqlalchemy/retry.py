"""Backing off between tries of a transaction that lost to another one (a deadlock, a serialisation failure, a
SQLite write lock held beyond the busy timeout).

Retrying at once makes the transactions that collided collide again: each retry waits an exponentially growing
delay, capped, with jitter, so concurrent schedulers (the losers of one race) spread out instead of meeting again.
"Equal jitter": a retry waits between half and all of ``first * 2 ** (retry - 1)`` (at most ``cap``), so the
delays grow with each retry and no two losers wait the same.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import attrs

__all__ = ["Backoff"]


@attrs.define(kw_only=True)
class Backoff:
    """How long to wait before a retry; ``sleep`` and ``random`` are injectable so tests neither sleep nor guess.

    :param first: seconds the first retry waits at most
    :param cap: the most seconds any retry waits
    :param sleep: waits the given seconds (:func:`time.sleep`)
    :param random: a number in ``[0, 1)`` (:func:`random.random`)
    """

    first: float = 0.02
    cap: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random

    def delay(self, retry: int) -> float:
        """The seconds to wait before retry number ``retry`` (counted from 1)."""
        ceiling = min(self.cap, self.first * 2.0 ** min(retry - 1, 32))  # (the exponent bounded: no overflow)
        return ceiling / 2 + ceiling / 2 * self.random()

    def wait(self, retry: int) -> None:
        """Wait before retry number ``retry``."""
        self.sleep(self.delay(retry))
