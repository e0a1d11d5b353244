"""A scheduler that lives on an asyncio event loop (``await``-friendly, e.g. inside Jupyter's kernel loop)."""

from __future__ import annotations

import asyncio
from typing import Any

from nbsched.abc import Executor
from nbsched.schedulers import _config
from nbsched.schedulers.base import BaseScheduler

__all__ = ["AsyncIOScheduler"]


class AsyncIOScheduler(BaseScheduler):
    """Processes jobs from callbacks on an event loop.

    :param event_loop: the loop to use, or a ``"package.module:name"`` reference to it (default: the loop
        running when :meth:`start` is called)
    """

    _extra_options = frozenset({"event_loop"})
    _eventloop: asyncio.AbstractEventLoop | None = None
    _timeout: asyncio.TimerHandle | None = None

    def _configure(self, config: dict[str, Any]) -> None:
        loop = _config.event_loop(type(self).__name__, config.pop("event_loop", None))
        super()._configure(config)
        self._eventloop = loop

    @property
    def event_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop jobs are processed on (``None`` until :meth:`start` when none was given); the asyncio
        executor runs coroutine jobs on it."""
        return self._eventloop

    def start(self, paused: bool = False) -> None:
        if self._eventloop is None:
            self._eventloop = asyncio.get_running_loop()
        super().start(paused)

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)
        self._stop_timer()

    def wakeup(self) -> None:
        loop = self._eventloop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._process_and_rearm)

    def _process_and_rearm(self) -> None:
        self._stop_timer()
        wait_seconds = self._process_jobs()
        timeout = self._clock.wait_timeout(wait_seconds)
        if timeout is not None and self._eventloop is not None:
            self._timeout = self._eventloop.call_later(timeout, self._process_and_rearm)

    def _stop_timer(self) -> None:
        if self._timeout is not None:
            self._timeout.cancel()
            self._timeout = None

    def _in_scheduler_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._eventloop
        except RuntimeError:
            return False

    def _create_default_executor(self) -> Executor:
        from nbsched.executors.asyncio import AsyncIOExecutor

        return AsyncIOExecutor()
