"""A scheduler that runs in the foreground: ``start()`` blocks until ``shutdown()``."""

from __future__ import annotations

import threading
from typing import Any

from nbsched.schedulers._config import parse_bool
from nbsched.schedulers._timers import Wakeup, precise_timers
from nbsched.schedulers.base import STATE_STOPPED, BaseScheduler

__all__ = ["BlockingScheduler"]


class BlockingScheduler(BaseScheduler):
    """Processes jobs in the thread that calls :meth:`start`, sleeping until the next due time or a change.

    Accepts ``daemon`` (used by :class:`~nbsched.schedulers.background.BackgroundScheduler`; accepted here
    too, without effect, as APScheduler programs pass it).
    """

    _extra_options = frozenset({"daemon"})
    _wakeup: Wakeup | None = None
    _loop_thread: threading.Thread | None = None

    def _configure(self, config: dict[str, Any]) -> None:
        self._daemon = parse_bool(type(self).__name__, "daemon", config.pop("daemon", True))
        super()._configure(config)

    def start(self, paused: bool = False) -> None:
        self._new_wakeup()
        super().start(paused)
        if not self.manage_only:  # a manage-only scheduler returns at once: it processes nothing
            self._main_loop()

    def _new_wakeup(self) -> None:
        self._wakeup = Wakeup()  # a wake-up left from an earlier run is dropped: start() wakes the loop anyway

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)
        self.wakeup()

    def wakeup(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    def _main_loop(self) -> None:
        self._loop_thread = threading.current_thread()
        wake = self._wakeup
        assert wake is not None
        wait_seconds: float | None = None
        with precise_timers():  # wake at the due time, not up to 50 µs after it
            while self.state != STATE_STOPPED:
                wake.wait(self._clock.wait_timeout(wait_seconds))
                wait_seconds = self._process_jobs()

    def _in_scheduler_thread(self) -> bool:
        return threading.current_thread() is self._loop_thread
