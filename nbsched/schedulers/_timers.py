"""Timed waits of the scheduler thread that end when asked, not up to 50 µs later.

Linux lets the kernel delay the end of a thread's timed wait by its *timer slack* (50 µs by default), so that
wake-ups of many threads can be merged. A scheduler thread sleeps until the next fire time, and that delay is
added to every fire; on these machines it was about half of the median lateness (about 120 µs from due time
to waking, 60-75 µs with the slack at 1 µs). The slack changes nothing else: the thread wakes as often as
before, only on time. Threads the loop starts (pool workers) inherit it, as Linux threads do: the jobs' own
timed waits end on time too. Where the call is not available (not Linux) nothing changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["TIMER_SLACK_NS", "Wakeup", "precise_timers", "timer_slack"]

#: the timer slack of the scheduler thread while it runs the scheduler loop, in nanoseconds
TIMER_SLACK_NS = 1_000

_PR_SET_TIMERSLACK = 29
_PR_GET_TIMERSLACK = 30


def _prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


_PRCTL = _prctl()


def timer_slack() -> int | None:
    """The calling thread's timer slack in nanoseconds (``None`` where it cannot be read)."""
    if _PRCTL is None:
        return None
    value = int(_PRCTL(_PR_GET_TIMERSLACK, 0, 0, 0, 0))
    return value if value >= 0 else None


@contextlib.contextmanager
def precise_timers(slack_ns: int = TIMER_SLACK_NS) -> Iterator[None]:
    """Within the block, the calling thread's timed waits overrun by at most ``slack_ns``; restored after."""
    previous = timer_slack()
    if previous is None or _PRCTL(_PR_SET_TIMERSLACK, slack_ns, 0, 0, 0) != 0:
        yield
        return
    try:
        yield
    finally:
        _PRCTL(_PR_SET_TIMERSLACK, previous, 0, 0, 0)


class Wakeup:
    """What one thread waits on between passes: :meth:`wait` returns at once if :meth:`set` was called since the
    last wait, else when it is called or the timeout ends; either way the next wait starts unset.

    A bare lock, held while nothing is pending: each wait and each set is one call into C. A
    :class:`threading.Event` runs a few Python-level calls on each side of its sleep (a condition, its waiter
    list, then ``clear()``), and a pool worker woken for a due job cannot take the GIL until the scheduler thread
    is asleep again: those calls are added to the start of every job.
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = threading.Lock()
        self._pending.acquire()  # held: nothing pending

    def set(self) -> None:
        """Wake the waiter, or make its next wait return at once (any thread; setting twice is setting once)."""
        # Released by whoever sets first; the lock is only taken back by the waiter.
        with contextlib.suppress(RuntimeError):  # already released: a wake-up is pending
            self._pending.release()

    def wait(self, timeout: float | None) -> bool:
        """Block until set or ``timeout`` seconds pass (``None``: until set); ``True`` if it was set."""
        return self._pending.acquire(True, -1 if timeout is None else timeout)
