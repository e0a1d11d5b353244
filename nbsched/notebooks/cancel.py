"""Cancelling a notebook run from another thread: :class:`CancelToken`."""

from __future__ import annotations

import asyncio
import contextlib
import threading

__all__ = ["CancelToken"]


class CancelToken:
    """Stops a run from another thread: :meth:`cancel` interrupts the cell the kernel is running and kills the
    kernel if the cell has not stopped ``interrupt_grace`` seconds later; a run not started yet does not start.
    The run ends with a :class:`NotebookRunError` whose ``run_status`` is ``"cancelled"``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        #: why the run was cancelled (``None``: it was not)
        self.reason: str | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        """Ask the run to stop (from any thread; later calls keep the first reason)."""
        with self._lock:
            if self.reason is None:
                self.reason = reason
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # the run's loop has closed: the run is over
                loop.call_soon_threadsafe(event.set)

    async def wait(self) -> None:
        """Return once the run is cancelled (await it on the run's event loop; any thread may :meth:`cancel`)."""
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._lock:
            if self.reason is not None:
                return
            self._waiters.append(waiter)
        try:
            await event.wait()
        finally:
            with self._lock:
                self._waiters.remove(waiter)
