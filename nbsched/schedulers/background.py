"""A scheduler that runs in a background thread, leaving the caller free (a notebook, a web app)."""

from __future__ import annotations

import threading

from nbsched.schedulers.base import BaseScheduler
from nbsched.schedulers.blocking import BlockingScheduler

__all__ = ["BackgroundScheduler"]


class BackgroundScheduler(BlockingScheduler):
    """Runs the blocking scheduler's loop in a thread.

    :param daemon: whether the thread is a daemon thread (default ``True``: it does not keep the process
        alive; call :meth:`shutdown` to finish running jobs cleanly)
    """

    _thread: threading.Thread | None = None

    def start(self, paused: bool = False) -> None:
        self._new_wakeup()
        BaseScheduler.start(self, paused)
        if self.manage_only:
            return  # no loop: nothing is processed
        self._thread = threading.Thread(target=self._main_loop, name="nbsched", daemon=self._daemon)
        self._thread.start()

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
