"""Drive any scheduler flavour with a ManualClock: start it, move time, wait for the pass that follows."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from nbsched.clock import ManualClock
from nbsched.schedulers.asyncio import AsyncIOScheduler
from nbsched.schedulers.background import BackgroundScheduler
from nbsched.schedulers.base import BaseScheduler
from nbsched.schedulers.blocking import BlockingScheduler

FLAVOURS = ("blocking", "background", "asyncio")


class Harness:
    """One scheduler of a flavour on a ManualClock, with the inline (debug) executor by default."""

    def __init__(self, flavour: str, start: str = "2026-01-05 09:00", **config: Any) -> None:
        self.flavour = flavour
        self.clock = ManualClock(start)
        config.setdefault("timezone", "UTC")
        config.setdefault("executors", {"default": {"type": "debug"}})
        config["clock"] = self.clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        if flavour == "asyncio":
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
            self._thread.start()
            self.scheduler: BaseScheduler = AsyncIOScheduler(event_loop=self._loop, **config)
        elif flavour == "blocking":
            self.scheduler = BlockingScheduler(**config)
        else:
            self.scheduler = BackgroundScheduler(**config)

    def start(self, paused: bool = False) -> None:
        scheduler = self.scheduler
        if self.flavour == "blocking":
            assert isinstance(scheduler, BlockingScheduler)
            self._thread = threading.Thread(target=scheduler.start, kwargs={"paused": paused}, daemon=True)
            self._thread.start()
            deadline = time.monotonic() + 10
            while scheduler._loop_thread is None and time.monotonic() < deadline:
                time.sleep(0.001)
        elif self.flavour == "asyncio":
            assert self._loop is not None

            async def start() -> None:
                scheduler.start(paused=paused)

            asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        else:
            scheduler.start(paused=paused)
        self.settle()

    def settle(self) -> None:
        """Wait for one full processing pass that starts after this call."""
        self.scheduler._on_clock_jump()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def shutdown(self) -> None:
        if self.scheduler.running:
            if self.flavour == "asyncio":
                assert self._loop is not None

                async def stop() -> None:
                    self.scheduler.shutdown()

                asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
            else:
                self.scheduler.shutdown()
        if self.flavour == "blocking" and self._thread is not None:
            self._thread.join(10)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            assert self._thread is not None
            self._thread.join(10)
            self._loop.close()
